"""The course reader on two seed sheets' forms (issue 17): seed 001 2.2's gradient written without its
variable, ``\\nabla \\log \\text{softmax}(x)_{[i]}`` (entry k of the gradient: d/dx_k, the ``cases`` rows
giving entry k), and seed 001 2.5's pooling window, ``\\max_{u=0}^{K'-1} \\max_{v=0}^{K'-1}
z_{Si+u, Sj+v}^{(l)}`` and its average. Each reading is compared with a SymPy object built here by hand,
and each comes with wrong lines in the same notation that must stay wrong.
"""

from __future__ import annotations

import pytest
import sympy as sp

from derive.check.decide import private_table, problem_table
from derive.check.reader import ReadError, read
from derive.check.steps import check_steps


def _table(problem: str):
    return private_table(problem_table(problem, True)[1])


def _read(problem: str, text: str) -> list[sp.Basic]:
    return read(text, _table(problem)).sides


def _names(problem: str) -> dict:
    return problem_table(problem, True)[1].names


# -- seed 001 2.2: \nabla of an expression of the logits is entry k of the gradient, d/dx_k ----------------

def test_a_gradient_without_its_variable_is_the_entry_k_derivative():
    """log-softmax differentiates with respect to x_k: \\nabla E is dE/dx_k, as \\frac{\\partial E}{\\partial x_k}."""
    names = _names("log-softmax")
    x, p, i, k = names["x"], names["p"], names["i"], names["k"]
    assert _read("log-softmax", r"\nabla \log \text{softmax}(x)_{[i]}") == [sp.Derivative(sp.log(p[i]), x[k])]
    assert _read("log-softmax", r"\nabla \log \text{softmax}(x)_{[i]}") == _read(
        "log-softmax", r"\frac{\partial \log \text{softmax}(x)_{[i]}}{\partial x_k}")
    assert _read("log-softmax", r"\nabla (x_i)")[0].doit() == sp.KroneckerDelta(i, k)
    assert _read("log-softmax", r"\nabla x_i^2")[0].doit() == 2 * x[i] * sp.KroneckerDelta(i, k)
    softmax = _names("softmax")
    assert _read("softmax", r"\nabla \text{softmax}(x)_{[i]}") == [
        sp.Derivative(softmax["p"][softmax["i"]], softmax["x"][softmax["k"]])]


def test_a_gradient_of_a_name_the_problem_does_not_declare_is_never_a_known_value():
    """\\nabla f of an undeclared f is an unknown of its own (never d f/dx_k = 0); \\nabla f(x), f times the
    family x written whole, and \\nabla where the problem has no single variable, are unreadable."""
    (value,) = _read("log-softmax", r"\nabla f")
    assert value != 0 and not value.has(sp.Derivative) and value.free_symbols.isdisjoint(
        set(_names("log-softmax").values()))
    for problem, text in (("log-softmax", r"\nabla f(x)"), ("log-softmax", r"\nabla x"),
                          ("mlp-backprop", r"\nabla \log \text{softmax}(x)_{[i]}"), ("xavier", r"\nabla \tanh z")):
        with pytest.raises(ReadError):
            _read(problem, text)


OPENING = (r"\log \text{softmax}(x)_{[i]} = \log \frac{\exp(x_i)}{\sum_{j=1}^C \exp(x_j)} "
           r"= x_i - \log \sum_{j=1}^C \exp(x_j)")
S = r"\sum_{j=1}^C \exp(x_j)"
GRADIENT = (rf"\nabla \log \text{{softmax}}(x)_{{[i]}} = \begin{{cases}} 1 - \frac{{\exp(x_k)}}{{{S}}} = "
            rf"1 - \text{{softmax}}(x)_{{[k]}} & k = i \\ -\frac{{\exp(x_k)}}{{{S}}} = -\text{{softmax}}(x)_{{[k]}} "
            r"& k \neq i \end{cases}")


def test_the_sheets_cases_gradient_is_equal_and_its_result_found():
    report = check_steps(OPENING + "\n" + GRADIENT, "log-softmax")
    assert [line["verdict"] for line in report["lines"]] == ["equal", "equal"], report["lines"]
    assert report["first_error"] is None and report["final"] == {"target": "grad", "verdict": "correct"}
    right = check_steps(OPENING + "\n" + r"\nabla \log \text{softmax}(x)_{[i]} = \delta_{ik} - \text{softmax}(x)_{[k]}",
                        "log-softmax")
    assert right["first_error"] is None and right["final"]["verdict"] == "correct", right["lines"]


# Line 2 written wrong in the sheet's notation: (name, the wrong line, whether its result is still right,
# as it is where only the left side, the \nabla, is wrong)
WRONG_GRADIENTS = [
    ("swapped cases", GRADIENT.replace(r"& k = i \\", r"& k \neq i \\").replace(r"& k \neq i \end", r"& k = i \end"),
     False),
    ("missing minus", GRADIENT.replace(r"\\ -\frac", r"\\ \frac").replace(r"= -\text", r"= \text"), False),
    ("missing minus, last side only", GRADIENT.replace(r"= -\text", r"= \text"), False),
    ("softmax_i for softmax_k", GRADIENT.replace(r"= -\text{softmax}(x)_{[k]}", r"= -\text{softmax}(x)_{[i]}"), False),
    ("softmax_i for softmax_k throughout", GRADIENT.replace(r"(x)_{[k]}", r"(x)_{[i]}").replace(r"(x_k)", r"(x_i)"),
     False),
    ("false middle claim", GRADIENT.replace(r"1 - \frac", r"1 + \frac", 1), False),
    ("plus for minus", GRADIENT.replace(r"1 - ", r"1 + "), False),
    ("no cases, entry k = i only", r"\nabla \log \text{softmax}(x)_{[i]} = 1 - \text{softmax}(x)_{[k]}", False),
    ("stray factor after nabla", GRADIENT.replace(r"\nabla \log", r"\nabla 2 \log"), True),
    ("stray factor before nabla", GRADIENT.replace(r"\nabla \log", r"2 \nabla \log"), True),
    ("stray factor in the operand", GRADIENT.replace(r"\nabla \log \text{softmax}(x)_{[i]}",
                                                     r"\nabla x_i \log \text{softmax}(x)_{[i]}"), True),
    ("undeclared f", GRADIENT.replace(r"\nabla \log \text{softmax}(x)_{[i]}", r"\nabla f"), True),
]


