"""Post one comment per topic on the current pull/merge request, editing it on re-runs.

Used for the staging Terraform plan and the integration-run link. The platform is detected
from the CI environment: GitHub Actions (GITHUB_TOKEN), Azure DevOps (System.AccessToken
mapped to SYSTEM_ACCESSTOKEN) or GitLab CI (a project access token in GITLAB_NOTE_TOKEN).
Tokens only go into request headers; nothing here prints them.

Usage: python ci/pr_comment.py --topic terraform-plan-staging --title "..." --code-file plan.txt
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

# GitHub caps a comment at 65,536 characters, Azure DevOps and GitLab allow about 150k/1M.
MAX_BODY_CHARS = 60_000
TIMEOUT_SECONDS = 30


class CommentError(Exception):
    """The comment could not be posted: missing context or a refused API call."""


class NoCommentChannel(CommentError):
    """The platform needs a token for comments that this project has not configured."""


def marker(topic: str) -> str:
    """The hidden line that identifies this topic's comment, so re-runs edit instead of piling up."""
    return f"<!-- mlstack:{topic} -->"


def comment_body(topic: str, text: str) -> str:
    body = f"{marker(topic)}\n{text}"
    if len(body) > MAX_BODY_CHARS:
        cut = "\n\n... (truncated: the full text is in the CI job's artifacts)\n"
        body = body[: MAX_BODY_CHARS - len(cut)] + cut
    return body


def code_block(title: str, code: str, limit: int = MAX_BODY_CHARS - 2_000) -> str:
    """A titled, collapsible code block, cut to `limit` characters."""
    if len(code) > limit:
        code = code[:limit] + "\n... (truncated: the full text is in the CI job's artifacts)"
    fence = "~~~~" if "```" in code else "```"
    return f"### {title}\n\n<details><summary>Show</summary>\n\n{fence}\n{code}\n{fence}\n\n</details>\n"


