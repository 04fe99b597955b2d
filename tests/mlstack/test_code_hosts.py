"""The code-host clients of `fleet update --open-pr`, against a local server that answers like each platform.

GitHub, GitLab and Azure DevOps cannot be reached from here, so `PlatformServer` (http.server on
127.0.0.1) records every request (method, raw path, query, headers, JSON body) and answers the way
each platform documents its REST API: GitHub REST 2022-11-28 (pulls, issue comments, Link-header
pagination, `{"message": "Bad credentials"}`), GitLab REST v4 (merge_requests, notes, x-next-page
pagination, `{"message": "401 Unauthorized"}`), Azure DevOps Git 7.1 (pullrequests with
searchCriteria and $top/$skip, comment threads, `{"value": [...], "count": n}` lists, TF errors).
"""

from __future__ import annotations

import base64
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers.code_host_server import (
    ADO_PAT,
    ADO_REPO,
    GITHUB_TOKEN,
    GITLAB_TOKEN,
    PLATFORMS,
    REMOTES,
    TOKEN_VARIABLES,
    TOKENS,
    WRONG_TOKEN,
    PlatformServer,
    json_answer,
)
from mlstack import code_hosts
from mlstack.code_hosts import ChangeRequest, CodeHostError, host_for
from mlstack.errors import GIT_ERROR


@pytest.fixture(scope="module")
def module_server():
    server = PlatformServer()
    yield server
    server.close()


@pytest.fixture
def server(module_server):
    module_server.reset()
    return module_server


def client(server: PlatformServer, platform: str, token: str | None = None):
    host = host_for(REMOTES[platform], server.env(**{TOKEN_VARIABLES[platform]: token or TOKENS[platform]}))
    assert host is not None and host.platform == platform
    return host


def add_request(server: PlatformServer, platform: str, branch: str, state: str = "open"):
    """Seed the fake with an existing request, in the platform's own state words."""
    words = {"github": {"open": "open", "closed": "closed"}, "gitlab": {"open": "opened", "closed": "closed"},
             "azure-devops": {"open": "active", "closed": "abandoned"}}[platform]
    fake = server.fake(platform)
    if platform == "azure-devops":
        return fake.add(branch, status=words[state])
    return fake.add(branch, state=words[state])


# --- remote URLs -------------------------------------------------------------------------------

GHE = {"MLSTACK_GITHUB_HOSTS": "github.acme.internal, other.example"}
GLSM = {"MLSTACK_GITLAB_HOSTS": "gitlab.acme.com"}
GL_CI = {"CI_SERVER_HOST": "gitlab.ci.example", "CI_SERVER_URL": "https://gitlab.ci.example",
         "CI_API_V4_URL": "https://gitlab.ci.example/api/v4"}


