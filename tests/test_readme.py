"""The README's promises stay true: its commands, its catalog table."""

import re
from pathlib import Path

from derive import pdf
from derive.catalog import ENTRIES

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    assert blocks[0] == "pip install . && python -m derive xavier --latex"
    assert blocks[1].startswith("apt-get update && apt-get install -y") and blocks[1].endswith(
        "pip install -e '.[test]' && python -m pytest")
    assert all(package in blocks[1] for package in pdf.TEX_PACKAGES.split() + ["poppler-utils"])
    assert blocks[1] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_catalog_table_lists_every_entry_and_its_targets():
    for entry in ENTRIES:
        row = next(line for line in README.splitlines() if line.startswith(f"| `{entry.name}` |"))
        assert f"| {entry.family} |" in row
        for target in entry.targets:
            assert f"`{target}`" in row, (entry.name, target)


def test_readme_shows_a_command_for_every_example():
    for spec in (ROOT / "examples").glob("*.toml"):
        if "[[entry]]" in spec.read_text(encoding="utf-8"):  # a teacher's catalog file, used with --catalog
            assert f"--catalog examples/{spec.name}" in README
            continue
        assert f"python -m derive sheet examples/{spec.name} --pdf" in README
