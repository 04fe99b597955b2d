"""Unity Catalog is the only model registry (template 0.2.0): a workspace-registry project stops here.

Why stop rather than switch: moving to Unity Catalog moves where the models live (new
catalog.schema.model names, copied versions, new grants and aliases, the serving endpoint's
entity), which a file merge cannot do and a silent switch would break in prod.
"""

APPLIES_TO = "<0.2.0"

NO = {"false", "no", "n", "0", "off"}


def migrate_answers(answers):
    uses_unity_catalog = answers.pop("unity_catalog", True)
    if str(uses_unity_catalog).strip().lower() in NO:
        raise ValueError(
            "this repository uses the Databricks workspace model registry (unity_catalog: false in "
            ".mlstack/answers.yml); template 0.2.0 supports only Unity Catalog, because the workspace "
            "registry has no model aliases (promotion and rollback need them) and is off for new accounts. "
            "Move the models first: make sure the catalogs in catalog_dev/catalog_staging/catalog_prod exist, "
            "copy each environment's registered model into <catalog>.<schema>.<model> "
            "(mlflow.MlflowClient().copy_model_version) and set its champion alias; then change the line to "
            "`unity_catalog: true` in .mlstack/answers.yml, commit it and run mlstack update again"
        )
