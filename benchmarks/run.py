"""The benchmark suite: one command, one Markdown table, medians of several runs, the machine named.

    python benchmarks/run.py                 # the whole suite (the lead's numbers: a quiet machine)
    python benchmarks/run.py --quick         # fewer repetitions, a smaller fleet, shorter load runs
    python benchmarks/run.py --out benchmarks/RESULTS.md
    python benchmarks/run.py --skip fleet --skip serving   # leave sections out, by name (repeatable)
    python benchmarks/run.py --venv PATH     # the generated project's virtualenv (pipeline, serving)

Sections, in table order: startup, init, update_vs_cruft, check, fleet, fleet_update, pipeline, serving.
update_vs_cruft needs cruft (pip install -e '.[bench]'); pipeline and serving install the
generated project into a virtualenv (--venv, else $MLSTACK_TEST_VENV, else benchmarks/.work/venv)
and each run its local pipeline once or more (about a minute a run).

Run it from a virtualenv where mlstack is installed (scripts/run-tests makes .venv). Each
section is a function returning rows; a section that cannot run shows as "not measured" with
the reason instead of failing the suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))


@dataclass
class Row:
    measure: str
    value: str
    note: str = ""


def median_seconds(action: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> float:
    samples = []
    for _ in range(repeat):
        if setup:
            setup()
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> None:
    subprocess.run(list(args), cwd=cwd, check=True, capture_output=True, env=env)


def tool(name: str) -> str:
    """A console script next to this interpreter (the benchmark venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def isolated_env(work: Path) -> dict[str, str]:
    config = work / "cookiecutter.yml"
    config.write_text(f"replay_dir: {work / 'replay'}\ncookiecutters_dir: {work / 'cc'}\n")
    return {**os.environ, "COOKIECUTTER_CONFIG": str(config), "MLSTACK_SETTINGS": str(work / "none.yml")}


# --- sections ---------------------------------------------------------------------------------
def bench_startup(work: Path, repeat: int) -> list[Row]:
    seconds = median_seconds(lambda: run(tool("mlstack"), "--help"), max(repeat, 5))
    return [Row("`mlstack --help` start-up", f"{seconds * 1000:.0f} ms", "median, whole process")]


def bench_init(work: Path, repeat: int) -> list[Row]:
    env = isolated_env(work)
    counter = iter(range(10_000))

    def mlstack_init() -> None:
        run(tool("mlstack"), "init", "--no-input", "-o", str(work / f"m{next(counter)}"), env=env)

    def cookiecutter_init() -> None:
        run(tool("cookiecutter"), "--no-input", str(REPO_ROOT), "-o", str(work / f"c{next(counter)}"), env=env)

    ours = median_seconds(mlstack_init, repeat)
    theirs = median_seconds(cookiecutter_init, repeat)
    return [Row("`mlstack init --no-input` (validate, render, hooks, git, atomic move)", f"{ours:.2f} s"),
            Row("`cookiecutter --no-input` on the same template", f"{theirs:.2f} s"),
            Row("init ratio mlstack / cookiecutter", f"{ours / theirs:.2f}×", "same template and hooks")]


def _baked(work: Path) -> Path:
    out = work / "baked"
    if not out.exists():
        run(tool("mlstack"), "init", "--no-input", "-o", str(out), env=isolated_env(work))
    return out / "maternal-health-risk"


def bench_check(work: Path, repeat: int) -> list[Row]:
    project = _baked(work)
    whole = median_seconds(lambda: run(tool("mlstack"), "check", str(project)), max(repeat, 5))
    python_only = median_seconds(lambda: run(sys.executable, "-c", "pass"), max(repeat, 5))
    from mlstack.policy.engine import run_check
    from mlstack.policy.policy_file import Policy

    in_process = median_seconds(lambda: run_check(project, Policy()), max(repeat, 5))
    return [Row("`mlstack check` on one generated repo", f"{whole * 1000:.0f} ms",
                f"whole process; bare `python -c pass` is {python_only * 1000:.0f} ms"),
            Row("check work beyond start-up (in process)", f"{in_process * 1000:.0f} ms")]


def bench_fleet(work: Path, repeat: int, sizes: tuple[int, ...]) -> list[Row]:
    from mlstack.commands.fleet import fleet_report
    from mlstack.policy.policy_file import Policy

    base = _baked(work)
    fleet_dir = work / "fleet"
    repos = []
    for index in range(max(sizes)):
        target = fleet_dir / f"repo-{index:03d}"
        if not target.exists():
            shutil.copytree(base, target, symlinks=True)
        repos.append(str(target))
    cores = os.cpu_count() or 1
    rows = []
    for size in sizes:
        subset = repos[:size]
        one = median_seconds(lambda s=subset: fleet_report(s, Policy(), jobs=1), max(1, repeat // 2))
        many = median_seconds(lambda s=subset: fleet_report(s, Policy(), jobs=cores), max(1, repeat // 2))
        rows.append(Row(f"`fleet report` on {size} repos", f"{many:.2f} s on {cores} cores",
                        f"{one:.2f} s on 1 core ({one / many:.2f}× speed-up); {many / size * 1000:.0f} ms/repo"))
    return rows


OPTIONAL_MODULES = ("update_vs_cruft", "fleet_update", "pipeline", "serving")
SECTION_ORDER = ("startup", "init", "update_vs_cruft", "check", "fleet", "fleet_update", "pipeline", "serving")


def optional_sections() -> dict[str, Callable[[Path, int], list[Row]]]:
    """Sections in other benchmark modules, each module's `suite_rows(work, repeat)`.

    A module that does not import or has no `suite_rows` still gets a section, one that fails
    with the reason, so the table says "not measured" instead of the section silently vanishing.
    """
    found = {}
    for module_name in OPTIONAL_MODULES:
        try:
            found[module_name] = __import__(module_name).suite_rows
        except (ImportError, AttributeError) as error:
            found[module_name] = _unavailable(f"benchmarks/{module_name}.py: {type(error).__name__}: {error}")
    return found


def _unavailable(reason: str) -> Callable[[Path, int], list[Row]]:
    def section(work: Path, repeat: int) -> list[Row]:
        raise RuntimeError(reason)
    return section


def failure_note(error: BaseException) -> str:
    """One table cell: the error's first and last lines (a tool's stderr ends with the real cause)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()] or [""]
    text = lines[0] if len(lines) == 1 else f"{lines[0]} … {lines[-1]}"
    text = f"{type(error).__name__}: {text}".replace("|", "\\|")
    return text if len(text) <= 400 else text[:399] + "…"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")) / 1024 / 1024
        memory_text = f"{memory:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        memory_text = "RAM unknown"
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.split()[-1]
    return (f"{cpu}, {os.cpu_count()} cores, {memory_text}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, git {git_version}")


def _load_average() -> str:
    try:
        return " / ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, a smaller fleet, shorter load runs")
    parser.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    parser.add_argument("--skip", action="append", default=[], metavar="SECTION", choices=SECTION_ORDER,
                        help="leave a section out (repeatable): " + ", ".join(SECTION_ORDER))
    parser.add_argument("--venv", type=Path,
                        help="the generated project's virtualenv (default $MLSTACK_TEST_VENV or benchmarks/.work/venv)")
    args = parser.parse_args()
    # Measure what a user's machine does: Python caches compiled modules. A shell that turns the
    # cache off (PYTHONDONTWRITEBYTECODE) would make every process recompile MLflow, pandas,
    # scikit-learn and mlstack from source, several seconds per start.
    bytecode_note = ("bytecode caching on (PYTHONDONTWRITEBYTECODE was set in this shell and is "
                     "unset for the measured processes)" if os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
                     else "bytecode caching on")
    if args.venv:
        os.environ["MLSTACK_TEST_VENV"] = str(args.venv.resolve())
    repeat = 3 if args.quick else 7
    sizes = (20, 50) if args.quick else (50, 100, 200)
    available: dict[str, Callable[[Path, int], list[Row]]] = {
        "startup": bench_startup,
        "init": bench_init,
        "check": bench_check,
        "fleet": lambda work, r: bench_fleet(work, r, sizes),
        **optional_sections(),
    }
    rows: list[Row] = []
    load_before = _load_average()
    suite_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mlstack-bench-") as tmp:
        work = Path(tmp)
        for name in SECTION_ORDER:
            if name in args.skip:
                continue
            print(f"running {name} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            try:
                rows.extend(available[name](work, repeat))
            # SystemExit too: the benchmark modules' helpers exit with the failing tool's output.
            except (Exception, SystemExit) as error:  # noqa: BLE001 - one missing tool must not hide the other numbers
                rows.append(Row(f"{name}", "not measured", failure_note(error)))
            print(f"  {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    minutes = (time.perf_counter() - suite_started) / 60
    command = "python benchmarks/run.py" + (" --quick" if args.quick else "") + "".join(
        f" --skip {name}" for name in args.skip)
    lines = [f"# mlstack benchmarks — {dt.date.today().isoformat()}", "", f"Machine: {machine()}.", "",
             f"Load average (1, 5, 15 min) {load_before} before, {_load_average()} after; the suite took "
             f"{minutes:.1f} min; {bytecode_note}.", "",
             f"Medians of {repeat} runs unless noted. Command: `{command}`.", "",
             "| measure | result | note |", "|---|---|---|"]
    lines += [f"| {row.measure} | {row.value} | {row.note} |" for row in rows]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        # Sections other benchmarks append (## ..., e.g. benchmarks/engine.py's) outlive a rerun of the suite.
        existing = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        sections = existing[existing.index("\n## ") :] if "\n## " in existing else ""
        args.out.write_text(table + sections, encoding="utf-8")


if __name__ == "__main__":
    main()
