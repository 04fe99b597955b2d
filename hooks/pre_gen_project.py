"""Refuse to render when an answer is invalid: one line per problem, nothing written."""

import json
import os
import signal
import sys
from pathlib import Path

sys.dont_write_bytecode = True
# Ctrl-C reaches the hook too: stop quietly and let mlstack report it once.
signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
CONTEXT = json.loads({{ cookiecutter | jsonify | tojson }})
# Hooks run inside the new project: a relative template path (`cookiecutter .`) was relative
# to the directory cookiecutter started in, which the shell's $PWD still names.
TEMPLATE_DIR = Path(os.environ.get("PWD", ".")) / CONTEXT["_repo_dir"]
CONTEXT["_repo_dir"] = str(TEMPLATE_DIR)
sys.path.insert(0, str(TEMPLATE_DIR / "hooks"))

from template_questions import validate  # noqa: E402

# cookiecutter hands the answers over sorted; check them in question order so a problem
# is reported at the answer that caused it, not at a default derived from it.
order = list(json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8")))
answers = {key: CONTEXT[key] for key in sorted(CONTEXT, key=lambda k: order.index(k) if k in order else len(order))}
problems = validate(answers)
for problem in problems:
    print(f"error: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
