"""Commands: fractions and derivatives, function applications, sums, integrals and cases."""

from __future__ import annotations

import sympy as sp

from ..table import name_key
from .tokens import BUILTIN, GREEK, INVERSES, MAX_TERMS, NAME_WRAPPERS, OTHERWISE, RELATIONS, ReadError

#: Commands of ordinary mathematics read by one rule each (sets, floors, ceilings, binomials).
COMMANDS = {"{": lambda parser: parser.set_literal(r"\}"), "emptyset": lambda parser: sp.EmptySet,
            "varnothing": lambda parser: sp.EmptySet,
            "lfloor": lambda parser: parser.delimited(sp.floor, r"\rfloor"),
            "lceil": lambda parser: parser.delimited(sp.ceiling, r"\rceil"),
            "binom": lambda parser: parser.binomial(), "dbinom": lambda parser: parser.binomial(),
            "tbinom": lambda parser: parser.binomial()}


#: An undeclared loss, as the course writes it: its derivatives are left to check-steps (dL/dz is the
#: problem's error delta there), never an unknown of the reader's own.
_LOSS_NAMES = {"L", "E", "J", "mathcalL", "ell"}


class Commands:
    """The parser's rules for LaTeX commands (mixed into :class:`~derive.check.reader.grammar.Parser`)."""

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
            radicand = self.scalar(self.group_or_single(), "take a root of")
            return sp.sqrt(radicand) if index is None else sp.root(radicand, index)
        if name == "boxed":
            return self.braced()
        if name == "sum":
            return self.summation()
        if name == "prod":
            return self.product()
        if name == "int":
            return self.integral()
        if name == "infty":
            return sp.oo
        if name == "begin":
            return self.environment()
        if name in COMMANDS:
            return COMMANDS[name](self)
        if name in BUILTIN or name in self.table.functions:
            return self.application(name)
        if name == "pi":
            return sp.pi
        if name in ("max", "min") and self.at("_") and self.ranged():
            return self.range_extreme(name)
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
        numerator = self.scalar(self.group_or_single(), "divide")
        denominator = self.scalar(self.group_or_single(), "divide")
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
            power = name_key(str(self.group_or_single()))
            # \partial \sigma_B^2: by the problem's quantity written so (batch-norm's variance), never by sigma_B
            if f"{variable_key}^{power}" in self.table.names:
                variable_key = f"{variable_key}^{power}"
                variable = self.table.names[variable_key]
        self.expect("}")
        if top is None:
            top = self.term()
        if order == 1:  # the problem's own gradient, its variable written in any of its names (a for y-hat)
            spellings = [variable_key] + [k for k, v in self.table.names.items() if v == variable and k != variable_key]
            for spelling in spellings:
                key = f"d({_key_of(top)})/d({spelling})"
                if key in self.table.derivatives:
                    return self.table.derivatives[key]
        function = next(iter(top.atoms(sp.core.function.AppliedUndef)), None)
        if isinstance(top, sp.FunctionClass):
            top = top(self.table.defaults[top])
        # df(z_{u+p})/dz_{ij} is f'(z_{u+p}) times Kronecker deltas, as written: only another name is replaced
        if function is not None and top == function and function.args[0] != variable and not _same_family(
                function.args[0], variable):
            top = function.func(variable)
        related = (variable, *top.atoms(sp.Indexed, sp.Symbol))
        # d\ell_n/d\hat{y} (a variable the problem does not declare), dQ/da (a quantity it does not declare)
        named = isinstance(top, (sp.Symbol, sp.Indexed)) and (self.invented(variable) or (
            self.invented(top) and str(top) not in _LOSS_NAMES))  # a loss's dL/dz: the steps' error delta
        if not top.has(variable) and (named or any(_unknown_layer(atom) for atom in related)):
            return _opaque_derivative(top, variable, order)
        return sp.Derivative(top, (variable, order))

    def invented(self, value: sp.Basic) -> bool:
        """Whether a name is none of the problem's (the reader made it up for this answer: y-hat in
        mlp-backprop)."""
        declared = self.table.declared
        if not declared or isinstance(value, sp.Dummy):
            return False
        if isinstance(value, sp.Indexed):
            return value.base not in declared
        return isinstance(value, sp.Symbol) and value not in declared

    def application(self, name: str) -> sp.Basic:
        """A function: \\sigma(x), bare \\sigma, \\tanh^2 x, \\sigma'(z), \\log(...)."""
        function = self.table.functions.get(name) or BUILTIN[name]
        if name == "log" and not self.table.log_base_e:
            function = lambda argument: sp.log(argument, 10)  # noqa: E731 - a per-course option
        if name == "log" and self.at("_"):  # \log_2 x
            self.take()
            base = self.scalar(self.group_or_single(), "use as a base")
            function = lambda argument: sp.log(argument, base)  # noqa: E731
        label = self.layer_label()  # \sigma^{(l)}(z): layer l's activation, the problem's (never a power)
        if label is not None and label[1:-1].isdigit():  # f^{(2)}: the second derivative, or layer 2?
            raise self.fail(f"\\{name}^{label} is ambiguous: write \\{name}'' for a derivative", refused=True)
        primes, exponent = self.primes(), None
        if self.at("^"):
            self.take()
            exponent = self.signed_group()
            primes += self.primes()
        if exponent == -1 and name in BUILTIN and name not in self.table.functions:
            if name not in INVERSES:
                raise self.fail(f"\\{name}^{{-1}} is ambiguous: write 1/\\{name}(...) or the inverse by name",
                                refused=True)
            function, exponent = INVERSES[name], None  # \sin^{-1} x is arcsin x, never 1/sin x
            self.notes.append("inverse")
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
        if isinstance(argument, sp.MatrixBase) and self.sizes and exponent is None:
            return self.elementwise(function, argument, primes)
        if argument is not None and not isinstance(argument, sp.Tuple):
            self.scalar(argument, "apply a function to")
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
        if self.at("{") and self.peek(1)[1] == r"\substack":
            return self.substack_sum()
        braced = self.at("{")
        if braced:
            self.take()
        name = self.take()[1]
        low, high = sp.Integer(1), self.table.names.get("C")
        if self.at("="):
            self.take()
            low = self.expression() if braced else self.group_or_single()
        index = sp.Dummy(name, integer=True, positive=True) if low.is_positive else sp.Dummy(name, integer=True)
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

    def ranged(self) -> bool:
        """Whether the subscript after \\max or \\min (at this '_') gives a range, {u=0}^{K'-1}."""
        return self.peek(1)[1] == "{" and self.peek(2)[0] == "letter" and self.peek(3)[1] == "="

    def range_extreme(self, name: str) -> sp.Basic:
        """\\max_{u=0}^{K'-1} body (\\min likewise): the largest body over the integers of the range, an
        unevaluated :class:`RangeMax` until the bounds are numbers (the verifier's sizes)."""
        self.expect("_")
        self.expect("{")
        variable = self.take()[1]
        self.expect("=")
        low = self.expression()
        self.expect("}")
        if not self.at("^"):
            raise self.fail(f"\\{name} over a range needs its upper bound (^{{...}})")
        self.take()
        high = self.group_or_single()
        if (high - low).is_Number and high - low > MAX_TERMS:
            raise self.fail(f"a {name} of more than {MAX_TERMS} terms", refused=True)
        index = sp.Dummy(variable, integer=True)
        outer = self.bound.get(variable)
        self.bound[variable] = index
        body = self.scalar(self.term(), f"take the {name} of")
        self.bound.pop(variable) if outer is None else self.bound.__setitem__(variable, outer)
        extreme = RangeMax(sp.Lambda(index, body), low, high) if name == "max" else \
            -RangeMax(sp.Lambda(index, -body), low, high)
        return extreme

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
        self.index = stop + 1
        variable = self.integration_variable(name)
        if (low is None) != (high is None):
            raise self.fail("an integral needs both bounds or neither")
        return sp.Integral(body, (variable, low, high)) if low is not None else sp.Integral(body, variable)

    def integration_variable(self, name: str) -> sp.Basic:
        """The variable after an integral's d: z, or a layered one, dz^{(l-1)} (never a power of the
        integral)."""
        if self.peek(1)[1] == "^" and self.peek(2)[1] == "{" and self.peek(3)[1] == "(":
            variable = self.identifier()
            if not isinstance(variable, (sp.Symbol, sp.Indexed)):
                raise self.fail(f"cannot integrate over {variable}")
        else:
            self.take()
            variable = self.table.names.get(name)
            variable = variable if isinstance(variable, sp.Symbol) else sp.Symbol(name, real=True)
        if self.at("^"):
            raise self.fail("the variable after an integral's d cannot carry a power")
        return variable

    def cases(self) -> sp.Basic:
        """The body of \\begin{cases} value & condition \\\\ ... \\end{cases}, compared branch by branch."""
        branches = []
        while not self.at(r"\end"):
            sides = [self.expression()]
            while self.at("="):  # a row A = B & k = i claims A = B under its condition: a Chain of the sides
                self.take()
                sides.append(self.expression())
            value = Chain(*(self.scalar(side, "compare") for side in sides)) if len(sides) > 1 else sides[0]
            if self.at(","):
                self.take()
            self.expect("&")
            branches.append((value, self.condition()))
            while self.at(",", ".", ";"):
                self.take()
            if self.at(r"\\"):
                self.take()
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


