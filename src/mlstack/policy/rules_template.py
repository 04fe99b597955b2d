"""TPL: is the repository on a current template version, and unchanged where the template manages it?"""

from __future__ import annotations

from mlstack.policy.model import ERROR, INFO, WARNING, Finding, Rule, register
from mlstack.policy.repo import ANSWERS_FILE, glob_match
from mlstack.versions import is_older


def latest_known_version(repo, params) -> str | None:
    """The newest template version we know of without the network: policy, else the bundled one."""
    if params.latest_template_version:
        return params.latest_template_version
    if repo.template.get("source") == "bundled":
        from mlstack.template import bundled_template_dir, read_cookiecutter_json

        return str(read_cookiecutter_json(bundled_template_dir()).get("_template_version") or "") or None
    return None


@register
class TPL001(Rule):
    """The template version is not older than the minimum the policy allows."""

    family = "TPL"
    severity = ERROR
    fix = "run `mlstack update` to bring the repository to a supported template version"
    deadline_verb = "upgrade"

    def check(self, repo, params):
        if not params.min_template_version or repo.answers_document is None:
            return
        version = repo.template_version or "unknown"
        older = is_older(version, params.min_template_version)
        if older is None:
            yield Finding(self.id, ERROR, f"template version {version!r} cannot be compared with the policy "
                          f"minimum {params.min_template_version!r}", ANSWERS_FILE)
        elif older:
            yield Finding(self.id, ERROR, f"template version {version} is older than the minimum "
                          f"{params.min_template_version}", ANSWERS_FILE)


@register
class TPL002(Rule):
    """Files the template manages are unchanged from the pristine render of the recorded version."""

    family = "TPL"
    severity = WARNING
    outcome = "drift"
    fix = "move the change into the template (or a waiver with a reason), or restore the file from the pristine branch"

    def check(self, repo, params):
        if repo.answers_document is None or not repo.managed_patterns:
            return
        pristine = repo.pristine_files
        if pristine is None:
            commit = repo.template.get("pristine_commit") or "(none recorded)"
            yield Finding(self.id, WARNING, f"cannot check drift: pristine commit {commit} is not in this clone "
                          "(fetch the mlstack/template branch)", ANSWERS_FILE)
            return
        for path, content in sorted(pristine.items()):
            if path == ANSWERS_FILE or not any(glob_match(path, p) for p in repo.managed_patterns):
                continue
            current = repo.read_bytes(path)
            if current is None and "links outside" in repo.unreadable.get(path, ""):
                yield Finding(self.id, WARNING, "managed file is a link out of the repository", path)
            elif current is None:
                yield Finding(self.id, WARNING, "managed file was deleted", path)
            elif current != content:
                yield Finding(self.id, WARNING, "managed file differs from the template's render", path)


@register
class TPL003(Rule):
    """The repository is on the newest template version known to this policy."""

    family = "TPL"
    severity = INFO
    outcome = "update"
    fix = "run `mlstack update` (see `mlstack diff` for what would change)"

    def check(self, repo, params):
        latest = latest_known_version(repo, params)
        version = repo.template_version
        if latest and version and is_older(version, latest):
            yield Finding(self.id, INFO, f"template {latest} is available (this repository is on {version})",
                          ANSWERS_FILE)


@register
class TPL004(Rule):
    """.mlstack/answers.yml exists and records the template source, version and answers."""

    family = "TPL"
    severity = ERROR
    fix = "generate with `mlstack init`, or adopt the repository with `mlstack link`"

    def check(self, repo, params):
        document = repo.answers_document
        for problem in [p for p in repo.problems if p.startswith(ANSWERS_FILE)]:
            yield Finding(self.id, ERROR, problem, ANSWERS_FILE)
        if document is not None:
            for key in ("source", "version"):
                if not repo.template.get(key):
                    yield Finding(self.id, ERROR, f"template.{key} is not recorded", ANSWERS_FILE)
