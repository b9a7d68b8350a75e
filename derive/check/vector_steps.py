"""The lines of a derivation written with vectors and matrices, judged entry by entry.

``z^(l) = W^(l) a^(l-1) + b^(l)``, ``delta^(l) = ((W^(l+1))^T delta^(l+1)) odot sigma'(z^(l))``,
``nabla_(W^(l)) = delta^(l) (a^(l-1))^T``: each side is read at every concrete size the problem's
results were checked at (:func:`derive.check.vectors.plan`), with each family written whole as the
vector or matrix of its entries, and the two sides are compared entry by entry with the reference's
knowledge (:mod:`derive.check.steps`). A line whose left side the problem defines is a definition.
"""

from __future__ import annotations

import copy
import re
from itertools import pairwise

import sympy as sp

from ..engine import Derivation
from . import vectors
from .opaque import opaque, revealed
from .reader import ReadError
from .steps import Knowledge, Link, counterexample_text, definition

#: Random points each entry of a vector line is compared at (every entry is a comparison of its own).
ENTRY_POINTS = 4


def vector_link(known: Knowledge, table, left: str, right: str, plan: list[dict], defines: bool) -> Link:
    """Judge ``left = right`` written with vectors or matrices (z^(l) = W^(l) a^(l-1) + b^(l)):
    both read at every concrete size of ``plan``, compared entry by entry (a ``definition`` when
    ``defines`` and every entry of the left side is defined so by the problem).

    Raises:
        ReadError: a side cannot be read as a vector form.
    """
    shown, defined = ", ".join(f"{k} = {v}" for size in plan for k, v in size.items()), True
    verifier = copy.copy(known.full)
    verifier.points = ENTRY_POINTS  # every entry is a comparison of its own: together they sample many points
    for size in plan:
        sides = [vectors.read_at(text, table, size).value for text in (left, right)]
        shapes = [getattr(side, "shape", (1, 1)) for side in sides]
        if shapes[0] != shapes[1]:
            left_shape, right_shape = ("{} x {}".format(*shape) for shape in shapes)
            return Link("wrong", counterexample={"point": {str(k): str(v) for k, v in size.items()},
                                                 "left": left_shape, "right": right_shape},
                        sides=(left.strip(), right.strip()))
        pairs = list(zip(*(list(side) if isinstance(side, sp.MatrixBase) else [side] for side in sides), strict=True))
        for number, (a, b) in _entries(pairs, shapes[0], size is not plan[0]):
            a, b = opaque(known.full, a), opaque(known.full, b)
            judged = definition(known, a, b, size) if defines else None
            defined = defined and judged is not None and judged.verdict == "definition"
            if judged is None or judged.verdict != "definition":
                given = {**known.given, **size}
                # at a concrete size every sum is written out: the entries compare as plain algebra
                a, b = (_written_out(verifier, e, given) for e in (a, b))
                comparison = verifier.compare(a, b, given=given, thorough=False)
                if comparison.counterexample is not None:
                    counter = counterexample_text(comparison.counterexample)
                    counter["point"] = {**{str(k): str(v) for k, v in size.items()}, "entry": str(number + 1),
                                        **counter["point"]}
                    return Link("wrong", counterexample=counter, sides=(left.strip(), right.strip()))
    if defined and defines:
        return Link("definition", "definition", ("definition",), sizes=shown, name=left.strip())
    return Link("valid", "entrywise", ("entrywise",), sizes=shown)


def _entries(pairs: list, shape: tuple[int, int], larger: bool) -> list[tuple[int, tuple]]:
    """The entries compared at one size, numbered: every entry at the first size; at a larger one
    (each entry costs an unfolding) the first, the last and a corner off the diagonal, which see
    the new size in every index (a count written as a number, a bound one short)."""
    numbered = list(enumerate(pairs))
    if not larger or len(numbered) <= 3:
        return numbered
    corners = {0, len(numbered) - 1, shape[1] - 1}
    return [numbered[k] for k in sorted(corners)]


