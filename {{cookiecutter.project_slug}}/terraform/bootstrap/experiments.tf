# The MLflow experiment of each environment (mlflow.experiment in configs/<env>.yml), created
# here with the model and the volume so that training can log to it before anything is
# deployed. The environment's principal manages it; the read group may read it.

locals {
  experiment_paths = {
    staging = "/Shared/{{ cookiecutter.experiment_name }}-staging"
    prod    = "/Shared/{{ cookiecutter.experiment_name }}-prod"
  }
}

resource "databricks_mlflow_experiment" "staging" {
  provider = databricks.staging

  name = local.experiment_paths["staging"]

  depends_on = [databricks_mws_permission_assignment.env]
}

resource "databricks_mlflow_experiment" "prod" {
  provider = databricks.prod

  name = local.experiment_paths["prod"]

  depends_on = [databricks_mws_permission_assignment.env]
}

resource "databricks_permissions" "staging_experiment" {
  provider = databricks.staging

  experiment_id = databricks_mlflow_experiment.staging.id

  access_control {
    service_principal_name = databricks_service_principal.env["staging"].application_id
    permission_level       = "CAN_MANAGE"
  }

  access_control {
    group_name       = local.read_group
    permission_level = "CAN_READ"
  }
}

resource "databricks_permissions" "prod_experiment" {
  provider = databricks.prod

  experiment_id = databricks_mlflow_experiment.prod.id

  access_control {
    service_principal_name = databricks_service_principal.env["prod"].application_id
    permission_level       = "CAN_MANAGE"
  }

  access_control {
    group_name       = local.read_group
    permission_level = "CAN_READ"
  }
}
