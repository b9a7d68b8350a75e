"""The general LaTeX reader (``latex2sympy2_extended``), behind the course reader.

It is tried only when the course reader fails on grammar it does not know (``\\lvert``, ...),
never for input the course reader refused on purpose (too long, nested
too deep, control characters, numbers too large), and never for input that contains a
construct it is known to misread (``\\log`` as base 10, primes dropped, ``x^{(l)}`` as a power,
``\\over``, partial derivatives, ``cases``, sets and logic). Its names are mapped through the
problem's reading table, and the feedback says which reader read the answer.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.core.function import AppliedUndef

from .reader import Reading
from .table import ReadingTable, name_key

RISKY = re.compile(r"'|\\prime|\\log|\^\{\(|\\over|\\partial|cases|\\frac\{d|\\[{}]|\\cup|\\cap|\\land|\\lor"
                   r"|\\wedge|\\vee|\\in\b|\\setminus|\\text|\\mathrm|\\operatorname|\\sum|\\delta"
                   # what the course reader reads or refuses on purpose, which the general reader misreads:
                   # lists, relations, ratios, \pm, percentages, inverse functions, matrices, 1 000, \cdotp
                   r"|[,;:<>=%&]|\\[lg]eq?\b|\\n?eq?\b|\\[lg]t\b|\\[mp]m\b|\^\s*\{?\s*-\s*1|matrix|\\circ"
                   r"|\\cdotp|\d\s+\d|\\lfloor|\\lceil|\\binom|\\infty")


def _table_name(name: str) -> str:
    return re.sub(r"^hat\{(.)\}$", r"hat(\1)", name_key(name))


def _evaluated(value: sp.Basic) -> sp.Basic:
    """The value rebuilt with SymPy's evaluation (the general reader leaves |-6| as Abs(-6))."""
    return value.func(*(_evaluated(argument) for argument in value.args)) if value.args else value


def read_general(text: str, table: ReadingTable) -> Reading | None:
    """The answer as the general reader reads it, or None where it must not be trusted."""
    if RISKY.search(text):
        return None
    from latex2sympy2_extended import latex2sympy
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig

    try:
        value = latex2sympy(text, conversion_config=ConversionConfig(
            lowercase_symbols=False, interpret_as_mixed_fractions=False))
    except Exception:  # noqa: BLE001 - any failure of the general reader means "cannot read"
        return None
    if not isinstance(value, sp.Expr):
        return None
    names = {s: table.names.get(_table_name(s.name)) or table.symbol_for(_table_name(s.name))
             for s in value.free_symbols}
    value = _evaluated(value.xreplace(names))
    for applied in value.atoms(AppliedUndef):
        function = table.functions.get(_table_name(type(applied).__name__))
        if function is None:
            return None
        value = value.xreplace({applied: function(*applied.args)})
    value = value.replace(lambda e: isinstance(e, sp.Float), lambda e: sp.Rational(str(e)))
    return Reading([value], ["general-reader"])
