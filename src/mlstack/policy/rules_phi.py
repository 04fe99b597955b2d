"""SEC: no protected health information in committed data files or notebooks' saved outputs, at any size.

The detection is mlstack.policy.phi (bytes in, locations out); these rules only choose the
files and word the findings, which name the file, the column or cell and the kind of
identifier, never the value.
"""

from __future__ import annotations

import os

from mlstack.policy.model import ERROR, WARNING, Finding, Rule, register


def _limits(params):
    from mlstack.policy.phi import Limits

    return Limits(head_bytes=max(params.phi_sample_bytes, 4096), rows=max(params.phi_sample_rows, 1))


def _extra_columns(params) -> dict[str, str]:
    extra = {}
    for entry in params.phi_columns:
        name, _, kind = entry.partition(":")
        extra[name.strip()] = kind.strip() or "identifier named by the policy"
    return extra


def _scan(rule, repo, params, path):
    """Findings for one file: its PHI hits, or why it could not be judged."""
    from mlstack.policy import phi

    real = repo.inside(path)
    if real is None:
        yield Finding(rule.id, WARNING, f"not scanned for PHI: {repo.unreadable[path]}", path)
        return
    try:
        with open(real, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            hits = phi.scan(path, handle, size, _limits(params), _extra_columns(params))
    except phi.Unreadable as error:
        yield Finding(rule.id, WARNING, f"not scanned for PHI: {error}", path,
                      fix="fix or remove the file; mlstack cannot tell whether it holds PHI")
        return
    except OSError as error:
        yield Finding(rule.id, WARNING, f"not scanned for PHI: it cannot be read ({error.strerror or error})", path)
        return
    except Exception as error:  # noqa: BLE001 - one hostile file must not stop the scan of the others
        yield Finding(rule.id, WARNING, f"not scanned for PHI: mlstack could not read it ({type(error).__name__})",
                      path, fix="check this file by hand, or remove it from the repository")
        return
    for hit in hits:
        yield Finding(rule.id, ERROR, f"{hit.where}: {hit.kind}", path, hit.line)


def _head(repo, path: str) -> bytes:
    real = repo.inside(path)
    try:
        with open(real, "rb") as handle:
            return handle.read(200)
    except (OSError, TypeError):
        return b""


@register
class SEC303(Rule):
    """No identifying columns or values (PHI) in committed data files (csv, tsv, json lines, parquet, xlsx).

    Identifying columns: MRN, SSN, date of birth, names, addresses, postal codes, phone, e-mail,
    member id (the full list is docs/phi.md; params.phi_columns adds names), whatever the file's
    size. Values: SSN, phone and e-mail patterns, and dates next to an identifier. Files are
    sampled (params.phi_sample_bytes, params.phi_sample_rows; a Parquet file by its footer).
    """

    family = "SEC"
    severity = ERROR
    fix = ("delete the file from git and its history (it may hold real patient data), or replace it with "
           "synthetic data whose columns are not identifiers")

    def check(self, repo, params):
        from mlstack.policy.phi import is_data_file

        for path in repo.files:
            if is_data_file(path):
                yield from _scan(self, repo, params, path)


@register
class SEC304(Rule):
    """No PHI in notebooks' saved outputs (Jupyter outputs, Databricks source notebooks' result and markdown cells).

    Outputs are read for tables whose header names identifiers and for identifying values, as
    SEC303 reads data files; the code itself is not judged. A notebook that cannot be parsed is
    its own finding.
    """

    family = "SEC"
    severity = ERROR
    fix = "clear the outputs (`jupyter nbconvert --clear-output --inplace NOTEBOOK`) and commit notebooks without them"

    def check(self, repo, params):
        from mlstack.policy.phi import is_notebook

        for path in repo.files:
            lower = path.lower()
            if lower.endswith(".ipynb"):
                yield from _scan(self, repo, params, path)
            elif lower.endswith((".py", ".sql", ".scala", ".r")):
                if is_notebook(path, _head(repo, path)):
                    yield from _scan(self, repo, params, path)
