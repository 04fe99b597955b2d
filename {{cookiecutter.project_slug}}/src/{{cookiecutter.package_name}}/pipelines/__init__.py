"""The pipeline steps, one module each, in the order they run.

Each step module has `<step>(context)` (the work) and `run = entry_point(<step>)` (common.py):
`run(env)` is what its Databricks notebook calls, `run.main()` the command line
(`python -m {{ cookiecutter.package_name }}.pipelines.<step> --env ENV`).
`python -m {{ cookiecutter.package_name }}.pipelines --env local` runs them all in one process.
"""

STEPS = ("validate_data", "build_features", "train", "validate_model", "deploy", "batch_inference", "monitor")
