"""After rendering: record how the repo was made and put it under git.

`.mlstack/answers.yml` is what `mlstack update` and `mlstack check` read later. The git
history starts with the exact render on the pristine branch (which only mlstack writes);
the main branch grows from it, so every later template update is a real git merge.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

import yaml

ANSWERS_FILE = Path(".mlstack") / "answers.yml"
PRISTINE_BRANCH = "mlstack/template"
HEADER = (
    "# Written by mlstack: how this repository was generated. Change answers with\n"
    "# `mlstack update --set KEY=VALUE` rather than by hand; `mlstack check` reads this file.\n"
)


def user_set_keys(context: Mapping[str, object]) -> list[str]:
    """The answers that differ from what the template would have defaulted to.

    Used when plain cookiecutter rendered the project and nobody told us which answers
    the user typed: an answer equal to its (derived) default is treated as a default.
    """
    import json

    from cookiecutter.environment import StrictEnvironment
    from cookiecutter.prompt import render_variable

    template_json = Path(str(context["_repo_dir"])) / "cookiecutter.json"
    raw_defaults = json.loads(template_json.read_text(encoding="utf-8"))
    env = StrictEnvironment(context={"cookiecutter": dict(context)})
    chosen = []
    for key, raw in raw_defaults.items():
        if key.startswith("_"):
            continue
        if isinstance(raw, list):
            default = raw[0]
        elif isinstance(raw, bool):
            default = raw
        else:
            try:
                default = render_variable(env, raw, dict(context))
            except Exception:  # noqa: BLE001 - an unrenderable default cannot be the answer
                default = object()
        if context.get(key) != default:
            chosen.append(key)
    return chosen


def _question_order(context: Mapping[str, object]) -> dict[str, int]:
    """Position of each question in cookiecutter.json, so the file reads like the prompts."""
    import json

    template_json = Path(str(context.get("_repo_dir", ""))) / "cookiecutter.json"
    try:
        keys = json.loads(template_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {key: index for index, key in enumerate(keys)}


def answers_document(context: Mapping[str, object], pristine_commit: str | None) -> dict:
    meta = dict(context.get("_mlstack") or {})
    template_version = meta.get("template_version") or context.get("_template_version")
    user_keys = meta.get("user_keys") if meta.get("source") else user_set_keys(context)
    answers = {key: value for key, value in context.items() if not key.startswith("_")}
    order = _question_order(context)
    answers = dict(sorted(answers.items(), key=lambda item: order.get(item[0], len(order))))
    return {
        "mlstack_version": meta.get("mlstack_version") or None,
        "template": {
            "source": meta.get("source") or str(context.get("_template")),
            "version": str(template_version),
            "pristine_branch": PRISTINE_BRANCH,
            "pristine_commit": pristine_commit,
            # Files the template owns: `mlstack check` reports local changes to them as drift.
            "managed": list(context.get("_managed_files") or []),
        },
        "answers": answers,
        "user_set": sorted(user_keys or []),
    }


def answers_text(document: Mapping[str, object]) -> str:
    """The answers file's text; mlstack writes the file with this very function (mlstack.answers_file)."""
    return HEADER + yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True)


def write_answers(project_dir: Path, context: Mapping[str, object], pristine_commit: str | None) -> Path:
    path = project_dir / ANSWERS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(answers_text(answers_document(context, pristine_commit)), encoding="utf-8")
    return path


def _git_runner(project_dir: Path):
    """Run git through GitPython when installed (mlstack always has it), else the git CLI."""
    try:
        import git
    except ImportError:
        def run(*args: str) -> str:
            done = subprocess.run(["git", *args], cwd=project_dir, check=True, capture_output=True, text=True)
            return done.stdout.strip()
        return run
    repo_git = git.Git(str(project_dir))
    return lambda *args: repo_git.execute(["git", *args])


def init_git(project_dir: Path, context: Mapping[str, object]) -> str:
    """Pristine render on the template branch, then main/dev/release grown from it."""
    git = _git_runner(project_dir)
    main = str(context["main_branch"])
    git("init", "--quiet", f"--initial-branch={PRISTINE_BRANCH}")
    identity = []
    if not _configured(git, "user.email"):
        identity = ["-c", "user.name=mlstack", "-c", "user.email=mlstack@localhost"]
    version = answers_document(context, None)["template"]["version"]
    git("add", "--all")
    git(*identity, "commit", "--quiet", "--no-verify",
        "-m", f"Render template {version} (pristine, written by mlstack)")
    pristine = git("rev-parse", "HEAD")
    git("checkout", "--quiet", "-b", main)
    write_answers(project_dir, context, pristine)
    git("add", str(ANSWERS_FILE))
    git(*identity, "commit", "--quiet", "--no-verify",
        "-m", f"Link to pristine template commit {pristine[:12]}")
    for branch in (str(context["dev_branch"]), str(context["release_branch"])):
        git("branch", branch)
    return pristine


def _configured(git, key: str) -> bool:
    try:
        return bool(git("config", "--get", key))
    except Exception:  # noqa: BLE001 - git exits 1 when the key is unset
        return False
