"""What a sheet's handout and key show of a question (choice, true/false, numeric, short).

Every sentence comes from the ``[question]`` section of the wording tables (through
:mod:`derive.markup`); a spec's texts (options, model answers) are printed by
:func:`derive.statements.to_tex` (text escaped, ``$...$`` read and printed again); generated
options (``distractors = "slips"``) are printed from their formulas in the document's notation
profile. The ``question_body`` macro of ``macros.tex.j2`` lays them out.
"""

from __future__ import annotations

import re

import sympy as sp

from . import markup, profiles, statements
from .questions import Question, letter
from .render import _marked, wording

#: answer space of a short question, in lines, when the spec gives none
SHORT_LINES = 5
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def number_tex(text: str) -> str:
    """A number as the teacher typed it ("0.25", "1/4", "2.5e-3"), as LaTeX math: a fraction as
    \\frac, an exponent as a power of 10, a decimal as written."""
    sign = "-" if text.startswith("-") else ""
    text = text.lstrip("+-")
    if "/" in text:
        top, bottom = text.split("/")
        return rf"{sign}\frac{{{number_tex(top)}}}{{{bottom}}}"
    match = _DECIMAL.fullmatch(text)
    if match and match[2]:
        return rf"{sign}{match[1]} \times 10^{{{int(match[2][1:])}}}"
    return sign + text


def view(question: Question, derivation, lang: str, template_dir: str | None, notation: str) -> dict:
    """A question's view: its options as LaTeX (lettered), the right letters, the truth, the value
    and tolerance, the model answer, each phrase of the ``[question]`` wording as LaTeX."""
    words = wording(lang, template_dir)["question"]
    options = []
    if question.kind == "choice":
        if question.generated:  # printed from their formulas in the document's notation
            from .distractors import latex

            quantities = profiles.apply(derivation, notation, template_dir).quantities
            shown = [rf"$\displaystyle {latex(derivation, formula, quantities)}$" for formula in question.formulas]
        else:
            shown = [statements.to_tex(option) for option in question.options]
        options = [{"letter": letter(n), "tex": tex, "right": n in question.answer} for n, tex in enumerate(shown)]
    letters = words["letter_separator"].join(letter(n) for n in question.answer)
    fields = {"answer": markup.user(letters)}
    if question.kind == "truefalse":
        fields["answer"] = _marked(words["true" if question.truth else "false"])
    numeric = {}
    if question.kind == "numeric":
        value = markup.math(number_tex(question.value), question.value)
        approx = None
        if "/" in question.value:
            approx = markup.math(sp.latex(sp.Float(sp.Rational(question.value), 4)))
        numeric = {
            "value_tex": _marked(words["value"], {"value": value}).tex,
            "approx_tex": _marked(words["approx"], {"value": approx}).tex if approx else "",
            "rule_tex": (_marked(words["tolerance"], {"tolerance": markup.math(number_tex(question.tolerance),
                                                                               question.tolerance)}).tex
                         if question.tolerance is not None else _marked(words["digits"]).tex),
        }
        fields["answer"] = value
    return {
        "kind": question.kind, "options": options, "multiple": question.multiple,
        "multiple_tex": _marked(words["multiple"]).tex,
        "open_tex": _marked(words["paren_open"]).tex, "close_tex": _marked(words["paren_close"]).tex,
        "filled_tex": fields["answer"].tex,
        "numeric_blank_tex": _marked(words["numeric_blank"]).tex,
        "answer_tex": _marked(words["answer"]).tex,
        "answer_line_tex": _marked(words["answer_line"], fields).tex,
        "model_label_tex": _marked(words["model"]).tex,
        "model_tex": statements.to_tex(question.model) if question.model is not None else "",
        "lines": question.lines or SHORT_LINES,
        # lines a question needs on its page (a statement, its options or answer space), else it starts a new page
        "need_handout": len(options) + 4 if options else 4 + 1.6 * (question.lines or SHORT_LINES)
        if question.kind == "short" else 5,
        "need_key": len(options) + 4 if options else 5,
        **numeric,
    }


def problem_view(problem, number: int, lang: str, template_dir: str | None, notation: str) -> dict:
    """A sheet problem that is only a question, shaped like the other problems' views."""
    return {"number": number, "points": problem.points, "statement": problem.statement,
            "statement_tex": statements.to_tex(problem.statement) if problem.statement is not None else None,
            "default_statement": "", "values_tex": [], "asked": [], "names": [], "formulas": [],
            "view": None, "figure": None, "simulation": None, "subquestions": [], "question_only": True,
            "question": view(problem.question, None, lang, template_dir, notation)}