@pytest.mark.parametrize(("remote", "env", "expected"), [
    ("https://github.com/acme/churn.git", {}, ("github", "acme/churn", "https://api.github.com")),
    ("https://github.com/acme/churn", {}, ("github", "acme/churn", "https://api.github.com")),
    ("git@github.com:acme/churn.git", {}, ("github", "acme/churn", "https://api.github.com")),
    ("ssh://git@ssh.github.com:443/acme/churn.git", {}, ("github", "acme/churn", "https://api.github.com")),
    ("https://x-access-token:ghp_SECRET@github.com/acme/churn.git", {}, ("github", "acme/churn", "https://api.github.com")),
    ("gh:acme/churn", {}, ("github", "acme/churn", "https://api.github.com")),
    ("https://github.acme.internal/acme/churn.git", GHE, ("github", "acme/churn", "https://github.acme.internal/api/v3")),
    ("git@GitHub.Acme.Internal:acme/churn.git", GHE, ("github", "acme/churn", "https://github.acme.internal/api/v3")),
    ("https://gitlab.com/acme/churn.git", {}, ("gitlab", "acme/churn", "https://gitlab.com/api/v4")),
    ("https://gitlab.com/acme/ml/churn.git", {}, ("gitlab", "acme/ml/churn", "https://gitlab.com/api/v4")),
    ("git@gitlab.com:acme/ml/deep/churn.git", {}, ("gitlab", "acme/ml/deep/churn", "https://gitlab.com/api/v4")),
    ("https://oauth2:glpat-SECRET@gitlab.com/acme/churn.git", {}, ("gitlab", "acme/churn", "https://gitlab.com/api/v4")),
    ("https://gitlab.acme.com:8443/team/churn.git", GLSM, ("gitlab", "team/churn", "https://gitlab.acme.com:8443/api/v4")),
    ("ssh://git@gitlab.acme.com:2222/team/churn.git", GLSM, ("gitlab", "team/churn", "https://gitlab.acme.com/api/v4")),
    ("git@gitlab.ci.example:team/churn.git", GL_CI, ("gitlab", "team/churn", "https://gitlab.ci.example/api/v4")),
    ("https://dev.azure.com/acme/ml/_git/churn", {}, ("azure-devops", "acme/ml/churn", "https://dev.azure.com/acme")),
    ("https://acme@dev.azure.com/acme/Data%20Science/_git/churn", {},
     ("azure-devops", "acme/Data Science/churn", "https://dev.azure.com/acme")),
    ("https://acme:PAT_SECRET@dev.azure.com/acme/ml/_git/churn", {}, ("azure-devops", "acme/ml/churn", "https://dev.azure.com/acme")),
    ("https://dev.azure.com/acme/_git/churn", {}, ("azure-devops", "acme/churn/churn", "https://dev.azure.com/acme")),
    ("ssh://git@ssh.dev.azure.com/v3/acme/ml/churn", {}, ("azure-devops", "acme/ml/churn", "https://dev.azure.com/acme")),
    ("git@ssh.dev.azure.com:v3/acme/Data%20Science/churn", {},
     ("azure-devops", "acme/Data Science/churn", "https://dev.azure.com/acme")),
    ("https://acme.visualstudio.com/ml/_git/churn", {}, ("azure-devops", "acme/ml/churn", "https://dev.azure.com/acme")),
    ("https://acme.visualstudio.com/DefaultCollection/ml/_git/churn", {},
     ("azure-devops", "acme/ml/churn", "https://dev.azure.com/acme")),
    ("acme@vs-ssh.visualstudio.com:v3/acme/ml/churn", {}, ("azure-devops", "acme/ml/churn", "https://dev.azure.com/acme")),
    # Not a code host mlstack talks to, or not a repository address at all.
    ("/srv/git/churn.git", {}, None),
    ("./churn", {}, None),
    ("file:///srv/git/churn.git", {}, None),
    ("https://bitbucket.org/acme/churn.git", {}, None),
    ("git@bitbucket.org:acme/churn.git", {}, None),
    ("https://github.acme.internal/acme/churn.git", {}, None),  # self-hosted, but not named in the env
    ("https://gitlab.acme.com/team/churn.git", {}, None),
    ("https://github.com/acme", {}, None),
    ("https://github.com/acme/churn/tree/main", {}, None),
    ("https://gitlab.com/acme/churn/-/tree/main", {}, None),
    ("https://dev.azure.com/acme/ml", {}, None),
    ("ssh://git@ssh.dev.azure.com/v2/acme/ml/churn", {}, None),
    ("", {}, None),
    ("-oProxyCommand=touch x", {}, None),
])
def test_host_for_reads_each_platform_remote_form(remote, env, expected):
    """Every remote form git accepts for the three platforms names the right repository; others give None."""
    host = host_for(remote, env)
    if expected is None:
        assert host is None
        return
    platform, repository, api_url = expected
    assert (host.platform, host.repository, host.api_url) == (platform, repository, api_url)
    assert "SECRET" not in repr(host) + host.compare_url("main", "x") + repr(vars(host))


