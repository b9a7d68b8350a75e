"""check-steps: definitions are definitions, conventions are named.

A line that introduces a quantity (seed 001 §3.1: z_i^(l) = sum_j W_ij a_j + b_i, the error
delta_i^(l) = dL/dz_i^(l)) is accepted as a ``definition`` when it is the problem's own
definition, and named so; every variant in the same notation that defines something else (a
sum to M_l, a dropped weight index, a wrong sign, a dropped bias: the course's z has one, the
error as dL/da) stays wrong. A chain whose middle is another name of its left side (Var(W) =
sigma^2 = 2/(M_l + M_{l-1}), seed 001 §3.1.2) states its left side's value. A line right under
a convention of the problem (seed 000 §2.4: the error taken as 0 outside the map) is valid and
its verdict names the convention; a flipped kernel stays wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.check.batch import summarize_steps
from derive.check.steps import check_steps

Z_DEFINITION = r"z_i^{(l)} = \sum_{j=1}^{M_{l-1}} W_{ij}^{(l)} a_j^{(l-1)} + b_i^{(l)}"  # seed 001 §3.1, line 1
ERROR_DEFINITION = r"\delta_i^{(l)} = \frac{\partial \mathcal{L}}{\partial z_i^{(l)}}"
#: seed 001 §3.1 up to the forward result and the harmonic mean, as the sheet writes it
XAVIER_HEAD = [
    r"\text{Var}(z_i^{(l)}) = \sum_{j=1}^{M_{l-1}} \text{Var}(W_{ij}^{(l)} a_j^{(l-1)})",
    r"\text{Var}(W_{ij}^{(l)} a_j^{(l-1)}) = \text{Var}(W_{ij}^{(l)}) \cdot \text{Var}(a_j^{(l-1)})",
    r"\sum_{j=1}^{M_{l-1}} \text{Var}(W_{ij}^{(l)}) \cdot \text{Var}(a_j^{(l-1)}) = \text{Var}(a_j^{(l-1)})",
    r"M_{l-1} \cdot \text{Var}(W_{ij}^{(l)}) \cdot \text{Var}(a_j^{(l-1)}) = \text{Var}(a_j^{(l-1)})",
    r"\text{Var}(W_{ij}^{(l)}) = \frac{1}{M_{l-1}}",
    r"\text{Var}(W_{ij}^{(l)}) = \frac{1}{M_l}",
    r"\text{Var}(W_{ij}^{(l)}) = \frac{2}{M_l + M_{l-1}}",
]
#: seed 001 §3.1.2, the last line: sigma^2 names the variance the sheet chose
SIGMA_LINE = r"\text{Var}(W_{ij}^{(l)}) = \sigma^2 = \frac{2}{M_l + M_{l-1}}"
#: seed 000 §2.4, equation (5), with delta for dL/dz: right when delta^(l+1) is 0 outside its map
CONV_RECURSION = (r"\delta_{ij}^{(l)} = f'(z_{ij}^{(l)}) \cdot \sum_{u=0}^{K-1} \sum_{v=0}^{K-1} \omega_{uv}^{(l+1)}"
                  r" \cdot \delta_{(i-u)(j-v)}^{(l+1)}")


def _lines(text: list[str] | str, problem: str, lang: str = "en") -> list[dict]:
    return check_steps("\n".join([text] if isinstance(text, str) else text), problem, lang)["lines"]


# -- definitions ------------------------------------------------------------------------------

@pytest.mark.parametrize("line, name", [
    (Z_DEFINITION, "z_i^{(l)}"),
    (r"z_i^{(l)} = b_i^{(l)} + \sum_{j=1}^{M_{l-1}} a_j^{(l-1)} W_{ij}^{(l)}", "z_i^{(l)}"),   # another order
    (ERROR_DEFINITION, r"\delta_i^{(l)}"),
    (r"\delta_i^{(l)} = \frac{\partial L}{\partial z_i^{(l)}}", r"\delta_i^{(l)}"),
    # seed 001 §3.1 writes the error whole: read at its entry, delta_i^(l) = dL/dz_i^(l)
    (r"\delta^{(l)} = \frac{\partial \mathcal{L}}{\partial z^{(l)}}", r"\delta^{(l)}"),
])
def test_a_definition_that_agrees_with_the_problems_is_named(line, name):
    (judged,) = _lines(line, "xavier")
    assert judged["verdict"] == "definition", judged
    assert judged["feedback"] == f"definition of {name}: agrees with the problem's"


@pytest.mark.parametrize("line", [
    r"z_i^{(l)} = \sum_{j=1}^{M_l} W_{ij}^{(l)} a_j^{(l-1)} + b_i^{(l)}",          # the sum to M_l
    r"z_i^{(l)} = \sum_{j=1}^{M_{l-1}} W_{j}^{(l)} a_j^{(l-1)} + b_i^{(l)}",       # a dropped weight index
    r"z_i^{(l)} = -\sum_{j=1}^{M_{l-1}} W_{ij}^{(l)} a_j^{(l-1)} + b_i^{(l)}",     # a wrong sign
    r"z_i^{(l)} = \sum_{j=1}^{M_{l-1}} W_{ij}^{(l)} a_j^{(l-1)} - b_i^{(l)}",      # the bias subtracted
    # the course's z has a bias: a definition without it is not the problem's (no "up to the bias")
    r"z_i^{(l)} = \sum_{j=1}^{M_{l-1}} W_{ij}^{(l)} a_j^{(l-1)}",
    r"z_i^{(l)} = \sum_{j=1}^{M_{l-1}} W_{ij}^{(l)} a_i^{(l-1)} + b_i^{(l)}",      # the input's index swapped
    r"z_i^{(l)} = \sum_{j=1}^{M_{l-1}} W_{ij}^{(l)} a_j^{(l-1)} + b_j^{(l)}",      # the bias of another unit
    r"\delta_i^{(l)} = \frac{\partial \mathcal{L}}{\partial a_i^{(l)}}",           # the error as dL/da
    r"\delta_i^{(l)} = -\frac{\partial \mathcal{L}}{\partial z_i^{(l)}}",          # a wrong sign
    r"\delta_i^{(l)} = \frac{\partial \mathcal{L}}{\partial W_{ij}^{(l)}}",        # dL/dW
    r"\delta_i^{(l)} = 2 \frac{\partial \mathcal{L}}{\partial z_i^{(l)}}",         # a factor
    r"\delta^{(l)} = \frac{\partial \mathcal{L}}{\partial a^{(l)}}",               # written whole: dL/da
    r"\delta^{(l)} = -\frac{\partial \mathcal{L}}{\partial z^{(l)}}",
    r"\delta^{(l)} = \frac{\partial \mathcal{L}}{\partial z^{(l-1)}}",             # the wrong layer
    r"\delta^{(l-1)} = \frac{\partial \mathcal{L}}{\partial z^{(l)}}",
    r"\delta^{(l)} = \frac{\partial \mathcal{L}}{\partial W^{(l)}}",
])
def test_a_definition_that_does_not_agree_stays_wrong(line):
    report = check_steps(line, "xavier")
    (judged,) = report["lines"]
    assert judged["verdict"] == "wrong", judged
    assert report["first_error"] == 1


def test_a_wrong_definition_after_the_right_one_is_not_a_rearrangement():
    # dL/da is not dL/dz: SymPy would take both as 0 (L does not contain z), so each is its own quantity
    lines = _lines([ERROR_DEFINITION, r"\delta_i^{(l)} = \frac{\partial \mathcal{L}}{\partial a_i^{(l)}}"], "xavier")
    assert [line["verdict"] for line in lines] == ["definition", "wrong"]
    assert "does not agree with the problem's" in lines[1]["feedback"]


@pytest.mark.parametrize("line, verdict", [
    (r"\frac{\partial \mathcal{L}}{\partial W_{ij}^{(l)}} = \delta_i^{(l)} a_j^{(l-1)}", "valid"),   # seed 001 §3.1
    (r"\frac{\partial \mathcal{L}}{\partial W_{ij}^{(l)}} = \delta_i^{(l)} \cdot a_j^{(l-1)}", "valid"),
    (r"\frac{\partial \mathcal{L}}{\partial W_{ij}^{(l)}} = \delta_j^{(l)} a_i^{(l-1)}", "wrong"),   # indices swapped
    (r"\frac{\partial \mathcal{L}}{\partial W_{ij}^{(l)}} = \delta_i^{(l)} W_{ij}^{(l)}", "wrong"),
    (r"\frac{\partial \mathcal{L}}{\partial b_{i}^{(l)}} = \delta_i^{(l)} a_j^{(l-1)}", "wrong"),    # dL/db is not dL/dW
    (r"\frac{\partial \mathcal{L}}{\partial W_{ij}^{(l)}} = -\delta_i^{(l)} a_j^{(l-1)}", "wrong"),
])
def test_the_weight_gradient_after_the_error_definition(line, verdict):
    lines = _lines([ERROR_DEFINITION, line], "xavier")
    assert lines[0]["verdict"] == "definition" and lines[1]["verdict"] == verdict, lines


def test_seed_001_forward_part_with_its_definition_exits_0():
    report = check_steps("\n".join([Z_DEFINITION, *XAVIER_HEAD, SIGMA_LINE]), "xavier")
    verdicts = [line["verdict"] for line in report["lines"]]
    assert verdicts[0] == "definition" and "wrong" not in verdicts and "unreadable" not in verdicts, verdicts
    assert report["first_error"] is None and report["final"] == {"target": "var", "verdict": "correct"}
    assert summarize_steps(report, "en")["verdict"] == "correct"


# -- a chain whose middle is another name ------------------------------------------------------

@pytest.mark.parametrize("line, verdict", [
    (SIGMA_LINE, "valid"),                                                    # sigma is the normal's std
    (r"\text{Var}(W_{ij}^{(l)}) = \sigma^2 = \frac{1}{M_l + M_{l-1}}", "wrong"),   # sigma^2 bound to the wrong value
    (r"\text{Var}(W_{ij}^{(l)}) = \sigma^2 = \frac{2}{M_l - M_{l-1}}", "wrong"),
    (r"\text{Var}(W_{ij}^{(l)}) = \sigma = \frac{2}{M_l + M_{l-1}}", "wrong"),     # sigma is not the variance
    (r"\text{Var}(W_{ij}^{(l)}) = \sigma^2 = \frac{2}{M_l}", "wrong"),
])
def test_a_name_in_the_middle_of_a_result(line, verdict):
    lines = _lines([*XAVIER_HEAD, line], "xavier")
    assert lines[-1]["verdict"] == verdict, lines[-1]


@pytest.mark.parametrize("line, verdict", [
    (r"\text{Var}(W_{ij}^{(l)}) = \tau^2 = \frac{2}{M_l + M_{l-1}}", "valid"),    # tau: a name the line brings
    (r"\text{Var}(W_{ij}^{(l)}) = \tau^2 = \frac{1}{M_l + M_{l-1}}", "wrong"),
    (r"\text{Var}(W_{ij}^{(l)}) = \tau^2 = \frac{2}{M_l}", "wrong"),
])
def test_a_new_name_bound_by_the_line(line, verdict):
    lines = _lines([*XAVIER_HEAD, line], "xavier")
    assert lines[-1]["verdict"] == verdict, lines[-1]


# -- conventions ------------------------------------------------------------------------------

def test_the_convolution_recursion_is_right_under_the_zero_padding_convention_and_says_so():
    report = check_steps(CONV_RECURSION, "conv-backprop")
    (line,) = report["lines"]
    assert line["verdict"] == "valid" and line["rule"] == "convention"
    assert line["feedback"] == r"follows under the convention: \delta^{(l+1)} is taken as 0 outside its map"
    assert report["final"] == {"target": "error_recursion", "verdict": "correct"}
    zh = check_steps(CONV_RECURSION, "conv-backprop", "zh")["lines"][0]["feedback"]
    assert zh == r"在约定下成立：\delta^{(l+1)} 在特征图之外取 0"


def test_a_line_right_as_written_names_no_convention():
    padded = CONV_RECURSION.replace(r"\delta_{(i-u)(j-v)}^{(l+1)}", r"\tilde{\delta}^{(l+1)}_{i-u,j-v}")
    (line,) = _lines(padded, "conv-backprop")
    assert line["verdict"] == "equal" and "convention" not in line["feedback"]


@pytest.mark.parametrize("variant", [
    r"\delta_{(i+u)(j+v)}^{(l+1)}",      # the kernel not flipped: a true correlation where the course convolves back
    r"\delta_{(i-v)(j-u)}^{(l+1)}",      # the kernel transposed
    r"\delta_{(i-u)(j+v)}^{(l+1)}",      # flipped in one direction only
    r"\delta_{(i-u-1)(j-v)}^{(l+1)}",    # shifted by one
])
def test_the_wrong_convention_stays_wrong(variant):
    report = check_steps(CONV_RECURSION.replace(r"\delta_{(i-u)(j-v)}^{(l+1)}", variant), "conv-backprop")
    (line,) = report["lines"]
    assert line["verdict"] == "wrong", line
    assert report["final"]["verdict"] == "incorrect"


@pytest.mark.parametrize("line", [
    CONV_RECURSION.replace(r"f'(z_{ij}^{(l)}) \cdot ", ""),                        # the slope dropped
    CONV_RECURSION.replace(r"\omega_{uv}^{(l+1)}", r"\omega_{vu}^{(l+1)}"),       # the kernel's indices swapped
    CONV_RECURSION.replace("= f'", "= -f'"),                                        # a wrong sign
    CONV_RECURSION.replace(r"\sum_{u=0}^{K-1}", r"\sum_{u=1}^{K}"),                # the offsets from 1
])
def test_a_slip_under_the_convention_stays_wrong(line):
    (judged,) = _lines(line, "conv-backprop")
    assert judged["verdict"] == "wrong", judged


# -- lines written with vectors and matrices (seed 001 §2.3), compared entry by entry ---------------

@pytest.mark.parametrize("line, verdict", [
    (r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}", "definition"),
    (r"z^{(l)} = (W^{(l)})^T a^{(l-1)} + b^{(l)}", "wrong"),        # the weights transposed
    (r"z^{(l)} = W^{(l)} a^{(l-1)}", "wrong"),                      # the course's layer has a bias
    (r"z^{(l)} = W^{(l)} a^{(l-1)} - b^{(l)}", "wrong"),
    (r"\delta^{(L)} = (a^{(L)} - y) \odot \sigma'(z^{(L)})", "valid"),
    (r"\delta^{(L)} = (a^{(L)} + y) \odot \sigma'(z^{(L)})", "wrong"),
    (r"\delta^{(L)} = (a^{(L)} - y) \odot \sigma'(z^{(l)})", "wrong"),                            # the wrong layer's slope
    (r"\delta^{(l)} = ((W^{(l+1)})^T \delta^{(l+1)}) \odot \sigma'(z^{(l)})", "valid"),
    (r"\delta^{(l)} = (W^{(l+1)} \delta^{(l+1)}) \odot \sigma'(z^{(l)})", "wrong"),               # no transpose
    (r"\delta^{(l)} = ((W^{(l+1)})^T \delta^{(l+1)}) \odot \sigma'(z^{(l+1)})", "wrong"),
    (r"\nabla_{W^{(l)}} = \delta^{(l)} (a^{(l-1)})^T", "valid"),
    (r"\nabla_{W^{(l)}} = a^{(l-1)} (\delta^{(l)})^T", "wrong"),                                  # the outer product turned
    (r"\nabla_{b^{(l)}} = \delta^{(l)}", "valid"),
    (r"\nabla_{b^{(l)}} = \sigma'(z^{(l)}) \odot \delta^{(l)}", "wrong"),
    # a count written as a number: right at n = 2 only, so the larger size finds it
    (r"\nabla_{b^{(l)}} = \frac{n}{2} \delta^{(l)}", "wrong"),
    (r"\nabla_{W^{(l)}} = \frac{n}{2} \delta^{(l)} (a^{(l-1)})^T", "wrong"),
    (r"\delta^{(l)} = \frac{2}{n} ((W^{(l+1)})^T \delta^{(l+1)}) \odot \sigma'(z^{(l)})", "wrong"),
])
def test_a_vector_line_is_compared_entry_by_entry(line, verdict):
    (judged,) = _lines(line, "mlp-backprop")
    assert judged["verdict"] == verdict, judged
    if verdict == "valid":
        assert judged["feedback"] == "follows entry by entry (n = 2, n = 3)"
    if verdict == "wrong":
        assert "entry = " in judged["feedback"]


def test_a_vector_result_is_the_final_result():
    lines = [r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}", r"\nabla_{b^{(l)}} = \delta^{(l)}"]
    report = check_steps("\n".join(lines), "mlp-backprop")
    assert report["final"] == {"target": "grad_b", "verdict": "correct"} and report["first_error"] is None
    slip = check_steps(r"\nabla_{b^{(l)}} = 2 \delta^{(l)}", "mlp-backprop")
    assert slip["final"] == {"target": "grad_b", "verdict": "incorrect"} and slip["first_error"] == 1


# -- a recognised reason orders the attempts, never accepts ------------------------------------

@pytest.mark.parametrize("line", [
    r"\text{Var}(W_{ij}^{(l)}) = \frac{1}{M_l + M_{l-1}} \tag{harmonic mean}",
    r"\text{Var}(W_{ij}^{(l)}) = \frac{1}{M_l + M_{l-1}} \quad \text{(调和平均)}",
    r"z_i^{(l)} = \sum_{j=1}^{M_{l-1}} W_{ij}^{(l)} a_j^{(l-1)} \quad \text{(定义)}",
    r"\text{Var}(W_{ij}^{(l)} a_j^{(l-1)}) = \text{Var}(W_{ij}^{(l)}) + \text{Var}(a_j^{(l-1)}) \quad \text{(独立)}",
    r"\delta_i^{(l)} = \frac{\partial \mathcal{L}}{\partial a_i^{(l)}} \tag{definition}",
])
def test_a_reason_never_makes_a_wrong_line_right(line):
    (judged,) = _lines(line, "xavier")
    assert judged["verdict"] == "wrong", judged


@pytest.mark.parametrize("line, rule", [
    (r"\text{Var}(W_{ij}^{(l)}) = \frac{2}{M_l + M_{l-1}} \quad \text{(调和平均)}", "harmonic-mean"),
    ((r"\text{Var}(W_{ij}^{(l)} a_j^{(l-1)}) = \text{Var}(W_{ij}^{(l)}) \text{Var}(a_j^{(l-1)})"
      r" + \text{Var}(W_{ij}^{(l)}) \mathbb{E}[a_j^{(l-1)}]^2 + \text{Var}(a_j^{(l-1)}) \mathbb{E}[W_{ij}^{(l)}]^2"
      r" \quad \text{(独立)}"), "independence-variance"),
])
def test_a_right_line_with_its_reason_names_the_rule(line, rule):
    (judged,) = _lines(line, "xavier")
    assert judged["verdict"] == "valid" and judged["rule"] == rule, judged


# -- a value of its own where a piecewise function jumps (ReLU'(0)) ------------------------------

RELU_COURSE = r"\operatorname{ReLU}'(x) = \begin{cases} 1, & x > 0 \\ 0, & x \le 0 \end{cases}"


@pytest.mark.parametrize("problem, line, value", [
    ("relu", r"\operatorname{ReLU}'(x) = \begin{cases} 1, & x \ge 0 \\ 0, & x < 0 \end{cases}", "1"),
    ("relu", r"\operatorname{ReLU}'(x) = \begin{cases} 1, & x > 0 \\ \frac{1}{2}, & x = 0 \\ 0, & x < 0 \end{cases}",
     r"\frac{1}{2}"),
])
def test_another_value_at_the_kink_is_named_with_the_courses_convention(problem, line, value):
    (judged,) = _lines(line, problem)
    assert judged["verdict"] == "valid" and judged["rule"] == "convention", judged
    assert judged["feedback"].startswith(f"follows under the convention: at x = 0 this line takes {value} "
                                         "where the line before takes 0: a convention at the kink")
    assert "the course's: ReLU is not differentiable at 0; the derivative there is taken as 0" in judged["feedback"]
    zh = _lines(line, problem, "zh")[0]["feedback"]
    assert zh.startswith(f"在约定下成立：在 x = 0 处本行取 {value}，上一行取 0") and "课程的约定" in zh


def test_the_courses_own_value_at_the_kink_names_no_convention():
    (judged,) = _lines(RELU_COURSE, "relu")
    assert judged["verdict"] == "valid" and "convention" not in judged["feedback"]


@pytest.mark.parametrize("line", [
    r"\operatorname{ReLU}'(x) = \begin{cases} 1, & x \ge 1 \\ 0, & x < 1 \end{cases}",     # the kink moved
    r"\operatorname{ReLU}'(x) = \begin{cases} 1, & x \ge 0 \\ -1, & x < 0 \end{cases}",    # a sign, not a convention
    r"\operatorname{ReLU}'(x) = \begin{cases} 0, & x \ge 0 \\ 1, & x < 0 \end{cases}",     # the branches swapped
    r"\operatorname{ReLU}'(x) = \begin{cases} x, & x > 0 \\ 0, & x \le 0 \end{cases}",     # ReLU itself
])
def test_a_wrong_piecewise_derivative_is_no_convention(line):
    (judged,) = _lines(line, "relu")
    assert judged["verdict"] == "wrong", judged


#: seed 000 §2.4 as the sheet writes it: the errors as dL/dz (the course's delta^(k) = dL/dz^(k))
CONV_AS_THE_SHEET = (r"\frac{\partial \mathcal{L}}{\partial z_{ij}^{(l)}} = \sum_{u=0}^{K-1} \sum_{v=0}^{K-1}"
                     r" \frac{\partial \mathcal{L}}{\partial z_{(i-u)(j-v)}^{(l+1)}} \cdot"
                     r" \frac{\partial z_{(i-u)(j-v)}^{(l+1)}}{\partial a_{ij}^{(l)}} \cdot"
                     r" \frac{\partial a_{ij}^{(l)}}{\partial z_{ij}^{(l)}}")


@pytest.mark.parametrize("flip, verdict", [("(i-u)(j-v)", "valid"), ("(i+u)(j+v)", "wrong"), ("(i-v)(j-u)", "wrong")])
def test_the_sheets_dl_dz_is_the_error_and_the_convention_is_named(flip, verdict):
    (line,) = _lines(CONV_AS_THE_SHEET.replace("(i-u)(j-v)", flip, 1), "conv-backprop")  # the error's index only
    assert line["verdict"] == verdict, line
    if verdict == "valid":
        assert line["feedback"] == r"follows under the convention: \delta^{(l+1)} is taken as 0 outside its map"


@pytest.mark.parametrize("line", [
    r"\delta^{(l-1)} = (W^{(l)})^T \delta^{(l)} \cdot f'(z^{(l-1)})",   # right, but lecun has no sizes and no backward pass
    r"\delta^{(l-1)} = (W^{(l)})^T \delta^{(l)} \odot f'(z^{(l)})",        # the wrong layer: not accepted either
])
def test_a_vector_line_where_the_problem_has_no_sizes_is_not_judged(line):
    (judged,) = _lines(line, "lecun")
    assert judged["verdict"] == "undecided" and "no sizes" in judged["feedback"], judged


@pytest.mark.parametrize("line, verdict", [
    (r"\delta^{(l-1)} = (W^{(l)})^T \delta^{(l)} \cdot f'(z^{(l-1)})", "valid"),   # seed 001 §3.1, entry by entry
    (r"\delta^{(l-1)} = (W^{(l)})^T \delta^{(l)} \odot f'(z^{(l)})", "wrong"),     # the wrong layer
])
def test_xaviers_vector_recursion_is_judged_with_a_fully_connected_layer(line, verdict):
    (judged,) = _lines(line, "xavier")
    assert judged["verdict"] == verdict, judged


@pytest.mark.parametrize("problem, line, verdict", [
    ("sigmoid", r"\sigma(x) = \frac{1}{1+e^{-x}}", "definition"),                 # seed 003 二1(a)
    ("sigmoid", r"\sigma(x) = (1 + e^{-x})^{-1}", "definition"),
    ("tanh", r"\tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}}", "definition"),      # seed 002 Q1
    ("sigmoid", r"\sigma(x) = \frac{1}{1-e^{-x}}", "wrong"),
    ("sigmoid", r"\sigma(x) = \frac{1}{1+e^{x}}", "wrong"),
    ("tanh", r"\tanh(x) = \frac{e^x + e^{-x}}{e^x - e^{-x}}", "wrong"),           # coth
    ("sigmoid", r"\sigma'(x) = \sigma(x)(1-\sigma(x))", "skips"),                   # a result, not a definition
])
def test_a_function_defined_as_the_problem_defines_it(problem, line, verdict):
    (judged,) = _lines(line, problem)
    assert judged["verdict"] == verdict, judged



#: seed 000 §3.2, line 2: PReLU's second moment as an integral against the density of z
PRELU_MOMENT = (r"\mathbb{E} \left[(a^{(l-1)})^2 \right] = \mathbb{E} \left[(\text{PReLU}(z^{(l-1)}))^2 \right] = "
                r"\int_{-\infty}^{+\infty} (\text{PReLU}(z^{(l-1)}))^2 p(z^{(l-1)}) dz^{(l-1)}")


@pytest.mark.parametrize("line, verdicts", [
    (PRELU_MOMENT, {"valid", "equal", "skips"}),  # was undecided: the kink's point put into the integral's variable
    # the same line, wrong in the same notation: the square dropped, the density dropped, ReLU for PReLU
    (PRELU_MOMENT.replace(r"(\text{PReLU}(z^{(l-1)}))^2 p", r"\text{PReLU}(z^{(l-1)}) p"), {"wrong"}),
    (PRELU_MOMENT.replace(r" p(z^{(l-1)}) dz", r" dz"), {"wrong"}),
    (PRELU_MOMENT.replace(r"\int_{-\infty}^{+\infty} (\text{PReLU}", r"\int_{0}^{+\infty} (\text{PReLU}"), {"wrong"}),
])
def test_an_integral_over_a_piecewise_function_has_no_kink_at_its_own_variable(line, verdicts):
    got = _lines(line, "prelu-init")[0]
    assert got["verdict"] in verdicts, got


#: a name of the student's own (seed 002 Q3 writes S_j = sum_i w_ij x_i before z): bound, then put back
S_NAME = r"S_j = \sum_{k=1}^{n} W_{jk}^{(l)} a_k^{(l-1)}"


@pytest.mark.parametrize("problem, lines, verdicts", [
    ("mlp-backprop", [S_NAME, r"z_j^{(l)} = S_j + b_j^{(l)}"], ["definition", "definition"]),
    # the bound name used inconsistently: the problem's z has +b and one S
    ("mlp-backprop", [S_NAME, r"z_j^{(l)} = S_j - b_j^{(l)}"], ["definition", "wrong"]),
    ("mlp-backprop", [S_NAME, r"z_j^{(l)} = 2 S_j + b_j^{(l)}"], ["definition", "wrong"]),
    # a second line about the bound name is judged with the first put back: not a new binding
    ("mlp-backprop", [S_NAME, r"S_j = \sum_{k=1}^{n} W_{kj}^{(l)} a_k^{(l-1)}"], ["definition", "wrong"]),
    ("sigmoid", [r"u = 1 + e^{-x}", r"\sigma(x) = u^{-1}", r"\sigma'(x) = -u^{-2} \cdot (-e^{-x})"],
     ["definition", "definition", "valid"]),
    ("sigmoid", [r"u = 1 + e^{-x}", r"\sigma(x) = u^{-1}", r"\sigma'(x) = -u^{-2} \cdot e^{-x}"],
     ["definition", "definition", "wrong"]),
    ("sigmoid", [r"u = 1 + e^{-x}", r"\sigma(x) = \frac{1}{u^2}"], ["definition", "wrong"]),
    ("sigmoid", [r"u = 1 + e^{-x}", r"u = 1 - e^{-x}"], ["definition", "wrong"]),
    # a left side that is a quantity of the problem is never a name of one's own: wrong stays wrong
    ("sigmoid", [r"\sigma(x) = \frac{1}{1 - e^{-x}}"], ["wrong"]),
    ("mlp-backprop", [r"\delta^{(l)} = 3"], ["wrong"]),
    ("xavier", [r"\text{Var}(W_{ij}^{(l)}) = \frac{1}{3}"], ["wrong"]),
    ("xavier", [r"\delta_i^{(l)} = \frac{\partial \mathcal{L}}{\partial a_i^{(l)}}"], ["wrong"]),
    # the course's sigma is the sigmoid (mlp-backprop leaves its activation sigma without a formula)
    ("mlp-backprop", [r"\sigma(x) = \frac{1}{1+e^{-x}}"], ["definition"]),
    ("mlp-backprop", [r"\sigma(x) = \frac{1}{1-e^{-x}}"], ["wrong"]),
    # a derivative the problem does not name is no name of one's own either
    ("mlp-backprop", [r"\frac{\partial \ell}{\partial \hat{y}} = 3"], ["wrong"]),
])
def test_a_name_the_problem_does_not_know_is_bound_and_put_back(problem, lines, verdicts):
    got = _lines(lines, problem)
    assert [line["verdict"] for line in got] == verdicts, got


@pytest.mark.parametrize("lang, phrase", [
    ("en", "definition: a name of your own: S_j"), ("zh", "定义：自己引入的记号 S_j"),
])
def test_a_name_of_ones_own_is_named(lang, phrase):
    (line,) = _lines(S_NAME, "mlp-backprop", lang)
    assert line["verdict"] == "definition" and line["rule"] == "own-name" and line["feedback"].startswith(phrase)


def test_seed_002_q3_binds_the_sheets_names():
    text = (Path(__file__).parent / "seed_derivations" / "002-q3-chain.tex").read_text(encoding="utf-8")
    got = check_steps(text, "mlp-backprop")["lines"]
    assert [line["verdict"] for line in got[:4]] == ["definition"] * 4, got[:4]


@pytest.mark.parametrize("line, verdict", [
    # seed 004, line 1 (the reason "其中 z = ..." is prose): the problem's yhat, written out
    (r"\hat{y} = \sigma(z) = \frac{1}{1 + e^{-z}}, \quad \text{其中 } z = w_1x_1 + w_2x_2 + b.", "definition"),
    (r"\hat{y} = \frac{1}{1 + e^{-z}}", "definition"),
    # wrong in the same notation
    (r"\hat{y} = \sigma(z) = \frac{1}{1 - e^{-z}}, \quad \text{其中 } z = w_1x_1 + w_2x_2 + b.", "wrong"),
    (r"\hat{y} = \sigma(z) = \frac{1}{1 + e^{z}}", "wrong"),
    (r"\hat{y} = \tanh(z)", "wrong"),
])
def test_seed_004s_first_line_is_the_definition_of_yhat(line, verdict):
    (got,) = _lines(line, "bce-sigmoid")
    assert got["verdict"] == verdict, got
    assert verdict != "definition" or got["feedback"].startswith(r"definition of \hat{y}")


@pytest.mark.parametrize("line", [
    r"L = (\hat{y} - y)^2",            # the loss the problem differentiates (dL/dyhat): never a name of one's own
    r"L = \frac{1}{2}(\hat{y} + y)^2",
])
def test_a_name_the_problems_quantities_are_written_with_is_not_free(line):
    (got,) = _lines(line, "mse")
    assert got["verdict"] != "definition" and got["rule"] != "own-name", got


#: seed 000 §3.2, line 1: the activation f of prelu-init written as PReLU's cases
PRELU_CASES = r"f(x) = \begin{cases} x, & \text{if } x > 0 \\ \alpha x, & \text{if } x \leq 0 \end{cases}"


@pytest.mark.parametrize("problem, line, verdict", [
    ("prelu-init", PRELU_CASES, "definition"),
    ("prelu-init", PRELU_CASES.replace(r"\text{if } ", ""), "definition"),
    # a wrong slope, a wrong branch, the branches swapped, ReLU for PReLU: wrong in the same notation
    ("prelu-init", PRELU_CASES.replace(r"\alpha x", r"\alpha^2 x"), "wrong"),
    ("prelu-init", PRELU_CASES.replace(r"\alpha x", "0"), "wrong"),
    ("prelu-init", PRELU_CASES.replace("x > 0", "x < 0").replace(r"x \leq 0", r"x \geq 0"), "wrong"),
    ("prelu-init", r"f(x) = \max(0, x)", "wrong"),
    # kaiming's activation is ReLU: PReLU's cases are no definition of it
    ("kaiming", PRELU_CASES, "wrong"),
])
def test_the_activation_written_as_cases_is_the_problems_rectifier(problem, line, verdict):
    (got,) = _lines(line, problem)
    assert got["verdict"] == verdict, got


@pytest.mark.parametrize("value, verdict", [
    (r"\frac{r^2}{3}", "definition"),          # seed 001 §3.1.1: the variance of U(-r, r), the part's premise
    (r"\frac{1}{3} r^2", "definition"),
    (r"\frac{r^2}{2}", "wrong"),               # wrong variances of U(-r, r) stay wrong
    (r"\frac{r^2}{12}", "wrong"),
    (r"\frac{r}{3}", "wrong"),
    (r"\frac{4 r^2}{12}", "definition"),       # (2r)^2/12, the textbook's (b - a)^2/12, worked
])
def test_the_variance_of_the_uniform_law_is_the_premise_of_its_part(value, verdict):
    lines = _lines([rf"\text{{Var}}(W_{{ij}}^{{(l)}}) = {value}", rf"{value} = \frac{{2}}{{M_l + M_{{l-1}}}}"], "xavier")
    assert lines[0]["verdict"] == verdict, lines[0]
    assert verdict != "definition" or lines[0]["feedback"].startswith("definition: W drawn from U(-r, r)")


def test_seed_001_uniform_part_is_right_to_its_bound():
    text = (Path(__file__).parent / "seed_derivations" / "001-3.1.1-xavier-uniform.tex").read_text(encoding="utf-8")
    report = check_steps(text, "xavier")
    assert [line["verdict"] for line in report["lines"]] == ["definition", "valid", "valid"], report["lines"]
    assert report["final"] == {"target": "uniform_bound", "verdict": "correct"}


#: seed 002 Q3, line 5: theta, the sheet's name of the problem's sigma, is the sigmoid
@pytest.mark.parametrize("line, verdict", [
    (r"\theta(u) = \frac{1}{1+e^{-u}}", "definition"),
    (r"\theta(u) = (1+e^{-u})^{-1}", "definition"),
    # not the sigmoid, in the same notation: stays wrong
    (r"\theta(u) = \frac{1}{1-e^{-u}}", "wrong"),
    (r"\theta(u) = \frac{1}{1+e^{u}}", "wrong"),
    (r"\theta(u) = \tanh(u)", "wrong"),
    (r"\theta(u) = \frac{e^u - e^{-u}}{e^u + e^{-u}}", "wrong"),
    (r"\theta(u) = \max(0, u)", "wrong"),
    (r"\theta(u) = u", "wrong"),
])
def test_theta_defined_as_the_sigmoid(line, verdict):
    (got,) = _lines(line, "mlp-backprop")
    assert got["verdict"] == verdict, got


# -- the final result: the result the last line reaches ------------------------------------------

PRELU_SHEET = (Path(__file__).parent / "seed_derivations" / "000-3.2-prelu-init.tex").read_text(encoding="utf-8")
PRELU_RECURSION = r"\text{var}[z^{(l)}] = M_{l-1} \text{var}[w^{(l)}] \mathbb{E} \left[(a^{(l-1)})^2 \right]"


@pytest.mark.parametrize("last, final", [
    # seed 000 §3.2 stops at the recursion: a result the reference derives (not uniform_bound)
    (PRELU_RECURSION, {"target": "var_z", "verdict": "correct", "reached": "sum-of-identical-terms"}),
    # the same stop, wrong in the same notation: never correct
    (PRELU_RECURSION.replace("M_{l-1}", "M_l"), "incorrect"),
    (PRELU_RECURSION.replace("M_{l-1}", "2 M_{l-1}"), "incorrect"),
    (PRELU_RECURSION.replace(r"\mathbb{E} \left[(a^{(l-1)})^2 \right]", r"\mathbb{E} \left[a^{(l-1)} \right]^2"),
     "incorrect"),
    (r"\text{var}[z^{(l)}] = \text{var}[w^{(l)}] \mathbb{E} \left[(a^{(l-1)})^2 \right]", "incorrect"),
    # a last line that follows but states nothing the reference derives
    (r"\text{var}[z^{(l)}] = \text{var}[z^{(l)}] + 0", "no_target"),
])
def test_a_derivation_that_stops_on_the_way_is_judged_by_the_result_it_reaches(last, final):
    text = PRELU_SHEET.replace(PRELU_RECURSION, last)
    assert last in text
    report = check_steps(text, "prelu-init")
    if isinstance(final, dict):
        assert report["final"] == final and report["first_error"] is None, report["lines"][-1]
        assert summarize_steps(report, "en")["verdict"] == "correct"
    else:
        assert report["final"]["verdict"] == final, (report["final"], report["lines"][-1])
        assert summarize_steps(report, "en")["verdict"] != "correct"
        assert final != "no_target" or report["lines"][-1]["verdict"] in ("equal", "valid", "skips")


@pytest.mark.parametrize("lang, phrase", [("en", "reaches none of the problem's results"), ("zh", "没有得到本题的任何结果")])
def test_no_target_is_said(lang, phrase):
    report = check_steps(PRELU_SHEET.replace(PRELU_RECURSION, r"\text{var}[z^{(l)}] = \text{var}[z^{(l)}] + 0"),
                         "prelu-init", lang)
    assert report["final"]["verdict"] == "no_target" and phrase in summarize_steps(report, lang)["feedback"]


# -- the pooled layer (seed 000/001 §2.5): f is the layer's activation, the window the student's ----

POOL_LAYER = r"a_{ij}^{(l)} = f(z_{ij}^{(l)})"
POOL_MAX = r"a_{ij}^{(l)} = f(\max_{u=0}^{K'-1} \max_{v=0}^{K'-1} z_{Si+u, Sj+v}^{(l)})"
POOL_AVG = r"a_{ij}^{(l)} = f(\frac{1}{K'^2} \sum_{u=0}^{K'-1} \sum_{v=0}^{K'-1} z_{Si+u, Sj+v}^{(l)})"


@pytest.mark.parametrize("line, verdict", [
    (POOL_LAYER, "definition"),
    (POOL_MAX, "definition"),
    (POOL_AVG, "definition"),
    (POOL_AVG.replace("z_{Si+u, Sj+v}", "z_{i+u, j+v}"), "definition"),     # stride 1: a placement of its own
    # wrong in the same notation
    (r"a_{ij}^{(l)} = f(z_{ji}^{(l)})", "wrong"),                                  # the entry transposed
    (r"a_{ij}^{(l)} = f(z_{ij}^{(l-1)})", "wrong"),                                # another layer
    (r"a_{ij}^{(l)} = f(a_{ij}^{(l)})", "wrong"),                                  # a recursion, not a layer
    (POOL_AVG.replace("K'^2", "K'"), "wrong"),                                     # 1/K' for 1/K'^2
    (POOL_AVG.replace(r"\frac{1}{K'^2}", r"\frac{2}{K'^2}"), "wrong"),
    (POOL_AVG.replace(r"\sum_{u=0}^{K'-1}", r"\sum_{u=0}^{K'}"), "wrong"),        # a window one too wide
    (POOL_AVG.replace("z_{Si+u, Sj+v}", "z_{Si+u, Si+v}"), "wrong"),             # both indices move with i
    (POOL_AVG.replace("z_{Si+u, Sj+v}", "z_{u, Sj+v}"), "wrong"),                # the window does not move with i
    (POOL_AVG.replace("z_{Si+u, Sj+v}", "z_{Si+u, Sj+u}"), "wrong"),             # the diagonal only
    (POOL_MAX.replace("z_{Si+u, Sj+v}", "z_{Si+u, Sj+u}"), "wrong"),
    (POOL_MAX.replace(r"\max_{v=0}^{K'-1}", r"\max_{v=0}^{K'}"), "wrong"),
])
def test_a_pooled_layer_defined_the_courses_way(line, verdict):
    (got,) = _lines(line, "pool-backprop")
    assert got["verdict"] == verdict, got


def test_the_pooling_sheet_ends_at_the_problems_definition():
    report = check_steps(f"{POOL_LAYER}\n{POOL_MAX}\n{POOL_LAYER}\n{POOL_AVG}", "pool-backprop")
    assert report["final"] == {"target": "a^(l)", "verdict": "correct", "reached": "a_avg"}, report["lines"]
    slipped = check_steps("\n".join([POOL_LAYER, POOL_MAX, POOL_LAYER, POOL_AVG.replace("K'^2", "K'")]), "pool-backprop")
    assert slipped["first_error"] == 4 and slipped["final"]["verdict"] != "correct"


#: seed 002 Q3's own names, then the chain rule for the output layer's weights (its line 6)
Q3_NAMES = [r"S_j^{(3)} = \sum_{i=0}^{d^{(2)}} w_{ij}^{(3)} x_i^{(2)}", r"\hat{y} = \theta(S_j^{(3)})",
            r"\theta(u) = \frac{1}{1+e^{-u}}"]
Q3_LEFT = r"\frac{\partial \ell_n}{\partial w_{ij}^{(3)}} = "
Q3_DL = r"\frac{\partial \ell_n}{\partial \hat{y}} \cdot "


@pytest.mark.parametrize("right, verdicts", [
    # the derivatives of bound names are the derivatives of their bindings; dl/dyhat an unknown factor
    (Q3_DL + r"\frac{\partial \hat{y}}{\partial S_j^{(3)}} \cdot \frac{\partial S_j^{(3)}}{\partial w_{ij}^{(3)}}",
     ("equal", "valid")),
    (Q3_DL + r"\theta'(S_j^{(3)}) \cdot \frac{\partial S_j^{(3)}}{\partial w_{ij}^{(3)}}", ("equal", "valid")),
    (Q3_DL + r"\theta'(S_j^{(3)}) \cdot x_i^{(2)}", ("equal", "valid")),
    # theta for theta' (the planted slip), a dropped factor dS/dw, S^(2) for S^(3), a wrong index
    (Q3_DL + r"\theta(S_j^{(3)}) \cdot \frac{\partial S_j^{(3)}}{\partial w_{ij}^{(3)}}", ("wrong",)),
    # a layer's size is a count inside theta'(S) at its binding too (never summed up to a real value)
    (Q3_DL + r"\theta'(S_j^{(3)})", ("wrong",)),
    (Q3_DL + r"\theta'(S_j^{(2)}) \cdot \frac{\partial S_j^{(3)}}{\partial w_{ij}^{(3)}}", ("wrong",)),
    (Q3_DL + r"\theta'(S_j^{(3)}) \cdot x_j^{(2)}", ("wrong",)),
    (Q3_DL + r"\theta'(S_i^{(3)}) \cdot x_i^{(2)}", ("wrong",)),
    (Q3_DL + r"\frac{\partial \hat{y}}{\partial S_j^{(3)}}", ("wrong",)),
    # dl/dyhat dropped
    (r"\frac{\partial \hat{y}}{\partial S_j^{(3)}} \cdot \frac{\partial S_j^{(3)}}{\partial w_{ij}^{(3)}}", ("wrong",)),
])
def test_the_chain_rule_through_names_of_ones_own(right, verdicts):
    got = _lines([*Q3_NAMES, Q3_LEFT + right], "mlp-backprop")
    assert [line["verdict"] for line in got[:3]] == ["definition"] * 3, got
    assert got[3]["verdict"] not in ("equal", "valid", "skips") or "wrong" not in verdicts, got[3]
    assert got[3]["verdict"] in verdicts, got[3]


#: seed 002 Q3's names down to layer 2, and its line 7 for the weights of layer 2 (one output unit)
Q3_ALL = [r"S_j^{(2)} = \sum_{i=0}^{d^{(1)}} w_{ij}^{(2)} x_i^{(1)}", r"x_j^{(2)} = \theta(S_j^{(2)})",
          r"S_j^{(3)} = \sum_{i=0}^{d^{(2)}} w_{ij}^{(3)} x_i^{(2)}", r"\hat{y} = \theta(S_j^{(3)})",
          r"\theta(u) = \frac{1}{1+e^{-u}}"]
Q3_W2 = (r"\frac{\partial \ell_n}{\partial w_{ij}^{(2)}} = \frac{\partial \ell_n}{\partial S_j^{(2)}} \cdot "
         r"\frac{\partial S_j^{(2)}}{\partial w_{ij}^{(2)}} = \sum_{k=1}^{d^{(3)}} \frac{\partial \ell_n}{\partial \hat{y}}"
         r" \cdot ")

#: the layer-2 factors of seed 002 Q3's line 7, dx_j^(2)/dS_j^(2) dS_j^(2)/dw_ij^(2)
Q3_TAIL = r"\theta'(S_j^{(2)}) \cdot \frac{\partial S_j^{(2)}}{\partial w_{ij}^{(2)}}"


@pytest.mark.parametrize("right, verdict", [
    # the sheet's line 7: right with one output unit (yhat = theta(S_1^(3)), d^(3) = 1), and named so
    (r"\theta'(S_k^{(3)}) \cdot \frac{\partial S_k^{(3)}}{\partial x_j^{(2)}} \cdot " + Q3_TAIL, "valid"),
    # theta for theta' at S_k^(3), a dropped dS_j^(2)/dw_ij^(2), the sum without dS_k^(3)/dx_j^(2), S_j^(3) for S_k^(3)
    (r"\theta(S_k^{(3)}) \cdot \frac{\partial S_k^{(3)}}{\partial x_j^{(2)}} \cdot " + Q3_TAIL, "wrong"),
    (r"\theta'(S_k^{(3)}) \cdot \frac{\partial S_k^{(3)}}{\partial x_j^{(2)}} \cdot \theta'(S_j^{(2)})", "wrong"),
    (r"\theta'(S_k^{(3)}) \cdot \theta'(S_j^{(2)}) \cdot \frac{\partial S_j^{(2)}}{\partial w_{ij}^{(2)}}", "wrong"),
    (r"\theta'(S_j^{(3)}) \cdot \frac{\partial S_k^{(3)}}{\partial x_j^{(2)}} \cdot " + Q3_TAIL, "wrong"),
])
def test_the_chain_rule_under_one_output_unit(right, verdict):
    got = _lines([*Q3_ALL, Q3_W2 + right], "mlp-backprop")
    assert [line["verdict"] for line in got[:5]] == ["definition"] * 5, got
    assert got[5]["verdict"] == verdict, got[5]
    if verdict == "valid":
        assert got[5]["feedback"] == "follows under the convention: one output unit (d^{(3)} = 1)", got[5]
