"""A local HTTP server that answers like GitHub, GitLab and Azure DevOps document their REST APIs.

Shared by the code-host client tests and the `fleet update --open-pr` tests: the platforms
cannot be reached from here, so the fakes record every request and answer in the documented
shapes (GitHub REST 2022-11-28, GitLab REST v4, Azure DevOps Git 7.1).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

GITHUB_TOKEN = "ghp_FAKE0github0SECRET0token"
GITLAB_TOKEN = "glpat-FAKE0gitlab0SECRET"
ADO_PAT = "adoFAKE0pat0SECRET0value"
WRONG_TOKEN = "wrong-SECRET-token-0123"

REMOTES = {
    "github": "https://github.com/acme/churn.git",
    "gitlab": "https://gitlab.com/acme/ml/churn.git",
    "azure-devops": "https://acme@dev.azure.com/acme/Data%20Science/_git/churn",
}
TOKEN_VARIABLES = {"github": "GITHUB_TOKEN", "gitlab": "GITLAB_TOKEN", "azure-devops": "AZURE_DEVOPS_EXT_PAT"}
TOKENS = {"github": GITHUB_TOKEN, "gitlab": GITLAB_TOKEN, "azure-devops": ADO_PAT}
PLATFORMS = list(REMOTES)
ADO_REPO = "/ado/acme/Data%20Science/_apis/git/repositories/churn"  # as sent: the project's space encoded


@dataclass
class Recorded:
    method: str
    path: str  # raw, as sent (GitLab's project id stays %2F-encoded)
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: object


def json_answer(status: int, payload: object, headers: dict[str, str] | None = None):
    return status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, json.dumps(payload).encode()


NOT_FOUND = (404, {"Content-Type": "application/json"}, b'{"message": "Not Found"}')


class FakeGitHub:
    """GitHub's pulls and issue-comments endpoints (docs.github.com/rest/pulls/pulls, /rest/issues/comments)."""

    def __init__(self, base: str):
        self.base = base
        self.pulls: dict[int, dict] = {}
        self.comments: list[tuple[int, str]] = []
        self.page_size = 100  # GitHub serves at most 100 per page, whatever per_page asks

    def add(self, head: str, base: str = "main", title: str = "t", body: str = "", state: str = "open",
            repo: str = "acme/churn") -> dict:
        number = len(self.pulls) + 1
        self.pulls[number] = {
            "url": f"{self.base}/repos/acme/churn/pulls/{number}", "html_url": f"https://github.com/acme/churn/pull/{number}",
            "number": number, "state": state, "title": title, "body": body, "merged_at": None,
            "head": {"label": f"{repo.split('/')[0]}:{head}", "ref": head, "repo": {"full_name": repo}},
            "base": {"label": f"acme:{base}", "ref": base, "repo": {"full_name": "acme/churn"}},
        }
        return self.pulls[number]

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body):
        if headers.get("authorization") != f"Bearer {GITHUB_TOKEN}":
            return json_answer(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                               "status": "401"})
        route = re.fullmatch(r"/repos/acme/churn/(pulls|issues)(?:/(\d+))?(/comments)?", path)
        if not route:
            return NOT_FOUND
        kind, number, comments = route.group(1), route.group(2), route.group(3)
        if kind == "pulls" and number is None and method == "GET":
            found = [p for p in self.pulls.values() if query.get("state", "open") in ("all", p["state"])
                     and query.get("head", p["head"]["label"]) == p["head"]["label"]]
            per_page = min(int(query.get("per_page", 30)), self.page_size)
            page = int(query.get("page", 1))
            link = {}
            if page * per_page < len(found):
                next_url = f"{self.base}/repos/acme/churn/pulls?{urlencode({**query, 'page': page + 1})}"
                link = {"Link": f'<{next_url}>; rel="next"'}
            return json_answer(200, found[(page - 1) * per_page: page * per_page], link)
        if kind == "pulls" and number is None and method == "POST":
            if any(p["head"]["ref"] == body["head"] and p["state"] == "open" for p in self.pulls.values()):
                return json_answer(422, {"message": "Validation Failed", "errors": [
                    {"resource": "PullRequest", "code": "custom",
                     "message": f"A pull request already exists for acme:{body['head']}."}]})
            return json_answer(201, self.add(body["head"], body["base"], body["title"], body["body"]))
        pull = self.pulls.get(int(number)) if number else None
        if pull is None:
            return NOT_FOUND
        if kind == "pulls" and method == "PATCH":
            pull.update({key: body[key] for key in ("title", "body", "state") if key in body})
            return json_answer(200, pull)
        if kind == "issues" and comments and method == "POST":
            self.comments.append((pull["number"], body["body"]))
            return json_answer(201, {"id": len(self.comments), "body": body["body"],
                               "html_url": f"{pull['html_url']}#issuecomment-{len(self.comments)}"})
        return NOT_FOUND


