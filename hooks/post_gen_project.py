"""Prune unchosen options, record the answers, and start the git history."""

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

from template_layout import prune  # noqa: E402
from template_setup import init_git, write_answers  # noqa: E402

project_dir = Path.cwd()
prune(project_dir, CONTEXT)
write_answers(project_dir, CONTEXT, pristine_commit=None)
if (CONTEXT.get("_mlstack") or {}).get("git_init", True):
    init_git(project_dir, CONTEXT)
