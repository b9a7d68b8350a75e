"""Losses of a single output and their gradients, derived by differentiation and the chain rule."""

from __future__ import annotations

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import LABEL, POSITIVE, REAL, UNIT_OPEN, Quantity
from ..operations import prefer_one_minus
from .activations import SIGMA, sigma
from .registry import Entry, get
from .shown import derivative, dot, over, plus, times

yhat = sp.Symbol("yhat", real=True)
y = sp.Symbol("y", real=True)
z = sp.Symbol("z", real=True)
delta = sp.Symbol("delta", positive=True)
L = sp.Symbol("L")

BCE = -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat))

YHAT_PROBABILITY = Quantity("yhat", yhat, r"\hat{y}", UNIT_OPEN, aliases=("a", "p", r"\sigma(z)"))
YHAT_REAL = Quantity("yhat", yhat, r"\hat{y}", REAL, aliases=("a", "o"))
LABEL_Y = Quantity("y", y, "y", LABEL, aliases=("t",))
TARGET_Y = Quantity("y", y, "y", REAL, aliases=("t",))
Z = Quantity("z", z, "z", REAL)
DELTA = Quantity("delta", delta, r"\delta", POSITIVE)


def gradient_symbol(of: str, wrt: str, wrt_latex: str) -> Quantity:
    """The quantity dOF/dWRT, written as a partial derivative."""
    return Quantity(f"d{of.lower()}_d{wrt}", sp.Symbol(f"d{of}/d{wrt}"),
                    rf"\frac{{\partial {of}}}{{\partial {wrt_latex}}}")


DL_DYHAT = gradient_symbol("L", "yhat", r"\hat{y}")


def loss_gradient(b: Builder, loss: sp.Basic, tidy=None, shown: tuple = (None, None, None)) -> sp.Basic:
    """dL/dyhat: differentiate the loss, then, if given, combine the fractions with ``tidy``.
    ``shown`` holds display forms of the loss, of its derivative and of the combined fraction
    (None: as SymPy writes them)."""
    b.define(DL_DYHAT.symbol, sp.Derivative(loss, yhat))
    lines = [lambda: None, lambda: b.apply("differentiate", sp.Derivative.doit)]
    if tidy:
        lines.append(lambda: b.apply("combine-fractions", tidy))
    for line, form in zip(lines, shown, strict=False):
        line()
        if form is not None:
            b.show(derivative(form, yhat) if line is lines[0] else form)
    b.result("dl_dyhat")
    return b.current


#: the gradient of binary cross-entropy as the course writes it
BCE_SHOWN_GRADIENT = over(yhat - y, times(yhat, 1 - yhat))


def _tidy_bce(expr: sp.Basic) -> sp.Basic:
    numerator, denominator = sp.fraction(sp.factor(sp.together(expr)))
    return sp.expand(numerator) / prefer_one_minus(denominator)


def mse() -> Derivation:
    """L = (yhat - y)^2 / 2: dL/dyhat = yhat - y."""
    b = Builder("mse", "losses", (YHAT_REAL, TARGET_Y, DL_DYHAT))
    loss_gradient(b, (yhat - y) ** 2 / 2)
    return b.build()


def bce() -> Derivation:
    """Binary cross-entropy: dL/dyhat = (yhat - y) / (yhat (1 - yhat))."""
    b = Builder("bce", "losses", (YHAT_PROBABILITY, LABEL_Y, DL_DYHAT))
    loss_gradient(b, BCE, _tidy_bce, (None, None, BCE_SHOWN_GRADIENT))
    return b.build()


