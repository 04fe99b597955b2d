"""The code hosts `mlstack fleet update --open-pr` opens update requests on: GitHub, GitLab, Azure DevOps.

`host_for(remote)` says which platform a repository's remote lives on and returns a small REST
client for it (standard library only, imported when a request is made, so `mlstack --help` stays
fast). Tokens come from the environment and are only ever sent to the platform's own API host (or
the MLSTACK_*_API_URL the user set): a remote URL from a fleet list cannot redirect them, which is
why self-hosted GitHub/GitLab hosts must be named in MLSTACK_GITHUB_HOSTS / MLSTACK_GITLAB_HOSTS.
No message, repr or error ever contains a token. See docs/code-hosts.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from mlstack.errors import GIT_ERROR, MlstackError, one_line
from mlstack.urls import parse_location, redact

TIMEOUT_SECONDS = 30
MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # a page of 100 requests is well under 1 MiB on every platform
PER_PAGE = 100  # the largest page all three platforms serve
MAX_PAGES = 50  # 5,000 open requests: beyond that a listing is a runaway, not a repository
MAX_MESSAGE_CHARS = 300
SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")  # GitHub owner/repo and GitLab path segments
NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class CodeHostError(MlstackError):
    """A code host's API refused or failed a request; the message is one line and never holds a token."""

    # Opening a request is the last step of pushing an update to the remote, so it shares git's code.
    exit_code = GIT_ERROR


@dataclass
class ChangeRequest:
    """A pull request (GitHub, Azure DevOps) or merge request (GitLab), as fleet update records it."""

    url: str  # the web page, for people
    number: str  # GitHub number, GitLab iid, Azure DevOps pullRequestId
    source_branch: str  # without refs/heads/
    target_branch: str
    state: str  # "open" | "closed" | "merged"


def host_for(remote_url: str, env: Mapping[str, str] | None = None) -> CodeHost | None:
    """The client for the platform `remote_url` lives on; None for a local path, file:// or another host.

    Credentials in the URL are ignored (never kept); the token comes from `env` (os.environ by default).
    """
    env = os.environ if env is None else env
    location = parse_location(remote_url)
    if location is None or location.scheme not in ("https", "http", "ssh", "scp", "git"):
        return None
    host = location.host.lower()
    segments = [segment for segment in location.path.split("/") if segment]
    if location.scheme == "scp":  # git does not decode scp-like paths; Azure DevOps writes %20 in them
        segments = [unquote(segment) for segment in segments]
    if any(segment in (".", "..") or not segment.isprintable() for segment in segments):
        return None
    # An https remote on a custom port serves the web UI (and API) there too; an ssh port says nothing.
    port = f":{location.port}" if location.scheme == "https" and location.port else ""
    if host in ("github.com", "www.github.com", "ssh.github.com") or host in _listed(env, "MLSTACK_GITHUB_HOSTS"):
        return _github(host, port, segments, env)
    gitlab_ci_host = env.get("CI_SERVER_HOST", "").strip().lower()
    if host in ("gitlab.com", "altssh.gitlab.com") or host in _listed(env, "MLSTACK_GITLAB_HOSTS") \
            or (gitlab_ci_host and host == gitlab_ci_host):
        return _gitlab(host, port, segments, env)
    if host in ("dev.azure.com", "ssh.dev.azure.com") or host.endswith(".visualstudio.com"):
        return _azure_devops(host, segments, env)
    return None


def _listed(env: Mapping[str, str], variable: str) -> set[str]:
    return {name.strip().lower().rstrip(".") for name in env.get(variable, "").split(",") if name.strip()}


def _without_git_suffix(name: str) -> str:
    return name[:-4] if name.endswith(".git") else name


