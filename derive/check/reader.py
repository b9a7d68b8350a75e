"""Reading a student's LaTeX in the course's notation into SymPy, without ever evaluating it.

A small recursive-descent parser: it builds SymPy objects directly from tokens and resolves
every name through the problem's :class:`~derive.check.table.ReadingTable`, so ``\\sigma``,
a bare ``\\sigma``, ``\\theta(x)``, primes, ``\\frac{\\partial L}{\\partial w_1}``,
``\\operatorname{Var}(W)``, ``n_{\\text{in}}``, ``\\delta_{ik}``, ``\\sum_j`` and ``cases`` all
mean what the course means. What it cannot read raises :class:`ReadError` with the position.

It is longer than the project's other modules on purpose: it is one grammar (tokens,
expressions, commands, names), and a recursive-descent parser split across files would be
harder to follow than one read top to bottom.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from .table import ReadingTable, argument_keys, name_key

MAX_LENGTH, MAX_DEPTH, MAX_DIGITS, MAX_TOWER, MAX_TERMS = 2000, 60, 2000, 3, 10_000

UNICODE = {"−": "-", "–": "-", "·": r"\cdot ", "×": r"\times ", "≤": r"\le ", "≥": r"\ge ", "≠": r"\ne ",
           "σ": r"\sigma ", "α": r"\alpha ", "δ": r"\delta ", "θ": r"\theta ", "φ": r"\varphi ",
           "Φ": r"\Phi ", "π": r"\pi ", "∂": r"\partial ", "ŷ": r"\hat{y}", "√": r"\sqrt ", "∑": r"\sum "}
DROPPED = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|bigg|Bigg|displaystyle|textstyle|limits)(?![a-zA-Z])")
SPACES = re.compile(r"(?<!\\)\\(?:[,;:! ]|(?:quad|qquad|enspace|thinspace)(?![a-zA-Z]))|~")
ANNOTATION = re.compile(r"\\text\{[^{}]*[^A-Za-z0-9_\\{}][^{}]*\}\s*$")
CHINESE_OTHERWISE = re.compile(r"\\(?:text|mathrm)\{\s*(?:否则|其他|其它|其余)\s*\}")
TOKEN = re.compile(r"(?P<number>\d+(?:\.\d+)?|\.\d+)|(?P<command>\\(?:[a-zA-Z]+|.))|(?P<letter>[a-zA-Z])"
                   r"|(?P<symbol>[-+*/^_()\[\]{}=,'!|<>&.:;])|(?P<space>\s+)")
GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "phi", "varphi", "chi", "psi", "omega", "Phi",
         "Sigma", "Delta", "Theta", "Lambda", "Omega", "Psi"}
BUILTIN = {"sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
           "sech": sp.sech, "csch": sp.csch, "coth": sp.coth, "exp": sp.exp, "ln": sp.log, "log": sp.log,
           "sign": sp.sign, "sgn": sp.sign, "erf": sp.erf}
RELATIONS = {"<": sp.StrictLessThan, ">": sp.StrictGreaterThan, "le": sp.LessThan, "leq": sp.LessThan,
             "ge": sp.GreaterThan, "geq": sp.GreaterThan, "=": sp.Eq, "ne": sp.Ne, "neq": sp.Ne}
NAME_WRAPPERS = {"text", "mathrm", "operatorname", "mathit", "mathsf", "textrm", "rm"}
OTHERWISE = {"otherwise", "else", "否则", "其他"}


class ReadError(ValueError):
    """An answer that cannot be read; ``position`` is where reading stopped (or None).

    ``refused`` marks input refused on purpose (too long, too deep, too large, control
    characters), which no other reader may try either.
    """

    def __init__(self, message: str, position: int | None = None, refused: bool = False):
        super().__init__(message)
        self.position = position
        self.refused = refused


@dataclass
class Reading:
    """What an answer says: its sides (``lhs = ... = rhs``) and what the reader noticed."""

    sides: list[sp.Basic]
    notes: list[str] = field(default_factory=list)

    @property
    def value(self) -> sp.Basic:
        """The right-most side: the answer's value."""
        return self.sides[-1]

    @property
    def lhs(self) -> sp.Basic | None:
        """The left-most side when the answer is an equation."""
        return self.sides[0] if len(self.sides) > 1 else None


