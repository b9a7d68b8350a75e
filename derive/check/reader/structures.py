"""Structures of ordinary mathematics: answers in a list, relations, ratios, ``\\pm``, tuples and
intervals, sets and their unions, matrices, floors, ceilings and binomials.

The shapes follow the contract with :mod:`derive.check.compare`: an equation keeps its sides, an
inequality is a relational (a chain an ``sp.And``), a set an ``sp.FiniteSet``, a point an
``sp.Tuple``, an interval an ``sp.Interval``/``sp.Union``, ``a \\pm b`` the ``sp.FiniteSet`` of its
two values, a matrix an ``sp.ImmutableMatrix`` and a comma list of answers an ``sp.Tuple`` marked
``list`` in the reading's notes.
"""

from __future__ import annotations

import re

import sympy as sp

from ..table import name_key
from .tokens import UNITS, ReadError, Reading

#: Relations between the sides of one statement (``\\in`` is read as naming the set: x \\in [0, 1)).
RELATIONS = {"<": sp.StrictLessThan, r"\lt": sp.StrictLessThan, ">": sp.StrictGreaterThan,
             r"\gt": sp.StrictGreaterThan, r"\le": sp.LessThan, r"\leq": sp.LessThan,
             r"\leqslant": sp.LessThan, r"\ge": sp.GreaterThan, r"\geq": sp.GreaterThan,
             r"\geqslant": sp.GreaterThan, "=": sp.Eq,
             r"\ne": sp.Ne, r"\neq": sp.Ne}
LOGICAL = (sp.core.relational.Relational, sp.And, sp.Or)
SET_OPERATIONS = {r"\cup": sp.Union, r"\cap": sp.Intersection, r"\setminus": sp.Complement}
MATRICES = {"pmatrix", "bmatrix", "Bmatrix", "matrix", "vmatrix", "smallmatrix"}
#: ``\\pm`` stands for this symbol until its side is complete; then the side is the set of both values.
PLUS_MINUS = sp.Dummy("pm")
MAX_BINOMIAL, MAX_DETERMINANT, MAX_MATRIX_PRODUCTS = 10_000, 4, 4


