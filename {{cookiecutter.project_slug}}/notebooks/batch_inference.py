# Databricks notebook source
# MAGIC %md
# MAGIC # Batch inference
# MAGIC
# MAGIC Scores the configured input table with the champion model and appends predictions with model version, run id and time.
# MAGIC
# MAGIC Thin wrapper: the work is `{{ cookiecutter.package_name }}.pipelines.batch_inference`, the same code that
# MAGIC `python -m {{ cookiecutter.package_name }}.pipelines.batch_inference --env local` runs on a laptop.
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

from {{ cookiecutter.package_name }}.pipelines.batch_inference import run

result = run(env)
print(result.summary())
