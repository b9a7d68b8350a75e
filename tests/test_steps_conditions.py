"""check-steps: a condition a line's reason states is used, and named; without it the line is judged as written.

``vanishing`` (the ReLU part): ReLU'(z_l) = 1 only on active units, so
``\\prod_{l=1}^{L} \\operatorname{ReLU}'(z_l) = \\prod_{l=1}^{L} 1`` holds for z_l > 0, not for every
z_l (z_l = -1 gives 0 against 1, by hand). The reason ``active units ($z_l > 0$)`` states that
condition (the derivation's own reason, en and zh); the verdict then says it. The same line with no
condition, a condition of the wrong sign, or a right condition under a wrong right side stays wrong.
"""

from __future__ import annotations

import pytest

from derive.check.steps import check_steps

RELU = r"\prod_{l=1}^{L} \operatorname{ReLU}'(z_l) = "


def _line(right: str, reason: str, lang: str = "en") -> dict:
    text = "\\begin{align*}\n" + RELU + right + (f" \\tag*{{{reason}}}" if reason else "") + "\n\\end{align*}\n"
    report = check_steps(text, "vanishing", lang)
    (line,) = report["lines"]
    return line


@pytest.mark.parametrize("right, reason, lang", [
    (r"\prod_{l=1}^{L} 1", r"active units ($z_l > 0$)", "en"),
    (r"\prod_{l=1}^{L} 1", r"激活的单元（$z_l > 0$）", "zh"),
    ("1", r"since $z_l > 0$ in every layer", "en"),
    ("1", "the product of the ReLU slopes along active units", "en"),  # names the rule active-units
    (r"\prod_{l=1}^{L} 0", r"inactive units ($z_l < 0$)", "en"),       # ReLU'(z) = 0 there: true, and said
])
def test_a_line_right_under_the_stated_condition_is_valid_and_says_it(right, reason, lang):
    line = _line(right, reason, lang)
    assert line["verdict"] == "valid", line
    assert "z_l > 0" in line["feedback"] or "z_l < 0" in line["feedback"], line["feedback"]


@pytest.mark.parametrize("right, reason", [
    (r"\prod_{l=1}^{L} 1", ""),                                   # no condition stated
    ("1", "evaluate the product"),                                 # a reason that states none
    (r"\prod_{l=1}^{L} 1", r"inactive units ($z_l < 0$)"),          # the wrong sign
    (r"\prod_{l=1}^{L} 1", r"($z_l \geq -1$)"),                    # a bound other than 0
    (r"\prod_{l=1}^{L} 0", r"active units ($z_l > 0$)"),            # wrong under the condition
    ("L", r"active units ($z_l > 0$)"),
    (r"\prod_{l=1}^{L} 1", r"($L > 0$)"),                           # a condition on another quantity
    ("0", "the product of the ReLU slopes along active units"),
    (r"\prod_{l=1}^{L} 1", r"($z_l > 0 \input{/etc/passwd}$)"),    # unreadable math states nothing
    (r"\prod_{l=1}^{L} 1", "along inactive units"),                 # negates the rule active-units
    (r"\prod_{l=1}^{L} 1", "非激活单元"),
])
def test_a_line_wrong_under_its_stated_condition_or_without_one_stays_wrong(right, reason):
    line = _line(right, reason)
    assert line["verdict"] == "wrong", line



def _alone(text: str) -> dict:
    (line,) = check_steps("\\begin{align*}\n" + text + "\n\\end{align*}\n", "vanishing")["lines"]
    return line


STATIONARY = r" \tag*{the slope is largest where its derivative is $0$}"


@pytest.mark.parametrize("text", [
    # the largest slope of the sigmoid is sigma(0)(1 - sigma(0)) = 1/4 (by hand: sigma(0) = 1/2), not at 1, not 1/2
    r"\max_x \sigma'(x) = \sigma(1) \left(1 - \sigma(1)\right)",
    r"\max_x \sigma'(x) = \frac{1}{2}",
    r"\max_x \tanh'(x) = \frac{1}{4}",                      # tanh's is 1
    # the stationary point of the slope is where the SECOND derivative is 0: sigma'(x) = 0 has no solution
    r"\sigma'(x) = 0" + STATIONARY,
    r"\tanh'(x) = 0" + STATIONARY,
    # the chain rule through L layers multiplies slopes and weights
    r"\frac{\partial a_L}{\partial a_0} = \prod_{l=1}^{L} f(z_l) w_l",
    r"\frac{\partial a_L}{\partial a_0} = \sum_{l=1}^{L} f'(z_l) w_l",
    r"\frac{\partial a_L}{\partial a_0} = \prod_{l=1}^{L} \sigma'(z_l) w_l",  # f is any activation, not sigma
    # \sigma and \tanh are the sigmoid and tanh (not the activation f): sigma(0) = 1/2, tanh(0) = 0 by hand
    r"\sigma(0) = 1",
    r"\tanh(0) = \frac{1}{2}",
    r"\sigma'(x) = \sigma(x)(1 + \sigma(x))",
    r"\tanh'(x) = 1 + \tanh(x)^2",
    # z_l in the product is the general (real) z: all z_l = 1 gives 1, one z_l = -1 gives 0 (by hand)
    r"\prod_{l=1}^{L} \operatorname{ReLU}'(z_l) = \prod_{l=1}^{L} 0",
    r"\prod_{l=1}^{L} \operatorname{ReLU}'(z_l) = 0",
    r"\prod_{l=1}^{L} \operatorname{ReLU}'(z_l) = 1",
])
def test_a_wrong_maximum_stationary_condition_or_chain_stays_wrong(text):
    assert _alone(text)["verdict"] == "wrong"


@pytest.mark.parametrize("text", [
    r"\max_x \sigma'(x) = \sigma(0) \left(1 - \sigma(0)\right)",
    r"\sigma''(x) = 0" + STATIONARY,
    r"\frac{\partial a_L}{\partial a_0} = \prod_{l=1}^{L} f'(z_l) w_l",
])
def test_the_right_maximum_stationary_condition_and_chain_follow(text):
    assert _alone(text)["verdict"] == "valid"


@pytest.mark.parametrize("text", [
    r"\operatorname{ReLU}(L) = 0 \tag*{($L < 0$)}",            # L, the number of layers, is never negative
    r"\operatorname{ReLU}(L) = 0 \tag*{($L \le 0$)}",
])
def test_a_condition_the_problem_excludes_makes_no_line_right(text):
    assert _alone(text)["verdict"] == "wrong"
