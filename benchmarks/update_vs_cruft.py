"""Time `mlstack update` against `cruft update` and a plain `git merge` on the same repository.

The repository: a 200-file cookiecutter template rendered at v1.0.0, plus 5,000 files of the
team's own and edits to 10 template files. Template v2.0.0 edits 20 files, adds 5 and deletes 5.
Each tool updates a fresh copy from v1.0.0 to v2.0.0; the copies are made outside the timing.

    pip install -e '.[bench]'        # mlstack and cruft in one environment
    python benchmarks/update_vs_cruft.py [--repeat 3] [--user-files 5000] [--template-files 200]

Timings are wall-clock of the whole command (Python start-up included for both tools).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from run import Row

GIT_IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
                "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
                # no background `git gc --auto` racing the copies or the timings
                "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "gc.auto", "GIT_CONFIG_VALUE_0": "0"}
SLUG_DIR = "{{cookiecutter.project_slug}}"


def run(*args: str | Path, cwd: Path, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **GIT_IDENTITY, **(env or {})})
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def git(cwd: Path, *args: str) -> str:
    return run("git", *args, cwd=cwd).stdout.strip()


def tool(name: str) -> Path:
    """A console script installed next to this Python (the benchmark's virtualenv)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        found = shutil.which(name)
        if not found:
            raise SystemExit(f"{name} is not installed; run: pip install -e '.[bench]'")
        path = Path(found)
    return path


def template_file(index: int, version: str = "v1") -> str:
    lines = [f"# {{{{ cookiecutter.project_name }}}}: module {index}"]
    lines += [f"setting_{index}_{j} = {j}  # {version if j == 5 else 'stable'}" for j in range(30)]
    return "\n".join(lines) + "\n"


def build_template(root: Path, files: int) -> Path:
    """A plain cookiecutter template (no hooks) with `files` files, tagged v1.0.0 and v2.0.0."""
    root.mkdir(parents=True)
    (root / "cookiecutter.json").write_text(json.dumps(
        {"project_name": "Bench Project", "project_slug": "{{ cookiecutter.project_name | slugify }}"}, indent=2))
    project = root / SLUG_DIR
    for index in range(files):
        path = project / f"pkg{index % 20:02d}" / f"module_{index:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template_file(index))
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "v1")
    git(root, "tag", "v1.0.0")
    for index in range(0, 200, 10):  # 20 edited files
        (project / f"pkg{index % 20:02d}" / f"module_{index:03d}.py").write_text(template_file(index, "v2"))
    for index in range(5):  # 5 added
        (project / "added" / f"new_{index}.py").parent.mkdir(exist_ok=True)
        (project / "added" / f"new_{index}.py").write_text(f"# added in v2: {index}\n")
    for index in range(195, 200):  # 5 deleted
        (project / f"pkg{index % 20:02d}" / f"module_{index:03d}.py").unlink()
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "v2")
    git(root, "tag", "v2.0.0")
    return root


def build_project(template: Path, work: Path, user_files: int) -> Path:
    """`cruft create` at v1.0.0, then the team's files and edits, committed."""
    run(tool("cruft"), "create", f"file://{template}", "--checkout", "v1.0.0", "--no-input",
        "--output-dir", str(work), cwd=work)
    project = work / "bench-project"
    for index in range(user_files):
        path = project / "team" / f"area{index // 250:02d}" / f"file_{index:05d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"VALUE = {index}\n")
    for index in range(3, 200, 20):  # 10 template files edited at the top, far from v2's line
        path = project / f"pkg{index % 20:02d}" / f"module_{index:03d}.py"
        path.write_text("# team header\n" + path.read_text())
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "project with team files")
    git(project, "repack", "-adq")  # like a real clone: packed objects
    return project


def mlstack_base(project: Path, template: Path, work: Path) -> Path:
    """A copy adopted with `mlstack link` (answers from .cruft.json) at v1.0.0."""
    copy = work / "mlstack-base"
    shutil.copytree(project, copy, symlinks=True)
    run(tool("mlstack"), "link", "--template", f"file://{template}", "--ref", "v1.0.0", "--trust", "--no-input",
        "--answers-file", str(copy / ".cruft.json"), cwd=copy)
    return copy


