"""Mathematics in a sheet spec's text: ``$...$`` spans in a ``statement`` or a title.

A span is read by the checker's course reader (:mod:`derive.check.reader`, the parser of a
student's LaTeX) into SymPy and printed again by :class:`derive.printing.NotationLatexPrinter`:
what reaches TeX is the printer's LaTeX of a formula, never a command the user wrote. Text
outside the spans is escaped (:func:`derive.printing.tex_escape`); ``\\$`` is a literal dollar.
A span the reader cannot read (``$\\input{f}$``, an unclosed ``$``, a span too long) is a
:class:`StatementError`, one line naming the span.

Decimals print as written (``0.2``, not 1/5), ``\\hat y`` as a hat, and a product of numbers
keeps its factors (``3 \\times 3``): the reader reads without evaluating where it can.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import sympy as sp

from .errors import UsageError
from .printing import NotationLatexPrinter, named_function_derivative, tex_escape

#: Control words the printer may write; anything else in its output refuses the span (a second
#: wall behind the reader: no command of the user's can come out).
_ALLOWED = {
    "frac", "dfrac", "left", "right", "cdot", "times", "hat", "text", "mathrm", "operatorname", "mathbf",
    "mathbb", "sqrt", "sum", "prod", "int", "infty", "leq", "geq", "neq", "le", "ge", "ne", "lt", "gt", "in",
    "begin", "end", "matrix", "pmatrix", "bmatrix", "cases", "log", "ln", "exp", "sin", "cos", "tan", "sinh",
    "cosh", "tanh", "max", "min", "partial", "quad", "qquad", "mathit", "limits", "equiv",
    "approx", "pm", "mp", "prime", "ldots", "cdots", "dots", "lfloor", "rfloor", "lceil", "rceil", "vert",
    "lvert", "rvert", "mid", "wedge", "vee", "land", "lor", "neg", "emptyset", "varnothing", "cup", "cap",
    "setminus", "subseteq", "subset", "to", "rightarrow", "mapsto", "nabla", "odot", "circ", "top", "intercal",
    "textbackslash", "textasciitilde", "sign", "delta", "overline", "big", "Big",
    "bar", "tilde", "vec", "dot", "ddot", "boldsymbol", "mathcal", "erf", "arcsin", "arccos", "arctan",
    "alpha", "beta", "gamma", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}
_CONTROL = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
#: \big or \Big other than the printer's bar of a value at a point (f(x)\big|_{x=0})
_LOOSE_BIG = re.compile(r"\\[bB]ig(?!\|_\{)")
_DECIMAL = re.compile(r"(?<![\d.])(\d*\.\d+)")
_HAT = re.compile(r"hat\(([A-Za-z])\)")
_UNSAFE_NAME = re.compile(r"[\\{}^%#&~$]")
#: the reader's layer label at a name's end, S^(3) (letters, digits, + and - only): never a command
_LAYER = re.compile(r"\^\([A-Za-z0-9+\- ]{1,8}\)$")
#: Names a statement applies as functions where an argument list follows (``\\theta(u)``, ``\\text{ReLU}(x)``).
FUNCTIONS = ("sigma", "theta", "phi", "varphi", "psi", "ReLU", "relu", "softmax", "Softmax")
#: How many formulas one statement or title may hold.
MAX_SPANS = 200
#: How much of a span an error message quotes.
QUOTED = 60


class StatementError(UsageError):
    """A ``$...$`` span of a statement or title that cannot be read as mathematics."""


def parts(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into ``(is_math, piece)``: text outside the spans (``\\$`` a literal dollar)
    and the spans' contents. An unclosed or empty span is a :class:`StatementError`."""
    pieces, current, math, opened = [], [], False, 0
    index = 0
    while index < len(text):
        character = text[index]
        if character == "\\" and text[index + 1:index + 2] == "$" and not math:
            current.append("$")
            index += 2
            continue
        if character == "$":
            if math and not current:
                raise StatementError("an empty formula '$$' (write the formula between one pair of '$')")
            pieces.append((math, "".join(current)))
            current, math, opened = [], not math, index
        else:
            current.append(character)
        index += 1
    if math:
        raise StatementError(f"an unclosed '$' at character {opened + 1}: '{_quoted(text[opened:])}'")
    pieces.append((False, "".join(current)))
    return [(is_math, piece) for is_math, piece in pieces if piece or is_math]


def _quoted(span: str) -> str:
    """A span for a one-line message: whitespace as single spaces, cut at :data:`QUOTED` characters."""
    span = " ".join(span.split())
    return span if len(span) <= QUOTED else span[:QUOTED] + "…"


