# Partial backend configuration for the staging state (terraform init -backend-config=...).
# Azure AD auth (OIDC in CI): no storage access keys anywhere.
resource_group_name  = "{{ cookiecutter.tfstate_azure_resource_group }}"
storage_account_name = "{{ cookiecutter.tfstate_azure_storage_account }}"
container_name       = "{{ cookiecutter.tfstate_azure_container }}"
key                  = "{{ cookiecutter.project_slug }}/staging.tfstate"
use_azuread_auth     = true
