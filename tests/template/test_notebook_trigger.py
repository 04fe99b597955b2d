"""A retrain the monitoring job starts reaches the training notebooks as widgets and becomes settings.

Databricks hands the training job's parameters to its notebook tasks as widgets; the shared start
(notebooks/_bootstrap.py) turns the trigger's widgets into `training.trigger` overrides that the
generated config accepts as they are (issue 20).
"""

from __future__ import annotations

import sys

from test_notebooks import DbUtils, load_bootstrap


def test_trigger_widgets_become_training_trigger_settings_and_none_without_a_trigger(projects, monkeypatch):
    project = projects["classic"]
    monkeypatch.chdir(project / "notebooks")
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("GIT_COMMIT", raising=False)
    for name in [m for m in sys.modules if m.startswith("maternal_health_risk")]:
        monkeypatch.delitem(sys.modules, name)
    bootstrap = load_bootstrap(project)
    dbutils = DbUtils(env="prod", triggered_by="monitor", trigger_batch_id="b-7",
                      trigger_reasons="prediction drift: score PSI 0.274 > 0.2; age: psi 0.4",
                      trigger_monitor_run_id="r-1")
    assert bootstrap.start_step(dbutils) == "prod"
    overrides = bootstrap.trigger_overrides(dbutils)
    assert overrides == [
        'training.trigger.by="monitor"',
        'training.trigger.batch_id="b-7"',
        'training.trigger.reasons="prediction drift: score PSI 0.274 > 0.2; age: psi 0.4"',
        'training.trigger.monitor_run_id="r-1"',
    ]
    from maternal_health_risk.config import apply_overrides, load_config
    from maternal_health_risk.core.retraining import RetrainTrigger

    config = apply_overrides(load_config("prod", project / "configs"), overrides)
    trigger = RetrainTrigger.from_config(config)
    assert (trigger.by, trigger.batch_id, trigger.monitor_run_id) == ("monitor", "b-7", "r-1")
    assert trigger.reasons == "prediction drift: score PSI 0.274 > 0.2; age: psi 0.4"

    untriggered = DbUtils(env="prod")
    bootstrap.start_step(untriggered)
    assert bootstrap.trigger_overrides(untriggered) == []
