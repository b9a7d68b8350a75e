"""A backprop node's expression, in plain notation, read exactly as written.

``w1*x1 + b``, ``(y - yhat)^2/2``, ``x1^10``, ``x1**12``, ``-x^2`` (minus the square), ``2^-1``,
``relu(z)``, ``mse(yhat, y)``, ``1.5e-3``: numbers (exact: 0.2 is 1/5), the names of inputs,
parameters and earlier nodes, ``+ - * /`` and ``^`` (or ``**``) with Python's precedence (a power
binds tighter than a unary minus and groups to the right), parentheses, and the functions of
:data:`FUNCTIONS` with their number of arguments. There is no implicit multiplication: ``2 x``
is an error, as is anything else.

The text is tokenized here and rewritten as LaTeX in which every operand and every exponent is
its own braced group (``x^10`` becomes ``{x}^{{10}}``, not TeX's ``x^1 0``), and that LaTeX is
read by the course's reader (:class:`derive.check.reader.Parser`); nothing is evaluated as Python.
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy as sp

from .. import limits
from ..catalog.activations import SIGMOID_DEFINITION, x
from ..check.reader import MAX_DEPTH, Parser, ReadError
from ..check.table import ReadingTable
from ..errors import UsageError

a, b = sp.symbols("a b", real=True)
#: Functions a node may use: the catalog's definitions (relu as the relu entry defines it).
FUNCTIONS = {
    "relu": sp.Lambda(x, sp.Piecewise((x, x > 0), (0, True))),
    "sigmoid": sp.Lambda(x, SIGMOID_DEFINITION),
    "tanh": sp.Lambda(x, sp.tanh(x)),
    "exp": sp.Lambda(x, sp.exp(x)),
    "log": sp.Lambda(x, sp.log(x)),
    "mse": sp.Lambda((a, b), (a - b) ** 2 / 2),
    "bce": sp.Lambda((a, b), -(b * sp.log(a) + (1 - b) * sp.log(1 - a))),
}
_TOKEN = re.compile(r"\s*(?:(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_]\w*)"
                    r"|(?P<op>\*\*|[-+*/^(),]))", re.ASCII)


class GraphError(UsageError):
    """A graph that cannot be computed; the message names the node."""


def arity(function: str) -> int:
    """How many arguments a function of FUNCTIONS takes."""
    return len(FUNCTIONS[function].variables)


def read_node(node: str, text, known: dict[str, sp.Symbol]) -> sp.Basic:
    """The expression of ``node`` as SymPy, its names resolved through ``known``.

    Raises:
        GraphError: one line naming the node: not text, longer than ``backprop.expression``, a
            character or a name it cannot use, a function with the wrong number of arguments, a
            missing operator, unbalanced parentheses, nesting too deep.
    """
    if not isinstance(text, str):
        raise GraphError(f"node {node}: the expression must be text, such as \"w1*x1 + b\"")
    limits.check("backprop.expression", len(text), f"node {node}", "characters in the expression")
    latex = _Translator(node, text, known).translate()
    try:
        value = Parser(latex, ReadingTable(names=dict(known), functions=dict(FUNCTIONS))).answer().value
    except ReadError as error:
        raise GraphError(f"node {node}: cannot read {text!r}: {error}") from None
    if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise GraphError(f"node {node}: {text!r} is undefined (a division by zero, or the log of 0)")
    return value


class _Translator:
    """Plain notation to braced LaTeX, by recursive descent over Python's expression grammar."""

    def __init__(self, node: str, text: str, known: dict[str, sp.Symbol]):
        self.node, self.text, self.known = node, text, known
        self.tokens: list[tuple[str, str, int]] = []
        position, end = 0, len(text.rstrip())
        while position < end:
            match = _TOKEN.match(text, position)
            if not match:
                character = text[position:].lstrip()[:1]
                self.fail(f"unexpected {character!r} at character {len(text) - len(text[position:].lstrip()) + 1}")
            self.tokens.append((match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup)))
            position = match.end()
        self.index, self.depth = 0, 0

    def fail(self, message: str):
        raise GraphError(f"node {self.node}: cannot read {self.text!r}: {message}")

    def peek(self) -> str:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else ""

    def take(self) -> tuple[str, str, int]:
        if self.index >= len(self.tokens):
            self.fail("it ends too early")
        self.index += 1
        return self.tokens[self.index - 1]

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"nested more than {MAX_DEPTH} levels deep")

    def translate(self) -> str:
        if not self.tokens:
            self.fail("it is empty")
        latex = self.expression()
        if self.index < len(self.tokens):
            _, text, position = self.tokens[self.index]
            self.fail(f"expected an operator before {text!r} at character {position + 1}")
        return latex

    def expression(self) -> str:
        latex = self.term()
        while self.peek() in ("+", "-"):
            latex += f" {self.take()[1]} {self.term()}"
        return latex

    def term(self) -> str:
        latex = self.unary()
        while self.peek() in ("*", "/"):
            latex += f" {self.take()[1]} {self.unary()}"
        return latex

    def unary(self) -> str:
        if self.peek() not in ("+", "-"):
            return self.power()
        sign = self.take()[1]
        self.nest()
        operand = self.unary()
        self.depth -= 1
        return f"{{-{operand}}}" if sign == "-" else operand

    def power(self) -> str:
        base = self.atom()
        if self.peek() not in ("^", "**"):
            return base
        self.take()
        self.nest()
        exponent = self.unary()
        self.depth -= 1
        return f"{{{base}^{{{exponent}}}}}"

    def atom(self) -> str:
        kind, text, position = self.take()
        if kind == "number":
            return self.number(text)
        if kind == "name":
            if text in FUNCTIONS:
                return self.application(text)
            if text not in self.known:
                raise GraphError(f"node {self.node}: '{text}' is not an input, a parameter or an earlier node")
            return rf"{{\text{{{text}}}}}"
        if text == "(":
            self.nest()
            inner = self.expression()
            self.depth -= 1
            self.expect(")", position)
            return f"{{{inner}}}"
        self.fail(f"expected a number, a name or '(' but found {text!r} at character {position + 1}")

    def expect(self, wanted: str, opened: int) -> None:
        if self.peek() != wanted:
            found = repr(self.peek()) if self.peek() else "the end"
            self.fail(f"the '(' at character {opened + 1} is not closed (found {found})")
        self.take()

    def application(self, function: str) -> str:
        if self.peek() != "(":
            self.fail(f"{function} is a function: write {function}(...)")
        opened = self.take()[2]
        self.nest()
        arguments = [] if self.peek() == ")" else [self.expression()]
        while self.peek() == ",":
            self.take()
            arguments.append(self.expression())
        self.depth -= 1
        self.expect(")", opened)
        wanted = arity(function)
        if len(arguments) != wanted:
            names = ", ".join(map(str, FUNCTIONS[function].variables))
            raise GraphError(f"node {self.node}: {function} takes {wanted} argument{'s' if wanted > 1 else ''} "
                             f"({function}({names})), not {len(arguments)}")
        return rf"{{\operatorname{{{function}}}({', '.join(arguments)})}}"

    def number(self, text: str) -> str:
        mantissa, _, exponent = text.lower().partition("e")
        digits = len(mantissa.replace(".", "")) + abs(int(exponent or 0))
        limits.check("backprop.digits", digits, f"node {self.node}", f"digits of the number {text}")
        value = Fraction(text)
        return f"{{{value.numerator}}}" if value.denominator == 1 else \
            rf"{{\frac{{{value.numerator}}}{{{value.denominator}}}}}"
