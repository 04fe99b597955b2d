"""Hardening: untrusted and hostile templates, interrupted runs, documented exit codes, offline use."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import REPO_ROOT, copy_template, default_ctrl_c
from mlstack import errors
from mlstack.cli import app

runner = CliRunner()


def hostile_template(root: Path, *, name_value: str = "proj", extra_value: str = "ok", layout=None) -> Path:
    """A minimal template built in the test: layout(project_dir) adds the hostile parts."""
    root.mkdir(parents=True)
    (root / "cookiecutter.json").write_text(json.dumps({"project_slug": name_value, "x": extra_value}))
    project = root / "{{cookiecutter.project_slug}}"
    project.mkdir()
    (project / "README.md").write_text("hello {{ cookiecutter.project_slug }}\n")
    if layout:
        layout(project)
    return root


def tree(path: Path) -> set[str]:
    return {p.relative_to(path).as_posix() for p in path.rglob("*")} if path.exists() else set()


@pytest.mark.parametrize("case,extra,layout,message", [
    ("dotdot-file", "../../escaped", lambda p: (p / "{{cookiecutter.x}}").mkdir() or
     (p / "{{cookiecutter.x}}" / "f.txt").write_text("x"), "contains '..'"),
    ("absolute-dir", "/tmp/mlstack-hostile-abs", lambda p: (p / "{{cookiecutter.x}}").mkdir() or
     (p / "{{cookiecutter.x}}" / "f.txt").write_text("x"), "absolute path"),
    ("symlink-out", "ok", lambda p: (p / "passwd").symlink_to("/etc/passwd"), "symlink to '/etc/passwd'"),
    ("symlink-dir-out", "ok", lambda p: (p / "etc").symlink_to("/etc", target_is_directory=True), "symlink"),
])
def test_hostile_template_is_refused_before_anything_is_written(tmp_path, case, extra, layout, message):
    template = hostile_template(tmp_path / "evil", extra_value=extra, layout=layout)
    out = tmp_path / "work" / "out"
    out.parent.mkdir()
    before = tree(tmp_path)
    result = runner.invoke(app, ["init", "--no-input", "-o", str(out), "--template", str(template), "--trust"])
    assert result.exit_code == errors.TEMPLATE_ERROR
    assert "unsafe template" in result.output and message in result.output
    assert tree(tmp_path) == before
    assert not Path("/tmp/mlstack-hostile-abs").exists()


def test_project_folder_name_that_climbs_out_is_refused(tmp_path):
    template = hostile_template(tmp_path / "evil", name_value="../escaped-project")
    out = tmp_path / "out"
    result = runner.invoke(app, ["init", "--no-input", "-o", str(out), "--template", str(template), "--trust"])
    assert result.exit_code == errors.TEMPLATE_ERROR and "project folder name" in result.output
    assert not (tmp_path / "escaped-project").exists() and not out.exists()


def test_symlink_inside_the_template_is_allowed(tmp_path):
    template = hostile_template(tmp_path / "ok", layout=lambda p: (p / "LINK.md").symlink_to("README.md"))
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "out"), "--template", str(template),
                                 "--trust"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "proj" / "LINK.md").read_text() == "hello proj\n"


def test_untrusted_template_is_refused_before_rendering_and_its_hooks_never_run(tmp_path):
    template = hostile_template(tmp_path / "t")
    (template / "hooks").mkdir()
    marker = tmp_path / "hook-ran"
    (template / "hooks" / "pre_gen_project.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "out"), "--template", str(template)])
    assert result.exit_code == errors.UNTRUSTED_TEMPLATE
    assert "not trusted" in result.output and "--trust" in result.output
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_trusted_prefixes_from_environment_and_settings(tmp_path, monkeypatch):
    template = hostile_template(tmp_path / "org-templates" / "ml")
    monkeypatch.setenv("MLSTACK_TRUSTED_TEMPLATES", f"https://example.invalid/x, {tmp_path / 'org-templates'}")
    assert runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "a"), "--template",
                               str(template)]).exit_code == 0
    monkeypatch.delenv("MLSTACK_TRUSTED_TEMPLATES")
    settings = tmp_path / "settings.yml"
    settings.write_text(f"trusted_templates:\n  - {tmp_path / 'org-templates'}\n")
    monkeypatch.setenv("MLSTACK_SETTINGS", str(settings))
    assert runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "b"), "--template",
                               str(template)]).exit_code == 0
    settings.write_text("trusted_templatez: []\n")
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "c"), "--template", str(template)])
    assert result.exit_code == errors.INVALID_INPUT and "did you mean 'trusted_templates'" in result.output


# --- interrupted runs -------------------------------------------------------------------------
KILL_POINTS = {
    "before-render": ("pre_gen_project.py", "start"),
    "mid-render": ("post_gen_project.py", "start"),
    "after-git-init": ("post_gen_project.py", "end"),
}


def interrupting_template(root: Path, point: str, sig: signal.Signals) -> Path:
    """A copy of the real template whose hook signals mlstack (its parent) at `point`."""
    copy_template(root)
    hook_name, where = KILL_POINTS[point]
    hook = root / "hooks" / hook_name
    # SIGINT goes to the whole process group, like Ctrl-C in a terminal; SIGKILL only to mlstack.
    if sig == signal.SIGINT:
        line = ("import os, signal, sys, time\ntry:\n    os.killpg(os.getpgid(0), signal.SIGINT); time.sleep(5)\n"
                "except KeyboardInterrupt:\n    sys.exit(130)\n")
    else:
        line = "import os, signal, time; os.kill(os.getppid(), signal.SIGKILL); time.sleep(1)\n"
    text = hook.read_text()
    hook.write_text(line + text if where == "start" else text + "\n" + line)
    return root


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlstack", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, start_new_session=True, preexec_fn=default_ctrl_c)


@pytest.mark.parametrize("point", list(KILL_POINTS))
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_init_leaves_no_partial_project(tmp_path, point, sig):
    template = interrupting_template(tmp_path / "tpl", point, sig)
    out = tmp_path / "out"
    result = run_cli("init", "--no-input", "-o", str(out), "--template", str(template), "--trust", cwd=tmp_path)
    assert result.returncode in ((errors.INTERRUPTED, errors.TEMPLATE_ERROR) if sig == signal.SIGINT
                                 else (-signal.SIGKILL,)), result.stderr
    assert not (out / "maternal-health-risk").exists()
    leftovers = [p.name for p in out.iterdir()] if out.exists() else []
    if sig == signal.SIGINT:
        assert leftovers == []
        assert "Traceback" not in result.stderr
    # A later run completes and clears what a killed run left behind.
    done = run_cli("init", "--no-input", "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in out.iterdir()] == ["maternal-health-risk"]


def test_sigterm_cleans_up_like_ctrl_c(tmp_path):
    template = copy_template(tmp_path / "tpl")
    hook = template / "hooks" / "post_gen_project.py"
    hook.write_text("import os, signal, time; os.kill(os.getppid(), signal.SIGTERM); time.sleep(3)\n"
                    + hook.read_text())
    out = tmp_path / "out"
    result = run_cli("init", "--no-input", "-o", str(out), "--template", str(template), "--trust", cwd=tmp_path)
    assert result.returncode == errors.INTERRUPTED and "interrupted" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


# --- errors and exit codes ----------------------------------------------------------------------
def test_unexpected_exception_is_one_line_with_a_documented_code(tmp_path):
    code = ("import sys; import mlstack.commands.init as i; "
            "i.init_project = lambda *a, **k: (_ for _ in ()).throw(ZeroDivisionError('boom')); "
            "sys.argv = ['mlstack', 'init', '--no-input']; from mlstack.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == errors.INTERNAL_ERROR
    assert result.stderr.strip().count("\n") == 0 and "internal error (ZeroDivisionError: boom)" in result.stderr
    debug = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                           env={**os.environ, "MLSTACK_DEBUG": "1"})
    assert "Traceback" in debug.stderr


def test_every_exit_code_is_documented_in_the_readme():
    readme = (REPO_ROOT / "README.md").read_text()
    table = dict(re.findall(r"^\| (\d+) \| (.+) \|$", readme, flags=re.M))
    assert {int(code) for code in table} == set(errors.EXIT_CODES)


# --- offline by design ------------------------------------------------------------------------
SOCKET_GUARD = """
import socket
def _refuse(*args, **kwargs):
    raise OSError("network disabled by the offline test")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""


