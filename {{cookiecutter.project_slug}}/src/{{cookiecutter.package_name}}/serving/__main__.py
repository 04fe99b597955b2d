"""`python -m {{ cookiecutter.package_name }}.serving --env local`: serve the champion over REST until stopped."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import ENVIRONMENTS, ConfigError, add_set_option, load_config, resolve_path
from .model import ServingError, load_served_model
from .server import RequestLog, ScoringServer, ScoringService


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].strip("`"))
    parser.add_argument("--env", default="local", choices=ENVIRONMENTS, help="which configs/<env>.yml to use")
    parser.add_argument("--host", help="address to listen on (default serving.host, loopback)")
    parser.add_argument("--port", type=int, help="port (default serving.port); 0 picks a free one")
    parser.add_argument("--version", help="serve this model version instead of the champion")
    add_set_option(parser, "serving.max_rows_per_request=100")
    return parser.parse_args(argv)


def build_server(config: dict[str, Any], host: str, port: int, version: str | None = None) -> ScoringServer:
    """Load the model and bind the service; the caller runs `serve_forever`."""
    settings = config["serving"]
    model = load_served_model(config, version)
    log_path = settings.get("request_log")
    log = RequestLog(Path(resolve_path(config, log_path)) if log_path else None)
    service = ScoringService(
        model,
        max_rows=int(settings["max_rows_per_request"]),
        max_request_bytes=int(settings["max_request_bytes"]),
        log=log,
    )
    return ScoringServer((host, port), service)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # One OpenMP thread per prediction: a single row gains nothing from more, and spreading it
    # over every core stalls it whenever one core is busy. Requests run in parallel instead.
    # Set before scikit-learn loads OpenMP (with the model); OMP_NUM_THREADS overrides it.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # The console shows the service's own lines; MLflow's store set-up chatter is not news.
    # Importing MLflow configures its loggers and alembic's (INFO in MLflow 3.8, the 18 LTS
    # runtime's): quieten them after that import, not before.
    import mlflow  # noqa: F401

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        config = load_config(args.env, overrides=args.overrides)
        settings = config["serving"]
        host = args.host or str(settings["host"])
        port = int(settings["port"] if args.port is None else args.port)
        server = build_server(config, host, port, args.version)
    except (ConfigError, ServingError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(
            f"error: cannot listen on {args.host or 'the configured host'}:{args.port}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    if not _is_loopback(host):
        print(f"warning: listening on {host}, beyond this machine: requests may carry PHI", file=sys.stderr)
    model = server.service.model
    served = f"{model.name} v{model.version}" + (f" ({model.alias})" if model.alias else "")
    print(
        f"serving {served} at {server.url} - POST /invocations; GET /example, /metadata, /health. "
        "Ctrl-C stops.",
        flush=True,
    )
    # SIGTERM (e.g. from a test or a process manager) stops as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.service.log.close()
    print("stopped", flush=True)
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


if __name__ == "__main__":
    sys.exit(main())
