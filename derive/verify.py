"""Proving that two expressions are equal under a derivation's definitions and assumptions.

Strategies run cheapest first: structural identity, expansion, rational simplification, then
agreement at seeded random points of the declared domains and around the expressions' kinks
(:mod:`derive.points`; this also catches a false step quickly), then a cheap proof that the
difference is not zero, and last ``sympy.simplify``, which upgrades a numeric agreement to a proof.

Numeric agreement is judged value by value with the accuracy SymPy reports for each: two values
agree when both are known to ``DIGITS - 5`` digits and agree to that relative tolerance; they
differ when they are further apart than both error bounds and the tolerance together; otherwise
the point decides nothing and is not counted.
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
from .points import KINK_TYPES, draw, entry_value, kink_points

DIGITS = 30
MAX_TERMS = 10_000
#: relative: two values known to DIGITS digits agree when they agree to DIGITS - 5 of them
TOLERANCE = mpmath.mpf(10) ** -(DIGITS - 5)
#: integrals are evaluated by quadrature, to fewer digits, and compared absolutely below 1
INTEGRAL_DIGITS, INTEGRAL_TOLERANCE = 12, mpmath.mpf(10) ** -8
#: the most levels of sums and products nested in one another that are written out
MAX_NESTING = 8
#: random points tried before an expression that evaluates at none of them is given up on
UNKNOWN_GIVE_UP = 8
#: The end of a point's salt that gives every entry of a family one value (z_1 = z_2 = ...).
ALIKE = ":alike"
#: an expression larger than this (in nodes) is not asked whether it is zero (SymPy's
#: assumptions can be slow on large expressions)
NONZERO_NODES = 400


@dataclass(frozen=True)
class Certificate:
    """How a step was verified: ``symbolic`` (proved) or ``numeric`` (agreement at points)."""

    method: str
    points: int = 0


@dataclass(frozen=True)
class Counterexample:
    """A point of the domain where two expressions differ; ``difference`` is set when the
    difference was shown not to be zero symbolically (it may be too small to see at the point)."""

    point: dict
    left: sp.Basic
    right: sp.Basic
    difference: sp.Basic | None = None


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
            left, right: the expressions (``right`` is the reference: at a jump of ``right``, a
                value of ``left`` between its two one-sided values is a convention, not a difference).
            given: substitutions that hold under the step's assumptions (zero means, ...).
            thorough: also try ``simplify`` to upgrade a numeric agreement to a proof.
        """
        given = dict(given or {})
        if cheaply_zero(left.xreplace(given) - right.xreplace(given)):
            return Comparison(Certificate("symbolic"))
        a, b = self.unfold(left, given), self.unfold(right, given)
        counter = self._probe(a, b)
        if counter is not None:
            return Comparison(None, counter)
        difference = a - b
        forms = []
        for form in _cheap_forms(difference):
            if form == 0:
                return Comparison(Certificate("symbolic"))
            forms.append(form)
        agreed, counter = self.sample(a, b)
        if counter is not None:
            return Comparison(None, counter)
        nonzero = self._nonzero(forms)
        if nonzero is not None:
            return Comparison(None, self._witness(a, b, nonzero))
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

    def _probe(self, a: sp.Basic, b: sp.Basic) -> Counterexample | None:
        """A difference at the first random point, before any symbolic form is tried: a wrong
        answer is shown wrong in one evaluation (the same point :meth:`sample` would try first)."""
        if a.has(sp.Integral) or b.has(sp.Integral):
            return None
        point = self._point(a, b, random.Random(self.seed), 0, _summed(a, b))
        plan = self._index_plan(a, b)
        if plan:
            point.update(plan[0])
        outcome, va, vb = self._at(a, b, point, f"{self.seed}:0", False)
        return Counterexample(_readable(point), va, vb) if outcome == "differ" else None

    def prove_equal(self, left: sp.Basic, right: sp.Basic, given: Mapping | None = None) -> Certificate:
        """Prove ``left == right``, or raise ``VerificationError`` with a counterexample."""
        comparison = self.compare(left, right, given)
        if comparison.counterexample is not None:
            raise VerificationError(_describe(comparison.counterexample))
        return comparison.certificate

    def sample(self, a: sp.Basic, b: sp.Basic, points: int | None = None) -> tuple[int, Counterexample | None]:
        """Compare ``a`` and ``b`` at seeded random points of the domains, then at the points
        around their kinks; return (points where they agree, counterexample)."""
        rng = random.Random(self.seed)
        has_integral = a.has(sp.Integral) or b.has(sp.Integral)
        plan = self._index_plan(a, b)
        wanted = 4 if has_integral else max(points or self.points, len(plan) + 4)
        summed = _summed(a, b)
        agreed = 0
        for attempt in range(4 * wanted):
            if agreed >= wanted or attempt >= UNKNOWN_GIVE_UP and agreed == 0:
                break
            point = self._point(a, b, rng, attempt, summed, small=has_integral)
            if attempt < len(plan):
                point.update(plan[attempt])
            # every fourth point with a sum or product written out: each family's entries alike (one value),
            # so that a product of ReLU'(z_l) meets all z_l > 0, not only mixed signs
            alike = ALIKE if summed and attempt % 4 == 3 else ""
            outcome, va, vb = self._at(a, b, point, f"{self.seed}:{attempt}{alike}", has_integral)
            if outcome == "differ":
                return agreed, Counterexample(_readable(point), va, vb)
            agreed += outcome == "agree"
        if has_integral or not (a.has(*KINK_TYPES) or b.has(*KINK_TYPES)):
            return agreed, None
        base = self._point(a, b, random.Random(f"{self.seed}:kinks"), 0, summed)
        movable = {s: self._domain(s) for s in base if isinstance(s, sp.Symbol)
                   and self._domain(s).kind in ("real", "integer")}
        for number, kink in enumerate(kink_points((a, b), base, movable)):
            outcome, va, vb = self._at(a, b, kink.point, f"{self.seed}:kink:{number}", False)
            if outcome == "differ" and kink.symbol is not None and self._convention(b, kink, va, vb):
                continue
            if outcome == "differ":
                return agreed, Counterexample(_readable(kink.point), va, vb)
            agreed += outcome == "agree"
        return agreed, None

    def _at(self, a: sp.Basic, b: sp.Basic, point: dict, salt: str, integral: bool) -> tuple[str, object, object]:
        """(``agree``, ``differ`` or ``unknown``, value of a, value of b) at one point."""
        digits = INTEGRAL_DIGITS if integral else DIGITS
        va, vb = (_evaluate(e, point, digits, salt, self._entry_domains) for e in (a, b))
        if va is None or vb is None:
            return "unknown", va, vb
        return _judge(va, vb, integral), va, vb

    def _convention(self, b: sp.Basic, kink, *values) -> bool:
        """Whether, exactly on a breakpoint where ``b`` jumps, both sides' ``values`` there lie
        between its two one-sided values (relu' at 0 taken as 0, 1/2 or 1): a convention, not a
        difference. ``b`` jumps when its values either side stay apart as the two points close in
        (a 10^6 times smaller distance leaves more than half the gap); a smooth ``b`` does not."""
        symbol, at = kink.symbol, kink.point[kink.symbol]
        gaps = []
        for shift in (kink.step / 10**3, kink.step / 10**9):
            sides = [_evaluate(b, {**kink.point, symbol: at + sign * shift}, DIGITS, "side", self._entry_domains)
                     for sign in (-1, 1)]
            if any(side is None or not side.is_real for side in (*sides, *values)):
                return False
            gaps.append(abs(sides[0] - sides[1]))
        if _judge(*sides) != "differ" or gaps[1] <= gaps[0] / 2:
            return False
        low, high = sorted(sides, key=float)
        return all(low - gaps[1] / 10**6 <= value <= high + gaps[1] / 10**6 for value in values)

    def _nonzero(self, forms: list[sp.Basic]) -> sp.Basic | None:
        """A cheap form of the difference that is shown not to be zero as a function: SymPy's
        assumptions say it is never zero, or it is a nonzero rational function of quantities
        that range over intervals (or unbounded sizes), or a product of such factors."""
        for form in forms:
            if _nodes(form) <= NONZERO_NODES and self._not_identically_zero(form):
                return form
        return None

    def _not_identically_zero(self, expr: sp.Basic) -> bool:
        try:
            if expr.is_zero is False:
                return True
        except Exception:  # noqa: BLE001 - SymPy's assumptions fail in many ways; a failure proves nothing
            return False
        if isinstance(expr, sp.Mul):
            return all(self._not_identically_zero(factor) for factor in expr.args)
        if isinstance(expr, sp.Pow) and expr.exp.is_positive:
            return self._not_identically_zero(expr.base)
        symbols = expr.free_symbols
        if not symbols or any(not isinstance(s, sp.Symbol) or not self._spread(s) for s in symbols):
            return False
        if isinstance(expr, (sp.sin, sp.cos, sp.tan)):
            return _rational(expr.args[0])
        return _rational(expr) and sp.fraction(sp.together(expr))[0].expand() != 0

    def _spread(self, symbol: sp.Symbol) -> bool:
        """Whether a quantity ranges over an interval with interior, or over unbounded integers."""
        quantity = self.quantities.get(symbol)
        domain = quantity.domain if quantity else None
        if domain is None:
            return False
        if domain.kind == "real":
            return domain.low is None or domain.high is None or domain.low < domain.high
        return domain.kind == "integer" and (domain.low is None or domain.high is None)

    def _witness(self, a: sp.Basic, b: sp.Basic, difference: sp.Basic) -> Counterexample:
        """A point where both sides are defined and the nonzero ``difference`` is not 0 there."""
        rng = random.Random(f"{self.seed}:witness")
        summed = _summed(a, b)
        for attempt in range(4 * self.points):
            point = self._point(a, b, rng, attempt, summed)
            va, vb = (_evaluate(e, point, DIGITS, f"witness:{attempt}", self._entry_domains) for e in (a, b))
            there = _evaluate(difference, point, DIGITS, f"witness:{attempt}", self._entry_domains)
            if va is not None and vb is not None and there is not None and there != 0:
                return Counterexample(_readable(point), va, vb, difference)
        raise VerificationError(f"the two differ by {sp.sstr(difference)}, but at no point could both be evaluated")

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

    def _point(self, a: sp.Basic, b: sp.Basic, rng: random.Random, attempt: int, summed: frozenset = frozenset(),
               small: bool = False) -> dict:
        """A random point of the domains of every free symbol (and a concrete function for each
        unknown one). Coordinate j takes magnitude band ``attempt + j * (attempt // 4)``, so that
        every quantity meets every band and the quantities meet each other in different bands."""
        labels = {base.label for e in (a, b) for base in e.atoms(sp.IndexedBase)}
        free = (a.free_symbols | b.free_symbols) - labels
        point: dict = {}
        plain = {s for s in free if isinstance(s, sp.Symbol)}
        # an index's size is drawn (kept small, as a sum's bound) even where no expression holds it
        sizes = {self._domain(s).upper for s in plain if self._domain(s).kind == "index"}
        summed = summed | (sizes - plain)
        for position, symbol in enumerate(sorted(plain | sizes, key=lambda s: (self._domain(s).kind == "index",
                                                                                 str(s)))):
            domain = self._domain(symbol)
            bound = int(point[domain.upper]) if domain.kind == "index" else None
            band = (attempt + position * (attempt // 4)) % (2 if small else 4)
            point[symbol] = draw(domain, rng, band, DIGITS, bound, symbol in summed)
        functions = {f.func for e in (a, b) for f in e.atoms(AppliedUndef)}
        for func in functions:
            kind = self._domain(func).kind
            instances = {"symmetric-density": symmetric_densities,
                         "smooth-function": smooth_functions}.get(kind, lambda rng: [])(rng)
            if not instances:
                raise VerificationError(f"no concrete instances for '{func}' of kind {kind}")
            point[func] = instances[attempt % len(instances)]
        return point

    @property
    def _entry_domains(self) -> dict:
        """The domain of each indexed family (x in x_3), for the values of its entries."""
        return {s: q.domain for s, q in self.quantities.items() if isinstance(s, sp.IndexedBase)}

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
    """Write out every sum and product with concrete bounds term by term (factor by factor), and
    sum (multiply) constant terms.

    Faster than ``Sum.doit``, which searches for closed forms; other sums are left alone. Each
    entry of a family under a product (Var(W)_l) becomes an entry of its own, with its own value.
    """
    def write_out(total: sp.Sum | sp.Product) -> sp.Basic:
        kind, join = (sp.Sum, sp.Add) if isinstance(total, sp.Sum) else (sp.Product, sp.Mul)
        if len(total.limits) > 1:
            first = kind(total.function, total.limits[0])
            inner = write_out(first)
            return total if inner == first else write_out(kind(inner, *total.limits[1:]))
        (index, low, high), = total.limits
        if not total.function.has(index):
            count = high - low + 1
            return total.function * count if kind is sp.Sum else total.function ** count
        if not (low.is_Integer and high.is_Integer):
            return total
        if high - low > MAX_TERMS:
            return sp.nan
        return join(*(total.function.xreplace({index: value}) for value in range(int(low), int(high) + 1)))

    # a product inside a sum (prod_{t=k+1}^{T} under sum_k) gets concrete bounds only once the sum
    # is written out: write out again until nothing changes (each pass removes a level of nesting)
    for _ in range(MAX_NESTING):
        done = expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)), write_out)
        if done == expr:
            break
        expr = done
    return expr