class FakeGitLab:
    """GitLab's merge request and notes endpoints (docs.gitlab.com/api/merge_requests, /api/notes)."""

    def __init__(self, base: str):
        self.base = base
        self.merge_requests: dict[int, dict] = {}
        self.notes: list[tuple[int, str]] = []
        self.page_size = 100  # GitLab's per_page maximum

    def add(self, source: str, target: str = "main", title: str = "t", description: str = "",
            state: str = "opened", source_project_id: int = 42) -> dict:
        iid = len(self.merge_requests) + 1
        self.merge_requests[iid] = {
            "id": 1000 + iid, "iid": iid, "project_id": 42, "source_project_id": source_project_id,
            "target_project_id": 42, "title": title, "description": description, "state": state,
            "source_branch": source, "target_branch": target,
            "web_url": f"https://gitlab.com/acme/ml/churn/-/merge_requests/{iid}",
        }
        return self.merge_requests[iid]

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body):
        if headers.get("private-token") != GITLAB_TOKEN:
            return json_answer(401, {"message": "401 Unauthorized"})
        # The project id is the URL-encoded full path: a raw slash would not reach this route.
        route = re.fullmatch(r"/projects/acme%2Fml%2Fchurn/merge_requests(?:/(\d+))?(/notes)?", path)
        if not route:
            return json_answer(404, {"message": "404 Project Not Found"})
        iid, notes = route.group(1), route.group(2)
        if iid is None and method == "GET":
            found = [m for m in self.merge_requests.values()
                     if query.get("state", "all") in ("all", m["state"])
                     and query.get("source_branch", m["source_branch"]) == m["source_branch"]]
            per_page = min(int(query.get("per_page", 20)), self.page_size)
            page = int(query.get("page", 1))
            pages = max(1, -(-len(found) // per_page))
            next_page = str(page + 1) if page < pages else ""
            headers_out = {"x-page": str(page), "x-per-page": str(per_page), "x-total": str(len(found)),
                           "x-total-pages": str(pages), "x-next-page": next_page,
                           "x-prev-page": str(page - 1) if page > 1 else ""}
            return json_answer(200, found[(page - 1) * per_page: page * per_page], headers_out)
        if iid is None and method == "POST":
            if any(m["source_branch"] == body["source_branch"] and m["state"] == "opened"
                   for m in self.merge_requests.values()):
                return json_answer(409, {"message": [
                    "Another open merge request already exists for this source branch: !1"]})
            return json_answer(201, self.add(body["source_branch"], body["target_branch"], body["title"],
                                       body.get("description", "")))
        merge_request = self.merge_requests.get(int(iid)) if iid else None
        if merge_request is None:
            return json_answer(404, {"message": "404 Not found"})
        if notes and method == "POST":
            self.notes.append((merge_request["iid"], body["body"]))
            return json_answer(201, {"id": len(self.notes), "body": body["body"], "noteable_iid": merge_request["iid"]})
        if method == "PUT":
            merge_request.update({key: body[key] for key in ("title", "description") if key in body})
            if body.get("state_event") == "close":
                merge_request["state"] = "closed"
            return json_answer(200, merge_request)
        return json_answer(404, {"message": "404 Not found"})


class FakeAzureDevOps:
    """Azure DevOps Git 7.1 pull requests and threads (learn.microsoft.com/rest/api/azure/devops/git/pull-requests)."""

    def __init__(self, base: str):
        self.base = base
        self.pulls: dict[int, dict] = {}
        self.threads: list[tuple[int, dict]] = []

    def add(self, source: str, target: str = "main", title: str = "t", description: str = "",
            status: str = "active") -> dict:
        number = len(self.pulls) + 1
        self.pulls[number] = {
            "repository": {"id": "3411ebc1-d5aa-464f-9615-0b527bc66719", "name": "churn",
                           "url": f"{self.base}/acme/Data%20Science/_apis/git/repositories/churn",
                           "webUrl": "https://dev.azure.com/acme/Data%20Science/_git/churn",
                           "project": {"name": "Data Science"}},
            "pullRequestId": number, "status": status, "title": title, "description": description,
            "sourceRefName": f"refs/heads/{source}", "targetRefName": f"refs/heads/{target}",
            "url": f"{self.base}/acme/Data%20Science/_apis/git/repositories/churn/pullRequests/{number}",
        }
        return self.pulls[number]

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body):
        expected = "Basic " + base64.b64encode(f":{ADO_PAT}".encode()).decode()
        if headers.get("authorization") != expected:
            return 401, {"Content-Type": "text/html"}, b"<html>Access Denied: the Personal Access Token expired.</html>"
        if query.get("api-version") != "7.1":
            return json_answer(400, {"message": "The requested REST API version is missing or unsupported."})
        route = re.fullmatch(r"/acme/Data%20Science/_apis/git/repositories/churn/pull[rR]equests(?:/(\d+))?(/threads)?",
                             path)
        if not route:
            return json_answer(404, {"message": "TF401019: The Git repository with name or identifier churn does "
                                          "not exist or you do not have permissions for the operation you are "
                                          "attempting."})
        number, threads = route.group(1), route.group(2)
        if number is None and method == "GET":
            found = [p for p in self.pulls.values()
                     if query.get("searchCriteria.status", "active") in ("all", p["status"])
                     and query.get("searchCriteria.sourceRefName", p["sourceRefName"]) == p["sourceRefName"]]
            skip, top = int(query.get("$skip", 0)), int(query.get("$top", 101))
            page = found[skip: skip + top]
            return json_answer(200, {"value": page, "count": len(page)})
        if number is None and method == "POST":
            if any(p["sourceRefName"] == body["sourceRefName"] and p["status"] == "active"
                   for p in self.pulls.values()):
                return json_answer(409, {"$id": "1", "innerException": None,
                                         "message": "TF401179: An active pull request "
                                   "for the source and target branch already exists.",
                                   "typeKey": "GitPullRequestExistsException"})
            pull = self.add(body["sourceRefName"].removeprefix("refs/heads/"),
                            body["targetRefName"].removeprefix("refs/heads/"), body["title"], body["description"])
            return json_answer(201, pull)
        pull = self.pulls.get(int(number)) if number else None
        if pull is None:
            return json_answer(404, {"message": "TF401180: The requested pull request was not found."})
        if threads and method == "POST":
            self.threads.append((pull["pullRequestId"], body))
            return json_answer(200, {"id": len(self.threads), "status": body.get("status"),
                               "comments": [{"id": 1, **comment} for comment in body["comments"]]})
        if method == "PATCH":
            pull.update({key: body[key] for key in ("title", "description", "status") if key in body})
            return json_answer(200, pull)
        return json_answer(404, {"message": "TF400813: resource not available"})


class PlatformServer:
    """A local HTTP server with the three fakes under /github, /gitlab and /ado; records every request."""

    def __init__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                record = Recorded(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                                  {name.lower(): value for name, value in self.headers.items()},
                                  json.loads(raw) if raw else None)
                server.requests.append(record)
                status, headers, payload = server.answer(record)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = _serve

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.reset()

    def reset(self):
        self.requests: list[Recorded] = []
        self.next_answers: list[tuple[int, dict, bytes]] = []  # canned answers that go before the fakes
        self.github = FakeGitHub(f"{self.url}/github")
        self.gitlab = FakeGitLab(f"{self.url}/gitlab")
        self.ado = FakeAzureDevOps(f"{self.url}/ado")

    def answer(self, record: Recorded):
        if self.next_answers:
            return self.next_answers.pop(0)
        for prefix, fake in (("/github", self.github), ("/gitlab", self.gitlab), ("/ado", self.ado)):
            if record.path.startswith(prefix + "/"):
                return fake.handle(record.method, record.path[len(prefix):], record.query, record.headers, record.body)
        return NOT_FOUND

    def fake(self, platform: str):
        return {"github": self.github, "gitlab": self.gitlab, "azure-devops": self.ado}[platform]

    def env(self, **tokens: str) -> dict[str, str]:
        """API URLs pointing here, plus the given tokens (GITHUB_TOKEN=..., ...)."""
        return {"MLSTACK_GITHUB_API_URL": f"{self.url}/github", "MLSTACK_GITLAB_API_URL": f"{self.url}/gitlab",
                "MLSTACK_AZURE_DEVOPS_API_URL": f"{self.url}/ado", **tokens}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
