"""What `mlstack validate` (mlstack.commands.validate) checks, offline.

Every `.tf` file is parsed with python-hcl2; references, module calls, variable values and
secrets are checked without a provider download. When a `terraform` binary is on PATH it
also runs `terraform fmt -check` and, where the providers are available locally,
`terraform init -backend=false` + `terraform validate` through python-terraform.
"""
