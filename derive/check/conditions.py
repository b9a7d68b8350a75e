"""Conditions a line's reason states: the line holds under them, and its verdict says so.

A student writes ``\\prod_l \\operatorname{ReLU}'(z_l) = \\prod_l 1`` with the reason ``active units
($z_l > 0$)``: the line is wrong for every z_l, right for z_l > 0. A sign condition the reason writes
in its mathematics (``$z_l > 0$``, ``$x < 0$``, ``$w \\ge 0$``), or the condition of the reference rule
the reason names (``along active units`` names the rule ``active-units``, whose wording states
``$z_l > 0$``), is a :class:`~derive.check.conventions.Convention` of kind ``condition``: the quantity
it is about read as a quantity of that sign. The judge tries it only where the line is wrong as
written, so a line right as written never needs it; a line wrong under the condition stays wrong
(``\\prod 0`` under z_l > 0), and a line without a stated condition is judged as written.
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy as sp

from ..notation import Domain, Quantity
from ..render import wording
from .conventions import Convention
from .reader import ReadError, read
from .reasons import rule_hint

#: Inline mathematics in a reason: $...$ (a reason is plain text with math between dollars).
_MATH = re.compile(r"\$([^$]{1,200})\$")
#: A reason that negates the rule it would name: "inactive units", "not active", 非激活的单元.
_NEGATED = re.compile(r"(?:\b(?:in|un|non-?|not\s+|no\s+)|[非未不无没])\s*(?:active|激活)", re.IGNORECASE)
#: The sign a relation against 0 gives its quantity: (assumption, domain bounds (low, high, closed)).
_SIGNS = {
    (sp.StrictGreaterThan, False): ("positive", Fraction(0), None, False),
    (sp.StrictLessThan, True): ("positive", Fraction(0), None, False),
    (sp.StrictLessThan, False): ("negative", None, Fraction(0), False),
    (sp.StrictGreaterThan, True): ("negative", None, Fraction(0), False),
    (sp.GreaterThan, False): ("nonnegative", Fraction(0), None, True),
    (sp.LessThan, True): ("nonnegative", Fraction(0), None, True),
    (sp.LessThan, False): ("nonpositive", None, Fraction(0), True),
    (sp.GreaterThan, True): ("nonpositive", None, Fraction(0), True),
}


def stated_conditions(reason: str, table, rules: frozenset[str] = frozenset()) -> tuple[Convention, ...]:
    """The sign conditions ``reason`` states: in its own mathematics, or (where it names one of the
    reference's ``rules``) in that rule's wording, in either language. Each is a convention whose
    substitution reads the quantity as one of that sign; the quantity gets that domain in ``table``
    (the check's own copy), so the verifier samples it there."""
    if not reason or not reason.strip():
        return ()
    texts = _MATH.findall(reason)
    named = rule_hint(reason)
    # a rule's condition only where the reason writes none of its own and does not negate the rule
    # (inactive units, 非激活单元 are not the rule active-units)
    if not texts and named in rules and not _NEGATED.search(reason):
        for lang in ("en", "zh"):
            texts += _MATH.findall(str(wording(lang)["rules"].get(named, "")))
    found: dict = {}
    for text in texts:
        condition = _condition(text, table)
        if condition is not None and condition.substitution not in found:
            found[condition.substitution] = condition
    return tuple(found.values())


def _condition(text: str, table) -> Convention | None:
    """``X > 0`` (or <, >=, <=, 0 on either side) about a name or a family's entry: the convention
    reading X with that sign; None for any other text (an equation, a bound other than 0)."""
    try:
        value = read(text, table).value
    except ReadError:
        return None
    except Exception:  # noqa: BLE001 - a reason the reader cannot take states no condition
        return None
    if not isinstance(value, sp.core.relational.Relational) or type(value) not in {k[0] for k in _SIGNS}:
        return None
    flipped = value.lhs == 0
    quantity = value.rhs if flipped else value.lhs
    if (value.lhs if flipped else value.rhs) != 0:
        return None
    assumption, low, high, closed = _SIGNS[(type(value), flipped)]
    domain = Domain("real", low=low, high=high, low_open=not closed, high_open=not closed, latex=sp.latex(value))
    if isinstance(quantity, sp.Indexed):
        old = quantity.base
        new = sp.IndexedBase(sp.Symbol(old.label.name, **{assumption: True}))
    elif isinstance(quantity, sp.Symbol):
        old = quantity
        new = sp.Symbol(quantity.name, **{assumption: True})
    else:
        return None
    label = old.label if isinstance(old, sp.IndexedBase) else old
    if old == new or getattr(label, f"is_{assumption}") or _contradicts(old, assumption, table):
        return None  # the quantity has that sign already, or the problem gives it none of it (L < 0)
    pairs = [(old, new), *_family_of(old, assumption, table)]
    for _, made in pairs:
        table.quantities.setdefault(made, Quantity(str(made), made, str(made), domain))
    return Convention("condition", tuple(pairs), text.strip(), (("condition", text.strip()),))


def _contradicts(name: sp.Basic, assumption: str, table) -> bool:
    """Whether the problem's own quantity ``name`` can never have the sign (a size L, a positive family
    read as negative): such a condition states no case of the problem, so it makes no line right."""
    label = name.label if isinstance(name, sp.IndexedBase) else name
    quantity = table.quantities.get(name)
    domain = quantity.domain if quantity is not None else None
    if assumption in ("negative", "nonpositive"):
        return bool(label.is_nonnegative if assumption == "negative" else label.is_positive) or (
            domain is not None and domain.low is not None and domain.low >= 0)
    return bool(label.is_nonpositive if assumption == "positive" else label.is_negative) or (
        domain is not None and domain.high is not None and domain.high <= 0)


def _family_of(name: sp.Basic, assumption: str, table) -> list[tuple[sp.IndexedBase, sp.IndexedBase]]:
    """``z_l`` read alone (outside the product whose index l is) names the entries of the family z the
    line writes z_l of: that family with the sign too."""
    match = re.fullmatch(r"([A-Za-z]+)_\{?([A-Za-z])\}?", getattr(name, "name", ""))
    if not isinstance(name, sp.Symbol) or match is None:
        return []
    objects = [*table.names.values(), *(o for pair in table.ambiguous.values() for o in pair)]
    families = {o for o in objects if isinstance(o, sp.IndexedBase) and o.label.name == match.group(1)
                and not getattr(o.label, f"is_{assumption}")}
    return [(family, sp.IndexedBase(sp.Symbol(family.label.name, **{assumption: True}))) for family in families]
