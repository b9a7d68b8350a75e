"""Deciding whether an answer equals a target: read it, check its left side, compare, explain.

:func:`check` is the whole check of one answer, in this process; :mod:`derive.check.pool`
runs it in worker processes with a hard time limit.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import replace

import sympy as sp
from sympy.core.function import AppliedUndef

from .. import catalog
from ..engine import Derivation
from ..errors import UsageError, VerificationError
from ..notation import LABEL, POSITIVE, REAL, SIZE, UNIT_OPEN, Quantity
from ..printing import NotationLatexPrinter
from ..render import wording
from ..verify import Comparison, Counterexample, Verifier, shown, shown_pair
from . import numeric, vectors
from .compare import Comparer, is_name, value_shape
from .compare import sides as compare_sides
from .diagnosis import diagnose
from .fallback import read_general
from .reader import ReadError, Reading, read
from .table import ReadingTable, declare_function, table_for

VERDICTS = ("correct", "incorrect", "unparsable", "timeout", "error")
EXIT_CODES = {"correct": 0, "incorrect": 1, "unparsable": 2, "error": 2, "timeout": 3}
DOMAINS = {"real": REAL, "positive": POSITIVE, "positive-integer": SIZE, "unit": UNIT_OPEN, "label": LABEL}


@functools.lru_cache(maxsize=64)
def problem_table(problem: str, log_base_e: bool) -> tuple[Derivation, ReadingTable]:
    """A catalog entry and its reading table (kept: shared by every check of the problem)."""
    derivation = catalog.get(problem)
    return derivation, table_for(derivation, log_base_e)


def private_table(shared: ReadingTable, preferred: Iterable[sp.Basic] = ()) -> ReadingTable:
    """A copy of a shared reading table for one check: names the reader invents for one answer
    (an undeclared p_i) must not change how the next answer is read."""
    return replace(shared, names=dict(shared.names), quantities=dict(shared.quantities), preferred=set(preferred))


def _free_table(assume: tuple[str, ...], log_base_e: bool, notation: str | None = None) -> ReadingTable:
    """The table of a free comparison: the neutral one, or a catalog entry's borrowed on purpose
    (``--notation``), with the domains of ``--assume``."""
    table = table_for(None, log_base_e) if notation is None else private_table(problem_table(notation, log_base_e)[1])
    for item in assume:
        name, _, domain = item.partition(":")
        if domain not in DOMAINS or not name:
            raise UsageError(f"--assume '{item}' must look like NAME:DOMAIN with DOMAIN one of "
                             f"{', '.join(DOMAINS)}")
        assumptions = {"positive-integer": {"integer": True, "positive": True}, "positive": {"positive": True},
                       "unit": {"positive": True}}.get(domain, {"real": True})
        symbol = sp.Symbol(name, **assumptions)
        table.names[name] = symbol
        table.quantities[symbol] = Quantity(name, symbol, name, DOMAINS[domain])
    return table


def quoted(text: str, limit: int = 60) -> str:
    """Untrusted text for a one-line message: whitespace runs as one space, other invisible and
    control characters as escapes (``\\x1b``), cut at ``limit`` characters."""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in " ".join(text.split()))
    return text if len(text) <= limit else text[:limit] + "..."


def read_expected(expected: str, table: ReadingTable) -> Reading:
    """The expected answer, read as carefully as an answer (the general reader included); a
    UsageError naming it when it cannot be read."""
    try:
        return read(expected, table)
    except ReadError as error:
        reading = None if error.refused else read_general(expected, table)
        if reading is None:
            where = "" if error.position is None else f" (at character {error.position + 1})"
            raise UsageError(f"the expected answer '{quoted(expected)}' cannot be read: {error}{where}") from None
        return reading


def problem_verifier(table: ReadingTable, derivation: Derivation | None) -> Verifier:
    """A verifier that unfolds named functions, families and the problem's relations, but keeps
    statistics such as Var(z) as symbols (their meanings are integrals, for derivations only)."""
    verifier = Verifier(table.quantities, seed=0)
    verifier.facts = {k: v for k, v in verifier.facts.items() if not v.has(sp.Integral)}
    for symbol, meaning in (derivation.relations if derivation else {}).items():
        verifier.learn(symbol, meaning)
    return verifier


def _phrase(words: Mapping, key: str, **values) -> str:
    return words["check"][key].format(**values)


def _result(verdict: str, problem, target, expected: str, parsed: str, feedback: list[str],
            certificate: dict | None) -> dict:
    return {"problem": problem, "target": target, "verdict": verdict, "expected": expected, "parsed": parsed,
            "feedback": " ".join(feedback), "certificate": certificate}


def _certificate(comparison: Comparison) -> dict:
    if comparison.counterexample is not None:
        counter = comparison.counterexample
        difference = {} if counter.difference is None else {"difference": sp.sstr(counter.difference)}
        return {"method": "counterexample", "point": {k: shown(v, 30) for k, v in counter.point.items()},
                "expected": shown(counter.right, 10), "answer": shown(counter.left, 10), **difference}
    certificate = comparison.certificate
    return {"method": certificate.method, **({"points": certificate.points} if certificate.method == "numeric" else {})}


def _notes(reading: Reading, words: Mapping) -> list[str]:
    notes = []
    for note in reading.notes:
        if note == "bare-function-times-bracket":
            notes.append(_phrase(words, "note_bare_times_bracket"))
        elif note == "general-reader":
            notes.append(_phrase(words, "note_general_reader"))
        elif note.startswith("ambiguous:"):
            notes.append(_phrase(words, "note_ambiguous", name=note.split(":", 1)[1]))
    return list(dict.fromkeys(notes))


def _left_side(reading: Reading, target_lhs: sp.Basic, verifier: Verifier, value: sp.Basic):
    """(value to grade, problem with the left side or None)."""
    lhs = reading.lhs
    if lhs is None or target_lhs is None:
        return value, None
    if lhs == target_lhs or verifier.unfold(lhs) == verifier.unfold(target_lhs):
        return value, None
    if isinstance(target_lhs, sp.Symbol):
        for form in (lhs, verifier.unfold(lhs)):
            if target_lhs in form.free_symbols and form != target_lhs:
                solutions = sp.solve(sp.Eq(form, value), target_lhs)
                if len(solutions) == 1:
                    return solutions[0], "solved"
    return value, "mismatch"


def _unfinished(value: sp.Basic, target_lhs: sp.Basic | None, table: ReadingTable) -> str | None:
    """Why an answer is not an answer yet: it restates the quantity asked, or still has a
    derivative to take (only derivatives of the problem's named functions, sigma', may stay)."""
    if target_lhs is not None and value.has(target_lhs):
        return "restates_target"
    named = set(table.functions.values())
    for derivative in value.atoms(sp.Derivative, sp.Subs):
        inner = derivative.expr if isinstance(derivative, sp.Derivative) else derivative.args[0]
        while isinstance(inner, sp.Derivative):
            inner = inner.expr
        if not (isinstance(inner, sp.core.function.AppliedUndef) and inner.func in named):
            return "derivative_left"
    return None


def _kink_note(answer: sp.Basic, expected: sp.Basic, words: Mapping) -> str | None:
    """Where both are piecewise, say if they differ exactly on a boundary (a convention)."""
    if not (answer.has(sp.Piecewise) and expected.has(sp.Piecewise)):
        return None
    variables = [s for s in expected.free_symbols if s.is_real and not s.is_positive]
    for condition in expected.atoms(sp.core.relational.Relational):
        if len(variables) == 1 and condition.rhs.is_Number and condition.lhs == variables[0]:
            point = {variables[0]: condition.rhs}
            a, e = answer.xreplace(point), expected.xreplace(point)
            if a.is_number and e.is_number and sp.simplify(a - e) != 0:
                return _phrase(words, "note_kink", point=f"{variables[0]} = {condition.rhs}",
                               answer=sp.sstr(a), expected=sp.sstr(e))
    return None


def check(answer: str, problem: str | None = None, target: str | None = None, expected: str | None = None,
          lang: str = "en", assume: Iterable[str] = (), log_base_e: bool = True, notation: str | None = None,
          convention: str | None = None) -> dict:
    """Check one answer (in this process).

    Args:
        answer: the student's LaTeX (untrusted: read, never evaluated).
        problem, target: a catalog entry and one of its targets; or
        expected: LaTeX of the expected expression, for a free comparison.
        lang: ``en`` or ``zh`` for the feedback.
        assume: with ``expected``, domains of its symbols as ``NAME:DOMAIN``.
        notation: with ``expected``, a catalog entry whose reading table to borrow (else the
            neutral table: every name is itself).
        log_base_e: read ``\\log`` as the natural logarithm (the default).
        convention: a network's counting convention (see :mod:`derive.check.numeric`).

    Returns:
        ``{"problem", "target", "verdict", "expected", "parsed", "feedback", "certificate"}``.

    Raises:
        UsageError: an unknown problem or target, or neither a problem nor an expected answer.
    """
    if convention is not None or (problem is not None and numeric.is_numeric(problem)):
        return numeric.check(answer, problem, target, lang, convention)  # networks, worked examples
    words = wording(lang)
    wanted = None
    if problem is not None:
        derivation, shared = problem_table(problem, log_base_e)
        chosen = derivation.target(target) if target else None
        if chosen is None:
            raise UsageError(f"which target of '{problem}'? one of {', '.join(derivation.targets)}")
        if chosen.accurate_to is not None and chosen.rhs.is_number:  # 0.394 for a quadrature's 0.39429449...
            accurate = sp.Rational(str(sp.N(chosen.rhs, chosen.accurate_to)))  # its digits known, as a decimal
            judged = numeric.check_number(answer, accurate, problem, target, lang)
            if judged is not None:
                return judged
        table = private_table(shared, chosen.lhs.free_symbols | chosen.rhs.free_symbols | {chosen.lhs})
        expected_value, target_lhs = chosen.rhs, chosen.lhs
        quantities = derivation.quantities
    elif expected is not None:
        table = _free_table(tuple(assume), log_base_e, notation)
        derivation = None if notation is None else problem_table(notation, log_base_e)[0]
        wanted = read_expected(expected, table)
        for applied in {a.func for side in wanted.sides for a in side.atoms(AppliedUndef)}:  # F(x) = ...: F applies
            if applied not in table.functions.values():
                declare_function(table, str(applied), applied)
        expected_value, target_lhs = wanted.value, None
        quantities = () if derivation is None else derivation.quantities
    else:
        raise UsageError("give a problem and --target, or --expected")
    printer = NotationLatexPrinter([*quantities, *table.quantities.values()])
    shown_expected = printer.doprint(expected_value) if wanted is None else \
        " = ".join(printer.doprint(side) for side in compare_sides(wanted))
    if wanted is None and vectors.is_vector_form(answer):
        judged = _vector_result(answer, problem, target, table, derivation, printer, words, shown_expected)
        if judged is not None:
            return judged
    try:
        reading = read(answer, table)
    except ReadError as error:
        reading = None if error.refused else read_general(answer, table)
        if reading is None:
            where = "" if error.position is None else _phrase(words, "at_position", position=error.position + 1)
            return _result("unparsable", problem, target, shown_expected, "",
                           [_phrase(words, "unparsable", reason=str(error)) + where], None)
    if any(isinstance(s, sp.Basic) and s.has(sp.Order) for s in (*reading.sides, expected_value)):
        # An answer keeping O(z^n) is not a closed form, so it equals no exact target; truncated series
        # are compared up to their order only in check-steps' Taylor lines (never a false accept here)
        return _result("unparsable" if wanted is not None else "incorrect", problem, target, shown_expected, "",
                       [_phrase(words, "order_term")], None)
    verifier = problem_verifier(table, derivation)
    feedback = _notes(reading, words)
    value, side = _left_side(reading, target_lhs, verifier, reading.value)
    parsed = " = ".join(printer.doprint(side) for side in reading.sides)
    if wanted is not None:
        judged = _judge_free(reading, wanted, verifier, printer, words, feedback)
        if judged is not None:
            verdict, feedback, certificate = judged
            return _result(verdict, problem, target, shown_expected, parsed, feedback, certificate)
        derivation = None
    elif value_shape(value, "list" in reading.notes) != "expression":  # a set or a relation for a target's value
        verdict, feedback, certificate = _judge_free(Reading([value], reading.notes), Reading([expected_value]),
                                                     verifier, printer, words, feedback)
        return _result(verdict, problem, target, shown_expected, parsed, feedback, certificate)
    if side == "mismatch":
        feedback.insert(0, _phrase(words, "wrong_left_side", written=printer.doprint(reading.lhs),
                                   asked=printer.doprint(target_lhs)))
        return _result("incorrect", problem, target, shown_expected, parsed, feedback, None)
    if side == "solved":
        feedback.append(_phrase(words, "solved_left_side", value=printer.doprint(value)))
    unfinished = _unfinished(value, target_lhs, table)
    if unfinished:
        feedback.insert(0, _phrase(words, unfinished))
        return _result("incorrect", problem, target, shown_expected, parsed, feedback, None)
    unknown = [] if wanted is not None else sorted(str(s) for s in value.free_symbols if s in table.quantities
                     and table.quantities[s].domain is REAL and s not in {q.symbol for q in quantities})
    try:
        comparison = verifier.compare(value, expected_value, thorough=False)
        links = reading.sides[1:-1] if wanted is None or not reading.lhs or is_name(reading.lhs) else reading.sides[:-1]
        broken = _broken_link(links, reading.value, verifier) if comparison.certificate is not None else None
    except VerificationError as error:
        return _result("unparsable", problem, target, shown_expected, parsed, [_phrase(words, "not_evaluable", reason=str(error))], None)
    if broken is not None:
        feedback.insert(0, _link_phrase(words, printer, broken, reading.value))
        return _result("incorrect", problem, target, shown_expected, parsed, feedback, _certificate(broken[1]))
    if comparison.certificate is not None:
        kink = _kink_note(value, expected_value, words)
        summary = _phrase(words, "correct_symbolic") if comparison.certificate.method == "symbolic" else \
            _phrase(words, "correct_numeric", points=comparison.certificate.points)
        return _result("correct", problem, target, shown_expected, parsed, [summary, *feedback, *([kink] if kink else [])],
                       _certificate(comparison))
    slip = diagnose(value, expected_value, derivation, target, verifier)
    counter = comparison.counterexample
    feedback.insert(0, _disagreement(words, counter))
    if slip:
        feedback.insert(0, words["slips"][slip])
    if unknown:
        feedback.append(_phrase(words, "unknown_symbols", names=", ".join(unknown)))
    return _result("incorrect", problem, target, shown_expected, parsed, feedback, _certificate(comparison))


def _vector_result(answer: str, problem: str, target: str, table: ReadingTable, derivation: Derivation,
                   printer: NotationLatexPrinter, words: Mapping, shown_expected: str) -> dict | None:
    """A vector or matrix form of an index-valued target (diag(p) - p p^T), judged entry by entry at
    concrete sizes (see :mod:`derive.check.vectors`); None where the target has no such sizes."""
    chosen = derivation.target(target)
    try:
        judged = vectors.compare(answer, chosen, table, problem_verifier(table, derivation))
    except ReadError as error:
        return _result("unparsable", problem, target, shown_expected, "", [_phrase(words, "unparsable", reason=str(error))],
                       None)
    except VerificationError as error:
        return _result("unparsable", problem, target, shown_expected, "", [_phrase(words, "not_evaluable", reason=str(error))],
                       None)
    if judged is None:
        return None
    comparison, reading, sizes = judged
    parsed = " = ".join(printer.doprint(side) for side in reading.sides)
    note = _phrase(words, "note_vector", sizes=sizes)
    if comparison.certificate is not None:
        summary = _phrase(words, "correct_symbolic") if comparison.certificate.method == "symbolic" else \
            _phrase(words, "correct_numeric", points=comparison.certificate.points)
        return _result("correct", problem, target, shown_expected, parsed, [summary, note], _certificate(comparison))
    return _result("incorrect", problem, target, shown_expected, parsed,
                   [_disagreement(words, comparison.counterexample), note], _certificate(comparison))


def _judge_free(reading: Reading, wanted: Reading, verifier: Verifier, printer: NotationLatexPrinter,
                words: Mapping, notes: list[str]) -> tuple[str, list[str], dict | None] | None:
    """(verdict, feedback, certificate) of a free comparison where either side is structured (an
    equation, a relation, a set, ...); None for two expressions (or ``name = expression``)."""
    if len(compare_sides(reading)) > 2 and len(compare_sides(wanted)) > 1:  # a chain: every link holds
        broken = _broken_link(reading.sides[1:-1], reading.value, verifier)
        if broken is not None:
            return "incorrect", [_link_phrase(words, printer, broken, reading.value), *notes], _certificate(broken[1])
    outcome = Comparer(verifier, printer.doprint).judge(reading, wanted)
    if outcome is None:
        return None
    values = {k: words["check"].get(f"shape_{v}", v) if k.endswith("_shape") else v for k, v in outcome.values.items()}
    return outcome.verdict, [_phrase(words, outcome.key, **values), *notes], None


def _link_phrase(words: Mapping, printer: NotationLatexPrinter, broken: tuple[sp.Basic, Comparison],
                 value: sp.Basic) -> str:
    """The feedback naming a false link of a chain, with where or by how much it fails."""
    middle, link = broken
    counter = link.counterexample
    why = _phrase(words, "link_difference", difference=sp.sstr(counter.difference)[:200]) if counter.difference \
        is not None else _phrase(words, "link_point" if counter.point else "link_number", point=_where(counter),
                                 **dict(zip(("left", "right"), shown_pair(counter.left, counter.right))))
    return _phrase(words, "broken_link", side=printer.doprint(middle), value=printer.doprint(value)) + " " + why


def _broken_link(links: Iterable[sp.Basic], value: sp.Basic, verifier: Verifier) -> tuple[sp.Basic, Comparison] | None:
    """In a chain ``lhs = A = B = value``, the first of the sides ``links`` (the middle ones)
    that is not equal to the value (every link must hold, not only the last side), with the
    comparison that shows it."""
    for side in links:
        comparison = verifier.compare(side, value, thorough=False)
        if comparison.counterexample is not None:
            return side, comparison
    return None


def _where(counter: Counterexample) -> str:
    return ", ".join(f"{k} = {shown(v)}" for k, v in counter.point.items())


def _disagreement(words: Mapping, counter: Counterexample) -> str:
    """Where the answer and the expected result differ; when the difference was shown to be
    nonzero symbolically, that difference (it may be too small to show in six digits)."""
    if counter.difference is not None:
        return _phrase(words, "incorrect_difference", difference=sp.sstr(counter.difference)[:200])
    answer, expected = shown_pair(counter.left, counter.right)
    if not counter.point:  # two numbers: there is no point to name
        return _phrase(words, "incorrect_number", answer=answer, expected=expected)
    return _phrase(words, "incorrect", point=_where(counter), answer=answer, expected=expected)
