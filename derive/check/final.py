"""The final result of a derivation checked line by line: which result its last line reaches.

A derivation ends at one of the problem's targets (Var(W) = 2/(n_in + n_out)), or it stops on the
way, at a result the reference derives (seed 000 §3.2 stops at the recursion Var(z^(l)) =
M_(l-1) Var(W) E[a^2]: "the rest is as for ReLU"), or at a definition of the problem (seed 000
§2.5 only rewrites the pooled layer). The last line is judged against the target its left side
names; where it names none, against the target its value equals; else against the reference's
own lines: a last line that follows and states one of them reached that result (``correct``, the
result named by its quantity and ``reached``: the reference's rule), and a last line that follows
and reaches none is ``no_target``, never correct. A last line that does not follow is never
correct: it is judged against the target it should have arrived at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from ..engine import Derivation
from ..errors import VerificationError
from ..verify import Verifier
from .bindings import loss_derivative, put_back
from .conventions import Convention, under_convention
from .steps import Knowledge, Link, _difference, _equivalent, _reference_rules, _same

#: the rules of a definition link that are not the problem's own (a name of one's own, a premise of
#: a part, a name bound in a chain, a layer's own form a = f(z) state nothing the problem derives)
_NOT_THE_PROBLEMS = ("own-name", "premise", "name", "layer-activation")


def final_result(known: Knowledge, derivation: Derivation, subject, value, expected=None,
                 last: list[Link] | None = None, own: Own | None = None) -> dict:
    """Compare the last result with the target it is about: the one its left side names and its
    value equals; where the last line does not follow, the one it should have arrived at; where it
    follows (``last``: its links, all accepted, and no line before is wrong) and names no target, the reference's result or the
    problem's definition it states (``correct``), or ``no_target``. A last line about the loss's
    derivative by a name the student bound (``own``) is judged against that derivative."""
    if value is None:
        return {"target": None, "verdict": "missing"}
    if any(isinstance(e, sp.Basic) and e.has(sp.Order) for e in (value, expected, subject)):
        return {"target": None, "verdict": "incorrect"}  # a Taylor expansion is a step, never a result
    targets = list(derivation.targets.values())
    about = [t for t in targets if subject is not None and _same(known.plain, subject, t.lhs)]
    verdict = _own_gradient(known, subject, value, own) if not about and own is not None else None
    if verdict is not None:
        return {"target": own.latex, "verdict": verdict, **({"reached": "own-gradient"} if verdict == "correct" else {})}
    if not about and expected is None and last is not None:
        reaching = [t for t in targets if _agrees(known.full, value, t.rhs, known.given)]
        if not reaching:
            return _reached(known, subject, value, last)
    about = about or targets
    aim = expected if expected is not None else value
    chosen = next((t for t in about if _agrees(known.full, aim, t.rhs, known.given)), about[-1])
    try:
        correct = known.plain.compare(value, chosen.rhs, thorough=False).certificate is not None \
            or under_convention(known.plain, known.conventions, value, chosen.rhs, {}) is not None
    except VerificationError:  # evaluable at no point: the result is not judged, and says so
        return {"target": chosen.name, "verdict": "unevaluable"}
    return {"target": chosen.name, "verdict": "correct" if correct else "incorrect"}


def _reached(known: Knowledge, subject, value, last: list[Link]) -> dict:
    """What a last line that follows and names no target reaches: a line of the reference (its left
    side and its value on one of the reference's lines, in that order), an equation the reference
    states, or the problem's definition of a quantity (a definition link of the problem's own)."""
    name = _key(subject)
    definition = next((lk for lk in last if lk.verdict == "definition" and lk.rule not in _NOT_THE_PROBLEMS), None)
    if definition is not None and len(last) == 1:
        return {"target": name, "verdict": "correct", "reached": definition.rule}
    if subject is None or not all(lk.verdict in ("equal", "valid", "skips", "definition") for lk in last):
        return {"target": None, "verdict": "no_target"}
    rule = _reference_result(known, subject, value)
    if rule is not None:
        return {"target": name, "verdict": "correct", "reached": rule}
    return {"target": None, "verdict": "no_target"}


@dataclass(frozen=True)
class Own:
    """What a derivation in the student's own names ends on: the names it bound (``bound``: name ->
    binding, :mod:`.bindings`), the conventions its last line was read under (one output unit), its
    subject's left side as written (``latex``) and as read, before its bound names were put back
    (``subject``)."""

    bound: Mapping
    conventions: tuple[Convention, ...]
    latex: str
    subject: sp.Basic | None


def _own_gradient(known: Knowledge, subject, value, own: Own) -> str | None:
    """The verdict on a last line about the loss's derivative by a name the student bound (seed 002
    Q3's dl_n/dw_ij^(2)): its value against that derivative with the bindings put back, as written
    or under the one convention of its last line that reads the subject; None where neither reads it."""
    if loss_derivative(own.subject, own.bound) is None:
        return None
    put = put_back(own.subject, own.bound)
    if put != own.subject:
        return "correct" if _agrees(known.full, value, put, known.given) else "incorrect"
    readings = [c for c in own.conventions if c.kind == "one_output" and subject in dict(c.substitution)]
    if not readings:
        return None
    return "correct" if under_convention(known.full, readings[:1], subject, value, known.given) else "incorrect"


def _reference_result(known: Knowledge, subject, value) -> str | None:
    """The rule of the reference's line (or equation) that ``subject = value`` states, if any."""
    try:
        rules = _reference_rules(known, subject, value)
        if rules:
            return rules[-1]
        difference = _difference(known, subject, value)
        return next((rule for reference, rule in known.equations
                     if _equivalent(difference, known.full.unfold(reference, known.given).doit())), None)
    except Exception:  # noqa: BLE001 - a result SymPy cannot place reaches nothing the reference derives
        return None


def _key(subject) -> str | None:
    """The name of the quantity a line is about (its family for an entry, a function for its value)."""
    if isinstance(subject, sp.Indexed):
        return str(subject.base)
    if isinstance(subject, sp.core.function.AppliedUndef):
        return str(subject.func)
    return None if subject is None else sp.sstr(subject)


def _agrees(verifier: Verifier, a: sp.Basic, b: sp.Basic, given: Mapping) -> bool:
    """Whether ``a`` equals ``b`` (False where they can be evaluated at no point)."""
    try:
        return verifier.compare(a, b, given=given, thorough=False).certificate is not None
    except VerificationError:
        return False
