#!/usr/bin/env bash
# Run the generated project's whole test suite (end-to-end pipeline included) against the
# library versions of Databricks Runtime 15.4 LTS ML, to show the same code runs there.
# Usage: benchmarks/dbr154_compat.sh   (needs uv, Java 17, and mlstack installed in the current python)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$here/.work/dbr154"
rm -rf "$work/project" && mkdir -p "$work/project"
printf "replay_dir: %s\ncookiecutters_dir: %s\n" "$work/replay" "$work/cc" > "$work/cookiecutter.yml"
COOKIECUTTER_CONFIG="$work/cookiecutter.yml" mlstack init --no-input -o "$work/project" >/dev/null
project="$work/project/maternal-health-risk"
if [ ! -x "$work/venv/bin/python" ]; then
  uv venv --quiet --python 3.11 "$work/venv"
  # The runtime's versions (release notes of DBR 15.4 LTS ML); sqlalchemy/alembic as MLflow 2.13 needs.
  uv pip install --quiet --python "$work/venv/bin/python" \
    pyspark==3.5.0 mlflow==2.13.1 scikit-learn==1.3.0 pandas==1.5.3 numpy==1.23.5 scipy==1.11.1 \
    hyperopt==0.2.7 matplotlib==3.7.2 pyarrow==14.0.1 pyyaml==6.0 sqlalchemy==1.4.52 alembic==1.13.1 \
    "setuptools<70" pytest
fi
uv pip install --quiet --python "$work/venv/bin/python" --no-deps -e "$project"
cd "$project" && SPARK_LOCAL_IP=127.0.0.1 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider
