"""The runtime locks in constraints/ pin every dependency, within the ranges pyproject.toml declares."""

from __future__ import annotations

import re
{%- if cookiecutter.python_version == "3.10" %}
import sys
{%- else %}
import tomllib
{%- endif %}
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

{%- if cookiecutter.python_version == "3.10" %}

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib
{%- endif %}

ROOT = Path(__file__).resolve().parents[1]
LOCKS = sorted((ROOT / "constraints").glob("dbr-*-ml.txt"))
# What the `dev` extra adds for laptops and CI, where there is no Databricks runtime.
LOCAL_ONLY = {"pytest", "ruff", "check-jsonschema", "tomli"}


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(line) for line in project["dependencies"]]
    requirements += [Requirement(line) for line in project["optional-dependencies"]["dev"]]
    return [r for r in requirements if canonicalize_name(r.name) not in LOCAL_ONLY]


def pins(lock: Path) -> dict[str, str]:
    found = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()
            found[canonicalize_name(name)] = version
    return found


def test_there_is_a_lock_per_supported_runtime():
    assert [lock.name for lock in LOCKS] == ["dbr-15.4-ml.txt", "dbr-16.4-ml.txt", "dbr-17.3-ml.txt",
                                             "dbr-18-ml.txt"]


@pytest.mark.parametrize("lock", LOCKS, ids=[lock.stem for lock in LOCKS])
def test_every_dependency_is_pinned_within_its_declared_range(lock):
    pinned = pins(lock)
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{lock.name}: pin {requirement.name} (pyproject.toml depends on it)"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock.name}: {requirement.name}=={pinned[name]} is outside pyproject.toml's {requirement}")


def test_make_install_and_every_job_notebook_use_the_same_lock():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lock = re.search(r"^CONSTRAINTS \?= (\S+)$", makefile, re.M).group(1)
    assert (ROOT / lock).is_file(), f"Makefile: {lock} does not exist"
    for notebook in sorted((ROOT / "notebooks").glob("*.py")):
        text = notebook.read_text(encoding="utf-8")
        if not text.startswith("# Databricks notebook source"):
            continue
        install = re.search(r"^# MAGIC %pip install (.+)$", text, re.M)
        assert install, f"{notebook.name}: no %pip install cell"
        assert install.group(1).endswith(" .."), f"{notebook.name}: must install the checkout"
        if "--constraint" in install.group(1):
            assert f"--constraint ../{lock} " in install.group(1) + " ", f"{notebook.name}: not {lock}"
