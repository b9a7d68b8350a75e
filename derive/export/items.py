"""A sheet's gradable questions, as a learning system asks them: one :class:`Item` per question.

A problem that is a question (:class:`derive.questions.Question`) is one item of its kind; a
derivation, network or worked problem is one item per asked target: a number is ``numeric``, an
output shape ``text`` (an exact text), a formula or a matrix ``formula`` (graded symbolically by
the checker, by hand in a system that cannot); a simulation is ``short`` (by hand). The question
text is the documents' own (the handout's statement, givens and sub-question, see
:func:`derive.render.render_sheet`) as HTML (:mod:`derive.export.html`). (The Gradescope
autograder grades by variants.json instead, as ``grade --variants`` does.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from .. import profiles, statements
from ..render import wording
from ..sheet import Problem, Sheet
from .html import math_html, paragraphs, tex_html

#: the kinds of item: what a learning system asks and how it is graded
KINDS = ("choice", "truefalse", "numeric", "text", "formula", "short")


@dataclass(frozen=True)
class Item:
    """One question of a sheet: its text (HTML), its right answer and its points.

    ``problem`` names the problem in grading lines (its ``id``, else its number as a string);
    ``target`` the derivation's target asked (None for a question without one). For a choice,
    ``options`` (HTML, in the order shown), ``answer`` (their 0-based positions) and ``multiple``;
    for true/false, ``truth``; for numeric, ``value`` (an exact decimal or fraction string) and
    ``tolerance`` (absolute); for text, ``value`` and the ``accepted`` spellings; for a formula,
    ``value`` (its LaTeX). ``model`` is the right answer as HTML, for a grader or as feedback.
    """

    number: int
    problem: str
    target: str | None
    kind: str
    html: str
    points: float
    options: tuple[str, ...] = ()
    answer: tuple[int, ...] = ()
    multiple: bool = False
    truth: bool | None = None
    value: str | None = None
    tolerance: str | None = None
    accepted: tuple[str, ...] = ()
    model: str = ""


def sheet_items(sheet: Sheet, lang: str, orders: dict | None = None) -> list[Item]:
    """Every item of ``sheet`` in order; ``orders`` maps a choice problem's number to the order its
    options are shown in (spec indices; a student's variant), else the spec's order."""
    notation = sheet.notation or profiles.DEFAULT
    items = []
    for number, problem in enumerate(sheet.problems, 1):
        items += problem_items(problem, number, lang, notation, (orders or {}).get(number))
    return items


def problem_items(problem: Problem, number: int, lang: str, notation: str,
                  order: list[int] | None = None) -> list[Item]:
    """The items of one problem (see the module's docstring)."""
    name = problem.id or str(number)
    question = problem.question
    if problem.derivation is None and problem.simulation is None:  # a question alone
        text = paragraphs(_user_html(problem.statement or ""))
        return [_question_item(question, number, name, None, text, _points(problem, 1), order)]
    view, context, asked = _problem_text(problem, number, lang, notation)
    if problem.simulation is not None:
        return [Item(number, name, None, "short", context + paragraphs(" ".join(asked.values())),
                     _points(problem, 1))]
    targets = [question.target] if question is not None and question.target else list(problem.targets)
    points = _points(problem, len(targets) if question is None else 1)
    items = []
    for target in targets:
        text = context + paragraphs(asked.get(target) or asked_html(target, lang))
        value, latex = target_value(problem, target, view)
        if question is not None:
            items.append(_question_item(question, number, name, target, text, points, order, problem.derivation,
                                        notation))
        else:
            items.append(_target_item(number, name, target, text, points, value, latex))
    return items


def problem_text(problem: Problem, number: int, lang: str, notation: str) -> tuple[str, dict[str, str]]:
    """A derivation's, network's or worked problem's text as the handout writes it, in HTML: its
    statement and givens (paragraphs), and each asked target's sub-question (``Find: (1) ...``)."""
    _, context, asked = _problem_text(problem, number, lang, notation)
    return context, asked


def _problem_text(problem: Problem, number: int, lang: str, notation: str) -> tuple[dict, str, dict[str, str]]:
    from ..render import _problem_view

    view = _problem_view(problem, number, lang, None, notation)
    words = wording(lang)
    statement = tex_html(view["statement_tex"] if view.get("statement_tex") else view["default_statement"])
    given = []
    if view.get("values_tex"):
        parts = text_of(words["sheet"]["comma"]).join(math_html(value) for value in view["values_tex"])
        given.append(text_of(words["sheet"]["given"]) + " " + parts + text_of(words["sheet"]["period"]))
    context = paragraphs(statement, *(tex_html(g) for g in view.get("givens") or []), *given)
    if problem.simulation is not None:
        return view, context, {"": asked_html(" ".join(tex_html(a) for a in view.get("asked") or []), lang,
                                              period=False, html=True)}
    asked = dict(zip(problem.targets, view.get("asked") or [], strict=False))
    return view, context, {target: asked_html(asked[target], lang) for target in asked}


def asked_html(asked: str, lang: str, period: bool = True, html: bool = False) -> str:
    """A sub-question (TeX, or HTML if ``html``) after the handout's ``Find:`` (``求：``), as HTML."""
    words = wording(lang)
    find = text_of(words["sheet"]["find"]) + ("" if lang == "zh" else " ")  # 求：(1) ..., Find: (1) ...
    return find + (asked if html else tex_html(asked)) + (text_of(words["sheet"]["period"]) if period else "")


def text_of(phrase) -> str:
    """A wording phrase (math markup, see :mod:`derive.markup`) as HTML."""
    from .. import markup

    return tex_html(markup.marked(str(phrase)).tex)


def _user_html(text: str, derivation=None, notation: str = profiles.DEFAULT) -> str:
    """A user's text with ``$...$`` formulas (a statement, an option, a model answer) as HTML:
    the formulas read and printed again (:func:`derive.statements.to_tex`) in the document's
    ``notation`` (a derivation's quantities), the text inert."""
    quantities = profiles.apply(derivation, notation, None).quantities if derivation is not None else ()
    return tex_html(statements.to_tex(text, derivation, quantities))


def _points(problem: Problem, count: int) -> float:
    """Each of ``count`` items' share of the problem's points (1 each when it gives none)."""
    if problem.points is None:
        return 1.0
    return round(problem.points / max(count, 1), 4)


def target_value(problem: Problem, target: str, view: dict) -> tuple[object, str]:
    """A target's value at the problem's parameters (a SymPy expression, a matrix, or a shape
    tuple) and its LaTeX as the key prints it."""
    if target in problem.answers:
        value = problem.answers[target]
        if isinstance(value, tuple):
            return value, r" \times ".join(map(str, value))
        value = value if isinstance(value, sp.Basic) else sp.sympify(value)
        return value, sp.latex(value)
    derived = problem.derivation.target(target)
    symbols = {q.symbol: problem.values[q.key] for q in problem.derivation.quantities if q.key in problem.values}
    value = derived.rhs.subs(symbols) if symbols else derived.rhs
    shown = next((t for t in view["view"]["targets"] if t["name"] == target), {})
    return value, shown.get("value_tex") or shown.get("tex_right") or sp.latex(value)


def _is_number(value) -> bool:
    return isinstance(value, sp.Basic) and not isinstance(value, sp.MatrixBase) and bool(value.is_number) \
        and not value.free_symbols and bool(value.is_real)


def number_text(value) -> str:
    """A number exactly as a decimal where it has one (``0.274``), else to 15 significant digits."""
    value = sp.nsimplify(value) if isinstance(value, sp.Float) else value
    if isinstance(value, sp.Integer):
        return str(value)
    if isinstance(value, sp.Rational):
        denominator = value.q
        for prime in (2, 5):
            while denominator % prime == 0:
                denominator //= prime
        if denominator == 1:  # a terminating decimal: written exactly
            digits = max(_power(value.q, 2), _power(value.q, 5))
            text = f"{Fraction(value.p, value.q) * 10 ** digits}"
            sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
            text = text.rjust(digits + 1, "0")
            return f"{sign}{text[:-digits]}.{text[-digits:]}".rstrip("0").rstrip(".")
    return str(sp.N(value, 15))


def _power(number: int, prime: int) -> int:
    count = 0
    while number % prime == 0:
        number //= prime
        count += 1
    return count


def default_tolerance(value: str) -> str:
    """The absolute tolerance of a number asked without one (the "digits shown" rule, which a
    learning system cannot apply): 0 for a whole number, else half a unit of its 4th significant
    digit (an answer right to 4 significant digits is accepted)."""
    number = Fraction(value)
    if number.denominator == 1 or number == 0:
        return "0"
    exponent = math.floor(math.log10(abs(number)))
    exponent += (Fraction(10) ** (exponent + 1) <= abs(number)) - (Fraction(10) ** exponent > abs(number))
    return number_text(sp.Rational(5 * Fraction(10) ** (exponent - 4)))


def _spellings(shape: tuple) -> tuple[str, ...]:
    """The ways an output shape may be typed: 27x27x256, 27×27×256, 27*27*256, (27, 27, 256)."""
    parts = [str(n) for n in shape]
    return tuple(dict.fromkeys(["x".join(parts), " x ".join(parts), "×".join(parts), " × ".join(parts),
                                "*".join(parts), f"({', '.join(parts)})", f"({','.join(parts)})"]))


def _target_item(number: int, name: str, target: str, text: str, points: float, value, latex: str) -> Item:
    """A derivation's, network's or worked problem's target as an item."""
    if isinstance(value, tuple):
        spellings = _spellings(value)
        return Item(number, name, target, "text", text, points, value=spellings[0], accepted=spellings,
                    model=math_html(latex))
    if _is_number(value):
        exact = number_text(value)
        return Item(number, name, target, "numeric", text, points, value=exact,
                    tolerance=default_tolerance(exact), model=math_html(latex))
    return Item(number, name, target, "formula", text, points, value=latex, model=math_html(latex))


def _question_item(question, number: int, name: str, target: str | None, text: str, points: float,
                   order: list[int] | None, derivation=None, notation: str = profiles.DEFAULT) -> Item:
    """A :class:`~derive.questions.Question` as an item; a choice's options shown in ``order``."""
    if question.kind == "choice":
        order = list(order) if order is not None else list(range(len(question.options)))
        options = tuple(_user_html(question.options[index], derivation, notation) for index in order)
        answer = tuple(sorted(order.index(index) for index in question.answer))
        letters = ", ".join(chr(ord("A") + position) for position in answer)
        return Item(number, name, target, "choice", text, points, options=options, answer=answer,
                    multiple=question.multiple, model=tex_html(letters))
    if question.kind == "truefalse":
        return Item(number, name, target, "truefalse", text, points, truth=question.truth,
                    model=str(question.truth).lower())
    if question.kind == "numeric":
        exact = _decimal(question.value)
        tolerance = question.tolerance if question.tolerance is not None else default_tolerance(exact)
        return Item(number, name, target, "numeric", text, points, value=exact, tolerance=_decimal(tolerance),
                    model=text_of(exact))
    return Item(number, name, target, "short", text, points, model=_user_html(question.model))


def _decimal(text: str) -> str:
    """A teacher's number ("1/4", "2.5e-3", "0.25") as a decimal a learning system reads."""
    top, _, bottom = text.partition("/")  # 0.5/2 too: a spec's number may be a decimal over a whole number
    return number_text(sp.Rational(Fraction(top) / Fraction(bottom or 1)))