def _github(host: str, port: str, segments: list[str], env: Mapping[str, str]) -> GitHub | None:
    if len(segments) != 2:
        return None
    owner, repo = segments[0], _without_git_suffix(segments[1])
    if not (SEGMENT.match(owner) and SEGMENT.match(repo)):
        return None
    public = host in ("github.com", "www.github.com", "ssh.github.com")
    web = "https://github.com" if public else f"https://{host}{port}"
    api = env.get("MLSTACK_GITHUB_API_URL") or ("https://api.github.com" if public else f"{web}/api/v3")
    return GitHub(owner, repo, api_url=api, web_url=web, token=env.get("GITHUB_TOKEN"))


def _gitlab(host: str, port: str, segments: list[str], env: Mapping[str, str]) -> GitLab | None:
    if len(segments) < 2:
        return None
    path = [*segments[:-1], _without_git_suffix(segments[-1])]
    if not all(SEGMENT.match(segment) and segment != "-" for segment in path):  # /-/ starts a web UI path
        return None
    if host in ("gitlab.com", "altssh.gitlab.com"):
        web = "https://gitlab.com"
    elif host == env.get("CI_SERVER_HOST", "").strip().lower() and env.get("CI_SERVER_URL"):
        web = env["CI_SERVER_URL"].rstrip("/")  # inside GitLab CI: the instance's own URL, port and path
    else:
        web = f"https://{host}{port}"
    api = env.get("MLSTACK_GITLAB_API_URL")
    if not api and host == env.get("CI_SERVER_HOST", "").strip().lower():
        api = env.get("CI_API_V4_URL")
    return GitLab("/".join(path), api_url=api or f"{web}/api/v4", web_url=web, token=env.get("GITLAB_TOKEN"))


def _azure_devops(host: str, segments: list[str], env: Mapping[str, str]) -> AzureDevOps | None:
    if host in ("ssh.dev.azure.com", "vs-ssh.visualstudio.com"):
        # git@ssh.dev.azure.com:v3/{org}/{project}/{repo}
        if len(segments) != 4 or segments[0] != "v3":
            return None
        org, project, repo = segments[1:]
    else:
        if "_git" not in segments or segments.index("_git") != len(segments) - 2:
            return None
        repo = segments[-1]
        before = segments[:-2]
        if host == "dev.azure.com":  # https://dev.azure.com/{org}/{project}/_git/{repo}
            if not before:
                return None
            org, before = before[0], before[1:]
        else:  # https://{org}.visualstudio.com[/DefaultCollection]/{project}/_git/{repo}
            org = host.removesuffix(".visualstudio.com")
            if before and before[0].lower() == "defaultcollection":
                before = before[1:]
        if len(before) > 1:
            return None
        project = before[0] if before else repo  # /_git/{repo} names the project's same-named repo
    if not SEGMENT.match(org):
        return None
    root = (env.get("MLSTACK_AZURE_DEVOPS_API_URL") or "https://dev.azure.com").rstrip("/")
    return AzureDevOps(org, project, repo, api_url=f"{root}/{quote(org)}",
                       web_url=f"https://dev.azure.com/{quote(org)}", token=env.get("AZURE_DEVOPS_EXT_PAT"))


@dataclass
class _Response:
    status: int
    headers: Mapping[str, str]
    data: Any


