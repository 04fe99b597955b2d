"""The virtualenv that generated projects get installed into and tested with."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Venv:
    """A virtualenv that generated projects get installed into and tested with."""

    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def install(self, *args: str) -> None:
        command = [*uv_command(), "pip", "install", "--quiet", "--python", str(self.python), *args]
        subprocess.run(command, check=True)

    def run(self, *args: str, cwd: Path, timeout: int = 1200, env: dict | None = None) -> subprocess.CompletedProcess:
        environment = {**os.environ, "PATH": f"{self.path / 'bin'}:{os.environ['PATH']}", **(env or {})}
        environment.pop("PYTHONPATH", None)
        return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment)


def uv_command() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    return [sys.executable, "-m", "uv"]
