"""``derive sheet SPEC --variants ROSTER.csv | N --seed S``: one handout and one key per student.

Writes into the output folder (default out/):

- ``handouts/NAME-ID.tex`` and ``keys/NAME-ID-key.tex`` per student (``ID`` the student's id made a
  plain file name: :func:`derive.files.safe_stem`, with a short hash of the id where two ids would
  give the same name), and with ``--pdf`` their PDFs (``--jobs N`` built at once);
- with ``--pdf``, ``NAME-handouts.pdf`` and ``NAME-keys.pdf``: every student's document in the
  roster's order, each starting on a new page, for printing;
- ``variants.json``: each student's seed, values drawn and expected answers (:mod:`derive.variants`).

A roster is a CSV file (UTF-8, a byte order mark allowed) with a column ``id`` and optionally
``name``; the ids are data (any text but control characters), never file names as they are.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from . import limits
from .errors import UsageError
from .files import output_folder, publish, read_limited, read_toml, safe_stem
from .variants import Student, VariantsError, document, make, record, write

#: The most characters of a student's id or name.
MAX_FIELD = 200
#: The most bytes read from a roster file.
MAX_ROSTER_BYTES = 10 * 2**20
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def numbered(count: int) -> list[Student]:
    """``--variants N``: students ``001`` to ``N`` (at least three digits), without names."""
    limits.check("variants.students", count, "--variants", "students")
    if count < 1:
        raise VariantsError(f"--variants: the number of students must be at least 1, not {count}")
    width = max(3, len(str(count)))
    return [Student(f"{n:0{width}d}") for n in range(1, count + 1)]


def read_roster(path: str | Path) -> list[Student]:
    """The students of a roster CSV, in its order.

    Raises:
        VariantsError: one line naming the file (and the line) for a missing or unreadable file,
            one that is not UTF-8 or not CSV, no ``id`` column, an empty or repeated id, a control
            character in an id or a name, a field over :data:`MAX_FIELD` characters, no students,
            or (a LimitError) more students than the limit ``variants.students``.
    """
    shown = repr(str(path))
    data = read_limited(path, MAX_ROSTER_BYTES, f"roster {shown}", VariantsError)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise VariantsError(f"roster {shown}: not UTF-8 ({error.reason} at byte {error.start}); "
                            "save it as CSV UTF-8") from None
    try:
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows, None)
        if header is None:
            raise VariantsError(f"roster {shown}: empty; it needs a header line with a column 'id'")
        columns = [column.strip().lower() for column in header]
        if "id" not in columns:
            found = ", ".join(repr(c[:20]) for c in columns[:6]) or "nothing"
            raise VariantsError(f"roster {shown}: no column 'id' in the header line (found {found})")
        at, name_at = columns.index("id"), columns.index("name") if "name" in columns else None
        students, lines = [], {}
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            line = rows.line_num
            ident = row[at].strip() if at < len(row) else ""
            name = row[name_at].strip() if name_at is not None and name_at < len(row) else ""
            _field(ident, "id", shown, line)
            _field(name, "name", shown, line)
            if ident in lines:
                raise VariantsError(f"roster {shown}, line {line}: the id {ident!r} is already on line {lines[ident]}")
            lines[ident] = line
            students.append(Student(ident, name))
            limits.check("variants.students", len(students), f"roster {shown}", "students")
    except csv.Error as error:
        raise VariantsError(f"roster {shown}: not CSV: {error}") from None
    if not students:
        raise VariantsError(f"roster {shown}: no students (only a header line)")
    return students


def _field(value: str, what: str, shown: str, line: int) -> None:
    """A roster's id (not empty) or name, checked: no control characters, at most MAX_FIELD characters."""
    if what == "id" and not value:
        raise VariantsError(f"roster {shown}, line {line}: the id is empty")
    if _CONTROL.search(value):
        raise VariantsError(f"roster {shown}, line {line}: the {what} holds a control character (a line break?)")
    if len(value) > MAX_FIELD:
        raise VariantsError(f"roster {shown}, line {line}: the {what} is {len(value)} characters; at most {MAX_FIELD}")


def file_stems(students: list[Student]) -> dict[str, str]:
    """Each student's id made a plain file name, different for different ids (ids that give the
    same name, ignoring case, get a short hash of the id appended)."""
    stems = {s.id: safe_stem(s.id, "student") for s in students}
    counts = Counter(stem.casefold() for stem in stems.values())
    return {ident: stem if counts[stem.casefold()] == 1 and stem == ident else
            f"{stem}-{hashlib.sha256(ident.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
            for ident, stem in stems.items()}


def _labelled(sheet, student: Student, lang: str, template_dir: str | None):
    """The student's sheet with their name and id in the header (after the date)."""
    from .render import wording

    label = f"{student.name} ({student.id})" if lang == "en" else f"{student.name}（{student.id}）"
    label = label if student.name else student.id
    words = wording(lang, template_dir)["sheet"]
    label = words.get("student", "Student: {name}").replace("{name}", label)
    return replace(sheet, date=f"{sheet.date}{' · ' if lang == 'en' else chr(0x3000)}{label}" if sheet.date else label)


