"""Where two expressions are compared numerically: points of the declared domains, and the
points around the kinks of the expressions.

A point is exact: every coordinate is a rational with a random denominator of ``digits``
digits, so there is no decimal or binary grid for a term such as sin(2000000 pi x) to vanish
on. Coordinates are spread over magnitudes, band by band: an unbounded real over |x| in
[0.001, 1], [1, 10], [10, 1000] and [1000, 10^6] with either sign; a size (a positive
integer) over [1, 10], [10, 1000], [1000, 10^6] and [10^6, 10^9], except a size that bounds a
sum written out term by term (at most 16 there); a bounded interval uniformly and near each
edge, and at a closed edge itself.

Kinks: where a Piecewise condition, the arguments of Max, Min, Heaviside, Abs, sign, floor,
ceiling or frac change, and where a sine or cosine of a large-coefficient argument peaks, the
coordinate is placed exactly on the breakpoint, just either side of it, between consecutive
breakpoints and beyond the outermost ones.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import product

import sympy as sp

from .notation import Domain

#: log10 bands of |x| for an unbounded real, of a size, of a size bounding a written-out sum,
#: and of an entry of an indexed family (x_1, x_2, ...)
REAL_BANDS = ((-3, 0), (0, 1), (1, 3), (3, 6))
SIZE_BANDS = ((0, 1), (1, 3), (3, 6), (6, 9))
SUMMED_SIZE_BANDS = ((0, 0.8), (0.8, 1.2))
ENTRY_BANDS = ((-3, 0), (0, 1), (1, 2))
BANDS = len(REAL_BANDS)
#: a sine or cosine whose argument changes faster than this per unit is sampled at its peaks
FAST = 10
MOST_KINK_POINTS = 48
MOST_BREAKPOINTS = 8
KINK_TYPES = (sp.Max, sp.Min, sp.Heaviside, sp.Abs, sp.sign, sp.floor, sp.ceiling, sp.frac, sp.Piecewise,
          sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc)


def fine(value: float | Fraction, rng: random.Random, digits: int) -> sp.Rational:
    """``value`` to ``digits`` significant digits, as a rational with a random denominator."""
    q = rng.randrange(10 ** (digits - 1), 10**digits)
    return sp.Rational(round(Fraction(value) * q), q)


def _magnitude(rng: random.Random, band: tuple[float, float]) -> float:
    return 10 ** rng.uniform(*band)


def draw(domain: Domain, rng: random.Random, band: int, digits: int, bound: int | None = None,
         summed: bool = False) -> sp.Rational:
    """A random exact point of ``domain`` in magnitude band ``band`` (taken modulo the bands).

    Args:
        bound: for an index, the class count it runs to.
        summed: the value bounds a sum written out term by term (kept small).
    """
    if domain.kind == "index":
        return sp.Integer(rng.randint(1, bound))
    low, high = domain.low, domain.high
    if domain.kind == "integer":
        first = int(low) + int(domain.low_open) if low is not None else None
        last = int(high) - int(domain.high_open) if high is not None else None
        if first is not None and last is not None:
            return sp.Integer(rng.randint(first, last))
        bands = SUMMED_SIZE_BANDS if summed else SIZE_BANDS
        size = round(_magnitude(rng, bands[band % len(bands)]))
        return sp.Integer(first - 1 + max(1, size) if first is not None else last + 1 - max(1, size))
    if low is not None and high is not None:
        return _bounded(domain, rng, band, digits)
    distance = _magnitude(rng, REAL_BANDS[band % BANDS])
    if low is not None:
        return fine(Fraction(low) + Fraction(distance), rng, digits)
    if high is not None:
        return fine(Fraction(high) - Fraction(distance), rng, digits)
    return fine(distance if rng.random() < 0.5 else -distance, rng, digits)


def _bounded(domain: Domain, rng: random.Random, band: int, digits: int) -> sp.Rational:
    """A point of a bounded interval: uniform, or near an edge (at a closed edge itself, half the time)."""
    low, high = Fraction(domain.low), Fraction(domain.high)
    mode = band % BANDS
    if mode < 2:
        return fine(low + (high - low) * Fraction(rng.uniform(0.01, 0.99)), rng, digits)
    at_low = mode == 2
    if not (domain.low_open if at_low else domain.high_open) and rng.random() < 0.5:
        return sp.Rational(low if at_low else high)
    offset = (high - low) * Fraction(10 ** rng.uniform(-6, -1))
    return fine(low + offset if at_low else high - offset, rng, digits)


def entry_value(domain: Domain | None, rng: random.Random, digits: int) -> sp.Rational:
    """The value of one entry of an indexed family (x_3): from its domain, at most 100 in size."""
    if domain is not None and domain.kind == "real" and domain.low is not None and domain.high is not None:
        return _bounded(domain, rng, rng.randrange(BANDS), digits)
    distance = _magnitude(rng, ENTRY_BANDS[rng.randrange(len(ENTRY_BANDS))])
    if domain is not None and domain.low is not None:
        return fine(Fraction(domain.low) + Fraction(distance), rng, digits)
    return fine(distance if rng.random() < 0.5 else -distance, rng, digits)


@dataclass(frozen=True)
class KinkPoint:
    """A point placed by a kink; ``symbol`` and ``step`` are set when the point lies exactly on
    a breakpoint of that symbol (``step``: how far either side still lies on the same pieces)."""

    point: dict
    symbol: sp.Symbol | None = None
    step: sp.Basic | None = None


def kink_points(exprs: Iterable[sp.Basic], base: Mapping, domains: Mapping[sp.Basic, Domain]) -> list[KinkPoint]:
    """Points around every breakpoint of ``exprs``, each the point ``base`` with one coordinate moved.

    Args:
        exprs: the expressions compared.
        base: a point of the domains (every free symbol has a value).
        domains: the domain of each symbol that may be moved (reals and sizes).
    """
    found: dict[sp.Symbol, set] = {}
    for expr in exprs:
        for critical, kind in _critical(expr):
            for symbol in critical.free_symbols:
                if symbol in domains and symbol in base:
                    others = {s: v for s, v in base.items() if s != symbol and isinstance(s, sp.Basic)}
                    line = critical.xreplace(others)
                    if line.free_symbols == {symbol}:
                        found.setdefault(symbol, set()).update(_levels(line, symbol, kind, base[symbol]))
    points: list[KinkPoint] = []
    for symbol in sorted(found, key=str):
        roots = _in_domain(found[symbol], domains[symbol])
        for value, step in _around(roots, domains[symbol]):
            points.append(KinkPoint({**base, symbol: value}, symbol if step is not None else None, step))
    return points[:MOST_KINK_POINTS]


def _critical(expr: sp.Basic) -> list[tuple[sp.Basic, str]]:
    """(expression, kind): where it is 0 (``zero``), an integer (``integer``) or a peak of a
    fast oscillation (``periodic``), something changes."""
    critical = []
    for kink in expr.atoms(*KINK_TYPES):
        if isinstance(kink, (sp.Max, sp.Min)):
            critical += [(u - v, "zero") for u, v in zip(kink.args, kink.args[1:], strict=False)]
            critical += [(kink.args[0] - kink.args[-1], "zero")] if len(kink.args) > 2 else []
        elif isinstance(kink, (sp.Heaviside, sp.Abs, sp.sign)):
            critical.append((kink.args[0], "zero"))
        elif isinstance(kink, (sp.floor, sp.ceiling, sp.frac)):
            critical.append((kink.args[0], "integer"))
        elif isinstance(kink, sp.Piecewise):
            for _, condition in kink.args:
                relations = condition.atoms(sp.core.relational.Relational)
                critical += [(r.lhs - r.rhs, "zero") for r in relations if isinstance(r.lhs - r.rhs, sp.Expr)]
        else:
            critical.append((kink.args[0], "periodic"))
    return critical


def _levels(line: sp.Basic, symbol: sp.Symbol, kind: str, near: sp.Basic) -> list[sp.Basic]:
    """Values of ``symbol`` where ``line`` (a function of it alone) is 0, crosses an integer
    near ``near``, or peaks."""
    if kind == "zero":
        return _roots(line, symbol)
    try:
        at = float(line.xreplace({symbol: near}))
    except (TypeError, ValueError):
        return []
    if not math.isfinite(at):
        return []
    if kind == "integer":
        return [r for n in {math.floor(at), math.floor(at) + 1, -1, 0, 1} for r in _roots(line - n, symbol)]
    slope = _linear_slope(line, symbol)
    if slope is None or abs(float(slope)) < FAST:
        return []
    turn = round(at / (2 * math.pi))
    return [r for level in (2 * sp.pi * turn, 2 * sp.pi * turn + sp.pi / 2) for r in _roots(line - level, symbol)]


def _linear_slope(line: sp.Basic, symbol: sp.Symbol) -> sp.Basic | None:
    try:
        poly = sp.Poly(line, symbol)
    except (sp.PolynomialError, sp.GeneratorsNeeded):
        return None
    return poly.all_coeffs()[0] if poly.degree() == 1 else None


def _roots(line: sp.Basic, symbol: sp.Symbol) -> list[sp.Basic]:
    """Real roots of ``line`` in ``symbol`` where it is (piece by piece, through Abs and sign)
    a polynomial of degree 1 or 2."""
    folds = [a for a in line.atoms(sp.Abs, sp.sign) if a.has(symbol)][:2]
    roots = []
    for signs in product((1, -1), repeat=len(folds)):
        piece = line.xreplace({fold: s * (fold.args[0] if isinstance(fold, sp.Abs) else 1)
                               for fold, s in zip(folds, signs, strict=True)})
        try:
            poly = sp.Poly(piece, symbol)
        except (sp.PolynomialError, sp.GeneratorsNeeded):
            continue
        if poly.degree() == 1:
            roots.append(-poly.all_coeffs()[1] / poly.all_coeffs()[0])
        elif poly.degree() == 2:
            roots += [r for r in sp.roots(poly, filter="R")]
    return [r for r in roots if r.is_real and r.is_finite]


def _in_domain(values: Iterable[sp.Basic], domain: Domain) -> list[sp.Basic]:
    """The values inside the domain (sizes: the integers around each), sorted, at most a few."""
    if domain.kind == "integer":
        values = {sp.Integer(n) for v in values for n in range(int(sp.floor(v)) - 1, int(sp.ceiling(v)) + 2)}
    inside = sorted({v for v in values if _contains(domain, v)}, key=float)
    return inside[:MOST_BREAKPOINTS]


def _contains(domain: Domain, value: sp.Basic) -> bool:
    try:
        return bool(domain.contains(value))
    except TypeError:  # a comparison SymPy cannot decide: leave the value out
        return False


def _around(roots: list[sp.Basic], domain: Domain) -> list[tuple[sp.Basic, sp.Basic | None]]:
    """(value, step) pairs: each breakpoint (step: how far either side stays on its pieces),
    just either side of it, between consecutive ones, and beyond the outermost (halfway to a
    bounded domain's edge)."""
    if not roots:
        return []
    if domain.kind == "integer":
        beyond = [roots[0] - max(1, abs(roots[0])), roots[-1] + max(1, abs(roots[-1]))]
        return [(r, None) for r in roots] + [(sp.Integer(int(sp.floor(v))), None) for v in beyond
                                               if _contains(domain, sp.Integer(int(sp.floor(v))))]
    low = [sp.Rational(domain.low)] if domain.low is not None else []
    high = [sp.Rational(domain.high)] if domain.high is not None else []
    walls = low + roots + high
    chosen: list[tuple[sp.Basic, sp.Basic | None]] = []
    for index, root in enumerate(roots, len(low)):
        gaps = [abs(root - wall) for wall in walls[index - 1:index] + walls[index + 1:index + 2]]
        step = min([sp.Rational(math.ceil(max(1.0, abs(float(root)))), 10**6)] + [g / 4 for g in gaps])
        chosen += [(root, step), (root - step, None), (root + step, None)]
        if index + 1 < len(walls):
            chosen.append(((root + walls[index + 1]) / 2, None))
    chosen.append(((roots[0] + low[0]) / 2 if low else roots[0] - max(1, abs(roots[0])), None))
    chosen += [] if high else [(roots[-1] + max(1, abs(roots[-1])), None)]
    return [(value, step) for value, step in chosen if _contains(domain, value)]