def normalize(text: str) -> str:
    """Strip presentation (math delimiters, spacing, sizing, a trailing period) and map Unicode."""
    if len(text) > MAX_LENGTH:
        raise ReadError(f"the answer is {len(text)} characters long; at most {MAX_LENGTH} are read", refused=True)
    for position, character in enumerate(text):
        if unicodedata.category(character) in ("Cc", "Cf") and character not in "\n\t\r":
            raise ReadError(f"invisible control character U+{ord(character):04X}", position, refused=True)
    text = "".join(UNICODE.get(c, c) for c in text).strip()
    for start, end in (("$$", "$$"), ("$", "$"), (r"\(", r"\)"), (r"\[", r"\]")):
        if text.startswith(start) and text.endswith(end) and len(text) >= len(start) + len(end):
            text = text[len(start):len(text) - len(end)].strip()
    text = DROPPED.sub("", SPACES.sub(" ", CHINESE_OTHERWISE.sub(r"\\text{otherwise}", text)))
    text = _unwrap(text, r"\boxed")
    text = re.sub(r"\\[dtc]frac(?![a-zA-Z])", r"\\frac", text).replace(r"\div", "/")
    text = ANNOTATION.sub(" ", text)
    text = re.sub(r"\\mathrm\{d\}", "d", text)
    text = re.sub(r"\^\{?\\prime\}?", "'", text)
    text = re.sub(r"(?<![A-Za-z])\{(\\?[A-Za-z]+(?:\^\{\([^{}]*\)\})?)\}_", r"\1_", text)  # {p}_{i}, {W^{(l)}}_{ij}
    text = re.sub(r"\\(operatorname|mathrm)\{var\}", r"\\\1{Var}", text)
    return re.sub(r"[\s.,;]+$", "", text)


