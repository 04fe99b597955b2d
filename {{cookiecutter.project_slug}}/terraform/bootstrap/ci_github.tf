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
  # Jobs that declare `environment: <env>` present repo:<owner>/<repo>:environment:<env>
  # (ci/identities.json); the prod environment accepts deployments from its branch only.
  ci_issuer = local.ci_identity.issuer
}

# Staging has no branch restriction: pull request jobs (plan, integration run) use it too, and
# their ref is the pull request's, not a branch. Prod deploys only from its release branch.
resource "github_repository_environment" "env" {
  for_each = toset(local.environments)

  repository  = local.github_repository
  environment = each.key

  dynamic "deployment_branch_policy" {
    for_each = each.key == "prod" ? [1] : []
    content {
      protected_branches     = false
      custom_branch_policies = true
    }
  }
}

resource "github_repository_environment_deployment_policy" "prod" {
  repository     = local.github_repository
  environment    = github_repository_environment.env["prod"].environment
  branch_pattern = local.ci_identity.environments["prod"].deploy_branch
}

# Deploy workflows stop at their first job until this exists (ci/preflight.py): it says the
# bootstrap ran, and for which ci/identities.json.
resource "github_actions_variable" "bootstrap" {
  repository    = local.github_repository
  variable_name = "MLSTACK_BOOTSTRAP"
  value         = local.ci_identity_digest
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