class _StatementPrinter(NotationLatexPrinter):
    """The notation printer, with decimals as the span wrote them and ``hat(y)`` as a hat."""

    def __init__(self, quantities: Iterable, decimals: dict[sp.Rational, str]):
        super().__init__(quantities)
        self._decimals = decimals
        self._settings["mul_symbol_latex_numbers"] = r" \times "

    def _print_Rational(self, expr):
        return self._decimals.get(expr) or super()._print_Rational(expr)

    def _print_Float(self, expr):
        return self._decimals.get(sp.Rational(str(expr))) or super()._print_Float(expr)

    def _print_Mul(self, expr):
        """An unevaluated -1 factor (the reader's -0.5) as a minus sign; a factor 1 left out."""
        if not isinstance(expr, sp.Mul):  # the printer's 1/x: a power, printed as a fraction
            return super()._print_Mul(expr)
        if _written_product(expr):  # 1 \times 1 (a kernel's size) as written
            return r" \times ".join(self._print(factor) for factor in expr.args)
        if sp.S.One in expr.args and len(expr.args) > 1:
            rest = [arg for arg in expr.args if arg is not sp.S.One] or [sp.S.One]
            return self._print(rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False))
        if sp.S.NegativeOne in expr.args:
            rest = list(expr.args)
            rest.remove(sp.S.NegativeOne)
            inner = rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
            shown = self._print(inner)
            return "-" + (rf"\left({shown}\right)" if isinstance(inner, sp.Add) else shown)
        return super()._print_Mul(expr)

    def _print_Subs(self, expr):
        """A named function's derivative at a point as written: ``\\sigma'(0)``, ``f''(1)`` (not
        ``\\sigma'(t)`` with a bar at t = 0)."""
        body, old, new = expr.args
        named = named_function_derivative(body) if isinstance(body, sp.Derivative) else None
        if named and len(old) == 1 and old[0] == named[1]:
            function, _, order = named
            return f"{self._function_name(function)}{self._primes(order)}({self._print(new[0])})"
        return super()._print_Subs(expr)

    def _print_log(self, expr, exp=None):
        """A logarithm read unevaluated with its base (\\log_2 x) keeps the base."""
        if len(expr.args) == 2:
            shown = rf"\log_{{{self._print(expr.args[1])}}}\left({self._print(expr.args[0])}\right)"
            return rf"\left({shown}\right)^{{{exp}}}" if exp else shown
        return super()._print_log(expr, exp)

    def _print_Symbol(self, expr, style="plain"):
        layer = _LAYER.search(expr.name)
        if layer:  # the reader's S^(3): the name, then its layer label as the course writes it
            return rf"{self._print(sp.Symbol(expr.name[:layer.start()]))}^{{{layer.group()[1:]}}}"
        hat = _HAT.fullmatch(expr.name)
        if hat and expr not in self._settings["symbol_names"]:
            return rf"\hat{{{hat[1]}}}"
        return super()._print_Symbol(expr, style)


    def _print_Indexed(self, expr):
        """S^(3)[j] as S_{j}^{(3)}: the indices, then the layer label."""
        layer = _LAYER.search(str(expr.base.label))
        if not layer:
            return super()._print_Indexed(expr)
        indices = "".join(self._print(index) for index in expr.indices)
        name = self._print(sp.Symbol(str(expr.base.label)[:layer.start()]))
        return rf"{name}_{{{indices}}}^{{{layer.group()[1:]}}}"


def _written_product(product: sp.Mul) -> bool:
    """A product of positive numbers as a span writes it (``1 \\times 1``, ``3 \\times 3 \\times 256``): kept
    factor by factor, its 1s included; not the reader's 1 (-1) of a minus sign."""
    return len(product.args) > 1 and all(
        (factor.is_Number and factor.is_positive) or (isinstance(factor, sp.Mul) and _written_product(factor))
        for factor in product.args)


def _tidy(expr: sp.Basic) -> sp.Basic:
    """An unevaluated reading without its factors 1 (``\\frac{-1}{x}`` is read as 1 (-1) / x) and
    with -1 times a number as that negative number; other products of numbers kept (3 \\times 3)."""
    def tidy(product: sp.Mul) -> sp.Basic:
        if _written_product(product):
            return product
        factors = [factor for factor in product.args if factor is not sp.S.One] or [sp.S.One]
        if sp.S.NegativeOne in factors and len(factors) == 2:
            other = factors[1 - factors.index(sp.S.NegativeOne)]
            if other.is_Number:
                return -other
        return factors[0] if len(factors) == 1 else sp.Mul(*factors, evaluate=False)

    with sp.evaluate(False):
        return expr.replace(lambda node: isinstance(node, sp.Mul), tidy)


#: a letter and digits, D1 or W2 as the seeds write them: the digits a subscript, never a factor
_LETTER_DIGITS = re.compile(r"(?<![A-Za-z\\])(?P<letter>[A-Za-z])(?P<digits>\d+)(?![\d.])")


def _prepared(span: str) -> str:
    """A span as the reader should see it: ``D1`` the name D_1 (the reader keeps ``W^{(l)}`` a layer index)."""
    return _LETTER_DIGITS.sub(lambda match: f"{match['letter']}_{{{match['digits']}}}", span)


