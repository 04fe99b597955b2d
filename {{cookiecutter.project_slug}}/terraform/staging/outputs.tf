# CI reads these after apply (terraform output -json) to start and follow the jobs.

output "training_job_id" {
  value = module.ml_project.training_job_id
}

output "inference_job_id" {
  value = module.ml_project.inference_job_id
}

output "monitoring_job_id" {
  value = module.ml_project.monitoring_job_id
}

output "feature_engineering_job_id" {
  value = module.ml_project.feature_engineering_job_id
}

output "experiment_path" {
  value = module.ml_project.experiment_path
}

output "registered_model_name" {
  value = module.ml_project.registered_model_name
}
{%- if cookiecutter.serving %}

output "serving_endpoint_name" {
  value = module.ml_project.serving_endpoint_name
}
{%- endif %}
