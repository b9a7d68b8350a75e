"""The core grammar of the course reader: answer, expression, term, power, primary."""

from __future__ import annotations

import sympy as sp

from ..table import ReadingTable
from .commands import Commands
from .course import CourseForms
from .names import Names
from .structures import Structures
from .tokens import (GREEK, MAX_DEPTH, MAX_DIGITS, MAX_TOWER, NAME_WRAPPERS, bars, NOT_FACTORS, ReadError, number,
                     tokenize)


class Parser(Structures, Commands, Names, CourseForms):
    """One answer's parse; see :func:`derive.check.reader.read`."""

    def __init__(self, text: str, table: ReadingTable):
        self.tokens = tokenize(text)
        self.table = table
        self.index = 0
        self.depth = 0
        self.notes: list[str] = []
        self.bound: dict[str, sp.Symbol] = {}
        self.towers = 0
        self.absolute = 0  # inside |...|: a '|' closes it, never an evaluation bar

    # -- token helpers -------------------------------------------------------------
    def peek(self, offset: int = 0) -> tuple[str, str, int]:
        index = self.index + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "", -1)

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        self.index += 1
        return token

    def at(self, *texts: str) -> bool:
        return self.peek()[1] in texts

    def expect(self, text: str) -> None:
        kind, got, position = self.take()
        if got != text:
            raise ReadError(f"expected '{text}' but found '{got or 'the end'}'", position)

    def fail(self, message: str, refused: bool = False) -> ReadError:
        return ReadError(message, self.peek()[2] if self.peek()[0] != "end" else None, refused)

    def nest(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} levels deep", refused=True)

    # -- grammar -------------------------------------------------------------------
    def expression(self) -> sp.Basic:
        self.nest()
        terms = [self.signed()]
        while self.at("+", "-", r"\pm", r"\mp"):
            sign = self.take()[1]
            term = self.scalar(self.term(), "add")
            terms.append(-term if sign == "-" else term if sign == "+" else self.plus_minus(sign) * term)
        self.depth -= 1
        if len(terms) == 1:
            return self.evaluated(terms[0])
        self.scalar(terms[0], "add")
        return self.evaluated(self.total(terms))

    def evaluated(self, value: sp.Basic) -> sp.Basic:
        """value\\big|_{z=0} (or \\left. value \\right|_{z=0}): the evaluation bar, value at z = 0."""
        if not (self.at("|") and self.peek(1)[1] == "_") or self.absolute:
            return value
        self.index += 2
        self.expect("{")
        variable = self.expression()
        self.expect("=")
        point = self.expression()
        self.expect("}")
        if not isinstance(variable, (sp.Symbol, sp.Indexed)):
            raise self.fail("an evaluation bar needs a variable, as in |_{z=0}")
        return sp.Subs(self.scalar(value, "evaluate"), variable, self.scalar(point, "evaluate at"))

    def signed(self) -> sp.Basic:
        sign = 1
        while self.at("-", "+", r"\pm", r"\mp"):
            text = self.take()[1]
            sign *= -1 if text == "-" else 1 if text == "+" else self.plus_minus(text)
        return self.scalar(self.term(), "negate") * sign if sign != 1 else self.term()

    def term(self) -> sp.Basic:
        result = self.power()
        while True:
            if self.at(r"\cdot", r"\times", "*"):
                self.take()
                result = self.times(result, self.operand())
            elif self.at("/"):
                self.take()
                result = self.scalar(result, "divide") / self.scalar(self.operand(), "divide")
            elif self.at(r"\odot"):
                self.take()
                result = self.hadamard(result, self.operand())
            elif self.unit():
                continue
            elif self.starts_factor():
                result = self.times(result, self.power())
            else:
                return result

    def operand(self) -> sp.Basic:
        """The factor after \\cdot, \\times, / or \\odot, which may carry its own sign: e^{-x} \\cdot -1."""
        if self.at("-", "+"):
            sign = self.take()[1]
            value = self.power()
            return -self.scalar(value, "negate") if sign == "-" else value
        return self.power()

    def starts_factor(self) -> bool:
        kind, text, _ = self.peek()
        if kind in ("number", "letter") or text in ("(", "[", "{"):
            return True
        return kind == "command" and text not in NOT_FACTORS

    def power(self) -> sp.Basic:
        base = self.postfix(self.primary())
        if self.at("^"):
            self.take()
            transposed = self.transposed(base)
            if transposed is not None:
                return transposed
            self.towers += 1
            if self.towers > MAX_TOWER:
                raise self.fail(f"powers nested more than {MAX_TOWER} deep", refused=True)
            exponent = self.signed_group()
            self.towers -= 1
            base = _pow(self.matrix_power(self.scalar(base, "raise to a power"), exponent), exponent, self)
            base = self.postfix(base)
        return base

    def signed_group(self) -> sp.Basic:
        if self.at("-"):
            self.take()
            return -self.group_or_single()
        return self.group_or_single()

    def postfix(self, value: sp.Basic) -> sp.Basic:
        while self.at("!", r"\%"):
            if self.take()[1] != "!":
                self.notes.append("percent")
                value = self.scalar(value, "take a percentage of") / 100
                continue
            if value.is_Number and (not value.is_Integer or value > 1000 or value < 0):
                raise self.fail("factorial of a number that is too large or not a whole number", refused=True)
            value = sp.factorial(self.scalar(value, "take the factorial of"))
        return value

    def group_or_single(self) -> sp.Basic:
        """A {group} or a single token (as in x^2, \\frac12)."""
        if self.at("{"):
            return self.braced()
        kind, text, position = self.take()
        if kind == "number" and len(text) > 1 and "." not in text:
            self.index -= 1
            self.tokens[self.index] = (kind, text[1:], position + 1)
            return number(text[0], position)
        if kind == "number":
            return number(text, position)
        if kind == "letter":
            self.index -= 1
            return self.identifier()
        if kind == "command":
            self.index -= 1
            return self.primary()
        raise ReadError(f"expected an argument but found '{text or 'the end'}'", position)

    def braced(self, sets: bool = False) -> sp.Basic:
        """{...}; with ``sets``, a bare {1, 3} is a set."""
        self.expect("{")
        value = self.expression()
        if sets and self.at(","):
            return self.set_literal("}", value)
        if self.at(r"\over"):
            self.take()
            value = value / self.expression()
        self.expect("}")
        return value

    def primary(self) -> sp.Basic:
        kind, text, position = self.peek()
        if kind == "number":
            self.take()
            return number(text, position)
        if text in ("(", "["):
            self.take()
            return self.bracketed(text)
        if text == "{":
            return self.braced(sets=True)
        if text == "|":
            self.take()
            self.absolute += 1
            value = self.scalar(self.expression(), "take the absolute value of")
            self.absolute -= 1
            self.expect("|")
            return sp.Abs(value)
        if text == r"\|":
            return self.norm()
        course = self.course_form()
        if course is not None:
            return course
        if kind == "letter" or kind == "command" and (text[1:] in GREEK or text[1:] in NAME_WRAPPERS or text[1:] in (
                "hat", "widehat", "mathbb", "mathbf", "nabla")):
            return self.identifier()
        if kind == "command":
            return self.command()
        raise self.fail(f"cannot read '{text or 'the end'}' here" if text else "the answer ends too early")

    def norm(self) -> sp.Basic:
        """\\|W\\|: a norm, read only as the problem's quantity written so (bptt-vector's ||W||); a norm
        of anything else is refused, never guessed."""
        self.take()
        inner = []
        while not self.at(r"\|"):
            kind, text, _ = self.take()
            if kind == "end":
                raise self.fail(r"a norm \| ... \| is not closed")
            inner.append(text)
        self.take()
        written = "".join(inner)
        for quantity in self.table.quantities.values():
            latex = bars(quantity.latex or "").replace(" ", "")
            if latex.startswith(r"\|") and latex.endswith(r"\|") and latex[2:-2] == written:
                return quantity.symbol
        raise self.fail(f"the norm of {written or 'nothing'} is not a quantity of this problem")

    def matching(self, start: int) -> int:
        """The index of the brace that closes the one at ``start``."""
        level = 0
        for index in range(start, len(self.tokens)):
            level += {"{": 1, "}": -1}.get(self.tokens[index][1], 0)
            if level == 0:
                return index
        raise ReadError("a '{' is never closed", self.tokens[start][2])



def _pow(base: sp.Basic, exponent: sp.Basic, parser: Parser) -> sp.Basic:
    """base ** exponent, refusing numbers too large to write down (9^{9^{9^9}})."""
    if base.is_Number and exponent.is_Number and abs(base) > 1:
        if abs(float(exponent)) * float(sp.log(abs(base), 10)) > MAX_DIGITS:
            raise parser.fail("a number too large to compute", refused=True)
    return base**exponent

