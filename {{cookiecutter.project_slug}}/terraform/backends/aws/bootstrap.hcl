# Partial backend configuration for the bootstrap's own state (terraform init -backend-config=...).
# The environments' CI roles may only touch their own keys, not this one.
bucket       = "{{ cookiecutter.tfstate_s3_bucket }}"
key          = "{{ cookiecutter.project_slug }}/bootstrap.tfstate"
region       = "{{ cookiecutter.tfstate_s3_region }}"
encrypt      = true
use_lockfile = true
