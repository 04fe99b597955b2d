# Partial backend configuration for the bootstrap's own state (terraform init -backend-config=...).
# A container of its own: the environments' CI identities cannot read it.
resource_group_name  = "{{ cookiecutter.tfstate_azure_resource_group }}"
storage_account_name = "{{ cookiecutter.tfstate_azure_storage_account }}"
container_name       = "{{ cookiecutter.tfstate_azure_container[:53] }}-bootstrap"
key                  = "{{ cookiecutter.project_slug }}/bootstrap.tfstate"
use_azuread_auth     = true