def _cheap_forms(difference: sp.Basic):
    """The difference expanded, rationally cancelled, and with its sums evaluated and expanded
    (lazily, cheapest first; a form SymPy fails on is left out)."""
    for operation in (sp.expand, lambda e: sp.cancel(sp.together(e)), lambda e: sp.expand(_evaluate_sums(e))):
        form = _attempt(operation, difference)
        if form is not None:
            yield form


def cheaply_zero(difference: sp.Basic) -> bool:
    """Whether expansion, rational cancellation or evaluating sums shows the difference is 0."""
    return difference == 0 or any(form == 0 for form in _cheap_forms(difference))


def _attempt(operation, expr: sp.Basic) -> sp.Basic | None:
    """``operation(expr)``, or None where SymPy fails on it."""
    try:
        return operation(expr)
    except Exception:  # noqa: BLE001 - SymPy's simplifiers fail in many ways; a failed attempt proves nothing
        return None


def _is_zero(operation, expr: sp.Basic) -> bool:
    return _attempt(operation, expr) == 0


def _nodes(expr: sp.Basic, most: int = NONZERO_NODES) -> int:
    """The number of nodes of ``expr``, counted up to just past ``most``."""
    count = 0
    for count, _ in enumerate(sp.preorder_traversal(expr), 1):
        if count > most:
            break
    return count