def offline_prefix(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """`unshare -n` (no network namespace) where allowed, and a socket guard in every Python process."""
    guard = tmp_path / "offline-guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(SOCKET_GUARD)
    env = {**os.environ, "PYTHONPATH": str(guard)}
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-rn"], env
    return [], env


def test_main_flows_work_without_network(tmp_path):
    prefix, env = offline_prefix(tmp_path)
    mlstack = [*prefix, sys.executable, "-m", "mlstack"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*mlstack, *args], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)

    assert run("--help").returncode == 0
    init = run("init", "--no-input", "-o", "offline")
    assert init.returncode == 0, init.stderr
    project = tmp_path / "offline" / "maternal-health-risk"
    check = run("check", str(project))
    assert check.returncode == 0, check.stdout + check.stderr
    fleet = run("fleet", "report", str(project), "--format", "json")
    assert fleet.returncode == 0 and json.loads(fleet.stdout)["counts"]["ok"] == 1
    diff = run("diff", "-C", str(project), "--exit-code")
    assert diff.returncode == 0 and "nothing to update" in diff.stdout, diff.stdout + diff.stderr
    update = run("update", "-C", str(project), "--dry-run", "--no-input")
    assert update.returncode == 0, update.stdout + update.stderr
    connect = "import socket; socket.create_connection(('1.1.1.1', 53), 2)"
    probe = subprocess.run([*prefix, sys.executable, "-c", connect], capture_output=True, text=True, env=env)
    assert probe.returncode != 0, "the offline guard did not block the network"


