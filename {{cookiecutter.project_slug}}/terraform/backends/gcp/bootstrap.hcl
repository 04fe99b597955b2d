# Partial backend configuration for the bootstrap's own state (terraform init -backend-config=...).
# The environments' CI service accounts may only touch their own prefixes, not this one.
bucket = "{{ cookiecutter.tfstate_gcs_bucket }}"
prefix = "{{ cookiecutter.project_slug }}/bootstrap"
