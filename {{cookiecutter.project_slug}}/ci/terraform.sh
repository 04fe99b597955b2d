#!/usr/bin/env bash
# Terraform for one environment, run the same way by every pipeline: init against the
# environment's remote state (partial backend config), then one action.
#
# Usage: ci/terraform.sh <staging|prod> <action>...   (actions run in order after one init)
#   check    fmt -check over terraform/ and validate the root
#   plan     plan into terraform/<env>/tfplan, with plan.txt (readable) and plan.json beside it
#   apply    plan, then apply exactly that plan
#   outputs  root outputs as JSON in terraform/<env>/outputs.json (job ids for the pipelines)
# Credentials come from the environment (OIDC federation set up by the calling pipeline).
set -euo pipefail

usage="usage: ci/terraform.sh <staging|prod> <check|plan|apply|outputs>..."
env_name="${1:?$usage}"
shift
if [ "$#" -eq 0 ]; then
  echo "error: no action given; $usage" >&2
  exit 2
fi
for action in "$@"; do
  case "$action" in
    check|plan|apply|outputs) ;;
    *) echo "error: unknown action '$action'; $usage" >&2; exit 2 ;;
  esac
done
case "$env_name" in
  staging|prod) ;;
  *) echo "error: environment must be staging or prod, got '$env_name'" >&2; exit 2 ;;
esac

root="terraform/${env_name}"
backend_config="../backends/{{ cookiecutter.cloud }}/${env_name}.hcl"
export TF_IN_AUTOMATION=1 TF_INPUT=0

tf() { terraform -chdir="$root" "$@"; }
{%- if cookiecutter.serving %}

# The serving endpoint serves the environment's champion: plans need its version. No champion
# yet (first deploy) means no endpoint. A failed lookup stops here rather than plan without the
# version, which would delete a running endpoint.
for action in "$@"; do
  case "$action" in
    plan|apply)
      champion_version="$("${PYTHON:-python}" ci/champion_version.py --env "$env_name")"
      if [ -n "$champion_version" ]; then
        export TF_VAR_serving_model_version="$champion_version"
        echo "serving: the endpoint serves champion version $champion_version"
      else
        unset TF_VAR_serving_model_version
        echo "serving: no champion in $env_name yet; the endpoint is created once training promotes one"
      fi
      break
      ;;
  esac
done
{%- endif %}

tf init -input=false -no-color -backend-config="$backend_config"

plan_to_file() {
  tf plan -input=false -no-color -lock-timeout=10m -out=tfplan
}

for action in "$@"; do
  case "$action" in
    check)
      terraform fmt -check -recursive -diff terraform
      tf validate -no-color
      ;;
    plan)
      plan_to_file
      tf show -no-color tfplan > "$root/plan.txt"
      tf show -json tfplan > "$root/plan.json"
      ;;
    apply)
      plan_to_file
      tf apply -input=false -no-color -lock-timeout=10m tfplan
      ;;
    outputs)
      tf output -json > "$root/outputs.json"
      ;;
  esac
done