class CodeHost:
    """One repository on one platform: find, list, open, update and close its update requests."""

    platform = ""  # "github" | "gitlab" | "azure-devops"
    label = ""  # the platform's name in messages
    token_variable = ""  # the environment variable the token comes from
    token_scope = ""  # what the token needs, for the "refused" message
    max_body_chars = 65_536
    timeout = TIMEOUT_SECONDS

    def __init__(self, repository: str, *, api_url: str, web_url: str, token: str | None):
        self.repository = repository  # for messages: owner/repo, group/sub/repo, org/project/repo
        self.api_url = api_url.rstrip("/")
        self.web_url = web_url.rstrip("/")
        self._token = (token or "").strip() or None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.repository} via {self.api_url}>"

    def has_token(self) -> bool:
        """Whether a token is set; without one, fleet update prints compare_url() instead."""
        return self._token is not None

    def compare_url(self, base: str, head: str) -> str:
        """The web page on which a person opens the request from `head` into `base` by hand."""
        raise NotImplementedError

    def find_open(self, source_branch: str) -> ChangeRequest | None:
        """The open request from `source_branch` in this repository (not a fork), if any."""
        return next(iter(self._open_requests(source_branch=source_branch)), None)

    def list_open(self, prefix: str) -> list[ChangeRequest]:
        """Every open request whose source branch starts with `prefix` (older rollouts to supersede)."""
        return [request for request in self._open_requests() if request.source_branch.startswith(prefix)]

    def open_or_update(self, source: str, target: str, title: str, body: str) -> ChangeRequest:
        """Open a request from `source` into `target`; if one is open for `source`, update its title and body."""
        body = self._fitted(body)
        existing = self.find_open(source)
        if existing is not None:
            return self._update(existing, title, body)
        return self._create(source, target, title, body)

    def close(self, request: ChangeRequest, comment: str) -> None:
        """Say why on the request, then close it (GitHub, GitLab) or abandon it (Azure DevOps)."""
        raise NotImplementedError

    # What each platform implements.
    def _open_requests(self, source_branch: str | None = None) -> list[ChangeRequest]:
        raise NotImplementedError

    def _create(self, source: str, target: str, title: str, body: str) -> ChangeRequest:
        raise NotImplementedError

    def _update(self, request: ChangeRequest, title: str, body: str) -> ChangeRequest:
        raise NotImplementedError

    def _auth_headers(self) -> dict[str, str]:
        raise NotImplementedError

    # HTTP, shared.
    def _fitted(self, body: str) -> str:
        """`body` cut to what the platform accepts (Azure DevOps refuses descriptions over 4,000 characters)."""
        if len(body) <= self.max_body_chars:
            return body
        note = "\n\n(truncated by mlstack: the platform limits the description's length)"
        return body[: self.max_body_chars - len(note)] + note

    def _call(self, method: str, url: str, *, query: Mapping[str, Any] | None = None,
              body: Any = None) -> _Response:
        """One request to the API; every failure becomes a one-line CodeHostError."""
        import http.client
        import json
        import urllib.error
        import urllib.request

        if self._token is None:
            raise CodeHostError(f"{self.token_variable} is not set: export a token with {self.token_scope} "
                                f"to open requests on {self.label}, or open them by hand")
        if not self._token.isprintable() or any(ch.isspace() for ch in self._token):
            # http.client would refuse the header with a ValueError that quotes the token.
            raise CodeHostError(f"{self.token_variable} contains spaces or control characters; export the token alone")
        if query:
            url = f"{url}?{urlencode(query)}"
        request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", "mlstack")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in self._auth_headers().items():
            request.add_header(name, value)
        try:
            with _opener().open(request, timeout=self.timeout) as answer:
                status, headers = answer.status, answer.headers
                raw = answer.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as error:
            try:
                raw = error.read(MAX_RESPONSE_BYTES + 1)
            except (OSError, http.client.HTTPException):
                raw = b""
            finally:
                error.close()
            raise self._refusal(error.code, error.headers, raw) from None
        except urllib.error.URLError as error:
            reason = getattr(error.reason, "strerror", None) or error.reason
            raise self._error(f"{self.label} API at {self._api_host()} cannot be reached ({reason}); "
                              "check the network and proxy settings") from None
        except TimeoutError:
            raise self._error(f"{self.label} API at {self._api_host()} did not answer within "
                              f"{self.timeout} s; try again later") from None
        except (http.client.HTTPException, OSError) as error:
            raise self._error(f"{self.label} API at {self._api_host()} broke off the answer "
                              f"({type(error).__name__}); try again later") from None
        if status == 203 and self.platform == "azure-devops":
            # Azure DevOps answers a PAT it does not accept with 203 and an HTML sign-in page.
            raise self._refusal(401, headers, b"")
        if len(raw) > MAX_RESPONSE_BYTES:
            raise self._error(f"{self.label} API answered with more than {MAX_RESPONSE_BYTES // 2**20} MiB; "
                              f"refused (is {self.api_url} the API URL?)")
        if not raw.strip():
            return _Response(status, headers, None)
        try:
            data = json.loads(raw)
        except ValueError:
            kind = headers.get("Content-Type", "no content type")
            raise self._error(f"{self.label} API answered {status} with something other than JSON ({kind}); "
                              f"is {self.api_url} the API URL?") from None
        return _Response(status, headers, data)

    def _api_host(self) -> str:
        return urlsplit(self.api_url).netloc or self.api_url

    def _refusal(self, status: int, headers: Mapping[str, str], raw: bytes) -> CodeHostError:
        """The one-line error for an HTTP error status, naming the variable or the fix."""
        detail = self._platform_message(raw)
        if (status in (401, 403) and headers.get("x-ratelimit-remaining") == "0") or status == 429:
            return self._error(f"{self.label} API rate limit reached ({status}); wait a few minutes and re-run")
        if status == 401:
            return self._error(f"{self.token_variable} was refused by {self.label} (401: expired, revoked or "
                               f"mistyped); export a valid token with {self.token_scope}")
        if status == 403:
            return self._error(f"{self.token_variable} was refused by {self.label} for {self.repository} "
                               f"(403: it lacks {self.token_scope}, or the organisation blocks it)"
                               + (f": {detail}" if detail else ""))
        if status == 404:
            return self._error(f"{self.label} repository {self.repository} not found, or {self.token_variable} "
                               "cannot see it; check the remote URL and the token's repository access")
        if 300 <= status < 400:
            moved = redact(headers.get("Location", "") or "another address")
            return self._error(f"{self.label} API redirected to {moved}: the repository may have moved; "
                               "update the remote URL")
        if status >= 500:
            return self._error(f"{self.label} API failed ({status}); try again later"
                               + (f": {detail}" if detail else ""))
        return self._error(f"{self.label} refused the request ({status})" + (f": {detail}" if detail else ""))

    def _platform_message(self, raw: bytes) -> str:
        """The human part of an error body (GitHub message + errors, GitLab message/error, ADO message)."""
        import json

        try:
            data = json.loads(raw[:65_536])
        except ValueError:
            return ""
        if not isinstance(data, dict):
            return ""
        parts: list[str] = []
        for key in ("message", "error", "error_description"):
            value = data.get(key)
            if isinstance(value, str):
                parts.append(value)
            elif isinstance(value, list):
                parts.extend(str(item) for item in value)
            elif isinstance(value, dict):  # GitLab: {"message": {"field": ["problem"]}}
                parts.extend(f"{field} {', '.join(map(str, problems)) if isinstance(problems, list) else problems}"
                             for field, problems in value.items())
        for error in data.get("errors") or []:  # GitHub's validation details
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                parts.append(error["message"])
            elif isinstance(error, dict):
                parts.append(" ".join(str(error.get(key, "")) for key in ("resource", "field", "code")).strip())
        return "; ".join(part for part in parts if part)

    def _error(self, message: str) -> CodeHostError:
        """A CodeHostError whose message is one short line with no token and no URL credentials."""
        if self._token:
            message = message.replace(self._token, "***")
        message = one_line(" ".join(redact(message).split()))
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 1] + "…"
        return CodeHostError(message)

    def _pages(self, url: str, query: dict[str, Any]) -> Iterator[Any]:
        """The items of a paginated list, following the platform's next-page header (GitHub, GitLab)."""
        origin = urlsplit(self.api_url)[:2]
        next_url: str | None = f"{url}?{urlencode(query)}"
        for _ in range(MAX_PAGES):
            if next_url is None:
                return
            response = self._call("GET", next_url)
            if not isinstance(response.data, list):
                raise self._error(f"{self.label} API answered a list request with something other than a list")
            yield from response.data
            next_url = self._next_page_url(next_url, response.headers)
            if next_url is not None and urlsplit(next_url)[:2] != origin:
                # The token goes to the API host only, whatever a header says.
                raise self._error(f"{self.label} API pointed its next page at another host "
                                  f"({urlsplit(next_url).netloc}); refused")
        raise self._error(f"{self.label} API listed more than {MAX_PAGES * PER_PAGE} open requests "
                          f"for {self.repository}; refused")

    def _next_page_url(self, url: str, headers: Mapping[str, str]) -> str | None:
        match = NEXT_LINK.search(headers.get("Link", "") or "")
        return match.group(1) if match else None


