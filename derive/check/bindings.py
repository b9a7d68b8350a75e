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
from .conventions import Convention
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
            bound: dict, problem_latex: Iterable[str] = (), written: sp.Basic | None = None) -> sp.Basic | None:
    """The name ``lhs = rhs`` binds (recorded in ``bound`` as ``written``, the right side before any
    bound name is put back: :func:`put_back` puts them back in turn, and a derivative by a bound
    name keeps that name), or None when it binds none: the left
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
    rhs = rhs if written is None else written
    if isinstance(lhs, sp.Symbol):
        bound[name] = rhs
    else:
        variables = lhs.indices if isinstance(lhs, sp.Indexed) else lhs.args
        bound[name] = sp.Lambda(tuple(variables), rhs)
    return name


def put_back(expr: sp.Basic | None, bound: dict, most: int | None = MOST_OPERATIONS) -> sp.Basic | None:
    """``expr`` with every bound name replaced by what it was bound to (unchanged where SymPy
    cannot put it back). A derivative of a bound name (dS_j^(3)/dw_ij^(3), dyhat/dS_k^(3), written
    as the reader's unknown d(S^(3))/d(w^(3))) is the derivative of its binding
    (:func:`derivatives_put_back`); theta'(S_j^(3)) of a bound entry is theta' taken at its binding."""
    if expr is None or not bound:
        return expr
    original = expr
    try:
        # sizes read as counts before theta'(X) is taken at X: SymPy's Subs compares equal whatever
        # its point's assumptions, so a size made a count afterwards stays real there (and a sum up
        # to a real value recurses without end in SymPy's eval_sum)
        bound = {k: _sizes(v) if isinstance(v, sp.Basic) else v for k, v in bound.items()}
        variables: set = set()
        expr = derivatives_put_back(expr, bound, variables)
        if _bare_derivative(expr) or any("/" in s.name for s in expr.free_symbols if isinstance(s, sp.Symbol)
                                          and s.name != _loss_slope(bound).name):
            return original  # a derivative of what nothing binds is judged as written
        # a chain of derivatives: only the names that hold a variable it differentiates by are put
        # back (the others are the same entries on both sides; put back, sums nest in sums)
        kept = {k for k in bound if variables and not (_expanded(k if isinstance(k, sp.Symbol) else k[_INDEX], bound)
                                                       .atoms(sp.IndexedBase, sp.Symbol) & variables)}
        expr = _sizes(_expanded(expr, {k: v for k, v in bound.items() if k not in kept}))
        # a binding put back into a chain of derivatives can nest sums in sums (seed 002 Q3's
        # S, x, theta): past this size, or with an unknown derivative left beside the ones put
        # back, the line is judged as written, never slowly
        nested = variables and any(s.function.has(sp.Sum) or any(a.has(sp.Sum) for a in s.atoms(sp.Subs))
                                   for s in expr.atoms(sp.Sum))
        left = any("/" in str(b) for b in expr.atoms(sp.IndexedBase))
        small = most is None or sp.count_ops(expr) <= most  # None: sums written out at concrete sizes
        return expr if small and not nested and not left else original
    except Exception:  # noqa: BLE001 - a form SymPy cannot substitute into is judged as written
        return original


def _expanded(expr: sp.Basic, bound: dict, keep: sp.Basic | None = None) -> sp.Basic:
    """``expr`` with every bound name but ``keep`` replaced by its binding, through names bound in
    terms of earlier names."""
    names = {k: v for k, v in bound.items() if k != keep}
    for _ in range(len(names) + 1):
        done = expr.replace(
            lambda e: (isinstance(e, sp.Symbol) and e in names)
            or (isinstance(e, sp.Indexed) and e.base in names)
            or (isinstance(e, AppliedUndef) and e.func in names),
            lambda e: names[e] if isinstance(e, sp.Symbol) else names[e.base](*e.indices)
            if isinstance(e, sp.Indexed) else names[e.func](*e.args))
        if done == expr:
            break
        expr = done
    return expr


_OPAQUE_NAME = re.compile(r"^d\((?P<top>.+)\)/d\((?P<variable>.+)\)$")
#: how the reader names a loss it does not know (its d(L)/d(hat(y)), ell_n read as the loss L)
LOSS = "L"


def output(bound: dict) -> sp.Symbol | None:
    """The student's output: the one name bound as a plain symbol (yhat = theta(S_j^(3))) that no
    other binding uses, or None."""
    used = set().union(*(v.free_symbols | v.atoms(sp.IndexedBase) for v in bound.values() if isinstance(v, sp.Basic)))
    tops = [k for k in bound if isinstance(k, sp.Symbol) and k not in used]
    return tops[0] if len(tops) == 1 else None


def loss_derivative(expr: sp.Basic | None, bound: dict) -> sp.Basic | None:
    """The name the loss is differentiated by in ``expr`` (the reader's d(L)/d(w^(2))_ij, written
    dl_n/dw_ij^(2)) where the student's bindings hold that name and it is not their output, or None."""
    base = expr.base.label if isinstance(expr, sp.Indexed) else expr
    match = _OPAQUE_NAME.match(str(base)) if isinstance(base, sp.Symbol) else None
    if match is None or match["top"] != LOSS or not bound:
        return None
    variable = _named(sp.Integer(0), bound).get(match["variable"])
    return variable if variable is not None and variable != output(bound) else None


def _loss_slope(bound: dict) -> sp.Symbol:
    """dL/dyhat: the loss is a function of the output the problem does not give, so its slope at
    the output is an unknown of its own (a common factor of every chain through the output)."""
    top = output(bound)
    return sp.Symbol(f"d({LOSS})/d({top})", real=True) if top is not None else sp.Symbol(f"d({LOSS})/d()")


def _named(expr: sp.Basic, bound: dict) -> dict[str, sp.Basic]:
    """The names (symbols and families) in ``expr`` and in the bindings, by how they print."""
    atoms = set(bound) | expr.free_symbols | expr.atoms(sp.IndexedBase)
    for value in bound.values():
        if isinstance(value, sp.Basic):
            atoms |= value.free_symbols | value.atoms(sp.IndexedBase)
    labels = {a.label for a in atoms if isinstance(a, sp.IndexedBase)}  # a family's label is no name of its own
    return {str(a): a for a in atoms if isinstance(a, (sp.Symbol, sp.IndexedBase)) and "/" not in str(a)
            and a not in labels}


def _arity(name: sp.Basic, bound: dict) -> int:
    value = bound.get(name)
    return len(value.variables) if isinstance(value, sp.Lambda) else 0


def _sizes(expr: sp.Basic) -> sp.Basic:
    """``expr`` with a sum's upper limit written as a name (d^(2), the units of a layer the student
    names) read as a count: a nonnegative integer, never a real number to sum up to."""
    limits = {limit[2] for s in expr.atoms(sp.Sum) for limit in s.limits}
    return expr.xreplace({n: sp.Symbol(n.name, integer=True, nonnegative=True) for n in limits
                          if isinstance(n, sp.Symbol) and not n.is_integer})


def _in_range(value: sp.Basic, indices: set) -> sp.Basic:
    """A derivative by an entry (w_ij) taken where that entry exists: sum_u delta_ui x_u is x_i, not
    x_i where i <= d^(2) and 0 elsewhere (the entry's index is in its layer's range)."""
    return value.replace(
        lambda e: isinstance(e, sp.Piecewise) and len(e.args) == 2 and e.args[1].cond == sp.true
        and e.args[1].expr == 0 and isinstance(e.args[0].cond, sp.core.relational.Relational)
        and bool(e.args[0].cond.free_symbols & indices),
        lambda e: e.args[0].expr)


def _dropped(value: sp.Basic) -> set:
    """The indices a binding's right side has free (yhat = theta(S_j^(3)): j, the output unit)."""
    indices = {i for e in value.atoms(sp.Indexed) for i in e.indices if isinstance(i, sp.Symbol)}
    return indices - {v for s in value.atoms(sp.Sum) for v in s.variables}


def _determined(bound: dict, top: sp.Symbol) -> set:
    """The families a derivative of the output may be taken by: every family where the output's
    binding has no free index; where it drops one (yhat = theta(S_j^(3)), j the output unit) only
    the family it names (S^(3)) and those that family's binding names (w^(3), x^(2)), whose index j
    is that unit: a layer further down (w_ij^(2)) has a j of its own, and the sheet's reading of it
    is the output layer's unit only with one output unit, which is not assumed."""
    value = bound[top]
    families = value.atoms(sp.IndexedBase)
    if not _dropped(value):
        return set(_named(value, bound).values()) | set(bound)
    named = set(families)
    for family in families:
        if isinstance(bound.get(family), sp.Lambda):
            named |= bound[family].expr.atoms(sp.IndexedBase)
    return named


def derivatives_put_back(expr: sp.Basic, bound: dict, variables: set | None = None) -> sp.Basic:
    """``expr`` with each derivative of a bound name (the reader's unknown d(S^(3))/d(w^(3))_jij) the
    derivative of its binding by that entry (every other bound name put back, the variable's own
    family kept where it is bound: dyhat/dS_k^(3) = theta'(S_j^(3)) delta_jk), the loss's derivative
    dL/dw = dL/dyhat dyhat/dw (the loss a function of the output only), and theta'(X) of a bound X
    the derivative at X. ``variables`` collects the families differentiated by."""
    if not bound:
        return expr
    names = _named(expr, bound)
    top_out = output(bound)
    slope = _loss_slope(bound)

    def real(written: sp.Basic) -> sp.Basic | None:
        base = written.base.label if isinstance(written, sp.Indexed) else written
        match = _OPAQUE_NAME.match(str(base))
        if match is None or "^" in str(base).split("/")[0][:2]:
            return None
        indices = tuple(written.indices) if isinstance(written, sp.Indexed) else ()
        top, variable = names.get(match["top"]), names.get(match["variable"])
        loss = top is None and match["top"] == LOSS and top_out is not None
        if variable is None or not (loss or top in bound):
            return None
        arity = 0 if loss else _arity(top, bound)
        if len(indices) < arity:
            return None
        top_indices, at = indices[:arity], indices[arity:]
        if isinstance(variable, sp.IndexedBase) != bool(at):
            return None
        entry = variable[at] if at else variable
        through = top_out if loss else top
        if through == top_out and (variable not in _determined(bound, top_out)
                                   or not _dropped(bound[top_out]) <= set(at)):
            return None  # yhat = theta(S_j^(3)) drops an index: only the output layer's j is determined
        if loss and entry == top_out:
            return slope
        keep = variable if variable in bound else None
        start = top_out if loss else (bound[top](*top_indices) if isinstance(bound[top], sp.Lambda) else bound[top])
        if not loss and arity == 0 and top_indices:
            return None
        if variables is not None:
            variables.add(variable)
        holding = {k: v for k, v in bound.items() if k != keep and variable in _expanded(
            k if isinstance(k, sp.Symbol) else k[_INDEX], bound, keep).atoms(sp.IndexedBase, sp.Symbol)}
        value = _in_range(sp.diff(_expanded(start, holding), entry).doit(), set(at))
        return slope * value if loss else value

    replaced = expr.replace(lambda e: isinstance(e, (sp.Indexed, sp.Symbol)) and real(e) is not None, real)
    # theta'(S_j^(3)) of a bound S: the derivative taken at the binding, never by an expression
    return replaced.replace(
        lambda e: isinstance(e, sp.Derivative) and len(e.variables) == 1 and e.expr.args == (e.variables[0],)
        and _expanded(e.variables[0], bound) != e.variables[0],
        lambda e: sp.Subs(sp.Derivative(e.expr.func(_T), _T), _T, e.variables[0]))


_T = sp.Dummy("t", real=True)
_INDEX = sp.Dummy("k", integer=True)


def _bare_derivative(expr: sp.Basic) -> bool:
    """Whether ``expr`` holds a derivative that is not a function's slope taken at a point (Subs)."""
    return expr.replace(lambda e: isinstance(e, sp.Subs), lambda e: sp.Integer(1)).has(sp.Derivative)


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


#: the units a layer other than the output has under the one-output convention: a nested sum over
#: a symbolic size is written out at this size instead of summed symbolically
UNITS = 2
#: the readings of one answer's lines under the one-output convention, by the line's value as judged
#: (a line that continues the one before, "= ...", starts from that value): [the answer's bindings
#: (kept, so never another answer's), {value: reading}]
_ONE_OUTPUT: list = [None, {}]


def _output_sizes(written: Iterable[sp.Basic | None], family_name: str) -> set:
    """The sizes of the output layer a line sums over: the upper limit of a sum from 1 whose variable
    indexes the output family (S_k^(3), dyhat/dS_k^(3), dS_k^(3)/dx_j^(2))."""
    found = set()
    for value in written:
        for s in (value.atoms(sp.Sum) if isinstance(value, sp.Basic) else ()):
            for variable, low, high in s.limits:
                if low == 1 and isinstance(high, sp.Symbol) and any(
                        variable in e.indices and family_name in str(e.base.label) for e in s.function.atoms(sp.Indexed)):
                    found.add(high)
    return found


def one_output(bound: dict, written: list, values: list, opaque_) -> tuple:
    """The convention "one output unit" for a line (``written``: its sides as read, ``values``: as
    judged, ``opaque_`` what makes a read value judgeable): where the output is bound with its unit's
    index dropped (yhat = theta(S_j^(3))), the line read with that index 1 and the output layer's size
    (the d^(3) of a sum over its units) 1, every other layer written out at :data:`UNITS` units. The
    convention maps each value (and the one the line continues from) to its readings; () where it
    does not apply."""
    from .steps import _canonical

    top = output(bound)
    dropped = _dropped(bound[top]) if top is not None else set()
    if len(dropped) != 1:
        return ()
    (index,) = dropped
    families = [e.base.label for e in bound[top].atoms(sp.Indexed) if index in e.indices]
    if len(families) != 1:
        return ()
    sizes = _output_sizes(written, str(families[0]))
    if len(sizes) > 1:
        return ()
    if _ONE_OUTPUT[0] is not bound:
        _ONE_OUTPUT[:] = [bound, {}]
    readings = _ONE_OUTPUT[1]
    for w, v in zip(written, values, strict=True):
        if w is not None and v is not None:
            readings[v] = readings[_canonical(v)] = _read_one_output(w, bound, top, index, sizes, opaque_)
            if readings[v] is None:
                return ()
    substitution = tuple(readings.items())
    name = sp.latex(next(iter(sizes))) if sizes else "d"
    return (Convention("one_output", substitution, _size_latex(name)),)


def _size_latex(name: str) -> str:
    """d^{(3)} for the reader's d^(3)."""
    match = re.match(r"^(\w+)\^\((\w+)\)$", name)
    return f"{match[1]}^{{({match[2]})}}" if match else name


def _read_one_output(written: sp.Basic, bound: dict, top: sp.Symbol, index: sp.Symbol, sizes: set, opaque_) -> sp.Basic | None:
    """``written`` put back under one output unit, the other layers at :data:`UNITS` units, or None."""
    names = {n.name for n in sizes}
    counts = {}
    for value in [written, *(v for v in bound.values() if isinstance(v, sp.Basic))]:
        for s in value.atoms(sp.Sum):
            for limit in s.limits:
                if isinstance(limit[2], sp.Symbol):
                    counts[limit[2]] = 1 if limit[2].name in names else UNITS
    one = {k: (v.xreplace({index: 1}) if k == top else v).xreplace(counts).doit() if isinstance(v, sp.Basic) else v
           for k, v in bound.items()}
    expr = written.xreplace(counts).doit()
    try:
        return opaque_(put_back(expr, one, most=None))
    except Exception:  # noqa: BLE001 - a reading SymPy cannot put back gives no convention
        return None
