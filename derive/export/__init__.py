"""``derive export SPEC --format moodle|gradescope -o OUT``: a sheet for the systems courses grade in.

- ``moodle``: a Moodle XML question bank (:mod:`derive.export.moodle`);
- ``gradescope``: a Gradescope autograder zip (:mod:`derive.export.gradescope`), which grades a
  student's answers with derive itself (formulas symbolically).

With ``--variants variants.json`` (written by ``derive sheet SPEC --variants``), each student's
own variant: in Moodle, a category per problem with one question per student; in the
autograder, each submission graded against its student's variant.
"""

from __future__ import annotations

import argparse
from pathlib import Path

FORMATS = ("moodle", "gradescope")


def parser() -> argparse.ArgumentParser:
    """The options of ``derive export``."""
    from ..commands.options import command_parser
    from ..render import LANGUAGES

    result = command_parser("export", "Write a sheet as a Moodle XML question bank or a Gradescope autograder zip.",
                            "export examples/questions-en.toml --format moodle -o bank.xml",
                            "export examples/questions-en.toml --format gradescope -o autograder.zip")
    result.add_argument("spec", help="a sheet spec (TOML), see examples/")
    result.add_argument("--format", choices=FORMATS, required=True,
                        help="moodle: a question bank (XML); gradescope: an autograder (zip)")
    result.add_argument("-o", "--output", metavar="FILE", required=True, help="the file to write (bank.xml, "
                                                                              "autograder.zip)")
    result.add_argument("--variants", metavar="JSON", help="variants.json of 'derive sheet --variants': "
                                                          "each student's own variant")
    result.add_argument("--lang", choices=LANGUAGES, help="wording: en or zh (default: the spec's)")
    return result


def main(argv: list[str]) -> int:
    """Run ``derive export`` with ``argv`` (the arguments after ``export``); raises DeriveError on bad input."""
    from ..commands.options import report
    from ..files import read_toml, refuse_overwrite, write_atomic
    from ..sheet import build_sheet
    from .items import sheet_items

    options = parser().parse_args(argv)
    path = Path(options.spec)
    table = read_toml(path)
    variants = _variants(options.variants) if options.variants else None
    if variants is None:
        from ..variants import refuse_draws

        refuse_draws(table, path)
        sheet = build_sheet(table, path)
    lang = options.lang or (table.get("lang") if table.get("lang") in ("en", "zh") else "en")
    if options.format == "moodle":
        from .moodle import bank, variant_bank

        if variants is None:
            data = bank(sheet.name, sheet_items(sheet, lang), lang)
        else:
            data = variant_bank(path.stem, [(student["id"], student_items(table, path, student, lang,
                                                                          options.variants))
                                            for student in variants["students"]], lang)
    else:
        from .gradescope import autograder, key

        students = (variants or {}).get("students", [])
        for student in students:
            drawn_values(table, path, student, options.variants)  # the variants are this spec's
        if students:
            student_items(table, path, students[0], lang, options.variants)  # the spec builds with them
        catalog = path.parent / table["catalog"] if isinstance(table.get("catalog"), str) else None
        data = autograder(path, path.stem, lang, key(sheet, table, path) if variants is None else variants, catalog)
    refuse_overwrite(options.output, path, options.variants, catalog if options.format != "moodle" else None)
    write_atomic(Path(options.output), data)
    report([Path(options.output)])  # "wrote bank.xml", as sheet reports its files
    return 0


def _variants(path: str) -> dict:
    """variants.json as :func:`derive.variants.load` reads and checks it."""
    from ..variants import load

    return load(path)


def student_items(table: dict, path: Path, student: dict, lang: str, source: str = "variants.json") -> list:
    """A student's items: the sheet built from the spec with the student's drawn parameters
    (:func:`derive.variants.with_values` and :func:`derive.sheet.build_sheet`, the one mechanism of
    a spec and its variants), each choice's options in the order the student was shown. A
    variants file that does not fit the spec (another spec's) is a UsageError naming the file
    (``source``, the path as given) and the student."""
    from ..errors import UsageError
    from ..sheet import build_sheet
    from ..variants import with_values
    from .items import sheet_items

    where = f"{source}: student '{student['id'][:40]}'"
    sheet = build_sheet(with_values(table, drawn_values(table, path, student, source)), path)
    orders = {entry["number"]: entry["order"] for entry in student.get("problems", []) if "order" in entry}
    for number, order in orders.items():
        question = sheet.problems[number - 1].question if 1 <= number <= len(sheet.problems) else None
        if question is None or question.kind != "choice" or sorted(order) != list(range(len(question.options))):
            raise UsageError(f"{where}: problem {number} is not a choice of {len(order)} options in {path}; are "
                             "the variants this spec's?")
    return sheet_items(sheet, lang, orders)


def drawn_values(table: dict, path: Path, student: dict, source: str = "variants.json") -> dict[int, dict]:
    """A student's drawn parameters by problem number; a problem the spec has not, or one without
    ``params``, is a UsageError naming the variants file ``source`` and the student (another spec's)."""
    from ..errors import UsageError

    problems = table.get("problem") if isinstance(table.get("problem"), list) else []
    values = {}
    for number, drawn in (student.get("params") or {}).items():
        index = int(number) if str(number).isdigit() else 0
        if not 1 <= index <= len(problems) or not isinstance(problems[index - 1].get("params"), dict):
            raise UsageError(f"{source}: student '{student['id'][:40]}': problem {str(number)[:20]} has no "
                             f"params in {path}; are the variants this spec's?")
        values[index] = drawn
    return values