class Structures:
    """The parser's rules for structured answers (mixed into :class:`~derive.check.reader.grammar.Parser`)."""

    def answer(self) -> Reading:
        """The whole answer: one statement, or several separated by commas or words (a list of
        answers); relations joined by "or" (\\lor) or "and" (\\land) are one sp.Or or sp.And."""
        if not self.tokens:
            raise ReadError("the answer is empty")
        items, separators = [self.statement()], set()
        while self.at(",", ";", r"\land", r"\lor"):
            self.refuse_decimal_comma()
            separators.add(self.take()[1])
            items.append(self.statement())
        if self.peek()[0] != "end":
            raise self.fail(f"cannot read '{self.peek()[1]}' here")
        if len(items) == 1:
            return Reading(items[0], self.notes)
        if len(separators) == 1 and separators <= {r"\land", r"\lor"} and all(
                len(item) == 1 and isinstance(item[0], LOGICAL) for item in items):
            joined = sp.Or if separators == {r"\lor"} else sp.And
            return Reading([joined(*(item[0] for item in items), evaluate=False)], self.notes)
        self.notes.append("list")
        return Reading(_listed(items), self.notes)

    def refuse_decimal_comma(self) -> None:
        """1,5 between answers: a decimal comma or two answers; neither is guessed."""
        before, comma, after = self.peek(-1), self.peek(), self.peek(1)
        if before[0] == after[0] == "number" and before[2] + len(before[1]) == comma[2] == after[2] - 1:
            raise ReadError(f"'{before[1]},{after[1]}' is ambiguous: write {before[1]}.{after[1]} for a "
                            f"decimal or {before[1]}, {after[1]} for two answers", comma[2], refused=True)

    def statement(self) -> list[sp.Basic]:
        """Sides joined by relations: an equation (chain) keeps its sides; an inequality is one relational."""
        sides, relations = [self.complete(self.defined_function() or self.side())], []
        while self.peek()[1] in RELATIONS or self.at(r"\in"):
            relations.append(self.take()[1])
            sides.append(self.complete(self.side()))
        if all(relation == "=" for relation in relations):
            return sides
        if relations == [r"\in"]:
            self.notes.append("in")
            return sides
        links = []
        for relation, (left, right) in zip(relations, zip(sides, sides[1:])):
            if relation not in RELATIONS:
                raise self.fail(f"cannot read {relation} inside a chain of relations")
            self.scalar(left, "compare")
            self.scalar(right, "compare")
            links.append(RELATIONS[relation](left, right, evaluate=False))
        return [links[0] if len(links) == 1 else sp.And(*links, evaluate=False)]

    def defined_function(self) -> sp.Basic | None:
        """F(x) = x^2: a one-letter name the problem does not know, applied on the left of an equation,
        is a function (None, nothing taken, otherwise)."""
        kind, name, _ = self.peek()
        if kind != "letter" or self.peek(1)[1] != "(" or name in self.table.names:
            return None
        if name in self.table.functions:
            return None
        level, end = 0, None
        for index in range(self.index + 1, len(self.tokens)):
            level += {"(": 1, ")": -1}.get(self.tokens[index][1], 0)
            if level == 0:
                end = index
                break
        if end is None or end + 1 >= len(self.tokens) or self.tokens[end + 1][1] != "=":
            return None
        self.index += 2
        arguments = [self.scalar(self.expression(), "apply a function to")]
        while self.at(","):
            self.take()
            arguments.append(self.scalar(self.expression(), "apply a function to"))
        self.expect(")")
        return sp.Function(name)(*arguments)

    def complete(self, value: sp.Basic) -> sp.Basic:
        """One side after its first expression: a ratio a:b (read as a/b), sets joined by \\cup,
        \\cap, \\setminus; a side with \\pm becomes the set of its two values."""
        if self.at(":"):
            position = self.take()[2]
            divisor = self.expression()
            self.scalar(value, "divide")
            self.scalar(divisor, "divide")
            if divisor == 0:
                raise ReadError("a ratio with 0 after the ':'", position)
            self.notes.append("ratio")
            value = value / divisor
        while self.peek()[1] in SET_OPERATIONS:
            operation = SET_OPERATIONS[self.take()[1]]
            value, right = _as_set(value), _as_set(self.expression())
            if not isinstance(value, sp.Set) or not isinstance(right, sp.Set):
                raise self.fail("\\cup, \\cap and \\setminus join sets or intervals")
            value = operation(value, right)
        if self.at(r"\approx"):
            value = self.approximation(value)
        if "plus-minus" in self.notes and value.has(PLUS_MINUS):
            value = sp.FiniteSet(value.subs(PLUS_MINUS, 1), value.subs(PLUS_MINUS, -1))
        return value

    def approximation(self, value: sp.Basic) -> sp.Basic:
        """value \\approx 0.25: the decimal shown beside an exact value, which it must be rounded to the
        digits shown (1/5 \\approx 0.25 says two things: unreadable, never the one that happens to be
        right)."""
        position, start = self.take()[2], self.index
        shown = self.expression()
        written = [t for t in self.tokens[start:self.index] if t[1] != "-"]
        if not shown.is_Number or len(written) != 1 or written[0][0] != "number":
            raise ReadError("\\approx must be followed by a decimal", position, refused=True)
        digits = len(written[0][1].partition(".")[2])
        if not value.is_number or abs(sp.N(value - shown, 30)) > sp.Rational(1, 2 * 10**digits):
            raise ReadError(f"{written[0][1]} is not the value before \\approx rounded to {digits} decimals",
                            position, refused=True)
        self.notes.append("approx")
        return value

    def scalar(self, value: sp.Basic, action: str) -> sp.Basic:
        """The value itself when arithmetic may use it; a tuple, set or relation cannot be added,
        multiplied or compared (SymPy would repeat a tuple: 2(1, 2) is not (1, 2, 1, 2))."""
        if not isinstance(value, sp.Expr) and not (self.sizes and isinstance(value, sp.MatrixBase)):
            raise self.fail(f"cannot {action} a {_kind(value)}")
        return value

    def times(self, left: sp.Basic, right: sp.Basic) -> sp.Basic:
        """left * right for values arithmetic may use; products of matrices are counted (each may
        multiply the size of the entries)."""
        self.scalar(left, "multiply")
        self.scalar(right, "multiply")
        if isinstance(left, sp.MatrixBase) and isinstance(right, sp.MatrixBase):
            self.count_matrix_products(1)
        return left * right

    def matrix_power(self, base: sp.Basic, exponent: sp.Basic) -> sp.Basic:
        """A matrix raised to a small whole power (counted as its products); other bases as they are."""
        if isinstance(base, sp.MatrixBase):
            if not exponent.is_Integer or abs(exponent) > MAX_MATRIX_PRODUCTS:
                raise self.fail(f"a matrix power must be a whole number up to {MAX_MATRIX_PRODUCTS}",
                                refused=True)
            if exponent < 0 and base.rows > MAX_DETERMINANT:
                raise self.fail(f"an inverse of a matrix larger than {MAX_DETERMINANT}x{MAX_DETERMINANT}",
                                refused=True)
            self.count_matrix_products(abs(int(exponent)))
        return base

    def count_matrix_products(self, count: int) -> None:
        self.matrix_products = getattr(self, "matrix_products", 0) + count
        if self.matrix_products > MAX_MATRIX_PRODUCTS:
            raise self.fail(f"more than {MAX_MATRIX_PRODUCTS} products of matrices", refused=True)

    def bracketed(self, opening: str) -> sp.Basic:
        """(a), [a], a point (a, b), an interval [a, b), (1, +\\infty), or a list [1, 2, 3]."""
        items = [self.expression()]
        while self.at(",", ";"):
            self.take()
            items.append(self.expression())
        kind, closing, position = self.take()
        if closing not in (")", "]"):
            raise ReadError(f"expected ')' or ']' but found '{closing or 'the end'}'", position)
        if len(items) == 1:
            if closing != {"(": ")", "[": "]"}[opening]:
                raise ReadError(f"'{opening}' is closed by '{closing}'", position)
            return items[0]
        for item in items:
            self.scalar(item, "put in a tuple")
        infinite = any(item.has(sp.oo, -sp.oo) for item in items)
        if len(items) == 2 and (opening == "[" or closing == "]" or infinite):
            return _interval(items, opening, closing, position)
        if opening == "(" and closing == ")" or opening == "[" and closing == "]":
            return sp.Tuple(*items)
        raise ReadError(f"a list of {len(items)} opened by '{opening}' is closed by '{closing}'", position)

    def set_literal(self, closing: str, first: sp.Basic | None = None) -> sp.Basic:
        """\\{1, 2\\} (or {1, 3}, whose first element is read): a finite set; \\{\\} is empty."""
        if first is None and self.at(closing):
            self.take()
            return sp.EmptySet
        items = [self.scalar(self.expression() if first is None else first, "put in a set")]
        while self.at(","):
            self.take()
            items.append(self.scalar(self.expression(), "put in a set"))
        self.expect(closing)
        return sp.FiniteSet(*items)

    def unit(self) -> bool:
        """A unit after a value (5 \\text{cm}, 3\\,\\mathrm{kg}^2, \\text{m/s}): dropped with a note.
        False (nothing taken) when the text is not a unit or is a name of the problem."""
        if self.peek()[1] not in (r"\text", r"\mathrm", r"\textrm", r"\rm") or self.peek(1)[1] != "{":
            return False
        end = self.matching(self.index + 1)
        word = "".join(token[1] for token in self.tokens[self.index + 2:end])
        parts = [part for part in re.split(r"[/^\d{}-]+|\\cdot", word) if part]
        if not parts or name_key(word) in self.table.names or not all(part in UNITS for part in parts):
            return False
        self.index = end + 1
        if self.at("^"):
            self.take()
            self.signed_group()
        self.notes.append(f"unit:{word}")
        return True

    def plus_minus(self, sign: str) -> sp.Basic:
        """The sign of a \\pm (or \\mp) term: the side is later read as both values."""
        self.notes.append("plus-minus")
        return PLUS_MINUS if sign == r"\pm" else -PLUS_MINUS

    def delimited(self, function, closing: str) -> sp.Basic:
        """\\lfloor x \\rfloor, \\lceil x \\rceil."""
        value = self.scalar(self.expression(), "round")
        self.expect(closing)
        return function(value)

    def binomial(self) -> sp.Basic:
        """\\binom{n}{k}, refusing numbers too large to compute."""
        top, bottom = self.group_or_single(), self.group_or_single()
        if top.is_Number and abs(top) > MAX_BINOMIAL:
            raise self.fail(f"a binomial coefficient of more than {MAX_BINOMIAL}", refused=True)
        return sp.binomial(top, bottom)

    def environment(self) -> sp.Basic:
        """\\begin{cases} ... \\end{cases}; \\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}."""
        name = self.environment_name()
        if name == "cases":
            value = self.cases()
        elif name in MATRICES:
            value = self.matrix(name)
        else:
            raise self.fail(f"unknown environment '{name}'")
        self.expect(r"\end")
        closing = self.environment_name()
        if closing != name:
            raise self.fail(f"\\begin{{{name}}} is closed by \\end{{{closing}}}")
        return value

    def environment_name(self) -> str:
        self.expect("{")
        name = ""
        while not self.at("}"):
            kind, text, position = self.take()
            if kind not in ("letter", "symbol") or text == "{":
                raise ReadError("expected an environment's name", position)
            name += text
        self.take()
        return name

    def matrix(self, name: str) -> sp.Basic:
        """Rows separated by \\\\, entries by &; a vmatrix is its determinant."""
        rows = [[]]
        while not self.at(r"\end"):
            if self.peek()[0] == "end":
                raise self.fail(f"\\begin{{{name}}} is never closed")
            rows[-1].append(self.scalar(self.expression(), "put in a matrix"))
            if self.at("&"):
                self.take()
            elif self.at(r"\\"):
                self.take()
                rows.append([])
            elif not self.at(r"\end"):
                raise self.fail(f"cannot read '{self.peek()[1]}' in a matrix")
        rows = [row for row in rows if row]
        if not rows or any(len(row) != len(rows[0]) for row in rows):
            raise self.fail("a matrix needs rows of the same length")
        matrix = sp.ImmutableMatrix(rows)
        if name == "vmatrix":
            if matrix.rows != matrix.cols:
                raise self.fail("a determinant needs a square matrix")
            if matrix.rows > MAX_DETERMINANT:
                raise self.fail(f"a determinant larger than {MAX_DETERMINANT}x{MAX_DETERMINANT}",
                                refused=True)
            return matrix.det(method="berkowitz")
        return matrix


