"""ML: the pipeline's safeguards stay on, read from the generated configs, Terraform and code.

The facts come from mlstack.policy.ml_config (merged environment configs, input examples) and
mlstack.policy.terraform_eval (each environment's jobs); limits are policy params.
"""

from __future__ import annotations

from mlstack.policy.model import ERROR, WARNING, Finding, Rule, register

DEPLOYED = ("staging", "prod")  # the environments whose models are promoted and served


def _configs(repo):
    """Merged configs per environment and their problems, loaded once for every ML rule."""
    if not hasattr(repo, "_ml_configs"):
        from mlstack.policy.ml_config import environment_configs

        repo._ml_configs = environment_configs(repo.files, repo.yaml)
    return repo._ml_configs


def _environment_jobs(repo):
    """Each environment's Databricks jobs, evaluated once and shared with the TF rules."""
    if not hasattr(repo, "_environment_jobs"):
        from mlstack.policy.terraform_eval import environment_jobs

        repo._environment_jobs = environment_jobs(repo)
    return repo._environment_jobs


def _deployed(repo):
    configs, _problems = _configs(repo)
    return [(env, configs[env]) for env in DEPLOYED if env in configs]


def _file(repo, environment: str, key: str) -> tuple[str, int | None]:
    """The file that sets `key` for this environment (its own file if it overrides it) and the line."""
    from mlstack.policy.ml_config import BASE, MISSING, setting

    own = f"configs/{environment}.yml"
    leaf = key.rsplit(".", 1)[-1]
    data = repo.yaml(own)
    path = own if isinstance(data, dict) and setting(data, key) is not MISSING else BASE
    return path, repo.line_of(path, f"{leaf}:")


@register
class ML101(Rule):
    """The validation gate is on in staging and prod: `validation.fail_on_rejection: true` and at least one metric
    threshold (`validation.thresholds.<metric>.min|max`, numbers)."""

    family = "ML"
    severity = ERROR
    fix = "set validation.fail_on_rejection: true and keep numeric thresholds in configs/project.yml"

    def check(self, repo, params):
        from mlstack.policy.ml_config import is_number, setting

        for path, message in _problems(repo):
            yield Finding(self.id, WARNING, message, path)
        for environment, config in _deployed(repo):
            if setting(config, "validation.fail_on_rejection") is not True:
                path, line = _file(repo, environment, "validation.fail_on_rejection")
                yield Finding(self.id, ERROR, f"{environment}: the validation gate is off (fail_on_rejection is not "
                              "true): a rejected challenger would still be deployed", path, line)
            thresholds = setting(config, "validation.thresholds")
            bounds = [b for t in thresholds.values() if isinstance(t, dict) for k, b in t.items()
                      if k in ("min", "max")] if isinstance(thresholds, dict) else []
            if not bounds or not all(is_number(b) for b in bounds):
                path, line = _file(repo, environment, "validation.thresholds")
                yield Finding(self.id, ERROR, f"{environment}: validation.thresholds has no numeric min/max "
                              "threshold", path, line)


def _problems(repo):
    return [(p.path, f"not judged: {p.message}") for p in _configs(repo)[1]]


@register
class ML102(Rule):
    """Champion/challenger: the challenger must beat the champion by `min_improvement` >= the policy's
    min_champion_improvement (default 0) on a named metric."""

    family = "ML"
    severity = ERROR
    fix = "set validation.champion_challenger.min_improvement to a number >= 0 and name its metric"

    def check(self, repo, params):
        from mlstack.policy.ml_config import is_number, setting

        for environment, config in _deployed(repo):
            improvement = setting(config, "validation.champion_challenger.min_improvement")
            metric = setting(config, "validation.champion_challenger.metric")
            if not is_number(improvement) or improvement < params.min_champion_improvement:
                path, line = _file(repo, environment, "validation.champion_challenger.min_improvement")
                shown = improvement if is_number(improvement) else "unset"
                yield Finding(self.id, ERROR, f"{environment}: champion_challenger.min_improvement is {shown}, "
                              f"below {params.min_champion_improvement:g}: a worse model could replace the champion",
                              path, line)
            if not isinstance(metric, str) or not metric:
                path, line = _file(repo, environment, "validation.champion_challenger")
                yield Finding(self.id, ERROR, f"{environment}: champion_challenger names no metric", path, line)


@register
class ML103(Rule):
    """Fairness is judged for a sensitive attribute with a metric and a `max_gap` no larger than the policy's
    max_fairness_gap (default 0.2)."""

    family = "ML"
    severity = ERROR
    fix = "set validation.fairness.sensitive_attribute, metric and max_gap (at most the policy's max_fairness_gap)"

    def check(self, repo, params):
        from mlstack.policy.ml_config import is_number, setting

        for environment, config in _deployed(repo):
            fairness = setting(config, "validation.fairness")
            path, line = _file(repo, environment, "validation.fairness")
            if not isinstance(fairness, dict):
                yield Finding(self.id, ERROR, f"{environment}: no validation.fairness section", path, line)
                continue
            for key in ("sensitive_attribute", "metric"):
                if not isinstance(fairness.get(key), str) or not fairness[key].strip():
                    yield Finding(self.id, ERROR, f"{environment}: validation.fairness.{key} is not set", path, line)
            gap = fairness.get("max_gap")
            if not is_number(gap) or gap < 0 or gap > params.max_fairness_gap:
                path, line = _file(repo, environment, "validation.fairness.max_gap")
                shown = gap if is_number(gap) else "unset"
                yield Finding(self.id, ERROR, f"{environment}: validation.fairness.max_gap is {shown}, the policy "
                              f"allows 0 to {params.max_fairness_gap:g}", path, line)