def _request(method: str, url: str, headers: dict[str, str], payload: Any = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - https API URLs from CI
            raw = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode("utf-8", "replace")
        raise CommentError(f"{method} {url.split('?')[0]} failed with HTTP {error.code}: {detail}") from None
    return json.loads(raw) if raw else None


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise CommentError(
            f"environment variable {name} is not set: run this inside the pull request's CI job"
        )
    return value


class Commenter:
    """Finds, creates and updates the topic comment on one pull/merge request."""

    def existing(self, topic: str) -> Any | None:
        raise NotImplementedError

    def create(self, body: str) -> None:
        raise NotImplementedError

    def update(self, handle: Any, body: str) -> None:
        raise NotImplementedError

    def post(self, topic: str, text: str) -> None:
        body = comment_body(topic, text)
        handle = self.existing(topic)
        if handle is None:
            self.create(body)
        else:
            self.update(handle, body)

    @staticmethod
    def from_environment() -> Commenter:
        if os.environ.get("GITHUB_ACTIONS") == "true":
            return GitHubPullRequest.from_environment()
        if os.environ.get("TF_BUILD"):
            return AzureDevOpsPullRequest.from_environment()
        if os.environ.get("GITLAB_CI"):
            return GitLabMergeRequest.from_environment()
        raise CommentError("no supported CI platform detected (GitHub Actions, Azure DevOps, GitLab CI)")


class GitHubPullRequest(Commenter):
    def __init__(self, api_url: str, repository: str, number: int, token: str):
        self.base = f"{api_url.rstrip('/')}/repos/{repository}"
        self.number = number
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    @classmethod
    def from_environment(cls) -> GitHubPullRequest:
        number = os.environ.get("PR_NUMBER")
        if not number:
            event = json.loads(Path(_require("GITHUB_EVENT_PATH")).read_text(encoding="utf-8"))
            number = (event.get("pull_request") or {}).get("number")
        if not number:
            raise CommentError("not a pull request event: set PR_NUMBER or run on pull_request")
        return cls(
            os.environ.get("GITHUB_API_URL", "https://api.github.com"),
            _require("GITHUB_REPOSITORY"),
            int(number),
            _require("GITHUB_TOKEN"),
        )

    def existing(self, topic: str) -> Any | None:
        for page in range(1, 11):
            url = f"{self.base}/issues/{self.number}/comments?per_page=100&page={page}"
            comments = _request("GET", url, self.headers) or []
            for comment in comments:
                if (comment.get("body") or "").startswith(marker(topic)):
                    return comment["id"]
            if len(comments) < 100:
                return None
        return None

    def create(self, body: str) -> None:
        _request("POST", f"{self.base}/issues/{self.number}/comments", self.headers, {"body": body})

    def update(self, handle: Any, body: str) -> None:
        _request("PATCH", f"{self.base}/issues/comments/{handle}", self.headers, {"body": body})


class GitLabMergeRequest(Commenter):
    def __init__(self, api_url: str, project_id: str, iid: int, token: str):
        self.base = (
            f"{api_url.rstrip('/')}/projects/{urllib.parse.quote(project_id, safe='')}/merge_requests/{iid}"
        )
        self.headers = {"PRIVATE-TOKEN": token}

    @classmethod
    def from_environment(cls) -> GitLabMergeRequest:
        token = os.environ.get("GITLAB_NOTE_TOKEN")
        if not token:
            raise NoCommentChannel(
                "GITLAB_NOTE_TOKEN is not set: add a project access token (role Reporter, "
                "scope api) as a masked variable to post notes on merge requests"
            )
        return cls(
            _require("CI_API_V4_URL"), _require("CI_PROJECT_ID"), int(_require("CI_MERGE_REQUEST_IID")), token
        )

    def existing(self, topic: str) -> Any | None:
        for page in range(1, 11):
            notes = (
                _request("GET", f"{self.base}/notes?per_page=100&sort=asc&page={page}", self.headers) or []
            )
            for note in notes:
                if (note.get("body") or "").startswith(marker(topic)):
                    return note["id"]
            if len(notes) < 100:
                return None
        return None

    def create(self, body: str) -> None:
        _request("POST", f"{self.base}/notes", self.headers, {"body": body})

    def update(self, handle: Any, body: str) -> None:
        _request("PUT", f"{self.base}/notes/{handle}", self.headers, {"body": body})


class AzureDevOpsPullRequest(Commenter):
    API_VERSION = "7.1"

    def __init__(
        self, collection_uri: str, project: str, repository_id: str, pull_request_id: int, token: str
    ):
        self.base = (
            f"{collection_uri.rstrip('/')}/{urllib.parse.quote(project)}/_apis/git/repositories/"
            f"{repository_id}/pullRequests/{pull_request_id}/threads"
        )
        self.headers = {"Authorization": f"Bearer {token}"}

    @classmethod
    def from_environment(cls) -> AzureDevOpsPullRequest:
        token = os.environ.get("SYSTEM_ACCESSTOKEN")
        if not token:
            raise CommentError("SYSTEM_ACCESSTOKEN is not set: map $(System.AccessToken) into the step's env")
        return cls(
            _require("SYSTEM_COLLECTIONURI"),
            _require("SYSTEM_TEAMPROJECTID"),
            _require("BUILD_REPOSITORY_ID"),
            int(_require("SYSTEM_PULLREQUEST_PULLREQUESTID")),
            token,
        )

    def existing(self, topic: str) -> Any | None:
        threads = _request("GET", f"{self.base}?api-version={self.API_VERSION}", self.headers) or {}
        for thread in threads.get("value", []):
            for comment in thread.get("comments") or []:
                if (comment.get("content") or "").startswith(marker(topic)):
                    return thread["id"], comment["id"]
        return None

    def create(self, body: str) -> None:
        # Status "closed": an informational thread must not block "all comments resolved" policies.
        payload = {
            "comments": [{"parentCommentId": 0, "content": body, "commentType": 1}],
            "status": "closed",
        }
        _request("POST", f"{self.base}?api-version={self.API_VERSION}", self.headers, payload)

    def update(self, handle: Any, body: str) -> None:
        thread_id, comment_id = handle
        url = f"{self.base}/{thread_id}/comments/{comment_id}?api-version={self.API_VERSION}"
        _request("PATCH", url, self.headers, {"content": body})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", required=True, help="one comment per topic, e.g. terraform-plan-staging")
    parser.add_argument("--title", required=True)
    parser.add_argument("--code-file", type=Path, help="text shown in a collapsible code block")
    parser.add_argument("--summary", default="", help="markdown shown above the code block")
    parser.add_argument(
        "--optional",
        action="store_true",
        help="warn instead of failing when the platform gives no way to comment",
    )
    args = parser.parse_args(argv)
    text = f"{args.summary}\n\n" if args.summary else ""
    if args.code_file:
        text += code_block(args.title, args.code_file.read_text(encoding="utf-8", errors="replace"))
    else:
        text = f"### {args.title}\n\n{text}"
    try:
        Commenter.from_environment().post(args.topic, text)
    except CommentError as error:
        if args.optional and isinstance(error, NoCommentChannel):
            print(f"warning: comment not posted: {error}", file=sys.stderr)
            return 0
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"posted {args.topic} on the pull request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