_UNKNOWN_VALUES = (AppliedUndef, sp.Integral, sp.Sum, sp.Product, sp.Indexed, sp.Derivative, sp.Subs)
#: what evaluating leaves unevaluated only where it has no value
_UNEVALUATED = (sp.Integral, sp.Sum, sp.Product, sp.Derivative, sp.Subs)


def _rational(expr: sp.Basic) -> bool:
    """Whether ``expr`` is a rational function of its symbols with number coefficients (no
    function, integral, sum or entry of unknown value in it)."""
    if isinstance(expr, sp.Symbol) or expr.is_number and not expr.has(*_UNKNOWN_VALUES):
        return True
    if isinstance(expr, (sp.Add, sp.Mul)):
        return all(_rational(arg) for arg in expr.args)
    return isinstance(expr, sp.Pow) and expr.exp.is_Integer and _rational(expr.base)


def _summed(a: sp.Basic, b: sp.Basic) -> frozenset:
    """The symbols that bound a sum or a product (their values are kept small: it is written out)."""
    return frozenset(s for e in (a, b) for total in e.atoms(sp.Sum, sp.Product) for limit in total.limits
                     for bound in limit[1:] for s in bound.free_symbols)


def _judge(va: sp.Basic, vb: sp.Basic, integral: bool = False) -> str:
    """``agree``, ``differ`` or ``unknown`` for two values, each known to the accuracy SymPy
    reports for it (a value evaluated through heavy cancellation is known only roughly)."""
    with mpmath.workdps(3 * DIGITS):
        (ca, ra), (cb, rb) = _interval(va), _interval(vb)
        gap, scale = abs(ca - cb), max(abs(ca), abs(cb))
        if integral:
            return "differ" if gap > INTEGRAL_TOLERANCE * max(1, scale) else "agree"
        if gap > ra + rb + TOLERANCE * scale:
            return "differ"
        return "agree" if ra + rb <= TOLERANCE * scale and gap <= TOLERANCE * scale else "unknown"