@pytest.mark.parametrize(("name", "line", "result_right"), WRONG_GRADIENTS, ids=[r[0] for r in WRONG_GRADIENTS])
def test_a_wrong_cases_gradient_is_wrong_at_its_line(name, line, result_right):
    assert line != GRADIENT
    report = check_steps(OPENING + "\n" + line, "log-softmax")
    assert report["lines"][1]["verdict"] == "wrong" and report["first_error"] == 2, (name, report["lines"])
    if not result_right:
        assert report["final"]["verdict"] != "correct", (name, report["final"])


# -- seed 001 2.5: the pooling window, max and average, read at a concrete size -------------------------------

MAX_POOL = r"a_{ij}^{(l)} = f(\max_{u=0}^{K'-1} \max_{v=0}^{K'-1} z_{Si+u, Sj+v}^{(l)})"
AVERAGE_POOL = r"a_{ij}^{(l)} = f(\frac{1}{K'^2} \sum_{u=0}^{K'-1}\sum_{v=0}^{K'-1} z_{Si+u, Sj+v}^{(l)})"
WINDOW = {"Kp": 2, "S": 2, "i": 1, "j": 1}  # a 2 x 2 window at stride 2: rows and columns 2, 3 of z^(l)
zl, al, f = sp.IndexedBase("z^(l)", real=True), sp.IndexedBase("a^(l)", real=True), sp.Function("f")
ENTRIES = [zl[2, 2], zl[2, 3], zl[3, 2], zl[3, 3]]


def _at_window(value: sp.Basic) -> sp.Basic:
    return value.subs({s: WINDOW[s.name] for s in value.free_symbols if s.name in WINDOW}).doit()


def test_the_pooled_value_reads_as_f_of_the_windows_max_and_mean():
    """a_{ij}^{(l)} = f(max over the window) and f(mean over it): f applied (never f times), the two-index
    subscript Si+u, Sj+v an expression per index; at K' = 2, S = 2, i = j = 1 the window is z^(l)_{22..33}."""
    left, right = _read("pool-backprop", MAX_POOL)
    assert left.base == al and [s.name for s in left.indices] == ["i", "j"]
    assert _at_window(right) == f(sp.Max(*ENTRIES))
    left, right = _read("pool-backprop", AVERAGE_POOL)
    assert _at_window(right) == f(sum(ENTRIES) / 4)
    assert _read("pool-backprop", r"a_{ij}^{(l)} = f(z_{ij}^{(l)})")[1].func == f


# The window written wrong: another window (or another mean) at the same concrete size, never the sheet's
WRONG_WINDOWS = [
    MAX_POOL.replace("Sj+v", "Sj+u"),                      # the inner max over u again (seed 000's typo)
    MAX_POOL.replace("u=0}^{K'-1}", "u=1}^{K'}"),           # a window shifted by one row
    MAX_POOL.replace("Si+u, Sj+v", "Si+v, Sj+u").replace(r"\max_{v=0}^{K'-1}", r"\max_{v=0}^{K'}"),
    MAX_POOL.replace(r"\max_{u=0}^{K'-1} \max_{v=0}^{K'-1}", r"\min_{u=0}^{K'-1} \min_{v=0}^{K'-1}"),
    AVERAGE_POOL.replace("K'^2", "K'"),                    # the planted slip: 1/K' for 1/K'^2
    AVERAGE_POOL.replace("Si+u", "i+u"),                   # the stride dropped
]


@pytest.mark.parametrize("text", WRONG_WINDOWS)
def test_a_wrong_window_reads_as_another_value(text):
    right = _at_window(_read("pool-backprop", MAX_POOL if r"\max" in text or r"\min" in text else AVERAGE_POOL)[1])
    wrong = _at_window(_read("pool-backprop", text)[1])
    entries = sorted(wrong.atoms(sp.Indexed) | right.atoms(sp.Indexed), key=str)
    identity = {f: sp.Lambda(sp.Symbol("t"), sp.Symbol("t"))}
    one_hot = ({e: (1 if e == hot else 0) for e in entries} for hot in entries)  # each entry the window's largest
    differ = [wrong.subs(values).subs(identity) != right.subs(values).subs(identity) for values in one_hot]
    assert wrong != right and any(differ), text


@pytest.mark.parametrize("text", [
    r"\max_{u=0} z_{u}^{(l)}",                           # no upper bound
    r"\max_{u=0}^{10^9} z_{u}^{(l)}",                    # too many terms
    r"\max_{u=0}^{K'-1} \{1, 2\}",                      # the max of a set
    r"f(\max_{u=0}^{K'-1} z_{Si+u, Sj+v}^{(l)}",         # never closed
])
def test_a_malformed_window_is_unreadable(text):
    with pytest.raises(ReadError):
        _read("pool-backprop", text)
