"""The line-keeping HCL lexer behind `mlstack validate`: what counts as a reference, and where."""

from __future__ import annotations

from mlstack.terraform.source import scan, tokenize

SAMPLE = '''# var.in_a_comment is not a reference
locals {
  name   = "${var.project}-${local.suffix}" // local.in_a_comment neither
  plain  = "var.not_a_reference"
  ids    = { for env, url in var.urls : env => url.id }
  doc    = <<-EOT
    Runs ${var.from_heredoc}; $${var.escaped} is text.
  EOT
}

resource "databricks_job" "this" {
  name     = local.name
  password = "hunter2"
  token    = var.token

  dynamic "tags" {
    for_each = local.tags
    content {
      key = tags.key
    }
  }
  depends_on = [module.core.done, aws_s3_bucket.state]
  /* data.hidden.block
     spans lines */
  count = length(data.databricks_spark_version.latest.id)
}
'''


def references(text: str) -> dict[str, int]:
    return {".".join(r.parts): r.line for r in scan(text).references}


def test_references_in_code_and_templates_are_found_with_their_lines():
    found = references(SAMPLE)
    assert found["var.project"] == 3 and found["local.suffix"] == 3
    assert found["var.urls"] == 5
    assert found["var.from_heredoc"] == 7
    assert found["local.name"] == 12 and found["var.token"] == 14
    assert found["module.core.done"] == 22 and found["aws_s3_bucket.state"] == 22
    assert found["data.databricks_spark_version.latest.id"] == 25


def test_comments_plain_strings_and_escaped_templates_hold_no_references():
    found = references(SAMPLE)
    assert not {"var.in_a_comment", "local.in_a_comment", "var.not_a_reference", "var.escaped",
                "data.hidden.block"} & set(found)


def test_for_expression_variables_and_dynamic_iterators_are_scoped_names():
    facts = scan(SAMPLE)
    assert {"env", "url", "tags"} <= facts.scoped_names


def test_blocks_locals_and_literal_assignments_carry_lines():
    facts = scan(SAMPLE)
    assert [(b.type, b.labels, b.line) for b in facts.blocks] == [
        ("locals", (), 2), ("resource", ("databricks_job", "this"), 11)]
    assert dict(facts.locals) == {"name": 3, "plain": 4, "ids": 5, "doc": 6}
    assert ("password", "hunter2", 13) in facts.literal_assignments
    assert not [a for a in facts.literal_assignments if a[0] in ("token", "name")]
    assert facts.block_attributes[("resource", ("databricks_job", "this"))]["depends_on"] == 22


def test_indexes_and_splats_are_skipped_inside_a_traversal():
    found = references('x = aws_iam_role.ci[each.key].arn\ny = var.list[*].id\nz = module.m["a"].out\n')
    assert found["aws_iam_role.ci.[].arn"] == 1
    assert found["var.list.[].id"] == 2
    assert found["module.m.[].out"] == 3
    assert found["each.key"] == 1


def test_unterminated_string_does_not_swallow_the_file():
    tokens = tokenize('a = "open\nb = var.next\n')
    assert [t.value for t in tokens if t.kind == "ident"][-2:] == ["var", "next"]


def test_references_remember_their_top_level_block():
    facts = scan('moved {\n  from = databricks_job.old\n  to   = databricks_job.new\n}\n'
                 'output "id" {\n  value = databricks_job.new.id\n}\n')
    assert [(r.parts[:2], r.block, r.attribute) for r in facts.references] == [
        (("databricks_job", "old"), "moved", "from"), (("databricks_job", "new"), "moved", "to"),
        (("databricks_job", "new"), "output", "value")]
