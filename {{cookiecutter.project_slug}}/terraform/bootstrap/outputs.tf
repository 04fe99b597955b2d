output "service_principal_application_ids" {
  description = "Application IDs of the environments' service principals (DATABRICKS_CLIENT_ID in CI)."
  value       = { for env, sp in databricks_service_principal.env : env => sp.application_id }
}

output "ci_variable_names" {
  description = "The variables written to each CI environment (values are in the CI platform)."
  value       = { for env, variables in local.ci_variables : env => sort(keys(variables)) }
}
