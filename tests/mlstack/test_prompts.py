"""How a typed choice is understood: by number, by name in any case, or by an unambiguous prefix."""

from __future__ import annotations

import pytest

from mlstack.prompts import match_choice

CI = ["github_actions", "azure_devops", "gitlab"]


@pytest.mark.parametrize("typed, chosen", [
    ("1", "github_actions"), ("3", "gitlab"), ("GitLab", "gitlab"), ("AZURE_DEVOPS", "azure_devops"),
    ("az", "azure_devops"), (" github_actions ", "github_actions"), ("github", "github_actions"),
])
def test_a_choice_is_taken_by_number_name_or_prefix(typed, chosen):
    assert match_choice(typed, CI) == (chosen, "")


def test_an_ambiguous_prefix_names_the_candidates():
    assert match_choice("git", CI) == (None, "'git' could be github_actions, gitlab; type more of it")


def test_a_number_out_of_range_and_a_near_miss_are_explained():
    assert match_choice("4", CI) == (None, "choose a number from 1 to 3")
    assert match_choice("gitlba", CI)[1] == ("'gitlba' is not one of github_actions, azure_devops, gitlab "
                                             "(did you mean 'gitlab'?)")
    assert match_choice("svn", CI)[1] == "'svn' is not one of github_actions, azure_devops, gitlab"


def test_the_suggestion_keeps_the_choice_s_own_spelling():
    assert match_choice("medum", ["Small", "Medium", "Large"])[1].endswith("(did you mean 'Medium'?)")
