"""`mlstack diff` previews an update without running any template code (issue 9: hooks never
run during diff), yet its render of the bundled template is byte for byte the real one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from helpers.template_repos import TemplateRepo, append, generate, invoke
from mlstack import errors
from mlstack.answers import Provided, resolve_answers
from mlstack.commands.init import generation_meta
from mlstack.errors import TemplateError
from mlstack.migrations import migrate_answers, plan, read_migrations
from mlstack.prune import prune_table
from mlstack.render import render_into_temp
from mlstack.template import load_contract, open_template


def tree_bytes(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file (symlinks as their target) with its mode, keyed by relative path."""
    found = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            path = Path(folder, name)
            info = path.lstat()
            body = os.readlink(path).encode() if stat.S_ISLNK(info.st_mode) else path.read_bytes()
            found[path.relative_to(root).as_posix()] = (body, info.st_mode)
    return found


@pytest.mark.parametrize("answers", [
    {},
    {"cloud": "aws", "ci_platform": "gitlab", "serving": "yes", "serving_workload_size": "Medium"},
    {"cloud": "gcp", "ci_platform": "azure_devops", "feature_store": "no"},
], ids=["defaults", "aws-gitlab-serving", "gcp-azure-devops-no-features"])
def test_render_without_hooks_is_byte_identical_to_the_hooked_render(tmp_path, answers):
    with open_template() as template:
        provided = Provided()
        provided.add(answers, "--set")
        resolved = resolve_answers(template.context, load_contract(template), provided, None)
        meta = generation_meta(template, resolved.user_keys, git_init=False)
        _, hooked = render_into_temp(template, resolved.answers, meta, tmp_path / "hooked")
        _, hookless = render_into_temp(template, resolved.answers, meta, tmp_path / "hookless", run_hooks=False)
    with_hooks, without_hooks = tree_bytes(hooked), tree_bytes(hookless)
    assert sorted(with_hooks) == sorted(without_hooks)
    assert [path for path in with_hooks if with_hooks[path] != without_hooks[path]] == []
    assert ".mlstack/answers.yml" in without_hooks  # written by mlstack, not by the hook


MARKERS = ("pre_gen", "post_gen", "questions", "migration_import", "migrate_answers", "migrate_files")


def plant_markers(template: TemplateRepo, marker_dir: Path) -> None:
    """Make every piece of the template's code leave a file behind when it runs."""
    def touch(name: str, indent: str = "") -> str:
        return f"{indent}open({str(marker_dir / name)!r}, 'w').close()\n"

    hooks = template.path / "hooks"
    for hook, name in (("pre_gen_project.py", "pre_gen"), ("post_gen_project.py", "post_gen"),
                       ("template_questions.py", "questions")):
        path = hooks / hook
        text = path.read_text()
        future = "from __future__ import annotations\n"  # must stay the module's first statement
        path.write_text(text.replace(future, future + touch(name), 1) if future in text else touch(name) + text)
    (hooks / "migrations" / "0001_marker.py").write_text(
        '"""Rename an answer and run code (a test step)."""\n'
        + touch("migration_import")
        + 'APPLIES_TO = ">=1.0.0,<1.1.0"\n'
        + 'RENAMED_ANSWERS = {"no_such_answer": "still_none"}\n\n\n'
        + "def migrate_answers(answers):\n" + touch("migrate_answers", "    ")
        + "\n\ndef migrate_files(project, answers):\n" + touch("migrate_files", "    "))
    append(template.project / "README.md", "\nA line from template v1.1.0.\n")


