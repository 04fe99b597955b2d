"""Property: an update never silently drops a user edit or a template change, in either direction.

Random user edits (changed and deleted lines, added and deleted files, appends to a real
generated file) meet random template changes (edited, added, removed and renamed files, a new
question) on real git repositories. Afterwards every edit is in the work tree, or sits in a
conflict (or a kept file) that the update reported.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from helpers import git
from helpers.template_repos import TemplateRepo, commit_all, copy_project, generate
from mlstack.commands.update import update_project

FILES = 5
LINES = 12
REAL_FILE = "README.md"
versions = itertools.count(1)


def fixture_path(index: int) -> str:
    return f"fixture/f{index}.txt"


def base_lines(index: int) -> list[str]:
    return [f"f{index} line {j}" for j in range(LINES)]


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    root = tmp_path_factory.mktemp("property")

    def fixtures(template: TemplateRepo) -> None:
        for index in range(FILES):
            path = template.project / fixture_path(index)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(base_lines(index)) + "\n")

    template = TemplateRepo(root / "template", first_tag="v0.1.0")
    template.release("v1.0.0", fixtures)
    template.first_tag = "v1.0.0"
    return template, generate(template, root / "out")


@dataclass
class Side:
    """One side's edits, applied to the fixture files, and what must survive the merge."""

    name: str
    files: dict[str, list[str]] = field(default_factory=lambda: {fixture_path(i): base_lines(i) for i in range(FILES)})
    deleted_files: list[str] = field(default_factory=list)
    deleted_lines: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)  # a file gets at most one delete/rename
    counter: itertools.count = field(default_factory=itertools.count)

    def token(self) -> str:
        return f"{self.name}-{next(self.counter)}"

    @property
    def tokens(self) -> list[str]:
        """The edits that must survive: those still in this side's files (not deleted later)."""
        return [line for lines in self.files.values() for line in lines if line.startswith(f"{self.name}-")]

    def apply(self, op: tuple) -> None:
        kind = op[0]
        path = fixture_path(op[1]) if len(op) > 1 else None
        if kind == "add_file":
            self.files[f"fixture/{self.name.lower()}-{next(self.counter)}.txt"] = [self.token()]
        elif kind == "append_real":
            self.files.setdefault(REAL_FILE, []).append(self.token())
        elif path not in self.files or path in self.touched:
            return
        elif kind in ("edit", "delete_line"):
            original = base_lines(op[1])[op[2]]
            lines = self.files[path]
            if original in lines:
                position = lines.index(original)
                if kind == "edit":
                    lines[position] = self.token()
                else:
                    del lines[position]
                    self.deleted_lines.append(original)
        elif kind == "delete_file":
            del self.files[path]
            self.deleted_files.append(path)
            self.touched.add(path)
        elif kind == "rename_file":
            new_path = path.replace("/f", "/renamed-f")
            self.files[new_path] = self.files.pop(path)
            self.renamed[path] = new_path
            self.touched.update({path, new_path})

    def write(self, root: Path) -> None:
        """Write the fixture files under root (deleting the gone ones); REAL_FILE gets appends."""
        for index in range(FILES):
            (root / fixture_path(index)).unlink(missing_ok=True)
        for path, lines in self.files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if path == REAL_FILE:
                with target.open("a", encoding="utf-8") as handle:
                    handle.write("".join(f"\n{line}\n" for line in lines))
            else:
                target.write_text("\n".join(lines) + "\n")


file_index = st.integers(0, FILES - 1)
line_index = st.integers(0, LINES - 1)
user_op = st.one_of(
    st.tuples(st.just("edit"), file_index, line_index),
    st.tuples(st.just("delete_line"), file_index, line_index),
    st.tuples(st.just("delete_file"), file_index),
    st.tuples(st.just("add_file")),
    st.tuples(st.just("append_real")),
)
template_op = st.one_of(
    st.tuples(st.just("edit"), file_index, line_index),
    st.tuples(st.just("delete_file"), file_index),
    st.tuples(st.just("rename_file"), file_index),
    st.tuples(st.just("add_file")),
    st.tuples(st.just("append_real")),
)


def work_tree(project: Path) -> dict[str, str]:
    return {p.relative_to(project).as_posix(): p.read_text(encoding="utf-8", errors="replace")
            for p in project.rglob("*") if p.is_file() and ".git" not in p.relative_to(project).parts}


def holding(files: dict[str, str], text: str) -> list[str]:
    return [path for path, content in files.items() if text in content.splitlines()
            or any(line.endswith(text) for line in content.splitlines())]


# Each example is a real render and merge (~1 s): no shrinking, the failing example is printed as found.
@settings(max_examples=20, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(user_ops=st.lists(user_op, max_size=7), template_ops=st.lists(template_op, max_size=6),
       new_question=st.booleans())
def test_update_never_silently_drops_a_user_edit_or_a_template_change(origin, user_ops, template_ops,
                                                                      new_question):
    template, generated = origin
    user, upstream = Side("USER"), Side("TEMPLATE")
    for op in user_ops:
        user.apply(op)
    for op in template_ops:
        upstream.apply(op)

    def release(t: TemplateRepo) -> None:
        upstream.write(t.project)
        if new_question:
            t.add_question("alert_channel", "#ml-alerts", "Alert channel", used_in="fixture/question.txt")

    tag = template.release(f"v2.0.{next(versions)}", release)
    with tempfile.TemporaryDirectory() as scratch:
        project = copy_project(generated, Path(scratch) / "project")
        user.write(project)
        commit_all(project)

        result = update_project(project, to=tag, trust=True)

        files = work_tree(project)
        conflicted = {c.path for c in result.conflicts}
        reported = conflicted | set(result.kept)
        unmerged = set(filter(None, git(project, "diff", "--name-only", "--diff-filter=U").split("\n")))
        assert unmerged == conflicted, "every conflict git left is reported, and only those"
        assert result.status == ("conflicts" if conflicted else "updated")

        marked = {path for path, content in files.items() if "\n<<<<<<< " in f"\n{content}"}
        assert marked <= conflicted, "conflict markers only in files reported as conflicts"
        for token in user.tokens + upstream.tokens:
            assert holding(files, token), f"{token} was dropped"
        for line in user.deleted_lines:
            assert set(holding(files, line)) <= reported, f"user-deleted line {line!r} came back silently"
        for path in user.deleted_files:
            index = int(path.rsplit("f", 1)[1].split(".")[0])
            for first_line in base_lines(index)[:1]:
                assert set(holding(files, first_line)) <= reported, f"user-deleted {path} came back silently"
        for path in upstream.deleted_files + list(upstream.renamed):
            assert path not in files or path in reported, f"template removed {path} but it stayed silently"
        for new_path in upstream.renamed.values():
            assert new_path in files or any(p in reported for p in (new_path, *upstream.renamed)), new_path
        if new_question:
            assert files["fixture/question.txt"] == "alert_channel: #ml-alerts\n"
        record = files[".mlstack/answers.yml"]
        assert f"version: {tag}" in record and "<<<<<<<" not in record
