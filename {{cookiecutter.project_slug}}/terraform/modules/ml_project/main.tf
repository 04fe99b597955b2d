# Identity and shared settings of one environment's ML resources.

# Jobs run as the environment's service principal and it owns everything here. The provider
# identifies a principal by its application ID in run_as, single_user_name, permissions and
# grants alike, so that ID is looked up once and used everywhere.
data "databricks_service_principal" "runner" {
  display_name = var.service_principal_name
}

locals {
  runner_application_id = data.databricks_service_principal.runner.application_id

  name_prefix = "${var.project_slug}-${var.environment}"

  # The environment's model, catalog.schema.model as configs/<env>.yml names it. It, its volume and
  # its experiment are created once by terraform/bootstrap, so that pipelines (a pull request's
  # integration run too) can write into them before this module was ever applied.
  registered_model_name = var.registered_model_name
  model_name_parts      = split(".", var.registered_model_name)
  catalog_name          = local.model_name_parts[0]
  schema_name           = local.model_name_parts[1]

  tags = {
    project          = var.project_slug
    environment      = var.environment
    owner            = var.owner_team
    template_version = var.template_version
    managed_by       = "terraform"
  }

  # Databricks resolves this reference when a run starts: every notebook task receives the
  # job's `env` parameter as its `env` widget.
  job_env_reference = "{% raw %}{{job.parameters.env}}{% endraw %}"

  # Transient cloud failures are retried once, five minutes later.
  task_max_retries           = 1
  task_min_retry_interval_ms = 300000
{%- if not cookiecutter.serverless %}

  # One job cluster per job, shared by its tasks and torn down when the run ends.
  job_cluster_key = "main"
{%- endif %}
}
