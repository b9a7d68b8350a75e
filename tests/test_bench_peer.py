"""bench/peer_tables.py: which of a peer tool's test pairs count as plain mathematics."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
_SPEC = importlib.util.spec_from_file_location("peer_tables", ROOT / "bench" / "peer_tables.py")
peer = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(peer)


@pytest.mark.parametrize("side, stripped, reason", [
    ("$x = 11$", "x = 11", None),
    ("$$\\boxed{(2, 2), (1, 3)}$$", "(2, 2), (1, 3)", None),
    ("\\(\\boxed{6 \\text{ and } 8}\\)", "6 \\text{ and } 8", None),
    ("$\\boxed{\\frac{1}{3}}.$", "\\frac{1}{3}", None),
    ("7,425,000", "7,425,000", None),
    ("AB=4,CD=5", "AB=4,CD=5", None),
    ("$\\frac{1}{3} \\text{meters}$", "\\frac{1}{3} \\text{meters}", None),
    ("The answer is $\\boxed{2}$", None, "extraction from prose or several boxes"),
    ("$\\boxed{1}\\boxed{2}$", None, "extraction from prose or several boxes"),
    ("$21,16$ or $11$", None, "extraction from prose or several boxes"),
    ("$19, 46, and 82$", None, "prose words"),
    ("(11,7)or(7,11)", None, "prose words"),
    ("28 pct", None, "prose words"),
    ("$\\text{Evelyn}$", None, "a \\text answer"),
    ("$\text{13}$", None, "escapes: not the LaTeX meant"),
    ("$-2 \\\\le x \\\\le 7$", None, "escapes: not the LaTeX meant"),
    ("$\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}$",
     "\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}", None),
    ("$ $", "", "empty"),
])
def test_a_side_is_kept_only_if_plain_mathematics(side, stripped, reason):
    text, why = peer.side(side)
    assert why == reason
    if stripped is not None:
        assert text == stripped


TESTS = '''
import pytest
@pytest.mark.parametrize("gold,pred,expected", [("$1$", "$k=1$", 1), ("$2$", "$3$", 0), ("$1$", "$k=1$", 1),
                                              ("$1$", "so $1$", 1)])
def test_a(gold, pred, expected): pass
@pytest.mark.parametrize("gold,pred,expected,precision", [("$1/3$", "$0.33$", 1, 2), ("$4$", "$4$", 1, 6)])
def test_b(gold, pred, expected, precision): pass
@pytest.mark.parametrize("gold,pred,strict,expected", [("$f(x)$", "$f(y)$", True, 0)])
def test_c(gold, pred, strict, expected): pass
def test_d(): compare(precision=5)
@pytest.mark.parametrize("gold,pred,expected", [("$4$", "$4\\\\sqrt{2}$", 0)])
def test_e(gold, pred, expected): compare(gold, pred, precision=5)
'''


def test_extraction_keeps_default_option_rows_once_and_counts_the_rest():
    kept, dropped = peer.extract({"tests/test_x.py": TESTS}, "0" * 40)
    assert [(p["expected"], p["answer"], p["label"]) for p in kept] == [
        ("1", "k=1", "correct"), ("2", "3", "incorrect"), ("4", "4", "correct")]
    assert kept[0]["id"] == "mv-test_x-3" and kept[0]["source"] == "tests/test_x.py:3 test_a"
    assert dropped == {"duplicate": 1, "extraction from prose or several boxes": 1,
                       "precision other than 6": 2, "table varies a Math-Verify option": 1}


def test_committed_pairs_are_plain_and_labeled():
    pairs = [json.loads(line) for line in (ROOT / "bench" / "peer_pairs.jsonl").read_text().splitlines()]
    assert len(pairs) > 50 and {p["label"] for p in pairs} == {"correct", "incorrect"}
    assert all(peer.side(p["expected"]) == (p["expected"], None) for p in pairs)
    assert all(peer.side(p["answer"]) == (p["answer"], None) for p in pairs)
    assert len({(p["expected"], p["answer"], p["label"]) for p in pairs}) == len(pairs)
