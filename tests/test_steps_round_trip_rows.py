"""check-steps: each part of a derivation has its own facts, and the lines of one part that a slip
breaks stay wrong.

``pool-backprop`` derives average pooling and then max pooling, both written a^(l) and
delta^(l-1): in the max part, a^(l) is the maximum, and its derivative in the largest entry
z_11 is 1 (H(z_11 - max of the others)). ``variance-recursion`` states E[a^2] = g Var(z) with a
general gain g in one part and derives E[a^2] = Var(z), g_id = 1 for the identity in the next; the
recursion at every layer telescopes to a product over l = 2..L. Every row here is a slip of the
printed derivation (``derive NAME --latex``), in the same notation: the gradient put on an entry
that is not the largest, the delta factor dropped, the average's value in the max part, the
product from l = 1, a missing factor g, g_id = 2, the general gain used for the identity.
"""

from __future__ import annotations

import pytest

from derive.check.steps import check_steps

Z = ["{z^{(l-1)}}_{" + e + "}" for e in ("11", "12", "21", "22")]
MAX_ALL = r"\max\left(" + ", ".join(Z) + r"\right)"


def _step(entry: str, others: list[str], delta: str = r"\delta^{(l)} ") -> str:
    """``= delta H(z_entry - max(others))``: the derivative of the max put on ``entry``."""
    return "= " + delta + r"H\left(" + entry + r" - \max\left(" + ", ".join(others) + r"\right)\right)"


#: the max part of pool-backprop as printed (its lines 5-7)
MAX_PART = [
    r"{\delta^{(l-1)}}_{11} = \delta^{(l)} \frac{\partial a^{(l)}}{\partial {z^{(l-1)}}_{11}}",
    r"= \delta^{(l)} \frac{\partial}{\partial {z^{(l-1)}}_{11}} (" + MAX_ALL + ")",
    _step(Z[0], Z[1:]),
]
POOL_WRONG = {
    "gradient on a non-maximal entry": _step(Z[1], [Z[0], Z[2], Z[3]]),
    "delta dropped": _step(Z[0], Z[1:], delta=""),
    "the average's share in the max part": r"= \frac{\delta^{(l)}}{K'^{2}}",
    "always 1": r"= \delta^{(l)}",
}

VAR = r"{\operatorname{Var}(z)}"
TELESCOPING = VAR + r"_{L} = " + VAR + r"_{1} \prod_{l=2}^{L} \frac{" + VAR + r"_{l}}{" + VAR + r"_{l - 1}}"
PRODUCT = r"\Rightarrow " + VAR + r"_{L} = " + VAR + r"_{1} \prod_{l=%s}^{L} {M}_{l - 1} {\operatorname{Var}(W)}_{l}%s"
PRODUCT_WRONG = {"the product from l = 1": PRODUCT % (1, " g"), "the factor g missing": PRODUCT % (2, ""),
                 "the product to L - 1 only": PRODUCT.replace("^{L}", "^{L-1}") % (2, " g")}
A2, VAR_A, MEAN_A = r"\mathbb{E}[(a_j^{(l-1)})^2]", r"\operatorname{Var}(a_j^{(l-1)})", r"\mathbb{E}[a_j^{(l-1)}]"
VAR_Z = r"\operatorname{Var}(z_j^{(l-1)})"
#: the identity's part of variance-recursion as printed (its lines 11-15)
IDENTITY_PART = [
    A2 + " = " + VAR_A + r" + \left(" + MEAN_A + r"\right)^{2}",
    "= " + VAR_A,
    "= " + VAR_Z,
    r"g_{\mathrm{id}} = \frac{" + A2 + "}{" + VAR_Z + "}",
    "= 1",
]
IDENTITY_WRONG = {
    "g_id = 2": (4, "= 2"),
    "the general gain for the identity": (4, "= g"),
    "the second moment as g Var(z)": (2, "= g " + VAR_Z),
    "the second moment as the variance squared": (0, A2 + r" = \left(" + VAR_A + r"\right)^{2}"),
    "the gain times the variance of a": (2, "= g " + VAR_A),
}


#: the general part's recursion (lines 6-7) and slips that take the identity's facts into it
RECURSION = [r"\operatorname{Var}(z_i^{(l)}) = M_{l-1} \operatorname{Var}(W_{ij}^{(l)}) " + A2,
             r"= M_{l-1} \operatorname{Var}(W_{ij}^{(l)}) g " + VAR_Z]
MIXED = {"the gain dropped": [RECURSION[0], r"= M_{l-1} \operatorname{Var}(W_{ij}^{(l)}) " + VAR_Z],
         "the variance of a as the second moment over g": [VAR_A + " = \\frac{" + A2 + "}{g}"],
         "the identity's gain as g": [r"g_{\mathrm{id}} = g"]}


def _verdicts(problem: str, lines: list[str]) -> list[str]:
    report = check_steps("\n\n".join(lines), problem)
    return [line["verdict"] for line in report["lines"]]


def test_the_max_part_as_printed_is_valid():
    assert "wrong" not in _verdicts("pool-backprop", MAX_PART)


@pytest.mark.parametrize("slip", list(POOL_WRONG))
def test_a_slip_in_the_max_part_is_wrong(slip):
    verdicts = _verdicts("pool-backprop", [*MAX_PART[:2], POOL_WRONG[slip]])
    assert verdicts[:2] != ["wrong", "wrong"] and verdicts[2] == "wrong", verdicts


def test_the_telescoped_product_as_printed_is_valid_and_names_the_recursion():
    # the product's own index l is bound: the link still names the recursion it uses (not "skips")
    report = check_steps("\n\n".join([TELESCOPING, PRODUCT % (2, " g")]), "variance-recursion")
    line = report["lines"][1]
    assert (line["verdict"], line["rule"]) == ("valid", "recursion-every-layer"), line
    assert "the recursion at every layer" in line["feedback"]


@pytest.mark.parametrize("slip", list(PRODUCT_WRONG))
def test_a_slip_in_the_telescoped_product_is_wrong(slip):
    assert _verdicts("variance-recursion", [TELESCOPING, PRODUCT_WRONG[slip]])[1] == "wrong"


def test_the_identity_part_as_printed_is_valid():
    verdicts = _verdicts("variance-recursion", IDENTITY_PART)
    assert "wrong" not in verdicts, verdicts


@pytest.mark.parametrize("slip", list(IDENTITY_WRONG))
def test_a_slip_in_the_identity_part_is_wrong(slip):
    at, text = IDENTITY_WRONG[slip]
    lines = [*IDENTITY_PART[:at], text]
    assert _verdicts("variance-recursion", lines)[at] == "wrong"


def test_the_general_recursion_as_printed_is_valid():
    assert "wrong" not in _verdicts("variance-recursion", RECURSION)


@pytest.mark.parametrize("slip", list(MIXED))
def test_a_line_right_only_with_two_parts_facts_is_wrong(slip):
    assert _verdicts("variance-recursion", MIXED[slip])[-1] == "wrong"
