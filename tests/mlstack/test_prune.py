"""`_prune` has one implementation: the bundled template's hook module, which mlstack loads from itself."""

from __future__ import annotations

from pathlib import Path

from helpers import SOURCE_ROOT, copy_template
from mlstack.prune import _layout, prune_unchosen
from mlstack.template import bundled_template_dir


def test_mlstack_prunes_with_its_own_bundled_hook_module():
    assert Path(_layout().__file__) == bundled_template_dir() / "hooks" / "template_layout.py"
    names = ("choice_value", "unwanted_files", "unchosen_files")
    twins = [str(path.relative_to(SOURCE_ROOT)) for path in SOURCE_ROOT.rglob("*.py")
             if any(f"def {name}(" in path.read_text() for name in names)]
    assert twins == []


def test_the_rendered_template_s_hook_module_is_never_loaded(tmp_path):
    """A hostile template's template_layout.py does not run: the table is data, the code is ours."""
    hostile = copy_template(tmp_path / "tpl")
    marker = tmp_path / "ran"
    (hostile / "hooks" / "template_layout.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    project = tmp_path / "project"
    (project / "terraform").mkdir(parents=True)
    (project / "terraform" / "aws.tf").write_text("")
    (project / "keep.txt").write_text("")
    removed = prune_unchosen(project, {"_repo_dir": str(hostile), "cloud": "azure",
                                       "_prune": {"cloud": {"aws": ["terraform/aws.tf"]}}})
    assert removed == [project / "terraform" / "aws.tf"] and not (project / "terraform").exists()
    assert (project / "keep.txt").exists() and not marker.exists()
