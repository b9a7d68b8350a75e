"""A sheet as a Moodle XML question bank (Question bank > Import > Moodle XML format).

Each :class:`~derive.export.items.Item` is one ``<question>``: a choice ``multichoice`` (single
or multiple answers; the right options' fractions sum to 100, a wrong one of a multiple-answer
question takes away its share), true/false ``truefalse``, a number ``numerical`` (its tolerance
absolute), an exact text such as an output shape ``shortanswer``, and a formula (which Moodle
cannot grade symbolically) or a prose answer ``essay``, its grader information holding the
expected answer. Question texts are HTML with formulas as MathJax's ``\\( ... \\)`` (see
:mod:`derive.export.html`). The XML is written by :mod:`xml.etree.ElementTree`, which escapes
every text. With a student's variants, each problem is a category ``$course$/SHEET/problem N``
holding one question per student.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from .items import Item, text_of

#: Moodle's grades for a share of 1/n of the points (question/format: the importer takes the
#: nearest listed grade; these are listed for n = 1 to 10)
_SHARES = {1: "100", 2: "50", 3: "33.33333", 4: "25", 5: "20", 6: "16.66667", 7: "14.28571", 8: "12.5",
           9: "11.11111", 10: "10"}


def _share(count: int) -> str:
    """The percent of one of ``count`` equal shares, as Moodle lists it."""
    return _SHARES.get(count, f"{100 / count:.5f}")


def _text(parent: ET.Element, tag: str, text: str, html: bool = True, **attributes) -> ET.Element:
    """``<tag format="html"><text>...</text></tag>`` (or without a format)."""
    element = ET.SubElement(parent, tag, {"format": "html", **attributes} if html else attributes)
    ET.SubElement(element, "text").text = text
    return element


def _value(parent: ET.Element, tag: str, value) -> None:
    ET.SubElement(parent, tag).text = str(value)


def _answer(parent: ET.Element, fraction: str, text: str, feedback: str = "", html: bool = True) -> ET.Element:
    answer = ET.SubElement(parent, "answer", {"fraction": fraction, **({"format": "html"} if html else {})})
    ET.SubElement(answer, "text").text = text
    _text(answer, "feedback", feedback)
    return answer


def _question(quiz: ET.Element, kind: str, name: str, item: Item, feedback: str) -> ET.Element:
    """A question's common elements: name, question text, general feedback, grade, penalty."""
    question = ET.SubElement(quiz, "question", {"type": kind})
    _text(question, "name", name, html=False)
    _text(question, "questiontext", item.html)
    _text(question, "generalfeedback", feedback)
    _value(question, "defaultgrade", f"{item.points:g}")
    _value(question, "penalty", "0.3333333" if kind != "essay" else "0")
    _value(question, "hidden", "0")
    return question


def add_item(quiz: ET.Element, item: Item, name: str, words: dict) -> ET.Element:
    """One item as a ``<question>`` of ``quiz``, named ``name``."""
    expected = f"<p>{words['expected']} {item.model}</p>" if item.model else ""
    if item.kind == "choice":
        question = _question(quiz, "multichoice", name, item, expected)
        _value(question, "single", "false" if item.multiple else "true")
        _value(question, "shuffleanswers", "0")  # shown in the sheet's (or the student's) order
        _value(question, "answernumbering", "ABCD")
        for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
            _text(question, tag, "")
        right, wrong = len(item.answer), len(item.options) - len(item.answer)
        for position, option in enumerate(item.options):
            if position in item.answer:
                fraction = _share(right) if item.multiple else "100"
            else:
                fraction = f"-{_share(wrong)}" if item.multiple and wrong else "0"
            _answer(question, fraction, option)
    elif item.kind == "truefalse":
        question = _question(quiz, "truefalse", name, item, "")
        _answer(question, "100" if item.truth else "0", "true", html=False)
        _answer(question, "0" if item.truth else "100", "false", html=False)
    elif item.kind == "numeric":
        question = _question(quiz, "numerical", name, item, expected)
        answer = _answer(question, "100", item.value, html=False)
        _value(answer, "tolerance", item.tolerance or "0")
    elif item.kind == "text":
        question = _question(quiz, "shortanswer", name, item, expected)
        _value(question, "usecase", "0")
        for spelling in item.accepted:
            _answer(question, "100", spelling, html=False)
    else:  # a formula or prose: graded by hand, the expected answer for the grader
        question = _question(quiz, "essay", name, item, expected)
        _value(question, "responseformat", "editor")
        _value(question, "responserequired", "1")
        _value(question, "responsefieldlines", "10" if item.kind == "short" else "5")
        _value(question, "attachments", "0")
        _value(question, "attachmentsrequired", "0")
        _text(question, "graderinfo", f"<p>{words['expected']} {item.model}</p>")
        _text(question, "responsetemplate", "")
    return question


def _category(quiz: ET.Element, path: str) -> None:
    """A dummy question that puts the questions after it in the category ``path``."""
    question = ET.SubElement(quiz, "question", {"type": "category"})
    category = ET.SubElement(question, "category")
    ET.SubElement(category, "text").text = f"$course$/{path}"


def _words(lang: str) -> dict:
    from ..render import wording

    words = wording(lang)
    return {"expected": text_of(words["export"]["expected"]), "problem": str(words["sheet"]["problem"])}


def _item_name(sheet_name: str, item: Item, words: dict, lang: str) -> str:
    """``hw3 Problem 2 xavier (var)``: the sheet, the problem's number, its id and the target asked."""
    space = "" if lang == "zh" else " "
    name = f"{sheet_name} {words['problem']}{space}{item.number}"
    name += f" {item.problem}" if item.problem != str(item.number) else ""  # the problem's id
    return f"{name} ({item.target})" if item.target else name


def bank(sheet_name: str, items: Iterable[Item], lang: str) -> bytes:
    """The question bank of one sheet's items, in a category named after the sheet."""
    words = _words(lang)
    quiz = ET.Element("quiz")
    _category(quiz, _path(sheet_name))
    for item in items:
        add_item(quiz, item, _item_name(sheet_name, item, words, lang), words)
    return _written(quiz)


def variant_bank(sheet_name: str, students: list[tuple[str, list[Item]]], lang: str) -> bytes:
    """A bank of every student's variant: a category per problem (``SHEET/problem N``) holding
    one question per student and target, named after the student."""
    words = _words(lang)
    quiz = ET.Element("quiz")
    numbers = sorted({item.number for _, items in students for item in items})
    for number in numbers:
        _category(quiz, f"{_path(sheet_name)}/problem {number}")
        for student, items in students:
            for item in items:
                if item.number == number:
                    add_item(quiz, item, f"{_item_name(sheet_name, item, words, lang)} {student}", words)
    return _written(quiz)


def _path(name: str) -> str:
    """A sheet's name as one category level (a ``/`` would open another)."""
    return name.replace("/", "-") or "derive"


#: characters XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/U+FFFF)
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _written(quiz: ET.Element) -> bytes:
    """The bank as UTF-8 XML, the declaration on its first line; a character XML cannot hold
    (in a file or student name) written as U+FFFD."""
    for element in quiz.iter():
        if element.text and _INVALID.search(element.text):
            element.text = _INVALID.sub("\ufffd", element.text)
    ET.indent(quiz, space=" ")
    return ET.tostring(quiz, encoding="utf-8", xml_declaration=True) + b"\n"
