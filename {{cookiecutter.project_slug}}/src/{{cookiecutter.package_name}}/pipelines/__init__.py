"""The pipeline steps, one module each, in the order they run.

Each step module has `<step>(context)` (the work), `run(env)` (what its Databricks notebook
calls) and `main()` (`python -m {{ cookiecutter.package_name }}.pipelines.<step> --env ENV`).
`python -m {{ cookiecutter.package_name }}.pipelines --env local` runs them all in one process.
"""

STEPS = ("validate_data", "build_features", "train", "validate_model", "deploy", "batch_inference", "monitor")
