"""Feature engineering throughput of the generated project in local Spark (run by benchmarks/pipeline.py).

Runs inside the generated project's virtualenv, from its folder. For each row count: writes
synthetic raw rows to Parquet (untimed), then times what `build_features` does: read the raw
table, compute every feature of configs/feature_mappings.yml, write the feature table. The
best of `--repeats` runs is reported, after one warm-up run that pays the JVM's start-up costs.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from maternal_health_risk.config import load_config
from maternal_health_risk.core.features import parse_feature_mappings
from maternal_health_risk.core.sample_data import generate_patients
from maternal_health_risk.spark.features import build_feature_table, nan_to_null
from maternal_health_risk.spark.session import get_spark


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="100000,300000,1000000")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--set", action="append", default=[], help="config override, e.g. spark.conf={}")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    config = load_config("local", overrides=[f"paths.root={args.work}", *args.set])
    spark = get_spark(config)
    mappings = parse_feature_mappings(config["feature_mappings"])

    def engineer(raw_path: Path, out_path: Path) -> float:
        started = time.perf_counter()
        raw = spark.read.parquet(str(raw_path))
        build_feature_table(raw, mappings).write.mode("overwrite").parquet(str(out_path))
        return time.perf_counter() - started

    results = []
    for rows in [int(r) for r in args.rows.split(",")]:
        raw_path = args.work / f"raw_{rows}"
        # Written in chunks of 100k so generating 1M rows stays within pandas' comfortable memory.
        for start in range(0, rows, 100_000):
            chunk = generate_patients(min(100_000, rows - start), seed=start, first_id=start + 1)
            mode = "overwrite" if start == 0 else "append"
            nan_to_null(spark.createDataFrame(chunk)).write.mode(mode).parquet(str(raw_path))
        engineer(raw_path, args.work / "warmup")
        best = min(engineer(raw_path, args.work / f"features_{rows}") for _ in range(args.repeats))
        results.append((rows, best))

    print(f"Spark {spark.version}, master {spark.sparkContext.master}, "
          f"{len(mappings.features)} features from {len(mappings.groups)} groups\n")
    print("| rows | seconds (read + compute + write) | rows/s |")
    print("|---:|---:|---:|")
    for rows, seconds in results:
        print(f"| {rows:,} | {seconds:.2f} | {rows / seconds:,.0f} |")
    spark.stop()


if __name__ == "__main__":
    main()