# --- template faults and odd arguments keep their documented exit codes (issue 15: 14) ------------

def init_with(template: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("init", "--no-input", "--trust", "--template", str(template), "-o", str(out), *extra,
                   cwd=template.parent)


@pytest.mark.parametrize("case", ["jinja-syntax", "deep-json", "contract-without-validate", "contract-exits-0",
                                  "validator-exits-0", "contract-raises"])
def test_a_broken_template_is_exit_7_with_one_line_and_nothing_written(tmp_path, case):
    template = hostile_template(tmp_path / "t")
    hooks = template / "hooks"
    hooks.mkdir()
    if case == "jinja-syntax":
        (template / "{{cookiecutter.project_slug}}" / "README.md").write_text("{{ cookiecutter.project_slug \n")
    elif case == "deep-json":
        (template / "cookiecutter.json").write_text('{"project_slug": "p", "x": ' + "[" * 100_000 + "]" * 100_000
                                                    + "}")
    elif case == "contract-without-validate":
        (hooks / "template_questions.py").write_text("def check_answer(key, value, answers):\n    return None\n")
    elif case == "contract-exits-0":
        (hooks / "template_questions.py").write_text("import sys\nsys.exit(0)\n")
    else:
        body = "import sys; sys.exit(0)" if case == "validator-exits-0" else "raise RuntimeError('bug')"
        (hooks / "template_questions.py").write_text(
            "def check_answer(key, value, answers):\n    return None\n\n"
            "def is_asked(key, answers):\n    return True\n\n"
            f"def validate(answers):\n    {body}\n")
    result = init_with(template, tmp_path / "out")
    assert result.returncode == errors.TEMPLATE_ERROR, (result.returncode, result.stderr)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_output_dir_that_is_a_file_is_invalid_input(tmp_path):
    template = hostile_template(tmp_path / "t")
    target = tmp_path / "a-file"
    target.write_text("keep me\n")
    result = init_with(template, target)
    assert result.returncode == errors.INVALID_INPUT and "--output-dir" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and target.read_text() == "keep me\n"


def test_a_failing_hook_is_one_line_naming_its_last_words(tmp_path):
    template = hostile_template(tmp_path / "t")
    (template / "hooks").mkdir()
    (template / "hooks" / "pre_gen_project.py").write_text("def f():\n    raise ValueError('boom')\nf()\n")
    result = init_with(template, tmp_path / "out")
    assert result.returncode == errors.TEMPLATE_ERROR, result.stderr
    assert result.stderr.count("\n") == 1 and "ValueError: boom" in result.stderr, result.stderr


@pytest.mark.parametrize("hook", [
    "import os, signal\nos.kill(os.getpid(), signal.SIGINT)\n",  # dies of the signal
    "import os, signal, sys\nsignal.signal(signal.SIGINT, lambda *_: sys.exit(130))\n"
    "os.kill(os.getpid(), signal.SIGINT)\n",  # stops quietly, as the bundled template's hooks do
])
def test_ctrl_c_that_stops_a_hook_exits_130(tmp_path, hook):
    template = hostile_template(tmp_path / "t")
    (template / "hooks").mkdir()
    (template / "hooks" / "post_gen_project.py").write_text(hook)
    result = init_with(template, tmp_path / "out")
    assert result.returncode == errors.INTERRUPTED, result.stderr
    assert "interrupted" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_megabyte_answer_is_not_echoed_whole(tmp_path):
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "out"), "--set",
                                 "project_name=" + "x" * 1_000_000])
    assert result.exit_code == errors.INVALID_INPUT
    assert len(result.output) < 500 and "project_name" in result.output and "1000000 characters" in result.output


def test_an_answer_to_a_question_that_is_not_asked_is_still_checked(tmp_path):
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "out"), "--set", "cloud=aws",
                                 "--set", "tfstate_azure_storage_account=$(touch /tmp/x)"])
    assert result.exit_code == errors.INVALID_INPUT, result.output
    assert "tfstate_azure_storage_account" in result.output and not (tmp_path / "out").exists()