def test_host_for_reads_os_environ_by_default(monkeypatch):
    """Without an explicit env, the token and self-hosted list come from the process environment."""
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("MLSTACK_GITHUB_HOSTS", "github.acme.internal")
    host = host_for("git@github.acme.internal:acme/churn.git")
    assert host is not None and host.has_token()
    monkeypatch.delenv("GITHUB_TOKEN")
    assert not host_for("git@github.com:acme/churn.git").has_token()


@pytest.mark.parametrize(("platform", "expected"), [
    ("github", "https://github.com/acme/churn/compare/main...mlstack/update-1.5?expand=1"),
    ("gitlab", "https://gitlab.com/acme/ml/churn/-/merge_requests/new?"
               "merge_request%5Bsource_branch%5D=mlstack%2Fupdate-1.5&merge_request%5Btarget_branch%5D=main"),
    ("azure-devops", "https://dev.azure.com/acme/Data%20Science/_git/churn/pullrequestcreate?"
                     "sourceRef=mlstack%2Fupdate-1.5&targetRef=main"),
])
def test_compare_url_is_the_platforms_new_request_page(platform, expected):
    """Without a token fleet update prints this page; it needs no API call and no token."""
    host = host_for(REMOTES[platform], {})
    assert not host.has_token()
    assert host.compare_url("main", "mlstack/update-1.5") == expected


def test_compare_url_of_github_enterprise_uses_its_own_host():
    """GitHub Enterprise's web UI lives on its own host, not github.com."""
    host = host_for("git@github.acme.internal:acme/churn.git", GHE)
    assert host.compare_url("main", "mlstack/update-1.5") == \
        "https://github.acme.internal/acme/churn/compare/main...mlstack/update-1.5?expand=1"


# --- the request flow on each platform ---------------------------------------------------------

def test_github_opens_a_pull_request_once_then_updates_it(server):
    """GitHub documents GET/POST /repos/{owner}/{repo}/pulls (head=owner:branch) and PATCH .../pulls/{n}."""
    host = client(server, "github")
    assert host.find_open("mlstack/update-1.5") is None
    lookup = server.requests[-1]
    assert (lookup.method, lookup.path) == ("GET", "/github/repos/acme/churn/pulls")
    assert lookup.query == {"state": "open", "head": "acme:mlstack/update-1.5", "per_page": "100"}
    assert lookup.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert lookup.headers["accept"] == "application/vnd.github+json"
    assert lookup.headers["x-github-api-version"] == "2022-11-28"

    created = host.open_or_update("mlstack/update-1.5", "main", "Template 1.5", "What changed")
    post = server.requests[-1]
    assert (post.method, post.path) == ("POST", "/github/repos/acme/churn/pulls")
    assert post.headers["content-type"] == "application/json"
    assert post.body == {"title": "Template 1.5", "head": "mlstack/update-1.5", "base": "main", "body": "What changed"}
    assert created == ChangeRequest("https://github.com/acme/churn/pull/1", "1", "mlstack/update-1.5", "main", "open")

    updated = host.open_or_update("mlstack/update-1.5", "main", "Template 1.5 (re-run)", "Checks pass")
    patch = server.requests[-1]
    assert (patch.method, patch.path) == ("PATCH", "/github/repos/acme/churn/pulls/1")
    assert patch.body == {"title": "Template 1.5 (re-run)", "body": "Checks pass"}
    assert updated.number == "1" and len(server.github.pulls) == 1
    assert server.github.pulls[1]["title"] == "Template 1.5 (re-run)"


