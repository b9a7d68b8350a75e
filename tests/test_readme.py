"""The README's promises stay true: the two commands for a fresh machine, short, the manual named.

Its tour runs in tests/test_docs_examples.py; the catalog table and the examples are in docs/ (tests/test_docs.py)."""

import re
from pathlib import Path

from derive import pdf

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    assert blocks[0] == "pip install . && python -m derive xavier --latex"
    assert blocks[1].startswith("apt-get update && apt-get install -y") and blocks[1].endswith(
        "pip install -e '.[test]' && python -m pytest")
    assert all(package in blocks[1] for package in pdf.TEX_PACKAGES.split() + ["poppler-utils"])
    assert blocks[1] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_is_read_in_five_minutes_and_points_to_the_manual():
    assert len(README.splitlines()) <= 150
    assert "docs/index.md" in README and "--help" in README