def bce_sigmoid() -> Derivation:
    """BCE after a sigmoid unit z = w1 x1 + w2 x2 + b: every gradient by the chain rule."""
    w1, w2, bias, x1, x2 = sp.symbols("w1 w2 b x1 x2", real=True)
    inputs = {"w1": (w1, "w_1"), "w2": (w2, "w_2"), "b": (bias, "b")}
    dyhat_dz = gradient_symbol(r"\hat{y}", "z", "z")
    dl_dz = gradient_symbol("L", "z", "z")
    grads = {key: gradient_symbol("L", key, tex) for key, (_, tex) in inputs.items()}
    dz = {key: gradient_symbol("z", key, tex) for key, (_, tex) in inputs.items()}
    quantities = (YHAT_PROBABILITY, LABEL_Y, Z, SIGMA, DL_DYHAT, dyhat_dz, dl_dz,
                  *grads.values(), *dz.values(),
                  *(Quantity(str(s), s, tex, REAL) for s, tex in
                    ((w1, "w_1"), (w2, "w_2"), (bias, "b"), (x1, "x_1"), (x2, "x_2"))))
    linear = w1 * x1 + w2 * x2 + bias
    b = Builder("bce-sigmoid", "losses", quantities, assumptions=("yhat-is-sigmoid", "z-is-linear"),
                relations={yhat: sigma(z), z: linear})
    loss_gradient(b, BCE, _tidy_bce, (None, None, BCE_SHOWN_GRADIENT))

    b.define(dyhat_dz.symbol, sp.Derivative(sigma(z), z), "definition-yhat")
    sigmoid_d1 = get("sigmoid").target("d1")
    at_z = {sp.Symbol("x", real=True): z}
    b.apply("sigmoid-derivative", lambda e: e.doit().subs(sp.Derivative(sigma(z), z), sigmoid_d1.rhs.xreplace(at_z)))
    b.show(times(sigma(z), 1 - sigma(z)))
    b.apply("substitute-yhat", lambda e: e.subs(sigma(z), yhat), given={sigma(z): yhat})
    b.show(times(yhat, 1 - yhat))

    b.define(dl_dz.symbol, times(DL_DYHAT.symbol, dyhat_dz.symbol), "chain-rule")
    b.substitute(DL_DYHAT.symbol, dyhat_dz.symbol)
    b.show(dot(BCE_SHOWN_GRADIENT, times(yhat, 1 - yhat)))
    b.apply("cancel", sp.cancel)
    b.result("dl_dz")

    shown_linear = plus(times(w1, x1), times(w2, x2), bias)
    for key, (symbol, _) in inputs.items():
        b.define(dz[key].symbol, sp.Derivative(linear, symbol), "definition-z")
        b.show(derivative(shown_linear, symbol))
        b.apply("differentiate", sp.Derivative.doit)
        b.define(grads[key].symbol, times(dl_dz.symbol, dz[key].symbol), "chain-rule")
        b.substitute(dl_dz.symbol, dz[key].symbol)
        if symbol != bias:
            b.show(times(yhat - y, b.current / (yhat - y)))
        b.result(f"dl_d{key}")
    return b.build()


def huber() -> Derivation:
    """Huber loss with threshold delta: dL/dyhat = yhat - y inside, delta sign(yhat - y) outside."""
    r = yhat - y
    loss = sp.Piecewise((r**2 / 2, sp.Abs(r) <= delta), (delta * (sp.Abs(r) - delta / 2), True))
    b = Builder("huber", "losses", (YHAT_REAL, TARGET_Y, DELTA, DL_DYHAT))
    with sp.evaluate(False):
        inside = sp.Abs(r) <= delta
    loss_gradient(b, loss, shown=(
        sp.Piecewise((times(sp.Rational(1, 2), r**2), inside),
                     (times(delta, plus(sp.Abs(r, evaluate=False), times(-1, over(delta, 2)))), True), evaluate=False),
        sp.Piecewise((r, inside), (times(delta, sp.sign(r, evaluate=False)), True), evaluate=False)))
    return b.build()


ENTRIES = (
    Entry("mse", "losses", mse, ("dl_dyhat",)),
    Entry("bce", "losses", bce, ("dl_dyhat",)),
    Entry("bce-sigmoid", "losses", bce_sigmoid, ("dl_dyhat", "dl_dz", "dl_dw1", "dl_dw2", "dl_db")),
    Entry("huber", "losses", huber, ("dl_dyhat",)),
)