def _unknown_layer(value: sp.Basic) -> bool:
    """A quantity at a layer the problem does not name (S_j^{(3)}, z^{(l-1)}): the reader's, never the
    catalog's (no catalog symbol has '^(' in its name)."""
    name = str(value.base) if isinstance(value, sp.Indexed) else str(value)
    return "^(" in name


def _opaque_derivative(top: sp.Basic, variable: sp.Basic, order: int) -> sp.Basic:
    """dS_j^{(3)}/dw_{ij}^{(3)} between quantities the problem does not relate: an unknown of its own (an
    entry over both names' indices), never the 0 that SymPy gives for independent symbols (0 = 0 would
    accept any chain of them)."""
    names = [str(e.base) if isinstance(e, sp.Indexed) else str(e) for e in (top, variable)]
    indices = [i for e in (top, variable) if isinstance(e, sp.Indexed) for i in e.indices]
    family = sp.IndexedBase(f"d{'^' + str(order) if order > 1 else ''}({names[0]})/d({names[1]})", real=True)
    return family[tuple(indices)] if indices else sp.Symbol(family.name, real=True)


def _same_family(argument: sp.Basic, variable: sp.Basic) -> bool:
    """Whether two entries belong to one family (z_{u+p, v+q} and z_{ij})."""
    return (isinstance(argument, sp.Indexed) and isinstance(variable, sp.Indexed)
            and argument.base == variable.base)


