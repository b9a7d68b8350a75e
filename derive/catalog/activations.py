"""Activation functions and their derivatives, derived from the definitions."""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import POSITIVE, REAL, UNIT_LEAK, Quantity
from ..operations import prefer_one_minus, rewrite_in_terms_of
from .registry import Entry, get

x = sp.Symbol("x", real=True)
alpha = sp.Symbol("alpha", nonnegative=True)

sigma = sp.Function("sigma")
tanh = sp.Function("tanh")
Phi = sp.Function("Phi")
phi = sp.Function("phi")

SIGMOID_DEFINITION = 1 / (1 + sp.exp(-x))
TANH_DEFINITION = (sp.exp(x) - sp.exp(-x)) / (sp.exp(x) + sp.exp(-x))

X = Quantity("x", x, "x", REAL, aliases=("z",))
ALPHA = Quantity("alpha", alpha, r"\alpha", UNIT_LEAK, aliases=("a", r"\lambda"), example=Fraction(1, 10))
ELU_ALPHA = Quantity("alpha", alpha, r"\alpha", POSITIVE, aliases=("a",), example=Fraction(1))
SIGMA = Quantity("sigma", sigma, r"\sigma", meaning=sp.Lambda(x, SIGMOID_DEFINITION),
                 aliases=(r"\theta", r"\operatorname{sigmoid}", r"\sigma"), bare=True)
TANH = Quantity("tanh", tanh, r"\tanh", meaning=sp.Lambda(x, TANH_DEFINITION), bare=True)
PHI_CDF = Quantity("Phi", Phi, r"\Phi", meaning=sp.Lambda(x, (1 + sp.erf(x / sp.sqrt(2))) / 2))
PHI_PDF = Quantity("phi", phi, r"\varphi", aliases=(r"\phi",), meaning=sp.Lambda(x, sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)))


def activation_function(name: str, latex: str, definition: sp.Basic) -> Quantity:
    """The quantity of an activation function ``name(x) = definition``."""
    return Quantity(name, sp.Function(name), latex, meaning=sp.Lambda(x, definition), aliases=("f",))


def first_derivative(b: Builder, f: sp.FunctionClass, body: sp.Basic) -> sp.Basic:
    """Open the line f'(x) = d/dx body and differentiate it."""
    b.define(sp.Derivative(f(x), x), sp.Derivative(body, x))
    return b.apply("differentiate", sp.Derivative.doit)


def second_derivative(b: Builder, f: sp.FunctionClass, first: sp.Basic, factor: bool) -> None:
    """f''(x) by differentiating the first derivative (written in f itself) again.

    The derivative of f that the product and chain rules produce is replaced by the already
    derived first derivative; then, if asked, the result is factored.
    """
    b.define(sp.Derivative(f(x), (x, 2)), sp.Derivative(first, x), "differentiate-again")
    b.apply("product-and-chain-rule", sp.Derivative.doit)
    b.apply("substitute-derivative", lambda e: e.subs(sp.Derivative(f(x), x), first))
    if factor:
        b.apply("factor", lambda e: prefer_one_minus(sp.factor(e)))
    b.result("d2")


def _smooth(name: str, f: sp.FunctionClass, quantity: Quantity, rewrite_rule: str,
            tidy, factor_d2: bool) -> Derivation:
    """d1 and d2 of a function whose derivative is a polynomial in itself (sigmoid, tanh)."""
    b = Builder(name, "activations", (X, quantity))
    definition = quantity.meaning.expr
    first_derivative(b, f, definition)
    b.apply(rewrite_rule, lambda e: tidy(rewrite_in_terms_of(e, f(x), definition, x)))
    d1 = b.result("d1").rhs
    second_derivative(b, f, d1, factor_d2)
    return b.build()


def sigmoid() -> Derivation:
    """sigma(x) = 1/(1 + e^{-x}): sigma' = sigma(1 - sigma), sigma'' = sigma(1 - sigma)(1 - 2 sigma)."""
    return _smooth("sigmoid", sigma, SIGMA, "rewrite-as-sigma", prefer_one_minus, factor_d2=True)


def tanh_entry() -> Derivation:
    """tanh(x) = (e^x - e^{-x})/(e^x + e^{-x}): tanh' = 1 - tanh^2, tanh'' = -2 tanh (1 - tanh^2)."""
    return _smooth("tanh", tanh, TANH, "rewrite-as-tanh", sp.expand, factor_d2=False)


def _piecewise_linear(name: str, negative_slope: sp.Basic, quantities, conventions) -> Derivation:
    """The derivative of a ReLU-like function, piecewise, with its value at 0 stated."""
    f = activation_function(name, rf"\operatorname{{{_display(name)}}}",
                            sp.Piecewise((x, x > 0), (negative_slope * x, True)))
    b = Builder(name, "activations", (X, f, *quantities), conventions=conventions)
    first_derivative(b, f.symbol, f.meaning.expr)
    b.result("d1")
    return b.build()


