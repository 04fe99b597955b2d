"""Benchmark the generated project's ML pipeline: `make pipeline` end to end, and feature
engineering throughput at 100k / 300k / 1M rows.

    python benchmarks/pipeline.py [--venv PATH] [--runs 2] [--rows 100000,300000,1000000]

Bakes the default project with `mlstack init` into benchmarks/.work/, installs it into a
virtualenv (--venv, else $MLSTACK_TEST_VENV, else benchmarks/.work/venv), then
1. runs `python -m <package>.pipelines --env local --sample-data` (what `make pipeline` runs)
   `--runs` times from an empty .local/, reporting wall time (process start included) and the
   per-step breakdown the pipeline writes to .local/reports/pipeline/latest.json;
2. runs benchmarks/feature_engineering_job.py in that virtualenv for each row count.
Prints Markdown tables ready for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from run import Row

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
PACKAGE = "maternal_health_risk"


def bake(out: Path = WORK / "project", settings: Sequence[str] = ()) -> Path:
    """A fresh `mlstack init --no-input` into `out`; `settings` are `--set KEY=VALUE` answers."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cookiecutter_config = WORK / "cookiecutter.yml"
    cookiecutter_config.write_text(f"replay_dir: {WORK / 'replay'}\ncookiecutters_dir: {WORK / 'cookiecutters'}\n")
    env = {**os.environ, "COOKIECUTTER_CONFIG": str(cookiecutter_config)}
    beside_python = Path(sys.executable).parent / "mlstack"
    mlstack = str(beside_python) if beside_python.exists() else shutil.which("mlstack")
    if mlstack is None:
        raise SystemExit("mlstack is not installed: pip install -e . first")
    answers = [arg for setting in settings for arg in ("--set", setting)]
    done = subprocess.run([mlstack, "init", "--no-input", *answers, "-o", str(out)], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"mlstack init failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return out / "maternal-health-risk"


def uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def prepare_venv(venv: Path, project: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([*uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run([*uv(), "pip", "install", "--quiet", "--python", str(python), "-e", f"{project}[dev]"], check=True)
    return python


def run_pipeline(python: Path, project: Path) -> dict:
    shutil.rmtree(project / ".local", ignore_errors=True)
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    started = time.perf_counter()
    done = subprocess.run([str(python), "-m", f"{PACKAGE}.pipelines", "--env", "local", "--sample-data"],
                          cwd=project, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pipeline failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    timings = json.loads((project / ".local" / "reports" / "pipeline" / "latest.json").read_text())
    timings["wall_seconds"] = round(wall, 1)
    return timings


def load_average() -> str:
    try:
        return " / ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def default_venv() -> Path:
    """The generated project's virtualenv: $MLSTACK_TEST_VENV, else one kept under benchmarks/.work/."""
    return Path(os.environ.get("MLSTACK_TEST_VENV") or WORK / "venv")


def suite_rows(work: Path, repeat: int) -> list[Row]:
    """For benchmarks/run.py: median wall time of the local pipeline over max(1, repeat // 3) runs.

    Bakes into benchmarks/.work/, not `work`: the kept virtualenv's editable install points there.
    """
    from run import Row

    project = bake()
    python = prepare_venv(default_venv(), project)
    load_before = load_average()
    runs = [run_pipeline(python, project) for _ in range(max(1, repeat // 3))]
    wall = statistics.median(r["wall_seconds"] for r in runs)
    steps = {step: statistics.median(r["steps"][step] for r in runs) for step in runs[0]["steps"]}
    slowest = sorted(steps.items(), key=lambda item: item[1], reverse=True)[:3]
    return [Row("generated project: local pipeline (`make pipeline`, sample data)", f"{wall:.1f} s",
                f"median of {len(runs)} run(s), process start to exit, from an empty .local/; slowest steps: "
                + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in slowest)
                + f"; load average {load_before} before, {load_average()} after")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=default_venv())
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--rows", default="100000,300000,1000000")
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # measure with the bytecode cache, as on a user's machine

    project = bake()
    python = prepare_venv(args.venv, project)
    print(f"machine: {os.cpu_count()} cores, load average before: {load_average()}\n")

    if not args.skip_pipeline:
        runs = [run_pipeline(python, project) for _ in range(args.runs)]
        steps = list(runs[0]["steps"])
        print("| step | " + " | ".join(f"run {i + 1} (s)" for i in range(len(runs))) + " |")
        print("|---|" + "---:|" * len(runs))
        for step in steps:
            print(f"| {step} | " + " | ".join(f"{r['steps'][step]:.1f}" for r in runs) + " |")
        print("| in-process total | " + " | ".join(f"{r['total_seconds']:.1f}" for r in runs) + " |")
        print("| **wall, process start to exit** | " + " | ".join(f"**{r['wall_seconds']:.1f}**" for r in runs) + " |")
        print(f"\nload average after: {load_average()}\n")

    if args.rows:
        job = HERE / "feature_engineering_job.py"
        done = subprocess.run([str(python), str(job), "--rows", args.rows, "--work", str(WORK / "features")],
                              cwd=project, env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"},
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"feature benchmark failed:\n{done.stderr[-3000:]}")
        print(done.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
