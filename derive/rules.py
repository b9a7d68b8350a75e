"""The differentiation rules as data: one row per rule, as sympy's ``manualintegrate`` rules.

Each :class:`Rule` says when it applies to ``d/dx expr`` (:meth:`Rule.applies`) and writes the
derivative one rule further (:meth:`Rule.expand`): what is still to be differentiated stays an
UNEVALUATED ``sp.Derivative(inner, x)``, so that :mod:`derive.differentiate` can record one rule
per step and the engine verifies each. The rule's ``key`` is its wording key (``rule-sum``, ...)
in the ``[rules]`` table of ``templates/wording/{en,zh}.toml``.

The known functions' derivatives (the outer derivative g'(u) that the chain rule multiplies by
du/dx) are the table :data:`OUTER`; a function applied to x itself is differentiated by its own
rule (``rule-exp``, ``rule-sin``, ...), applied to anything else by :data:`CHAIN` naming u.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

#: The course's named functions (undefined SymPy functions the catalog gives a meaning to).
sigma = sp.Function("sigma")
softplus = sp.Function("softplus")
Phi = sp.Function("Phi")
phi = sp.Function("phi")


def _d(expr: sp.Basic, x: sp.Symbol) -> sp.Basic:
    """d/dx expr, not carried out."""
    return sp.Derivative(expr, x, evaluate=False)


#: The derivative g'(u) of each known function g, by function class, and its rule key.
OUTER: dict[type, tuple[str, Callable[[sp.Basic], sp.Basic]]] = {
    sp.exp: ("rule-exp", sp.exp),
    sp.log: ("rule-log", lambda u: 1 / u),
    sp.sin: ("rule-sin", sp.cos),
    sp.cos: ("rule-cos", lambda u: -sp.sin(u)),
    sp.tan: ("rule-tan", lambda u: 1 + sp.tan(u) ** 2),
    sp.atan: ("rule-arctan", lambda u: 1 / (1 + u**2)),
    sp.sinh: ("rule-sinh", sp.cosh),
    sp.cosh: ("rule-cosh", sp.sinh),
    sp.tanh: ("rule-tanh", lambda u: 1 - sp.tanh(u) ** 2),
    sp.erf: ("rule-erf", lambda u: 2 / sp.sqrt(sp.pi) * sp.exp(-u**2)),
    sigma: ("rule-sigmoid", lambda u: sigma(u) * (1 - sigma(u))),
    softplus: ("rule-softplus", sigma),
    Phi: ("rule-normal", phi),
    phi: ("rule-normal", lambda u: -u * phi(u)),
    sp.Abs: ("rule-abs", sp.sign),
    sp.sign: ("rule-sign", lambda u: sp.Integer(0)),
}


@dataclass(frozen=True)
class Rule:
    """A differentiation rule: its wording key, when it applies to d/dx expr, and the
    derivative written one rule further (unevaluated derivatives for what is left)."""

    key: str
    applies: Callable[[sp.Basic, sp.Symbol], bool]
    expand: Callable[[sp.Basic, sp.Symbol], sp.Basic]
    #: whether the step names an inner function u (the chain rule)
    names_inner: bool = False

    def inner(self, expr: sp.Basic) -> sp.Basic | None:
        """The inner function u the chain rule names for d/dx expr (None for other rules)."""
        return _inner(expr) if self.names_inner else None


def _constant_factor(expr: sp.Basic, x: sp.Symbol) -> tuple[sp.Basic, sp.Basic]:
    return expr.as_independent(x, as_Add=False)


def _denominator(expr: sp.Basic, x: sp.Symbol) -> tuple[sp.Basic, sp.Basic]:
    """(numerator, denominator) of a product, the denominator the factors with a negative
    exponent that depend on x (e^{-x} is not one: it is no written fraction)."""
    numerator, denominator = [], []
    for factor in sp.Mul.make_args(expr):
        base, exponent = factor.as_base_exp()
        if isinstance(factor, sp.Pow) and exponent.is_number and exponent.is_negative and factor.has(x):
            denominator.append(base ** -exponent)
        else:
            numerator.append(factor)
    return sp.Mul(*numerator), sp.Mul(*denominator)


def _is_quotient(expr: sp.Basic, x: sp.Symbol) -> bool:
    if not isinstance(expr, sp.Mul) or _constant_factor(expr, x)[0] != 1:
        return False
    numerator, denominator = _denominator(expr, x)
    return numerator.has(x) and denominator != 1


def _quotient(expr: sp.Basic, x: sp.Symbol) -> sp.Basic:
    u, v = _denominator(expr, x)
    return (_d(u, x) * v - u * _d(v, x)) / v**2


def _product(expr: sp.Basic, x: sp.Symbol) -> sp.Basic:
    first, *rest = sp.Mul.make_args(expr)
    rest = sp.Mul(*rest)
    return _d(first, x) * rest + first * _d(rest, x)


def _piecewise(expr: sp.Piecewise, x: sp.Symbol) -> sp.Basic:
    return sp.Piecewise(*((_d(branch, x), condition) for branch, condition in expr.args), evaluate=False)


def _outer(expr: sp.Basic) -> sp.Basic:
    """g'(u) of g(u) = expr (a known function or a power with a constant exponent)."""
    if isinstance(expr, sp.Pow):
        base, exponent = expr.args
        if base.is_number:
            return expr * sp.log(base)
        return exponent * base ** (exponent - 1)
    return OUTER[type(expr)][1](expr.args[0])


