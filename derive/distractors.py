"""Generated options of a choice question on a derivation's target (``distractors = "slips"``).

The right answer is the target's own value from the derivation (at the problem's parameters);
the wrong options are the slips the checker's feedback knows for that target, built by the one
table :data:`derive.check.diagnosis.SLIPS` (σ(1+σ) for σ(1-σ), Kaiming without its 2, n_in alone
for Xavier, then the general ones: the sign flipped, a factor 2, ...), in that table's order.
Each option is verified by the checker's :class:`~derive.verify.Verifier` to differ from the right
answer and from every option before it (a point where their values differ: a counterexample), and
its printed LaTeX is read back by the course reader and verified equal to the formula it prints.
"""

from __future__ import annotations

import sympy as sp

from .errors import UsageError, VerificationError


class DistractorError(UsageError):
    """Not enough verified wrong options for a target."""


def formulas(derivation, target: str, values: dict, count: int) -> list[sp.Basic]:
    """The right answer then ``count`` verified-wrong slips of ``target``, as SymPy expressions.

    Args:
        derivation: a catalog entry's derivation.
        target: one of its targets.
        values: parameter values by quantity key (``{"n_in": 256}``), substituted in every option.
        count: how many wrong options.
    """
    from .check.decide import private_table, problem_table, problem_verifier
    from .check.diagnosis import SLIPS

    if derivation.name not in _catalog_names():
        raise DistractorError(f"distractors = \"slips\" needs a catalog entry ('entry'); "
                              f"'{derivation.name}' is not one")
    _, shared = problem_table(derivation.name, True)
    chosen = derivation.target(target)
    table = private_table(shared, chosen.lhs.free_symbols | chosen.rhs.free_symbols | {chosen.lhs})
    verifier = problem_verifier(table, derivation)
    symbols = {q.symbol: values[q.key] for q in derivation.quantities if q.key in values}
    right = chosen.rhs
    found = [right.subs(symbols)]
    for slip in SLIPS:
        if len(found) > count:
            break
        if not slip.applies(derivation.name, target):
            continue
        try:
            wrong = slip.wrong(right, derivation)
        except (TypeError, ValueError, KeyError, ZeroDivisionError):
            continue
        if wrong is None:
            continue
        wrong = wrong.subs(symbols)
        if wrong.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or _implausible(wrong, found[0]):
            continue
        if not all(_differ(verifier, wrong, other) for other in found):
            continue
        found.append(wrong)
    if len(found) == 1:
        raise DistractorError(f"the checker knows no slip of target '{target}' of '{derivation.name}' that gives "
                              "a different answer: write its options ('options', 'answer')")
    if len(found) <= count:
        raise DistractorError(f"only {len(found) - 1} wrong options verified for target '{target}' of "
                              f"'{derivation.name}'; ask for count = {len(found) - 1} at most")
    return found


def _implausible(wrong: sp.Basic, right: sp.Basic) -> bool:
    """A wrong option no student would pick: a negative multiple of a right answer SymPy knows is
    positive (a variance of -2/n_in)."""
    return bool(right.is_positive) and bool(sp.cancel(wrong / right).is_negative)


def _catalog_names() -> set[str]:
    from . import catalog

    return {entry.name for entry in catalog.entries()}


def _differ(verifier, a: sp.Basic, b: sp.Basic) -> bool:
    """Whether ``a`` and ``b`` are shown different: a point where their values differ."""
    if a == b:
        return False
    try:
        return verifier.compare(a, b, thorough=False).counterexample is not None
    except VerificationError:
        return False


def latex(derivation, expr: sp.Basic, quantities=None) -> str:
    """One option's formula printed in a notation (the derivation's own quantities by default)."""
    from .printing import NotationLatexPrinter

    return NotationLatexPrinter(derivation.quantities if quantities is None else quantities).doprint(expr)


#: options already generated, by (entry, target, parameter values, count): a student's variant
#: rebuilds its sheet (derive.variants), and the verification costs up to seconds per target
_MADE: dict[tuple, tuple[list[str], list[sp.Basic]]] = {}


def options(derivation, target: str, values: dict, count: int) -> tuple[list[str], list[sp.Basic]]:
    """The options of a choice on ``target`` (right answer first) as ``$LaTeX$`` texts in the
    derivation's own notation, and their formulas; each text read back by the course reader and
    verified equal to its formula (so what is printed is what was verified)."""
    key = (derivation.name, target, tuple(sorted((k, str(v)) for k, v in values.items())), count)
    if key not in _MADE:
        _MADE[key] = _options(derivation, target, values, count)
    texts, found = _MADE[key]
    return list(texts), list(found)


def _options(derivation, target: str, values: dict, count: int) -> tuple[list[str], list[sp.Basic]]:
    from .check.decide import private_table, problem_table, problem_verifier
    from .check.reader import ReadError, read

    found = formulas(derivation, target, values, count)
    texts = []
    for expr in found:
        tex = latex(derivation, expr)
        table = private_table(problem_table(derivation.name, True)[1])
        try:
            back = read(tex, table).value
        except ReadError as error:
            raise DistractorError(f"option '{tex}' does not read back: {error}") from None
        comparison = problem_verifier(table, derivation).compare(back, expr, thorough=False)  # proved or sampled
        if comparison.certificate is None:
            raise DistractorError(f"option '{tex}' reads back as another formula")
        texts.append(f"${tex}$")
    return texts, found