def _opener():
    """A urllib opener that treats redirects as errors: a token must not follow a Location header elsewhere."""
    import urllib.request

    class RefuseRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            return None  # urllib then raises HTTPError for the 3xx, which _refusal explains

    return urllib.request.build_opener(RefuseRedirects)


def _segment(text: str) -> str:
    return quote(text, safe="")


class GitHub(CodeHost):
    """GitHub and GitHub Enterprise Server: REST API 2022-11-28, pulls and issue comments."""

    platform = "github"
    label = "GitHub"
    token_variable = "GITHUB_TOKEN"
    token_scope = "pull-request write access (classic: repo scope; fine-grained: Pull requests read and write)"
    max_body_chars = 65_536

    def __init__(self, owner: str, repo: str, **kwargs: Any):
        super().__init__(f"{owner}/{repo}", **kwargs)
        self.owner, self.repo = owner, repo
        self._repo_api = f"{self.api_url}/repos/{_segment(owner)}/{_segment(repo)}"

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28"}

    def compare_url(self, base: str, head: str) -> str:
        return (f"{self.web_url}/{self.owner}/{self.repo}/compare/"
                f"{quote(base, safe='/')}...{quote(head, safe='/')}?expand=1")

    def _open_requests(self, source_branch: str | None = None) -> list[ChangeRequest]:
        query: dict[str, Any] = {"state": "open", "per_page": PER_PAGE}
        if source_branch is not None:
            query["head"] = f"{self.owner}:{source_branch}"
        own = f"{self.owner}/{self.repo}".lower()
        found = []
        for pull in self._pages(f"{self._repo_api}/pulls", query):
            head_repo = ((pull.get("head") or {}).get("repo") or {}).get("full_name")
            if head_repo and head_repo.lower() != own:
                continue  # a fork's branch of the same name is not ours
            request = self._request(pull)
            if source_branch is None or request.source_branch == source_branch:
                found.append(request)
        return found

    def _create(self, source: str, target: str, title: str, body: str) -> ChangeRequest:
        answer = self._call("POST", f"{self._repo_api}/pulls",
                            body={"title": title, "head": source, "base": target, "body": body})
        return self._request(answer.data)

    def _update(self, request: ChangeRequest, title: str, body: str) -> ChangeRequest:
        answer = self._call("PATCH", f"{self._repo_api}/pulls/{_segment(request.number)}",
                            body={"title": title, "body": body})
        return self._request(answer.data)

    def close(self, request: ChangeRequest, comment: str) -> None:
        number = _segment(request.number)
        self._call("POST", f"{self._repo_api}/issues/{number}/comments", body={"body": self._fitted(comment)})
        self._call("PATCH", f"{self._repo_api}/pulls/{number}", body={"state": "closed"})

    def _request(self, pull: Any) -> ChangeRequest:
        try:
            state = "merged" if pull.get("merged_at") else ("open" if pull["state"] == "open" else "closed")
            return ChangeRequest(url=str(pull["html_url"]), number=str(pull["number"]),
                                 source_branch=str(pull["head"]["ref"]), target_branch=str(pull["base"]["ref"]),
                                 state=state)
        except (AttributeError, KeyError, TypeError):
            raise self._error("GitHub API answered with a pull request that lacks html_url, number, head.ref, "
                              "base.ref or state") from None


