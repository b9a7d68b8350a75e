"""Conventions a written line may be right under, named instead of failed.

A reference derivation holds conventions as data: a quantity it defines as another one extended
by zero (the convolution's error delta~^(l+1), which is delta^(l+1) inside the output map and 0
outside it). A student who writes delta^(l+1)_(i-u)(j-v) for every u, v means that extension:
the line is right under the convention "delta^(l+1) is 0 outside its map", and the verdict says
so. One mechanism reads every such quantity of every problem; the problem's own reading (the
course's) is tried first, so a line right as written is never said to need a convention, and a
line wrong under every convention (a flipped kernel) stays wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from ..engine import Derivation
from ..verify import Verifier


@dataclass(frozen=True)
class Convention:
    """A reading of the student's quantities the reference allows: ``substitution`` (what a
    written quantity stands for under it) and ``kind`` (the wording key, ``[steps]
    convention_<kind>``), about the quantity written ``latex``; or (``kind`` ``kink``) a value
    chosen where a piecewise function jumps (ReLU'(0)), which no substitution decides; or (``kind``
    ``condition``) a sign its reason states, z_l > 0, as written ``latex``
    (:mod:`derive.check.conditions`)."""

    kind: str
    substitution: tuple[tuple[sp.Basic, sp.Basic], ...]
    latex: str
    #: what else its wording says (the point of a kink, the values taken there)
    fields: tuple[tuple[str, str], ...] = ()


def conventions_of(derivation: Derivation) -> tuple[Convention, ...]:
    """The conventions of a reference derivation: every quantity it defines as another family
    extended by zero (``X~(r, c) = X(r, c)`` inside a range, ``0`` outside)."""
    found = []
    latex = {q.symbol: q.latex for q in derivation.quantities}
    for quantity in derivation.quantities:
        base = _extended(quantity.meaning)
        if isinstance(quantity.symbol, sp.IndexedBase) and base is not None:
            found.append(Convention("zero_outside", ((base, quantity.symbol),), latex.get(base, str(base))))
    return tuple(found)


def _extended(meaning: sp.Basic | None) -> sp.IndexedBase | None:
    """The family ``meaning`` extends by zero: Lambda(args, Piecewise((F[args], inside), (0, True)))."""
    if not isinstance(meaning, sp.Lambda) or not isinstance(meaning.expr, sp.Piecewise):
        return None
    pieces = meaning.expr.args
    if len(pieces) != 2 or pieces[1].expr != 0 or pieces[1].cond != sp.true:
        return None
    inside = pieces[0].expr
    if isinstance(inside, sp.Indexed) and tuple(inside.indices) == tuple(meaning.variables):
        return inside.base
    return None


def under_convention(verifier: Verifier, conventions: tuple[Convention, ...], a: sp.Basic, b: sp.Basic,
                     given: Mapping) -> Convention | None:
    """The first convention under which ``a = b`` holds (the written quantities read as it says),
    or None. Only conventions about a quantity the line writes are tried."""
    for convention in conventions:
        substitution = dict(convention.substitution)
        if not any(e.has(old) for e in (a, b) for old in substitution):
            continue
        read_a, read_b = (_substituted(e, substitution) for e in (a, b))
        try:
            comparison = verifier.compare(read_a, read_b, given=given, thorough=False)
        except Exception:  # noqa: BLE001, S112 - a reading SymPy cannot evaluate is no convention
            continue
        if comparison.certificate is not None:
            return convention
    return None


def _substituted(expr: sp.Basic, substitution: Mapping) -> sp.Basic:
    """``expr`` read as a convention says: its families' entries (and names) as the substitution maps them."""
    # a condition's name read with its sign (z_l > 0); a line's value read under one output unit
    names = {old: new for old, new in substitution.items() if not isinstance(old, sp.IndexedBase)}
    if names:
        expr = expr.xreplace(names)
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base in substitution,
                        lambda e: substitution[e.base][e.indices])


def kink(verifier: Verifier, a: sp.Basic, b: sp.Basic) -> Convention | None:
    """Where ``a = b`` holds everywhere but at a breakpoint of a piecewise side (ReLU'(0) taken as 1
    where the line before, or the problem, takes 0): that choice, as a convention to name; None
    where the two agree there too (or are not piecewise)."""
    if not (a.has(sp.Piecewise) or b.has(sp.Piecewise)):
        return None
    try:
        sides = [verifier.unfold(e) for e in (a, b)]
    except Exception:  # noqa: BLE001 - what SymPy cannot unfold has no kink to name
        return None
    if not all(side.has(sp.Piecewise) for side in sides):
        return None
    for condition in sorted(set().union(*(side.atoms(sp.core.relational.Relational) for side in sides)), key=str):
        variable, at = condition.lhs, condition.rhs
        # only a variable free in both sides has a point to take: an integral's own variable
        # (PReLU(z)^2 p(z) dz) is bound, and putting a number in for it breaks the integral's limits
        if not (isinstance(variable, sp.Symbol) and at.is_number
                and all(variable in side.free_symbols for side in sides)):
            continue
        try:
            before, value = (side.xreplace({variable: at}) for side in sides)
        except (ValueError, TypeError):  # a side SymPy cannot take at that point names no kink
            continue
        if before.is_number and value.is_number and before != value:
            return Convention("kink", (), sp.latex(variable), (("point", f"{sp.latex(variable)} = {sp.latex(at)}"),
                                                               ("before", sp.latex(before)), ("value", sp.latex(value))))
    return None
