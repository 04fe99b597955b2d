# Inputs of one environment (staging or prod). The roots pass literal values rendered from
# the project's answers, so the same module produces both environments.

variable "environment" {
  description = "Deployment target this instance serves: staging or prod."
  type        = string

  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment must be staging or prod."
  }
}

variable "project_slug" {
  description = "Project identifier used in job names and tags."
  type        = string
}

variable "owner_team" {
  description = "Team that owns the jobs (tag value)."
  type        = string
}

variable "owner_email" {
  description = "Address that receives job failure e-mails."
  type        = string
}

variable "read_group" {
  description = "Workspace group that may view the jobs, the experiment and the model."
  type        = string
}

variable "template_version" {
  description = "mlstack template version the project was generated from (tag value)."
  type        = string
}

variable "service_principal_name" {
  description = "Display name of this environment's service principal; jobs run as it and it owns every resource."
  type        = string
}

variable "git_repo_url" {
  description = "HTTPS URL of the repository the jobs check their notebooks out from."
  type        = string
}

variable "git_provider" {
  description = "Databricks name of the git provider hosting git_repo_url."
  type        = string

  validation {
    condition = contains([
      "gitHub", "gitHubEnterprise", "gitLab", "gitLabEnterpriseEdition", "azureDevOpsServices",
      "bitbucketCloud", "bitbucketServer", "awsCodeCommit",
    ], var.git_provider)
    error_message = "git_provider must be one of the providers the Databricks Jobs API accepts."
  }
}

variable "git_branch" {
  description = "Branch the jobs run from: the main branch for staging, the release branch for prod."
  type        = string
}

variable "experiment_path" {
  description = "Workspace path of the MLflow experiment (equals mlflow.experiment in configs/<env>.yml); terraform/bootstrap creates it."
  type        = string

  validation {
    condition     = startswith(var.experiment_path, "/")
    error_message = "experiment_path must be an absolute workspace path."
  }
}

variable "registered_model_name" {
  description = "Unity Catalog model catalog.schema.model (equals mlflow.registered_model in configs/<env>.yml); terraform/bootstrap creates it."
  type        = string

  validation {
    condition     = length(split(".", var.registered_model_name)) == 3
    error_message = "registered_model_name must be catalog.schema.model (Unity Catalog)."
  }
}

variable "predictions_table_name" {
  description = "Table that batch inference appends to, in the model's schema (tables.predictions in configs/project.yml); monitored once it exists."
  type        = string
  default     = "patient_risk_predictions"
}

variable "inference_schedule" {
  description = "Quartz cron expression of the batch inference job."
  type        = string
}

variable "monitoring_schedule" {
  description = "Quartz cron expression of the drift monitoring job."
  type        = string
}

variable "training_schedule" {
  description = "Optional Quartz cron expression to retrain on a schedule; null means CI or a person starts training."
  type        = string
  default     = null
}

variable "timezone" {
  description = "Java/IANA time zone the schedules are evaluated in."
  type        = string
}

variable "pause_schedules" {
  description = "Create the schedules paused (for example while staging data is not ready)."
  type        = bool
  default     = false
}

variable "job_timeout_seconds" {
  description = "Upper bound of one run of each job, in seconds."
  type        = map(number)
  default = {
    feature_engineering = 7200
    training            = 21600
    inference           = 7200
    monitoring          = 25200 # its `retrain` task waits for the training run it starts (1 h + 6 h)
  }
}
{%- if cookiecutter.feature_store %}

variable "feature_engineering_schedule" {
  description = "Optional Quartz cron expression of the feature engineering job; null means it is started on demand."
  type        = string
  default     = null
}
{%- endif %}

{%- if not cookiecutter.serverless %}

variable "spark_version" {
  description = "Databricks runtime of the job clusters."
  type        = string
}

variable "node_type_id" {
  description = "Node type of the job clusters' driver and workers."
  type        = string
}

variable "num_workers" {
  description = "Workers per job cluster; 0 runs Spark on a single node."
  type        = number

  validation {
    condition     = var.num_workers >= 0 && floor(var.num_workers) == var.num_workers
    error_message = "num_workers must be a whole number >= 0."
  }
}

variable "cluster_policy_id" {
  description = "Optional cluster policy the job clusters must satisfy."
  type        = string
  default     = null
}
{%- endif %}
