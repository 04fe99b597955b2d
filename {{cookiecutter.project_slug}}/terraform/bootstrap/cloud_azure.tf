# Azure: one user-assigned managed identity per environment that CI assumes with its OIDC
# token (no client secret, no storage key) to read and write the Terraform state.

terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}

variable "azure_subscription_id" {
  description = "Subscription that holds the Terraform state storage account."
  type        = string
}

provider "azurerm" {
  features {}
  subscription_id     = var.azure_subscription_id
  storage_use_azuread = true
}

data "azurerm_client_config" "current" {}

data "azurerm_storage_account" "state" {
  name                = "{{ cookiecutter.tfstate_azure_storage_account }}"
  resource_group_name = "{{ cookiecutter.tfstate_azure_resource_group }}"
}

resource "azurerm_user_assigned_identity" "ci" {
  for_each = toset(local.environments)

  name                = "id-{{ cookiecutter.project_slug }}-${each.key}-ci"
  resource_group_name = data.azurerm_storage_account.state.resource_group_name
  location            = data.azurerm_storage_account.state.location
}

# Entra ID matches exact subjects only: one credential per trusted `sub` of ci/identities.json
# (identities trusted by another claim, such as GitLab merge request jobs, get none).
resource "azurerm_federated_identity_credential" "ci" {
  for_each = { for key, trust in local.ci_trust : key => trust if trust.claim == "sub" }

  name                = "ci-${each.key}"
  resource_group_name = azurerm_user_assigned_identity.ci[each.value.env].resource_group_name
  parent_id           = azurerm_user_assigned_identity.ci[each.value.env].id
  issuer              = local.ci_issuer
  subject             = each.value.value
  audience            = [local.ci_identity.cloud_audience]
}

# Data-plane role on the environments' container only (the bootstrap state has its own
# container). Both environments' states share that container; add an ABAC condition on the
# blob path if staging must not even read prod's state.
resource "azurerm_role_assignment" "ci_state" {
  for_each = toset(local.environments)

  scope                = "${data.azurerm_storage_account.state.id}/blobServices/default/containers/{{ cookiecutter.tfstate_azure_container }}"
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.ci[each.key].principal_id
  principal_type       = "ServicePrincipal"
}

locals {
  cloud_ci_variables = {
    for env in local.environments : env => {
      ARM_CLIENT_ID       = azurerm_user_assigned_identity.ci[env].client_id
      ARM_TENANT_ID       = data.azurerm_client_config.current.tenant_id
      ARM_SUBSCRIPTION_ID = var.azure_subscription_id
      ARM_USE_OIDC        = "true"
    }
  }
}
