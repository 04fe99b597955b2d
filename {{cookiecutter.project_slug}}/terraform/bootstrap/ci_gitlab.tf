# GitLab CI/CD: the environments `staging` and `prod` and, scoped to each, the variables the
# pipelines read. Variables are protected: only protected branches ({{ cookiecutter.main_branch }} and
# {{ cookiecutter.release_branch }} must be) receive them. Authenticate the provider as a project
# maintainer (GITLAB_TOKEN in your shell for this one run); nothing is written to disk.

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
  # GitLab's ID token names the project and the branch: staging trusts pipelines of the main
  # branch, prod those of the release branch. Set `aud` in the job's id_tokens to match.
  ci_oidc = {
    issuer               = "https://{{ cookiecutter.gitlab_host }}"
    databricks_audiences = [local.git_repo_url]
    cloud_audience       = null
    subjects = {
      for env in local.environments :
      env => "project_path:${local.git_repo_path}:ref_type:branch:ref:${local.deploy_branches[env]}"
    }
  }
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
  protected         = true
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