def test_gitlab_opens_a_merge_request_once_then_updates_it(server):
    """GitLab documents GET/POST /projects/{url-encoded path}/merge_requests and PUT .../merge_requests/{iid}."""
    host = client(server, "gitlab")
    assert host.find_open("mlstack/update-1.5") is None
    lookup = server.requests[-1]
    assert (lookup.method, lookup.path) == ("GET", "/gitlab/projects/acme%2Fml%2Fchurn/merge_requests")
    assert lookup.query == {"state": "opened", "source_branch": "mlstack/update-1.5", "per_page": "100"}
    assert lookup.headers["private-token"] == GITLAB_TOKEN
    assert "authorization" not in lookup.headers

    created = host.open_or_update("mlstack/update-1.5", "main", "Template 1.5", "What changed")
    post = server.requests[-1]
    assert (post.method, post.path) == ("POST", "/gitlab/projects/acme%2Fml%2Fchurn/merge_requests")
    assert post.body == {"source_branch": "mlstack/update-1.5", "target_branch": "main", "title": "Template 1.5",
                         "description": "What changed"}
    assert created == ChangeRequest("https://gitlab.com/acme/ml/churn/-/merge_requests/1", "1",
                                    "mlstack/update-1.5", "main", "open")

    updated = host.open_or_update("mlstack/update-1.5", "main", "Template 1.5 (re-run)", "Checks pass")
    put = server.requests[-1]
    assert (put.method, put.path) == ("PUT", "/gitlab/projects/acme%2Fml%2Fchurn/merge_requests/1")
    assert put.body == {"title": "Template 1.5 (re-run)", "description": "Checks pass"}
    assert updated.number == "1" and len(server.gitlab.merge_requests) == 1


def test_azure_devops_opens_a_pull_request_once_then_updates_it(server):
    """ADO 7.1 documents GET/POST {org}/{project}/_apis/git/repositories/{repo}/pullrequests, PATCH .../{n}."""
    host = client(server, "azure-devops")
    assert host.find_open("mlstack/update-1.5") is None
    lookup = server.requests[-1]
    assert (lookup.method, lookup.path) == ("GET", f"{ADO_REPO}/pullrequests")
    assert lookup.query == {"searchCriteria.status": "active",
                            "searchCriteria.sourceRefName": "refs/heads/mlstack/update-1.5",
                            "$top": "100", "$skip": "0", "api-version": "7.1"}
    scheme, credentials = lookup.headers["authorization"].split(" ")
    assert scheme == "Basic" and base64.b64decode(credentials).decode() == f":{ADO_PAT}"  # empty user, PAT as password

    created = host.open_or_update("mlstack/update-1.5", "main", "Template 1.5", "What changed")
    post = server.requests[-1]
    assert (post.method, post.path, post.query) == ("POST", f"{ADO_REPO}/pullrequests", {"api-version": "7.1"})
    assert post.body == {"sourceRefName": "refs/heads/mlstack/update-1.5", "targetRefName": "refs/heads/main",
                         "title": "Template 1.5", "description": "What changed"}
    assert created == ChangeRequest("https://dev.azure.com/acme/Data%20Science/_git/churn/pullrequest/1", "1",
                                    "mlstack/update-1.5", "main", "open")

    updated = host.open_or_update("mlstack/update-1.5", "main", "Template 1.5 (re-run)", "Checks pass")
    patch = server.requests[-1]
    assert (patch.method, patch.path) == ("PATCH", f"{ADO_REPO}/pullrequests/1")
    assert patch.body == {"title": "Template 1.5 (re-run)", "description": "Checks pass"}
    assert updated.number == "1" and len(server.ado.pulls) == 1


def test_azure_devops_description_is_cut_to_its_4000_character_limit(server):
    """Azure DevOps refuses pull request descriptions over 4,000 characters; the body is cut with a note."""
    host = client(server, "azure-devops")
    host.open_or_update("mlstack/update-1.5", "main", "Template 1.5", "x" * 10_000)
    description = server.requests[-1].body["description"]
    assert len(description) == 4000 and "truncated by mlstack" in description


