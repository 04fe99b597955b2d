"""This template's questions: when each is asked, and the rules its answer must follow.

Standard library only: plain `cookiecutter` runs it from `pre_gen_project.py`, and
`mlstack init` loads the same module, so both check answers with one set of rules.
"""

from __future__ import annotations

import ipaddress
import keyword
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Answers = Mapping[str, object]


@dataclass(frozen=True)
class Problem:
    """One invalid answer: which field, what value, which rule it breaks and how to fix it."""

    field: str
    value: object
    rule: str

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}: {self.rule}"


# --- when a question is asked ----------------------------------------------------------
# Questions not listed here are always asked. The CLI skips the others (keeping their
# defaults); plain cookiecutter cannot skip questions and asks everything.

def _cloud_is(name: str) -> Callable[[Answers], bool]:
    return lambda answers: answers.get("cloud") == name


def _ci_is(name: str) -> Callable[[Answers], bool]:
    return lambda answers: answers.get("ci_platform") == name


ASKED_WHEN: dict[str, Callable[[Answers], bool]] = {
    "azure_devops_project": _ci_is("azure_devops"),
    "gitlab_host": _ci_is("gitlab"),
    "tfstate_azure_resource_group": _cloud_is("azure"),
    "tfstate_azure_storage_account": _cloud_is("azure"),
    "tfstate_azure_container": _cloud_is("azure"),
    "tfstate_s3_bucket": _cloud_is("aws"),
    "tfstate_s3_region": _cloud_is("aws"),
    "tfstate_gcs_bucket": _cloud_is("gcp"),
    "node_type": lambda answers: not _is_true(answers.get("serverless")),
    "num_workers": lambda answers: not _is_true(answers.get("serverless")),
    "serving_workload_size": lambda answers: _is_true(answers.get("serving")),
    "serving_scale_to_zero_prod": lambda answers: _is_true(answers.get("serving")),
}


def is_asked(key: str, answers: Answers) -> bool:
    """Whether the question `key` applies, given the answers so far."""
    condition = ASKED_WHEN.get(key)
    return condition is None or bool(condition(answers))


# --- rules for single answers ------------------------------------------------------------

SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z][a-z0-9_]*$")
UC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
HOSTNAME_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
PRINCIPAL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,99}$")
REPO_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
AZURE_STORAGE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
AZURE_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$")
AZURE_RESOURCE_GROUP = re.compile(r"^[A-Za-z0-9_.()-]{0,89}[A-Za-z0-9_()-]$")
AWS_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
NODE_TYPE_BY_CLOUD = {
    "azure": (re.compile(r"^Standard_[A-Za-z0-9_]+$"), "Standard_D4ds_v5"),
    "aws": (re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"), "i3.xlarge"),
    "gcp": (re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$"), "n2-highmem-4"),
}
PYTHON_VERSIONS = ("3.10", "3.11", "3.12")
TRAINING_ENGINES = ("distributed", "single_node")
MAX_WORKERS = 100
# Jinja and Terraform would evaluate these inside free text.
TEMPLATE_MARKERS = ("{{", "{%", "{#", "${", "%{")


def _is_true(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "y", "on"}


# Bidirectional embeddings, overrides and isolates reorder how text (and code) is displayed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_control(ch: str) -> bool:
    """C0, DEL and C1 controls (category Cc), line/paragraph separators, and bidi controls."""
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS


def _single_line(value: object, max_length: int) -> str | None:
    text = str(value)
    if not text.strip():
        return "must not be empty"
    if any(_is_control(ch) for ch in text):
        return "must be a single line without control characters"
    if len(text) > max_length:
        return f"must be at most {max_length} characters (got {len(text)})"
    if any(marker in text for marker in TEMPLATE_MARKERS):
        return "must not contain template or interpolation markers ({{ {% {# ${ %{)"
    return None


def check_project_name(value: object, answers: Answers) -> str | None:
    problem = _single_line(value, 100)
    if problem:
        return problem
    if not re.search(r"\w", str(value)):
        return "must contain at least one letter or digit"
    return None


def check_description(value: object, answers: Answers) -> str | None:
    return _single_line(value, 300)


def check_slug(value: object, answers: Answers) -> str | None:
    text = str(value)
    if not (2 <= len(text) <= 63) or not SLUG.match(text):
        return ("must be 2-63 lowercase letters, digits and single hyphens, starting with a "
                "letter (e.g. 'maternal-health-risk')")
    return None


def check_package(value: object, answers: Answers) -> str | None:
    text = str(value)
    if not PACKAGE.match(text) or len(text) > 60:
        return ("must be a Python identifier of lowercase letters, digits and underscores, "
                "starting with a letter (e.g. 'maternal_health_risk')")
    if keyword.iskeyword(text) or text in sys.stdlib_module_names:
        return "clashes with a Python keyword or standard-library module; pick another name"
    if text in {"test", "tests", "pyspark", "mlflow", "hyperopt", "databricks", "sklearn"}:
        return "clashes with a package this project depends on; pick another name"
    return None


def check_workspace_url(value: object, answers: Answers) -> str | None:
    text = str(value)
    match = re.match(r"^https://([^/?#:@\s]+)/?$", text)
    if not text.startswith("https://"):
        return "must start with https:// (e.g. https://adb-1234567890123456.7.azuredatabricks.net)"
    if not match:
        return "must be the workspace host only: drop any path, port, query or credentials"
    host = match.group(1).lower()
    labels = host.split(".")
    if len(labels) < 2 or not all(HOSTNAME_LABEL.match(label) for label in labels):
        return "must name a valid host (letters, digits, hyphens, dot-separated)"
    return None


def check_https_url(value: object, answers: Answers) -> str | None:
    text = str(value)
    if not re.match(r"^https://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._~%/-]*)?$", text):
        return "must be an https:// URL without credentials, query or spaces"
    return None


def check_email(value: object, answers: Answers) -> str | None:
    if not EMAIL.match(str(value)):
        return "must be an e-mail address (e.g. ml-team@example.com)"
    return None


def check_principal_name(value: object, answers: Answers) -> str | None:
    if not PRINCIPAL_NAME.match(str(value)):
        return "must be 1-100 letters, digits, spaces, dots, underscores or hyphens"
    return None


def check_group_name(value: object, answers: Answers) -> str | None:
    if not GROUP_NAME.match(str(value)):
        return "must be 1-100 letters, digits, spaces, dots, underscores, @ or hyphens"
    return None


def check_repo_owner(value: object, answers: Answers) -> str | None:
    if not REPO_OWNER.match(str(value)):
        return "must be letters, digits, dots, underscores or hyphens (an organisation or group name)"
    return None


def check_gitlab_host(value: object, answers: Answers) -> str | None:
    labels = str(value).lower().split(".")
    if len(labels) < 2 or not all(HOSTNAME_LABEL.match(label) for label in labels):
        return "must be a host name such as gitlab.com (no scheme, no path)"
    return None


def check_azure_storage_account(value: object, answers: Answers) -> str | None:
    if not AZURE_STORAGE_ACCOUNT.match(str(value)):
        return "Azure storage account names are 3-24 lowercase letters and digits only"
    return None


def check_azure_container(value: object, answers: Answers) -> str | None:
    if not AZURE_CONTAINER.match(str(value)):
        return ("Azure container names are 3-63 lowercase letters, digits and single hyphens, "
                "starting and ending with a letter or digit")
    return None


def check_azure_resource_group(value: object, answers: Answers) -> str | None:
    if not AZURE_RESOURCE_GROUP.match(str(value)):
        return ("Azure resource group names are 1-90 letters, digits, '_', '-', '.', '(' or ')', "
                "not ending in '.'")
    return None


def _looks_like_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def check_s3_bucket(value: object, answers: Answers) -> str | None:
    text = str(value)
    if not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", text) or ".." in text:
        return ("S3 bucket names are 3-63 lowercase letters, digits, dots and hyphens, "
                "starting and ending with a letter or digit, without '..'")
    if _looks_like_ip(text):
        return "S3 bucket names must not look like an IP address"
    if text.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or text.endswith(
        ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
    ):
        return "S3 bucket names must not use the reserved prefixes/suffixes (xn--, sthree-, -s3alias, ...)"
    return None


def check_aws_region(value: object, answers: Answers) -> str | None:
    if not AWS_REGION.match(str(value)):
        return "must be an AWS region code such as us-east-1 or eu-central-1"
    return None


def check_gcs_bucket(value: object, answers: Answers) -> str | None:
    text = str(value)
    if not re.match(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", text):
        return ("GCS bucket names are 3-63 lowercase letters, digits, '-', '_' and '.', "
                "starting and ending with a letter or digit")
    if text.startswith("goog") or "google" in text or "g00gle" in text:
        return "GCS bucket names must not start with 'goog' or contain 'google'"
    if _looks_like_ip(text):
        return "GCS bucket names must not look like an IP address"
    return None


def check_branch(value: object, answers: Answers) -> str | None:
    """The rules of `git check-ref-format --branch`, without running git."""
    text = str(value)
    bad = (
        not text
        or text.startswith(("-", "/", "."))
        or text.endswith(("/", ".", ".lock"))
        or ".." in text
        or "//" in text
        or "@{" in text
        or text == "@"
        or "/." in text
        or any(ch in text for ch in " ~^:?*[\\")
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in text)
    )
    if bad:
        return ("is not a valid git branch name (no spaces, '..', '~^:?*[\\', leading '-' or '.', "
                "trailing '/', '.' or '.lock')")
    return None


def check_uc_name(value: object, answers: Answers) -> str | None:
    text = str(value)
    if not UC_NAME.match(text) or len(text) > 255:
        return "must be lowercase letters, digits and underscores, starting with a letter"
    return None


def check_experiment_name(value: object, answers: Answers) -> str | None:
    problem = _single_line(value, 100)
    if problem:
        return problem
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", str(value)):
        return "must be letters, digits, dots, underscores and hyphens (no slashes or spaces)"
    return None


def check_node_type(value: object, answers: Answers) -> str | None:
    cloud = str(answers.get("cloud", ""))
    pattern, example = NODE_TYPE_BY_CLOUD.get(cloud, (re.compile(r"^[A-Za-z0-9_.-]+$"), "i3.xlarge"))
    if not pattern.match(str(value)):
        return f"is not a {cloud or 'cloud'} node type (e.g. {example})"
    return None


def check_num_workers(value: object, answers: Answers) -> str | None:
    text = str(value).strip()
    if not text.isdigit() or not 0 <= int(text) <= MAX_WORKERS:
        return f"must be a whole number from 0 to {MAX_WORKERS}"
    return None


def check_boolean(value: object, answers: Answers) -> str | None:
    if isinstance(value, bool):
        return None
    if str(value).strip().lower() in {"1", "0", "true", "false", "yes", "no", "y", "n", "on", "off"}:
        return None
    return "must be yes or no"


def check_timezone(value: object, answers: Answers) -> str | None:
    text = str(value)
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(text)
    except Exception:  # noqa: BLE001 - any failure means "not a zone we can use"
        return "must be an IANA time zone such as UTC or America/New_York"
    if text.startswith(("/", ".")) or ".." in text:
        return "must be an IANA time zone such as UTC or America/New_York"
    return None


def check_training_engine(value: object, answers: Answers) -> str | None:
    if str(value) not in TRAINING_ENGINES:
        return (f"must be one of {', '.join(TRAINING_ENGINES)} (distributed trains on the cluster; "
                "single_node on the driver, for tables that fit its memory)")
    return None


def check_python_version(value: object, answers: Answers) -> str | None:
    if str(value) not in PYTHON_VERSIONS:
        return f"must be one of {', '.join(PYTHON_VERSIONS)}"
    return None


# --- Quartz cron (Databricks job schedules) ----------------------------------------------

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def _cron_value(token: str, low: int, high: int, names: list[str] | None) -> bool:
    if names and token.upper() in names:
        return True
    return token.isdigit() and low <= int(token) <= high


def _cron_field(field: str, low: int, high: int, names: list[str] | None = None) -> bool:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            return False
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        if not _cron_value(start, low, high, names):
            return False
        if dash and not _cron_value(end, low, high, names):
            return False
    return True


def _cron_day_of_month(field: str) -> bool:
    if field in {"?", "L", "LW"} or re.match(r"^L-\d{1,2}$", field):
        return True
    if re.match(r"^\d{1,2}W$", field):
        return 1 <= int(field[:-1]) <= 31
    return _cron_field(field, 1, 31)


def _cron_day_of_week(field: str) -> bool:
    if field == "?":
        return True
    match = re.match(r"^([1-7]|[A-Za-z]{3})(L|#[1-5])$", field)
    if match:
        return _cron_value(match.group(1), 1, 7, _DAYS)
    return _cron_field(field, 1, 7, _DAYS)


def check_quartz_cron(value: object, answers: Answers) -> str | None:
    """Quartz cron: sec min hour day-of-month month day-of-week [year], one day field '?'."""
    fields = str(value).split()
    hint = "must be a Quartz cron expression such as '0 0 11 * * ?' (sec min hour dom month dow)"
    if len(fields) not in (6, 7):
        return f"{hint}; got {len(fields)} fields"
    second, minute, hour, dom, month, dow = fields[:6]
    checks = [
        ("seconds", _cron_field(second, 0, 59)),
        ("minutes", _cron_field(minute, 0, 59)),
        ("hours", _cron_field(hour, 0, 23)),
        ("day-of-month", _cron_day_of_month(dom)),
        ("month", _cron_field(month, 1, 12, _MONTHS)),
        ("day-of-week", _cron_day_of_week(dow)),
    ]
    if len(fields) == 7:
        checks.append(("year", _cron_field(fields[6], 1970, 2099)))
    for name, ok in checks:
        if not ok:
            return f"{hint}; the {name} field is invalid"
    if (dom == "?") == (dow == "?"):
        return f"{hint}; exactly one of day-of-month and day-of-week must be '?'"
    return None


# --- the rule for each answer ------------------------------------------------------------

RULES: dict[str, Callable[[object, Answers], str | None]] = {
    "project_name": check_project_name,
    "project_slug": check_slug,
    "package_name": check_package,
    "description": check_description,
    "owner_team": check_group_name,
    "owner_email": check_email,
    "read_group": check_group_name,
    "repo_owner": check_repo_owner,
    "azure_devops_project": check_principal_name,
    "gitlab_host": check_gitlab_host,
    "git_repo_url": check_https_url,
    "staging_workspace_url": check_workspace_url,
    "prod_workspace_url": check_workspace_url,
    "dev_workspace_url": check_workspace_url,
    "staging_sp_name": check_principal_name,
    "prod_sp_name": check_principal_name,
    "tfstate_azure_resource_group": check_azure_resource_group,
    "tfstate_azure_storage_account": check_azure_storage_account,
    "tfstate_azure_container": check_azure_container,
    "tfstate_s3_bucket": check_s3_bucket,
    "tfstate_s3_region": check_aws_region,
    "tfstate_gcs_bucket": check_gcs_bucket,
    "dev_branch": check_branch,
    "main_branch": check_branch,
    "release_branch": check_branch,
    "inference_schedule": check_quartz_cron,
    "monitoring_schedule": check_quartz_cron,
    "timezone": check_timezone,
    "catalog_dev": check_uc_name,
    "catalog_staging": check_uc_name,
    "catalog_prod": check_uc_name,
    "schema_name": check_uc_name,
    "feature_store": check_boolean,
    "model_name": check_uc_name,
    "experiment_name": check_experiment_name,
    "node_type": check_node_type,
    "num_workers": check_num_workers,
    "serverless": check_boolean,
    "serving": check_boolean,
    "serving_scale_to_zero_prod": check_boolean,
    "python_version": check_python_version,
    "training_engine": check_training_engine,
}


def check_answer(key: str, value: object, answers: Answers) -> Problem | None:
    """Check one answer; `answers` gives the context (e.g. the cloud for a node type)."""
    rule = RULES.get(key)
    message = rule(value, answers) if rule else None
    return Problem(key, value, message) if message else None


def _check_together(answers: Answers) -> list[Problem]:
    """Rules that involve several answers at once."""
    problems = []
    if "staging_sp_name" in answers and answers.get("staging_sp_name") == answers.get("prod_sp_name"):
        problems.append(Problem("prod_sp_name", answers.get("prod_sp_name"),
                                "must differ from staging_sp_name: each environment needs its own principal"))
    branches = [answers[k] for k in ("dev_branch", "main_branch", "release_branch") if k in answers]
    if len(set(branches)) != len(branches):
        problems.append(Problem("release_branch", answers.get("release_branch"),
                                "dev_branch, main_branch and release_branch must all differ"))
    catalogs = [answers.get(k) for k in ("catalog_staging", "catalog_prod")]
    shared_workspace = answers.get("staging_workspace_url") == answers.get("prod_workspace_url")
    if catalogs[0] is not None and catalogs[0] == catalogs[1] and shared_workspace:
        problems.append(Problem("catalog_prod", catalogs[1],
                                "must differ from catalog_staging when staging and prod share a workspace"))
    return problems


def _derives_from(value: object, bad_value: object) -> bool:
    bad = str(bad_value)
    return bool(bad.strip()) and (str(value) == bad or (len(bad) >= 3 and bad in str(value)))


def validate(answers: Answers) -> list[Problem]:
    """Every problem with a full set of answers; an empty list means they can be rendered."""
    problems: list[Problem] = []
    for key, value in answers.items():
        if key.startswith("_") or not is_asked(key, answers):
            continue
        problem = check_answer(key, value, answers)
        # A default derived from a bad answer carries its value along: report the cause only.
        if problem and not any(_derives_from(value, earlier.value) for earlier in problems):
            problems.append(problem)
    return problems + _check_together(answers)


# --- how the questions are presented -----------------------------------------------------
# One line of help per question, the sections they are asked in (their order respects the
# defaults that depend on earlier answers), and which ones are derived: offered with their
# computed default behind one "review infrastructure details?" question, so the common path
# stays short. Plain cookiecutter ignores all of this and asks in cookiecutter.json order.

HELP: dict[str, str] = {
    "project_name": "Human-readable name; the folder, package and resource names derive from it.",
    "project_slug": "Repository and folder name; also names the Terraform state and experiment.",
    "package_name": "Python package under src/ (an importable identifier).",
    "description": "One sentence saying what the model predicts, for the README and pyproject.",
    "owner_team": "Team that owns the model; tagged on every job, model and endpoint.",
    "owner_email": "Address that receives job failure notifications.",
    "read_group": "Workspace group allowed to view (not run) jobs, experiments and models.",
    "cloud": "Cloud of the Databricks workspaces and of the Terraform state storage.",
    "ci_platform": "Where pipelines run: deploys to staging from main, to prod from release.",
    "repo_owner": "Organisation (GitHub, Azure DevOps) or group (GitLab) that will host the repository.",
    "azure_devops_project": "Azure DevOps project holding the repository and pipelines.",
    "gitlab_host": "GitLab host name, gitlab.com or your self-managed instance.",
    "git_repo_url": "HTTPS URL of the repository; Databricks jobs check code out from it.",
    "staging_workspace_url": "Workspace where main deploys and champion/challenger runs.",
    "prod_workspace_url": "Workspace where release deploys; may equal staging (catalogs then differ).",
    "dev_workspace_url": "Workspace for feature-branch runs by data scientists.",
    "staging_sp_name": "Service principal that deploys and runs staging jobs.",
    "prod_sp_name": "Service principal that deploys and runs prod jobs; must differ from staging's.",
    "tfstate_azure_resource_group": "Resource group of the Terraform state storage account.",
    "tfstate_azure_storage_account": "Storage account holding the Terraform state (3-24 lowercase letters, digits).",
    "tfstate_azure_container": "Blob container for the Terraform state.",
    "tfstate_s3_bucket": "S3 bucket holding the Terraform state.",
    "tfstate_s3_region": "AWS region of the Terraform state bucket.",
    "tfstate_gcs_bucket": "GCS bucket holding the Terraform state.",
    "dev_branch": "Integration branch for feature work (deploys to dev).",
    "main_branch": "Branch that deploys to staging.",
    "release_branch": "Branch that deploys to production; push it last.",
    "inference_schedule": "When batch scoring runs (Quartz cron: sec min hour day month weekday).",
    "monitoring_schedule": "When drift monitoring runs (Quartz cron).",
    "timezone": "IANA time zone the schedules are in.",
    "catalog_dev": "Unity Catalog catalog for dev tables and models.",
    "catalog_staging": "Unity Catalog catalog for staging tables and models.",
    "catalog_prod": "Unity Catalog catalog for prod tables and models.",
    "schema_name": "Schema inside each catalog for this project's tables and model.",
    "feature_store": "Publish features as a Databricks feature table (else a plain Delta table).",
    "model_name": "Registered model name in Unity Catalog.",
    "experiment_name": "MLflow experiment name.",
    "training_engine": "single_node suits training tables that fit in the driver's memory.",
    "spark_version": "Databricks Runtime ML LTS of the job clusters.",
    "node_type": "Worker and driver node type of the job clusters.",
    "num_workers": "Workers per job cluster (0 means a single-node cluster).",
    "serverless": "Run jobs on serverless compute instead of job clusters.",
    "serving": "Add a real-time model serving endpoint.",
    "serving_workload_size": "Concurrency of the prod endpoint: Small 4, Medium 8-16, Large 16-64.",
    "serving_scale_to_zero_prod": "Let the prod endpoint scale to zero when idle (slow first request).",
    "python_version": "Python version of the project and its CI.",
}

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Project", ("project_name", "project_slug", "package_name", "description", "owner_team",
                 "owner_email", "read_group")),
    ("Cloud and workspaces", ("cloud", "staging_workspace_url", "prod_workspace_url", "dev_workspace_url",
                              "tfstate_azure_resource_group", "tfstate_azure_storage_account",
                              "tfstate_azure_container", "tfstate_s3_bucket", "tfstate_s3_region",
                              "tfstate_gcs_bucket")),
    ("CI/CD", ("ci_platform", "repo_owner", "azure_devops_project", "gitlab_host", "git_repo_url",
               "dev_branch", "main_branch", "release_branch")),
    ("Identities", ("staging_sp_name", "prod_sp_name")),
    ("Schedules and compute", ("inference_schedule", "monitoring_schedule", "timezone", "spark_version",
                               "serverless", "node_type", "num_workers", "python_version")),
    ("ML options", ("catalog_dev", "catalog_staging", "catalog_prod", "schema_name", "feature_store",
                    "model_name", "experiment_name", "training_engine", "serving", "serving_workload_size",
                    "serving_scale_to_zero_prod")),
)

# Answers with a good computed or conventional default: asked only on "review infrastructure details".
DERIVED: frozenset[str] = frozenset({
    "project_slug", "package_name", "read_group", "dev_workspace_url",
    "tfstate_azure_resource_group", "tfstate_azure_storage_account", "tfstate_azure_container",
    "tfstate_s3_bucket", "tfstate_s3_region", "tfstate_gcs_bucket",
    "git_repo_url", "dev_branch", "main_branch", "release_branch",
    "inference_schedule", "monitoring_schedule", "timezone", "spark_version", "node_type", "num_workers",
    "python_version", "catalog_dev", "catalog_staging", "catalog_prod", "schema_name", "model_name",
    "experiment_name",
})