class GitLab(CodeHost):
    """GitLab.com and self-managed GitLab: REST API v4, merge requests and notes."""

    platform = "gitlab"
    label = "GitLab"
    token_variable = "GITLAB_TOKEN"
    token_scope = "the api scope and at least Developer role"
    max_body_chars = 1_000_000

    def __init__(self, path: str, **kwargs: Any):
        super().__init__(path, **kwargs)
        self.path = path
        self._project_api = f"{self.api_url}/projects/{_segment(path)}"

    def _auth_headers(self) -> dict[str, str]:
        return {"PRIVATE-TOKEN": self._token or ""}

    def compare_url(self, base: str, head: str) -> str:
        query = urlencode({"merge_request[source_branch]": head, "merge_request[target_branch]": base})
        return f"{self.web_url}/{self.path}/-/merge_requests/new?{query}"

    def _open_requests(self, source_branch: str | None = None) -> list[ChangeRequest]:
        query: dict[str, Any] = {"state": "opened", "per_page": PER_PAGE}
        if source_branch is not None:
            query["source_branch"] = source_branch
        found = []
        for merge_request in self._pages(f"{self._project_api}/merge_requests", query):
            source_project = merge_request.get("source_project_id")
            if source_project is not None and source_project != merge_request.get("project_id", source_project):
                continue  # from a fork
            request = self._request(merge_request)
            if source_branch is None or request.source_branch == source_branch:
                found.append(request)
        return found

    def _next_page_url(self, url: str, headers: Mapping[str, str]) -> str | None:
        """GitLab's x-next-page (empty on the last page); its Link header when a proxy drops x- headers."""
        next_page = (headers.get("x-next-page") or "").strip()
        if next_page.isdigit():
            parts = urlsplit(url)
            query = [pair for pair in parts.query.split("&") if pair and not pair.startswith("page=")]
            return parts._replace(query="&".join([*query, f"page={next_page}"])).geturl()
        if headers.get("x-next-page") is not None:
            return None
        return super()._next_page_url(url, headers)

    def _create(self, source: str, target: str, title: str, body: str) -> ChangeRequest:
        answer = self._call("POST", f"{self._project_api}/merge_requests",
                            body={"source_branch": source, "target_branch": target, "title": title,
                                  "description": body})
        return self._request(answer.data)

    def _update(self, request: ChangeRequest, title: str, body: str) -> ChangeRequest:
        answer = self._call("PUT", f"{self._project_api}/merge_requests/{_segment(request.number)}",
                            body={"title": title, "description": body})
        return self._request(answer.data)

    def close(self, request: ChangeRequest, comment: str) -> None:
        merge_request = f"{self._project_api}/merge_requests/{_segment(request.number)}"
        self._call("POST", f"{merge_request}/notes", body={"body": self._fitted(comment)})
        self._call("PUT", merge_request, body={"state_event": "close"})

    def _request(self, merge_request: Any) -> ChangeRequest:
        try:
            state = {"opened": "open", "merged": "merged"}.get(merge_request["state"], "closed")
            return ChangeRequest(url=str(merge_request["web_url"]), number=str(merge_request["iid"]),
                                 source_branch=str(merge_request["source_branch"]),
                                 target_branch=str(merge_request["target_branch"]), state=state)
        except (KeyError, TypeError):
            raise self._error("GitLab API answered with a merge request that lacks web_url, iid, source_branch, "
                              "target_branch or state") from None


