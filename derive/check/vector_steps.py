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
from sympy.core.function import AppliedUndef

from ..engine import Derivation
from ..notation import REAL, Quantity
from . import vectors
from .decide import private_table, problem_table
from .opaque import opaque, revealed
from .reader import ReadError
from .steps import Knowledge, Link, counterexample_text, definition, knowledge
from .timed import failure_kind

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
    shift = layer_shift(table, left, plan[0])
    for size in plan:
        sides = [vectors.read_at(text, table, size, shift).value for text in (left, right)]
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
                if _agree_as_named(verifier, a, b, given):
                    continue
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


#: The layer shifts tried, in order, for a line whose left side names no layer of the problem as written.
SHIFTS = (0, 1, -1)


def layer_shift(table, left: str, size: dict) -> int:
    """The shift of every layer label that makes the line's left side a family of the problem
    (delta^(l-1) = (W^(l))^T delta^(l) ... read with +1 where the problem names delta^(l) and
    delta^(l+1)): a statement about every layer l holds shifted exactly when it held as written. 0
    when no shift does (the line is then read as written: a layer of its own is a quantity of its own)."""
    families = {v for v in table.names.values() if isinstance(v, sp.IndexedBase)}
    for shift in SHIFTS:
        try:
            value = vectors.read_at(left, table, size, shift).value
        except ReadError:
            continue
        bases = {e.base for e in getattr(value, "atoms", lambda *_: set())(sp.Indexed)}
        if bases and bases <= families:
            return shift
    return 0


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
        return [Link("undecided", counterexample={"failure": failure_kind(error)})]


#: The catalog entry whose families a vector line is read in where the problem states the backward pass
#: of a fully connected layer only for single units (xavier's delta_j^(l-1) = sum_i W_ij delta_i f'(z_j)).
LAYER_REFERENCE = "mlp-backprop"
#: The rule of that unit statement in the problem's derivation (:func:`derive.catalog.initialization.error_recursion`).
UNIT_BACKWARD = "error-backward"


def layer_reference(derivation: Derivation, lines: list) -> tuple | None:
    """What vector lines are judged with in a problem with no sizes of its own that states the
    backward pass of a fully connected layer unit by unit: :data:`LAYER_REFERENCE` and its reading
    table (got ready before the first line: the entry's derivation, when not cached, takes seconds,
    which are no line's). None where the problem states no such pass or no line is a vector form."""
    if not any(step.rule == UNIT_BACKWARD for step in derivation.steps) \
            or not any(vectors.is_vector_form(part) for line in lines for part in line.parts if part):
        return None
    return problem_table(LAYER_REFERENCE, True)


def reference_links(reference: tuple | None, line) -> list[Link] | str | None:
    """The links of a vector line judged with ``reference`` (:func:`layer_reference`): entry by entry
    at the sizes of :data:`LAYER_REFERENCE`, whose definitions (z^(l+1) = W^(l+1) a^(l) + b^(l+1),
    the chain rule) hold for any layer; the line's layers are shifted to that entry's
    (:func:`layer_shift`). None without a reference or for a line that continues another (nothing
    to judge it with)."""
    if reference is None or not line.parts[0]:
        return None
    derivation, shared = reference
    table = private_table(shared)  # names the line invents stay in this line's copy
    plan = vectors.plan(derivation.targets.values(), table.names)
    return vector_links(knowledge(derivation, table), table, line, line.parts, plan)


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


def _agree_as_named(verifier, a: sp.Basic, b: sp.Basic, given: dict) -> bool:
    """Whether the entries agree with the problem's families that the right side names kept as
    they are (delta^(l) in nabla_W = delta^(l) (a^(l-1))^T: the left side's chain rule gives delta_i
    a_j, and delta's own chain through the next layer need not be written out n times on each side).
    A family is kept only where nothing differentiates it (kept, its derivative would be 0); an
    identity with the family free holds for its value too. False (then compared in full) otherwise."""
    facts = verifier.facts
    named = {e.base for e in b.atoms(sp.Indexed) if e.base in facts}
    meanings = [a, b, *(v for v in facts.values() if isinstance(v, sp.Basic))]
    differentiated = _reached(facts, [d.expr for m in meanings for d in m.atoms(sp.Derivative, sp.Subs)])
    kept = named - differentiated
    if not kept:
        return False
    held = copy.copy(verifier)
    held.facts = {k: v for k, v in facts.items() if k not in kept}
    try:
        a, b = (_written_out(held, e, given) for e in (a, b))
        return held.compare(a, b, given=given, thorough=False).certificate is not None
    except Exception:  # noqa: BLE001 - compared in full instead
        return False


def _reached(facts: dict, expressions: list) -> set:
    """The families the expressions hold, and those their families' (and symbols', functions')
    meanings hold, to the end (z^(l+1) holds a^(l), which holds z^(l); L holds a^(L)): what a
    derivative of them differentiates."""
    seen: set = set()
    waiting = [e for e in expressions if isinstance(e, sp.Basic)]
    while waiting:
        expr = waiting.pop()
        held = {e.base for e in expr.atoms(sp.Indexed)} | expr.atoms(sp.IndexedBase) \
            | {s for s in expr.free_symbols if s in facts} | {f.func for f in expr.atoms(AppliedUndef) if f.func in facts}
        for family in held:  # a family, or a symbol or function with a meaning (the loss L holds a^(L))
            if family not in seen:
                seen.add(family)
                meaning = facts.get(family)
                if isinstance(meaning, sp.Basic):
                    waiting.append(meaning)
    return seen


def _written_out(verifier, expr: sp.Basic, given: dict) -> sp.Basic:
    """``expr`` with the reference's definitions unfolded and its sums (now of a concrete length)
    written out; as it was where SymPy cannot."""
    try:
        return verifier.unfold(expr, given).doit()
    except Exception:  # noqa: BLE001 - what SymPy cannot write out is compared as it is
        return expr


def applied_entrywise(table, line, values: list) -> list | None:
    """``values`` read at one entry where the line is about a function applied entry by entry to
    families written whole (sigma(z) = 1/(1 + e^-z), sigma'(z) = sigma(z)(1 - sigma(z)) with z the
    problem's z^(l)): its left side is a function of the problem (or its derivative) at those
    families alone, no other family is written whole and no vector mark is written; each family is
    then one real variable (a statement about every entry is one about any number). None otherwise
    (the line is judged as written)."""
    if not values or values[0] is None or any(vectors.is_vector_form(part) for part in line.parts if part):
        return None
    left = values[0]
    applied = left.expr if isinstance(left, sp.Subs) and isinstance(left.expr, sp.Derivative) else left
    applied = applied.expr if isinstance(applied, sp.Derivative) else applied
    arguments = left.point if isinstance(left, sp.Subs) else getattr(applied, "args", ())
    functions = {f for f in table.functions.values() if isinstance(f, sp.FunctionClass)}
    if getattr(applied, "func", None) not in functions or not arguments \
            or not all(isinstance(a, sp.IndexedBase) for a in arguments):
        return None
    written = set().union(*(v.atoms(sp.IndexedBase) - {e.base for e in v.atoms(sp.Indexed)}
                            for v in values if isinstance(v, sp.Basic)))
    if not written <= set(arguments):
        return None
    variables = {}
    for family in arguments:
        variables[family] = sp.Symbol(str(family), real=True)
        table.quantities.setdefault(variables[family], Quantity(str(family), variables[family], str(family), REAL))
    return [v.xreplace(variables) if isinstance(v, sp.Basic) else v for v in values]


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
