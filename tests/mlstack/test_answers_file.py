"""`.mlstack/answers.yml` has one reader and one writer: mlstack.answers_file, whose text is the template hook's."""

from __future__ import annotations

import re

import pytest

from helpers import SOURCE_ROOT
from mlstack.answers_file import RECORD_PATH, ProjectRecord, load_answers_document, parse_record
from mlstack.errors import RepoStateError
from mlstack.template import bundled_hook


def test_no_other_module_names_the_answers_file_path_or_writes_yaml():
    offenders = []
    for path in SOURCE_ROOT.rglob("*.py"):
        if path.name == "answers_file.py":
            continue
        code = "\n".join(line for line in path.read_text().splitlines()
                         if not line.lstrip().startswith(("#", '"', "'")))
        if re.search(r"""["']\.mlstack/answers\.yml["']""", code) or "safe_dump" in code:
            offenders.append(str(path.relative_to(SOURCE_ROOT)))
    assert offenders == []


def test_mlstack_writes_the_bytes_the_template_hook_writes():
    record = ProjectRecord(source="bundled", version="1.2.0", answers={"cloud": "aws", "flag": True},
                           user_set=["cloud"], pristine_commit="a" * 40, mlstack_version="1.2.0", managed=["**"])
    hook = bundled_hook("template_setup")
    document = load_answers_document(record.to_text())
    assert record.to_text() == hook.answers_text(document)
    assert record.to_text().startswith(hook.HEADER)
    assert parse_record(record.to_text(), RECORD_PATH).answers == {"cloud": "aws", "flag": True}


@pytest.mark.parametrize("text", ["answers: {a: 1}\n", "template: {}\n", "- a list\n"])
def test_a_file_without_template_or_answers_is_refused(text):
    with pytest.raises(RepoStateError, match="not an mlstack answers file"):
        parse_record(text, RECORD_PATH)