@pytest.mark.parametrize("platform", PLATFORMS)
def test_list_open_finds_every_prefixed_request_across_pages(server, platform):
    """Each platform pages its list (GitHub Link, GitLab x-next-page, Azure DevOps $top/$skip): all pages are read."""
    for version in ("1.1", "1.2", "1.3"):
        add_request(server, platform, f"mlstack/update-{version}")
    add_request(server, platform, "feature/mlstack/update-1.0")  # contains the prefix but does not start with it
    add_request(server, platform, "mlstack/update-1.0", state="closed")
    if platform == "azure-devops":  # pages of $top=100: push the prefixed requests onto a second page
        for number in range(100):
            add_request(server, platform, f"feature/{number}")
        add_request(server, platform, "mlstack/update-1.4")
        expected_pages = 2
    else:  # the server serves fewer per page than asked, as GitHub and GitLab do above 100
        server.fake(platform).page_size = 2
        add_request(server, platform, "mlstack/update-1.4")
        expected_pages = 3
    found = client(server, platform).list_open("mlstack/update-")
    assert sorted(request.source_branch for request in found) == [f"mlstack/update-1.{n}" for n in range(1, 5)]
    assert all(request.state == "open" and request.target_branch == "main" for request in found)
    assert [request.method for request in server.requests] == ["GET"] * expected_pages


def test_github_list_open_ignores_a_forks_branch_of_the_same_name(server):
    """A pull request from a fork has head.repo.full_name of the fork; only this repository's branches count."""
    server.github.add("mlstack/update-1.4", repo="someone/churn")
    assert client(server, "github").list_open("mlstack/update-") == []


def test_gitlab_list_open_ignores_a_forks_branch_of_the_same_name(server):
    """A merge request from a fork has another source_project_id than the project's own id."""
    server.gitlab.add("mlstack/update-1.4", source_project_id=7)
    assert client(server, "gitlab").list_open("mlstack/update-") == []


