"""Side effects at the edge: tables, the feature store, MLflow tracking and registry, reports."""