def _interval(value: sp.Basic) -> tuple:
    """(centre, radius) of a value: exact numbers have radius 0, a Float of precision p bits
    a radius of |value| 2^(2 - p); below double precision SymPy's own estimate of p is not to
    be trusted (a cancellation it gave up on), and the radius is 4 |value|: 0 lies inside."""
    radius = mpmath.mpf(0)
    for part in value.as_real_imag():
        if isinstance(part, sp.Float):
            radius += abs(mpmath.mpmathify(part)) * (4 if part._prec < 53 else mpmath.mpf(2) ** (2 - part._prec))
    return mpmath.mpmathify(sp.N(value, 3 * DIGITS) if not value.is_Float else value), radius


def _evaluate(expr: sp.Basic, point: dict, digits: int = DIGITS, salt: str = "", families: dict | None = None):
    """The value of ``expr`` at ``point`` to ``digits`` digits, or None where it is undefined.

    Entries of indexed families (x_1, x_2, ...) that appear once the sums are written out get
    values from their family's domain in ``families``, seeded by ``salt`` and their own name, so
    both sides of a comparison agree on them.
    """
    symbols = {k: v for k, v in point.items() if isinstance(k, sp.Symbol)}
    if any(not symbols.keys().isdisjoint(d.variables) for d in expr.atoms(sp.Derivative)):
        # a derivative in a variable given a value (f'(x) of an unknown f, x = 0.3) is taken first:
        # SymPy cannot differentiate with respect to a number
        expr = _derivatives_taken(_functions_given(expr, point))
    expr = expr.xreplace(symbols)
    expr = _evaluate_sums(expr)
    expr = _derivatives_taken(_functions_given(expr, point))
    expr = expr.xreplace({
        entry: entry_value((families or {}).get(entry.base), random.Random(
            f"{salt}:{_name(entry.base) if salt.endswith(ALIKE) else _name(entry)}"), digits)
        for entry in expr.atoms(sp.Indexed)})
    try:
        expr = expr.replace(lambda e: isinstance(e, sp.Integral), lambda e: _quadrature(e, digits))
        value = sp.N(expr, digits, maxn=3 * DIGITS)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    # a sum left whole (bounds that are no integers: K - 1 at K = -0.34) has no value there either
    if not value.is_number or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo, *_UNEVALUATED) or value.free_symbols:
        return None
    return value


