# GitHub Actions: the environments `staging` and `prod` (deployable only from their branch)
# and, inside each, the variables the workflows read. Authenticate the GitHub provider as a
# repository administrator (GITHUB_TOKEN or `gh auth login`); nothing is written to disk.

terraform {
  required_providers {
    github = {
      source  = "integrations/github"
      version = "~> 6.0"
    }
  }
}

provider "github" {
  owner = "{{ cookiecutter.repo_owner }}"
}

locals {
  github_repository = basename(local.git_repo_path)

  # GitHub's token for a job that declares `environment: <env>` carries this subject, so a
  # principal trusts only the workflow jobs of its own environment in this repository.
  ci_oidc = {
    issuer               = "https://token.actions.githubusercontent.com"
    databricks_audiences = [var.databricks_account_id]
    cloud_audience       = null
    subjects             = { for env in local.environments : env => "repo:${local.git_repo_path}:environment:${env}" }
  }
}

resource "github_repository_environment" "env" {
  for_each = toset(local.environments)

  repository  = local.github_repository
  environment = each.key

  deployment_branch_policy {
    protected_branches     = false
    custom_branch_policies = true
  }
}

resource "github_repository_environment_deployment_policy" "env" {
  for_each = toset(local.environments)

  repository     = local.github_repository
  environment    = github_repository_environment.env[each.key].environment
  branch_pattern = local.deploy_branches[each.key]
}

# Identifiers, not secrets: stored as environment variables (vars.<NAME> in workflows).
resource "github_actions_environment_variable" "ci" {
  for_each = local.ci_variable_entries

  repository    = local.github_repository
  environment   = github_repository_environment.env[each.value.env].environment
  variable_name = each.value.name
  value         = each.value.value
}

# Only with use_client_secret = true (secrets.DATABRICKS_CLIENT_SECRET in workflows).
resource "github_actions_environment_secret" "databricks_client_secret" {
  for_each = var.use_client_secret ? toset(local.environments) : toset([])

  repository      = local.github_repository
  environment     = github_repository_environment.env[each.key].environment
  secret_name     = "DATABRICKS_CLIENT_SECRET"
  plaintext_value = databricks_service_principal_secret.ci[each.key].secret
}