def _known(expr: sp.Basic) -> bool:
    return type(expr) in OUTER and len(expr.args) == 1


def _inner(expr: sp.Basic) -> sp.Basic:
    """u of g(u): the argument of a known function, the base of u^n, the exponent of a^u."""
    if isinstance(expr, sp.Pow):
        return expr.exp if expr.base.is_number else expr.base
    return expr.args[0]


def _chainable(expr: sp.Basic, x: sp.Symbol) -> bool:
    """A known function or a power x-free in one of base and exponent, of something other than x."""
    if isinstance(expr, sp.Pow):
        base, exponent = expr.args
        inner = exponent if base.is_number else base
        return not (base.has(x) and exponent.has(x)) and inner != x
    return _known(expr) and expr.args[0] != x


def _is_power_of_x(expr: sp.Basic, x: sp.Symbol) -> bool:
    return isinstance(expr, sp.Pow) and expr.base == x and not expr.exp.has(x)


def _is_exponential_of_x(expr: sp.Basic, x: sp.Symbol) -> bool:
    return isinstance(expr, sp.Pow) and expr.exp == x and not expr.base.has(x)


def _is_general_power(expr: sp.Basic, x: sp.Symbol) -> bool:
    return isinstance(expr, sp.Pow) and expr.base.has(x) and expr.exp.has(x)


def _own_rule(key: str) -> Callable[[sp.Basic, sp.Symbol], bool]:
    return lambda e, x: _known(e) and e.args[0] == x and OUTER[type(e)][0] == key


def _apply_outer(expr: sp.Basic, x: sp.Symbol) -> sp.Basic:
    return _outer(expr)


CONSTANT = Rule("rule-constant", lambda e, x: not e.has(x), lambda e, x: sp.Integer(0))
"""d/dx c = 0 for c not depending on x."""

VARIABLE = Rule("rule-variable", lambda e, x: e == x, lambda e, x: sp.Integer(1))
"""d/dx x = 1."""

SUM = Rule("rule-sum", lambda e, x: isinstance(e, sp.Add),
           lambda e, x: sp.Add(*(_d(term, x) for term in e.args)))
"""d/dx (u + v + ...) = du/dx + dv/dx + ...: term by term."""

CONSTANT_FACTOR = Rule("rule-constant-factor",
                       lambda e, x: isinstance(e, sp.Mul) and _constant_factor(e, x)[0] != 1,
                       lambda e, x: _constant_factor(e, x)[0] * _d(_constant_factor(e, x)[1], x))
"""d/dx (c u) = c du/dx for c not depending on x."""

QUOTIENT = Rule("rule-quotient", _is_quotient, _quotient)
"""d/dx (u/v) = (u' v - u v') / v^2, where both u and v depend on x."""

PRODUCT = Rule("rule-product", lambda e, x: isinstance(e, sp.Mul), _product)
"""d/dx (u v) = u' v + u v' (u the first factor, v the product of the others)."""

POWER = Rule("rule-power", _is_power_of_x, lambda e, x: e.exp * x ** (e.exp - 1))
"""d/dx x^n = n x^(n-1) for n not depending on x."""

