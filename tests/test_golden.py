"""Rendered output compared with reviewed golden files under tests/golden/.

Regenerate after an intended change, then review the diff before committing:
    DERIVE_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

import os
from pathlib import Path

import pytest

import derive
from derive.params import parse_params
from derive.render import render

GOLDEN = Path(__file__).parent / "golden"
CASES = [
    ("xavier", "latex", "en", []),
    ("xavier", "text", "zh", ["n_in=256", "n_out=128"]),
    ("sigmoid", "latex", "en", []),
    ("kaiming", "latex", "zh", []),
    ("softmax-ce", "md", "en", []),
    ("bce-sigmoid", "latex", "en", []),
]
SUFFIX = {"latex": "tex", "text": "txt", "md": "md"}


@pytest.mark.parametrize("name, fmt, lang, params", CASES, ids=[f"{c[0]}-{c[2]}.{SUFFIX[c[1]]}" for c in CASES])
def test_rendering_matches_golden_file(name, fmt, lang, params):
    derivation = derive.get(name)
    output = render(derivation, fmt, lang, parse_params(derivation, params))
    path = GOLDEN / f"{name}-{lang}.{SUFFIX[fmt]}"
    if os.environ.get("DERIVE_UPDATE_GOLDEN"):
        path.write_text(output, encoding="utf-8")
    assert output == path.read_text(encoding="utf-8")
