"""Spark DataFrame code: the session, data contract profiling, and feature computation."""
