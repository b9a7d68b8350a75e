"""Proving that two expressions are equal under a derivation's definitions and assumptions.

Strategies run cheapest first: structural identity, expansion, rational simplification, then
agreement at seeded random points of the declared domains (which also catches a false step
quickly), and last ``sympy.simplify``, which upgrades a numeric agreement to a proof.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.simplify.simplify import sum_simplify

from .errors import VerificationError
from .notation import Quantity, smooth_functions, symmetric_densities

DIGITS = 30
MAX_TERMS = 10_000
TOLERANCE = sp.Float(10) ** -15


@dataclass(frozen=True)
class Certificate:
    """How a step was verified: ``symbolic`` (proved) or ``numeric`` (agreement at points)."""

    method: str
    points: int = 0


@dataclass(frozen=True)
class Counterexample:
    """A point of the domain where two expressions differ."""

    point: dict
    left: sp.Basic
    right: sp.Basic


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing two expressions: exactly one of the two is set."""

    certificate: Certificate | None
    counterexample: Counterexample | None = None


class Verifier:
    """Unfolds definitions and proves equalities for one derivation.

    Args:
        quantities: the derivation's quantities, by SymPy object.
        seed: seed of the random points, so a verification is reproducible.
        points: how many random points a numeric verification must agree at.
    """

    def __init__(self, quantities: Mapping[sp.Basic, Quantity], seed: int = 0, points: int = 12):
        self.quantities = dict(quantities)
        self.facts: dict[sp.Basic, sp.Basic] = {
            s: q.meaning for s, q in quantities.items() if q.meaning is not None
        }
        self.seed = seed
        self.points = points

    def learn(self, symbol: sp.Basic, meaning: sp.Basic) -> None:
        """Record what a symbol stands for, so later steps can use it."""
        self.facts[symbol] = meaning

    def unfold(self, expr: sp.Basic, given: Mapping | None = None, keep: frozenset = frozenset()) -> sp.Basic:
        """Replace every defined symbol, function and indexed family by its meaning.

        A derivative with respect to a defined quantity (dL/dz^(l), where z^(l) = W a + b)
        holds that quantity as an independent variable, as backpropagation does: what
        depends on it is unfolded down to it and differentiated, and only then is the
        quantity itself unfolded. ``keep`` lists the quantities held so.
        """
        given = dict(given or {})
        facts = {k: v for k, v in self.facts.items() if k not in keep}
        symbols = {k: v for k, v in facts.items() if not isinstance(k, (sp.IndexedBase, sp.FunctionClass))}
        families = [(k, v) for k, v in facts.items() if isinstance(k, (sp.IndexedBase, sp.FunctionClass))]
        for _ in range(12):
            before = expr
            expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and self._held(e, keep),
                                lambda e: self._partial(e, given, keep))
            expr = expr.xreplace(given).xreplace(symbols)
            for obj, meaning in families:
                if isinstance(obj, sp.IndexedBase):
                    expr = expr.replace(
                        lambda e, obj=obj: isinstance(e, sp.Indexed) and e.base == obj,
                        lambda e, m=meaning: m(*e.indices))
                elif expr.has(obj):
                    expr = expr.replace(obj, meaning)
            if expr == before:
                break
        return at_points(expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs, sp.UnevaluatedExpr)),
                                      lambda e: e.doit()))

    def _held(self, derivative: sp.Derivative, keep: frozenset) -> bool:
        return any(_quantity_of(v) in self.facts and _quantity_of(v) not in keep for v in derivative.variables)

    def _partial(self, derivative: sp.Derivative, given: dict, keep: frozenset) -> sp.Basic:
        held = keep | {_quantity_of(v) for v in derivative.variables}
        inner = self.unfold(derivative.expr, given, frozenset(held))
        return at_points(sp.Derivative(inner, *derivative.variable_count).doit())

    def compare(self, left: sp.Basic, right: sp.Basic, given: Mapping | None = None,
                thorough: bool = True) -> Comparison:
        """Decide ``left == right``: a certificate when they agree, a counterexample when not.

        Args:
            left, right: the expressions.
            given: substitutions that hold under the step's assumptions (zero means, ...).
            thorough: also try ``simplify`` to upgrade a numeric agreement to a proof.
        """
        given = dict(given or {})
        if cheaply_zero(left.xreplace(given) - right.xreplace(given)):
            return Comparison(Certificate("symbolic"))
        a, b = self.unfold(left, given), self.unfold(right, given)
        difference = a - b
        if cheaply_zero(difference):
            return Comparison(Certificate("symbolic"))
        agreed, counter = self.sample(a, b)
        if counter is not None:
            return Comparison(None, counter)
        # With an unknown function (an activation f) the sum simplifier cannot decide; agreement
        # at points, for several concrete functions, stands.
        if thorough and difference.has(sp.Sum) and not difference.has(sp.Integral, sp.Subs, AppliedUndef) \
                and _is_zero(sum_simplify, difference):
            return Comparison(Certificate("symbolic"))
        if thorough and not difference.has(sp.Integral, sp.Sum) and _is_zero(sp.simplify, difference):
            return Comparison(Certificate("symbolic"))
        if agreed == 0:
            raise VerificationError("could not be evaluated at any point of its domain")
        return Comparison(Certificate("numeric", agreed))

    def prove_equal(self, left: sp.Basic, right: sp.Basic, given: Mapping | None = None) -> Certificate:
        """Prove ``left == right``, or raise ``VerificationError`` with a counterexample."""
        comparison = self.compare(left, right, given)
        if comparison.counterexample is not None:
            raise VerificationError(_describe(comparison.counterexample))
        return comparison.certificate

    def sample(self, a: sp.Basic, b: sp.Basic, points: int | None = None) -> tuple[int, Counterexample | None]:
        """Compare ``a`` and ``b`` at seeded random points; return (agreed, counterexample)."""
        rng = random.Random(self.seed)
        agreed = 0
        has_integral = a.has(sp.Integral) or b.has(sp.Integral)
        plan = self._index_plan(a, b)
        wanted = 4 if has_integral else max(points or self.points, len(plan) + 4)
        digits, tolerance = (12, sp.Float(10) ** -8) if has_integral else (DIGITS, TOLERANCE)
        for attempt in range(4 * wanted):
            if agreed >= wanted:
                break
            point = self._point(a, b, rng, attempt)
            if attempt < len(plan):
                point.update(plan[attempt])
            salt = f"{self.seed}:{attempt}"
            va, vb = (_evaluate(e, point, digits, salt) for e in (a, b))
            if va is None or vb is None:
                continue
            scale = max(1, abs(va), abs(vb))
            if abs(va - vb) > tolerance * scale:
                return agreed, Counterexample(_readable(point), va, vb)
            agreed += 1
        return agreed, None

    def _index_plan(self, a: sp.Basic, b: sp.Basic) -> list[dict]:
        """Every combination of class indices for C = 2 and 3, so that an entry that differs
        only where i = k (a missing delta) cannot be missed by chance."""
        indices = sorted((s for s in (a.free_symbols | b.free_symbols) if isinstance(s, sp.Symbol)
                          and s in self.quantities and getattr(self.quantities[s].domain, "kind", "") == "index"),
                         key=str)
        if not indices:
            return []
        size = self.quantities[indices[0]].domain.upper
        return [{size: sp.Integer(n), **{s: sp.Integer(v) for s, v in zip(indices, combo, strict=False)}}
                for n in (2, 3) for combo in product(range(1, n + 1), repeat=len(indices))]

    def _point(self, a: sp.Basic, b: sp.Basic, rng: random.Random, attempt: int) -> dict:
        labels = {base.label for e in (a, b) for base in e.atoms(sp.IndexedBase)}
        free = (a.free_symbols | b.free_symbols) - labels
        point: dict = {}
        plain = sorted((s for s in free if isinstance(s, sp.Symbol)), key=str)
        for symbol in sorted(plain, key=lambda s: self._domain(s).kind == "index"):
            domain = self._domain(symbol)
            bound = int(point[domain.upper]) if domain.kind == "index" else None
            point[symbol] = domain.sample(rng, bound)
        functions = {f.func for e in (a, b) for f in e.atoms(AppliedUndef)}
        for func in functions:
            kind = self._domain(func).kind
            instances = {"symmetric-density": symmetric_densities,
                         "smooth-function": smooth_functions}.get(kind, lambda rng: [])(rng)
            if not instances:
                raise VerificationError(f"no concrete instances for '{func}' of kind {kind}")
            point[func] = instances[attempt % len(instances)]
        return point

    def _domain(self, obj: sp.Basic):
        quantity = self.quantities.get(obj)
        if quantity is None or quantity.domain is None:
            raise VerificationError(f"no domain declared for '{obj}'")
        return quantity.domain


