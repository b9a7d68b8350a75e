"""Derivatives the problem cannot take, kept as quantities of their own.

dL/dz of a loss L the problem leaves undefined: SymPy takes it as 0 (L does not contain z), so
dL/da would equal dL/dz and any line about the error would "follow". Here each such derivative is
a quantity of its own (a family, indexed as its variable, for dL/dz_(i-u)), except where the course's
notation names it: delta^(k) = dL/dz^(k), the problem's error of that layer.
"""

from __future__ import annotations

import sympy as sp

from ..notation import REAL, SIZE, Quantity
from ..verify import Verifier

#: the derivatives :func:`opaque` named, by name (to print them as written): a derivative, or for
#: a family a Lambda of its indices
_OPAQUE: dict[sp.Basic, sp.Basic] = {}
_INDICES = sp.symbols("_r0:4", integer=True)


def _error_of(verifier: Verifier, variable: sp.Basic) -> sp.Basic | None:
    """The course writes the error of a layer delta^(k) = dL/dz^(k): the entry of the problem's
    family written delta^(k) for an entry of the family written z^(k), if it has both."""
    quantity = verifier.quantities.get(getattr(variable, "base", None))
    if not isinstance(variable, sp.Indexed) or quantity is None or not quantity.latex.startswith("z^"):
        return None
    twins = [s for s, q in verifier.quantities.items()
             if isinstance(s, sp.IndexedBase) and q.latex == r"\delta" + quantity.latex[1:]]
    return twins[0][variable.indices] if len(twins) == 1 else None


def revealed(expr: sp.Basic) -> sp.Basic:
    """``expr`` with the derivatives :func:`opaque` named written back (for printing)."""
    if not isinstance(expr, sp.Basic):
        return expr
    expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base in _OPAQUE,
                        lambda e: _OPAQUE[e.base](*e.indices))
    return expr.xreplace({s: _OPAQUE[s] for s in expr.free_symbols & _OPAQUE.keys()})


def opaque(verifier: Verifier, expr: sp.Basic) -> sp.Basic:
    """``expr`` with every derivative of a quantity that means nothing further (dL/dz of a loss L
    the problem leaves undefined) as a quantity of its own: SymPy would take it as 0 (L does not
    contain z), and dL/da would then equal dL/dz. Names the reader made of its own (its unknown
    d(L)/d(z^(l))) get a real domain, as every invented name does."""
    if not isinstance(expr, sp.Basic):
        return expr
    for name in expr.free_symbols | expr.atoms(sp.IndexedBase):  # the reader's own unknowns (d(L)/d(z^(l)))
        if isinstance(name, (sp.Symbol, sp.IndexedBase)) and name not in verifier.quantities:
            # a layer's size (a sum's upper limit d^(2), read as a count by bindings.put_back): a size
            domain = SIZE if isinstance(name, sp.Symbol) and name.is_integer and name.is_nonnegative else REAL
            verifier.quantities[name] = Quantity(str(name), name, str(name), domain)
    if not expr.has(sp.Derivative):
        return expr

    def text(obj: sp.Basic) -> str:
        quantity = verifier.quantities.get(obj)
        return (quantity.text or quantity.key) if quantity is not None else str(obj)

    def named(derivative: sp.Derivative) -> sp.Basic:
        variables = derivative.variables
        error = _error_of(verifier, variables[0]) if len(variables) == 1 else None
        if error is not None:  # dL/dz^(l+1)_pq of the undefined loss is the problem's error delta^(l+1)_pq
            return error
        if len(variables) == 1 and isinstance(variables[0], sp.Indexed):
            # dL/dz_(i-u): a family of its own, indexed as z is (it depends on the indices)
            base = sp.IndexedBase(f"d{text(derivative.expr)}/d{text(variables[0].base)}", real=True)
            verifier.quantities.setdefault(base, Quantity(str(base), base, str(base), REAL))
            _OPAQUE[base] = sp.Lambda(_INDICES[:len(variables[0].indices)], sp.Derivative(
                derivative.expr, variables[0].base[_INDICES[:len(variables[0].indices)]]))
            return base[variables[0].indices]
        symbol = sp.Symbol(f"d{text(derivative.expr)}/d{' d'.join(map(text, variables))}", real=True)
        verifier.quantities.setdefault(symbol, Quantity(symbol.name, symbol, sp.latex(derivative), REAL))
        _OPAQUE[symbol] = derivative
        return symbol

    return expr.replace(lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, sp.Symbol)
                        and e.expr not in verifier.facts and all(v != e.expr for v in e.variables), named)
