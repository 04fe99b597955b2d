"""Benchmark the generated project's local real-time scoring service: cold start, then requests/s
and latency under load.

    python benchmarks/serving.py [--venv PATH] [--requests 2000] [--seconds 30] [--concurrency 1,4] [--starts 3]

Bakes the project with `mlstack init --no-input --set serving=true` into benchmarks/.work/serving/,
installs it into a virtualenv (--venv, else $MLSTACK_TEST_VENV, else benchmarks/.work/venv) and runs
the local pipeline once (~60 s) so the local MLflow registry has a champion. Then it starts
`python -m maternal_health_risk.serving --env local --port 0` (what `make serve` runs) and measures
1. cold start: process start to the line saying the service listens (median of --starts starts);
2. per concurrency level, after 50 warm-up requests: that many client threads, each with one
   keep-alive connection, POST single-row requests to /invocations until --requests are answered
   or --seconds pass; requests/s, client-side p50 and p99 latency, and errors (anything but a
   200 with one prediction).
The load generator (stdlib only) runs on the same machine, so it shares the cores with the service.
Prints a Markdown table ready for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pipeline import PACKAGE, WORK, bake, default_venv, load_average, prepare_venv, run_pipeline
from run import Row, machine

PROJECT_PARENT = WORK / "serving"
STDERR_LOG = WORK / "serving-stderr.log"
LISTENING = re.compile(r"serving (?P<model>\S+ v\S+) \(champion\) at http://(?P<host>[^:\s]+):(?P<port>\d+)")
READY_TIMEOUT = 180.0  # seconds; a start under load takes ~10 s
WARM_UP_REQUESTS = 50
HEADERS = {"Content-Type": "application/json"}


@dataclass
class Service:
    """A running `python -m <package>.serving`, and how long it took to listen."""

    process: subprocess.Popen
    lines: queue.SimpleQueue
    host: str
    port: int
    model: str
    cold_start: float


@dataclass
class LoadResult:
    concurrency: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, percent: int) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[percent - 1]


def _forward_lines(stream: IO[str], lines: queue.SimpleQueue) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)  # end of output: the process has exited or closed stdout


def start_service(python: Path, project: Path) -> Service:
    """Start the service on a free port; the clock runs from process start to its listening line."""
    stderr = STDERR_LOG.open("w", encoding="utf-8")
    started = time.perf_counter()
    process = subprocess.Popen([str(python), "-m", f"{PACKAGE}.serving", "--env", "local", "--port", "0"],
                               cwd=project, stdout=subprocess.PIPE, stderr=stderr, text=True)
    stderr.close()  # the child holds its own handle
    lines: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_forward_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        line = lines.get(timeout=READY_TIMEOUT)
    except queue.Empty:
        line = f"no output in {READY_TIMEOUT:.0f} s"
    cold_start = time.perf_counter() - started
    match = LISTENING.match(line or "")
    if match is None:
        process.kill()
        process.wait()
        tail = STDERR_LOG.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise SystemExit(f"the scoring service did not start ({line or 'exited without output'}):\n{tail}")
    return Service(process, lines, match["host"], int(match["port"]), match["model"], cold_start)


def stop_service(service: Service) -> tuple[float, bool]:
    """SIGTERM, then seconds until exit and whether it stopped cleanly ('stopped', exit 0)."""
    started = time.perf_counter()
    service.process.send_signal(signal.SIGTERM)
    try:
        code = service.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        service.process.kill()
        service.process.wait()
        return time.perf_counter() - started, False
    seconds = time.perf_counter() - started
    said = []
    try:
        while (line := service.lines.get(timeout=5)) is not None:
            said.append(line)
    except queue.Empty:
        pass
    return seconds, code == 0 and "stopped" in said


def request_bodies(service: Service) -> list[bytes]:
    """One single-row request per row of the service's own example."""
    connection = http.client.HTTPConnection(service.host, service.port, timeout=30)
    try:
        connection.request("GET", "/example")
        response = connection.getresponse()
        example = json.loads(response.read())
    finally:
        connection.close()
    if response.status != 200 or not example.get("dataframe_records"):
        raise SystemExit(f"GET /example answered {response.status}: {example}")
    return [json.dumps({"dataframe_records": [row]}).encode() for row in example["dataframe_records"]]


def post_rows(service: Service, bodies: list[bytes], count: int, result: LoadResult,
              ready: threading.Barrier, window: dict[str, float]) -> None:
    """One client: `count` requests on one keep-alive connection, stopping at the window's deadline."""
    connection = http.client.HTTPConnection(service.host, service.port, timeout=30)
    try:
        connection.connect()
    except OSError as error:  # counted, and the first request tries again; the others must not wait for us
        result.failures.append(f"connect: {type(error).__name__}: {error}")
    ready.wait()
    deadline = window["start"] + result.seconds
    try:
        for index in range(count):
            if time.perf_counter() >= deadline:
                break
            started = time.perf_counter()
            try:
                connection.request("POST", "/invocations", bodies[index % len(bodies)], HEADERS)
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as error:
                result.failures.append(f"{type(error).__name__}: {error}")
                connection.close()  # the next request reconnects
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            if not _one_prediction(response.status, answer):
                result.failures.append(f"HTTP {response.status}: {answer[:200]!r}")
            else:
                result.latencies_ms.append(elapsed_ms)
    finally:
        connection.close()