@functools.lru_cache(maxsize=4096)
def _name(entry: sp.Indexed) -> str:
    """An entry's printed name (printing is slow; the same entries recur at every point)."""
    return str(entry)


def _quantity_of(variable: sp.Basic) -> sp.Basic:
    """The quantity a differentiation variable belongs to: z for z_j, the symbol itself otherwise."""
    return variable.base if isinstance(variable, sp.Indexed) else variable


def at_points(expr: sp.Basic) -> sp.Basic:
    """Write f'(z_j) of an unknown function f as f' evaluated at the point z_j, so that z_j
    may be unfolded further (SymPy cannot differentiate with respect to an expression)."""
    def evaluated(derivative: sp.Derivative) -> sp.Basic:
        t = sp.Dummy("t", real=True)
        (variable, order), = derivative.variable_count
        return sp.Subs(sp.Derivative(derivative.expr.func(t), (t, order)), t, variable)

    return expr.replace(
        lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, AppliedUndef) and len(e.expr.args) == 1
        and len(e.variable_count) == 1 and e.variables[0] == e.expr.args[0] and not e.variables[0].is_Symbol,
        evaluated)


def _evaluate_sums(expr: sp.Basic) -> sp.Basic:
    """Write out every sum with concrete bounds term by term, and sum constant terms.

    Faster than ``Sum.doit``, which searches for closed forms; other sums are left alone.
    """
    def write_out(total: sp.Sum) -> sp.Basic:
        if len(total.limits) > 1:
            first = sp.Sum(total.function, total.limits[0])
            inner = write_out(first)
            return total if inner == first else write_out(sp.Sum(inner, *total.limits[1:]))
        (index, low, high), = total.limits
        if not total.function.has(index):
            return total.function * (high - low + 1)
        if not (low.is_Integer and high.is_Integer):
            return total
        if high - low > MAX_TERMS:
            return sp.nan
        return sp.Add(*(total.function.xreplace({index: value}) for value in range(int(low), int(high) + 1)))

    return expr.replace(lambda e: isinstance(e, sp.Sum), write_out)