def tokenize(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, position) tokens; any character outside LaTeX math is an error."""
    tokens, position = [], 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match:
            raise ReadError(f"unexpected character {text[position]!r}", position)
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group(), position))
        position = match.end()
    return tokens


class Parser:
    """One answer's parse; see :func:`read`."""

    def __init__(self, text: str, table: ReadingTable):
        self.tokens = tokenize(text)
        self.table = table
        self.index = 0
        self.depth = 0
        self.notes: list[str] = []
        self.bound: dict[str, sp.Symbol] = {}
        self.towers = 0

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
    def answer(self) -> Reading:
        if not self.tokens:
            raise ReadError("the answer is empty")
        sides = [self.expression()]
        while self.at("="):
            self.take()
            sides.append(self.expression())
        if self.peek()[0] != "end":
            raise self.fail(f"cannot read '{self.peek()[1]}' here")
        return Reading(sides, self.notes)

    def expression(self) -> sp.Basic:
        self.nest()
        terms = [self.signed()]
        while self.at("+", "-"):
            sign = -1 if self.take()[1] == "-" else 1
            terms.append(sign * self.term())
        self.depth -= 1
        return sp.Add(*terms)

    def signed(self) -> sp.Basic:
        sign = 1
        while self.at("-", "+"):
            sign *= -1 if self.take()[1] == "-" else 1
        return sign * self.term()

    def term(self) -> sp.Basic:
        result = self.power()
        while True:
            if self.at(r"\cdot", r"\times", "*"):
                self.take()
                result = result * self.power()
            elif self.at("/"):
                self.take()
                result = result / self.power()
            elif self.starts_factor():
                result = result * self.power()
            else:
                return result

    def starts_factor(self) -> bool:
        kind, text, _ = self.peek()
        if kind in ("number", "letter") or text in ("(", "[", "{"):
            return True
        return kind == "command" and text not in (r"\cdot", r"\times", r"\end", r"\over", r"\le", r"\leq", r"\ge",
                                                   r"\geq", r"\ne", r"\neq", r"\\", r"\to", r"\approx")

    def power(self) -> sp.Basic:
        base = self.postfix(self.primary())
        if self.at("^"):
            self.take()
            self.towers += 1
            if self.towers > MAX_TOWER:
                raise self.fail(f"powers nested more than {MAX_TOWER} deep", refused=True)
            exponent = self.signed_group()
            self.towers -= 1
            base = _pow(base, exponent, self)
            base = self.postfix(base)
        return base

    def signed_group(self) -> sp.Basic:
        if self.at("-"):
            self.take()
            return -self.group_or_single()
        return self.group_or_single()

    def postfix(self, value: sp.Basic) -> sp.Basic:
        while self.at("!"):
            self.take()
            if value.is_Number and (not value.is_Integer or value > 1000 or value < 0):
                raise self.fail("factorial of a number that is too large or not a whole number", refused=True)
            value = sp.factorial(value)
        return value

    def group_or_single(self) -> sp.Basic:
        """A {group} or a single token (as in x^2, \\frac12)."""
        if self.at("{"):
            return self.braced()
        kind, text, position = self.take()
        if kind == "number" and len(text) > 1 and "." not in text:
            self.index -= 1
            self.tokens[self.index] = (kind, text[1:], position + 1)
            return _number(text[0], position)
        if kind == "number":
            return _number(text, position)
        if kind == "letter":
            self.index -= 1
            return self.identifier()
        if kind == "command":
            self.index -= 1
            return self.primary()
        raise ReadError(f"expected an argument but found '{text or 'the end'}'", position)

    def braced(self) -> sp.Basic:
        self.expect("{")
        value = self.expression()
        if self.at(r"\over"):
            self.take()
            value = value / self.expression()
        self.expect("}")
        return value

    def primary(self) -> sp.Basic:
        kind, text, position = self.peek()
        if kind == "number":
            self.take()
            return _number(text, position)
        if text in ("(", "["):
            self.take()
            value = self.expression()
            self.expect(")" if text == "(" else "]")
            return value
        if text == "{":
            return self.braced()
        if text == "|":
            self.take()
            value = self.expression()
            self.expect("|")
            return sp.Abs(value)
        if kind == "letter" or (kind == "command" and (text[1:] in GREEK or text[1:] in NAME_WRAPPERS
                                                        or text[1:] in ("hat", "widehat", "mathbb", "mathbf", "nabla"))):
            return self.identifier()
        if kind == "command":
            return self.command()
        raise self.fail(f"cannot read '{text or 'the end'}' here" if text else "the answer ends too early")

    # -- commands ------------------------------------------------------------------
    def command(self) -> sp.Basic:
        _, text, position = self.take()
        name = text[1:]
        if name == "frac":
            return self.fraction()
        if name == "sqrt":
            index = None
            if self.at("["):
                self.take()
                index = self.expression()
                self.expect("]")
            radicand = self.group_or_single()
            return sp.sqrt(radicand) if index is None else sp.root(radicand, index)
        if name == "boxed":
            return self.braced()
        if name == "sum":
            return self.summation()
        if name == "int":
            return self.integral()
        if name == "infty":
            return sp.oo
        if name == "begin":
            return self.cases()
        if name in BUILTIN or name in self.table.functions:
            return self.application(name)
        if name == "pi":
            return sp.pi
        if name in ("max", "min"):
            self.expect("(")
            arguments = [self.expression()]
            while self.at(","):
                self.take()
                arguments.append(self.expression())
            self.expect(")")
            return (sp.Max if name == "max" else sp.Min)(*arguments)
        raise ReadError(f"unknown command {text}", position)

    def fraction(self) -> sp.Basic:
        derivative = self.derivative_fraction()
        if derivative is not None:
            return derivative
        numerator = self.group_or_single()
        denominator = self.group_or_single()
        if denominator == 0:
            raise self.fail("division by zero")
        return numerator / denominator

    def derivative_fraction(self) -> sp.Basic | None:
        """\\frac{\\partial A}{\\partial B}, \\frac{dA}{dB}, \\frac{d}{dx}(...), with orders."""
        start = self.index
        if not self.at("{"):
            return None
        close = self.matching(start)
        inner = self.tokens[start + 1:close]
        if not inner or inner[0][1] not in (r"\partial", "d") or close + 1 >= len(self.tokens):
            return None
        if inner[0][1] == "d" and len(inner) > 1 and inner[1][1] == "_":
            return None
        below = self.tokens[close + 1:self.matching(close + 1) + 1]
        if len(below) < 3 or below[1][1] != inner[0][1]:
            return None
        self.index = start + 2
        order = 1
        if self.at("^"):
            self.take()
            order = int(self.group_or_single())
        top = None if self.at("}") else self.expression()
        self.expect("}")
        self.expect("{")
        self.take()
        variable_start = self.index
        variable = self.identifier()
        variable_key = name_key("".join(t[1] for t in self.tokens[variable_start:self.index]))
        if self.at("^"):
            self.take()
            self.group_or_single()
        self.expect("}")
        if top is None:
            top = self.term()
        key = f"d({_key_of(top)})/d({variable_key})"
        if order == 1 and key in self.table.derivatives:
            return self.table.derivatives[key]
        function = next(iter(top.atoms(sp.core.function.AppliedUndef)), None)
        if isinstance(top, sp.FunctionClass):
            top = top(self.table.defaults[top])
        if function is not None and top == function and function.args[0] != variable:
            top = function.func(variable)
        return sp.Derivative(top, (variable, order))

    def matching(self, start: int) -> int:
        """The index of the brace that closes the one at ``start``."""
        level = 0
        for index in range(start, len(self.tokens)):
            level += {"{": 1, "}": -1}.get(self.tokens[index][1], 0)
            if level == 0:
                return index
        raise ReadError("a '{' is never closed", self.tokens[start][2])

    def application(self, name: str) -> sp.Basic:
        """A function: \\sigma(x), bare \\sigma, \\tanh^2 x, \\sigma'(z), \\log(...)."""
        function = self.table.functions.get(name) or BUILTIN[name]
        if name == "log" and not self.table.log_base_e:
            function = lambda argument: sp.log(argument, 10)  # noqa: E731 - a per-course option
        primes, exponent = self.primes(), None
        if self.at("^"):
            self.take()
            exponent = self.signed_group()
            primes += self.primes()
        if self.at("("):
            argument = self.parenthesized_argument(function)
        elif function in self.table.defaults and not self.starts_argument():
            argument = self.table.defaults[function]
        elif self.starts_factor():
            argument = self.power()
        else:
            raise self.fail(f"\\{name} needs an argument")
        if argument is None:
            value = self.table.defaults[function]
            value = function(value) if not primes else _derivative(function, value, primes)
            return value ** exponent if exponent is not None else value
        if isinstance(argument, sp.Tuple):
            value = function(*argument.args)
        else:
            value = function(argument) if not primes else _derivative(function, argument, primes)
        return value ** exponent if exponent is not None else value

    def parenthesized_argument(self, function) -> sp.Basic | None:
        """The argument in parentheses, or None when a bare function multiplies a bracket: \\sigma(1-\\sigma)."""
        start = self.index
        self.take()
        argument = self.expression()
        if self.at(","):
            arguments = [argument]
            while self.at(","):
                self.take()
                arguments.append(self.expression())
            self.expect(")")
            return sp.Tuple(*arguments)
        self.expect(")")
        bare = self.table.defaults.get(function)
        if bare is not None and argument != bare and argument.has(function(bare)) and not argument.is_Symbol:
            self.index = start
            self.notes.append("bare-function-times-bracket")
            return None
        return argument

    def starts_argument(self) -> bool:
        """Whether what follows a function name is its argument (sigma x); a named function of the
        problem is not (sigma sigma' is a product of two bare functions)."""
        kind, text, _ = self.peek()
        if kind == "command" and text[1:] in self.table.functions:
            return False
        return kind in ("number", "letter") or text in ("(",) or (
            kind == "command" and (text[1:] in GREEK or text[1:] in NAME_WRAPPERS or text == r"\hat"))

    def primes(self) -> int:
        count = 0
        while self.at("'") or (self.at("^") and self.peek(1)[1] == r"\prime"):
            if self.take()[1] == "^":
                self.take()
            count += 1
        return count

    def summation(self) -> sp.Basic:
        """\\sum_{j=1}^{C} body, \\sum_j body (bounds 1..C by default)."""
        self.expect("_")
        braced = self.at("{")
        if braced:
            self.take()
        name = self.take()[1]
        index = sp.Dummy(name, integer=True, positive=True)
        low, high = sp.Integer(1), self.table.names.get("C")
        if self.at("="):
            self.take()
            low = self.expression() if braced else self.group_or_single()
        if braced:
            self.expect("}")
        if self.at("^"):
            self.take()
            high = self.group_or_single()
        if high is None:
            raise self.fail("a sum needs an upper bound here")
        if (high - low).is_Number and high - low > MAX_TERMS:
            raise self.fail(f"a sum of more than {MAX_TERMS} terms", refused=True)
        outer = self.bound.get(name)
        self.bound[name] = index
        body = self.term()
        self.bound.pop(name) if outer is None else self.bound.__setitem__(name, outer)
        return sp.Sum(body, (index, low, high))

    def integral(self) -> sp.Basic:
        """\\int_{a}^{b} body dz: the body is read up to its d<variable>, at its own level."""
        low = high = None
        if self.at("_"):
            self.take()
            low = self.group_or_single()
        if self.at("^"):
            self.take()
            high = self.group_or_single()
        depth, stop = 0, None
        for index in range(self.index, len(self.tokens) - 1):
            text = self.tokens[index][1]
            depth += {"{": 1, "(": 1, "[": 1, "}": -1, ")": -1, "]": -1}.get(text, 0)
            if depth < 0:
                break
            if depth == 0 and text == "d" and self.tokens[index + 1][0] == "letter" and index > self.index:
                stop = index
                break
        if stop is None:
            raise self.fail("an integral needs its d<variable> (dz)")
        tokens, self.tokens = self.tokens, self.tokens[:stop]
        try:
            body = self.expression()
            if self.peek()[0] != "end":
                raise self.fail(f"cannot read '{self.peek()[1]}' in the integral")
        finally:
            self.tokens = tokens
        name = self.tokens[stop + 1][1]
        self.index = stop + 2
        variable = self.table.names.get(name)
        if not isinstance(variable, sp.Symbol):
            variable = sp.Symbol(name, real=True)
        if (low is None) != (high is None):
            raise self.fail("an integral needs both bounds or neither")
        return sp.Integral(body, (variable, low, high)) if low is not None else sp.Integral(body, variable)

    def cases(self) -> sp.Basic:
        """\\begin{cases} value & condition \\\\ ... \\end{cases}, compared branch by branch."""
        self.expect("{")
        environment = "".join(self.take()[1] for _ in range(5))
        if environment != "cases":
            raise self.fail(f"unknown environment '{environment}'")
        self.expect("}")
        branches = []
        while not self.at(r"\end"):
            value = self.expression()
            if self.at(","):
                self.take()
            self.expect("&")
            branches.append((value, self.condition()))
            while self.at(",", ".", ";"):
                self.take()
            if self.at(r"\\"):
                self.take()
        self.take()
        self.expect("{")
        closing = "".join(self.take()[1] for _ in range(5))
        if closing != "cases":
            raise self.fail(f"\\begin{{cases}} is closed by \\end{{{closing}...}}")
        self.expect("}")
        return sp.Piecewise(*branches)

    def condition(self) -> sp.Basic:
        words = []
        while self.peek()[1] in (r"\text", r"\mathrm", r"\quad") or self.peek()[1] in ("if", "for"):
            self.take()
            if self.at("{"):
                self.take()
                while not self.at("}"):
                    words.append(self.take()[1])
                self.take()
        if "".join(words).strip() in OTHERWISE or self.at(r"\\", r"\end"):
            return sp.true
        left = self.expression()
        kind, text, position = self.take()
        relation = RELATIONS.get(text) or RELATIONS.get(text[1:])
        if relation is None:
            raise ReadError(f"expected a condition such as x > 0, found '{text}'", position)
        right = self.expression()
        return relation(left, right)

    # -- names ---------------------------------------------------------------------
    def identifier(self) -> sp.Basic:
        """A name with its subscript, resolved through the table: n_{\\text{in}}, \\hat y, p_k, M_{l-1}."""
        start = self.index
        kind, text, position = self.take()
        if text in (r"\hat", r"\widehat"):
            base = f"hat({self.name_text()})"
        elif text[1:] in NAME_WRAPPERS:
            base = name_key(self.name_text())
        elif text in (r"\mathbb", r"\mathbf"):
            base = name_key(self.name_text())
        elif text == r"\nabla":  # \nabla W^{(l)}: a gradient named in the notation table
            kind, following, _ = self.take()
            base = "nabla" + (self.letters(following) if kind == "letter" else following.lstrip("\\"))
        elif kind == "letter":
            base = self.letters(text)
        else:
            base = text[1:]
        if base in BUILTIN or base in self.table.functions:
            return self.application(base)
        if base in ("Var", "E"):
            return self.statistic(base, position)
        if base in ("1", "I") and self.at("[", "_"):
            return self.indicator()
        if base == "softmax":
            return self.softmax()
        if base == "e" and "e" not in self.table.names and not self.at("_"):
            return sp.E
        if base == "pi":
            return sp.pi
        labeled = self.with_label(base)  # z^{(l)}_j: a layer label before the subscript
        subscript = ""
        if self.at("_"):
            self.take()
            subscript_start = self.index
            self.group_or_single() if not self.at("{") else self.skip_group()
            subscript = " ".join(t[1] for t in self.tokens[subscript_start:self.index])
        if labeled == base and subscript:
            labeled = self.with_label(base)  # z_j^{(l)}: the label after it
        if labeled != base and isinstance(self.table.names.get(labeled), sp.IndexedBase) and subscript:
            return self.entry(self.table.names[labeled], subscript)
        key = name_key(f"{labeled}_{{{subscript}}}") if subscript else labeled
        key = self.with_label(key)
        written = "".join(t[1] for t in self.tokens[start:self.index])
        return self.resolve(key, base, subscript, written)

    def entry(self, family: sp.IndexedBase, subscript: str) -> sp.Basic:
        """An entry of an indexed family: x_k, W_{kj} (two one-letter indices), W_{k,j}, z_{(i-u)(j-v)}."""
        text = subscript.strip()
        if text.startswith("{") and text.endswith("}"):
            text = text[1:-1].strip()
        pieces = text.split()
        if "," in text:
            parts = [p.strip() for p in text.split(",")]
        elif len(pieces) == 2 and all(len(p) == 1 and p.isalnum() for p in pieces):
            parts = pieces
        elif text.startswith("(") and text.endswith(")") and ")(" in text.replace(" ", ""):
            compact = text.replace(" ", "")
            parts = compact[1:-1].split(")(", 1)
        else:
            parts = [text]
        indices = []
        for part in parts:
            inner = Parser(part, self.table)
            inner.bound = self.bound
            indices.append(inner.expression_only())
        return family[tuple(indices)] if len(indices) > 1 else family[indices[0]]

    def with_label(self, key: str) -> str:
        """x^{(l)}: a superscript label belongs to the name when the table knows the name so."""
        if self.at("^") and self.peek(1)[1] == "{" and self.peek(2)[1] == "(":
            end = self.matching(self.index + 1)
            label = name_key("".join(t[1] for t in self.tokens[self.index + 1:end + 1]))
            if f"{key}^{label}" in self.table.names:
                self.index = end + 1
                return f"{key}^{label}"
        return key

    def resolve(self, key: str, base: str, subscript: str, written: str) -> sp.Basic:
        if key in self.bound:
            return self.bound[key]
        if key in self.table.ambiguous:
            self.notes.append(f"ambiguous:{written}")
            preferred = [s for s in self.table.ambiguous[key] if s in self.table.preferred]
            if preferred:
                return preferred[0]
        if key in self.table.names:
            return self.table.names[key]
        family = self.table.names.get(base)
        if isinstance(family, sp.IndexedBase) and subscript:
            return self.entry(family, subscript)
        if base == "delta" and len(name_key(subscript)) == 2:
            first, second = name_key(subscript)
            return sp.KroneckerDelta(*(self.bound.get(n) or self.table.names.get(n) or self.table.symbol_for(n)
                                       for n in (first, second)))
        if key in ("C", "K") and "C" in self.table.names:
            return self.table.names["C"]
        return self.table.symbol_for(key)

    def expression_only(self) -> sp.Basic:
        value = self.expression()
        if self.peek()[0] != "end":
            raise self.fail("cannot read this index")
        return value

    def letters(self, first: str) -> str:
        """A run of letters is one name when the table knows it (fan, Var, softmax); else one letter."""
        run, index = first, self.index
        while index < len(self.tokens) and self.tokens[index][0] == "letter":
            run += self.tokens[index][1]
            index += 1
        known = set(self.table.names) | set(self.table.functions) | {"Var", "E", "softmax", "exp", "log",
                                                                     "ln", "tanh", "sech", "cosh", "sinh"}
        for length in range(len(run), 1, -1):
            word = run[:length]
            if word in known or any(k.startswith(word + "_") for k in self.table.names):
                self.index += length - 1
                return word
        return first

    def name_text(self) -> str:
        if self.at("{"):
            end = self.matching(self.index)
            text = "".join(t[1] for t in self.tokens[self.index + 1:end])
            self.index = end + 1
            return text
        return self.take()[1]

    def skip_group(self) -> None:
        self.index = self.matching(self.index) + 1

    def statistic(self, operator: str, position: int) -> sp.Basic:
        """Var(W), E[(a^{(l-1)})^2]: a named statistic of the problem."""
        opening = self.take()[1]
        if opening not in ("(", "["):
            raise ReadError(f"{operator} needs its argument in brackets", position)
        start, level = self.index, 1
        while level:
            token = self.take()
            if token[0] == "end":
                raise ReadError(f"{operator}({'...'} is never closed", position)
            level += {"(": 1, "[": 1, ")": -1, "]": -1}.get(token[1], 0)
        argument = "".join(t[1] for t in self.tokens[start:self.index - 1])
        keys = [f"{operator}({key})" for key in argument_keys(argument)]
        for key in keys:
            if key in self.table.statistics:
                return self.table.statistics[key]
        raise ReadError(f"{keys[-1]} is not a quantity of this problem", position)

    def indicator(self) -> sp.Basic:
        """\\mathbb{1}[i=k], \\mathbf{1}_{i=k}: a Kronecker delta."""
        if self.take()[1] == "_":
            self.expect("{")
            left, _, right = self.expression(), self.expect("="), self.expression()
            self.expect("}")
        else:
            left, _, right = self.expression(), self.expect("="), self.expression()
            self.expect("]")
        return sp.KroneckerDelta(left, right)

    def softmax(self) -> sp.Basic:
        """softmax(x)_k: the k-th probability p_k."""
        self.expect("(")
        self.expression()
        self.expect(")")
        self.expect("_")
        family = self.table.names.get("p")
        if not isinstance(family, sp.IndexedBase):
            raise self.fail("softmax is not a quantity of this problem")
        return family[self.group_or_single()]


