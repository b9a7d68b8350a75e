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


def log_steps(low: float, high: float, most: int = MOST_TICKS) -> list[tuple[int, int]]:
    """Tick values of a log axis covering ``low``..``high`` (both > 0), as (mantissa, exponent)
    pairs (``(2, -9)`` is 2e-9): the 1-2-5 steps (..., 0.5, 1, 2, 5, 10, ...) from the last at or
    below ``low`` to the first at or above ``high`` when that is at most ``most`` ticks, else
    powers of ten (every k-th one, at multiples of k, when there would be more than ``most``).
    At least two ticks. Worked out on exponents, so that ticks beyond float's range stay exact."""
    if not 0 < low <= high < math.inf:
        raise ValueError(f"a log axis needs 0 < low <= high < inf, not {low}, {high}")
    bottom, top = math.log10(low), math.log10(high)
    steps = [(m, k) for k in range(math.floor(bottom) - 1, math.ceil(top) + 2) for m in (1, 2, 5)]
    where = [math.log10(m) + k for m, k in steps]
    first = max(n for n, x in enumerate(where) if x <= bottom + 1e-12)
    last = min(n for n, x in enumerate(where) if x >= top - 1e-12)
    last = max(last, first + 1)
    if last - first + 1 <= most:
        return steps[first:last + 1]
    bottom, top = math.floor(bottom + 1e-12), math.ceil(top - 1e-12)
    every = max(1, math.ceil((top - bottom) / (most - 1)))
    while math.ceil(top / every) - math.floor(bottom / every) + 1 > most:
        every += 1
    return [(1, k) for k in range(every * math.floor(bottom / every), every * math.ceil(top / every) + 1, every)]


def log_ticks(low: float, high: float, most: int = MOST_TICKS) -> list[float]:
    """:func:`log_steps` as floats (a tick beyond float's range is 0.0 or inf)."""
    return [float(f"{m}e{k}") for m, k in log_steps(low, high, most)]


def tick_label(value: float, powers: bool) -> str:
    """A log-axis tick as TeX math: ``10^{-9}`` on an axis of powers of ten (``powers``), else
    fixed point from 0.001 to 5000 (``0.5``, ``20``) and ``2 \\cdot 10^{-5}`` beyond."""
    mantissa, exponent = (int(part) for part in f"{value:.0e}".split("e"))
    return _label(mantissa, exponent, powers)


def _label(mantissa: int, exponent: int, powers: bool) -> str:
    if powers or (mantissa == 1 and not -3 <= exponent <= 3):
        return f"$10^{{{exponent}}}$"
    if -3 <= exponent <= 3:
        return f"${mantissa * 10.0 ** exponent:.{max(0, -exponent)}f}$"
    return f"${mantissa} \\cdot 10^{{{exponent}}}$"


def _power(x: float) -> str:
    """10^x written for pgfplots (``4.6663e-1``), exact for any exponent."""
    exponent = math.floor(x)
    return f"{10 ** (x - exponent):.4f}e{exponent}"


def log_axis(series: Iterable[Iterable[float]]) -> dict | None:
    """What a log y axis needs to show every positive finite value of ``series``: ``ticks`` and
    ``labels`` (TeX, as pgfplots ``ytick`` and ``yticklabels`` lists), ``ymin`` and ``ymax`` a little
    outside the outer ticks; None when there is no such value."""
    values = [v for values in series for v in values if 0 < v < math.inf]
    if not values:
        return None
    ticks = log_steps(min(values), max(values))
    powers = all(m == 1 for m, _ in ticks) and ticks[1][1] - ticks[0][1] >= 1
    low, high = (math.log10(m) + k for m, k in (ticks[0], ticks[-1]))
    margin = 0.03 * (high - low)
    return {"ticks": ",".join(f"{m}e{k}" for m, k in ticks),
            "labels": ",".join(f"{{{_label(m, k, powers)}}}" for m, k in ticks),
            "ymin": _power(low - margin), "ymax": _power(high + margin)}
