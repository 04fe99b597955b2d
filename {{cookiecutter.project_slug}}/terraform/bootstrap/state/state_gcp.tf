# Step 1 of the bootstrap: the bucket that holds every Terraform state of this project.
# Versioned, uniform bucket-level access (needed for the per-environment IAM conditions),
# never public. GCS locks state natively. This root keeps its own small state locally: it
# names the bucket and nothing secret.

terraform {
  required_version = "~> 1.10"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
}

variable "gcp_project_id" {
  description = "Project that will hold the Terraform state bucket."
  type        = string
}

variable "location" {
  description = "Location of the state bucket, for example EU or europe-west4."
  type        = string
}

provider "google" {
  project = var.gcp_project_id
}

resource "google_storage_bucket" "state" {
  name                        = "{{ cookiecutter.tfstate_gcs_bucket }}"
  location                    = var.location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 20
    }

    action {
      type = "Delete"
    }
  }
}
