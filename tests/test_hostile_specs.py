"""Backprop node expressions are read as written (issue 13, point 7), as tables.

Each construct is a node ``L = ...`` of a problem with x1 = 1/2, x2 = 3, w = -2, run through
``derive backprop --json``; its value is compared with the same numbers computed independently
here, by Python's fractions (exact) or math (floats). The expressions that cannot be read or
computed are refused with one line naming the node and what is wrong. The whole table runs in
one fresh process under a time limit (``run_table``).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import pytest
from hostile import assert_one_line_error, run_table, write

X1, X2, W = Fraction(1, 2), Fraction(3), Fraction(-2)


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


#: expression -> its value at x1 = 1/2, x2 = 3, w = -2, computed here (a Fraction is exact)
VALUES = {
    "x1^10": X1**10,                               # was 0: TeX reads ^10 as ^1 then 0
    "2^10": Fraction(1024),
    "x1**12": X1**12,                              # was 2/5
    "x2^12 - 1": X2**12 - 1,
    "2^3^2": Fraction(2) ** 9,                     # right-associative, as in Python
    "(2^3)^2": Fraction(64),
    "-x2^2": -(X2**2),                             # the power binds tighter than the minus
    "(-x2)^2": X2**2,
    "2^-1": Fraction(1, 2),
    "w**-2": W**-2,
    "x2*-w": X2 * -W,
    "x2 - -w": X2 + W,
    "--w": W,
    "-(x1 + x2)^2": -((X1 + X2) ** 2),
    "x1/x2/w": X1 / X2 / W,                        # left-associative
    "x2 - 1 - 1": X2 - 2,
    "x2^2/2": X2**2 / 2,
    "(x2 - x1)^2/2": (X2 - X1) ** 2 / 2,
    "1e-3*x2": Fraction(3, 1000),
    "1.5E2*x1": Fraction(75),
    ".5*x2": Fraction(3, 2),
    "5.*x1": Fraction(5, 2),
    "0.1 + 0.2": Fraction(3, 10),                  # exact, not 0.30000000000000004
    "((((x2))))": X2,
    "  x1   +x2 ": X1 + X2,
    "relu(w)": Fraction(0),
    "relu(x2 + w)": Fraction(1),
    "relu(-w)^2": W**2,
    "mse(x2, x1)": (X2 - X1) ** 2 / 2,
    "mse(relu(x2), w*x1)": (X2 - W * X1) ** 2 / 2,
    "x1 * w^2 - 3*x2": X1 * W**2 - 3 * X2,
    "sigmoid(x1)": _sigmoid(0.5),
    "sigmoid(w)*x2": _sigmoid(-2) * 3,
    "tanh(w)": math.tanh(-2),
    "exp(x1)": math.exp(0.5),
    "exp(-x2^2)": math.exp(-9),
    "log(x2)": math.log(3),
    "log(x1)*w": math.log(0.5) * -2,
    "bce(x1, x1)": math.log(2),
    "bce(sigmoid(w), 1)": -math.log(_sigmoid(-2)),
    "x2^0.5": math.sqrt(3),
    "x2^(1/2)*x2^(1/2)": Fraction(3),
}

#: expression -> a fragment of the one-line refusal (which also names the node)
REFUSED = {
    "mse(x1)": "mse takes 2 arguments (mse(a, b)), not 1",
    "relu(x1, x2)": "relu takes 1 argument (relu(x)), not 2",
    "bce(x1, x2, w)": "bce takes 2 arguments (bce(a, b)), not 3",
    "relu()": "relu takes 1 argument (relu(x)), not 0",
    "sigmoid(x1, x1)": "sigmoid takes 1 argument",
    "log(w)": "log of -2, a value that is not positive",
    "log(x1 - 0.5)": "log of 0, a value that is not positive",
    "bce(x2, x1)": "log of -2, a value that is not positive",
    "log(0)": "is undefined",
    "x1/0": "is undefined",
    "1/(x2 - 3)": "undefined at these values",
    "w^0.5": "is not a real number",
    "(-8)^(1/3)": "is not a real number",
    "2 x1": "expected an operator before 'x1'",
    "2x1": "expected an operator before 'x1'",
    "x1 x2": "expected an operator before 'x2'",
    "x1 # note": "unexpected '#'",
    "x1 = 2": "unexpected '='",
    "x1^": "it ends too early",
    "(x1 + x2": "is not closed",
    "x1)": "expected an operator before ')'",
    "relu": "relu is a function: write relu(...)",
    "": "it is empty",
    "sin(x1)": "'sin' is not an input, a parameter or an earlier node",
    "pi*x1": "'pi' is not an input, a parameter or an earlier node",
    "__import__('os')": "unexpected \"'\" at character 12",
    "__import__": "'__import__' is not an input",
    "\\input{/etc/hostname}": "unexpected '\\\\'",
    "x1 ^ 1000000000": "limit backprop.digits",
    "exp(exp(exp(100)))": "limit backprop.magnitude",
    "1e999999*x1": "limit backprop.digits",
    "(" * 70 + "x1" + ")" * 70: "nested more than 60 levels deep",
    "-" * 2000 + "x1": "limit backprop.expression",
}


def _spec(expression: str) -> str:
    return (f"loss = \"L\"\nsteps = 0\n[inputs]\nx1 = 0.5\nx2 = 3\n[params]\nw = -2\n[nodes]\n"
            f"L = {json.dumps(expression)}\n")


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> dict[str, tuple]:
    folder: Path = tmp_path_factory.mktemp("specs")
    rows = {text: ["backprop", write(folder / f"node{n}.toml", _spec(text)), "--json"]
            for n, text in enumerate([*VALUES, *REFUSED])}
    return run_table(rows, timeout=300)


@pytest.mark.parametrize("expression", list(VALUES))
def test_an_expression_is_read_as_written(table, expression):
    status, out, err = table[expression]
    assert status == 0 and not err, err
    node = json.loads(out)["forward"]["L"]
    expected = VALUES[expression]
    if isinstance(expected, Fraction):
        assert Fraction(node["exact"]) == expected, node
    else:
        assert math.isclose(node["float"], expected, rel_tol=1e-12), (node, expected)


@pytest.mark.parametrize("expression", list(REFUSED))
def test_an_expression_that_cannot_be_read_or_computed_is_one_line_naming_the_node(table, expression):
    status, _, err = table[expression]
    assert_one_line_error(status, err, 2, REFUSED[expression])
    assert "node L" in err, err