def _display(name: str) -> str:
    return {"relu": "ReLU", "leaky-relu": "LeakyReLU", "prelu": "PReLU", "elu": "ELU",
            "softplus": "softplus", "silu": "SiLU", "gelu": "GELU"}[name]


def relu() -> Derivation:
    """ReLU(x) = max(0, x): ReLU'(x) = 1 for x > 0, else 0 (0 at x = 0 by convention)."""
    return _piecewise_linear("relu", sp.Integer(0), (), ("relu-at-zero",))


def leaky_relu() -> Derivation:
    """LeakyReLU(x) = x for x > 0, alpha x otherwise: derivative 1 or alpha."""
    return _piecewise_linear("leaky-relu", alpha, (ALPHA,), ("leaky-at-zero",))


def prelu() -> Derivation:
    """PReLU: LeakyReLU with a learned slope alpha; the same derivative in x."""
    return _piecewise_linear("prelu", alpha, (ALPHA,), ("leaky-at-zero", "prelu-learned"))


def elu() -> Derivation:
    """ELU(x) = x for x > 0, alpha (e^x - 1) otherwise: derivative 1 or ELU(x) + alpha."""
    f = activation_function("elu", r"\operatorname{ELU}",
                            sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True)))
    b = Builder("elu", "activations", (X, ELU_ALPHA, f), conventions=("elu-at-zero",))
    first_derivative(b, f.symbol, f.meaning.expr)
    b.result("d1")
    negative = f.meaning.expr.args[1].expr
    b.apply("rewrite-in-terms-of-f", lambda e: sp.Piecewise(
        *((branch, condition) if condition != sp.true else
          (rewrite_in_terms_of(branch, f.symbol(x), negative, x), condition) for branch, condition in e.args)))
    b.result("d1_in_f")
    return b.build()


def softplus() -> Derivation:
    """softplus(x) = log(1 + e^x): softplus' = sigma(x), softplus'' = sigma(x)(1 - sigma(x))."""
    f = activation_function("softplus", r"\operatorname{softplus}", sp.log(1 + sp.exp(x)))
    b = Builder("softplus", "activations", (X, f, SIGMA))
    first_derivative(b, f.symbol, f.meaning.expr)
    d1 = b.apply("rewrite-as-sigma", lambda e: rewrite_in_terms_of(e, sigma(x), SIGMOID_DEFINITION, x))
    b.result("d1")
    sigma_first = get("sigmoid").target("d1").rhs
    b.define(sp.Derivative(f.symbol(x), (x, 2)), sp.Derivative(d1, x), "differentiate-again")
    b.apply("chain-rule", sp.Derivative.doit)
    b.apply("substitute-derivative", lambda e: e.subs(sp.Derivative(sigma(x), x), sigma_first))
    b.result("d2")
    return b.build()


def silu() -> Derivation:
    """SiLU(x) = x sigma(x): SiLU' = sigma(x)(1 + x(1 - sigma(x)))."""
    f = activation_function("silu", r"\operatorname{SiLU}", x * sigma(x))
    b = Builder("silu", "activations", (X, f, SIGMA))
    first_derivative(b, f.symbol, f.meaning.expr)
    sigma_first = get("sigmoid").target("d1").rhs
    b.apply("substitute-derivative", lambda e: e.subs(sp.Derivative(sigma(x), x), sigma_first))
    b.apply("factor", lambda e: sigma(x) * sp.collect(sp.expand(e / sigma(x)), x))
    b.result("d1")
    return b.build()


def gelu() -> Derivation:
    """GELU(x) = x Phi(x) with Phi the standard normal CDF: GELU' = Phi(x) + x phi(x)."""
    f = activation_function("gelu", r"\operatorname{GELU}", x * Phi(x))
    b = Builder("gelu", "activations", (X, f, PHI_CDF, PHI_PDF))
    first_derivative(b, f.symbol, f.meaning.expr)
    density = sp.diff(PHI_CDF.meaning.expr, x)
    b.apply("substitute-derivative", lambda e: e.subs(sp.Derivative(Phi(x), x), density))
    b.apply("rewrite-as-phi", lambda e: e.subs(density, phi(x)))
    b.result("d1")
    return b.build()


ENTRIES = (
    Entry("sigmoid", "activations", sigmoid, ("d1", "d2")),
    Entry("tanh", "activations", tanh_entry, ("d1", "d2")),
    Entry("relu", "activations", relu, ("d1",)),
    Entry("leaky-relu", "activations", leaky_relu, ("d1",)),
    Entry("prelu", "activations", prelu, ("d1",)),
    Entry("elu", "activations", elu, ("d1", "d1_in_f")),
    Entry("softplus", "activations", softplus, ("d1", "d2")),
    Entry("silu", "activations", silu, ("d1",)),
    Entry("gelu", "activations", gelu, ("d1",)),
)
