# The two environments' identities: one Databricks service principal per environment, even
# when both environments share a workspace, each assigned only to its own workspace with the
# entitlements its jobs need, and each trusting only its own CI environment's OIDC tokens.

locals {
  environments = ["staging", "prod"]

  service_principal_names = {
    staging = "{{ cookiecutter.staging_sp_name }}"
    prod    = "{{ cookiecutter.prod_sp_name }}"
  }

  workspace_urls = {
    staging = "{{ cookiecutter.staging_workspace_url }}"
    prod    = "{{ cookiecutter.prod_workspace_url }}"
  }

  # The branch each environment deploys from (CI environments only accept these).
  deploy_branches = {
    staging = "{{ cookiecutter.main_branch }}"
    prod    = "{{ cookiecutter.release_branch }}"
  }

  # Azure adb-<id>.<n>.azuredatabricks.net and GCP <id>.<n>.gcp.databricks.com carry the ID.
  workspace_ids = {
    for env, url in local.workspace_urls : env => lookup(
      var.workspace_ids, env, try(regex("^https://(?:adb-)?([0-9]+)\\.[0-9]+\\.", url)[0], null)
    )
  }

  git_repo_url = "{{ cookiecutter.git_repo_url }}"
  # owner/repository (GitHub, GitLab) or organization/project/_git/repository (Azure DevOps).
  git_repo_path = regex("^https://[^/]+/(.+?)(?:\\.git)?/?$", local.git_repo_url)[0]
}

provider "databricks" {
  alias      = "account"
  host       = "{{ {'azure': 'https://accounts.azuredatabricks.net', 'aws': 'https://accounts.cloud.databricks.com', 'gcp': 'https://accounts.gcp.databricks.com'}[cookiecutter.cloud] }}"
  account_id = var.databricks_account_id
}

provider "databricks" {
  alias = "staging"
  host  = local.workspace_urls["staging"]
}

provider "databricks" {
  alias = "prod"
  host  = local.workspace_urls["prod"]
}

resource "databricks_service_principal" "env" {
  for_each = toset(local.environments)
  provider = databricks.account

  display_name = local.service_principal_names[each.key]
}

resource "databricks_mws_permission_assignment" "env" {
  for_each = toset(local.environments)
  provider = databricks.account

  workspace_id = local.workspace_ids[each.key]
  principal_id = databricks_service_principal.env[each.key].id
  permissions  = ["USER"]

  lifecycle {
    precondition {
      condition     = local.workspace_ids[each.key] != null
      error_message = "Cannot read the ${each.key} workspace ID from its URL: set workspace_ids = { ${each.key} = \"<numeric id>\" }."
    }
  }
}

# CI exchanges a job's OIDC token for a Databricks token of its environment's principal; no
# Databricks secret exists anywhere. One policy per trusted identity in ci/identities.json, the
# file the CI files and `make lint-ci` read too, so both sides of the handshake have one source.
locals {
  ci_identity = jsondecode(file("${path.module}/../../ci/identities.json"))

  # Every trusted identity, keyed "<env>-<n>": the claim to match, its exact value, and the
  # subject pattern for clouds that can only match `sub` (null where none can be written).
  ci_trust = {
    for entry in flatten([
      for env in local.environments : [
        for index, trust in local.ci_identity.environments[env].trust : {
          key      = "${env}-${index}"
          env      = env
          claim    = trust.claim
          value    = trust.value
          sub_like = try(trust.sub_like, trust.claim == "sub" ? trust.value : null)
        }
      ]
    ]) : entry.key => entry
  }

  # CI compares this with ci/identities.json: a changed file means the trusts above are stale.
  ci_identity_digest = sha256(replace(file("${path.module}/../../ci/identities.json"), "\r\n", "\n"))
}

resource "databricks_service_principal_federation_policy" "ci" {
  for_each = local.ci_trust
  provider = databricks.account

  service_principal_id = tonumber(databricks_service_principal.env[each.value.env].id)
  policy_id            = "ci-${each.key}"
  description          = "CI of {{ cookiecutter.project_slug }} (${each.value.env}): ${each.value.claim} = ${each.value.value}"

  oidc_policy = {
    issuer        = local.ci_issuer
    audiences     = [local.ci_identity.databricks_audience]
    subject_claim = each.value.claim
    subject       = each.value.value
  }
}

resource "databricks_service_principal_secret" "ci" {
  for_each = var.use_client_secret ? toset(local.environments) : toset([])
  provider = databricks.account

  service_principal_id = databricks_service_principal.env[each.key].id
  lifetime             = var.client_secret_lifetime
}

# Only what the jobs need: workspace access and, for classic job clusters, cluster creation.
# No SQL, no instance pools, no admin rights.
resource "databricks_entitlements" "staging" {
  provider = databricks.staging

  service_principal_id       = databricks_service_principal.env["staging"].id
  workspace_access           = true
  databricks_sql_access      = false
  allow_cluster_create       = {{ 'false' if cookiecutter.serverless else 'true' }}
  allow_instance_pool_create = false

  depends_on = [databricks_mws_permission_assignment.env]
}

resource "databricks_entitlements" "prod" {
  provider = databricks.prod

  service_principal_id       = databricks_service_principal.env["prod"].id
  workspace_access           = true
  databricks_sql_access      = false
  allow_cluster_create       = {{ 'false' if cookiecutter.serverless else 'true' }}
  allow_instance_pool_create = false

  depends_on = [databricks_mws_permission_assignment.env]
}

locals {
  # Exactly the names the CI pipelines read, per CI environment. Identifiers only: with
  # workload identity federation there is no secret to store.
  ci_variables = {
    for env in local.environments : env => merge(
      {
        DATABRICKS_HOST      = local.workspace_urls[env]
        DATABRICKS_CLIENT_ID = databricks_service_principal.env[env].application_id
      },
      local.cloud_ci_variables[env],
    )
  }

  ci_variable_entries = {
    for entry in flatten([
      for env, variables in local.ci_variables : [
        for name, value in variables : { env = env, name = name, value = value }
      ]
    ]) : "${entry.env}/${entry.name}" => entry
  }
}
