"""`mlstack fleet update --push` over a fleet of generated repositories with local bare remotes.

    python benchmarks/fleet_update.py [--repos 100]       # prints the rows; run.py includes them too

One template release (v1.0.0 -> v1.1.0, which edits README.md and adds a file) is rolled out to
every repository: clone, render, merge on mlstack/update-v1.1.0, check, validate, one atomic
push. Whole `mlstack fleet update` processes on all cores and on one, each on fresh copies of
the remotes; the state file must say every repository was updated and pushed, else the row
says WRONG.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PARTS = ("cookiecutter.json", "hooks", "{{cookiecutter.project_slug}}")
RELEASE = "v1.1.0"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com", *args], cwd=cwd,
                   check=True, capture_output=True)


def _template(work: Path) -> Path:
    """This repository's template as a git repository with tags v1.0.0 and v1.1.0."""
    path = work / "template"
    path.mkdir(parents=True)
    for part in TEMPLATE_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, path / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, path / part)
    _git(path, "init", "--quiet", "--initial-branch=main")
    _git(path, "add", "--all")
    _git(path, "commit", "--quiet", "-m", "template v1.0.0")
    _git(path, "tag", "v1.0.0")
    project = path / "{{cookiecutter.project_slug}}"
    with (project / "README.md").open("a", encoding="utf-8") as readme:
        readme.write("\nA line added by template v1.1.0.\n")
    (project / "docs" / "release-1.1.md").write_text("New in template v1.1.0.\n", encoding="utf-8")
    _git(path, "add", "--all")
    _git(path, "commit", "--quiet", "-m", "template v1.1.0")
    _git(path, "tag", RELEASE)
    return path


def _environment(work: Path) -> dict[str, str]:
    config = work / "cookiecutter.yml"
    config.write_text(f"replay_dir: {work / 'replay'}\ncookiecutters_dir: {work / 'cc'}\n")
    return {**os.environ, "COOKIECUTTER_CONFIG": str(config), "MLSTACK_SETTINGS": str(work / "none.yml")}


def _mlstack() -> str:
    beside = Path(sys.executable).parent / "mlstack"
    return str(beside) if beside.exists() else (shutil.which("mlstack") or "mlstack")


def _prototype(work: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """(the template, one bare remote of a project generated at v1.0.0) for the fleet to copy."""
    template = _template(work)
    out = work / "generated"
    subprocess.run([_mlstack(), "init", "--no-input", "--trust", "--template", f"file://{template}", "--ref", "v1.0.0",
                    "-o", str(out)], check=True, capture_output=True, env=env)
    prototype = work / "prototype.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(out / "maternal-health-risk"), str(prototype)],
                   check=True, capture_output=True)
    return template, prototype


def _roll_out(work: Path, template: Path, prototype: Path, size: int, jobs: int, env: dict[str, str]) -> float:
    """Seconds for one whole `mlstack fleet update --push` over `size` fresh remotes (checked)."""
    fleet = work / f"fleet-j{jobs}"
    shutil.rmtree(fleet, ignore_errors=True)
    fleet.mkdir()
    targets = []
    for index in range(size):
        remote = fleet / f"repo-{index:03d}.git"
        shutil.copytree(prototype, remote, symlinks=True)
        targets.append(f"file://{remote}")
    listing = fleet / "repos.txt"
    listing.write_text("\n".join(targets) + "\n", encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run([_mlstack(), "fleet", "update", "--from", str(listing), "--template", f"file://{template}",
                           "--trust", "--push", "-j", str(jobs), "--work-dir", str(work / f"areas-j{jobs}")],
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    state = json.loads((fleet / "repos.rollout.json").read_text(encoding="utf-8"))["repos"]
    good = [e for e in state.values() if e["outcome"] == "updated" and e["pushed"] and e["version"] == RELEASE]
    if done.returncode != 0 or len(good) != size:
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        raise RuntimeError(f"WRONG: {len(good)} of {size} updated and pushed (exit {done.returncode}): {tail}")
    return seconds


def suite_rows(work: Path, repeat: int, size: int | None = None):
    """The benchmark's rows for run.py (one run each: a roll-out is minutes, not milliseconds)."""
    from run import Row

    size = size or (20 if repeat <= 3 else 100)
    env = _environment(work)
    folder = work / "fleet-update"
    folder.mkdir(exist_ok=True)
    template, prototype = _prototype(folder, env)
    cores = os.cpu_count() or 1
    many = _roll_out(folder, template, prototype, size, cores, env)
    one = _roll_out(folder, template, prototype, size, 1, env)
    return [Row(f"`fleet update --push` on {size} repos", f"{many:.1f} s on {cores} cores",
                f"{one:.1f} s on 1 core ({one / many:.2f}× speed-up); {many / size * 1000:.0f} ms/repo on {cores} "
                f"cores, {one / size * 1000:.0f} ms/repo on 1; one release (v1.0.0 -> {RELEASE}), local bare "
                "remotes, every repo checked updated and pushed; one run each")]


if __name__ == "__main__":
    import argparse
    import tempfile

    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=100)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlstack-bench-") as tmp:
        for row in suite_rows(Path(tmp), 7, arguments.repos):
            print(f"| {row.measure} | {row.value} | {row.note} |")
