"""The parts of a reference derivation, each with its own facts.

An entry often derives several results one after another (average pooling, then max pooling; the
variance recursion with a general gain g, then the gain of the identity, of PReLU...). What one part
assumes is not true in another: the general part's E[a^2] = g Var(z) is not the identity's E[a^2] =
Var(z), and the name a^(l) is the average in one part and the maximum in the next. A part ends where
the derivation names a result (a target); it knows the facts its own and the earlier parts derived,
and only its own steps' assumptions (``given``). Where a name of the problem means one quantity in
one part and another quantity of the same notation in the next, the part reads it as its own.

A link that does not follow from the whole reference is judged again in each part (see
:func:`in_parts`): it holds if it follows in one part, with that part's facts alone, never with the
facts of two parts mixed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import sympy as sp

from ..engine import EQUALS, Derivation
from .table import narrower


def part_ranges(derivation: Derivation) -> list[tuple[int, int]]:
    """The steps of each part, as ``(start, end)`` ranges: a part ends at the step whose line is a
    target (``lhs = rhs`` as the target names it); steps after the last target join the last part."""
    targets = list(derivation.targets.values())
    ranges, start, subject, wanted = [], 0, None, 0
    for index, step in enumerate(derivation.steps):
        if step.kind != EQUALS:
            subject = step.lhs
        while wanted < len(targets) and (subject, step.rhs) == (targets[wanted].lhs, targets[wanted].rhs):
            wanted += 1
            if index + 1 > start:
                ranges.append((start, index + 1))
                start = index + 1
    if start < len(derivation.steps):
        ranges = [*ranges[:-1], (ranges[-1][0], len(derivation.steps))] if ranges else [(start, len(derivation.steps))]
    return ranges


def renames(derivation: Derivation, start: int, end: int) -> dict[sp.Basic, sp.Basic]:
    """In the steps ``start:end``, a quantity written as another of the problem's quantities is
    written (a^(l): the average, or the maximum), read as the one those steps use; never as a narrower
    one (vanishing's z of the ReLU part, positive: the active units, a condition a line states)."""
    used = derivation.steps[start:end]

    def appears(symbol: sp.Basic) -> bool:
        return any(side is not None and side.has(symbol) for step in used for side in (step.lhs, step.rhs))

    by_latex: dict[str, list[sp.Basic]] = {}
    for quantity in derivation.quantities:
        if quantity.latex:
            by_latex.setdefault(quantity.latex, []).append(quantity.symbol)
    mapping: dict = {}
    for symbols in by_latex.values():
        own = [s for s in symbols if appears(s)]
        if len(symbols) > 1 and len(own) == 1:  # never into the same name with more assumptions
            mapping.update({s: own[0] for s in symbols if s != own[0] and not narrower(own[0], s)})
    return mapping


def recursion(step) -> dict[sp.IndexedBase, sp.Lambda]:
    """A step that holds under a recursion over a family (``Var(z)_l = n_{l-1} Var(W)_l g Var(z)_{l-1}``
    at every layer l, from ``Var(z)_1``, the one entry of the family the step names): that family's
    meaning, the recursion solved from that entry on (``Var(z)_l = Var(z)_1 prod_{k=2}^{l} n_{k-1}
    Var(W)_k g``), so that the step's equation is compared at concrete sizes (L = 2..16) entry by entry."""
    learned = {}
    for key, value in step.given:
        if not (isinstance(key, sp.Indexed) and len(key.indices) == 1 and key.indices[0].is_Symbol
                and key.indices[0].is_integer):
            continue
        index, base = key.indices[0], key.base
        factor = sp.cancel(value / base[index - 1])
        if factor.has(base) or not value.has(base[index - 1]):
            continue  # not a first-order product recursion
        stated = {e.indices[0] for side in (step.lhs, step.rhs) if side is not None
                  for e in side.atoms(sp.Indexed) if e.base == base and e.indices[0].is_Integer}
        if len(stated) != 1:
            continue
        first, = stated
        k = sp.Dummy("k", integer=True)
        learned[base] = sp.Lambda(index, sp.Piecewise(
            (base[first], sp.Le(index, first)), (base[first] * sp.Product(factor.xreplace({index: k}), (k, first + 1, index)),
                                                 True)))
    return learned


@dataclass(frozen=True)
class Parts:
    """The parts of a reference: each part's knowledge with the names it reads as its own, and the
    quantities the parts disagree on (E[a^2]: g Var(z) in one, Var(z) in the next)."""

    each: tuple[tuple[object, dict], ...]
    conflicts: frozenset
    #: the last link a part alone held: its right side and that part (the chain goes on in it)
    last: dict = field(default_factory=dict, compare=False)

    def mentioned(self, known, *expressions: sp.Basic) -> bool:
        """Whether the expressions name a quantity the parts disagree on (through what the
        reference derived: Var(Wa) = Var(W) E[a^2])."""
        if not self.conflicts:
            return False
        return any(known.full.unfold(e, keep=self.conflicts).has(*self.conflicts) for e in expressions)


def parts(derivation: Derivation, table, build: Callable) -> Parts | None:
    """Each part's knowledge (built by ``build``, :func:`derive.check.steps.knowledge`, from the steps
    up to the part's end, the earlier parts' steps without their assumptions) and the names it reads
    as its own quantities; ``None`` for a derivation of one part."""
    ranges = part_ranges(derivation)
    if len(ranges) < 2:
        return None
    found = []
    for start, end in ranges:
        earlier = tuple(replace(step, given=()) for step in derivation.steps[:start])
        steps = (*earlier, *derivation.steps[start:end])
        found.append((build(replace(derivation, steps=steps), table), renames(derivation, start, end)))
    values: dict = {}
    for part, _ in found:
        for key in {*part.given, *part.full.facts}:
            values.setdefault(key, set()).add(part.given.get(key, part.full.facts.get(key)))
    return Parts(tuple(found), frozenset(key for key, seen in values.items() if len(seen) > 1))


def in_parts(known, judged, judge: Callable, *expressions: sp.Basic):
    """The verdict of a link in the parts of the reference: ``judged``, its verdict with the whole
    reference's knowledge, where that is wrong and no part holds it either, or where it holds and
    names nothing the parts disagree on; else the first verdict that is not wrong when the link is
    judged (``judge(part, *expressions)``) in one part alone, its names read as that part's own
    (a link that holds only with the facts of two parts at once is wrong: the first part's verdict)."""
    if known.parts is None or (judged.verdict != "wrong" and not known.parts.mentioned(known, *expressions)):
        return judged
    first, each = None, list(enumerate(known.parts.each))
    if known.parts.last.get("end") == expressions[0]:  # the chain goes on in the part that held its last
        at = known.parts.last["part"]  # link, or in the next (a part ends inside a chain: E[a^2] = g Var(z))
        each = each[at:at + 2]
    for index, (part, mapping) in each:
        alone = judge(part, *(e.xreplace(mapping) if mapping else e for e in expressions))
        if alone.verdict != "wrong":
            known.parts.last.update(end=expressions[-1], part=index)
            return alone
        first = first or alone
    return judged if judged.verdict == "wrong" else first