def _key_of(value: sp.Basic) -> str:
    if isinstance(value, sp.Indexed):
        return f"{value.base}_{value.indices[0]}"
    return str(value).replace("yhat", "hat(y)")



def _derivative(function, argument: sp.Basic, order: int) -> sp.Basic:
    variable = sp.Dummy("t", real=True)
    return sp.Subs(sp.Derivative(function(variable), (variable, order)), variable, argument).doit() \
        if not isinstance(argument, sp.Symbol) else sp.Derivative(function(argument), (argument, order))


class RangeMax(sp.Function):
    """max over k = low..high of body(k) (\\max_{u=0}^{K'-1} z_{i+u}): unevaluated while a bound is a
    symbol (K'), SymPy's Max of the terms once both are integers (the verifier's sizes)."""

    #: the most terms expanded into one Max (a larger range stays unevaluated, never guessed)
    EXPAND = 400

    @classmethod
    def eval(cls, body, low, high):
        """Max of the terms when the bounds are integers; None (unevaluated) otherwise."""
        if not (isinstance(body, sp.Lambda) and low.is_Integer and high.is_Integer):
            return None
        if high < low:
            raise ValueError("a max over an empty range")
        if high - low >= cls.EXPAND:
            return None
        return sp.Max(*(body(k) for k in range(int(low), int(high) + 1)))

    @property
    def free_symbols(self) -> set:
        """The bounds' and the body's names, without those of the range's own index (z_{i+u} for u)."""
        body, low, high = self.args
        inside = {name for name in body.expr.free_symbols if not name.has(body.variables[0])}
        return inside | low.free_symbols | high.free_symbols

    def _latex(self, printer) -> str:
        body, low, high = self.args
        variable = body.variables[0]
        return (rf"\max_{{{printer._print(variable)} = {printer._print(low)}}}^{{{printer._print(high)}}} "
                rf"{printer._print(body.expr)}")


class Chain(sp.Function):
    """A row A = B = C of a cases block (seed 001 2.2's 1 - exp(x_k)/sum = 1 - softmax(x)_k & k = i): its
    value is its last side where every side agrees, and where a side A differs from the last B the value
    2A - B, equal to neither (so a wrong claim A = B makes the line wrong whichever side is right; NaN
    would only drop the point). Unevaluated while a side is symbolic."""

    #: relative difference under which two numeric sides agree (the verifier evaluates at 30 digits)
    TOLERANCE = sp.Float("1e-12")

    @classmethod
    def eval(cls, *sides):
        """The last side when all sides agree (as written, or as numbers); 2A - B when A and B differ."""
        if all(side == sides[-1] for side in sides):
            return sides[-1]
        if not all(side.is_number and side.is_comparable for side in sides):
            return None
        return cls._agreed(sides)

    @classmethod
    def _agreed(cls, sides) -> sp.Basic:
        scale = max([sp.Integer(1), *(abs(side) for side in sides)])
        last = sides[-1]
        for side in sides[:-1]:
            if abs(side - last) > cls.TOLERANCE * scale:
                return 2 * side - last  # equal to neither side: whichever is right, the row is not
        return last

    def _eval_evalf(self, prec):
        sides = [side.evalf(prec) for side in self.args]
        if not all(side.is_number and side.is_comparable for side in sides):
            return None
        return self._agreed(sides)

    def _latex(self, printer) -> str:
        return " = ".join(printer._print(side) for side in self.args)
