# Partial backend configuration for the prod state (terraform init -backend-config=...).
# GCS locks state natively.
bucket = "{{ cookiecutter.tfstate_gcs_bucket }}"
prefix = "{{ cookiecutter.project_slug }}/prod"
