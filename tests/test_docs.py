"""The manual in docs/: it builds as a site with no warning, and it covers the catalog and the examples."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from derive.catalog import ENTRIES

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"


def test_the_manual_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "site" / "reference" / "sheet-spec" / "index.html").is_file()


def test_catalog_table_lists_every_entry_and_its_targets():
    rows = (DOCS / "catalog.md").read_text(encoding="utf-8").splitlines()
    for entry in ENTRIES:
        row = next(line for line in rows if line.startswith(f"| `{entry.name}` |"))
        assert f"| {entry.family} |" in row
        for target in entry.targets:
            assert f"`{target}`" in row, (entry.name, target)


def test_every_example_spec_is_shown_with_its_command():
    handouts = (DOCS / "handouts.md").read_text(encoding="utf-8")
    teacher = (DOCS / "teacher-catalog.md").read_text(encoding="utf-8")
    for spec in (ROOT / "examples").glob("*.toml"):
        if "[[entry]]" in spec.read_text(encoding="utf-8"):  # a teacher's catalog file, used with --catalog
            assert f"--catalog examples/{spec.name}" in teacher
            continue
        assert f"python -m derive sheet examples/{spec.name} --pdf" in handouts


def test_every_page_links_only_to_files_that_exist():
    # mkdocs checks this too; here it holds without mkdocs, as GitHub shows the pages
    for page in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not re.match(r"[a-z]+:", target):
                assert (page.parent / target).exists(), (page.name, target)


def test_every_command_is_shown_running_in_the_manual():
    from derive.commands import COMMANDS

    shown = "\n".join(body for page in DOCS.rglob("*.md")
                      for body in re.findall(r"^```sh\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.S | re.M))
    for command in COMMANDS:
        assert re.search(rf"python -m derive {re.escape(command.name)}\b", shown), command.name
