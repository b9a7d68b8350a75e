"""Derivations as data, and the engine that records and verifies them step by step.

A :class:`Derivation` is plain data: an ordered tuple of :class:`Step` (each an equation that
a SymPy operation produced from the one before, with a reason key), its quantities with their
domains and notations, its assumptions, and its named final results (:class:`Target`).

A :class:`Builder` is how a catalog entry makes one: every step it records is verified at
once (see :mod:`derive.verify`); a step that does not follow stops the derivation with a
:class:`~derive.errors.VerificationError` naming the step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import product

import sympy as sp

from .errors import DeriveError, UnknownNameError, VerificationError
from .notation import Quantity
from .verify import Certificate, Verifier, at_points

#: How a step stands to the line before it.
DEFINE, EQUALS, EQUATION, IMPLIES = "define", "equals", "equation", "implies"


@dataclass(frozen=True)
class Step:
    """One line of a derivation.

    Attributes:
        rule: the reason key (``chain-rule``, ``substitute``, ``solve``, ...); its wording
            lives in the templates' language tables.
        kind: ``define`` (``lhs = rhs`` opens a line), ``equals`` (``= rhs`` continues it),
            ``equation`` (an equation ``lhs = rhs`` stated as a condition), ``implies`` (an
            equation ``lhs = rhs`` that follows from the one before).
        rhs: the right-hand side.
        lhs: the left-hand side; ``None`` for an ``equals`` step, which continues a line.
        certificate: how it was verified; ``None`` for a definition or premise, which is
            stated rather than derived.
        given: the substitutions the step holds under (an assumption: E[W] = 0), as pairs.
        shown: the right-hand side as the reader sees it (a display form: term order,
            grouping, the square root of a fraction), proved equal to ``rhs``; ``None``
            shows ``rhs`` itself.
    """

    rule: str
    kind: str
    rhs: sp.Basic
    lhs: sp.Basic | None = None
    certificate: Certificate | None = None
    given: tuple[tuple[sp.Basic, sp.Basic], ...] = ()
    shown: sp.Basic | None = None

    @property
    def display(self) -> sp.Basic:
        """What the documents print on the right: the display form, or ``rhs``."""
        return self.rhs if self.shown is None else self.shown

    @property
    def check(self) -> str:
        """``symbolic``, ``numeric`` or ``given`` (a stated definition or premise)."""
        return self.certificate.method if self.certificate else "given"


@dataclass(frozen=True)
class Target:
    """A named final result ``lhs = rhs`` of a derivation."""

    name: str
    lhs: sp.Basic
    rhs: sp.Basic
    #: the sizes it was also checked at entry by entry: ((size name, (values...)), ...)
    entrywise: tuple[tuple[str, tuple[int, ...]], ...] = ()
    #: the result as the reader sees it, proved equal to ``rhs`` (see :attr:`Step.shown`)
    shown: sp.Basic | None = None
    #: a fraction the documents approximate as a percentage (825/1064 ≈ 77.54 %)
    percent: bool = False
    #: a value from a numeric computation (an integral by quadrature), accurate to this many
    #: significant digits: a number answered is judged by the digits it shows, as a network's are
    accurate_to: int | None = None
    #: a worked problem of several steps: the step this result belongs to (its gradients), else None
    step: int | None = None

    @property
    def display(self) -> sp.Basic:
        """What the documents print on the right: the display form, or ``rhs``."""
        return self.rhs if self.shown is None else self.shown


@dataclass(frozen=True)
class Derivation:
    """A verified derivation: steps, quantities, assumptions and named results.

    Attributes:
        name: the catalog name (``xavier``).
        family: the catalog family (``activations``, ``losses``, ``initialization``).
        steps: the verified steps, in order.
        targets: the named results, in order.
        quantities: the symbols with domains, meanings and notations.
        assumptions: wording keys of what the derivation assumes.
        conventions: wording keys of conventions that decide a result (value of ReLU' at 0).
        relations: what the assumptions make equal (yhat = sigma(z)), so that an answer may be
            written either way; the checker substitutes them.
        title: a title of its own (a user's network); catalog entries take theirs from the
            wording tables.
    """

    name: str
    family: str
    steps: tuple[Step, ...]
    targets: Mapping[str, Target]
    quantities: tuple[Quantity, ...]
    assumptions: tuple[str, ...] = ()
    conventions: tuple[str, ...] = ()
    relations: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)
    title: str | None = None

    def parameters(self) -> dict[str, Quantity]:
        """The free quantities a user may give values to, by key."""
        used = set().union(*(t.rhs.free_symbols for t in self.targets.values()))
        return {
            q.key: q
            for q in self.quantities
            if isinstance(q.symbol, sp.Symbol) and q.domain is not None and q.symbol in used
        }

    def target(self, name: str) -> Target:
        """The target called ``name``; an unknown name raises a one-line error."""
        try:
            return self.targets[name]
        except KeyError:
            raise UnknownNameError("target", name, self.targets, where=self.name) from None

    def value(self, name: str, values: Mapping[str, sp.Rational]) -> sp.Basic:
        """The target ``name`` with the given parameter values substituted, simplified exactly."""
        symbols = {self.parameters()[k].symbol: v for k, v in values.items()}
        # subs, not xreplace: a sum's or product's own index (the t of Product(..., (t, k + 1, T)))
        # is not the parameter of the same name, and stays
        return sp.simplify(self.explicit(self.target(name).rhs.subs(symbols)))

    def explicit(self, expr: sp.Basic) -> sp.Basic:
        """``expr`` with every named function (sigma, tanh, Phi, ...) replaced by its definition."""
        for quantity in self.quantities:
            if isinstance(quantity.symbol, sp.FunctionClass) and quantity.meaning is not None:
                expr = expr.replace(quantity.symbol, quantity.meaning)
        return expr

    def _repr_latex_(self) -> str:
        from .render import render

        return render(self, "latex", lang="en", display=True)


class Builder:
    """Records a derivation, verifying every step as it is added.

    Args:
        name: the catalog name.
        family: the catalog family.
        quantities: every quantity the steps use.
        assumptions: wording keys of the assumptions.
        conventions: wording keys of conventions that decide a result.
        relations: what the assumptions make equal (yhat = sigma(z)), kept for the checker.
        seed: the seed of numeric verification.
    """

    def __init__(self, name: str, family: str, quantities: Iterable[Quantity],
                 assumptions: Iterable[str] = (), conventions: Iterable[str] = (),
                 relations: Mapping[sp.Basic, sp.Basic] | None = None, seed: int = 0):
        self.name, self.family = name, family
        self.quantities = tuple(quantities)
        self.assumptions, self.conventions = tuple(assumptions), tuple(conventions)
        self.relations = dict(relations or {})
        self.verifier = Verifier({q.symbol: q for q in self.quantities}, seed=seed)
        self.steps: list[Step] = []
        self.targets: dict[str, Target] = {}
        self._lhs: sp.Basic | None = None
        self._current: sp.Basic | None = None
        self._equation = False

    @property
    def current(self) -> sp.Basic:
        """The right-hand side the last step arrived at."""
        return self._current

    def define(self, lhs: sp.Basic, rhs: sp.Basic, rule: str = "definition") -> sp.Basic:
        """Open a line ``lhs = rhs``.

        Where ``lhs`` already means something (a derivative of a defined function, a symbol
        defined earlier), the equality is verified; otherwise it is a premise, and ``lhs``
        stands for ``rhs`` from here on.
        """
        unfolded = self.verifier.unfold(lhs)
        certificate = None
        if unfolded != lhs or lhs in self.verifier.facts:
            certificate = self._verify(rule, lhs, rhs)
        elif isinstance(lhs, sp.Symbol):
            self.verifier.learn(lhs, rhs)
        self._record(Step(rule, DEFINE, rhs, lhs, certificate))
        self._lhs, self._current, self._equation = lhs, rhs, False
        return rhs

    def learn(self, symbol: sp.Basic, meaning: sp.Basic) -> None:
        """From here on ``symbol`` (an indexed family: Var(z)_l) stands for ``meaning``, a result
        just derived (the recursion), so that later steps and checks unfold it."""
        self.verifier.learn(symbol, meaning)

    def equals(self, rule: str, rhs: sp.Basic, given: Mapping | None = None) -> sp.Basic:
        """Continue the line with ``= rhs``, verified equal to the previous expression.

        Args:
            rule: the reason key.
            rhs: the new expression, produced by a SymPy operation on the previous one.
            given: substitutions that hold under the derivation's assumptions.
        """
        if self._equation:
            raise DeriveError(f"{self.name}: '{rule}' continues an equation; use implies()")
        certificate = self._verify(rule, self._current, rhs, given)
        self._record(Step(rule, EQUALS, rhs, None, certificate, tuple((given or {}).items())))
        if isinstance(self._lhs, sp.Symbol) and self._lhs in self.verifier.facts:
            self.verifier.learn(self._lhs, rhs)
        self._current = rhs
        return rhs

    def apply(self, rule: str, operation: Callable[[sp.Basic], sp.Basic],
              given: Mapping | None = None) -> sp.Basic:
        """Continue the line with ``operation(previous)``: the usual way to make a step."""
        return self.equals(rule, operation(self._current), given)

    def substitute(self, *symbols: sp.Symbol, rule: str = "substitute") -> sp.Basic:
        """Continue the line by replacing ``symbols`` with what earlier lines derived for them;
        the step records them as its ``given`` pairs, so that its reason can name them."""
        known = {s: self.verifier.facts[s] for s in symbols}
        rhs = self.apply(rule, lambda e: e.xreplace(known))
        self.steps[-1] = dataclasses.replace(self.steps[-1], given=tuple(known.items()))
        return rhs

    def compute(self, lhs: sp.Basic, formula: sp.Basic, values: Mapping[sp.Symbol, sp.Basic], check: sp.Basic | None,
                rule: str) -> sp.Basic:
        """Arithmetic: ``lhs = formula``, then the formula with the numbers, then the exact value.

        The value is SymPy's exact evaluation of the formula and must equal ``check``, the same
        quantity computed independently by the caller (``None``: the evaluation is the value):
        exactly where both are rational, to 50 digits where they are transcendental (the step's
        certificate then says numeric).
        """
        with sp.evaluate(False):
            shown = formula.xreplace(values)
        value = formula.xreplace(values).doit()
        methods = {_agreement(value, check) if check is not None else "symbolic", _agreement(shown.doit(), value)}
        if None in methods:
            raise VerificationError(f"{self.name}: {lhs} = {formula} gives {value}, not {check}")
        proof = Certificate("symbolic") if methods == {"symbolic"} else Certificate("numeric", 1)
        if formula.is_Number:
            self._record(Step(rule, DEFINE, value, lhs, proof))
        else:
            self._record(Step(rule, DEFINE, formula, lhs))
            if values:
                self._record(Step("substitute", EQUALS, shown, None, proof))
            self._record(Step("evaluate", EQUALS, value, None, proof))
        self._lhs, self._current, self._equation = lhs, value, False
        return value

    def series(self, expr: sp.Basic, variable: sp.Symbol, order: int, rule: str = "taylor") -> sp.Basic:
        """Open the line ``expr = its Taylor expansion at 0``, verified by the limit of the remainder."""
        expansion = sp.series(expr, variable, 0, order)
        remainder = (expr - expansion.removeO()) / variable**order
        if not sp.limit(remainder, variable, 0).is_finite:
            raise VerificationError(f"{self.name}: step {len(self.steps) + 1} ({rule}): remainder is not O")
        self._record(Step(rule, DEFINE, expansion, expr, Certificate("symbolic")))
        self._lhs, self._current, self._equation = expr, expansion, False
        return expansion

    def equation(self, lhs: sp.Basic, rhs: sp.Basic, rule: str) -> None:
        """State an equation as a condition (``Var(z_l) = Var(z_{l-1})``): a premise."""
        lhs, rhs = sp.sympify(lhs, strict=True), sp.sympify(rhs, strict=True)
        self._record(Step(rule, EQUATION, rhs, lhs))
        self._lhs, self._current, self._equation = lhs, rhs, True

    def implies(self, rule: str, lhs: sp.Basic, rhs: sp.Basic, given: Mapping | None = None) -> None:
        """Continue with an equivalent equation (the same difference of sides), verified."""
        certificate = self._verify(rule, self._lhs - self._current, lhs - rhs, given)
        self._record(Step(rule, IMPLIES, rhs, lhs, certificate, tuple((given or {}).items())))
        self._lhs, self._current = lhs, rhs

    def solve(self, unknown: sp.Symbol, rule: str = "solve") -> sp.Basic:
        """Solve the current equation for ``unknown``; verified by substituting back."""
        solutions = sp.solve(sp.Eq(self._lhs, self._current), unknown)
        if len(solutions) != 1:
            raise VerificationError(
                f"{self.name}: step {len(self.steps) + 1} ({rule}): expected one solution for "
                f"{unknown}, got {solutions}")
        solution = solutions[0]
        back = {unknown: solution}
        certificate = self._verify(rule, self._lhs.xreplace(back), self._current.xreplace(back))
        self._record(Step(rule, IMPLIES, solution, unknown, certificate))
        self._lhs, self._current = unknown, solution
        return solution

    def show(self, form: sp.Basic) -> sp.Basic:
        """Print the last step's right side as ``form``, a display form chosen for the reader
        (term order, grouping, the square root of a fraction: build it unevaluated, with
        ``sp.Mul(..., evaluate=False)`` or under ``sp.evaluate(False)``). The form must be
        proved equal to what the step computed, so presentation never changes the mathematics;
        later steps go on from the computed expression."""
        step = self.steps[-1]
        try:
            self.verifier.prove_equal(step.rhs, form.doit())
        except VerificationError as error:
            raise VerificationError(f"{self.name}: step {len(self.steps)} ({step.rule}): the display form "
                                    f"{form} is not equal to {step.rhs}: {error}") from None
        self.steps[-1] = dataclasses.replace(step, shown=form)
        return step.rhs

    def result(self, name: str, entrywise: Mapping[sp.Symbol, Iterable[int]] | None = None,
               constraint: Callable[[int], Mapping] | None = None, percent: bool = False) -> Target:
        """Name the line's result a target.

        Args:
            name: the target name (``d1``, ``var``).
            entrywise: for an index-valued result, a size symbol and its concrete values
                (``{C: range(2, 6)}``): the result is then also checked entry by entry
                against its definition, expanded for each concrete size.
            constraint: for a concrete size n, substitutions that impose an assumption
                (labels summing to one: ``y_n = 1 - y_1 - ... - y_{n-1}``).
            percent: the result is a fraction the documents approximate as a percentage.
        """
        lhs, rhs = self._lhs, self._current
        sizes: tuple = ()
        if entrywise:
            sizes = self._check_entrywise(name, lhs, rhs, entrywise, constraint or (lambda *sizes: {}))
        last = self.steps[-1] if self.steps else None
        shown = last.shown if last is not None and last.rhs == rhs else None
        target = Target(name, lhs, rhs, sizes, shown, percent)
        self.targets[name] = target
        return target

    def build(self, title: str | None = None) -> Derivation:
        """The finished, verified Derivation."""
        if not self.targets:
            raise DeriveError(f"{self.name}: a derivation needs at least one target")
        return Derivation(self.name, self.family, tuple(self.steps), dict(self.targets),
                          self.quantities, self.assumptions, self.conventions, self.relations, title)

    def _verify(self, rule: str, left: sp.Basic, right: sp.Basic, given: Mapping | None = None) -> Certificate:
        try:
            return self.verifier.prove_equal(left, right, given)
        except VerificationError as error:
            raise VerificationError(f"{self.name}: step {len(self.steps) + 1} ({rule}) does not follow: {error}") from None

    def _record(self, step: Step) -> None:
        self.steps.append(step)

    def _check_entrywise(self, name: str, lhs: sp.Basic, rhs: sp.Basic,
                         entrywise: Mapping[sp.Symbol, Iterable[int]],
                         constraint: Callable[..., Mapping]) -> tuple[tuple[str, tuple[int, ...]], ...]:
        sizes = tuple(entrywise)
        indices = sorted((s for s in (lhs.free_symbols | rhs.free_symbols)
                          if s not in sizes and s.is_integer), key=str)
        choices = [tuple(values) for values in entrywise.values()]
        for combo in product(*choices):
            given = dict(zip(sizes, combo, strict=True))
            expected, got = (self.verifier.unfold(side, given=given).doit() for side in (lhs, rhs))
            ranges = [range(1, int(self._upper(index).xreplace(given)) + 1) for index in indices]
            for entry_values in product(*ranges):
                entry = dict(zip(indices, entry_values, strict=True))
                if not _identically_zero((expected - got).xreplace(entry).doit().xreplace(constraint(*combo))):
                    raise VerificationError(
                        f"{self.name}: target {name} fails entrywise at "
                        + ", ".join(f"{s} = {v}" for s, v in (*given.items(), *entry.items())))
        return tuple((str(size), values) for size, values in zip(sizes, choices, strict=True))

    def _upper(self, index: sp.Symbol) -> sp.Basic:
        """The size an index runs up to (its domain's bound, e.g. C for a class index)."""
        return self.verifier.quantities[index].domain.upper


def _identically_zero(expr: sp.Basic) -> bool:
    """Whether a concrete (sum-free) expression is identically zero.

    Each entry x_m is first written as log t_m with t_m > 0 (a bijection), so that sums of
    exponentials become rational functions, where cancellation is exact and far faster than
    ``simplify``.
    """
    expr = at_points(expr)
    logs = {e: sp.log(sp.Dummy(positive=True)) for e in expr.atoms(sp.Indexed)}
    numerator = sp.numer(sp.together(expr.xreplace(logs)))
    return sp.expand(numerator) == 0 or sp.simplify(expr) == 0


def _agreement(a: sp.Basic, b: sp.Basic) -> str | None:
    """How two exact values were found equal: ``symbolic`` (identical, or their difference
    cancels), ``numeric`` (agree to 50 digits: transcendental values), or None (they differ)."""
    if a == b or (a.is_Rational and b.is_Rational) and a - b == 0:
        return "symbolic"
    if a.is_Rational and b.is_Rational:
        return None
    difference = sp.N(a - b, 50)
    return "numeric" if difference.is_number and abs(difference) < sp.Float(10) ** -40 * max(1, abs(sp.N(a, 50))) \
        else None