def main(options) -> int:
    """``sheet SPEC --variants ...``: the students' handouts, keys, combined PDFs and variants.json."""
    from .render import render_sheet

    if options.variants is None:
        raise UsageError("--seed applies to --variants ROSTER.csv or --variants N")
    path = Path(options.spec)
    table = read_toml(path)
    if options.template_dir and not Path(options.template_dir).is_dir():
        raise UsageError(f"template folder '{options.template_dir}' does not exist")
    students = numbered(int(options.variants)) if options.variants.isdigit() else read_roster(options.variants)
    seed = options.seed or 0
    variants = make(table, path, students, seed, options.template_dir)
    lang = options.lang or table.get("lang") or "en"
    stem = safe_stem(variants[0].sheet.name)
    folder = output_folder(options.output)
    stems = file_stems(students)
    layouts = {"handouts": "handout", **({"keys": "key"} if options.key else {})}
    files: dict[str, dict[str, str]] = {kind: {} for kind in layouts}
    views: dict = {}  # a problem built once (the same values drawn) is viewed once, for every student
    for variant in variants:
        sheet = _labelled(variant.sheet, variant.student, lang, options.template_dir)
        for kind, layout in layouts.items():
            name = f"{stem}-{stems[variant.student.id]}{'-key' if layout == 'key' else ''}.tex"
            files[kind][name] = render_sheet(sheet, layout, lang, options.template_dir, options.show_checks,
                                             options.notation, views)
    written = []
    for kind, texs in files.items():
        written += publish(texs, output_folder(folder / kind))
    if options.pdf:
        written += _pdfs(files, folder, stem, options.jobs)
    if options.formulas:  # results as formulas, no value drawn: the same for every student
        from .commands.options import pdf_files

        formulas = {f"{stem}-formulas.tex": render_sheet(variants[0].sheet, "formulas", lang, options.template_dir,
                                                         options.show_checks, options.notation)}
        written += pdf_files(formulas, folder) if options.pdf else publish(formulas, folder)
    targets: dict = {}  # a problem's expected answers, computed once for every student sharing it
    students_json = [record(v, table, path, options.notation, options.template_dir, targets) for v in variants]
    written.append(write(document(variants[0].sheet.name, seed, students_json), folder / "variants.json"))
    print(f"wrote {len(written)} files into {folder}: {summary(written, folder)}")
    return 0


def summary(written: list[Path], folder: Path) -> str:
    """What a --variants run wrote, every file counted once: a subfolder as its counts by kind
    (``handouts/ (3 .tex, 3 .pdf)``), a file of ``folder`` itself by name, in the order written."""
    shown: dict[str, dict[str, int] | None] = {}
    for path in written:
        if path.parent == folder:
            shown[path.name] = None
        else:
            counts = shown.setdefault(f"{path.parent.name}/", {})
            counts[path.suffix] = counts.get(path.suffix, 0) + 1
    return ", ".join(name if counts is None else f"{name} ({', '.join(f'{n} {kind}' for kind, n in counts.items())})"
                     for name, counts in shown.items())


def _pdfs(files: dict[str, dict[str, str]], folder: Path, stem: str, jobs: int) -> list[Path]:
    """Each student's PDFs (``jobs`` TeX runs at once), then one combined PDF per kind, in order."""
    from .pdf import build_pdf

    work = [(tex, Path(name).stem, folder / kind) for kind, texs in files.items() for name, tex in texs.items()]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        try:
            built = list(pool.map(lambda job: build_pdf(*job), work))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    written = list(built)
    for kind in files:
        parts = [path for path in built if path.parent == folder / kind]
        written.append(combine(parts, folder, f"{stem}-{kind}.pdf"))
    return written


def combine(parts: list[Path], folder: Path, name: str) -> Path:
    """One PDF of ``parts`` in order (each starts on a new page: a PDF's pages are whole), by
    poppler's ``pdfunite``; written whole into ``folder``."""
    if len(parts) == 1:
        (target,) = publish({name: parts[0].read_bytes()}, folder)
        return target
    if not shutil.which("pdfunite"):
        raise UsageError(f"no pdfunite found, so {name} was not made (the students' PDFs were); "
                         "install it with: apt-get install -y poppler-utils")
    with tempfile.TemporaryDirectory(prefix="derive-unite-") as work:
        target = Path(work) / "combined.pdf"
        try:
            done = subprocess.run(["pdfunite", *map(str, parts), str(target)], capture_output=True, text=True,
                                  errors="replace", stdin=subprocess.DEVNULL, timeout=600, check=False)
        except subprocess.TimeoutExpired:
            raise UsageError(f"cannot make {name}: pdfunite did not finish within 600 s") from None
        if done.returncode != 0 or not target.exists():
            reason = (done.stderr.strip().splitlines() or ["failed"])[0][:200]
            raise UsageError(f"cannot make {name}: pdfunite: {reason}")
        (written,) = publish({name: fixed_id(target.read_bytes())}, folder)
    return written


def fixed_id(pdf: bytes) -> bytes:
    """A PDF from pdfunite with its trailer's random ``/ID`` replaced by a hash of the rest, so
    that the same parts give the same bytes (the trailer follows the cross-reference table, so
    no offset moves); a PDF without that trailer is returned as it is."""
    trailer = pdf.rfind(b"trailer")
    start = pdf.find(b"/ID [", trailer) if trailer >= 0 else -1
    end = pdf.find(b"] /Root", start) if start >= 0 else -1
    if end < 0 or pdf.find(b"startxref", end) < 0:
        return pdf
    digest = hashlib.md5(pdf[:start] + pdf[end:], usedforsecurity=False).hexdigest().encode()
    return pdf[:start] + b"/ID [<" + digest + b"> <" + digest + b">" + pdf[end:]