CLOSE_CALLS = {
    "github": [("POST", "/github/repos/acme/churn/issues/1/comments", {"body": "Superseded by 1.6"}),
               ("PATCH", "/github/repos/acme/churn/pulls/1", {"state": "closed"})],
    "gitlab": [("POST", "/gitlab/projects/acme%2Fml%2Fchurn/merge_requests/1/notes", {"body": "Superseded by 1.6"}),
               ("PUT", "/gitlab/projects/acme%2Fml%2Fchurn/merge_requests/1", {"state_event": "close"})],
    "azure-devops": [
        ("POST", f"{ADO_REPO}/pullRequests/1/threads",
         {"comments": [{"parentCommentId": 0, "content": "Superseded by 1.6", "commentType": "text"}],
          "status": "closed"}),
        ("PATCH", f"{ADO_REPO}/pullrequests/1", {"status": "abandoned"})],
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_close_comments_first_then_closes(server, platform):
    """A superseded request gets a comment saying why, then is closed (GitHub, GitLab) or abandoned (Azure DevOps)."""
    host = client(server, platform)
    request = host.open_or_update("mlstack/update-1.5", "main", "Template 1.5", "body")
    server.requests.clear()
    host.close(request, "Superseded by 1.6")
    assert [(r.method, r.path, r.body) for r in server.requests] == CLOSE_CALLS[platform]
    assert host.find_open("mlstack/update-1.5") is None


# --- failures ----------------------------------------------------------------------------------

@pytest.mark.parametrize("platform", PLATFORMS)
def test_refused_token_is_one_line_naming_the_variable_never_the_token(server, platform):
    """Each fake answers a wrong token with the platform's 401; the error names the variable and the fix."""
    host = client(server, platform, token=WRONG_TOKEN)
    with pytest.raises(CodeHostError) as raised:
        host.open_or_update("mlstack/update-1.5", "main", "Template 1.5", "body")
    message = raised.value.message
    assert message.startswith(f"{TOKEN_VARIABLES[platform]} was refused")
    assert "export a valid token" in message and "\n" not in message
    assert WRONG_TOKEN not in message and WRONG_TOKEN not in str(raised.value)
    assert raised.value.exit_code == GIT_ERROR
    assert len(server.requests) == 1  # nothing was attempted after the refusal


def test_azure_devops_sign_in_page_means_the_pat_was_refused(server):
    """Azure DevOps answers some unaccepted PATs with 203 and an HTML sign-in page instead of 401."""
    server.next_answers.append((203, {"Content-Type": "text/html"}, b"<html>Sign in to your account</html>"))
    with pytest.raises(CodeHostError, match=r"^AZURE_DEVOPS_EXT_PAT was refused"):
        client(server, "azure-devops").find_open("mlstack/update-1.5")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_missing_token_says_which_variable_to_set_and_sends_nothing(server, platform):
    """Without a token no request is made: fleet update shows compare_url() instead."""
    host = host_for(REMOTES[platform], server.env())
    assert not host.has_token()
    with pytest.raises(CodeHostError, match=rf"^{TOKEN_VARIABLES[platform]} is not set"):
        host.list_open("mlstack/update-")
    assert server.requests == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_token_with_a_line_break_is_refused_before_any_request(server, platform):
    """A token pasted with a newline would make http.client quote it in a ValueError; it is caught first."""
    host = client(server, platform, token=f"{WRONG_TOKEN}\nX-Injected: 1")
    with pytest.raises(CodeHostError) as raised:
        host.find_open("x")
    assert raised.value.message.startswith(f"{TOKEN_VARIABLES[platform]} contains spaces or control characters")
    assert WRONG_TOKEN not in raised.value.message and server.requests == []


@pytest.mark.parametrize(("platform", "answer", "expected"), [
    ("github", json_answer(422, {"message": "Validation Failed", "errors": [
        {"resource": "PullRequest", "code": "custom", "message": "No commits between main and mlstack/update-1.5"}]}),
     "GitHub refused the request (422): Validation Failed; No commits between main and mlstack/update-1.5"),
    ("gitlab", json_answer(409, {"message": ["Another open merge request already exists for this source branch: !4"]}),
     "GitLab refused the request (409): Another open merge request already exists for this source branch: !4"),
    ("azure-devops", json_answer(409, {"$id": "1", "typeKey": "GitPullRequestExistsException",
                                 "message": "TF401179: An active pull request for the source and target "
                                            "branch already exists."}),
     "Azure DevOps refused the request (409): TF401179: An active pull request for the source and target branch "
     "already exists."),
])
def test_platform_refusal_shows_its_own_message_on_one_line(server, platform, answer, expected):
    """422/409 bodies are the platforms' documented error shapes; their message is shown, on one line."""
    host = client(server, platform)
    host.find_open("mlstack/update-1.5")  # the lookup finds nothing, then the create is refused
    server.next_answers.append(answer)
    with pytest.raises(CodeHostError) as raised:
        host._create("mlstack/update-1.5", "main", "Template 1.5", "body")
    assert raised.value.message == expected


def test_error_text_from_the_server_cannot_echo_the_token_or_break_the_line(server):
    """A hostile or buggy server that quotes the token back, with newlines and escapes, is sanitised."""
    server.next_answers.append(json_answer(422, {"message": f"bad\nrequest \x1b[31m{GITHUB_TOKEN} via "
                                                      f"https://u:{GITHUB_TOKEN}@example.com/x"}))
    with pytest.raises(CodeHostError) as raised:
        client(server, "github").find_open("x")
    message = raised.value.message
    assert GITHUB_TOKEN not in message and "\n" not in message and "\x1b" not in message
    assert "***" in message and "https://example.com/x" in message


def test_not_found_says_the_repository_or_token_access_is_wrong(server):
    """GitHub answers 404 both for a missing repository and for one the token cannot see."""
    host = host_for("https://github.com/acme/missing.git", server.env(GITHUB_TOKEN=GITHUB_TOKEN))
    with pytest.raises(CodeHostError, match=r"^GitHub repository acme/missing not found, or GITHUB_TOKEN cannot see"):
        host.find_open("mlstack/update-1.5")


def test_rate_limit_is_not_mistaken_for_a_bad_token(server):
    """GitHub answers an exhausted rate limit with 403 and x-ratelimit-remaining: 0."""
    server.next_answers.append(json_answer(403, {"message": "API rate limit exceeded"}, {"x-ratelimit-remaining": "0"}))
    with pytest.raises(CodeHostError, match=r"rate limit reached \(403\); wait"):
        client(server, "github").find_open("x")


def test_redirects_are_not_followed_with_the_token(server):
    """A 301 (a renamed repository, or a hostile server) is reported; the token does not follow it."""
    server.next_answers.append((301, {"Location": "https://elsewhere.example/repos/acme/churn/pulls"}, b""))
    with pytest.raises(CodeHostError, match=r"redirected to https://elsewhere.example/.*update the remote URL"):
        client(server, "github").find_open("x")
    assert len(server.requests) == 1


def test_next_page_on_another_host_is_refused(server):
    """Pagination follows the Link header only on the API's own host, so the token stays there."""
    server.next_answers.append(json_answer(200, [], {"Link": '<https://elsewhere.example/pulls?page=2>; rel="next"'}))
    with pytest.raises(CodeHostError, match=r"next page at another host \(elsewhere.example\); refused"):
        client(server, "github").list_open("mlstack/")


@pytest.mark.parametrize(("answers", "expected"), [
    ([(200, {"Content-Type": "text/html"}, b"<html>proxy login</html>")],
     r"^GitHub API answered 200 with something other than JSON \(text/html\); is http://.* the API URL\?$"),
    ([(502, {"Content-Type": "text/html"}, b"<html>Bad gateway</html>")],
     r"^GitHub API failed \(502\); try again later$"),
    ([json_answer(200, {"not": "a list"})], r"answered a list request with something other than a list"),
    ([json_answer(200, []), json_answer(201, {"number": 3})], r"pull request that lacks html_url"),
])
def test_unexpected_answers_are_one_line_errors(server, answers, expected):
    """Non-JSON pages (a proxy's login), 5xx and JSON of the wrong shape are errors, not crashes."""
    server.next_answers.extend(answers)
    with pytest.raises(CodeHostError, match=expected):
        client(server, "github").open_or_update("mlstack/update-1.5", "main", "t", "b")


def test_a_response_larger_than_the_limit_is_refused(server, monkeypatch):
    """A runaway answer is not read into memory past MAX_RESPONSE_BYTES."""
    monkeypatch.setattr(code_hosts, "MAX_RESPONSE_BYTES", 1024)
    server.next_answers.append(json_answer(200, ["x" * 100] * 50))
    with pytest.raises(CodeHostError, match=r"answered with more than .* refused"):
        client(server, "github").find_open("x")


def test_unreachable_api_is_one_line(server):
    """A closed port stands in for a network failure: one line naming the API host."""
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()
    env = {"MLSTACK_GITLAB_API_URL": f"http://127.0.0.1:{port}", "GITLAB_TOKEN": GITLAB_TOKEN}
    host = host_for(REMOTES["gitlab"], env)
    with pytest.raises(CodeHostError, match=rf"^GitLab API at 127.0.0.1:{port} cannot be reached \(.+\); check"):
        host.find_open("x")


def test_github_merged_pull_request_reads_as_merged(server):
    """GitHub reports a merged pull request as state closed with merged_at set."""
    pull = server.github.add("mlstack/update-1.5", state="closed")
    pull["merged_at"] = "2026-12-01T10:00:00Z"
    assert client(server, "github")._request(pull).state == "merged"