def _read(span: str, table):
    """The reader's Reading of a span: unevaluated where the reader allows it (3 \\times 3 stays)."""
    from .check.reader import read

    span = _prepared(span)

    try:
        with sp.evaluate(False):
            return read(span, table)
    except (TypeError, AttributeError, ValueError, NotImplementedError, ArithmeticError, RecursionError):
        return read(span, table)


#: a built-in function written with a prime (``\\tanh'(0)``, ``\\sin^{\\prime}``): printed as written
_PRIMED = re.compile(r"\\([A-Za-z]+)\s*(?='|\^\s*\{?\s*\\prime(?![A-Za-z]))")


def _table(derivation, text: str = ""):
    """The reading table of a statement: the problem's names (or the general one), the course's
    functions applied where an argument list follows, and a built-in function that ``text``
    writes with a prime kept a function (``\\tanh'(0)`` printed so, never worked out to 1)."""
    from .check.reader.tokens import BUILTIN
    from .check.table import declare_function, table_for

    table = table_for(derivation, True)
    for name in sorted(set(_PRIMED.findall(text))):
        if name in BUILTIN and name not in table.names and name not in table.functions:
            declare_function(table, name, sp.Function(name))
    for name in FUNCTIONS:  # sigma(x) is the function sigma at x, not sigma times x; ReLU(x) kept as written
        if name not in table.names and (name not in table.functions or isinstance(table.functions[name], sp.Lambda)):
            declare_function(table, name, sp.Function(name))
    return table


def span_tex(span: str, derivation=None, quantities: Iterable = (), table=None) -> str:
    """One span as LaTeX printed from its parsed form (a StatementError naming it if unreadable).

    Args:
        span: the text between the dollars (untrusted).
        derivation: the problem's derivation (its quantities' names are read as themselves), or None.
        quantities: the quantities to print in the document's notation (those of ``derivation``).
        table: the reading table, if already built for ``derivation`` (one per statement).
    """
    from .check.reader import ReadError

    try:
        reading = _read(span, table if table is not None else _table(derivation, span))
    except ReadError as error:
        reason = " ".join(str(error).replace("the answer", "the formula").split())
        raise StatementError(f"cannot read the formula '${_quoted(span)}$': {reason}") from None
    for side in reading.sides:
        for atom in side.atoms(sp.Symbol, sp.Function, sp.IndexedBase) if isinstance(side, sp.Basic) else ():
            name = getattr(atom, "name", None) or type(atom).__name__
            if _UNSAFE_NAME.search(_LAYER.sub("", str(name))):  # a command kept inside a name (\hat{\write18})
                raise StatementError(f"cannot read the formula '${_quoted(span)}$': the name '{_quoted(str(name))}'")
    sides = [_tidy(side) if isinstance(side, sp.Basic) else side for side in reading.sides]
    decimals = {}
    for literal in _DECIMAL.findall(span):
        value = sp.Rational(literal)
        literal = literal if not literal.startswith(".") else "0" + literal
        decimals.setdefault(value, literal)
        decimals.setdefault(-value, "-" + literal)  # -0.3 is read as -1 times 3/10
    printer = _StatementPrinter(quantities, decimals)
    if r"\times" in span:  # a span that writes its products with \times (k \times k) is printed so
        printer._settings["mul_symbol_latex"] = r" \times "
    try:
        if "list" in reading.notes and len(sides) == 1 and isinstance(sides[0], sp.Tuple):
            sides = [r",\ ".join(printer.doprint(item) for item in sides[0])]
        else:
            sides = [printer.doprint(side) for side in sides]
    except (TypeError, ValueError, AttributeError, NotImplementedError, RecursionError):
        raise StatementError(f"the formula '${_quoted(span)}$' cannot be printed") from None
    tex = (r" \in " if "in" in reading.notes else " = ").join(sides)
    for control in _CONTROL.findall(tex):
        if control.isalpha() and control not in _ALLOWED or "^^" in tex:
            raise StatementError(f"the formula '${_quoted(span)}$' cannot be printed safely (\\{control})")
    if _LOOSE_BIG.search(tex):
        raise StatementError(f"the formula '${_quoted(span)}$' cannot be printed safely (\\big)")
    return tex


def to_tex(text: str, derivation=None, quantities: Iterable = (),
           escape: Callable[[str], str] = tex_escape) -> str:
    """A statement or title for TeX: its text escaped with ``escape``, its spans as ``$...$``
    printed from their parsed form (see :func:`span_tex`)."""
    quantities, pieces = tuple(quantities), parts(text)
    spans = sum(is_math for is_math, _ in pieces)
    if spans > MAX_SPANS:
        raise StatementError(f"{spans} formulas; at most {MAX_SPANS} are read in one text")
    table = _table(derivation, "".join(piece for is_math, piece in pieces if is_math)) if spans else None
    return "".join(f"${span_tex(piece, derivation, quantities, table)}$" if is_math else escape(piece)
                   for is_math, piece in pieces)


def check(text: str, derivation=None) -> None:
    """Raise a :class:`StatementError` if a span of ``text`` cannot be read (nothing printed)."""
    to_tex(text, derivation, derivation.quantities if derivation is not None else ())