def vector_links(known: Knowledge, table, line, texts: list[str], plan: list[dict]) -> list[Link] | str:
    """The links of a line written with vectors (``texts``: its parts, after the first part of the
    line it continues and that line's last), or why it cannot be read."""
    parts = texts if line.parts[0] else texts[1:]
    try:
        return [vector_link(known, table, a, b, plan, position == 0 and len(parts) == 2 and bool(line.parts[0])
                            and not line.implies) for position, (a, b) in enumerate(pairwise(parts))]
    except ReadError as error:
        return str(error)
    except Exception as error:  # noqa: BLE001 - SymPy fails in many ways: the line is not judged
        return [Link("undecided", counterexample={"reason": type(error).__name__})]


def vector_final(known: Knowledge, derivation: Derivation, table, texts: list[str]) -> dict:
    """The last result written with vectors, compared with the target its left side names."""
    verifier = copy.copy(known.plain)
    verifier.points = ENTRY_POINTS
    for target in derivation.targets.values():
        try:
            compared = vectors.compare(f"{texts[0]} = {texts[-1]}", target, table, verifier)
        except ReadError:
            continue
        if compared is not None:
            return {"target": target.name, "verdict": "correct" if compared[0].certificate else "incorrect"}
    return {"target": None, "verdict": "incorrect"}


def _written_out(verifier, expr: sp.Basic, given: dict) -> sp.Basic:
    """``expr`` with the reference's definitions unfolded and its sums (now of a concrete length)
    written out; as it was where SymPy cannot."""
    try:
        return verifier.unfold(expr, given).doit()
    except Exception:  # noqa: BLE001 - what SymPy cannot write out is compared as it is
        return expr


#: A unit quantity's plain text: its name, one index, its layer (delta_i^(l), z_j^(l-1)).
_UNIT = re.compile(r"^(?P<name>[A-Za-z]+)_(?P<index>[a-z])\^\((?P<layer>[^()]+)\)$")


def entry_definition(known: Knowledge, new: set, lhs: sp.Basic, rhs: sp.Basic) -> Link | None:
    """``delta^(l) = dL/dz^(l)`` where the problem knows only the units (delta_i^(l), z_i^(l)): the
    line read at its generic entry, delta_i^(l) = dL/dz_i^(l), is a ``definition`` when that is the
    problem's. Only a line with one vector on the right (entry by entry, whatever it does to it) is
    read so; anything else, or a disagreement, is None (the line is then judged as written)."""
    units: dict[str, list] = {}
    for symbol, text in known.names.items():
        match = _UNIT.match(text)
        if match and symbol in {str(s) for s in known.plain.quantities if isinstance(s, sp.Symbol)}:
            units.setdefault(f"{match['name']}^({match['layer']})", []).append(symbol)
    whole = {s: units[s.name][0] for s in new if len(units.get(s.name, ())) == 1}
    symbols = {str(s): s for s in known.plain.quantities if isinstance(s, sp.Symbol)}
    lhs, rhs = revealed(lhs), _derivatives(revealed(rhs), symbols, {s.name: s for s in whole})
    if lhs not in whole or len(rhs.atoms(sp.Symbol) & whole.keys()) != 1:
        return None
    entry = {s: symbols[name] for s, name in whole.items()}
    judged = definition(known, entry[lhs], opaque(known.full, rhs.xreplace(entry)))
    return judged if judged is not None and judged.verdict == "definition" else None


#: The reader's name for a derivative between quantities it does not relate: d(loss)/d(z^(l)).
_READER_DERIVATIVE = re.compile(r"^d\((?P<top>[^()]+)\)/d\((?P<variable>.+)\)$")


def _derivatives(expr: sp.Basic, symbols: dict, whole: dict) -> sp.Basic:
    """``expr`` with the reader's d(L)/d(z^(l)) of the problem's L and a vector written whole taken
    back to the derivative it names (so that its entry can be read)."""
    back = {}
    for symbol in expr.atoms(sp.Symbol):
        match = _READER_DERIVATIVE.match(symbol.name)
        if match and match["top"] in symbols and match["variable"] in whole:
            back[symbol] = sp.Derivative(symbols[match["top"]], whole[match["variable"]])
    return expr.xreplace(back)
