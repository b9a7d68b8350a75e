"""Figures for handouts: an activation and its derivative, sampled from the derived expressions.

The coordinates come from lambdifying the definition and the derived first derivative; the
templates only draw them.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from .engine import Derivation

SPAN, SAMPLES = 4, 161


def activation_figure(derivation: Derivation, values: Mapping[str, sp.Rational]) -> dict | None:
    """Sampled curves of f(x) and f'(x) for an activation entry, or None for other families.

    Parameters the user did not give (alpha) take the example value of their quantity.
    """
    if derivation.family != "activations" or "d1" not in derivation.targets:
        return None
    first = derivation.targets["d1"]
    applied = first.lhs.expr
    variable = applied.args[0]
    settings = {q.symbol: values.get(q.key, q.example) for q in derivation.parameters().values()
                if q.symbol != variable}
    settings = {symbol: sp.Rational(value) for symbol, value in settings.items() if value is not None}
    curves = {}
    for label, expr in (("function", applied), ("derivative", first.rhs)):
        concrete = derivation.explicit(expr).xreplace(settings)
        evaluate = sp.lambdify(variable, concrete, modules="math")
        points = [-SPAN + 2 * SPAN * n / (SAMPLES - 1) for n in range(SAMPLES)]
        curves[label] = " ".join(f"({x:.3f},{float(evaluate(x)):.4f})" for x in points)
    return {**curves, "span": SPAN,
            "settings": {str(symbol): sp.sstr(value) for symbol, value in settings.items()}}
