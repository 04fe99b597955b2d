"""mlstack: scaffold, upgrade and govern standardized machine-learning repositories."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def package_version() -> str:
    """The installed version (looked up on demand: reading package metadata costs ~40 ms)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlstack")
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return package_version()
    raise AttributeError(f"module 'mlstack' has no attribute {name!r}")