class AzureDevOps(CodeHost):
    """Azure DevOps Services: Git REST API 7.1, pull requests and comment threads."""

    platform = "azure-devops"
    label = "Azure DevOps"
    token_variable = "AZURE_DEVOPS_EXT_PAT"
    token_scope = "the Code (Read & write) scope"
    max_body_chars = 4_000  # pull request descriptions are limited to 4,000 characters
    API_VERSION = "7.1"

    def __init__(self, org: str, project: str, repo: str, **kwargs: Any):
        super().__init__(f"{org}/{project}/{repo}", **kwargs)
        self.org, self.project, self.repo = org, project, repo
        self._repo_api = f"{self.api_url}/{_segment(project)}/_apis/git/repositories/{_segment(repo)}"
        self._repo_web = f"{self.web_url}/{_segment(project)}/_git/{_segment(repo)}"

    def _auth_headers(self) -> dict[str, str]:
        import base64

        return {"Authorization": "Basic " + base64.b64encode(f":{self._token}".encode()).decode("ascii")}

    def compare_url(self, base: str, head: str) -> str:
        return f"{self._repo_web}/pullrequestcreate?{urlencode({'sourceRef': head, 'targetRef': base})}"

    def _open_requests(self, source_branch: str | None = None) -> list[ChangeRequest]:
        query: dict[str, Any] = {"searchCriteria.status": "active"}
        if source_branch is not None:
            query["searchCriteria.sourceRefName"] = f"refs/heads/{source_branch}"
        found = []
        for skip in range(0, MAX_PAGES * PER_PAGE, PER_PAGE):
            answer = self._call("GET", f"{self._repo_api}/pullrequests",
                                query={**query, "$top": PER_PAGE, "$skip": skip, "api-version": self.API_VERSION})
            page = answer.data.get("value") if isinstance(answer.data, dict) else None
            if not isinstance(page, list):
                raise self._error("Azure DevOps API answered a pull request list without a value list")
            for pull in page:
                if isinstance(pull, dict) and pull.get("forkSource"):
                    continue  # from a fork
                request = self._request(pull)
                if source_branch is None or request.source_branch == source_branch:
                    found.append(request)
            if len(page) < PER_PAGE:
                return found
        raise self._error(f"Azure DevOps API listed more than {MAX_PAGES * PER_PAGE} active pull requests "
                          f"for {self.repository}; refused")

    def _create(self, source: str, target: str, title: str, body: str) -> ChangeRequest:
        answer = self._call("POST", f"{self._repo_api}/pullrequests", query={"api-version": self.API_VERSION},
                            body={"sourceRefName": f"refs/heads/{source}", "targetRefName": f"refs/heads/{target}",
                                  "title": title, "description": body})
        return self._request(answer.data)

    def _update(self, request: ChangeRequest, title: str, body: str) -> ChangeRequest:
        answer = self._call("PATCH", f"{self._repo_api}/pullrequests/{_segment(request.number)}",
                            query={"api-version": self.API_VERSION}, body={"title": title, "description": body})
        return self._request(answer.data)

    def close(self, request: ChangeRequest, comment: str) -> None:
        number = _segment(request.number)
        self._call("POST", f"{self._repo_api}/pullRequests/{number}/threads", query={"api-version": self.API_VERSION},
                   body={"comments": [{"parentCommentId": 0, "content": self._fitted(comment), "commentType": "text"}],
                         "status": "closed"})
        self._call("PATCH", f"{self._repo_api}/pullrequests/{number}", query={"api-version": self.API_VERSION},
                   body={"status": "abandoned"})

    def _request(self, pull: Any) -> ChangeRequest:
        try:
            number = str(pull["pullRequestId"])
            web = (pull.get("repository") or {}).get("webUrl")
            base = web.rstrip("/") if isinstance(web, str) and web.startswith("https://") else self._repo_web
            state = {"active": "open", "completed": "merged"}.get(pull["status"], "closed")
            return ChangeRequest(url=f"{base}/pullrequest/{number}", number=number,
                                 source_branch=str(pull["sourceRefName"]).removeprefix("refs/heads/"),
                                 target_branch=str(pull["targetRefName"]).removeprefix("refs/heads/"), state=state)
        except (AttributeError, KeyError, TypeError):
            raise self._error("Azure DevOps API answered with a pull request that lacks pullRequestId, "
                              "sourceRefName, targetRefName or status") from None