def render_commit(base: Path, template: Path, work: Path) -> str:
    """The v2.0.0 render committed on top of the pristine branch, for the plain `git merge` reference."""
    out = work / "render-v2"
    run(sys.executable, "-m", "cookiecutter", "--no-input", "--checkout", "v2.0.0", "-o", str(out),
        f"git+file://{template}", cwd=work, env={"COOKIECUTTER_CONFIG": str(work / "cc.yml")})
    rendered = out / "bench-project"
    env = {"GIT_INDEX_FILE": str(work / "bench.index"), "GIT_WORK_TREE": str(rendered)}
    run("git", "add", "--all", cwd=base, env=env)
    tree = run("git", "write-tree", cwd=base, env=env).stdout.strip()
    return run("git", "commit-tree", tree, "-p", "mlstack/template", "-m", "v2 render", cwd=base).stdout.strip()


def timed(command: list, cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **GIT_IDENTITY})
    return time.perf_counter() - start, done


def check_result(project: Path, label: str) -> str:
    """Both v2's changes and the team's edits must be present: a fast but wrong update doesn't count."""
    edited = (project / "pkg00" / "module_000.py").read_text()
    team = (project / "pkg03" / "module_003.py").read_text()
    added = (project / "added" / "new_0.py").exists()
    deleted = not (project / "pkg15" / "module_195.py").exists()
    rejects = len(list(project.rglob("*.rej")))
    ok = "# v2" in edited and team.startswith("# team header") and added and deleted and rejects == 0
    return "ok" if ok else f"WRONG ({label}: v2 edit={'# v2' in edited}, team edit kept={team.startswith('# team')}, " \
                           f"added={added}, deleted={deleted}, .rej files={rejects})"


