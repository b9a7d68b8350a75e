"""Rendered output compared with reviewed golden files under tests/golden/.

Regenerate after an intended change, then review the diff before committing:
    DERIVE_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

import os
from pathlib import Path

import pytest

import derive
from derive.params import parse_params
from derive.render import LAYOUTS, render, render_document, render_sheet
from derive.sheet import read_spec

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = sorted(p for p in (Path(__file__).parents[1] / "examples").glob("*.toml")
                  if "[[entry]]" not in p.read_text(encoding="utf-8"))  # not a teacher's catalog file
CASES = [
    ("xavier", "latex", "en", []),
    ("xavier", "text", "zh", ["n_in=256", "n_out=128"]),
    ("sigmoid", "latex", "en", []),
    ("kaiming", "latex", "zh", []),
    ("softmax-ce", "md", "en", []),
    ("bce-sigmoid", "latex", "en", []),
    ("mlp-backprop", "latex", "en", []),
    ("conv-backprop", "latex", "zh", []),
    ("mlp-cost", "text", "en", []),
    ("vanishing", "latex", "en", []),
    ("variance-recursion", "md", "zh", []),
]
SUFFIX = {"latex": "tex", "text": "txt", "md": "md"}


@pytest.mark.parametrize("name, fmt, lang, params", CASES, ids=[f"{c[0]}-{c[2]}.{SUFFIX[c[1]]}" for c in CASES])
def test_rendering_matches_golden_file(name, fmt, lang, params):
    derivation = derive.get(name)
    output = render(derivation, fmt, lang, parse_params(derivation, params))
    _check(GOLDEN / f"{name}-{lang}.{SUFFIX[fmt]}", output)


def _check(path: Path, output: str) -> None:
    if os.environ.get("DERIVE_UPDATE_GOLDEN"):
        path.write_text(output, encoding="utf-8")
    assert output == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_and_layout_matches_golden_file(spec, layout):
    sheet = read_spec(spec)
    suffix = "" if layout == "handout" else f"-{layout}"
    _check(GOLDEN / f"{sheet.name}{suffix}.tex", render_sheet(sheet, layout, sheet.lang))


@pytest.mark.parametrize("name, lang, params", [("sigmoid", "zh", []), ("xavier", "en", ["n_in=256", "n_out=128"])])
def test_single_derivation_document_matches_golden_file(name, lang, params):
    derivation = derive.get(name)
    _check(GOLDEN / f"{name}-{lang}-document.tex", render_document(derivation, lang, parse_params(derivation, params)))
