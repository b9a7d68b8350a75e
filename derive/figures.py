"""Figures for handouts: an activation and its derivative, sampled from the derived expressions,
and the tick marks of a log axis.

The coordinates come from lambdifying the definition and the derived first derivative; the
templates only draw them. A log axis (a simulation's variances) gets its ticks from
:func:`log_ticks`: 1-2-5 steps or powers of ten, never a tick such as 10^0.3.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import sympy as sp

from .engine import Derivation

SPAN, SAMPLES = 4, 161
MOST_TICKS = 8   # a log axis shows at most this many ticks (every k-th power of ten beyond)


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
    return {**curves, "span": SPAN, "xlabel": "$x$", "ylabel": "$f(x)$, $f'(x)$",
            "settings": {str(symbol): sp.sstr(value) for symbol, value in settings.items()}}


def _decimal(mantissa: int, exponent: int) -> float:
    """``mantissa`` x 10^``exponent`` as the nearest float (``2e-9``, not ``2 * 10**-9``)."""
    return float(f"{mantissa}e{exponent}")


def log_ticks(low: float, high: float, most: int = MOST_TICKS) -> list[float]:
    """Tick values of a log axis covering ``low``..``high`` (both > 0): the 1-2-5 steps
    (..., 0.5, 1, 2, 5, 10, ...) from the last at or below ``low`` to the first at or above
    ``high`` when that is at most ``most`` ticks, else powers of ten (every k-th one, at
    multiples of k, when there would be more than ``most``). At least two ticks."""
    if not 0 < low <= high < math.inf:
        raise ValueError(f"a log axis needs 0 < low <= high < inf, not {low}, {high}")
    first, last = math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1
    steps = [_decimal(m, k) for k in range(first, last + 1) for m in (1, 2, 5)]
    start = max(v for v in steps if v <= low * (1 + 1e-12))
    end = min(v for v in steps if v >= high * (1 - 1e-12))
    ticks = [v for v in steps if start <= v <= end]
    if len(ticks) == 1:
        ticks.append(steps[steps.index(end) + 1])
    if len(ticks) <= most:
        return ticks
    bottom = math.floor(math.log10(low) + 1e-12)
    top = math.ceil(math.log10(high) - 1e-12)
    every = max(1, math.ceil((top - bottom) / (most - 1)))
    bottom, top = every * math.floor(bottom / every), every * math.ceil(top / every)
    return [_decimal(1, k) for k in range(bottom, top + 1, every)]


def tick_label(value: float, powers: bool) -> str:
    """A log-axis tick as TeX math: ``10^{-9}`` on an axis of powers of ten (``powers``), else
    fixed point from 0.001 to 5000 (``0.5``, ``20``) and ``2 \\cdot 10^{-5}`` beyond."""
    mantissa, exponent = (int(part) for part in f"{value:.0e}".split("e"))
    if powers:
        return f"$10^{{{exponent}}}$"
    if -3 <= exponent <= 3:
        return f"${value:.{max(0, -exponent)}f}$"
    return f"$10^{{{exponent}}}$" if mantissa == 1 else f"${mantissa} \\cdot 10^{{{exponent}}}$"


def log_axis(series: Iterable[Iterable[float]]) -> dict | None:
    """What a log y axis needs to show every positive finite value of ``series``: ``ticks`` and
    ``labels`` (TeX, as pgfplots ``ytick`` and ``yticklabels`` lists), ``ymin`` and ``ymax`` a little
    outside the outer ticks; None when there is no such value."""
    values = [v for values in series for v in values if 0 < v < math.inf]
    if not values:
        return None
    ticks = log_ticks(min(values), max(values))
    powers = len(ticks) > 1 and all(f"{v:.0e}".startswith("1e") for v in ticks) and ticks[1] / ticks[0] > 5
    margin = (ticks[-1] / ticks[0]) ** 0.03
    return {"ticks": ",".join(f"{v:g}" for v in ticks),
            "labels": ",".join(f"{{{tick_label(v, powers)}}}" for v in ticks),
            "ymin": f"{ticks[0] / margin:.6g}", "ymax": f"{ticks[-1] * margin:.6g}"}