def phase_breakdown(base: Path, work: Path) -> dict[str, float]:
    """Where one `mlstack update` spends its time, measured in-process on a fresh copy."""
    import mlstack.commands.update
    import mlstack.gitrepo
    import mlstack.render
    import mlstack.template

    spent: dict[str, float] = {}
    phases = [
        ("fetch the template (git clone)", mlstack.template, "_clone"),
        ("carry answers (loads cookiecutter/Jinja)", mlstack.commands.update, "carry_answers"),
        ("render v2.0.0 (cookiecutter)", mlstack.render, "render_into_temp"),
        ("git: clean-tree check", mlstack.gitrepo.GitRepo, "require_clean"),
        ("git: commit the render", mlstack.gitrepo.GitRepo, "commit_directory"),
        ("git: three-way merge (merge-tree)", mlstack.gitrepo.GitRepo, "merge_trees"),
        ("git: write answers file into the tree", mlstack.gitrepo.GitRepo, "tree_with_file"),
        ("git: move index and work tree", mlstack.gitrepo.GitRepo, "checkout_tree"),
    ]
    originals = []
    for label, owner, name in phases:
        original = getattr(owner, name)
        originals.append((owner, name, original))

        def timed_call(*args, _original=original, _label=label, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - start
        setattr(owner, name, timed_call)
    copy = work / "phases"
    shutil.copytree(base, copy, symlinks=True)
    start = time.perf_counter()
    try:
        mlstack.commands.update.update_project(copy, to="v2.0.0", trust=True)
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    spent["total (in-process, no start-up)"] = time.perf_counter() - start
    return spent


@contextlib.contextmanager
def isolated_cookiecutter(work: Path) -> Iterator[None]:
    """Cookiecutter's replay and clone folders inside `work` while the block runs, not in the user's home."""
    config = work / "cc.yml"
    config.write_text(f"replay_dir: {work / 'replay'}\ncookiecutters_dir: {work / 'cc'}\n")
    before = os.environ.get("COOKIECUTTER_CONFIG")
    os.environ["COOKIECUTTER_CONFIG"] = str(config)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COOKIECUTTER_CONFIG", None)
        else:
            os.environ["COOKIECUTTER_CONFIG"] = before


@dataclass
class Repositories:
    """The repositories every timed run copies: cruft's, mlstack's linked one, and the v2 render commit."""

    template: Path
    project: Path
    base: Path
    v2_render: str


def prepare(work: Path, template_files: int, user_files: int) -> Repositories:
    template = build_template(work / "template", template_files)
    project = build_project(template, work, user_files)
    base = mlstack_base(project, template, work)
    return Repositories(template, project, base, render_commit(base, template, work))


def measure(repos: Repositories, work: Path, repeat: int) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Seconds per run and the correctness check of each command, the tools interleaved round by round."""
    times: dict[str, list[float]] = {"mlstack update": [], "cruft update": [], "git merge": [],
                                     "mlstack --version (start-up only)": []}
    checks: dict[str, str] = {"mlstack --version (start-up only)": "reference"}
    for round_ in range(repeat):
        runs = {
            "mlstack update": (repos.base, [tool("mlstack"), "update", "--to", "v2.0.0", "--trust", "--no-input"]),
            "cruft update": (repos.project, [tool("cruft"), "update", "--checkout", "v2.0.0", "--skip-apply-ask",
                                             "--not-strict"]),
            "git merge": (repos.base, ["git", "merge", "--quiet", "--no-edit", repos.v2_render]),
        }
        seconds, _ = timed([tool("mlstack"), "--version"], work)
        times["mlstack --version (start-up only)"].append(seconds)
        for name, (source, command) in runs.items():
            copy = work / f"run-{round_}-{name.split()[0]}"
            shutil.copytree(source, copy, symlinks=True)
            seconds, done = timed(command, copy)
            if done.returncode != 0:
                raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
            times[name].append(seconds)
            # The worst outcome over the rounds is the one to report.
            result = check_result(copy, name)
            if checks.get(name, "ok") == "ok":
                checks[name] = result
            shutil.rmtree(copy)
    return times, checks


def suite_rows(work: Path, repeat: int) -> list[Row]:
    """For benchmarks/run.py: median seconds of mlstack update, cruft update and git merge, and the ratio."""
    from run import Row

    if not (Path(sys.executable).parent / "cruft").exists() and shutil.which("cruft") is None:
        return [Row("`mlstack update` vs `cruft update`", "not measured",
                    "cruft is not installed: pip install -e '.[bench]'")]
    rounds = 3 if repeat <= 3 else 5
    template_files, user_files = 200, 5000
    work = work / "update_vs_cruft"
    work.mkdir()
    with isolated_cookiecutter(work):
        times, checks = measure(prepare(work, template_files, user_files), work, rounds)
    medians = {name: statistics.median(values) for name, values in times.items()}
    what = (f"{template_files} template files + {user_files:,} team files, v1.0.0 -> v2.0.0 "
            f"(20 edited, 5 added, 5 deleted); median of {rounds} runs")
    rows = []
    for name in ("mlstack update", "cruft update", "git merge"):
        flag = "" if checks[name] == "ok" else " (WRONG result)"
        rows.append(Row(f"`{name}`", f"{medians[name]:.2f} s{flag}",
                        f"{what}; result {checks[name]}" if name == "mlstack update" else f"result {checks[name]}"))
    ratio = medians["mlstack update"] / medians["cruft update"]
    rows.append(Row("update ratio mlstack / cruft", f"{ratio:.2f}×",
                    "interleaved in one session; runs (s): mlstack "
                    + ", ".join(f"{value:.2f}" for value in times["mlstack update"]) + "; cruft "
                    + ", ".join(f"{value:.2f}" for value in times["cruft update"])))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--user-files", type=int, default=5000)
    parser.add_argument("--template-files", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # measure with the bytecode cache, as on a user's machine

    work = Path(tempfile.mkdtemp(prefix="mlstack-bench-"))
    try:
        with isolated_cookiecutter(work):
            repos = prepare(work, args.template_files, args.user_files)
            times, checks = measure(repos, work, args.repeat)
            phases = phase_breakdown(repos.base, work)
        medians = {name: statistics.median(values) for name, values in times.items()}
        print(f"Repository: {args.template_files} template files + {args.user_files} team files; "
              f"v1.0.0 -> v2.0.0 (20 edited, 5 added, 5 deleted); median of {args.repeat} runs")
        print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
              f"{run('git', '--version', cwd=work).stdout.strip()}")
        print()
        print("| command | median s | runs (s) | vs cruft | result |")
        print("|---|---|---|---|---|")
        for name, median in medians.items():
            runs_text = ", ".join(f"{value:.2f}" for value in times[name])
            print(f"| {name} | {median:.2f} | {runs_text} | {median / medians['cruft update']:.2f}x | {checks[name]} |")
        print()
        print("Where `mlstack update` spends its time (one in-process run):")
        print()
        print("| phase | s |")
        print("|---|---|")
        for label, seconds in phases.items():
            print(f"| {label} | {seconds:.2f} |")
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