@register
class ML104(Rule):
    """Drift monitoring is configured and scheduled: numeric `monitoring.drift` thresholds (psi, p-value) and, in
    prod, a `monitoring` job with an unpaused schedule."""

    family = "ML"
    severity = ERROR
    fix = "keep monitoring.drift.psi_threshold (> 0) and p_value_threshold (0-1), and the monitoring job's schedule"

    def check(self, repo, params):
        from mlstack.policy.ml_config import is_number, setting

        for environment, config in _deployed(repo):
            psi = setting(config, "monitoring.drift.psi_threshold")
            p_value = setting(config, "monitoring.drift.p_value_threshold")
            if not (is_number(psi) and psi > 0 and is_number(p_value) and 0 < p_value < 1):
                path, line = _file(repo, environment, "monitoring.drift")
                yield Finding(self.id, ERROR, f"{environment}: monitoring.drift needs psi_threshold > 0 and "
                              "0 < p_value_threshold < 1", path, line)
        if not repo.terraform:
            return
        from mlstack.policy.terraform_eval import Unknown, first

        jobs = [j for j in _environment_jobs(repo) if j.environment == "prod"]
        if not jobs:
            return
        monitoring = [j for j in jobs if j.name == "monitoring"]
        if not monitoring:
            yield Finding(self.id, ERROR, "prod has no `monitoring` job: drift is never checked", jobs[0].path)
        for job in monitoring:
            schedule = first(job.body.get("schedule"))
            cron, pause = schedule.get("quartz_cron_expression"), schedule.get("pause_status")
            if isinstance(cron, Unknown) or isinstance(pause, Unknown):
                continue  # computed at plan time: not judged rather than guessed
            if not cron or pause == "PAUSED":
                yield Finding(self.id, ERROR, "prod job `monitoring` has no unpaused schedule", job.path, job.line)


@register
class ML105(Rule):
    """Sample (synthetic demo) data is never configured for prod: no prod job runs the sample_data step and prod's
    inference does not read the synthetic drifted batch."""

    family = "ML"
    severity = ERROR
    fix = "remove the sample_data task from the prod job and point prod's inference.input_table at real scoring data"

    def check(self, repo, params):
        from mlstack.policy.ml_config import setting

        configs, _problems = _configs(repo)
        if "prod" in configs and setting(configs["prod"], "inference.input_table") == "drifted_scoring_data":
            path, line = _file(repo, "prod", "inference.input_table")
            yield Finding(self.id, ERROR, "prod: inference.input_table is the synthetic drifted demo batch", path,
                          line)
        if not repo.terraform:
            return
        for job in _environment_jobs(repo):
            if job.environment == "prod" and _runs_sample_data(job.body):
                yield Finding(self.id, ERROR, f"prod job `{job.name}` runs the sample_data step", job.path, job.line)


def _runs_sample_data(body) -> bool:
    tasks = body.get("task") or []
    for task in tasks if isinstance(tasks, list) else [tasks]:
        if not isinstance(task, dict):
            continue
        texts = [str(task.get("task_key", ""))]
        for kind in ("notebook_task", "spark_python_task", "python_wheel_task"):
            block = task.get(kind)
            for item in block if isinstance(block, list) else [block] if block else []:
                texts.append(repr(item))
        if any("sample_data" in text or "--sample-data" in text for text in texts):
            return True
    return False


@register
class ML106(Rule):
    """The input example logged with each model holds no record: every `input_example` handed to MLflow is built
    by an anonymizing function (anonymous_example), never real rows."""

    family = "ML"
    severity = ERROR
    fix = "log `anonymous_example(frame)` (per-column summaries) instead of rows of the training data"

    def check(self, repo, params):
        from mlstack.policy.ml_config import input_examples

        for path in repo.files:
            if not (path.startswith("src/") and path.endswith(".py")):
                continue
            source = repo.read_text(path) or ""
            if "input_example" not in source:
                continue  # cannot hand one to MLflow: not worth parsing
            for example in input_examples(path, source):
                if not example.anonymized:
                    yield Finding(self.id, ERROR, f"input_example={example.expression} may copy patient records into "
                                  "the model", path, example.line)


@register
class ML107(Rule):
    """A model serving endpoint, when there is one, logs to an inference table (AI Gateway inference_table_config
    enabled), so every prediction served is auditable."""

    family = "ML"
    severity = ERROR
    fix = "add ai_gateway { inference_table_config { enabled = true ... } } to the databricks_model_serving resource"

    def check(self, repo, params):
        from mlstack.policy.terraform_eval import first

        for path, body in repo.terraform.items():
            resources = body.get("resource") or []
            for entry in resources if isinstance(resources, list) else [resources]:
                endpoints = entry.get("databricks_model_serving") if isinstance(entry, dict) else None
                for name, endpoint in (endpoints or {}).items():
                    gateway = first(first(endpoint).get("ai_gateway")).get("inference_table_config")
                    legacy = first(first(first(endpoint).get("config")).get("auto_capture_config"))
                    if first(gateway).get("enabled") is not True and legacy.get("enabled") is not True:
                        yield Finding(self.id, ERROR, f"serving endpoint `{name}` has no inference table", path,
                                      repo.line_of(path, f'"databricks_model_serving" "{name}"'))
