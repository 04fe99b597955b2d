# Step 1 of the bootstrap: the storage that holds every Terraform state of this project.
# Azure AD authentication only (shared keys disabled), versioned, soft-deleted, TLS 1.2.
# This root keeps its own small state locally: it names the storage and nothing secret.

terraform {
  required_version = "~> 1.10"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}

variable "azure_subscription_id" {
  description = "Subscription that will hold the Terraform state storage account."
  type        = string
}

variable "location" {
  description = "Azure region of the state storage account, for example westeurope."
  type        = string
}

provider "azurerm" {
  features {}
  subscription_id     = var.azure_subscription_id
  storage_use_azuread = true
}

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "state" {
  name     = "{{ cookiecutter.tfstate_azure_resource_group }}"
  location = var.location
}

resource "azurerm_storage_account" "state" {
  name                              = "{{ cookiecutter.tfstate_azure_storage_account }}"
  resource_group_name               = azurerm_resource_group.state.name
  location                          = azurerm_resource_group.state.location
  account_tier                      = "Standard"
  account_replication_type          = "GRS"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  allow_nested_items_to_be_public   = false
  infrastructure_encryption_enabled = true

  blob_properties {
    versioning_enabled = true

    delete_retention_policy {
      days = 30
    }

    container_delete_retention_policy {
      days = 30
    }
  }
}

resource "azurerm_storage_container" "environments" {
  name                  = "{{ cookiecutter.tfstate_azure_container }}"
  storage_account_id    = azurerm_storage_account.state.id
  container_access_type = "private"
}

resource "azurerm_storage_container" "bootstrap" {
  name                  = "{{ cookiecutter.tfstate_azure_container[:53] }}-bootstrap"
  storage_account_id    = azurerm_storage_account.state.id
  container_access_type = "private"
}

# The administrator running the bootstrap needs data-plane access to write its state.
resource "azurerm_role_assignment" "administrator" {
  scope                = azurerm_storage_account.state.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = data.azurerm_client_config.current.object_id
}
