"""Every step module has the one shared entry point: `run(env)` for notebooks, `run.main()` for the shell."""

import importlib

import pytest

from {{ cookiecutter.package_name }}.pipelines import STEPS
from {{ cookiecutter.package_name }}.pipelines.common import StepEntryPoint


@pytest.mark.parametrize("step", [*STEPS, "sample_data"])
def test_every_step_module_exposes_the_shared_entry_point_and_no_main_of_its_own(step):
    module = importlib.import_module(f"{{ cookiecutter.package_name }}.pipelines.{step}")
    assert isinstance(module.run, StepEntryPoint) and module.run.step is getattr(module, step)
    assert not hasattr(module, "main")
    assert module.run.description == module.__doc__.strip().splitlines()[0]


def test_the_command_line_of_a_step_refuses_an_unknown_setting_in_one_line(capsys):
    from {{ cookiecutter.package_name }}.pipelines import deploy

    assert (
        deploy.run.main(["--env", "local", "--set", "validation.champion_challenger.min_improvment=0.1"]) == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did you mean validation.champion_challenger.min_improvement?" in err[0]