def _listed(items: list[list[sp.Basic]]) -> list[sp.Basic]:
    """A list of answers as one reading's sides: x = 1, x = 2 and x = 1, 2 are x = (1, 2)."""
    first = items[0]
    if all(len(item) == 1 for item in items):
        return [sp.Tuple(*(item[0] for item in items))]
    if len(first) == 2 and all(len(item) == 1 or item[0] == first[0] and len(item) == 2 for item in items):
        return [first[0], sp.Tuple(*(item[-1] for item in items))]
    return [sp.Tuple(*(sp.Eq(*item, evaluate=False) if len(item) == 2 else _chain(item) for item in items))]


def _chain(item: list[sp.Basic]) -> sp.Basic:
    if len(item) == 1:
        return item[0]
    return sp.And(*(sp.Eq(a, b, evaluate=False) for a, b in zip(item, item[1:])), evaluate=False)


def _interval(items: list[sp.Basic], opening: str, closing: str, position: int) -> sp.Basic:
    low, high = items
    if (low - high).is_positive:
        raise ReadError("an interval whose start is after its end", position)
    if low == high and (opening == "(" or closing == ")"):
        raise ReadError("an empty interval", position)
    return sp.Interval(low, high, opening == "(", closing == ")")


def _as_set(value: sp.Basic) -> sp.Basic:
    """A pair (a, b) joined to a set by \\cup is the open interval it then means."""
    if isinstance(value, sp.Tuple) and len(value) == 2:
        return _interval(list(value), "(", ")", None)
    return value


def _kind(value: sp.Basic) -> str:
    if isinstance(value, sp.Tuple):
        return "tuple"
    if isinstance(value, sp.Set):
        return "set or interval"
    return "relation"
