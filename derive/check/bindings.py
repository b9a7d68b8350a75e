"""Names a student brings: a line ``S_j^{(2)} = \\sum_i w_ij x_i`` whose left side is a name the
problem does not know binds that name, and later lines are judged with it put back in.

Only a plain name binds (a letter or Greek letter, with a hat, subscripts and superscripts, and
for a function distinct argument names): never a quantity of the problem (delta, Var(W), the
activation sigma: a line about one of those is judged as a step or as the problem's definition),
never a derivative, an expectation or an operator, never a name bound already (a second line
about it is judged with the first binding put back in, so a name used inconsistently is wrong).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sympy as sp
from sympy.core.function import AppliedUndef

from ..catalog.activations import SIGMA
from .reader.tokens import GREEK

#: the commands a plain name may be written with (a Greek letter, a hat, ell)
#: the largest expression (SymPy operations) a line becomes with its bound names put back
MOST_OPERATIONS = 60
_NAME_COMMANDS = GREEK | {"hat", "bar", "tilde", "ell"}
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_NOT_A_NAME = re.compile(r"[=+\-*/'!|<>\[\]]|\\[,;! ]")


def plain_name(latex: str) -> bool:
    """Whether ``latex`` (a line's left side) is written as a plain name: letters, Greek letters,
    hats, subscripts, superscripts and a function's argument list; no derivative, operator, text."""
    head = latex.split("(", 1)[0]
    return bool(latex.strip()) and not _NOT_A_NAME.search(head) \
        and all(c in _NAME_COMMANDS for c in _COMMAND.findall(latex))


def family(expr: sp.Basic) -> sp.Basic | None:
    """The name a left side is about: a symbol itself, an indexed family's base, a function."""
    if isinstance(expr, sp.Symbol):
        return expr
    if isinstance(expr, sp.Indexed) and len(set(expr.indices)) == len(expr.indices) \
            and all(isinstance(i, sp.Symbol) for i in expr.indices):
        return expr.base
    if isinstance(expr, AppliedUndef) and len(set(expr.args)) == len(expr.args) \
            and all(isinstance(a, sp.Symbol) for a in expr.args):
        return expr.func
    return None


_TOKEN = re.compile(r"\\(?:hat|bar|tilde)\s*\{\s*\\?[A-Za-z]+\s*\}|\\[A-Za-z]+|[A-Za-z]")


def _written_names(latex: str) -> set[str]:
    """The names a problem quantity's LaTeX is written with (L in dL/dyhat), spaces removed."""
    return {t.replace(" ", "") for t in _TOKEN.findall(latex)}


def binding(lhs: sp.Basic, rhs: sp.Basic, latex: str, problem_names: Iterable[sp.Basic],
            bound: dict, problem_latex: Iterable[str] = ()) -> sp.Basic | None:
    """The name ``lhs = rhs`` binds (recorded in ``bound``), or None when it binds none: the left
    side is no plain name, a name of the problem (or one its quantities are written with: the loss
    L of dL/dyhat, which the problem does not name but differentiates), a name bound already, or
    the right side uses it."""
    name = family(lhs)
    known = set(problem_names)
    if name is None or name in known or name in bound or not plain_name(latex):
        return None
    head = _TOKEN.findall(latex)
    if not head or head[0].replace(" ", "") in set().union(*map(_written_names, problem_latex)):
        return None
    if str(name) in {str(k) for k in known}:
        return None  # the problem's quantity read another way (a layer label): never a free name
    if rhs.has(name):
        return None  # a recursion, not a name
    if isinstance(lhs, sp.Symbol):
        bound[name] = rhs
    else:
        variables = lhs.indices if isinstance(lhs, sp.Indexed) else lhs.args
        bound[name] = sp.Lambda(tuple(variables), rhs)
    return name


def put_back(expr: sp.Basic | None, bound: dict) -> sp.Basic | None:
    """``expr`` with every bound name replaced by what it was bound to (unchanged where SymPy
    cannot put it back)."""
    if expr is None or not bound or expr.has(sp.Derivative, sp.Subs) \
            or any("/" in s.name for s in expr.free_symbols if isinstance(s, sp.Symbol)):
        return expr  # a derivative (theta'(S_j), dS_j/dw_ij) is judged as written: put back, it grows slow
    original = expr
    try:
        for _ in range(len(bound) + 1):  # names bound in terms of earlier names
            done = expr.replace(
                lambda e: (isinstance(e, sp.Symbol) and e in bound)
                or (isinstance(e, sp.Indexed) and e.base in bound)
                or (isinstance(e, AppliedUndef) and e.func in bound),
                lambda e: bound[e] if isinstance(e, sp.Symbol) else bound[e.base](*e.indices)
                if isinstance(e, sp.Indexed) else bound[e.func](*e.args))
            if done == expr:
                break
            expr = done
        # a binding put back into a chain of derivatives can nest sums in sums (seed 002 Q3's
        # S, x, theta): past this size the line is judged as written, never slowly
        return expr if sp.count_ops(expr) <= MOST_OPERATIONS else original
    except Exception:  # noqa: BLE001 - a form SymPy cannot substitute into is judged as written
        return original


def activation_meanings(derivation, table, defines: dict) -> dict:
    """What the problem's activation is where the problem names it without a formula but has the
    slope of one rectifier (prelu-init's f, with alpha: PReLU): ``{f: (Lambda, "definition")}`` for
    each activation the problem does not define, when exactly one rectifier the reader knows uses a
    quantity of the problem (never ReLU where the problem's slope is alpha); an activation written
    sigma is the sigmoid of the catalog's own sigma (:data:`derive.catalog.activations.SIGMA`)."""
    quantities = {q.symbol for q in derivation.quantities}
    undefined = [q for q in derivation.quantities
                 if isinstance(q.symbol, sp.FunctionClass) and q.meaning is None and q.symbol not in defines]
    # an activation written sigma is the course's sigmoid (mlp-backprop's sigma(z) = 1/(1 + e^-z), seed 001 2.3)
    named = {q.symbol: (SIGMA.meaning, "definition") for q in undefined if (q.latex or "").strip() == SIGMA.latex}
    rectifiers = {fn for fn in table.functions.values() if isinstance(fn, sp.Lambda) and isinstance(fn.expr, sp.Piecewise)
                  and fn.expr.free_symbols & quantities}
    if len(rectifiers) != 1:  # PReLU, prelu, LeakyReLU: one function (one Lambda)
        return named
    rectifier = next(iter(rectifiers))
    return {**{q.symbol: (rectifier, "definition") for q in undefined}, **named}


_DISTRIBUTION = re.compile(r"^\\operatorname\{Var\}\((?P<law>[UN]\(.*\))\)$")


def distribution_premises(derivation, facts) -> dict:
    """The distributions a problem draws its weights from in one of its parts (xavier's uniform
    part: W ~ U(-r, r)), as ``{Var(W): [(the distribution's variance as the reference derives it,
    its LaTeX)]}``: a line Var(W) = r^2/3 states that premise, never a result to compare with the
    problem's Var(W) = 2/(n_in + n_out)."""
    weights = [q.symbol for q in derivation.quantities if (q.latex or "").replace(" ", "") == r"\operatorname{Var}(W)"]
    laws = [(facts[q.symbol], match.group("law")) for q in derivation.quantities
            if (match := _DISTRIBUTION.match((q.latex or "").strip())) and q.symbol in facts]
    return {weight: laws for weight in weights} if laws else {}
