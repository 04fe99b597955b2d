# GitLab CI/CD: the environments `staging` and `prod` and, scoped to each, the variables the
# pipelines read. Prod's variables are protected: only protected branches ({{ cookiecutter.release_branch }} must be)
# receive them. Staging's are not, because merge request jobs run on unprotected source branches;
# they are identifiers, not secrets. Authenticate the provider as a project maintainer
# (GITLAB_TOKEN in your shell for this one run); nothing is written to disk.

terraform {
  required_providers {
    gitlab = {
      source  = "gitlabhq/gitlab"
      version = "~> 18.0"
    }
  }
}

provider "gitlab" {
  base_url = "https://{{ cookiecutter.gitlab_host }}/api/v4/"
}

data "gitlab_project" "this" {
  path_with_namespace = local.git_repo_path
}

locals {
  # Subjects are project_path:<group>/<project>:ref_type:branch:ref:<branch>; merge request jobs
  # are trusted by project_path for staging only (ci/identities.json). Each job's id_tokens
  # requests `aud: <databricks_audience>` for Databricks.
  ci_issuer = local.ci_identity.issuer
}

resource "gitlab_project_environment" "env" {
  for_each = toset(local.environments)

  project = data.gitlab_project.this.id
  name    = each.key
}

resource "gitlab_project_variable" "ci" {
  for_each = local.ci_variable_entries

  project           = data.gitlab_project.this.id
  environment_scope = gitlab_project_environment.env[each.value.env].name
  key               = each.value.name
  value             = each.value.value
  protected         = each.value.env == "prod"
  masked            = false
  raw               = true
}

# Deploy jobs stop at their first line until this exists (ci/preflight.py): it says the
# bootstrap ran, and for which ci/identities.json.
resource "gitlab_project_variable" "bootstrap" {
  project           = data.gitlab_project.this.id
  environment_scope = "*"
  key               = "MLSTACK_BOOTSTRAP"
  value             = local.ci_identity_digest
  protected         = false
  masked            = false
  raw               = true
}

# Only with use_client_secret = true.
resource "gitlab_project_variable" "databricks_client_secret" {
  for_each = var.use_client_secret ? toset(local.environments) : toset([])

  project           = data.gitlab_project.this.id
  environment_scope = gitlab_project_environment.env[each.key].name
  key               = "DATABRICKS_CLIENT_SECRET"
  value             = databricks_service_principal_secret.ci[each.key].secret
  protected         = true
  masked            = true
  raw               = true
}
