# Databricks notebook source
# MAGIC %md
# MAGIC # Train
# MAGIC
# MAGIC Hyperopt search (SparkTrials on this cluster), every trial tracked in MLflow, best model registered with the `challenger` alias.
# MAGIC
# MAGIC Thin wrapper: the work is `{{ cookiecutter.package_name }}.pipelines.train`, the same code that
# MAGIC `python -m {{ cookiecutter.package_name }}.pipelines.train --env local` runs on a laptop.

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

from {{ cookiecutter.package_name }}.pipelines.train import run

result = run(env)
print(result.summary())
dbutils.jobs.taskValues.set(key="model_version", value=result.version)
