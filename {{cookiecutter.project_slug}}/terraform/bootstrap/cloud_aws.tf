# AWS: one IAM role per environment that CI assumes with its OIDC token
# (sts:AssumeRoleWithWebIdentity, no access keys) to read and write only its own state object
# and lock file.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}

variable "aws_create_oidc_provider" {
  description = "Create the IAM OIDC identity provider for the CI issuer. An account holds one per issuer URL: set false when it exists already (its client IDs must include the audience used here)."
  type        = bool
  default     = true
}

provider "aws" {
  region = "{{ cookiecutter.tfstate_s3_region }}"
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  state_bucket_arn  = "arn:${data.aws_partition.current.partition}:s3:::{{ cookiecutter.tfstate_s3_bucket }}"
  state_key_prefix  = "{{ cookiecutter.project_slug }}"
  ci_oidc_host      = trimprefix(local.ci_issuer, "https://")
  aws_oidc_audience = local.ci_identity.cloud_audience
  ci_oidc_provider_arn = (
    var.aws_create_oidc_provider
    ? aws_iam_openid_connect_provider.ci[0].arn
    : "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/${local.ci_oidc_host}"
  )
}

resource "aws_iam_openid_connect_provider" "ci" {
  count = var.aws_create_oidc_provider ? 1 : 0

  url            = local.ci_issuer
  client_id_list = [local.aws_oidc_audience]
}

data "aws_iam_policy_document" "ci_trust" {
  for_each = toset(local.environments)

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.ci_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.ci_oidc_host}:aud"
      values   = [local.aws_oidc_audience]
    }

    # IAM matches only `sub`: each trusted identity of ci/identities.json as a subject pattern.
    condition {
      test     = "StringLike"
      variable = "${local.ci_oidc_host}:sub"
      values   = [for trust in values(local.ci_trust) : trust.sub_like if trust.env == each.key && trust.sub_like != null]
    }
  }
}

resource "aws_iam_role" "ci" {
  for_each = toset(local.environments)

  name                 = "{{ cookiecutter.project_slug[:40].rstrip('-') }}-${each.key}-ci"
  description          = "CI deployments of {{ cookiecutter.project_slug }} to ${each.key}: Terraform state only."
  assume_role_policy   = data.aws_iam_policy_document.ci_trust[each.key].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "ci_state" {
  for_each = toset(local.environments)

  statement {
    sid       = "ListStateBucket"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "OwnStateAndLock"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state_bucket_arn}/${local.state_key_prefix}/${each.key}.tfstate*"]
  }
}

resource "aws_iam_role_policy" "ci_state" {
  for_each = toset(local.environments)

  name   = "terraform-state"
  role   = aws_iam_role.ci[each.key].id
  policy = data.aws_iam_policy_document.ci_state[each.key].json
}

locals {
  cloud_ci_variables = {
    for env in local.environments : env => {
      AWS_ROLE_ARN = aws_iam_role.ci[env].arn
    }
  }
}
