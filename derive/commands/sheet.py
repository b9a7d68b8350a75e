"""``python -m derive sheet SPEC.toml``: a homework handout and its answer key (one per student with --variants)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from ..render import LANGUAGES
from .options import command_parser, job_count, notation_option, show_checks_option, whole


def parser() -> argparse.ArgumentParser:
    result = command_parser("sheet", "Write a homework handout and its answer key from a sheet spec (TOML), "
                                     "as .tex files and, with --pdf, PDFs.",
                            "sheet examples/hw2-derivatives-zh.toml --pdf -o out/",
                            "sheet examples/seeds-numeric-en.toml --variants 3 --seed 7 -o variants/")
    result.add_argument("spec", help="a sheet spec (TOML), see examples/")
    result.add_argument("--pdf", action="store_true", help="also build PDFs (needs TeX)")
    result.add_argument("--tex", action="store_true", help="write the .tex files (the default)")
    result.add_argument("--lang", choices=LANGUAGES, help="wording: en or zh (default: the spec's)")
    result.add_argument("--key", action=argparse.BooleanOptionalAction, default=True,
                        help="also write the answer key NAME-key (default: yes)")
    result.add_argument("--formulas", action="store_true", help="also write a formula sheet NAME-formulas")
    result.add_argument("-o", "--output", metavar="DIR", default="out", help="output folder (default out/)")
    result.add_argument("--template-dir", metavar="DIR", help="a folder of templates searched first")
    notation_option(result, None)
    show_checks_option(result)
    result.add_argument("--variants", metavar="ROSTER.csv|N",
                        help="one handout and key per student of a roster (CSV: id, name) or N students "
                             "001..N, the spec's ranges drawn per student; also variants.json")
    result.add_argument("--seed", type=whole, help="with --variants: the seed of the draws (default 0)")
    result.add_argument("--jobs", type=job_count, default=1, help="with --variants --pdf: PDFs built at once")
    return result


def run(argv: list[str]) -> int:
    from ..files import output_folder, publish, read_toml, safe_stem
    from ..render import render_sheet
    from ..sheet import build_sheet
    from .options import pdf_files, report

    options = parser().parse_args(argv)
    if options.variants is not None or options.seed is not None:
        from ..variant_sheets import main

        return main(options)
    from ..variants import refuse_draws

    table = read_toml(options.spec)
    refuse_draws(table, Path(options.spec))  # ranges and choices are drawn per student: --variants
    sheet = build_sheet(table, Path(options.spec), options.template_dir)
    lang = options.lang or sheet.lang or "en"
    if options.template_dir and not Path(options.template_dir).is_dir():
        raise UsageError(f"template folder '{options.template_dir}' does not exist")
    stem = safe_stem(sheet.name)
    layouts = {"handout": stem, "key": f"{stem}-key", "formulas": f"{stem}-formulas"}
    wanted = ["handout"] + (["key"] if options.key else []) + (["formulas"] if options.formulas else [])
    files = {f"{layouts[layout]}.tex": render_sheet(sheet, layout, lang, options.template_dir, options.show_checks,
                                                    options.notation)
             for layout in wanted}
    folder = output_folder(options.output)
    report(pdf_files(files, folder) if options.pdf else publish(files, folder))
    return 0
