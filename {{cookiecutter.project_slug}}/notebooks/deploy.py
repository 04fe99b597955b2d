# Databricks notebook source
# MAGIC %md
# MAGIC # Deploy
# MAGIC
# MAGIC Moves the `champion` alias to the validated challenger and records who, when and which commit on the model version.
# MAGIC
# MAGIC Thin wrapper: the work is `{{ cookiecutter.package_name }}.pipelines.deploy`, the same code that
# MAGIC `python -m {{ cookiecutter.package_name }}.pipelines.deploy --env local` runs on a laptop.
# MAGIC
# MAGIC The first cells install this checkout with its dependencies, pinned to the cluster's runtime
# MAGIC ({% if cookiecutter.serverless %}serverless: the environment's own versions{% else %}`constraints/dbr-{{ cookiecutter.spark_version.split('.x-')[0] }}-ml.txt`{% endif %}), then `_bootstrap.py` reads the widgets and switches to the checkout.

# COMMAND ----------

# MAGIC %pip install --quiet{% if not cookiecutter.serverless %} --constraint ../constraints/dbr-{{ cookiecutter.spark_version.split('.x-')[0] }}-ml.txt{% endif %} ..

# COMMAND ----------

dbutils.library.restartPython()

# COMMAND ----------

from _bootstrap import start_step  # notebooks/_bootstrap.py

env = start_step(dbutils)

# COMMAND ----------

from {{ cookiecutter.package_name }}.pipelines.deploy import run
from _bootstrap import trigger_overrides  # a retrain the monitoring job started carries its trigger

result = run(env, trigger_overrides(dbutils))
print(result.summary())
