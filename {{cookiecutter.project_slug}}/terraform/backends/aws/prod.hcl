# Partial backend configuration for the prod state (terraform init -backend-config=...).
# S3-native state locking (use_lockfile): no DynamoDB table needed.
bucket       = "{{ cookiecutter.tfstate_s3_bucket }}"
key          = "{{ cookiecutter.project_slug }}/prod.tfstate"
region       = "{{ cookiecutter.tfstate_s3_region }}"
encrypt      = true
use_lockfile = true
