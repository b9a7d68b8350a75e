"""Every command the README and the manual show runs, and prints what they say it prints.

A page's ```sh blocks run in order, as one bash script each (``set -euo pipefail``), in a temporary
folder made for the page (a copy of examples/ and audits/, nothing else), shared by the page's blocks. A ```text
block right after a ```sh block is its output, stdout and stderr merged: lines compare with trailing
spaces stripped; a line ``...`` stands for any number of lines, ``...`` inside a line for any text.
``python -m derive serve`` runs in the background until the page ends. The README's first two
blocks, the install commands, are what CI itself runs (tests/test_readme.py keeps them so).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
SERVE = re.compile(r"^python -m derive serve\b.*--port (\d+)", re.M)
FOLDERS = ("examples", "audits")  # what a page's commands may name, as a reader in a clone would
INSTALL_BLOCKS = 2  # README's first two blocks: the set-up commands CI runs itself
BLOCK_SECONDS = 600


def examples(page: Path) -> list[tuple[str, str | None]]:
    """The page's ```sh blocks, each with the ```text block that follows it (or None)."""
    text = page.read_text(encoding="utf-8")
    blocks = [(match.group(1), match.group(2), match.start(), match.end()) for match in BLOCK.finditer(text)]
    pairs = []
    for index, (language, body, _start, end) in enumerate(blocks):
        if language != "sh":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        expected = None
        if following and following[0] == "text" and not text[end:following[2]].strip():
            expected = following[1]
        pairs.append((body, expected))
    return pairs[INSTALL_BLOCKS:] if page.name == "README.md" and page.parent == ROOT else pairs


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` is ``expected`` line by line, ``...`` lines and ``...`` in lines as wildcards."""
    pattern = []
    for line in expected.rstrip("\n").splitlines():
        line = line.rstrip()
        if line == "...":
            pattern.append(r"(?:[^\n]*\n)*?")
        else:
            pattern.append(r"[^\n]*?".join(re.escape(piece) for piece in line.split("...")) + r"[ \t]*\n")
    lines = "".join(line.rstrip() + "\n" for line in actual.rstrip("\n").splitlines())
    return re.fullmatch("".join(pattern), lines) is not None


def _wait_for_port(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"serve ended with status {server.returncode}: {server.stdout.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)  # polling a port that is being opened, not a pause in a test
    raise AssertionError(f"serve did not answer on port {port} within {seconds} s")


@pytest.mark.parametrize("page", [page for page in PAGES if examples(page)],
                         ids=lambda page: str(page.relative_to(ROOT)))
def test_the_page_examples_run_and_print_what_the_page_shows(page, tmp_path):
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, tmp_path / folder)
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                   "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    servers = []
    try:
        for body, expected in examples(page):
            serve = SERVE.search(body)
            if serve:
                server = subprocess.Popen(["bash", "-c", serve.group(0)], cwd=tmp_path, env=environment,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                servers.append(server)
                _wait_for_port(int(serve.group(1)), server)
                body = SERVE.sub("", body)
            ran = subprocess.run(["bash", "-c", "set -euo pipefail\n" + body], cwd=tmp_path, env=environment,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, timeout=BLOCK_SECONDS)
            shown = f"{page.name}:\n{body}\nprinted:\n{ran.stdout}"
            assert ran.returncode == 0, f"exit status {ran.returncode} in " + shown
            assert "Traceback" not in ran.stdout, shown
            if expected is not None:
                assert matches(expected, ran.stdout), f"{shown}\nbut the page shows:\n{expected}"
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


@pytest.mark.parametrize("expected, actual, agree", [
    ("a\nb\n", "a\nb\n", True),
    ("a\nb\n", "a\nc\n", False),
    ("a\n...\nz\n", "a\nb\nc\nz\n", True),
    ("a\n...\nz\n", "a\nz\n", True),
    ("a\n...\nz\n", "a\nb\n", False),
    ("took ... s\n", "took 3.2 s\n", True),
    ("took ... s\n", "took 3.2 ms\n", False),
    ("a\n", "a\nb\n", False),           # an extra line the page does not show
    ("a   \n", "a\n", True),            # trailing spaces
    ("x = 1/4\n", "x = 1/4 \n", True),
    ("(1 + x)\n", "(1 + x)\n", True),   # regular-expression characters are literal
    ("(1 + x)\n", "1 + x\n", False),
])
def test_the_output_comparison_is_line_by_line_with_ellipses(expected, actual, agree):
    assert matches(expected, actual) is agree
