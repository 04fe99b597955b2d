"""Benchmark the generated project's training engines on local Spark: time and driver memory per step.

    python benchmarks/engine.py [--venv PATH] [--rows 100000,1000000,5000000] [--engines distributed,single_node]
                                [--max-evals 3] [--timeout 3600] [--out benchmarks/RESULTS.md]

Bakes the default project (benchmarks/.work/engine/), installs it into a virtualenv (--venv, else
$MLSTACK_TEST_VENV, else benchmarks/.work/venv) and, per engine and training-table size
(`sample_data.training_rows`), writes the sample tables, then runs each step in its own process:
validate_data, build_features, train, validate_model, deploy, batch_inference, monitor. Each step
reports its wall time and the peak RSS of its Python process (the driver; local Spark's JVM and
its Python workers are other processes). An engine stops at the first size where a step fails or
exceeds --timeout, and the table says so. Prints a Markdown table; --out appends it as a section
to that file (replacing an earlier engine section).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pipeline import PACKAGE, WORK, bake, default_venv, load_average, prepare_venv  # noqa: E402

STEPS = ("validate_data", "build_features", "train", "validate_model", "deploy", "batch_inference", "monitor")
MEASURED = ("train", "validate_model", "monitor")
SECTION = "## Training engines: driver memory and time per step"
# Run a step module as `python -m` does, then record the peak RSS of this (the driver's) Python process.
MEASURE = """
import json, resource, runpy, sys, time
out, module, args = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.argv = [module, *args]
started, code = time.perf_counter(), 0
try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
except SystemExit as exit:
    code = exit.code or 0
with open(out, "w") as handle:
    json.dump({"seconds": time.perf_counter() - started, "code": code,
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, handle)
sys.exit(code)
"""


def run_step(python: Path, project: Path, step: str, settings: list[str], timeout: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    args = [str(python), "-c", MEASURE, out, f"{PACKAGE}.pipelines.{step}", "--env", "local"]
    args += [arg for setting in settings for arg in ("--set", setting)]
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    started = time.perf_counter()
    try:
        done = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"step": step, "ok": False, "note": f"over {timeout} s"}
    result = json.loads(Path(out).read_text()) if Path(out).stat().st_size else {}
    Path(out).unlink(missing_ok=True)
    result.update(step=step, wall=time.perf_counter() - started, ok=done.returncode == 0)
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        result["note"] = (lines[-1] if lines else f"exit {done.returncode}")[:200]
    return result


def run_size(python: Path, project: Path, engine: str, rows: int, max_evals: int, timeout: int) -> list[dict]:
    import shutil

    shutil.rmtree(project / ".local", ignore_errors=True)
    settings = [f"training.engine={engine}", f"sample_data.training_rows={rows}", "sample_data.scoring_rows=20000",
                f"training.hyperopt.max_evals={max_evals}", "spark.conf={spark.driver.memory: 4g}"]
    results = [run_step(python, project, "sample_data", settings, timeout)]
    for step in STEPS:
        if not results[-1]["ok"]:
            break
        results.append(run_step(python, project, step, settings, timeout))
        print(f"  {engine} {rows:,} {step}: {results[-1].get('wall', 0):.0f} s, "
              f"{results[-1].get('peak_rss_mb', 0):.0f} MB {results[-1].get('note', '')}", file=sys.stderr, flush=True)
    return results


def table(measured: dict[tuple[str, int], list[dict]]) -> str:
    lines = ["| engine | training rows | " + " | ".join(f"{s} (s)" for s in STEPS) + " | "
             + " | ".join(f"{s} peak RSS (MB)" for s in MEASURED) + " |",
             "|---|---:|" + "---:|" * (len(STEPS) + len(MEASURED))]
    for (engine, rows), results in measured.items():
        by_step = {r["step"]: r for r in results}
        failed = next((r for r in results if not r["ok"]), None)
        cells = [f"{by_step[s]['wall']:.0f}" if s in by_step and by_step[s]["ok"] else "—" for s in STEPS]
        memory = [f"{by_step[s]['peak_rss_mb']:.0f}" if s in by_step and by_step[s]["ok"] else "—" for s in MEASURED]
        row = f"| {engine} | {rows:,} | " + " | ".join(cells) + " | " + " | ".join(memory) + " |"
        if failed:
            row += f" stopped at {failed['step']}: {failed.get('note', 'failed')} |"
        lines.append(row)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=default_venv())
    parser.add_argument("--rows", default="100000,1000000,5000000")
    parser.add_argument("--engines", default="distributed,single_node")
    parser.add_argument("--max-evals", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=3600)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--skip-install", action="store_true", help="the venv already has this project installed")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    project = bake(WORK / "engine")
    python = args.venv / "bin" / "python" if args.skip_install else prepare_venv(args.venv, project)
    before, started = load_average(), time.perf_counter()
    measured: dict[tuple[str, int], list[dict]] = {}
    for engine in args.engines.split(","):
        for rows in (int(r) for r in args.rows.split(",")):
            measured[(engine, rows)] = run_size(python, project, engine, rows, args.max_evals, args.timeout)
            if not all(r["ok"] for r in measured[(engine, rows)]):
                break  # this engine has stopped; larger tables would stop too
    minutes = (time.perf_counter() - started) / 60
    text = (f"{SECTION}\n\n`python benchmarks/engine.py --rows {args.rows} --engines {args.engines} "
            f"--max-evals {args.max_evals}`: local[2] Spark, {os.cpu_count()} cores, Hyperopt {args.max_evals} "
            f"trials, 20,000 scoring rows; each step in its own process, peak RSS of that Python process. "
            f"Load average {before} before, {load_average()} after; {minutes:.0f} min.\n\n{table(measured)}\n")
    print(text)
    if args.out:
        existing = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        kept = existing.split(SECTION)[0].rstrip() + "\n\n" if existing else ""
        args.out.write_text(kept + text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
