# Azure DevOps: the environments `staging` and `prod` and one variable group per environment
# ({{ cookiecutter.project_slug }}-staging, {{ cookiecutter.project_slug }}-prod) holding the variables the pipelines read.
# Authenticate the provider as a project administrator (AZDO_PERSONAL_ACCESS_TOKEN in your
# shell for this one run, or `az login`); nothing is written to disk.

terraform {
  required_providers {
    azuredevops = {
      source  = "microsoft/azuredevops"
      version = "~> 1.0"
    }
  }
}

provider "azuredevops" {
  org_service_url = "https://dev.azure.com/{{ cookiecutter.repo_owner }}"
}

variable "azure_devops_organization_id" {
  description = "GUID of the Azure DevOps organization: the issuer of its OIDC tokens is https://vstoken.dev.azure.com/<GUID>."
  type        = string
}

variable "azure_devops_pipeline_names" {
  description = "Name of the pipeline that deploys each environment. Azure DevOps tokens name the pipeline, not the environment: separate deploy pipelines keep a staging run from ever obtaining a prod token."
  type        = map(string)
  default = {
    staging = "{{ cookiecutter.project_slug }}"
    prod    = "{{ cookiecutter.project_slug }}"
  }
}

data "azuredevops_project" "this" {
  name = "{{ cookiecutter.azure_devops_project }}"
}

locals {
  ci_oidc = {
    issuer               = "https://vstoken.dev.azure.com/${var.azure_devops_organization_id}"
    databricks_audiences = ["api://AzureADTokenExchange"]
    cloud_audience       = "api://AzureADTokenExchange"
    subjects = {
      for env in local.environments :
      env => "p://{{ cookiecutter.repo_owner }}/{{ cookiecutter.azure_devops_project }}/${var.azure_devops_pipeline_names[env]}"
    }
  }
}

resource "azuredevops_environment" "env" {
  for_each = toset(local.environments)

  project_id  = data.azuredevops_project.this.id
  name        = each.key
  description = "{{ cookiecutter.project_slug }} ${each.key}: deploys from ${local.deploy_branches[each.key]}. Add approvals for prod here."
}

resource "azuredevops_variable_group" "env" {
  for_each = toset(local.environments)

  project_id   = data.azuredevops_project.this.id
  name         = "{{ cookiecutter.project_slug }}-${each.key}"
  description  = "Identifiers CI uses to deploy {{ cookiecutter.project_slug }} to ${each.key}. Managed by terraform/bootstrap."
  allow_access = false

  dynamic "variable" {
    for_each = local.ci_variables[each.key]
    content {
      name  = variable.key
      value = variable.value
    }
  }

  # Only with use_client_secret = true.
  dynamic "variable" {
    for_each = var.use_client_secret ? ["DATABRICKS_CLIENT_SECRET"] : []
    content {
      name         = variable.value
      secret_value = databricks_service_principal_secret.ci[each.key].secret
      is_secret    = true
    }
  }
}
