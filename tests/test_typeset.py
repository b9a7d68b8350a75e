"""Every document typesets cleanly (issue 15, "How it is checked").

Every catalog entry as ``derive NAME --pdf`` and every example sheet (handout, key, formula
sheet), each in Chinese and in English, is built with xelatex, and its log must have no
"Missing character" (a glyph the fonts do not have: printed as nothing) and no overfull box
over 1 pt (a line past the margin, a block past the bottom of the page).

The documents are rendered in this process as the command line renders them, and built by
:func:`derive.pdf.build_pdf` (xelatex, run again while its log asks, the log kept), two at a time while the next
ones render. About 90 documents: marked slow.
"""

import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest
from test_pdf import needs_tex

from derive import catalog
from derive.errors import DeriveError
from derive.pdf import build_pdf, template_of_line
from derive.render import LANGUAGES, LAYOUTS, render_document, render_sheet
from derive.sheet import read_spec

EXAMPLES = Path(__file__).parents[1] / "examples"
TOLERANCE_PT = 1.0  # TeX's own \hfuzz is 0.1 pt; a box over by less than 1 pt cannot be seen

_MISSING = re.compile(r"^Missing character: There is no (\S+(?: \(U\+[0-9A-F]+\))?) in font ([^:!\n]+)",
                      re.MULTILINE)
_OVERFULL = re.compile(r"^Overfull \\([hv])box \(([\d.]+)pt too (?:wide|high)\) (.*)$", re.MULTILINE)
_LINES = re.compile(r"lines? (\d+)")


def problems_in_log(log: str, tex: str = "") -> list[str]:
    """What a XeTeX log says is wrong with the typesetting: each missing character (with its
    font) and each overfull box over ``TOLERANCE_PT`` (with its size, where it is and, given the
    ``tex``, the template that wrote that line)."""
    found = [f"Missing character {char} ({font})"
             for char, font in dict.fromkeys(_MISSING.findall(log))]
    for kind, size, where in _OVERFULL.findall(log):
        if float(size) > TOLERANCE_PT:
            at = _LINES.search(where)
            source = f", from {template_of_line(tex, int(at.group(1)))}" if at and tex else ""
            found.append(f"Overfull \\{kind}box {float(size):.1f}pt {where.strip()}{source}")
    return list(dict.fromkeys(found))  # a box measured twice (as align does) is one problem


@pytest.mark.parametrize("log, expected", [
    ("Missing character: There is no σ (U+03C3) in font [lmroman10-regular]:mapping=tex-text;!\n",
     ["Missing character σ (U+03C3) ([lmroman10-regular])"]),
    ("Missing character: There is no ω in font cmr10!\n" * 3, ["Missing character ω (cmr10)"]),
    ("Missing character: There is no δ (U+03B4) in font [lmroman10-regular]:mapping=t\nex-text;!\n",
     ["Missing character δ (U+03B4) ([lmroman10-regular])"]),
    ("Overfull \\hbox (147.2pt too wide) detected at line 12\n",
     ["Overfull \\hbox 147.2pt detected at line 12"]),
    ("Overfull \\hbox (1.5pt too wide) in paragraph at lines 3--4\n",
     ["Overfull \\hbox 1.5pt in paragraph at lines 3--4"]),
    ("Overfull \\vbox (20.0pt too high) has occurred while \\output is active\n",
     ["Overfull \\vbox 20.0pt has occurred while \\output is active"]),
    ("Overfull \\hbox (0.8pt too wide) in paragraph at lines 3--4\n", []),  # within the tolerance
    ("Overfull \\hbox (1.0pt too wide) in alignment at lines 5--9\n", []),
    ("Underfull \\hbox (badness 10000) in paragraph at lines 3--4\n", []),  # loose, not past the margin
    ("Package xeCJK Warning: no Missing character here\n", []),
])
def test_the_log_reader_finds_missing_characters_and_boxes_over_one_point(log, expected):
    assert problems_in_log(log) == expected


def documents():
    """(file stem, a function giving its .tex) for every document the test builds."""
    for entry in catalog.entries():
        for lang in LANGUAGES:
            yield f"{entry.name}-{lang}", partial(_entry_tex, entry.name, lang)
    for spec in sorted(EXAMPLES.glob("*.toml")):
        if "[[entry]]" in spec.read_text(encoding="utf-8"):  # a teacher's catalog file, not a sheet spec
            continue
        for layout in LAYOUTS:
            for lang in LANGUAGES:
                yield f"{spec.stem}-{layout}-{lang}", partial(_sheet_tex, spec, layout, lang)


def _entry_tex(name: str, lang: str) -> str:
    return render_document(catalog.get(name), lang)  # as derive NAME --pdf --lang LANG


def _sheet_tex(spec: Path, layout: str, lang: str) -> str:
    return render_sheet(read_spec(spec), layout, lang)  # as derive sheet SPEC --formulas --lang LANG


def _submit(pool: ThreadPoolExecutor, make, stem: str, folder: Path) -> Future:
    """Render here (SymPy holds the interpreter), build in the pool (TeX runs as processes)."""
    try:
        tex = make()
    except DeriveError as error:  # one document that cannot render must not hide the others
        failed = Future()
        failed.set_result([f"cannot render: {type(error).__name__}: {error}"])
        return failed
    return pool.submit(_build, tex, stem, folder)


def _build(tex: str, stem: str, folder: Path) -> list[str]:
    try:
        build_pdf(tex, stem, folder, keep_log=True)
    except DeriveError as error:
        return [f"TeX failed: {error}"]
    return problems_in_log((folder / f"{stem}.log").read_text(encoding="utf-8", errors="replace"), tex)


@needs_tex
@pytest.mark.slow
def test_every_document_has_every_character_and_no_box_over_one_point(tmp_path, monkeypatch):
    monkeypatch.setenv("max_print_line", "10000")  # one log line per message, never wrapped
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        builds = {stem: _submit(pool, make, stem, tmp_path) for stem, make in documents()}
        failures = {stem: build.result() for stem, build in builds.items()}
    failures = {stem: found for stem, found in failures.items() if found}
    assert len(builds) >= 2 * len(catalog.entries()) + 3 * 2 * 6
    assert not failures, f"{len(failures)} of {len(builds)} documents do not typeset cleanly:\n" + "\n".join(
        f"{stem}: " + "; ".join(found) for stem, found in sorted(failures.items()))
