"""Activation functions and their derivatives, derived from the definitions."""

from __future__ import annotations

import dataclasses
import functools
from fractions import Fraction

import sympy as sp

from .. import cache
from ..engine import Builder, Derivation, Target
from ..errors import UsageError
from ..notation import POSITIVE, REAL, UNIT_LEAK, Quantity
from ..operations import prefer_one_minus, rewrite_in_terms_of
from .registry import Entry, get
from .shown import derivative, dot, over, plus, times

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


def first_derivative(b: Builder, f: sp.FunctionClass, body: sp.Basic, rule: str = "differentiate",
                     shown: tuple[sp.Basic | None, sp.Basic | None] = (None, None)) -> sp.Basic:
    """Open the line f'(x) = d/dx body and differentiate it; ``shown`` holds display forms of the
    body and of its derivative (None: as SymPy writes them)."""
    b.define(sp.Derivative(f(x), x), sp.Derivative(body, x))
    if shown[0] is not None:
        b.show(derivative(shown[0], x))
    result = b.apply(rule, sp.Derivative.doit)
    if shown[1] is not None:
        b.show(shown[1])
    return result


def second_derivative(b: Builder, f: sp.FunctionClass, first: Target, rule: str,
                      shown: tuple[sp.Basic, ...]) -> None:
    """f''(x) by differentiating the first derivative (written in f itself) again.

    The derivative of f that the product and chain rules produce is replaced by the already
    derived first derivative; ``shown`` holds the display forms of these two lines and, if
    there is one more, of the factored result.
    """
    b.define(sp.Derivative(f(x), (x, 2)), sp.Derivative(first.rhs, x), "differentiate-again")
    b.show(derivative(first.display, x))
    b.apply(rule, sp.Derivative.doit)
    b.show(shown[0])
    b.apply("substitute-derivative", lambda e: e.subs(sp.Derivative(f(x), x), first.rhs))
    b.show(shown[1])
    if len(shown) > 2:
        b.apply("factor", lambda e: prefer_one_minus(sp.factor(e)))
        b.show(shown[2])
    b.result("d2")


def sigmoid(rules: bool = False) -> Derivation:
    """sigma(x) = 1/(1 + e^{-x}): sigma' = sigma(1 - sigma), sigma'' = sigma(1 - sigma)(1 - 2 sigma),
    in the steps and order of the course's sheets; with ``rules`` the derivative goes one
    differentiation rule per step (the chain rule with u = 1 + e^{-x}, seed 003 2.1(a))."""
    b = Builder("sigmoid", "activations", (X, SIGMA))
    s, tail = sigma(x), 1 + sp.exp(-x)
    if rules:
        from ..differentiate import differentiate

        b.define(sp.Derivative(s, x), sp.Derivative(SIGMOID_DEFINITION, x))
        b.show(derivative(sp.Pow(tail, -1, evaluate=False), x))
        differentiate(b, SIGMOID_DEFINITION, x, finish=False)
    else:
        first_derivative(b, sigma, SIGMOID_DEFINITION)
    b.apply("split-product", lambda e: e)
    b.show(dot(1 / tail, over(plus(tail, -1), tail)))
    b.apply("rewrite-as-sigma", lambda e: prefer_one_minus(rewrite_in_terms_of(e, s, SIGMOID_DEFINITION, x)))
    b.show(times(s, 1 - s))
    d1 = b.result("d1")
    if rules:
        from ..differentiate import differentiate

        b.define(sp.Derivative(s, (x, 2)), sp.Derivative(d1.rhs, x), "differentiate-again")
        b.show(derivative(d1.display, x))
        differentiate(b, d1.rhs, x)
        b.show(times(s, 1 - s, 1 - 2 * s))
        b.result("d2")
        return b.build()
    slope = sp.Derivative(s, x)
    second_derivative(b, sigma, d1, "product-and-chain-rule", (
        plus(times(slope, 1 - s), times(-1, s, slope)),
        plus(times(s, (1 - s) ** 2), times(-1, s**2, 1 - s)),
        times(s, 1 - s, 1 - 2 * s)))
    return b.build()


def tanh_entry() -> Derivation:
    """tanh(x) = (e^x - e^{-x})/(e^x + e^{-x}): tanh' = 1 - tanh^2, tanh'' = -2 tanh (1 - tanh^2)."""
    b = Builder("tanh", "activations", (X, TANH))
    t = tanh(x)
    plus_part, minus_part = plus(sp.exp(x), sp.exp(-x)), plus(sp.exp(x), -sp.exp(-x))
    first_derivative(b, tanh, TANH_DEFINITION, "quotient-rule", shown=(
        None, over(plus(times(plus_part, plus_part), times(-1, minus_part, minus_part)), plus_part**2)))
    b.apply("split-fraction", lambda e: e)
    b.show(plus(1, times(-1, sp.Pow(over(minus_part, plus_part), 2, evaluate=False))))
    b.apply("rewrite-as-tanh", lambda e: sp.expand(rewrite_in_terms_of(e, t, TANH_DEFINITION, x)))
    d1 = b.result("d1")
    second_derivative(b, tanh, d1, "chain-rule", (
        times(-2, t, sp.Derivative(t, x)), times(-2, t, 1 - t**2)))
    return b.build()


