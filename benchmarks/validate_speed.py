"""How long `mlstack validate` takes on generated projects (offline checks, and with terraform fmt).

Run: python benchmarks/validate_speed.py [--repeat N]. Bakes one project per cloud into a
temporary directory and prints the median wall time of validate_directory per project.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        config = Path(temp, "cookiecutter.yml")
        config.write_text(f"replay_dir: {temp}/replay\ncookiecutters_dir: {temp}/cc\n")
        os.environ["COOKIECUTTER_CONFIG"] = str(config)
        from cookiecutter.main import cookiecutter

        from mlstack.commands.validate import validate_directory

        print(f"terraform on PATH: {shutil.which('terraform') or 'none'}")
        for cloud in ("azure", "aws", "gcp"):
            project = Path(cookiecutter(str(REPO_ROOT), no_input=True, output_dir=str(Path(temp, cloud)),
                                        extra_context={"cloud": cloud, "_mlstack": {"git_init": False}}))
            for use_terraform in (False, True):
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    report = validate_directory(project, use_terraform=use_terraform)
                    times.append(time.perf_counter() - start)
                label = "with terraform" if use_terraform else "offline only "
                print(f"{cloud:6} {label}: median {statistics.median(times):.3f}s over {args.repeat} runs, "
                      f"{report.files_checked} .tf files, {len(report.errors)} errors")


if __name__ == "__main__":
    main()
