"""Bakes several template test modules read: rendered once per session, not once per module.

The tests only read these projects (a test that changes one works on a copy).
"""

from __future__ import annotations

import pytest
from test_notebooks import make_projects
from test_terraform_template import make_bakes


@pytest.fixture(scope="session")
def bakes(tmp_path_factory):
    return make_bakes(tmp_path_factory)


@pytest.fixture(scope="session")
def projects(tmp_path_factory):
    return make_projects(tmp_path_factory)
