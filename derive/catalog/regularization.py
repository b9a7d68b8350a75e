"""Regularization: inverted dropout and L2 weight decay.

Inverted dropout keeps a unit with probability 1 - p and scales what it keeps by 1/(1 - p):
the mask's two values give E[m] = E[m^2] = 1 - p, so the output's mean is the input's, its
variance grows by p/(1 - p) E[x^2], and the backward pass multiplies by the same mask and scale.
L2 weight decay adds (lambda/2) ||w||^2 to the loss: its gradient adds lambda w (checked entry by
entry for 1 to 4 weights), and the gradient step becomes w <- (1 - eta lambda) w - eta dL/dw.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import POSITIVE, REAL, SIZE, UNIT_LEAK, Domain, Quantity, index_domain
from ..operations import prefer_one_minus
from .registry import Entry
from .shown import derivative, dot, over, plus, times
from .softmax import sift_deltas

p = sp.Symbol("p", nonnegative=True)
x, m = sp.Symbol("x_i", real=True), sp.Symbol("m_i", nonnegative=True)

#: the mask's values: 1 (kept) or 0 (dropped)
MASK_VALUES = Domain("integer", low=Fraction(0), high=Fraction(1), low_open=False, high_open=False,
                     latex=r"\{0, 1\}")


def _moment(key: str, latex: str, text: str, meaning: sp.Basic | None = None, positive: bool = False) -> Quantity:
    """A moment of a random quantity (E[x_i], Var(y_i)), named as the course writes it."""
    symbol = sp.Symbol(key, positive=True) if positive else sp.Symbol(key, real=True)
    return Quantity(key, symbol, latex, None if meaning is not None else (POSITIVE if positive else REAL),
                    meaning=meaning, text=text)


P = Quantity("p", p, "p", UNIT_LEAK, aliases=(r"p_{\text{drop}}",), example=Fraction(1, 2))
X = Quantity("x", x, "x_i", REAL, text="x_i", aliases=("x",))
M = Quantity("m", m, "m_i", MASK_VALUES, text="m_i", aliases=("m",))
Y = _moment("y", "y_i", "y_i")
MEAN_M = _moment("mean_m", r"\operatorname{E}[m_i]", "E[m_i]")
SQUARE_M = _moment("square_m", r"\operatorname{E}[m_i^2]", "E[m_i^2]")
MEAN_GIVEN_X = _moment("mean_y_given_x", r"\operatorname{E}[y_i \mid x_i]", "E[y_i | x_i]")
MEAN_X = _moment("mean_x", r"\operatorname{E}[x_i]", "E[x_i]")
SQUARE_X = _moment("square_x", r"\operatorname{E}[x_i^2]", "E[x_i^2]", positive=True)
VAR_X = _moment("var_x", r"\operatorname{Var}(x_i)", "Var(x_i)",
                meaning=SQUARE_X.symbol - MEAN_X.symbol**2)
MEAN_Y = _moment("mean_y", r"\operatorname{E}[y_i]", "E[y_i]")
SQUARE_Y = _moment("square_y", r"\operatorname{E}[y_i^2]", "E[y_i^2]")
VAR_Y = _moment("var_y", r"\operatorname{Var}(y_i)", "Var(y_i)")
DL_DY = Quantity("dl_dy", sp.Symbol("dL/dy_i", real=True), r"\frac{\partial L}{\partial y_i}", REAL, text="dL/dy_i")
DY_DX = Quantity("dy_dx", sp.Symbol("dy_i/dx_i"), r"\frac{\partial y_i}{\partial x_i}", text="dy_i/dx_i")
DL_DX = Quantity("dl_dx", sp.Symbol("dL/dx_i"), r"\frac{\partial L}{\partial x_i}", text="dL/dx_i")


def _mask_expectation(b: Builder, lhs: sp.Symbol, power: int) -> None:
    """E[m^power] over the mask's two values: 1 with probability 1 - p, 0 with probability p."""
    one, zero = (sp.S.One, sp.S.Zero) if power == 1 else (sp.Pow(1, power, evaluate=False), sp.Pow(0, power, evaluate=False))
    shown = plus(dot(one, 1 - p), dot(zero, p))
    b.define(lhs, shown, "bernoulli-mask")
    b.apply("evaluate", lambda e: sp.expand(e.doit()))


