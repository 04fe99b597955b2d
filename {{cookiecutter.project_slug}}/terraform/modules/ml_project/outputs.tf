# What the environment roots pass on to CI (see the root outputs).

output "training_job_id" {
  description = "ID of the training -> validation -> deployment job."
  value       = databricks_job.training.id
}

output "inference_job_id" {
  description = "ID of the batch inference job."
  value       = databricks_job.inference.id
}

output "monitoring_job_id" {
  description = "ID of the drift monitoring job."
  value       = databricks_job.monitoring.id
}

output "feature_engineering_job_id" {
  description = "ID of the feature engineering job; null when the project does not use the feature store."
  value       = {% if cookiecutter.feature_store %}databricks_job.feature_engineering.id{% else %}null{% endif %}
}

output "experiment_path" {
  description = "Workspace path of the MLflow experiment."
  value       = var.experiment_path
}

output "registered_model_name" {
  description = "Name under which the pipelines register the model."
  value       = local.registered_model_name
}
{%- if cookiecutter.serving %}

output "serving_endpoint_name" {
  description = "Name of the Model Serving endpoint; null until a champion exists (CI's serve stage then creates it)."
  value       = one(databricks_model_serving.champion[*].name)
}
{%- endif %}