def _one_prediction(status: int, answer: bytes) -> bool:
    try:
        return status == 200 and len(json.loads(answer)["predictions"]) == 1
    except (ValueError, KeyError, TypeError):
        return False


def apply_load(service: Service, bodies: list[bytes], concurrency: int, requests: int, seconds: float) -> LoadResult:
    """`requests` single-row requests over `concurrency` connections, or as many as fit in `seconds`."""
    result = LoadResult(concurrency, seconds)
    window: dict[str, float] = {}
    # The clock starts once every client is connected, so connecting is not part of the window.
    ready = threading.Barrier(concurrency + 1, action=lambda: window.update(start=time.perf_counter()))
    shares = [requests // concurrency + (1 if i < requests % concurrency else 0) for i in range(concurrency)]
    clients = [threading.Thread(target=post_rows, args=(service, bodies, share, result, ready, window))
               for share in shares]
    for client in clients:
        client.start()
    ready.wait(timeout=60)
    for client in clients:
        client.join()
    result.seconds = time.perf_counter() - window["start"]
    return result


def measure(venv: Path, requests: int, seconds: float, concurrencies: list[int], starts: int) -> list[Row]:
    """Bake, install, train a champion, then the cold start and one load run per concurrency level."""
    project = bake(PROJECT_PARENT, ["serving=true"])
    python = prepare_venv(venv, project)
    run_pipeline(python, project)  # train, validate_model and deploy leave a champion in .local/
    load_before = load_average()
    service = start_service(python, project)
    try:
        bodies = request_bodies(service)
        warm_up = apply_load(service, bodies, 1, WARM_UP_REQUESTS, 60)
        results = [apply_load(service, bodies, concurrency, requests, seconds) for concurrency in concurrencies]
    finally:
        stops = [stop_service(service)]
    cold_starts = [service.cold_start]
    for _ in range(starts - 1):
        again = start_service(python, project)
        cold_starts.append(again.cold_start)
        stops.append(stop_service(again))
    load_after = load_average()

    clean = all(ok for _, ok in stops)
    stop_text = (f"stops on SIGTERM in {max(s for s, _ in stops):.1f} s or less"
                 + ("" if clean else ", NOT CLEANLY (no 'stopped' line or exit code != 0)"))
    spread = f"{min(cold_starts):.1f}–{max(cold_starts):.1f} s, " if len(cold_starts) > 1 else ""
    rows = [Row("serving: cold start, process start to listening", f"{statistics.median(cold_starts):.1f} s",
                f"{service.model}; median of {len(cold_starts)} start(s), {spread}file cache warm; {stop_text}")]
    # The warm-up shows only when it failed: then the load numbers below it are suspect too.
    for result in ([warm_up] if warm_up.failures else []) + results:
        rate = result.answered / result.seconds if result.seconds else 0.0
        errors = len(result.failures)
        value = f"{rate:.0f} req/s" + (f", {errors} ERRORS" if errors else "")
        clients = f"{result.concurrency} client" + ("s" if result.concurrency > 1 else "")
        label = "warm-up" if result is warm_up else clients
        note = (f"p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} ms; "
                f"{result.answered:,} requests in {result.seconds:.1f} s; "
                + (f"first error: {result.failures[0]}" if errors else "0 errors"))
        rows.append(Row(f"serving: single-row POST /invocations, {label}", value, note))
    rows.append(Row("serving: machine", f"{os.cpu_count()} cores",
                    f"load generator on the same cores; load average {load_before} before, {load_after} after"))
    return rows


def suite_rows(work: Path, repeat: int) -> list[Row]:
    """For benchmarks/run.py: fewer requests and starts with --quick.

    Bakes into benchmarks/.work/, not `work`: the kept virtualenv's editable install points there.
    """
    quick = repeat <= 3
    return measure(default_venv(), requests=1000 if quick else 2000, seconds=15 if quick else 30,
                   concurrencies=[1, 4], starts=1 if quick else 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=default_venv())
    parser.add_argument("--requests", type=int, default=2000, help="requests per concurrency level")
    parser.add_argument("--seconds", type=float, default=30, help="time cap per concurrency level")
    parser.add_argument("--concurrency", default="1,4", help="comma-separated client counts")
    parser.add_argument("--starts", type=int, default=3, help="service starts for the cold-start median")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # measure with the bytecode cache, as on a user's machine
    concurrencies = [int(value) for value in args.concurrency.split(",")]
    rows = measure(args.venv, args.requests, args.seconds, concurrencies, max(1, args.starts))
    print(f"Machine: {machine()}.\n")
    print("| measure | result | note |\n|---|---|---|")
    for row in rows:
        print(f"| {row.measure} | {row.value} | {row.note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
