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
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    import mlstack.gitrepo
    import mlstack.render
    import mlstack.template
    import mlstack.update

    spent: dict[str, float] = {}
    phases = [
        ("fetch the template (git clone)", mlstack.template, "_clone"),
        ("carry answers (loads cookiecutter/Jinja)", mlstack.update, "carry_answers"),
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
        mlstack.update.update_project(copy, to="v2.0.0", trust=True)
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    spent["total (in-process, no start-up)"] = time.perf_counter() - start
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--user-files", type=int, default=5000)
    parser.add_argument("--template-files", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mlstack-bench-"))
    (work / "cc.yml").write_text(f"replay_dir: {work / 'replay'}\ncookiecutters_dir: {work / 'cc'}\n")
    os.environ["COOKIECUTTER_CONFIG"] = str(work / "cc.yml")
    try:
        template = build_template(work / "template", args.template_files)
        project = build_project(template, work, args.user_files)
        base = mlstack_base(project, template, work)
        v2_render = render_commit(base, template, work)
        times: dict[str, list[float]] = {"mlstack update": [], "cruft update": [], "git merge": [],
                                         "mlstack --version (start-up only)": []}
        checks: dict[str, str] = {}
        for round_ in range(args.repeat):
            runs = {
                "mlstack update": (base, [tool("mlstack"), "update", "--to", "v2.0.0", "--trust", "--no-input"]),
                "cruft update": (project, [tool("cruft"), "update", "--checkout", "v2.0.0", "--skip-apply-ask",
                                           "--not-strict"]),
                "git merge": (base, ["git", "merge", "--quiet", "--no-edit", v2_render]),
            }
            seconds, _ = timed([tool("mlstack"), "--version"], work)
            times["mlstack --version (start-up only)"].append(seconds)
            checks["mlstack --version (start-up only)"] = "reference"
            for name, (source, command) in runs.items():
                copy = work / f"run-{round_}-{name.split()[0]}"
                shutil.copytree(source, copy, symlinks=True)
                seconds, done = timed(command, copy)
                if done.returncode != 0:
                    raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
                times[name].append(seconds)
                checks[name] = check_result(copy, name)
                shutil.rmtree(copy)
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
        for label, seconds in phase_breakdown(base, work).items():
            print(f"| {label} | {seconds:.2f} |")
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
