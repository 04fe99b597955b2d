"""Pure ML logic (pandas, numpy, scikit-learn): no Spark, no MLflow, no files. Test it directly."""
