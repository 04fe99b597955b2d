# Databricks notebook source
# MAGIC %md
# MAGIC # Build features
# MAGIC
# MAGIC Computes every feature of `configs/feature_mappings.yml` in Spark and writes the feature table (Databricks Feature Engineering in Unity Catalog when `feature_store.enabled`).
# MAGIC
# MAGIC Thin wrapper: the work is `{{ cookiecutter.package_name }}.pipelines.build_features`, the same code that
# MAGIC `python -m {{ cookiecutter.package_name }}.pipelines.build_features --env local` runs on a laptop.

# COMMAND ----------

dbutils.widgets.text("env", "dev", "Environment: dev, staging or prod")
dbutils.widgets.text("git_commit", "", "Commit of this code (optional, recorded for audit)")
env = dbutils.widgets.get("env")

# COMMAND ----------

import os
import sys

# Import the package from this checkout: walk up to the folder holding configs/project.yml.
root = os.getcwd()
while not os.path.isfile(os.path.join(root, "configs", "project.yml")) and os.path.dirname(root) != root:
    root = os.path.dirname(root)
sys.path.insert(0, os.path.join(root, "src"))
os.chdir(root)
if dbutils.widgets.get("git_commit"):
    os.environ["GIT_COMMIT"] = dbutils.widgets.get("git_commit")

# COMMAND ----------

from {{ cookiecutter.package_name }}.pipelines.build_features import run

result = run(env)
print(result.summary())