def cheaply_zero(difference: sp.Basic) -> bool:
    """Whether expansion, rational cancellation or evaluating sums shows the difference is 0."""
    if difference == 0:
        return True
    return any(_is_zero(operation, difference) for operation in
               (sp.expand, lambda e: sp.cancel(sp.together(e)), lambda e: sp.expand(_evaluate_sums(e))))


def _is_zero(operation, expr: sp.Basic) -> bool:
    try:
        return operation(expr) == 0
    except Exception:  # noqa: BLE001 - SymPy's simplifiers fail in many ways; a failed attempt proves nothing
        return False


def _evaluate(expr: sp.Basic, point: dict, digits: int = DIGITS, salt: str = ""):
    """The value of ``expr`` at ``point`` to ``digits`` digits, or None where it is undefined.

    Entries of indexed families (x_1, x_2, ...) that appear once the sums are written out get
    values seeded by ``salt`` and their own name, so both sides of a comparison agree on them.
    """
    symbols = {k: v for k, v in point.items() if isinstance(k, sp.Symbol)}
    expr = expr.xreplace(symbols)
    expr = _evaluate_sums(expr)
    for func, instance in point.items():
        if isinstance(func, sp.FunctionClass):
            expr = expr.replace(func, instance)
    expr = expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs)), lambda e: e.doit())
    expr = expr.xreplace({
        entry: sp.Rational(round(random.Random(f"{salt}:{_name(entry)}").uniform(-3, 3), 6))
        for entry in expr.atoms(sp.Indexed)})
    try:
        expr = expr.replace(lambda e: isinstance(e, sp.Integral), lambda e: _quadrature(e, digits))
        value = sp.N(expr, digits)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not value.is_number or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or value.free_symbols:
        return None
    return value


def _quadrature(integral: sp.Integral, digits: int) -> sp.Float:
    """A definite integral of a concrete integrand by mpmath quadrature, split at 0.

    The integrand runs on floats where it can (several times faster), on mpmath numbers
    where floats overflow.
    """
    (variable, low, high), = integral.limits
    low, high = (mpmath.mpf(sp.N(bound, digits)) if bound.is_finite else
                 (mpmath.inf if bound == sp.oo else -mpmath.inf) for bound in (low, high))
    nodes = [low, 0, high] if low < 0 < high else [low, high]
    with mpmath.workdps(digits):
        for modules in ("math", "mpmath"):
            try:
                value = mpmath.quad(sp.lambdify(variable, integral.function, modules=modules), nodes)
                return sp.Float(value, digits)
            except (OverflowError, ValueError):
                continue
    raise ValueError(f"cannot integrate {integral} numerically")


def _readable(point: dict) -> dict:
    return {str(k): v for k, v in point.items() if isinstance(k, sp.Symbol)}


def _describe(counter: Counterexample) -> str:
    where = ", ".join(f"{k} = {v}" for k, v in counter.point.items()) or "a sampled density"
    return f"differs at {where}: {sp.N(counter.left, 8)} vs {sp.N(counter.right, 8)}"
