"""Comparing structured answers: equations, relations, sets, tuples, intervals, matrices, lists.

An expected answer's *shape* decides how an answer is compared with it (see :func:`shape`):

- an equation (a Reading with several sides) is compared as an equation: the same solution set.
  One side minus the other, over a common denominator, must be proportional to the expected's by
  a nonzero constant (swapped sides, multiplied through, rearranged); where that fails, a rational
  equation in one variable is compared by its complex solutions (``x = \\pm 2`` is ``x^2 = 4``), and
  where either equation is not rational, the solutions of each (solved for a variable it is
  linear in with a constant coefficient) are put into the other and checked at sampled points,
  both ways. ``(x, y) = (1, 2)`` and a list of equations are systems, equation by equation;
- a relation (inequality, ``\\ne``, a chain ``-1 < a < 10``) and an interval are solution sets:
  in one variable compared as sets (``x \\le 5`` is ``5 \\ge x`` is ``(-\\infty, 5]``), in several
  as canonical inequalities ``d < 0`` with ``d`` proportional by a positive constant;
- a set and a comma list are compared unordered, a tuple (a point) in order, a matrix entry by
  entry; a pair ``(a, b)`` compared with an interval or a relation is the open interval.

An answer of another shape is incorrect with feedback naming both shapes (a number or one side
where an equation is expected says so). :func:`judge` returns ``None`` when both are plain
expressions: :mod:`derive.check.decide` compares those, with its richer feedback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from ..errors import VerificationError
from ..verify import Verifier
from .reader import Reading

SHAPES = ("expression", "equation", "relation", "set", "list", "tuple", "interval", "matrix")
_NAMES = (sp.Symbol, sp.Indexed, sp.core.function.AppliedUndef, sp.Derivative)
_RELATIONS = (sp.core.relational.Relational, sp.And, sp.Or)
_SETS = (sp.Interval, sp.Union, sp.FiniteSet, sp.sets.sets.EmptySet)
#: Elements of an unordered collection matched at most (each pair is one comparison).
MAX_ELEMENTS = 200


@dataclass
class Outcome:
    """A structured comparison: ``verdict`` (correct or incorrect) and a feedback key of the
    wording's ``check`` table with its values."""

    verdict: str
    key: str
    values: dict = field(default_factory=dict)


def sides(reading: Reading) -> list[sp.Basic]:
    """The sides of an answer: ``a = b = c`` as written, an ``sp.Eq`` value as its two sides."""
    if len(reading.sides) == 1 and isinstance(reading.value, sp.Eq):
        return [reading.value.lhs, reading.value.rhs]
    return list(reading.sides)


def shape(reading: Reading) -> str:
    """What kind of mathematical object an answer is (one of :data:`SHAPES`)."""
    if len(sides(reading)) > 1:
        return "equation"
    return value_shape(reading.value, "list" in reading.notes)


def value_shape(value, listed: bool = False) -> str:
    """The shape of one value (a comma list is a Tuple marked ``list`` by the reader)."""
    if isinstance(value, _RELATIONS):
        return "relation"
    if isinstance(value, sp.Tuple):
        return "list" if listed else "tuple"
    if isinstance(value, sp.FiniteSet):
        return "set"
    if isinstance(value, _SETS):
        return "interval"
    if isinstance(value, sp.MatrixBase):
        return "matrix"
    return "expression"


def is_name(value: sp.Basic) -> bool:
    """Whether a side only names a quantity (y, p_k, f(x), f'(x)): ``y = 3`` gives y's value."""
    return isinstance(value, _NAMES)


