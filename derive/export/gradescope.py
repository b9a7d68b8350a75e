"""A Gradescope autograder: the zip ``derive export --format gradescope`` writes, and its grading run.

The zip (a "programming assignment"'s autograder) holds:

- ``setup.sh``: installs derive from the wheel in ``wheels/`` (built by :mod:`derive.export.wheel`,
  with the standard library) and its dependencies into ``/autograder/venv`` (Python 3.11 or later,
  installed with apt-get if the image has none);
- ``run_autograder``: runs ``python -m derive.export.gradescope`` (that environment's), which grades
  the submission;
- ``variants.json``: the answer key, one entry per student (``derive sheet --variants``), or one
  entry, ``*``, for every student of a sheet without variants (:func:`derive.variants.record`);
- ``spec.toml``: the sheet spec, for reference; ``settings.json``: the sheet's name and language;
  ``catalog.toml``: the teacher's catalog file the spec names (``catalog = ...``), if it does.

A submission is ``answers.json`` or ``answers.tex`` in ``/autograder/submission/``.
``answers.json`` maps a problem (its number or ``id``) to an answer: a string (a question, or a
problem with one target) or an object of target -> LaTeX::

    {"1": {"var": "\\\\frac{2}{n_{in} + n_{out}}", "normal_std": "..."}, "2": "B", "3": "false", "4": "0.25"}

``answers.tex`` gives each answer after a marker line ``% problem N`` (``% problem N TARGET``
for one target of a derivation); lines before the first marker are ignored, and a formula may
be wrapped in ``$...$``, ``\\(...\\)`` or ``\\[...\\]``. Each answer is graded against the
student's variant by :func:`derive.check.variant_grade.grade` (formulas symbolically by the
checker, choices, true/false, numbers by tolerance or digits shown; a short answer ``manual``, 0
points until the teacher grades it); a question left unanswered scores 0. The student is found
in ``submission_metadata.json`` (a user's ``sid``, then ``email``, the email's name, then ``id``).
``/autograder/results/results.json`` is written in Gradescope's format (``score``, ``tests``
with ``name``, ``score``, ``max_score``, ``output``); a submission that cannot be read gives a
results.json with score 0 and one line saying why, never a crash. The root ``/autograder`` may be
moved with the environment variable ``AUTOGRADER_ROOT`` (or ``--root``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import zipfile
from pathlib import Path

from ..errors import DeriveError, UsageError

#: the most bytes of a submission file read
MAX_SUBMISSION = 2 * 2**20
_STAMP = (1980, 1, 1, 0, 0, 0)
#: ``% problem 3`` or ``% problem 1 var`` on a line of its own
_MARKER = re.compile(r"^[ \t]*%+[ \t]*problem[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t]*$", re.IGNORECASE | re.MULTILINE)
_WRAPPED = re.compile(r"^\$+(.*?)\$+$|^\\\((.*)\\\)$|^\\\[(.*)\\\]$", re.DOTALL)
#: the student of a sheet without variants: every submission is graded against this entry
EVERYONE = "*"

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, in /autograder/source: a Python of at least 3.11 (installed if the
# image has none), a virtual environment /autograder/venv, derive from the wheel and its dependencies.
set -euo pipefail
cd "$(dirname "$0")"
PY=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PY="$candidate"; break
    fi
done
if [ -z "$PY" ]; then
    apt-get update && apt-get install -y python3.11 python3.11-venv
    PY=python3.11
fi
"$PY" -m venv ../venv || { apt-get update && apt-get install -y "$(basename "$PY")-venv" && "$PY" -m venv ../venv; }
../venv/bin/python -m pip install --upgrade pip
../venv/bin/python -m pip install wheels/*.whl
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission. AUTOGRADER_ROOT moves /autograder and PYTHON picks the
# interpreter (tests run it so, with their own derive); by default setup.sh's virtual environment.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
exec "${PYTHON:-$ROOT/venv/bin/python}" -m derive.export.gradescope --root "$ROOT"
"""


def _entry(name: str, data: bytes | str, mode: int = 0o644) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name, _STAMP)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info, data.encode("utf-8") if isinstance(data, str) else data


def autograder(spec: Path, name: str, lang: str, variants: dict, catalog: Path | None = None) -> bytes:
    """The autograder zip of the sheet ``spec`` (named ``name``) with the answer key ``variants``
    (a variants.json document) and the teacher's ``catalog`` file the spec names, if any."""
    from ..variants import dumps
    from .wheel import build

    wheel_name, wheel = build()
    files = [_entry("setup.sh", SETUP, 0o755), _entry("run_autograder", RUN, 0o755),
             _entry("variants.json", dumps(variants)), _entry("spec.toml", spec.read_bytes()),
             _entry("settings.json", json.dumps({"sheet": name, "lang": lang}, ensure_ascii=False) + "\n"),
             _entry(f"wheels/{wheel_name}", wheel)]
    if catalog is not None:
        try:
            files.append(_entry("catalog.toml", catalog.read_bytes()))
        except OSError as error:
            raise UsageError(f"{spec}: 'catalog': cannot read {catalog}: {error.strerror or error}") from None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in files:
            archive.writestr(info, data)
    return buffer.getvalue()


