# GCP: a workload identity pool that trusts the CI issuer, and one service account per
# environment that CI impersonates with its OIDC token (no key file) to read and write only
# its own state prefix.

terraform {
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
}

variable "gcp_project_id" {
  description = "Project that holds the Terraform state bucket and the CI workload identity pool."
  type        = string
}

provider "google" {
  project = var.gcp_project_id
}

locals {
  state_bucket = "{{ cookiecutter.tfstate_gcs_bucket }}"
  # GCP service account IDs are 6-30 characters.
  ci_account_ids = {
    staging = "{{ cookiecutter.project_slug[:20].rstrip('-') }}-stg-ci"
    prod    = "{{ cookiecutter.project_slug[:20].rstrip('-') }}-prd-ci"
  }
}

resource "google_iam_workload_identity_pool" "ci" {
  workload_identity_pool_id = "{{ cookiecutter.project_slug[:24].rstrip('-') }}-ci"
  display_name              = "{{ cookiecutter.project_slug[:28].rstrip('-') }} CI"
  description               = "CI deployments of {{ cookiecutter.project_slug }}."
}

resource "google_iam_workload_identity_pool_provider" "ci" {
  workload_identity_pool_id          = google_iam_workload_identity_pool.ci.workload_identity_pool_id
  workload_identity_pool_provider_id = "ci-oidc"
  display_name                       = "CI OIDC"

  # `sub`, plus every other claim an identity of ci/identities.json is trusted by.
  attribute_mapping = merge(
    { "google.subject" = "assertion.sub" },
    { for claim in distinct([for trust in values(local.ci_trust) : trust.claim if trust.claim != "sub"]) : "attribute.${claim}" => "assertion.${claim}" },
  )
  # Only the identities of ci/identities.json may exchange tokens.
  attribute_condition = join(" || ", [for trust in values(local.ci_trust) : "assertion.${trust.claim} == '${trust.value}'"])

  oidc {
    issuer_uri = local.ci_issuer
    # Empty means the provider's own resource name (what GitHub's and GitLab's jobs request).
    allowed_audiences = local.ci_identity.cloud_audience == null ? [] : [local.ci_identity.cloud_audience]
  }
}

resource "google_service_account" "ci" {
  for_each = toset(local.environments)

  account_id   = local.ci_account_ids[each.key]
  display_name = "{{ cookiecutter.project_slug }} CI (${each.key})"
  description  = "Terraform state access for CI deployments to ${each.key}."
}

# Each trusted identity may impersonate its own environment's account only.
resource "google_service_account_iam_member" "ci_workload_identity" {
  for_each = local.ci_trust

  service_account_id = google_service_account.ci[each.value.env].name
  role               = "roles/iam.workloadIdentityUser"
  member = (
    each.value.claim == "sub"
    ? "principal://iam.googleapis.com/${google_iam_workload_identity_pool.ci.name}/subject/${each.value.value}"
    : "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.ci.name}/attribute.${each.value.claim}/${each.value.value}"
  )
}

# Objects under the environment's own prefix only; listing object names is bucket-wide.
resource "google_storage_bucket_iam_member" "ci_state" {
  for_each = toset(local.environments)

  bucket = local.state_bucket
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.ci[each.key].email}"

  condition {
    title      = "own-state-prefix"
    expression = "resource.name.startsWith(\"projects/_/buckets/${local.state_bucket}/objects/{{ cookiecutter.project_slug }}/${each.key}/\")"
  }
}

resource "google_storage_bucket_iam_member" "ci_list" {
  for_each = toset(local.environments)

  bucket = local.state_bucket
  role   = "roles/storage.legacyBucketReader"
  member = "serviceAccount:${google_service_account.ci[each.key].email}"
}

locals {
  cloud_ci_variables = {
    for env in local.environments : env => {
      GCP_WORKLOAD_IDENTITY_PROVIDER = google_iam_workload_identity_pool_provider.ci.name
      GCP_SERVICE_ACCOUNT            = google_service_account.ci[env].email
    }
  }
}
