"""SymPy printers that read a derivation's notation table.

They write sigma'(x) for the derivative of a named function, dL/dw as a partial-derivative
fraction, and every quantity the way its notation entry says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from .notation import Quantity

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    "`": r"\textasciigrave{}",  # TeX's ligatures would print ` as an opening quote
}
# Control characters and line or paragraph separators (TeX would end a line, a comment or a
# paragraph there, or refuse the character): printed as a space.
_TEX_SPACES = {code: " " for code in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)}
_PLAIN_SYMBOL = re.compile(r"[\w'/\[\]()+\-., ]*")
#: a name the checker made for a student's own layered name, S^(2), or its derivative, d(L)/d(w^(3))
_LAYERED_NAME = re.compile(r"([A-Za-z]+)\^\(([A-Za-z0-9+\-]+)\)")
_DERIVATIVE_NAME = re.compile(r"d\((.+)\)/d\((.+)\)")
_HAT_NAME = re.compile(r"hat\(([A-Za-z])\)")


def tex_escape(text: str) -> str:
    """The one escaping of user text for TeX: every special character prints literally
    (``\\input{f}`` becomes ``\\textbackslash{}input\\{f\\}``), and a line break or any
    other control character becomes a space, so the text stays on its line (and in its ``%``
    comment)."""
    return "".join(_TEX_SPECIALS.get(character, character) for character in str(text).translate(_TEX_SPACES))


_COMMAND = re.compile(r"\\[A-Za-z]+\s*")
_TERM_BREAK = re.compile(r" (?=[+-] )")


def glyphs(tex: str) -> int:
    """About how many glyphs ``tex`` prints (a command is one, braces and scripts' marks none)."""
    return len(re.sub(r"[{}^_ ]", "", _COMMAND.sub("x", tex)))


def _depth(tex: str) -> int:
    """How many groups, brackets and environments ``tex`` opens and does not close."""
    brackets = sum({"{": 1, "(": 1, "[": 1, "}": -1, ")": -1, "]": -1}.get(c, 0) for c in tex)
    return brackets + tex.count("\\begin{") - tex.count("\\end{")


def sum_rows(tex: str, longest: int = 120, row: int = 64) -> list[str]:
    """A sum of more than about ``longest`` glyphs cut into rows of about ``row`` glyphs before
    its top-level + and - signs (one row otherwise, or when it has no such sign): a paste
    block's right side that would run past the line, such as a network's total of 41 terms."""
    if glyphs(tex) <= longest:
        return [tex]
    cuts = [m.start() for m in _TERM_BREAK.finditer(tex) if _depth(tex[:m.start()]) == 0]
    terms = [tex[a:b] for a, b in zip([0, *cuts], [*cuts, len(tex)])]
    rows = [terms[0]]
    for term in terms[1:]:
        if glyphs(rows[-1] + term) > row:
            rows.append(term.strip())
        else:
            rows[-1] += term
    return rows


def named_function_derivative(expr: sp.Derivative):
    """(function, argument, order) when expr is f^(n)(x) of a one-argument named function."""
    inner = expr.expr
    if isinstance(inner, AppliedUndef) and len(inner.args) == 1 and len(expr.variable_count) == 1:
        variable, order = expr.variable_count[0]
        if inner.args[0] == variable:
            return inner, variable, int(order)
    return None


def _negated_fraction(expr: sp.Mul):
    """(numerator, denominator) when expr is -(a - b)/d, to be written (b - a)/d instead."""
    coefficient, rest = expr.as_coeff_Mul()
    if coefficient == -1:
        numerator, denominator = sp.fraction(rest)
        if isinstance(numerator, sp.Add) and denominator != 1:
            return sp.expand(-numerator), denominator
    return None


def _simple_argument(arg) -> bool:
    """Whether a one-argument function takes its argument without parentheses (tanh z, log p_i)."""
    return isinstance(arg, (sp.Symbol, sp.Indexed)) or (arg.is_Integer and not arg.is_negative)


def _tight(tex: str) -> str:
    """-r rather than - r (an integral's or a sum's limit)."""
    return "-" + tex[2:] if tex.startswith("- ") else tex


class _NotationRules:
    """What both printers do alike; each supplies how to write a fraction, primes and a partial."""

    def _as_ordered_terms(self, expr, order=None):
        """A sum starts with a positive term where it has one: p_k - y_k, not -y_k + p_k."""
        terms = list(super()._as_ordered_terms(expr, order))
        if terms and terms[0].could_extract_minus_sign():
            for n, term in enumerate(terms):
                if not term.could_extract_minus_sign():
                    return [term, *terms[:n], *terms[n + 1:]]
        return terms

    def _print_Mul(self, expr):
        flipped = _negated_fraction(expr)
        return self._fraction(*flipped) if flipped else super()._print_Mul(expr)

    def _print_Subs(self, expr):
        """An expression at a point: d/dz tanh z, evaluated at z = 0, written with a bar."""
        body, old, new = expr.args
        if isinstance(body, sp.Derivative) and not named_function_derivative(body) and \
                len(body.variable_count) == 1 and body.variable_count[0][1] == 1:
            shown = self._partial(body.expr, body.variable_count[0][0], operator=True)
        else:
            shown = self._print(body)
            if isinstance(body, sp.Add):
                shown = self._parentheses(shown)
        points = ", ".join(f"{self._print(a)}={self._print(b)}" for a, b in zip(old, new))
        return self._at(shown, points, isinstance(body, sp.Derivative))

    def _print_Derivative(self, expr):
        named = named_function_derivative(expr)
        if named:
            function, variable, order = named
            return f"{self._function_name(function)}{self._primes(order)}({self._print(variable)})"
        if len(expr.variable_count) == 1 and expr.variable_count[0][1] == 1:
            return self._partial(expr.expr, expr.variable_count[0][0])
        return super()._print_Derivative(expr)


def _course_name(name: str) -> str | None:
    """A name of the checker's own as the course writes it: ``S^(2)`` as S^{(2)}, ``hat(y)`` as
    \\hat{y}, ``d(L)/d(w^(3))`` as a partial derivative; None for any other name. Only letters,
    digits and signs pass through, so a student's name can never carry TeX of its own."""
    if match := _DERIVATIVE_NAME.fullmatch(name):
        top, bottom = _course_name(match[1]), _course_name(match[2])
        return None if top is None or bottom is None else rf"\frac{{\partial {top}}}{{\partial {bottom}}}"
    if match := _LAYERED_NAME.fullmatch(name):
        return f"{match[1]}^{{({match[2]})}}"
    if match := _HAT_NAME.fullmatch(name):
        return rf"\hat{{{match[1]}}}"
    return name if re.fullmatch(r"[A-Za-z]", name) else None


class NotationLatexPrinter(_NotationRules, LatexPrinter):
    """LaTeX with the notation table's symbols, f'(x) derivatives and partial fractions."""

    def __init__(self, quantities: Iterable[Quantity], cases: Mapping[str, str] | None = None):
        """``cases`` holds the words of a piecewise result (``piecewise_for``,
        ``piecewise_otherwise``: a wording table's ``ui``); English without it."""
        quantities = tuple(quantities)
        self._cases = cases or {"piecewise_for": "for", "piecewise_otherwise": "otherwise"}
        names = {q.symbol: q.latex for q in quantities if isinstance(q.symbol, sp.Symbol)}
        super().__init__({"symbol_names": names, "order": "none"})
        self._functions = {q.symbol.__name__: q.latex for q in quantities
                           if isinstance(q.symbol, sp.FunctionClass)}
        self._bases = {q.symbol: q.latex for q in quantities if isinstance(q.symbol, sp.IndexedBase)}

    def _print_IndexedBase(self, expr):
        return self._bases.get(expr) or super()._print_IndexedBase(expr)

    def _print_Symbol(self, expr, style="plain"):
        """A symbol outside the notation table whose name is not plain letters, digits and
        punctuation prints as escaped text, never as TeX of its own."""
        if expr in self._settings["symbol_names"]:
            return super()._print_Symbol(expr, style)
        return ("(" in expr.name and _course_name(expr.name)) or (super()._print_Symbol(expr, style) if _PLAIN_SYMBOL.fullmatch(expr.name)
                                           else rf"\text{{{tex_escape(expr.name)}}}")

    def _print_Piecewise(self, expr):
        """cases with the conditions in the document's language; the last branch's "otherwise"
        is written as the complement of the one before it when that is one relation (z \\le 0)."""
        lines = []
        for n, (value, condition) in enumerate(expr.args):
            if condition is sp.true and n == 1 and isinstance(expr.args[0].cond, sp.core.relational.Relational):
                with sp.evaluate(False):
                    condition = expr.args[0].cond.negated
            if condition is sp.true:
                shown = rf"\text{{{tex_escape(self._cases['piecewise_otherwise'])}}}"
            else:
                word = self._cases["piecewise_for"]
                shown = (rf"\text{{{tex_escape(word)}}}\: " if word else "") + self._print(condition)
            lines.append(f"{self._print(value)} & {shown}")
        return r"\begin{cases} " + r" \\ ".join(lines) + r" \end{cases}"

    def _print_Heaviside(self, expr, exp=None):
        step = rf"H\left({self._print(expr.args[0])}\right)"
        return f"{step}^{{{exp}}}" if exp else step

    def _print_Mul(self, expr):
        """An unevaluated count such as n x n or n x 1 keeps its factors apart: n cdot n."""
        if any(isinstance(a, sp.UnevaluatedExpr) for a in expr.args):
            return r" \cdot ".join(self.parenthesize(a.args[0] if isinstance(a, sp.UnevaluatedExpr) else a, 50)
                                   for a in expr.args)
        return super()._print_Mul(expr)

    def _print_Indexed(self, expr):
        separator = "" if all(index.is_Symbol or index.is_Integer and index < 10 for index in expr.indices) else ", "
        indices = separator.join(self._print(index) for index in expr.indices)
        return f"{{{self._print(expr.base)}}}_{{{indices}}}"

    def _print_Function(self, expr, exp=None):
        """A named function as its notation entry writes it (f(x)); SymPy's one-argument functions
        as a textbook does (tanh z, log(1 + e^x)), not tanh{\\left(z \\right)}."""
        function = type(expr).__name__
        name = self._functions.get(function)
        if name is None and not isinstance(expr, AppliedUndef):
            if len(expr.args) != 1 or hasattr(self, f"_print_{function}"):
                return super()._print_Function(expr, exp)
            return self._applied(self._hprint_Function(function), expr.args[0], exp)
        name = name or self._hprint_Function(function)
        args = ", ".join(self._print(a) for a in expr.args)
        power = f"^{{{exp}}}" if exp else ""
        return f"{name}{power}({args})"

    def _print_log(self, expr, exp=None):
        return self._applied(r"\log", expr.args[0], exp)

    def _applied(self, name: str, arg, exp=None) -> str:
        """A one-argument function as a textbook writes it: tanh z, tanh^2 z, log(1 + e^x)."""
        power = f"^{{{exp}}}" if exp else ""
        shown = self._print(arg)
        return f"{name}{power} {shown}" if _simple_argument(arg) else f"{name}{power}{self._parentheses(shown)}"

    @staticmethod
    def _parentheses(tex: str) -> str:
        """(x), or \\left(x\\right) around something tall (a fraction, a sum, an integral)."""
        tall = any(command in tex for command in (r"\frac", r"\sum", r"\int", r"\prod", r"\begin"))
        return rf"\left({tex}\right)" if tall else f"({tex})"

    @staticmethod
    def _at(body: str, points: str, derivative: bool) -> str:
        bar = r"\big|" if derivative or r"\frac" not in body else r"\Big|"
        return f"{body}{bar}_{{{points}}}"

    def _print_Integral(self, expr):
        """int_{-r}^{r} f(w) dw: limits beside the sign (as the course writes them), not under it."""
        signs = []
        for limit in reversed(expr.limits):
            bounds = [_tight(self._print(bound)) for bound in limit[1:]]
            signs.append(r"\int" + (f"_{{{bounds[0]}}}^{{{bounds[1]}}}" if len(bounds) == 2 else
                                    f"^{{{bounds[0]}}}" if bounds else ""))
        function = self.parenthesize(expr.function, PRECEDENCE["Mul"], strict=True)
        return " ".join(signs) + f" {function}" + "".join(rf"\, d{self._print(limit[0])}" for limit in expr.limits)

    def _print_Order(self, expr):
        """O(z^5), with the point when it is not 0."""
        shown = self._print(expr.expr)
        if expr.point and any(point != 0 for point in expr.point):
            shown += rf"; {self._print(expr.variables[0])} \to {self._print(expr.point[0])}"
        return f"O({shown})"

    def _fraction(self, numerator, denominator):
        return rf"\frac{{{self._print(numerator)}}}{{{self._print(denominator)}}}"

    def _function_name(self, function):
        return self._functions.get(type(function).__name__) or self._print(type(function))

    @staticmethod
    def _primes(order):
        return "'" * order if order <= 3 else f"^{{({order})}}"

    def _partial(self, top, variable, operator=False):
        """dy/dx as a fraction; d/dx (...) before anything but a name or a function, or when ``operator``."""
        d = "d" if top.free_symbols <= {variable} else r"\partial"
        shown = self._print(variable)
        by = f"{d}{shown}" if d == "d" and shown.isalpha() else f"{d} {shown}"
        named = isinstance(top, (sp.Symbol, sp.Indexed, AppliedUndef)) or \
            isinstance(top, sp.Function) and len(top.args) == 1 and _simple_argument(top.args[0])
        if operator or not named:
            body = self._print(top)
            function = isinstance(top, sp.Function) and not isinstance(top, sp.Piecewise)
            return rf"\frac{{{d}}}{{{by}}} " + (body if function else self._parentheses(body))
        return rf"\frac{{{d} {self._print(top)}}}{{{by}}}"


class NotationStrPrinter(_NotationRules, StrPrinter):
    """Plain text with the notation table's names and f'(x) derivatives."""

    printmethod = "_derive_str"  # not SymPy's _sympystr, which Indexed uses to print itself

    def __init__(self, quantities: Iterable[Quantity]):
        super().__init__({"order": "none"})
        self._names = {q.symbol: q.text or q.symbol.name for q in quantities
                       if isinstance(q.symbol, sp.Symbol)}
        self._bases = {q.symbol: q.text for q in quantities if isinstance(q.symbol, sp.IndexedBase) and q.text}

    def _print_IndexedBase(self, expr):
        return self._bases.get(expr) or self._print(expr.label)

    def _print_Indexed(self, expr):
        """delta^(l)_j for a family with a text name; x[k] otherwise."""
        if expr.base not in self._bases:
            return f"{self._print(expr.base)}[{', '.join(self._print(index) for index in expr.indices)}]"
        if all(index.is_Symbol or index.is_Integer and index < 10 for index in expr.indices):
            return f"{self._print(expr.base)}_{''.join(self._print(index) for index in expr.indices)}"
        return f"{self._print(expr.base)}_({', '.join(self._print(index) for index in expr.indices)})"

    def _print_Symbol(self, expr):
        return self._names.get(expr, super()._print_Symbol(expr))

    def _print_Dummy(self, expr):
        return expr.name

    def parenthesize(self, item, level, strict=False):
        """A sum, an integral or a value at a point in parentheses wherever a product would be
        ((Σ_(j=1)^(C) exp(x[j]))**2), as the LaTeX printer does."""
        if isinstance(item, (sp.Sum, sp.Integral, sp.Subs)) and \
                (PRECEDENCE["Mul"] < level or not strict and PRECEDENCE["Mul"] <= level):
            return f"({self._print(item)})"
        return super().parenthesize(item, level, strict)

    def _fraction(self, numerator, denominator):
        return f"({self._print(numerator)})/({self._print(denominator)})"

    @staticmethod
    def _function_name(function):
        return type(function).__name__

    @staticmethod
    def _primes(order):
        return "'" * order

    def _partial(self, top, variable, operator=False):
        if operator:
            return f"d/d{self._print(variable)} {self.parenthesize(top, PRECEDENCE['Mul'], strict=True)}"
        return f"d({self._print(top)})/d{self._print(variable)}"

    @staticmethod
    def _parentheses(text: str) -> str:
        return f"({text})"

    @staticmethod
    def _at(body: str, points: str, derivative: bool) -> str:
        return f"{body} |_({points})"

    def _print_Integral(self, expr):
        """∫_(-r)^(r) w**2/(2*r) dw."""
        signs = "".join("∫" + (f"_({self._print(limit[1])})^({self._print(limit[2])})" if len(limit) == 3 else "")
                        for limit in reversed(expr.limits))
        function = self.parenthesize(expr.function, PRECEDENCE["Mul"], strict=True)
        return f"{signs} {function} " + " ".join(f"d{self._print(limit[0])}" for limit in expr.limits)

    def _print_Sum(self, expr):
        """Σ_(j=1)^(n_in) Var(W a)."""
        signs = "".join(f"Σ_({self._print(limit[0])}={self._print(limit[1])})^({self._print(limit[2])})"
                        if len(limit) == 3 else "Σ" for limit in reversed(expr.limits))
        return f"{signs} {self.parenthesize(expr.function, PRECEDENCE['Mul'], strict=True)}"


def approximate(value: float, percent: bool = False) -> dict:
    """A target's decimal beside its exact value: ``{"approx", "approx_tex"}``, six significant
    digits (``4.45188``), or a percentage to two decimals (``77.54 %``, ``77.54\\,\\%``)."""
    if percent:
        shown = f"{100 * value:.2f}"
        return {"approx": f"{shown} %", "approx_tex": rf"{shown}\,\%"}
    return {"approx": f"{value:.6g}", "approx_tex": f"{value:.6g}"}