def dropout() -> Derivation:
    """Inverted dropout y_i = m_i x_i / (1 - p), m_i ~ Bernoulli(1 - p): E[y_i | x_i] = x_i;
    for a random x_i independent of the mask Var(y_i) = Var(x_i) + p/(1 - p) E[x_i^2]; and
    dL/dx_i = m_i/(1 - p) dL/dy_i."""
    quantities = (P, X, M, Y, MEAN_M, SQUARE_M, MEAN_GIVEN_X, MEAN_X, SQUARE_X, VAR_X, MEAN_Y, SQUARE_Y,
                  VAR_Y, DL_DY, DY_DX, DL_DX)
    b = Builder("dropout", "regularization", quantities, assumptions=("mask-independent",))
    output = over(times(m, x), 1 - p)
    b.define(Y.symbol, output, "inverted-dropout")

    _mask_expectation(b, MEAN_M.symbol, 1)
    b.define(MEAN_GIVEN_X.symbol, over(times(MEAN_M.symbol, x), 1 - p), "linearity-of-expectation")
    b.substitute(MEAN_M.symbol, rule="substitute-mask-mean")
    b.show(over(times(1 - p, x), 1 - p))
    b.apply("cancel", sp.cancel)
    b.result("dropout_mean")

    b.define(MEAN_Y.symbol, MEAN_X.symbol, "total-expectation")
    _mask_expectation(b, SQUARE_M.symbol, 2)
    b.define(SQUARE_Y.symbol, over(times(SQUARE_M.symbol, SQUARE_X.symbol), (1 - p) ** 2), "independent-mask-input")
    b.substitute(SQUARE_M.symbol, rule="substitute-mask-square")
    b.show(over(times(1 - p, SQUARE_X.symbol), (1 - p) ** 2))
    b.apply("cancel", lambda e: prefer_one_minus(sp.cancel(e)))
    b.define(VAR_Y.symbol, SQUARE_Y.symbol - MEAN_Y.symbol**2, "variance-definition")
    b.show(plus(SQUARE_Y.symbol, times(-1, MEAN_Y.symbol**2)))
    b.substitute(SQUARE_Y.symbol, MEAN_Y.symbol, rule="substitute-moments")
    b.show(plus(over(SQUARE_X.symbol, 1 - p), times(-1, MEAN_X.symbol**2)))
    b.apply("split-off-variance", lambda e: e)
    b.show(plus(VAR_X.symbol, times(over(p, 1 - p), SQUARE_X.symbol)))
    b.result("dropout_var")

    b.define(DY_DX.symbol, sp.Derivative(m * x / (1 - p), x), "definition")
    b.show(derivative(output, x))
    b.apply("differentiate", sp.Derivative.doit)
    b.show(over(m, 1 - p))
    b.define(DL_DX.symbol, times(DL_DY.symbol, DY_DX.symbol), "chain-rule")
    b.substitute(DY_DX.symbol)
    b.show(times(over(m, 1 - p), DL_DY.symbol))
    b.result("dropout_grad")
    return b.build()


n = sp.Symbol("n", integer=True, positive=True)
j, k = sp.Symbol("j", integer=True, positive=True), sp.Symbol("k", integer=True, positive=True)
w, g = sp.IndexedBase("w", real=True), sp.IndexedBase("g", real=True)
lam, eta = sp.Symbol("lambda", positive=True), sp.Symbol("eta", positive=True)
PENALTY_SUM = sp.Sum(w[j] ** 2, (j, 1, n))
R = sp.Symbol("R", real=True)
WEIGHT_COUNTS = {n: range(1, 5)}


def weight_decay() -> Derivation:
    """L2 weight decay: the loss L + (lambda/2) ||w||^2 has the gradient dL/dw_k + lambda w_k
    (checked entry by entry for n = 1..4 weights); one gradient step with learning rate eta is
    w_k <- (1 - eta lambda) w_k - eta dL/dw_k."""
    quantities = (
        Quantity("n", n, "n", SIZE, aliases=("d",)),
        Quantity("j", j, "j", index_domain(n)),
        Quantity("k", k, "k", index_domain(n)),
        Quantity("w", w, "w", REAL, aliases=(r"\theta",)),
        Quantity("g", g, "g", REAL, text="g"),
        Quantity("lambda", lam, r"\lambda", POSITIVE, aliases=(r"\alpha",), example=Fraction(1, 100)),
        Quantity("eta", eta, r"\eta", POSITIVE, aliases=(r"\alpha", r"\epsilon"), example=Fraction(1, 10)),
        Quantity("R", R, "R", meaning=lam / 2 * PENALTY_SUM, text="R"),
        Quantity("dlt_dw", sp.Symbol("dLt/dw_k"), r"\frac{\partial \tilde{L}}{\partial w_k}", text="dLt/dw_k"),
        Quantity("w_new", sp.Symbol("w_k'"), r"w_k^{\text{new}}", text="w_k_new"),
    )
    dlt_dw, w_new = quantities[-2].symbol, quantities[-1].symbol
    b = Builder("weight-decay", "regularization", quantities, assumptions=("data-gradient-g",))
    b.define(sp.Derivative(R, w[k]), sp.Derivative(lam / 2 * PENALTY_SUM, w[k]), "penalty-definition")
    b.show(derivative(times(over(lam, 2), PENALTY_SUM), w[k]))
    b.apply("differentiate", sp.Derivative.doit)
    b.apply("sift-delta", sift_deltas)
    b.show(times(lam, w[k]))
    b.result("penalty_grad", entrywise=WEIGHT_COUNTS)
    penalty = b.current

    b.define(dlt_dw, plus(g[k], sp.Derivative(R, w[k])), "gradient-of-sum")
    value = b.apply("substitute-penalty-gradient",
                    lambda e: e.replace(lambda d: isinstance(d, sp.Derivative), lambda d: penalty))
    gradient = plus(g[k], times(lam, w[k]))
    b.show(gradient)
    b.result("l2_grad")

    b.define(w_new, plus(w[k], times(-1, eta, dlt_dw)), "sgd-step-decay")
    b.apply("substitute", lambda e: e.xreplace({dlt_dw: value}), given={dlt_dw: gradient})
    b.show(plus(w[k], times(-1, eta, gradient)))
    b.apply("collect-terms", lambda e: sp.collect(sp.expand(e), w[k]))
    b.show(plus(times(plus(1, times(-1, eta, lam)), w[k]), times(-1, eta, g[k])))
    b.result("l2_update")
    return b.build()


ENTRIES = (
    Entry("dropout", "regularization", dropout, ("dropout_mean", "dropout_var", "dropout_grad")),
    Entry("weight-decay", "regularization", weight_decay, ("penalty_grad", "l2_grad", "l2_update")),
)
