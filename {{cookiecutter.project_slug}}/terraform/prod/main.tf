# The prod environment: remote state, the prod workspace and one instance of the ML
# project module. Values come from the project's answers (.mlstack/answers.yml) and equal
# what configs/prod.yml tells the pipelines. Apply from CI as the prod service principal:
#   terraform init -backend-config=../backends/{{ cookiecutter.cloud }}/prod.hcl
#   terraform apply

terraform {
  required_version = "~> 1.10"

  required_providers {
    databricks = {
      source  = "databricks/databricks"
      version = "~> 1.100"
    }
  }

  # Partial configuration: where the state lives and how it is locked is in ../backends/{{ cookiecutter.cloud }}/prod.hcl.
  backend "{{ {'azure': 'azurerm', 'aws': 's3', 'gcp': 'gcs'}[cookiecutter.cloud] }}" {}
}

# Credentials come from the environment (DATABRICKS_CLIENT_ID and a workload identity token
# in CI), never from this file.
provider "databricks" {
  host = "{{ cookiecutter.prod_workspace_url }}"
}

module "ml_project" {
  source = "../modules/ml_project"

  environment            = "prod"
  project_slug           = "{{ cookiecutter.project_slug }}"
  owner_team             = "{{ cookiecutter.owner_team }}"
  owner_email            = "{{ cookiecutter.owner_email }}"
  read_group             = "{{ cookiecutter.read_group }}"
  template_version       = "{{ cookiecutter._template_version }}"
  service_principal_name = "{{ cookiecutter.prod_sp_name }}"

{%- set git_host = cookiecutter.git_repo_url.split('/')[2] %}

  git_repo_url = "{{ cookiecutter.git_repo_url }}"
  git_provider = "{% if git_host == 'github.com' %}gitHub{% elif cookiecutter.ci_platform == 'github_actions' %}gitHubEnterprise{% elif git_host == 'gitlab.com' %}gitLab{% elif cookiecutter.ci_platform == 'gitlab' %}gitLabEnterpriseEdition{% else %}azureDevOpsServices{% endif %}"
  git_branch   = "{{ cookiecutter.release_branch }}"

  experiment_path       = "/Shared/{{ cookiecutter.experiment_name }}-prod"
  registered_model_name = "{{ cookiecutter.catalog_prod }}.{{ cookiecutter.schema_name }}.{{ cookiecutter.model_name }}"

  inference_schedule  = "{{ cookiecutter.inference_schedule }}"
  monitoring_schedule = "{{ cookiecutter.monitoring_schedule }}"
  timezone            = "{{ cookiecutter.timezone }}"
{%- if not cookiecutter.serverless %}

  spark_version = "{{ cookiecutter.spark_version }}"
  node_type_id  = "{{ cookiecutter.node_type }}"
  num_workers   = {{ cookiecutter.num_workers }}
{%- endif %}
{%- if cookiecutter.serving %}

  # Prod sizing from the project's answers (serving_workload_size, serving_scale_to_zero_prod).
  serving_workload_size = "{{ cookiecutter.serving_workload_size }}"
  serving_scale_to_zero = {{ 'true' if cookiecutter.serving_scale_to_zero_prod else 'false' }}
  # Requests are logged to <catalog>.<schema>.<this>_payload, the table configs/prod.yml names.
  serving_inference_table_prefix = "{{ cookiecutter.package_name }}_serving"
{%- endif %}
}

# Template 0.2.0 moved the environment's model, volume and experiment (with their grants) into
# terraform/bootstrap, so that they exist before this root is first applied. A state written by
# an earlier version forgets them here without deleting anything; docs/terraform.md says how the
# bootstrap takes them over.

removed {
  from = module.ml_project.databricks_registered_model.this

  lifecycle {
    destroy = false
  }
}

removed {
  from = module.ml_project.databricks_volume.files

  lifecycle {
    destroy = false
  }
}

removed {
  from = module.ml_project.databricks_grants.schema

  lifecycle {
    destroy = false
  }
}

removed {
  from = module.ml_project.databricks_grants.model

  lifecycle {
    destroy = false
  }
}

removed {
  from = module.ml_project.databricks_mlflow_experiment.this

  lifecycle {
    destroy = false
  }
}

removed {
  from = module.ml_project.databricks_permissions.experiment

  lifecycle {
    destroy = false
  }
}
