# Databricks notebook source
# MAGIC %md
# MAGIC # Sample data (synthetic)
# MAGIC
# MAGIC Writes the synthetic, PHI-free demo tables to this environment (refused in prod). Not part of the scheduled jobs.
# MAGIC
# MAGIC Thin wrapper: the work is `{{ cookiecutter.package_name }}.pipelines.sample_data`, the same code that
# MAGIC `python -m {{ cookiecutter.package_name }}.pipelines.sample_data --env local` runs on a laptop.

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

from {{ cookiecutter.package_name }}.pipelines.sample_data import run

result = run(env)
print(result.summary())
