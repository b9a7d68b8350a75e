"""`derive NAME --param KEY=VALUE`: a target's value is shown in the notation, never with a Python key.

Every catalog entry, each of its parameters given alone (a value inside its domain), in every format:
no key of a quantity (n_in, var_z_prev, square_x, ...) is printed as a bare name, where the quantity's
notation differs from its key. JSON's `sympy` field, the symbols' `name` and the `values` object are
the machine's names (docs/reference/json-outputs.md) and are left out of the scan.
"""

import json
import re
from fractions import Fraction

import pytest
import sympy as sp

import derive
from derive.cli import cli
from derive.printing import NotationStrPrinter
from derive.render import render

# the first one inside a parameter's domain is given
CANDIDATES = [sp.Integer(3), sp.Rational(1, 2), sp.Integer(2), sp.Rational(1, 3), sp.Rational(-1, 2), sp.Integer(7),
              sp.Integer(1), sp.Integer(0)]
MACHINE_FIELDS = {"sympy", "name", "values"}


def _strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in MACHINE_FIELDS:
                yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _leaks(derivation, out: str, fmt: str) -> list[str]:
    text = NotationStrPrinter(derivation.quantities).doprint
    keys = [q.key for q in derivation.quantities if "_" in q.key and text(q.symbol) != q.key]
    texts = list(_strings(json.loads(out))) if fmt == "json" else [out]
    found = []
    for key in keys:
        bare = re.compile(r"(?<![\w\\])" + re.escape(key) + r"(?!\w)")
        found += [f"{key} in ...{t[max(0, m.start() - 40):m.end() + 10]}..." for t in texts for m in [bare.search(t)] if m]
    return found


@pytest.mark.parametrize("name", derive.names())
def test_no_key_printed_for_any_parameter(name):
    derivation = derive.get(name)
    for key, quantity in derivation.parameters().items():
        value = next(v for v in CANDIDATES if quantity.domain.contains(v))
        for fmt in ("text", "latex", "md", "json"):
            out = render(derivation, fmt, values={key: value})
            assert not _leaks(derivation, out, fmt), (name, key, fmt, _leaks(derivation, out, fmt))


def run(capsys, *args):
    status = cli(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_kaiming_untouched_targets_show_no_value(capsys):
    status, out, err = run(capsys, "kaiming", "--param", "n_in=512")
    results = out.split("Results:")[1]
    assert status == 0 and not err
    # 2/512, sqrt(2/512), sqrt(6/512) by hand; the fan-out and second-moment results hold no n_in
    assert "Var(W_ij^(l)) = 2/M_(l-1) = 1/256 ~ 0.00390625" in results
    assert "sigma = sqrt(2/M_(l-1)) = 1/16 ~ 0.0625" in results
    assert "r = sqrt(6/M_(l-1)) = sqrt(3)/16 ~ 0.108253" in results
    assert "Var(W_ij^(l)) = 2/M_l\n" in results
    assert "= Var(z_j^(l-1))/2\n" in results and "var_z_prev" not in out and "n_out" not in out
    status, out, _ = run(capsys, "kaiming", "--param", "n_in=512", "--json")
    targets = json.loads(out)["targets"]
    assert Fraction(targets["var"]["value"]) == Fraction(2, 512) and targets["var"]["float"] == 2 / 512
    assert set(targets["var_fan_out"]) == set(targets["second_moment"]) == {"latex", "sympy"}


def test_a_partial_value_is_latex_in_the_notation(capsys):
    status, out, _ = run(capsys, "xavier", "--param", "n_in=512", "--json")
    var = json.loads(out)["targets"]["var"]
    assert status == 0 and "value" not in var and "float" not in var
    assert var["value_latex"] == r"\frac{2}{512 + M_l}"
    status, out, _ = run(capsys, "xavier", "--param", "n_in=512")
    assert "Var(W_ij^(l)) = 2/(M_(l-1) + M_l) = 2/(512 + M_l)\n" in out


@pytest.mark.parametrize("param", ["t=2", "T=3", "k=1"])
def test_a_bound_index_is_not_the_parameter(capsys, param):
    """bptt's t is a parameter of the one-step Jacobian and the index of a product elsewhere."""
    status, out, err = run(capsys, "bptt", "--param", param)
    assert status == 0 and not err and "Traceback" not in out
    assert not re.search(r"(?<![A-Za-z])_k", out)  # no dummy of SymPy's (a[_k])
