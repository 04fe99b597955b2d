"""A synthetic churn table, unlike the example in every column, for the `make adopt-table` tests.

Invented and seeded: a string id, a signup timestamp, categorical, numeric, boolean, id-like
and free-text columns and a 0/1 `churned` label that depends on some of them. Run as a script
to write it as a local table: `python tests/churn_table.py .local/tables/churn [rows]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

PLANS = ("basic", "standard", "premium")
REGIONS = ("north", "south", "east", "west")
CONTRACTS = ("monthly", "yearly")


def churn_frame(rows: int = 2000, seed: int = 3) -> pd.DataFrame:
    """`rows` customers; about a quarter churn, mostly the new, monthly, often-calling ones."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 73, rows)
    plan = rng.choice(PLANS, size=rows, p=[0.5, 0.3, 0.2])
    contract = rng.choice(CONTRACTS, size=rows, p=[0.6, 0.4])
    surcharge = np.select([plan == "standard", plan == "premium"], [25, 55], 0)
    charges = np.round(rng.normal(40, 12, rows) + surcharge, 2)
    charges = np.where(rng.random(rows) < 0.05, np.nan, charges)  # some bills missing
    calls = rng.poisson(1.5, rows)
    paperless = rng.random(rows) < 0.55
    logit = (
        -0.8
        - 0.07 * tenure
        + 1.8 * (contract == "monthly")
        + 0.7 * calls
        + 0.02 * (np.nan_to_num(charges, nan=60.0) - 60)
        - 0.7 * paperless
    )
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    signup = pd.Timestamp("2026-11-30") - pd.to_timedelta(tenure * 30 + rng.integers(0, 30, rows), unit="D")
    topics = rng.choice(("billing", "a slow line", "moving house", "the price", "a new phone"), size=rows)
    hours, minutes = rng.integers(8, 18, rows), rng.integers(0, 60, rows)
    notes = [
        f"called {c} times about {t} on the {p} plan, asked for a callback at {h}:{m:02d}"
        for c, t, p, h, m in zip(calls, topics, plan, hours, minutes, strict=True)
    ]
    return pd.DataFrame(
        {
            "customer_id": [f"C-{i:06d}" for i in range(1, rows + 1)],
            "signup_at": signup,
            "plan": plan,
            "region": rng.choice(REGIONS, size=rows),
            "contract": contract,
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": calls,
            "paperless_billing": paperless,
            "account_number": rng.permutation(np.arange(100000, 100000 + rows)),
            "last_note": notes,
            "churned": churned,
        }
    )


def write_churn_table(folder: Path, rows: int = 2000, seed: int = 3) -> Path:
    """The table as one Parquet file in `folder`: what a local table is (io/tables.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    # Microseconds: Spark reads no nanosecond Parquet timestamps, which pandas writes by default.
    churn_frame(rows, seed).to_parquet(folder / "part-00000.parquet", index=False, coerce_timestamps="us")
    return folder


if __name__ == "__main__":
    write_churn_table(Path(sys.argv[1]), *(int(a) for a in sys.argv[2:3]))