class Comparer:
    """Compares structured answers with one verifier (its domains, its definitions)."""

    def __init__(self, verifier: Verifier, printer: Callable[[sp.Basic], str] = sp.sstr):
        self.verifier = verifier
        self.printer = printer

    # -- scalars -----------------------------------------------------------------
    def equal(self, answer, expected) -> bool:
        """Whether two values are equal: expressions by the verifier, structures part by part."""
        if isinstance(answer, sp.Expr) and isinstance(expected, sp.Expr) and not isinstance(
                answer, sp.MatrixBase) and not isinstance(expected, sp.MatrixBase):
            try:
                return self.verifier.compare(answer, expected, thorough=False).certificate is not None
            except (VerificationError, TypeError, ValueError, ZeroDivisionError):
                return False
        outcome = self.judge(Reading([answer]), Reading([expected]))
        return outcome is not None and outcome.verdict == "correct"

    # -- the entry point ---------------------------------------------------------
    def judge(self, answer: Reading, expected: Reading) -> Outcome | None:
        """The outcome of comparing ``answer`` with ``expected``; None for two plain expressions
        (and for an answer ``name = value`` or a chain, whose value is compared by the caller)."""
        answer, expected = _membership(answer), _membership(expected)
        want, got = shape(expected), shape(answer)
        if want == "equation":
            return self.equation(answer, expected, got)
        if want == "expression":
            written = sides(answer)
            if got == "equation" and is_name(written[0]) and (expected.value.has(written[0]) or
                                                                written[-1].has(written[0])):
                return self.mismatch(want, got)  # x = 2x is an equation in x, not the value 2x
            return None if got in ("expression", "equation") else self.mismatch(want, got)
        value, target = answer.value, expected.value
        if got == "equation":
            return self.mismatch(want, got)
        if want in ("relation", "interval") or got in ("relation", "interval"):
            return self.solution_sets(value, target, want, got)
        reason = self.collections(value, target, got, want)
        return Outcome("correct", "correct_structure") if reason is None else reason

    def mismatch(self, want: str, got: str) -> Outcome:
        return Outcome("incorrect", "shape_mismatch", {"expected_shape": want, "answer_shape": got})

    # -- equations ---------------------------------------------------------------
    def equation(self, answer: Reading, expected: Reading, got: str) -> Outcome:
        """An expected equation: the answer must be an equation with the same solution set."""
        left, right = sides(expected)[0], sides(expected)[-1]
        if got != "equation":
            if got == "expression" and any(self.equal(answer.value, side) for side in (left, right)):
                return Outcome("incorrect", "one_side_only", {"expected": self.equation_text(left, right)})
            return Outcome("incorrect", "not_an_equation", {"expected": self.equation_text(left, right)})
        written = sides(answer)
        a_left, a_right = written[0], written[-1]
        if a_left == left and self.equal(a_right, right):
            return Outcome("correct", "correct_equation")
        if any(isinstance(side, sp.Set) for side in (a_left, a_right, left, right)):  # x = \pm 2: a set of values
            return self.equation_sets((a_left, a_right), (left, right))
        if any(isinstance(side, (sp.Tuple, sp.MatrixBase)) for side in (a_left, a_right, left, right)):
            return self.system((a_left, a_right), (left, right))
        unfold = self.verifier.unfold
        found, wanted = unfold(a_left - a_right), unfold(left - right)
        if self.proportional(found, wanted, positive=False):
            return Outcome("correct", "correct_equation")
        if self.identity(wanted):  # an identity: the same two sides, either way round
            pairs = ((a_left, left), (a_right, right)), ((a_left, right), (a_right, left))
            same = any(all(self.equal(a, e) for a, e in pair) for pair in pairs)
            return Outcome("correct", "correct_equation") if same else self.differs(left, right)
        if _rational(found) and _rational(wanted) and len(found.free_symbols | wanted.free_symbols) == 1:
            return self.equation_sets((a_left, a_right), (left, right))  # x^3 = 8 is x = 2
        if not (_rational(found) and _rational(wanted)) and self.solutions_agree(found, wanted) \
                and self.solutions_agree(wanted, found):
            return Outcome("correct", "correct_equation_sampled")
        return self.differs(left, right)

    def identity(self, difference: sp.Basic) -> bool:
        """Whether an equation's one side minus the other is zero everywhere (exactly for a
        rational one, else by the verifier)."""
        if _rational(difference):
            try:
                return sp.cancel(sp.together(difference)) == 0
            except (sp.PolynomialError, TypeError, ValueError):
                return False
        return self.equal(difference, sp.Integer(0))

    def equation_sets(self, answer: tuple, expected: tuple) -> Outcome:
        """Equations in one variable, by their real solution sets (``x = \\pm 2`` is ``x^2 = 4``)."""
        found, wanted = _solutions(*answer), _solutions(*expected)
        if found is not None and wanted is not None and found[0] == wanted[0] and self.same_sets(found[1], wanted[1]):
            return Outcome("correct", "correct_sets")
        return self.differs(*expected)

    def system(self, answer: tuple, expected: tuple) -> Outcome:
        """``(x, y) = (1, 2)``: the equations entry by entry, in any order (a system)."""
        equations = [_entrywise(*pair) for pair in (answer, expected)]
        if None not in equations and self.matched(*equations, self.equal):
            return Outcome("correct", "correct_equation")
        return self.differs(*expected)

    def differs(self, left: sp.Basic, right: sp.Basic) -> Outcome:
        return Outcome("incorrect", "equation_differs", {"expected": self.equation_text(left, right)})

    def equation_text(self, left: sp.Basic, right: sp.Basic) -> str:
        return f"{self.printer(left)} = {self.printer(right)}"

    def proportional(self, found: sp.Basic, wanted: sp.Basic, positive: bool) -> bool:
        """Whether ``found = c * wanted`` with a constant c (nonzero; positive with ``positive``),
        both over a common denominator; where a common factor of a numerator and its denominator
        would hide an excluded point, the denominators must be proportional too."""
        try:
            top, bottom = sp.fraction(sp.together(found))
            want_top, want_bottom = sp.fraction(sp.together(wanted))
            if want_top == 0 or top == 0:
                return False
            ratio = _ratio(top, want_top)
            if ratio is None or ratio.free_symbols or not ratio.is_number or ratio == 0 or not ratio.is_finite:
                return False
            if positive and not ratio.is_positive:
                return False
            if _removable(top, bottom) or _removable(want_top, want_bottom):
                scale = sp.cancel(bottom / want_bottom)
                return bool(scale.is_number and not scale.free_symbols and scale != 0)
            return True
        except (sp.PolynomialError, sp.polys.polyerrors.PolificationFailed, TypeError, ValueError):
            return False

    def solutions_agree(self, source: sp.Basic, target: sp.Basic) -> bool:
        """Whether every solution of ``source = 0``, solved for a variable it is linear in with a
        constant coefficient (so that the solution is all of them: ``(x + 2)(y - e^x) = 0`` is not
        ``y = e^x``), makes ``target = 0`` hold at sampled points of the other variables."""
        for variable in sorted(source.free_symbols & target.free_symbols, key=str):
            slope = source.diff(variable)
            if not slope.is_number or slope == 0 or not slope.is_finite:
                continue
            solution = -(source - slope * variable) / slope
            return self.equal(target.xreplace({variable: solution}), sp.Integer(0))
        return False

    # -- relations and intervals -------------------------------------------------
    def solution_sets(self, value, target, want: str, got: str) -> Outcome:
        """Relations and intervals as solution sets (in one variable), or as canonical relations."""
        if got == want == "relation" and value.free_symbols != target.free_symbols:  # x < 5 is not y < 5
            return Outcome("incorrect", "relation_differs", {"expected": self.printer(target)})
        answer_set, expected_set = _as_set(value, got), _as_set(target, want)
        if answer_set is not None and expected_set is not None:
            if self.same_sets(answer_set, expected_set):
                return Outcome("correct", "correct_sets")
            return Outcome("incorrect", "sets_differ", {"answer": self.printer(answer_set),
                                                        "expected": self.printer(expected_set)})
        if want == got == "relation":
            if self.same_relations(value, target):
                return Outcome("correct", "correct_sets")
            return Outcome("incorrect", "relation_differs", {"expected": self.printer(target)})
        return self.mismatch(want, got)

    def same_sets(self, answer: sp.Set, expected: sp.Set) -> bool:
        """Two sets equal: interval by interval (endpoints by the verifier, openness exactly) and
        point by point; numeric ones are also compared exactly by SymPy."""
        if answer == expected:
            return True
        if not (answer.free_symbols or expected.free_symbols):
            try:
                difference = sp.SymmetricDifference(answer, expected)
                if difference.is_empty is not None:
                    return bool(difference.is_empty)
            except (TypeError, ValueError):
                pass
        pieces = [list(s.args) if isinstance(s, sp.Union) else [s] for s in (answer, expected)]
        return self.matched(*pieces, self.same_piece)

    def same_piece(self, answer: sp.Set, expected: sp.Set) -> bool:
        if isinstance(answer, sp.Interval) and isinstance(expected, sp.Interval):
            return (answer.left_open, answer.right_open) == (expected.left_open, expected.right_open) and \
                self.equal(answer.start, expected.start) and self.equal(answer.end, expected.end)
        if isinstance(answer, sp.FiniteSet) and isinstance(expected, sp.FiniteSet):
            return self.matched(list(answer.args), list(expected.args), self.equal)
        return answer == expected

    def same_relations(self, answer, expected) -> bool:
        """Relations in several variables: the same conjuncts, each ``d < 0`` (or ``<=``, ``=``,
        ``!=``) with proportional ``d`` (by a positive constant for an inequality)."""
        conjuncts = [list(r.args) if isinstance(r, sp.And) else [r] for r in (answer, expected)]
        if any(not isinstance(c, sp.core.relational.Relational) for group in conjuncts for c in group):
            return answer == expected
        return self.matched(*conjuncts, self.same_relation)

    def same_relation(self, answer, expected) -> bool:
        (a_kind, a_side), (e_kind, e_side) = _canonical(answer), _canonical(expected)
        if a_kind != e_kind:
            return False
        unfold = self.verifier.unfold
        return self.proportional(unfold(a_side), unfold(e_side), positive=a_kind in ("<", "<="))

    # -- collections -------------------------------------------------------------
    def collections(self, value, target, got: str, want: str) -> Outcome | None:
        """None when equal; otherwise the incorrect outcome. Sets and lists unordered, tuples
        (points) in order (an answer list against a tuple too), matrices entry by entry."""
        if want == "matrix" or got == "matrix":
            if got != want:
                return self.mismatch(want, got)
            if value.shape != target.shape:
                return Outcome("incorrect", "size_differs", {"answer": "x".join(map(str, value.shape)),
                                                              "expected": "x".join(map(str, target.shape))})
            for (row, column), entry in zip(_positions(target), target, strict=True):
                if not self.equal(value[row, column], entry):
                    return self.entry_differs(f"({row + 1}, {column + 1})", value[row, column], entry)
            return None
        if want in ("set", "list"):
            if got not in ("set", "list"):
                return self.mismatch(want, got)
            answer, expected = list(value.args), list(target.args)
            if len(answer) != len(expected):
                return Outcome("incorrect", "size_differs", {"answer": len(answer), "expected": len(expected)})
            if self.matched(answer, expected, self.equal):
                return None
            return Outcome("incorrect", "elements_differ", {"expected": self.printer(target)})
        if want == "tuple":
            if got not in ("tuple", "list"):
                return self.mismatch(want, got)
            if len(value.args) != len(target.args):
                return Outcome("incorrect", "size_differs", {"answer": len(value.args), "expected": len(target.args)})
            for position, (entry, wanted) in enumerate(zip(value.args, target.args, strict=True), 1):
                if not self.equal(entry, wanted):
                    return self.entry_differs(str(position), entry, wanted)
            return None
        return self.mismatch(want, got)

    def entry_differs(self, where: str, entry, wanted) -> Outcome:
        return Outcome("incorrect", "entry_differs", {"where": where, "answer": self.printer(entry),
                                                       "expected": self.printer(wanted)})

    def matched(self, answer: list, expected: list, same: Callable) -> bool:
        """Whether the two lists hold equal elements in some order (equality is transitive, so a
        greedy matching is complete)."""
        if len(answer) != len(expected) or len(answer) > MAX_ELEMENTS:
            return False
        left = list(answer)
        for wanted in expected:  # the same element written the same way first (no comparison needed)
            match = next((i for i, item in enumerate(left) if item == wanted), None)
            if match is None:
                match = next((i for i, item in enumerate(left) if same(item, wanted)), None)
            if match is None:
                return False
            left.pop(match)
        return True


