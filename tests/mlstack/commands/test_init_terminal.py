"""`mlstack init` in a real pseudo-terminal (the standard library's pty; pexpect is not needed).

A test runner's input is not a terminal: these tests check what only a terminal shows
(colour, prompts as typed) and count the answers a person gives on the default path.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import yaml

from helpers import default_ctrl_c
from mlstack.errors import INTERRUPTED

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def own_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    default_ctrl_c()


class Terminal:
    """mlstack running on a pseudo-terminal, read and typed into like a person would."""

    def __init__(self, *args: str, cwd: Path, env: dict[str, str] | None = None):
        self.master, slave = pty.openpty()
        environment = {**os.environ, "TERM": "xterm", "COLUMNS": "120", **(env or {})}
        if "NO_COLOR" not in (env or {}):
            environment.pop("NO_COLOR", None)
        # Its own session with the pty as controlling terminal, as a shell would start it: Ctrl-C
        # typed there then interrupts mlstack (and never the test runner).
        self.process = subprocess.Popen([sys.executable, "-m", "mlstack", *args], stdin=slave, stdout=slave,
                                        stderr=slave, cwd=cwd, env=environment, preexec_fn=own_terminal)
        os.close(slave)
        self.raw = ""  # everything shown, escape codes included
        self.seen = 0  # how much of it the last prompt consumed

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw)

    def read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the other side closed: the process is done
            return False
        if not data:
            return False
        self.raw += data.decode("utf-8", errors="replace")
        return True

    def next_prompt(self, timeout: float = 60) -> str | None:
        """The text since the last answer once it ends in a prompt; None when the process ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = ANSI.sub("", self.raw[self.seen:])
            if shown.endswith(": "):
                self.seen = len(self.raw)
                return shown
            if not self.read(0.2):
                return None
        raise AssertionError(f"no prompt within {timeout}s; the terminal shows:\n{self.text[-2000:]}")

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def interrupt(self, presses: int = 3, patience: float = 10) -> None:
        """Press Ctrl-C, again if mlstack is still there after `patience` seconds, as a person would.

        A ^C typed the instant a prompt appears can land between CPython's input() printing the
        prompt and blocking in read(): the handler runs, but nothing checks it until the read
        returns (a bare `input()` loop on a pty shows the same under load). A person is never
        that fast; this test is, so it presses again instead of hanging."""
        for _ in range(presses):
            os.write(self.master, b"\x03")  # the terminal turns it into SIGINT for the foreground group
            deadline = time.monotonic() + patience
            while time.monotonic() < deadline and self.process.poll() is None:
                self.read(0.2)
            if self.process.poll() is not None:
                return

    def wait(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while self.read(0.2):
            if self.process.poll() is not None and not select.select([self.master], [], [], 0.2)[0]:
                break
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"mlstack still runs after {timeout}s; the terminal shows:\n{self.text[-2000:]}")
        code = self.process.wait(timeout=timeout)
        os.close(self.master)
        return code