def test_diff_runs_no_template_code_while_update_dry_run_does(tmp_path):
    template = TemplateRepo(tmp_path / "template")
    project = generate(template, tmp_path / "out")
    markers = tmp_path / "markers"
    markers.mkdir()
    template.release("v1.1.0", lambda t: plant_markers(t, markers))

    result = invoke("diff", "-C", str(project), "--trust", "--to", "v1.1.0", "--exit-code")

    assert result.exit_code == errors.FINDINGS, result.output
    assert sorted(p.name for p in markers.iterdir()) == []
    assert "M README.md" in result.output
    assert "0001_marker: Rename an answer and run code" in result.output
    assert "changes answers in code, not run for this preview" in result.output
    assert "previewed without running the template's hooks" in result.output
    assert "file migrations are not simulated" in result.output
    # check and fleet read the repository's own pristine branch, never the template.
    invoke("check", str(project), "--format", "json")
    invoke("fleet", "report", str(project), "--format", "json", "-j", "1")
    assert sorted(p.name for p in markers.iterdir()) == []

    # The exact preview (and the proof that the markers work): update --dry-run runs them all
    # but the file step, which only a real update runs.
    dry = invoke("update", "-C", str(project), "--trust", "--to", "v1.1.0", "--dry-run", "--no-input")
    assert dry.exit_code == 0, dry.output
    assert sorted(p.name for p in markers.iterdir()) == sorted(set(MARKERS) - {"migrate_files"})


def test_diff_of_the_bundled_template_is_exact_and_says_nothing_about_hooks(tmp_path):
    created = invoke("init", "--no-input", "-o", str(tmp_path), "--set", "serving=yes", "--set", "cloud=aws")
    assert created.exit_code == 0, created.output
    result = invoke("diff", "-C", str(tmp_path / "maternal-health-risk"), "--exit-code")
    assert result.exit_code == 0, result.output
    assert "nothing to update" in result.output and "hooks" not in result.output


def test_migrations_are_read_without_running_them(tmp_path):
    folder = tmp_path / "hooks" / "migrations"
    folder.mkdir(parents=True)
    marker = tmp_path / "ran"
    (folder / "0001_step.py").write_text(
        f'"""Rename timezone."""\nopen({str(marker)!r}, "w").close()\n'
        'APPLIES_TO: str = "<2.0"\nRENAMED_ANSWERS = {"tz": "timezone"}\n\n'
        "def migrate_files(project, answers):\n    raise SystemExit(1)\n")
    steps = read_migrations(tmp_path)
    assert not marker.exists()
    assert [(s.name, s.summary, s.renamed_answers, s.unrun_code) for s in steps] == [
        ("0001_step", "Rename timezone.", {"tz": "timezone"}, ("migrate_files",))]
    answers, user_set = {"tz": "Europe/Berlin"}, ["tz"]
    migrate_answers(plan(steps, "1.0", "2.0").steps, answers, user_set)
    assert answers == {"timezone": "Europe/Berlin"} and user_set == ["timezone"]


@pytest.mark.parametrize("body,problem", [
    ('APPLIES_TO = ">=" + "1.0"\nRENAMED_ANSWERS = {}\n', "APPLIES_TO must be a plain literal"),
    ('APPLIES_TO = "<2.0"\nRENAMED_ANSWERS = dict(a="b")\n', "RENAMED_ANSWERS must be a plain literal"),
    ('APPLIES_TO = "<2.0"\n', "defines none of"),
    ("def broken(:\n", "cannot be read"),
])
def test_a_migration_that_cannot_be_read_without_running_it_is_named(tmp_path, body, problem):
    folder = tmp_path / "hooks" / "migrations"
    folder.mkdir(parents=True)
    (folder / "0001_bad.py").write_text(body)
    with pytest.raises(TemplateError, match="0001_bad.py") as caught:
        read_migrations(tmp_path)
    assert problem in caught.value.message


@pytest.mark.parametrize("table,problem", [
    (["a"], "_prune must map questions"),
    ({"cloud": ["azure"]}, "_prune.cloud must map answer values"),
    ({"cloud": {"aws": "terraform/aws.tf"}}, "_prune.cloud.aws must be a list of globs"),
    ({"cloud": {"aws": ["../outside"]}}, "must be a path inside the project"),
    ({"cloud": {"aws": ["/etc/passwd"]}}, "must be a path inside the project"),
])
def test_malformed_prune_table_is_refused_naming_the_entry(table, problem):
    with pytest.raises(TemplateError) as caught:
        prune_table({"_prune": table})
    assert problem in caught.value.message and caught.value.exit_code == errors.TEMPLATE_ERROR