def _membership(reading: Reading) -> Reading:
    """``x \\in [0, 1)`` (read as the sides x and an interval) as the relation ``0 <= x < 1``; a
    finite set of values (``x = \\pm 2``) stays an equation."""
    written = sides(reading)
    if len(written) == 2 and isinstance(written[0], sp.Symbol) and isinstance(written[1], (sp.Interval, sp.Union)):
        return Reading([written[1].as_relational(written[0])], list(reading.notes))
    return reading


def _entrywise(left, right) -> list | None:
    """The equations of ``(a, b) = (c, d)`` entry by entry (unevaluated); None unless both sides
    are tuples or matrices of one size."""
    pairs = [(left, right)]
    if isinstance(left, sp.Tuple) and isinstance(right, sp.Tuple) and len(left) == len(right):
        pairs = list(zip(left.args, right.args, strict=True))
    elif isinstance(left, sp.MatrixBase) and isinstance(right, sp.MatrixBase) and left.shape == right.shape:
        pairs = list(zip(left, right, strict=True))
    else:
        return None
    return [sp.Eq(a, b, evaluate=False) for a, b in pairs]


def _positions(matrix: sp.MatrixBase) -> list[tuple[int, int]]:
    return [(r, c) for r in range(matrix.rows) for c in range(matrix.cols)]