def converse(terminal: Terminal, answers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Answer each prompt that starts with the text of the first pending (text, answer) pair
    (each used once), Enter otherwise; return (prompt line, typed) for every answer given."""
    given = []
    pending = list(answers)
    while (shown := terminal.next_prompt()) is not None:
        prompt = shown.splitlines()[-1]
        match = next((pair for pair in pending if prompt.startswith(pair[0])), None)
        if match:
            pending.remove(match)
        typed = match[1] if match else ""
        given.append((prompt, typed))
        terminal.type(typed)
    return given


def recorded(project: Path) -> dict:
    return yaml.safe_load((project / ".mlstack" / "answers.yml").read_text())


def test_default_path_takes_fewer_than_20_answers_with_colour_on_a_terminal(tmp_path):
    terminal = Terminal("init", "-o", str(tmp_path / "out"), cwd=tmp_path)
    given = converse(terminal, [])
    assert terminal.wait() == 0, terminal.text[-3000:]
    assert len(given) < 20, [prompt for prompt, _ in given]
    assert "\x1b[" in terminal.raw  # colour on a terminal
    text = terminal.text
    for section in ("== Project ==", "== Cloud and workspaces ==", "== CI/CD ==", "== Identities ==",
                    "== Schedules and compute ==", "== ML options =="):
        assert section in text
    assert "Review infrastructure details" in given[-2][0] and "Create the project?" in given[-1][0]
    assert "Summary (* = derived from the answers above it):" in text
    assert re.search(r"\d+\. project_slug +\* maternal-health-risk", text)  # derived, marked
    assert re.search(r"\d+\. project_name +  Maternal Health Risk", text)
    assert "Human-readable name; the folder, package and resource names derive from it." in text  # help
    assert recorded(tmp_path / "out" / "maternal-health-risk")["user_set"] == []


def test_choices_by_number_and_name_and_a_duplicate_principal_reported_at_once(tmp_path):
    terminal = Terminal("init", "-o", str(tmp_path / "out"), cwd=tmp_path, env={"NO_COLOR": "1"})
    given = converse(terminal, [
        ("Project name", "Churn Model"),
        ("Cloud", "2"),                       # by number: aws
        ("CI/CD platform", "GITLAB"),         # by name, any case
        ("Staging service principal", "prod-sp"),
        ("Prod service principal name", "prod-sp"),
        ("Prod service principal name", "churn-prod-sp"),
        ("Training engine", "single"),        # an unambiguous prefix
    ])
    assert terminal.wait() == 0, terminal.text[-3000:]
    assert "\x1b[" not in terminal.raw  # NO_COLOR
    prompts = [prompt for prompt, _ in given]
    # prod-sp, the template's default, now clashes with staging: it is not offered as the default.
    second = prompts.index("Prod service principal name: ")
    # Typed anyway, the clash is reported right after the second principal, and asked again without a default.
    between = terminal.text.split("Prod service principal name: prod-sp", 1)[1]
    assert between.lstrip().startswith("error: prod_sp_name='prod-sp': must differ from staging_sp_name")
    assert prompts[second + 1] == "Prod service principal name: " and "Identities" not in between
    assert "GitLab host (GitLab only) [gitlab.com]: " in prompts  # the conditional question follows the choice
    answers = recorded(tmp_path / "out" / "churn-model")["answers"]
    assert (answers["cloud"], answers["ci_platform"], answers["training_engine"]) == ("aws", "gitlab", "single_node")
    assert (answers["staging_sp_name"], answers["prod_sp_name"]) == ("prod-sp", "churn-prod-sp") and answers["git_repo_url"].startswith("https://gitlab.com/")


def test_near_miss_gets_did_you_mean_and_the_summary_changes_an_answer_by_number(tmp_path):
    terminal = Terminal("init", "-o", str(tmp_path / "out"), cwd=tmp_path, env={"NO_COLOR": "1"})
    given = []
    edited = False
    while (shown := terminal.next_prompt()) is not None:
        prompt = shown.splitlines()[-1]
        if prompt.startswith("Cloud") and "clod" not in terminal.text:
            typed = "clod"
        elif prompt.startswith("Cloud") and not edited and "azue" not in terminal.text:
            typed = "azue"
        elif prompt.startswith("Create the project?") and not edited:
            typed = "n"
        elif prompt.startswith("Change which answer"):
            number = re.findall(r"(\d+)\. owner_team ", terminal.text)[-1]
            typed, edited = number, True
        elif prompt.startswith("Owning team") and edited:
            typed = "clinical-ml"
        else:
            typed = ""
        given.append((prompt, typed))
        terminal.type(typed)
    assert terminal.wait() == 0, terminal.text[-3000:]
    text = terminal.text
    assert "error: cloud: 'clod' is not one of azure, aws, gcp" in text
    assert "error: cloud: 'azue' is not one of azure, aws, gcp (did you mean 'azure'?)" in text
    assert recorded(tmp_path / "out" / "maternal-health-risk")["answers"]["owner_team"] == "clinical-ml"


def test_ctrl_c_at_a_prompt_leaves_nothing_and_exits_130(tmp_path):
    terminal = Terminal("init", "-o", str(tmp_path / "out"), cwd=tmp_path)
    for answer in ("Half Done", "", ""):
        assert terminal.next_prompt() is not None
        terminal.type(answer)
    assert terminal.next_prompt() is not None
    terminal.interrupt()
    assert terminal.wait() == INTERRUPTED
    assert "interrupted" in terminal.text and not (tmp_path / "out").exists()
