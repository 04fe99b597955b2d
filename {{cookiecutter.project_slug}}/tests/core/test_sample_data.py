"""Synthetic data is deterministic, PHI-free, imbalanced and learnable; the drifted batch drifts."""

import numpy as np

from {{ cookiecutter.package_name }}.core.sample_data import ID_PREFIX, generate_patients, generate_sample_data


def test_same_seed_gives_identical_data_and_another_seed_does_not():
    assert generate_patients(300, seed=1).equals(generate_patients(300, seed=1))
    assert not generate_patients(300, seed=1).equals(generate_patients(300, seed=2))


def test_every_id_is_marked_synthetic_and_unique():
    data = generate_sample_data(seed=3, training_rows=500, scoring_rows=200)
    ids = (
        list(data.training.patient_id) + list(data.scoring.patient_id) + list(data.scoring_drifted.patient_id)
    )
    assert all(i.startswith(ID_PREFIX) for i in ids)
    assert len(set(ids)) == len(ids)


def test_label_is_imbalanced_and_has_gaps_to_impute():
    frame = generate_patients(5000, seed=4)
    assert 0.08 < frame.high_risk.mean() < 0.25
    assert frame.bmi.isna().any() and frame.smoking_status.isna().any()


def test_scoring_batches_carry_no_label_and_outcomes_cover_both():
    data = generate_sample_data(seed=5, training_rows=400, scoring_rows=150)
    assert "high_risk" not in data.scoring.columns and "high_risk" not in data.scoring_drifted.columns
    assert set(data.outcomes.patient_id) == set(data.scoring.patient_id) | set(
        data.scoring_drifted.patient_id
    )


def test_drifted_batch_is_older_and_heavier():
    fresh, drifted = generate_patients(3000, seed=6), generate_patients(3000, seed=6, drifted=True)
    assert drifted.age.mean() > fresh.age.mean() + 3
    assert np.nanmean(drifted.bmi) > np.nanmean(fresh.bmi) + 2