def _ratio(top: sp.Basic, want_top: sp.Basic) -> sp.Basic | None:
    """``top / want_top`` reduced: through polynomials in common generators when both are (fast:
    the ratio of leading coefficients, checked exactly; None when they are not proportional),
    else by SymPy's ``cancel``."""
    try:
        (poly, wanted), _ = sp.parallel_poly_from_expr([top, want_top])
        if poly.domain.is_Numerical and wanted.domain.is_Numerical and not wanted.is_zero and \
                all(generator.free_symbols for generator in poly.gens):  # sqrt(2) as a generator is a number
            ratio = poly.LC() / wanted.LC()
            return sp.sympify(ratio) if (poly - wanted * ratio).is_zero else None
    except (sp.PolynomialError, sp.polys.polyerrors.PolificationFailed, sp.polys.polyerrors.CoercionFailed):
        pass
    ratio = sp.cancel(top / want_top)
    if not ratio.free_symbols:
        return ratio
    # cancel leaves algebraic factors (sqrt(2) x - pi y against 2x - sqrt(2) pi y): the ratio at one
    # exact point, checked everywhere by expanding
    symbols = sorted(top.free_symbols | want_top.free_symbols, key=str)
    point = {symbol: sp.Rational(2 + 3 * i, 7 + 2 * i) for i, symbol in enumerate(symbols)}
    value = want_top.xreplace(point)
    if not value.is_number or value == 0:
        return None
    candidate = sp.radsimp(top.xreplace(point) / value)
    return candidate if candidate.is_number and sp.expand(top - candidate * want_top) == 0 else None


