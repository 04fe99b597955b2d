# Databricks notebook source
# MAGIC %md
# MAGIC # Monitor
# MAGIC
# MAGIC Data drift (PSI with KS/chi-square), prediction drift and performance decay on the latest scored batch. Sets the task values the monitoring job's retrain condition reads (`trigger_retrain`, with the batch and reasons).
# MAGIC
# MAGIC Thin wrapper: the work is `{{ cookiecutter.package_name }}.pipelines.monitor`, the same code that
# MAGIC `python -m {{ cookiecutter.package_name }}.pipelines.monitor --env local` runs on a laptop.
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

from {{ cookiecutter.package_name }}.pipelines.monitor import run

result = run(env)
print(result.summary())
# trigger_retrain decides the job's condition task; batch_id, reasons and monitor_run_id go to the retrain.
for key, value in result.task_values().items():
    dbutils.jobs.taskValues.set(key=key, value=value)