def _piecewise_linear(name: str, negative_slope: sp.Basic, quantities, conventions) -> Derivation:
    """The derivative of a ReLU-like function, piecewise, with its value at 0 stated."""
    f = activation_function(name, rf"\operatorname{{{_display(name)}}}",
                            sp.Piecewise((x, x > 0), (negative_slope * x, True)))
    b = Builder(name, "activations", (X, f, *quantities), conventions=conventions)
    first_derivative(b, f.symbol, f.meaning.expr, shown=(
        sp.Piecewise((x, x > 0), (times(negative_slope, x), True)) if negative_slope != 0 else None, None))
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
    b.show(sp.Piecewise((1, x > 0), (plus(f.symbol(x), alpha), True)))
    b.result("d1_in_f")
    return b.build()


def softplus() -> Derivation:
    """softplus(x) = log(1 + e^x): softplus' = sigma(x), softplus'' = sigma(x)(1 - sigma(x))."""
    f = activation_function("softplus", r"\operatorname{softplus}", sp.log(1 + sp.exp(x)))
    b = Builder("softplus", "activations", (X, f, SIGMA))
    first_derivative(b, f.symbol, f.meaning.expr)
    b.apply("divide-by-exp", lambda e: e)
    b.show(over(1, 1 + sp.exp(-x)))
    d1 = b.apply("rewrite-as-sigma", lambda e: rewrite_in_terms_of(e, sigma(x), SIGMOID_DEFINITION, x))
    b.result("d1")
    sigmoid_d1 = get("sigmoid").target("d1")
    b.define(sp.Derivative(f.symbol(x), (x, 2)), sp.Derivative(d1, x), "differentiate-again")
    b.apply("sigmoid-derivative", lambda e: e.doit().subs(sp.Derivative(sigma(x), x), sigmoid_d1.rhs))
    b.show(sigmoid_d1.display)
    b.result("d2")
    return b.build()


def silu() -> Derivation:
    """SiLU(x) = x sigma(x): SiLU' = sigma(x)(1 + x(1 - sigma(x)))."""
    f = activation_function("silu", r"\operatorname{SiLU}", x * sigma(x))
    b = Builder("silu", "activations", (X, f, SIGMA))
    s = sigma(x)
    first_derivative(b, f.symbol, f.meaning.expr, "product-rule", shown=(None, plus(s, times(x, sp.Derivative(s, x)))))
    sigmoid_d1 = get("sigmoid").target("d1")
    b.apply("sigmoid-derivative", lambda e: e.subs(sp.Derivative(s, x), sigmoid_d1.rhs))
    b.show(plus(s, times(x, *sigmoid_d1.display.args)))
    b.apply("factor", lambda e: s * sp.collect(sp.expand(e / s), x))
    b.show(times(s, plus(1, times(x, 1 - s))))
    b.result("d1")
    return b.build()


def gelu() -> Derivation:
    """GELU(x) = x Phi(x) with Phi the standard normal CDF: GELU' = Phi(x) + x phi(x)."""
    f = activation_function("gelu", r"\operatorname{GELU}", x * Phi(x))
    b = Builder("gelu", "activations", (X, f, PHI_CDF, PHI_PDF))
    first_derivative(b, f.symbol, f.meaning.expr, "product-rule",
                     shown=(None, plus(Phi(x), times(x, sp.Derivative(Phi(x), x)))))
    density = sp.diff(PHI_CDF.meaning.expr, x)
    b.apply("normal-density", lambda e: e.subs(sp.Derivative(Phi(x), x), density))
    b.show(plus(Phi(x), times(over(x, sp.sqrt(2 * sp.pi, evaluate=False)), sp.exp(-x**2 / 2))))
    b.apply("rewrite-as-phi", lambda e: e.subs(density, phi(x)))
    b.show(plus(Phi(x), times(x, phi(x))))
    b.result("d1")
    return b.build()


def with_rules(name: str) -> Derivation:
    """The activation ``name`` with its derivatives one differentiation rule per step
    (``--detail rules``): sigmoid in the course's own steps around the rules (seed 003 2.1(a)),
    every other entry differentiated from its definition by :func:`derive.differentiate.function_derivation`.
    The disk cache keeps it beside the entry's own steps, under the key ``rules-NAME`` (the entry's
    name alone keys the catalog's own steps); the key of the whole cache is the package's source.

    Raises:
        UsageError: ``name`` is not an activation entry.
    """
    key = f"rules-{name}"
    derivation = cache.load(name, key)
    if derivation is None:
        derivation = _with_rules(name)
        cache.store(derivation, key)
    return derivation


@functools.cache
def _with_rules(name: str) -> Derivation:
    if name == "sigmoid":
        return sigmoid(rules=True)
    definitions = {"tanh": (TANH_DEFINITION, 2, ()), "softplus": (sp.log(1 + sp.exp(x)), 2, ()),
                   "silu": (x * sigma(x), 2, ()), "gelu": (x * Phi(x), 2, ()),
                   "relu": (sp.Piecewise((x, x > 0), (0, True)), 1, ()),
                   "leaky-relu": (sp.Piecewise((x, x > 0), (alpha * x, True)), 1, (ALPHA,)),
                   "prelu": (sp.Piecewise((x, x > 0), (alpha * x, True)), 1, (ALPHA,)),
                   "elu": (sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True)), 1, (ELU_ALPHA,))}
    if name not in definitions:
        raise UsageError(f"--detail rules is for the activation entries ({', '.join(['sigmoid', *definitions])}), "
                         f"not '{name}'")
    from ..differentiate import function_derivation

    body, order, parameters = definitions[name]
    derivation = function_derivation(name, body, order, parameters=parameters,
                                     function_name=_display(name) if name != "tanh" else None)
    own = get(name).conventions  # the entry's own wording of its kink (ReLU'(0) = 0), where it has one
    return dataclasses.replace(derivation, conventions=own or derivation.conventions)


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