def _rational(expr: sp.Basic) -> bool:
    """Whether an expression is a rational function of its free symbols (a polynomial equation)."""
    symbols = sorted(expr.free_symbols, key=str)
    return not symbols or expr.is_rational_function(*symbols)


def _removable(top: sp.Basic, bottom: sp.Basic) -> bool:
    """Whether a numerator and its denominator share a factor (a point excluded by the writing)."""
    if not bottom.free_symbols:
        return False
    try:
        return bool(sp.gcd(top, bottom).free_symbols)
    except (sp.PolynomialError, sp.polys.polyerrors.PolificationFailed):
        return True


def _canonical(relation) -> tuple[str, sp.Basic]:
    """``(kind, d)`` with the relation as ``d kind 0`` and kind one of ``<``, ``<=``, ``=``, ``!=``."""
    d = relation.lhs - relation.rhs
    kinds = {sp.StrictLessThan: ("<", d), sp.LessThan: ("<=", d), sp.StrictGreaterThan: ("<", -d),
             sp.GreaterThan: ("<=", -d), sp.Eq: ("=", d), sp.Ne: ("!=", d)}
    return kinds[type(relation)]


def _solutions(left: sp.Basic, right: sp.Basic) -> tuple[sp.Symbol, sp.Set] | None:
    """An equation in one variable as (variable, its solutions): ``x = \\pm 2`` directly, a rational
    equation by SymPy's solveset over the complex numbers when it gives a set of numbers; else None."""
    for name, values in ((left, right), (right, left)):
        if isinstance(name, sp.Symbol) and isinstance(values, sp.FiniteSet):
            return name, values
    if isinstance(left, sp.Set) or isinstance(right, sp.Set):
        return None
    difference = left - right
    if len(difference.free_symbols) != 1 or not _rational(difference):
        return None
    variable, complex_ = next(iter(difference.free_symbols)), sp.Dummy("z")
    try:  # over the complex numbers: x^2 = -1 and x^2 = -4 both lack real solutions, but differ
        solutions = sp.solveset(difference.xreplace({variable: complex_}), complex_, sp.S.Complexes)
    except (NotImplementedError, TypeError, ValueError):
        return None
    return (variable, solutions) if isinstance(solutions, (*_SETS, sp.sets.sets.EmptySet)) else None


