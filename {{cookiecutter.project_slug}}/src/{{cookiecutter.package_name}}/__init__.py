"""The ML pipelines of this project, from data validation to monitoring (see README.md)."""

__version__ = "0.1.0"
