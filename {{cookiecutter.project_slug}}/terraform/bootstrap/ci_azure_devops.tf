# Azure DevOps: the pipelines themselves (their names are the OIDC subjects, so the bootstrap
# creates exactly the ones ci/identities.json names), the environments `staging` and `prod`,
# one variable group per environment ({{ cookiecutter.project_slug }}-staging, {{ cookiecutter.project_slug }}-prod), and each
# pipeline's authorization for its own environment's group and environment only.
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

data "azuredevops_project" "this" {
  name = "{{ cookiecutter.azure_devops_project }}"
}

data "azuredevops_git_repository" "this" {
  project_id = data.azuredevops_project.this.id
  name       = local.ci_identity.repository
}

locals {
  # A pipeline's token says p://<organization>/<project>/<pipeline name> and nothing about the
  # branch or stage, so every pipeline serves one environment (ci/identities.json).
  ci_issuer    = replace(local.ci_identity.issuer, "{organization_id}", var.azure_devops_organization_id)
  ci_pipelines = local.ci_identity.pipelines
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

  # Pipelines check it first (ci/preflight.py): it says which ci/identities.json was bootstrapped.
  variable {
    name  = "MLSTACK_BOOTSTRAP"
    value = local.ci_identity_digest
  }
}

# The pipelines, named as their OIDC subjects say. Renamed in the UI, a pipeline's token no
# longer matches: ci/preflight.py stops it with the name to restore (or re-apply this).
resource "azuredevops_build_definition" "pipeline" {
  for_each = local.ci_pipelines

  project_id = data.azuredevops_project.this.id
  name       = each.key
  path       = "\\{{ cookiecutter.project_slug }}"

  ci_trigger {
    use_yaml = true
  }

  repository {
    repo_type   = "TfsGit"
    repo_id     = data.azuredevops_git_repository.this.id
    branch_name = "refs/heads/${local.deploy_branches["staging"]}"
    yml_path    = trimprefix(each.value.file, "/")
  }
}

# Azure Repos ignores the YAML `pr:` trigger: this policy runs the pull request pipeline.
resource "azuredevops_branch_policy_build_validation" "pull_requests" {
  for_each = { for name, pipeline in local.ci_pipelines : name => pipeline if try(pipeline.validates_pull_requests, false) }

  project_id = data.azuredevops_project.this.id
  enabled    = true
  blocking   = true

  settings {
    display_name        = each.key
    build_definition_id = azuredevops_build_definition.pipeline[each.key].id
    valid_duration      = 720

    scope {
      repository_id  = data.azuredevops_git_repository.this.id
      repository_ref = "refs/heads/${local.deploy_branches["staging"]}"
      match_type     = "Exact"
    }
  }
}

# Each pipeline may use its own environment's variable group and environment, nothing else.
resource "azuredevops_pipeline_authorization" "variable_group" {
  for_each = local.ci_pipelines

  project_id  = data.azuredevops_project.this.id
  resource_id = azuredevops_variable_group.env[each.value.environment].id
  type        = "variablegroup"
  pipeline_id = tonumber(azuredevops_build_definition.pipeline[each.key].id)
}

resource "azuredevops_pipeline_authorization" "environment" {
  for_each = local.ci_pipelines

  project_id  = data.azuredevops_project.this.id
  resource_id = azuredevops_environment.env[each.value.environment].id
  type        = "environment"
  pipeline_id = tonumber(azuredevops_build_definition.pipeline[each.key].id)
}
