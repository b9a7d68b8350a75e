"""A sheet problem's targets as numbered sub-questions, (1), (2), ... as the course's sheets ask them.

A target is one of the derivation's own (its label from the ``[targets]`` wording, its value the
derivation's) or one the checker grades for the problem (``params[Conv-1]``, ``output_shape[FC-1]``,
``grad[w11]``, ``forward[y]``, ``loss``: :mod:`derive.check.numeric`'s names), its label from the
``[subtargets]`` wording and its value the checker's (kept in :attr:`derive.sheet.Problem.answers`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import sympy as sp

from . import markup

_NAME = re.compile(r"(?P<quantity>[A-Za-z_]+)(?:\[(?P<inner>.+)\])?")
#: digits of a decimal that does not terminate
DIGITS = 6


def number_tex(value, lang: str = "en") -> str:
    """A checker's value as LaTeX: a shape ``27 \\times 27 \\times 256``, an integer with its thousands
    grouped as the document's language writes them, a terminating fraction as its decimal, any
    other with its decimal to six digits."""
    from .architecture.view import number

    if isinstance(value, tuple):
        return r" \times ".join(map(str, value))
    if isinstance(value, list):  # a matrix, as rows
        rows = (" & ".join(number_tex(entry, lang) for entry in row) for row in value)
        return r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"
    value = sp.sympify(value)
    if value.is_Integer:
        return number(int(value), lang)
    if value.is_Rational:
        from .backprop.givens import decimal_tex

        shown = decimal_tex(value)  # a terminating value as its decimal (0.274), as the sheets write it
        if r"\frac" not in shown:
            return shown
        return rf"{sp.latex(value)} \approx {sp.N(value, DIGITS)}"
    return sp.latex(value)


def _label(target: str, words: Mapping, quantity_latex: Callable[[str], str | None]) -> markup.Marked:
    """The wording of a checker's target: ``the number of parameters of Conv-1``."""
    match = _NAME.fullmatch(target)
    phrase = words["subtargets"][match["quantity"]]
    inner = match["inner"] or ""
    latex = quantity_latex(inner) if inner else None
    name = markup.math(latex, inner) if latex else markup.user(inner)
    return markup.marked(phrase, {"layer": markup.user(inner), "name": name})


def subquestions(problem, view: Mapping, words: Mapping, quantity_latex: Callable[[str], str | None],
                 lang: str = "en", labels: Mapping[str, str] | None = None) -> list[dict]:
    """Each asked target in the spec's order: ``{"number", "name", "label_tex", "answer_tex"}``, with
    ``question_tex`` (``(1) the number of parameters of Conv-1``) and ``answer_line_tex`` (the
    same with its value) from the ``sheet.subquestion`` and ``sheet.subanswer`` wording.

    Args:
        problem: the sheet's :class:`~derive.sheet.Problem`.
        view: the derivation's view (:func:`derive.render.context`): its targets' labels and values.
        words: the document's wording table.
        quantity_latex: a name of the problem (a parameter, a node) -> its LaTeX, or None.
        lang: the document's language (how numbers group their thousands).
        labels: a target's label (LaTeX) where the problem words it itself (a convolution's
            padding and stride), instead of the wording's.
    """
    own = {target["name"]: target for target in view["targets"]}
    items = []
    for index, name in enumerate(problem.targets, 1):
        if name in own:
            target = own[name]
            label = target["label_tex"]
            label = (f"${target['tex_left']}$" if not label else
                     label if "$" in label else f"{label} ${target['tex_left']}$")
            answer = target.get("value_tex") or target["tex_right"]
            if re.fullmatch(r"\d+", answer):  # a count: its thousands grouped as the language writes them
                answer = number_tex(int(answer), lang)
            elif "approx_tex" in target:
                answer = rf"{answer} \approx {target['approx_tex']}"
        else:
            label = _label(name, words, quantity_latex).tex
            answer = number_tex(problem.answers[name], lang)
        label = (labels or {}).get(name, label)
        forms = {"number": markup.user(str(index)), "asked": markup.Marked(label, label, label),
                 "answer": markup.math(answer, answer)}
        items.append({"number": index, "name": name, "label_tex": label, "answer_tex": answer,
                      "question_tex": markup.marked(words["sheet"]["subquestion"], forms).tex,
                      "answer_line_tex": markup.marked(words["sheet"]["subanswer"], forms).tex})
    return items
