"""Synthetic pregnancy-risk data: invented patients with a real, learnable signal.

Nothing here comes from a real person: every value is drawn from a seeded random generator
and every id starts with ``SYN-``, so the data set is PHI-free and identical on every
machine. A "drifted" batch (older, heavier patients, fewer clinic visits, and a changed
link between features and outcome) feeds the monitoring demo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

GROUPS = ("group_a", "group_b", "group_c", "group_d")
SMOKING = ("never", "former", "current")
INSURANCE = ("commercial", "medicaid", "uninsured")
ID_PREFIX = "SYN-"


@dataclass(frozen=True)
class SampleData:
    """Everything a local run needs: history to train on, two batches to score, later labels."""

    training: pd.DataFrame
    scoring: pd.DataFrame
    scoring_drifted: pd.DataFrame
    outcomes: pd.DataFrame


def generate_patients(n_rows: int, seed: int, *, drifted: bool = False, first_id: int = 1) -> pd.DataFrame:
    """`n_rows` synthetic patients with a `high_risk` label (about 14 % positive)."""
    rng = np.random.default_rng(seed)
    group = rng.choice(GROUPS, size=n_rows, p=[0.4, 0.3, 0.2, 0.1])
    # Deprivation differs a little by group, so fairness checks have something real to look at.
    deprivation = rng.normal(42, 20, n_rows) + np.where(np.isin(group, GROUPS[2:]), 12, 0)
    deprivation = np.clip(np.round(deprivation), 1, 100).astype(int)

    age = np.clip(np.round(rng.normal(33.5 if drifted else 29.0, 6.0, n_rows)), 14, 50).astype(int)
    bmi = np.clip(rng.normal(30.5 if drifted else 26.5, 5.5, n_rows), 15, 60).round(1)
    systolic = np.clip(np.round(rng.normal(116, 13, n_rows) + 0.6 * (bmi - 26.5)), 80, 200).astype(int)
    diastolic = np.clip(np.round(0.55 * systolic + rng.normal(9, 7, n_rows)), 45, 130).astype(int)
    glucose = np.clip(rng.lognormal(np.log(5.0), 0.18, n_rows) + 0.04 * (bmi - 26.5), 3.0, 20.0).round(2)
    gravidity = 1 + rng.poisson(1.2, n_rows)
    parity = np.minimum(gravidity - 1, rng.binomial(gravidity - 1, 0.8))
    prior_preterm = ((parity > 0) & (rng.random(n_rows) < 0.12)).astype(int)
    smoking = rng.choice(SMOKING, size=n_rows, p=[0.72, 0.14, 0.14])
    insurance_p = np.clip((deprivation - 20) / 100, 0.05, 0.75)
    insurance = np.where(
        rng.random(n_rows) < insurance_p,
        np.where(rng.random(n_rows) < 0.8, "medicaid", "uninsured"),
        "commercial",
    )
    visits = np.clip(rng.poisson(np.clip(11 - deprivation / 18 - (3 if drifted else 0), 1, None)), 0, 30)
    distance = np.clip(rng.gamma(2.0, 7.0, n_rows), 0.2, 250).round(1)
    weeks = rng.integers(6, 31, n_rows)

    logit = (
        -2.9
        + 0.2 * np.clip(age - 34, 0, None)
        + 0.9 * (age < 18)
        + 0.07 * (systolic - 118)
        + 0.9 * (glucose - 5.0)
        + 0.04 * (bmi - 26.5)
        + 1.3 * prior_preterm
        + 0.75 * (smoking == "current")
        + 0.012 * (deprivation - 45)
        - 0.07 * (visits - 9)
        + 0.03 * (weeks - 18)
    )
    if drifted:
        # Concept drift: the outcome now depends on access to care far more than on vitals.
        logit = 0.4 * logit - 1.4 + 0.06 * (distance - 14) + 0.5 * (insurance == "uninsured")
    high_risk = (rng.random(n_rows) < 1 / (1 + np.exp(-(logit + rng.normal(0, 0.4, n_rows))))).astype(int)

    frame = pd.DataFrame(
        {
            "patient_id": [f"{ID_PREFIX}{i:07d}" for i in range(first_id, first_id + n_rows)],
            "age": age,
            "bmi": bmi,
            "systolic_bp": systolic,
            "diastolic_bp": diastolic,
            "blood_glucose_mmol_l": glucose,
            "gravidity": gravidity.astype(int),
            "parity": parity.astype(int),
            "prior_preterm_birth": prior_preterm,
            "smoking_status": smoking.astype(object),
            "insurance_type": insurance.astype(object),
            "area_deprivation_index": deprivation,
            "prenatal_visits": visits.astype(int),
            "distance_to_clinic_km": distance,
            "gestational_weeks_at_enrollment": weeks.astype(int),
            "demographic_group": group.astype(object),
            "high_risk": high_risk,
        }
    )
    # Real extracts have gaps: some BMI and glucose readings and smoking answers are missing.
    for column, share in (("bmi", 0.06), ("blood_glucose_mmol_l", 0.08), ("smoking_status", 0.04)):
        frame.loc[rng.random(n_rows) < share, column] = None
    return frame


def generate_sample_data(seed: int, training_rows: int, scoring_rows: int) -> SampleData:
    """History, a fresh batch like it, a drifted batch, and the outcomes observed later for both."""
    training = generate_patients(training_rows, seed)
    scoring = generate_patients(scoring_rows, seed + 1, first_id=training_rows + 1)
    drifted = generate_patients(
        scoring_rows, seed + 2, drifted=True, first_id=training_rows + scoring_rows + 1
    )
    outcomes = pd.concat([scoring, drifted])[["patient_id", "high_risk"]].reset_index(drop=True)
    return SampleData(
        training=training,
        scoring=scoring.drop(columns="high_risk"),
        scoring_drifted=drifted.drop(columns="high_risk"),
        outcomes=outcomes,
    )
