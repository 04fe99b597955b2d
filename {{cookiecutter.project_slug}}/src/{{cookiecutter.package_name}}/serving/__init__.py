"""Real-time scoring: a local REST service for the champion model (`make serve`).

`python -m {{ cookiecutter.package_name }}.serving --env local` serves `models:/<name>@champion`
from the local MLflow registry on loopback. On Databricks the same model is served by a Model
Serving endpoint declared in terraform/modules/ml_project/serving.tf.
"""