EXPONENTIAL = Rule("rule-exponential", _is_exponential_of_x, lambda e, x: e * sp.log(e.base))
"""d/dx a^x = a^x ln a for a > 0 not depending on x."""

GENERAL_POWER = Rule("rule-general-power", _is_general_power,
                     lambda e, x: e * _d(e.exp * sp.log(e.base), x))
"""d/dx u^v = d/dx e^(v ln u) = u^v d/dx (v ln u), where both u > 0 and v depend on x."""

EXP = Rule("rule-exp", _own_rule("rule-exp"), _apply_outer)
"""d/dx e^x = e^x."""

LOG = Rule("rule-log", _own_rule("rule-log"), _apply_outer)
"""d/dx ln x = 1/x."""

SIN = Rule("rule-sin", _own_rule("rule-sin"), _apply_outer)
"""Trigonometric: sin' = cos."""

COS = Rule("rule-cos", _own_rule("rule-cos"), _apply_outer)
"""Trigonometric: cos' = -sin."""

TAN = Rule("rule-tan", _own_rule("rule-tan"), _apply_outer)
"""Trigonometric: tan' = 1 + tan^2."""

ARCTAN = Rule("rule-arctan", _own_rule("rule-arctan"), _apply_outer)
"""Inverse trigonometric: arctan'(x) = 1/(1 + x^2)."""

SINH = Rule("rule-sinh", _own_rule("rule-sinh"), _apply_outer)
"""Hyperbolic: sinh' = cosh."""

COSH = Rule("rule-cosh", _own_rule("rule-cosh"), _apply_outer)
"""Hyperbolic: cosh' = sinh."""

TANH = Rule("rule-tanh", _own_rule("rule-tanh"), _apply_outer)
"""Hyperbolic: tanh' = 1 - tanh^2."""

SIGMOID = Rule("rule-sigmoid", _own_rule("rule-sigmoid"), _apply_outer)
"""sigma'(x) = sigma(x) (1 - sigma(x))."""

SOFTPLUS = Rule("rule-softplus", _own_rule("rule-softplus"), _apply_outer)
"""softplus'(x) = sigma(x)."""

ERF = Rule("rule-erf", _own_rule("rule-erf"), _apply_outer)
"""erf'(x) = 2/sqrt(pi) e^(-x^2)."""

NORMAL = Rule("rule-normal", _own_rule("rule-normal"), _apply_outer)
"""The standard normal CDF and density: Phi'(x) = phi(x), phi'(x) = -x phi(x)."""

ABS = Rule("rule-abs", _own_rule("rule-abs"), _apply_outer)
"""d/dx |x| = sign(x); at the kink x = 0 the value sign(0) = 0 is taken (a subgradient)."""

SIGN = Rule("rule-sign", _own_rule("rule-sign"), _apply_outer)
"""d/dx sign(x) = 0 for x != 0; taken as 0 at x = 0 too (the derivative of |x| is a subgradient)."""

PIECEWISE = Rule("rule-piecewise", lambda e, x: isinstance(e, sp.Piecewise), _piecewise)
"""Branch by branch: each branch differentiated on its own interval; at a boundary point the
derivative is the one of the branch whose condition holds there (ReLU'(0) = 0, as PyTorch)."""

CHAIN = Rule("rule-chain", _chainable, lambda e, x: _outer(e) * _d(_inner(e), x), names_inner=True)
"""d/dx g(u) = g'(u) du/dx, the inner function u named; g a known function or a power."""

#: Every rule, in the order they are tried (the first that applies is used).
RULES: tuple[Rule, ...] = (CONSTANT, VARIABLE, SUM, CONSTANT_FACTOR, PIECEWISE, QUOTIENT, PRODUCT, POWER,
                           EXPONENTIAL, GENERAL_POWER, EXP, LOG, SIN, COS, TAN, ARCTAN, SINH, COSH, TANH, SIGMOID, SOFTPLUS, ERF, NORMAL, ABS, SIGN,
                           CHAIN)

#: Every rule key (the wording keys a printed step of a derivative may name).
KEYS: frozenset[str] = frozenset(rule.key for rule in RULES)


def rule_for(expr: sp.Basic, x: sp.Symbol) -> Rule | None:
    """The first rule that applies to d/dx ``expr``, or None (a function no rule knows)."""
    return next((rule for rule in RULES if rule.applies(expr, x)), None)
