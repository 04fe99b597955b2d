# Inputs only an administrator knows. None is secret: pass them with TF_VAR_<name> or -var.

variable "databricks_account_id" {
  description = "Databricks account ID (account console, top right). Service principals and their federation policies are account-level objects."
  type        = string
}

variable "workspace_ids" {
  description = "Numeric workspace IDs by environment. Derived from the workspace URL when it contains the ID (adb-<id>... on Azure, <id>.<n>.gcp... on GCP); set them otherwise."
  type        = map(string)
  default     = {}
}

variable "use_client_secret" {
  description = "Fallback when the CI platform cannot use workload identity federation: create an OAuth secret per service principal and store it as DATABRICKS_CLIENT_SECRET. The secret then lives in this bootstrap's state."
  type        = bool
  default     = false
}

variable "client_secret_lifetime" {
  description = "Lifetime of the fallback OAuth secrets; re-apply before it ends to rotate them."
  type        = string
  default     = "7776000s"
}