def key(sheet, table: dict, path: Path) -> dict:
    """The answer key of a sheet without variants: a variants.json document of one entry,
    :data:`EVERYONE`, every choice in the spec's order (what :func:`derive.variants.record` writes)."""
    from ..variants import Student, Variant, document, record

    variant = Variant(Student(EVERYONE), 0, {}, sheet, {})
    return document(sheet.name, 0, [record(variant, table, path, sheet.notation)])


# -- the grading run -------------------------------------------------------------------------------

class SubmissionError(DeriveError):
    """A submission that cannot be graded (no answers file, not JSON, ...): one line saying why."""


def _read(path: Path) -> str:
    if path.is_symlink():  # a submission's link to a file outside it (/etc/passwd, the key) is not read
        raise SubmissionError(f"{path.name} is a symbolic link; submit the file itself")
    with open(path, "rb") as handle:
        data = handle.read(MAX_SUBMISSION + 1)
    if len(data) > MAX_SUBMISSION:
        raise SubmissionError(f"{path.name} is larger than {MAX_SUBMISSION // 2**20} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SubmissionError(f"{path.name} is not UTF-8 text (byte {error.start})") from None


def answers_json(text: str) -> dict:
    """answers.json as {problem: str or {target: str}} (SubmissionError naming what is wrong)."""
    try:
        answers = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise SubmissionError(f"answers.json is not JSON ({str(error)[:80]})") from None
    if not isinstance(answers, dict):
        raise SubmissionError("answers.json must be an object: {\"1\": {\"target\": \"LaTeX\"}, \"2\": \"B\"}")
    for problem, answer in answers.items():
        if isinstance(answer, dict):
            bad = [t for t, a in answer.items() if not isinstance(a, str)]
            if bad:
                raise SubmissionError(f"answers.json: problem {problem[:40]!r}, target {bad[0][:40]!r}: "
                                      "the answer must be a string")
        elif isinstance(answer, list):
            if not all(isinstance(a, int) and not isinstance(a, bool) for a in answer):
                raise SubmissionError(f"answers.json: problem {problem[:40]!r}: a list answer must list option "
                                      "positions (0, 1, ...)")
        elif not isinstance(answer, (str, bool)):
            raise SubmissionError(f"answers.json: problem {problem[:40]!r}: the answer must be a string or an "
                                  f"object of target -> answer, not {type(answer).__name__}")
    return answers


def answers_tex(text: str) -> dict:
    """answers.tex (``% problem N [TARGET]`` markers) as answers.json's shape."""
    markers = list(_MARKER.finditer(text))
    if not markers:
        raise SubmissionError("answers.tex has no '% problem N' marker line (write '% problem 1 var' before "
                              "each answer)")
    answers: dict = {}
    for marker, following in zip(markers, [*markers[1:], None], strict=True):
        body = text[marker.end():following.start() if following else len(text)].strip()
        wrapped = _WRAPPED.match(body)
        if wrapped:
            body = next(group for group in wrapped.groups() if group is not None).strip()
        problem, target = marker.group(1), marker.group(2)
        if target is None:
            answers[problem] = body
        else:
            own = answers.setdefault(problem, {})
            if not isinstance(own, dict):
                raise SubmissionError(f"answers.tex: problem {problem[:40]} is answered both whole and by target")
            own[target] = body
    return answers


def lines(answers: dict, student: str, roster, lang: str) -> list[dict]:
    """A student's answers as grade lines of :mod:`derive.check.variant_grade` (one per answer),
    each named ``Problem N`` (a results.json test is named ``Problem N: ID/TARGET``)."""
    found = []
    for problem, answer in answers.items():
        entry = _problem(roster, student, problem)
        name = test_name(lang, entry["number"] if entry else problem)
        if isinstance(answer, dict):
            found += [{"id": name, "student": student, "problem": problem, "target": target, "answer": text}
                      for target, text in answer.items()]
            continue
        line = {"id": name, "student": student, "problem": problem}
        if entry is not None and entry["kind"] == "choice":
            line["choice"] = answer
        else:
            line["answer"] = str(answer).lower() if isinstance(answer, bool) else answer
        found.append(line)
    return found


def _problem(roster, student: str, problem: str) -> dict | None:
    """The student's variant of ``problem`` (a number or an id), or None (the grading says why)."""
    try:
        return roster.problem({"student": student, "problem": problem})
    except DeriveError:
        return None


def test_name(lang: str, number) -> str:
    """``Problem 3`` (``题目 3``): how a results.json test starts."""
    from ..render import wording

    return f"{wording(lang)['sheet']['problem']} {number}"


def _student(root: Path, roster) -> str:
    """The roster's id of the submitting student (``submission_metadata.json``), or :data:`EVERYONE`."""
    if set(roster.students) == {EVERYONE}:
        return EVERYONE
    try:
        meta = json.loads(_read(root / "submission_metadata.json"))
    except FileNotFoundError:
        raise SubmissionError("submission_metadata.json is missing: cannot tell which student's variant to grade "
                              "against") from None
    except ValueError:
        raise SubmissionError("submission_metadata.json is not JSON") from None
    users = meta.get("users") if isinstance(meta, dict) else None
    for user in users if isinstance(users, list) else []:
        if not isinstance(user, dict):
            continue
        email = str(user.get("email") or "")
        for candidate in (user.get("sid"), email, email.partition("@")[0], user.get("id")):
            if candidate not in (None, "") and str(candidate) in roster.students:
                return str(candidate)
    raise SubmissionError("the submitting student (sid, email or id in submission_metadata.json) is not in the "
                          "variants' roster")


def grade(root: Path) -> dict:
    """The results.json document of the submission under ``root`` (an /autograder tree)."""
    from ..catalog.teacher import catalogs
    from ..check.variant_grade import Roster
    from ..check.variant_grade import grade as grade_lines
    from ..check.variant_grade import write as write_results
    from ..render import wording
    from ..variants import load

    source = root / "source"
    settings = json.loads((source / "settings.json").read_text("utf-8"))
    lang = settings.get("lang", "en")
    roster = Roster(load(source / "variants.json"), "variants.json")
    student = _student(root, roster)
    submission = root / "submission"
    if (submission / "answers.json").is_file():
        answers = answers_json(_read(submission / "answers.json"))
    elif (submission / "answers.tex").is_file():
        answers = answers_tex(_read(submission / "answers.tex"))
    else:
        raise SubmissionError("no answers.json or answers.tex in the submission")
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines(answers, student, roster, lang))
    own = [str(source / "catalog.toml")] if (source / "catalog.toml").is_file() else []
    with catalogs(own):  # the teacher's entries the spec uses, in the checking workers too
        results = grade_lines(data.encode("utf-8"), roster, lang) if data else []
    last = {r["question"]: n for n, r in enumerate(results) if r.get("question")}
    for n, result in enumerate(results):
        if not result.get("question"):  # a problem the sheet has not: said so, worth nothing
            result["points"] = 0
        elif last[result["question"]] != n:  # one question answered twice ("1" and its id): the last counts
            result.update(verdict="error", points=0, certificate=None,
                          feedback=f"{result['question']} is answered again in this submission; the last answer counts")
    asked = {r["question"] for r in results if r.get("question")}
    unanswered = str(wording(lang)["export"]["unanswered"])
    for question, points in roster.columns.items():
        if question not in asked:  # no points, and said so
            problem, _, target = question.partition("/")
            results.append({"id": test_name(lang, _problem(roster, student, problem)["number"]), "student": student,
                            "question": question, "problem": problem, "target": target or None,
                            "verdict": "incorrect", "feedback": unanswered, "points": points})
    order = {question: n for n, question in enumerate(roster.columns)}
    results.sort(key=lambda r: order.get(r.get("question"), len(order)))  # the sheet's order; errors last
    return json.loads(write_results(results, "gradescope", roster))


def failed(message: str) -> dict:
    """The results.json of a submission that cannot be graded: score 0 and the reason."""
    return {"score": 0, "output": f"derive: error: {message}", "tests": []}


def run(root: Path) -> int:
    """Grade the submission under ``root`` and write ``results/results.json``; 0 even when the
    submission cannot be read (the reason is in results.json), 2 when the autograder itself is broken."""
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    status = 0
    try:
        document = grade(root)
    except SubmissionError as error:
        document = failed(" ".join(str(error).split()))
    except DeriveError as error:  # the key or the settings: the autograder's fault, said as such
        document, status = failed(" ".join(str(error).split())), 2
    except Exception as error:  # noqa: BLE001 - whatever happens, Gradescope gets a results.json
        document, status = failed(f"the autograder failed ({type(error).__name__}: {str(error)[:200]})"), 2
    text = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    (results / "results.json").write_text(text, encoding="utf-8")
    return status


def main(argv: list[str] | None = None) -> int:
    """``python -m derive.export.gradescope [--root DIR]``: what ``run_autograder`` runs."""
    options = argparse.ArgumentParser(prog="derive.export.gradescope")
    options.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    return run(Path(options.parse_args(argv).root))


if __name__ == "__main__":
    sys.exit(main())