def _key_of(value: sp.Basic) -> str:
    if isinstance(value, sp.Indexed):
        return f"{value.base}_{value.indices[0]}"
    return str(value).replace("yhat", "hat(y)")


def _number(text: str, position: int) -> sp.Rational:
    if len(text) > MAX_DIGITS:
        raise ReadError("a number with too many digits", position, refused=True)
    value = Fraction(text)
    return sp.Rational(value.numerator, value.denominator)


def _pow(base: sp.Basic, exponent: sp.Basic, parser: Parser) -> sp.Basic:
    """base ** exponent, refusing numbers too large to write down (9^{9^{9^9}})."""
    if base.is_Number and exponent.is_Number and abs(base) > 1:
        if abs(float(exponent)) * float(sp.log(abs(base), 10)) > MAX_DIGITS:
            raise parser.fail("a number too large to compute", refused=True)
    return base**exponent


def _derivative(function, argument: sp.Basic, order: int) -> sp.Basic:
    variable = sp.Dummy("t", real=True)
    return sp.Subs(sp.Derivative(function(variable), (variable, order)), variable, argument).doit() \
        if not isinstance(argument, sp.Symbol) else sp.Derivative(function(argument), (argument, order))


def _unwrap(text: str, command: str) -> str:
    """Remove ``\\command{...}`` wrappers, keeping what they wrap: \\boxed{r = 1} is r = 1."""
    while True:
        start = text.find(command + "{")
        if start < 0:
            return text
        level, end = 0, None
        for index in range(start + len(command), len(text)):
            level += {"{": 1, "}": -1}.get(text[index], 0)
            if level == 0:
                end = index
                break
        if end is None:
            raise ReadError("a '{' is never closed", start)
        text = text[:start] + text[start + len(command) + 1:end] + text[end + 1:]


def read(text: str, table: ReadingTable) -> Reading:
    """Read an answer.

    Args:
        text: the LaTeX a student wrote (untrusted; never evaluated).
        table: the problem's reading table.

    Raises:
        ReadError: the answer cannot be read; the message says why and where.
    """
    return Parser(normalize(text), table).answer()
