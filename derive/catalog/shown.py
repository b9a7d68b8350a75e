"""Builders of display forms (see :meth:`derive.engine.Builder.show`): expressions kept in the
order they are written, for the reader, never for computing.

The printers print an unevaluated product or sum factor by factor, term by term, as built.
Pickling (the disk cache, a worker's result) rebuilds products, sums, powers and case splits from
their arguments as stored, not evaluated again: a display form keeps its order, and a canonical
expression comes back the same.
"""

from __future__ import annotations

import copyreg

import sympy as sp

_AS_BUILT = (sp.Add, sp.Mul, sp.Pow, sp.Piecewise, sp.Abs, sp.sign)


def _as_built(kind: type, args: tuple) -> sp.Basic:
    return kind(*args, evaluate=False)


def _reduce(expr: sp.Basic):
    return _as_built, (type(expr), expr.args)


for _kind in _AS_BUILT:
    copyreg.pickle(_kind, _reduce)


def times(*factors: sp.Basic) -> sp.Basic:
    """The product of ``factors`` in this order: ``times(sigma, 1 - sigma)`` prints sigma(1 - sigma)."""
    return sp.Mul(*factors, evaluate=False)


def plus(*terms: sp.Basic) -> sp.Basic:
    """The sum of ``terms`` in this order (a negative term as ``times(-1, ...)``)."""
    return sp.Add(*terms, evaluate=False)


def over(numerator: sp.Basic, denominator: sp.Basic) -> sp.Basic:
    """The fraction numerator/denominator as written, nothing cancelled."""
    reciprocals = [sp.Pow(factor, -1, evaluate=False) for factor in sp.Mul.make_args(denominator)]
    return times(*reciprocals) if numerator == 1 else times(numerator, *reciprocals)


def dot(*factors: sp.Basic) -> sp.Basic:
    """The product of ``factors`` written with a centred dot between them, each kept whole (a
    product of fractions before it cancels: (y^ - y)/(y^(1 - y^)) . y^(1 - y^))."""
    return sp.Mul(*(sp.UnevaluatedExpr(f) for f in factors), evaluate=False)


def derivative(expr: sp.Basic, *variables) -> sp.Basic:
    """d/d variables of ``expr``, not carried out (the opening line of a derivative)."""
    return sp.Derivative(expr, *variables, evaluate=False)