def _linear_set(value, variable: sp.Symbol) -> sp.Set | None:
    """The solutions of relations linear in ``variable`` with number coefficients, built directly
    (SymPy's general ``as_set`` takes a tenth of a second); None for anything else."""
    if isinstance(value, (sp.And, sp.Or)):
        parts = [_linear_set(part, variable) for part in value.args]
        if any(part is None for part in parts):
            return None
        return sp.Intersection(*parts) if isinstance(value, sp.And) else sp.Union(*parts)
    if not isinstance(value, sp.core.relational.Relational):
        return None
    kind, difference = _canonical(value)
    slope = difference.diff(variable)
    if not slope.is_number or not slope.is_extended_real or slope == 0:
        return None
    root = sp.cancel(-(difference - slope * variable) / slope)
    if root.free_symbols or not root.is_finite:
        return None
    if kind == "=":
        return sp.FiniteSet(root)
    if kind == "!=":
        return sp.Union(sp.Interval.open(-sp.oo, root), sp.Interval.open(root, sp.oo))
    closed = kind == "<="
    if slope > 0:  # slope (v - root) < 0: below the root
        return sp.Interval(-sp.oo, root, True, not closed)
    return sp.Interval(root, sp.oo, not closed, True)


def _as_set(value, kind: str) -> sp.Set | None:
    """A relation in one variable, an interval or a pair ``(a, b)`` as a set of real numbers
    (None for a relation in several variables, or what is not a solution set)."""
    if kind == "interval":
        return value
    if kind == "tuple" and len(value.args) == 2 and all(v.is_extended_real for v in value.args):
        start, end = value.args
        return sp.Interval.open(start, end) if (start < end) is sp.true else None
    if kind != "relation":
        return None
    variables = value.free_symbols
    if len(variables) != 1:
        return None
    variable = next(iter(variables))
    linear = _linear_set(value, variable)
    if linear is not None:
        return linear
    try:
        return value.as_set() if variable.is_real else value.as_set().intersect(sp.S.Reals)
    except (NotImplementedError, TypeError, ValueError):
        return None
