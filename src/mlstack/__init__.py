"""mlstack: scaffold, upgrade and govern standardized machine-learning repositories."""

from __future__ import annotations


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return "0+unknown"
    try:
        return version("mlstack")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = _version()
