"""Where a template, policy or repository lives: git URLs and paths, compared and shown safely.

These strings come from command lines and settings and, for `update`, `diff` and `fleet`, from
files inside repositories, so they are untrusted input. Nothing here runs git or opens a
connection: it only says what a string names, whether it lies inside a trusted prefix, and how
to show it without the credentials it may carry.
"""

from __future__ import annotations

import os
import posixpath
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

GIT_URL = re.compile(r"^(?:https?://|ssh://|git://|git@|git\+|file://|gh:|gl:)|\.git/?$")
SHORTHANDS = {"gh:": "https://github.com/{}.git", "gl:": "https://gitlab.com/{}.git"}
SCHEMES = {"https": 443, "http": 80, "ssh": 22, "git": 9418, "file": None}
# user@host:path, git's scp-like syntax (no slash before the colon).
SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^@/:]+):(?P<path>.*)$")
# Encoded dots, slashes and backslashes can be read as path segments by one side and not the other.
AMBIGUOUS_ESCAPE = re.compile(r"%(?:2e|2f|5c)", re.IGNORECASE)
USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]+)@")
# What git uses to reach a source that mlstack fetches: no `ext::` or other remote helpers.
ALLOWED_PROTOCOLS = "file:git:http:https:ssh"


def is_git_url(spec: str) -> bool:
    """Whether `spec` names a git repository to clone (rather than a template directory here)."""
    return bool(GIT_URL.search(spec)) and not os.path.isdir(spec)


def expand_shorthand(spec: str) -> str:
    """`gh:org/repo` and `gl:org/repo` as https URLs; `git+https://...` without the `git+`."""
    for prefix, pattern in SHORTHANDS.items():
        if spec.startswith(prefix):
            return pattern.format(spec[len(prefix):])
    return spec.removeprefix("git+")


def location_problem(spec: str) -> str | None:
    """Why `spec` cannot be a path or URL at all (git would read it as an option, say); None if it can."""
    if not spec.strip():
        return "it is empty"
    if spec.startswith("-"):
        return "it starts with '-', so git would read it as an option"
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in spec):
        return "it contains control characters"
    return None


@dataclass(frozen=True)
class Location:
    """A source in canonical form: a real absolute path, or scheme + host + port + normalised path."""

    scheme: str  # "path" for local files, "scp" for user@host:path, else the URL scheme
    host: str = ""
    port: int | None = None
    path: str = ""

    def contains(self, other: Location) -> bool:
        """Whether `other` is this location or lies below it (compared at path boundaries)."""
        if (self.scheme, self.host, self.port) != (other.scheme, other.host, other.port):
            return False
        base = self.path.rstrip("/")
        return not base or other.path == base or other.path.startswith(base + "/")


def parse_location(spec: str) -> Location | None:
    """The canonical form of a path or git URL; None when it can't be normalised without guessing."""
    if location_problem(spec):
        return None
    text = expand_shorthand(spec.strip())
    if "\\" in text:
        return None
    if "://" in text:
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES or parts.query or parts.fragment or AMBIGUOUS_ESCAPE.search(parts.path):
            return None
        path = unquote(parts.path)
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                return None
            return Location("path", path=os.path.realpath(path))
        host = (parts.hostname or "").rstrip(".")
        if not host:
            return None
        return Location(scheme, host, None if port == SCHEMES[scheme] else port, _normalised(path))
    scp = SCP_LIKE.match(text)
    if scp and not os.path.exists(text):
        path = scp.group("path")
        if AMBIGUOUS_ESCAPE.search(path):
            return None
        return Location("scp", scp.group("host").lower().rstrip("."), None, _normalised(path, absolute=False))
    return Location("path", path=os.path.realpath(os.path.expanduser(text)))


def _normalised(path: str, *, absolute: bool = True) -> str:
    """Dot segments resolved as a server would resolve them; no trailing slash."""
    if not path:
        return "/" if absolute else ""
    normal = posixpath.normpath(path if not absolute or path.startswith("/") else "/" + path)
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    return normal


def is_within(spec: str, prefixes: list[str]) -> bool:
    """Whether `spec` lies inside one of `prefixes`, both normalised first (never a string prefix test)."""
    location = parse_location(spec)
    if location is None:
        return False
    return any(prefix_location is not None and prefix_location.contains(location)
               for prefix_location in (parse_location(prefix) for prefix in prefixes if prefix.strip()))


def redact(text: str) -> str:
    """A URL, or free text such as a git error, without the credentials in its URLs.

    `https://user:token@host/...` becomes `https://host/...`: a bare `https://<token>@host/`
    is a credential too. An ssh user name stays (it is part of the address, not a secret).
    """
    return USERINFO.sub(_without_secret, text)


def _without_secret(match: re.Match) -> str:
    scheme, userinfo = match.group("scheme"), match.group("userinfo")
    if scheme.lower() in ("ssh://", "git+ssh://") and ":" not in userinfo:
        return match.group(0)
    if scheme.lower() in ("ssh://", "git+ssh://"):
        return f"{scheme}{userinfo.split(':', 1)[0]}@"
    return scheme