def _functions_given(expr: sp.Basic, point: dict) -> sp.Basic:
    """``expr`` with each unknown function replaced by the concrete one ``point`` gives it."""
    for func, instance in point.items():
        if isinstance(func, sp.FunctionClass):
            expr = expr.replace(func, instance)
    return expr


def _derivatives_taken(expr: sp.Basic) -> sp.Basic:
    """``expr`` with its derivatives and substitutions evaluated."""
    return expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs)), lambda e: e.doit())


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


def shown(value: sp.Basic, digits: int = 6) -> str:
    """A coordinate or value for people: integers whole, anything else to ``digits`` digits."""
    return sp.sstr(value) if value.is_Integer else sp.sstr(sp.N(value, digits))


def shown_pair(left: sp.Basic, right: sp.Basic, digits: int = 6) -> tuple[str, str]:
    """Two values that differ, with as many digits as it takes to see that they do."""
    while digits < DIGITS and shown(left, digits) == shown(right, digits):
        digits += 6
    return shown(left, digits), shown(right, digits)


def _describe(counter: Counterexample) -> str:
    where = ", ".join(f"{k} = {shown(v, 8)}" for k, v in counter.point.items()) or "a sampled density"
    if counter.difference is not None:
        return f"differs by {sp.sstr(counter.difference)}, not zero"
    return f"differs at {where}: {' vs '.join(shown_pair(counter.left, counter.right, 8))}"
