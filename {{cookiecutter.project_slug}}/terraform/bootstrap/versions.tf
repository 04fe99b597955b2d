# Bootstrap: run once by an administrator (see terraform/README.md). Its state lives next to
# the environments' states, under its own key, once the storage from ./state exists.

terraform {
  required_version = "~> 1.10"

  required_providers {
    databricks = {
      source  = "databricks/databricks"
      version = "~> 1.100"
    }
  }

  backend "{{ {'azure': 'azurerm', 'aws': 's3', 'gcp': 'gcs'}[cookiecutter.cloud] }}" {}
}
