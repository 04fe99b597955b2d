#!/usr/bin/env bash
# make bootstrap: what an administrator runs once, before the first deploy (README, "First
# deployment"; docs/terraform.md, "Bootstrap runbook", says what each step creates and why).
#   1. terraform/bootstrap/state: the storage of the Terraform state (its own state stays local)
#   2. terraform/bootstrap: the service principals, their trust in CI's OIDC tokens, the CI
#      environments and variables, and each environment's schema, model, volume and experiment
# Terraform shows each plan and asks before applying it. Inputs come from TF_VAR_* variables
# (nothing secret); logins are your own, for this shell only (docs/terraform.md, step 1).
set -euo pipefail

cd "$(dirname "$0")/.."

missing=""
require() {
  # require NAME WHAT: the input NAME (an environment variable) must be set.
  if [ -z "${!1:-}" ]; then
    missing="${missing}error: make bootstrap needs $1 ($2)"$'\n'
  fi
}

require TF_VAR_databricks_account_id "Databricks account ID: account console, top right"
{%- if cookiecutter.cloud == 'azure' %}
require TF_VAR_azure_subscription_id "Azure subscription that holds the Terraform state"
require TF_VAR_location "Azure region of the state storage, e.g. westeurope"
{%- elif cookiecutter.cloud == 'gcp' %}
require TF_VAR_gcp_project_id "GCP project that holds the Terraform state"
require TF_VAR_location "GCS location of the state bucket, e.g. EU"
{%- endif %}
{%- if cookiecutter.ci_platform == 'github_actions' %}
require GITHUB_TOKEN "repository administrator: export GITHUB_TOKEN=\"\$(gh auth token)\""
{%- elif cookiecutter.ci_platform == 'azure_devops' %}
require TF_VAR_azure_devops_organization_id "organization GUID of {{ cookiecutter.repo_owner }}"
# The Azure DevOps provider signs in with AZDO_PERSONAL_ACCESS_TOKEN or your `az login`.
{%- else %}
require GITLAB_TOKEN "short-lived token of a maintainer of {{ cookiecutter.repo_owner }}/{{ cookiecutter.project_slug }}"
{%- endif %}
if ! command -v terraform >/dev/null 2>&1; then
  missing="${missing}error: make bootstrap needs terraform on PATH (1.10 or newer: python3 ci/install_terraform.py --dir ~/.local/bin)"$'\n'
fi
if [ -n "$missing" ]; then
  printf '%s' "$missing" >&2
  echo "error: nothing was changed; see docs/terraform.md (Bootstrap runbook)" >&2
  exit 2
fi

echo "== 1/2 terraform/bootstrap/state: where the Terraform state lives"
terraform -chdir=terraform/bootstrap/state init -input=false
terraform -chdir=terraform/bootstrap/state apply -input=false

echo "== 2/2 terraform/bootstrap: principals, CI trust and variables, each environment's data homes"
terraform -chdir=terraform/bootstrap init -input=false -backend-config=../backends/{{ cookiecutter.cloud }}/bootstrap.hcl
terraform -chdir=terraform/bootstrap apply -input=false

echo "bootstrapped. Next (README, First deployment): point tables: at real data or make seed-staging,"
echo "then make doctor ENV=staging, then the first staging deploy."
