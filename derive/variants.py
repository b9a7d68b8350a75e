"""Per-student variants of a sheet: parameters drawn per student, and ``variants.json``.

A ``[[problem]]``'s ``params`` may give a range or a list of choices instead of a number::

    params = { n_in = { from = 64, to = 1024, step = 64 }, n_out = [128, 256, 512] }

Each student's values are drawn by hashing (the sheet's seed, the student's id, the problem's
number, the try): never Python's ``hash()``, never a global random state, so the same inputs
give the same variant on every machine. The drawn values are put into a copy of the spec's
table and the problem is built by :func:`derive.sheet.build_sheet`, the one mechanism a spec
and its variants are built by. A problem that does not build with the values drawn (a
division by zero, a value outside its domain) is drawn again, deterministically (the next
try), up to :data:`REDRAWS` times.

``variants.json`` (interface 3 of the issue 19 design note) records each student's seed, the
values drawn, each problem's expected answers and each choice question's order; it is read
back by :func:`load`, which checks it whole (a broken file is one error line naming it).
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

from .errors import DeriveError, UsageError
from .files import read_limited, write_atomic

#: The version of the variants.json layout this module writes and reads.
FORMAT = 1
#: Tries to draw a problem's values that build (and a variant unlike the others) before giving up.
REDRAWS = 100
#: The most values one list of choices may hold.
MAX_CHOICES = 1_000
#: What a problem of variants.json may be.
KINDS = ("derivation", "simulation", "choice", "truefalse", "numeric", "short")
#: The most bytes read from a variants.json (200 students of 10 problems take well under 1 MB).
MAX_BYTES = 200 * 2**20


class VariantsError(UsageError):
    """A variants.json, a roster or a drawn ``params`` that cannot be used; one line naming it."""


# variants.json: writing and reading ------------------------------------------------------------

def dumps(document: dict) -> str:
    """variants.json's text: UTF-8, keys sorted, indent 1, one newline at the end (the same
    document gives the same bytes)."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def write(document: dict, path: str | Path) -> Path:
    """Write a variants.json whole (checked first: what is written can be read back by :func:`load`)."""
    _validate(document, str(path))
    return write_atomic(path, dumps(document))


def load(path: str | Path) -> dict:
    """Read and check a variants.json (the layout of :func:`document`).

    Returns the document as written: ``{"spec", "seed", "format", "students": [{"id", "name",
    "seed", "params", "problems": [...]}]}``.

    Raises:
        VariantsError: one line naming the file and what is wrong (missing, unreadable, not
            JSON, a field missing or of the wrong type, a student id twice, ...).
    """
    shown = str(path)
    data = read_limited(path, MAX_BYTES, shown, VariantsError)
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise VariantsError(f"{shown}: not UTF-8 ({error.reason} at byte {error.start})") from None
    except RecursionError:
        raise VariantsError(f"{shown}: nested too deeply; not a variants.json") from None
    except ValueError as error:
        raise VariantsError(f"{shown}: not JSON: {error}") from None
    _validate(document, shown)
    return document


def _need(value, kind, where: str, shown: str, optional: bool = False):
    """``value`` checked to be of ``kind`` (a bool is not an int); else a VariantsError naming ``where``."""
    if value is None and optional:
        return value
    ok = isinstance(value, kind) and not (kind in (int, (int, str)) and isinstance(value, bool))
    if not ok:
        names = {int: "a whole number", str: "a string", list: "a list", dict: "an object", bool: "true or false"}
        wanted = names.get(kind, " or ".join(names.get(k, k.__name__) for k in kind) if isinstance(kind, tuple)
                           else kind.__name__)
        got = "missing" if value is None else f"{type(value).__name__} {json.dumps(value)[:40]}"
        raise VariantsError(f"{shown}: {where} must be {wanted}, not {got}")
    return value


def _validate(document, shown: str) -> None:
    """Check a variants.json document whole; raises VariantsError on the first thing wrong."""
    _need(document, dict, "the file", shown)
    if document.get("format") != FORMAT:
        raise VariantsError(f"{shown}: 'format' must be {FORMAT}, not {json.dumps(document.get('format'))[:40]} "
                            "(written by another version of derive?)")
    _need(document.get("spec"), str, "'spec'", shown)
    _need(document.get("seed"), int, "'seed'", shown)
    students = _need(document.get("students"), list, "'students'", shown)
    seen = set()
    for n, student in enumerate(students, 1):
        where = f"students[{n}]"
        _need(student, dict, where, shown)
        ident = _need(student.get("id"), str, f"{where}.id", shown)
        if ident in seen:
            raise VariantsError(f"{shown}: {where}: student id {json.dumps(ident)[:60]} appears twice")
        seen.add(ident)
        _need(student.get("name"), str, f"{where}.name", shown)
        _need(student.get("seed"), int, f"{where}.seed", shown)
        params = _need(student.get("params"), dict, f"{where}.params", shown)
        for number, values in params.items():
            _need(values, dict, f"{where}.params.{number}", shown)
        numbers, names = set(), {}
        problems = _need(student.get("problems"), list, f"{where}.problems", shown)
        for m, problem in enumerate(problems, 1):
            _problem(problem, f"{where}.problems[{m}]", shown)
            if problem["number"] in numbers:
                raise VariantsError(f"{shown}: {where}: problem {problem['number']} appears twice")
            numbers.add(problem["number"])
        for m, problem in enumerate(problems, 1):  # a line names a problem by its number or its id: one each
            for name in dict.fromkeys((str(problem["number"]), problem["id"])):
                if names.setdefault(name, m) != m:
                    raise VariantsError(f"{shown}: {where}.problems[{m}]: the name {json.dumps(name)[:40]} is "
                                        f"also problem {names[name]}'s (an id must be unique and not another's number)")


def _problem(problem, where: str, shown: str) -> None:
    """Check one problem of a student (its fields by its kind)."""
    _need(problem, dict, where, shown)
    _need(problem.get("number"), int, f"{where}.number", shown)
    _need(problem.get("id"), str, f"{where}.id", shown)
    kind = problem.get("kind")
    if kind not in KINDS:
        raise VariantsError(f"{shown}: {where}.kind must be one of {', '.join(KINDS)}, not "
                            f"{json.dumps(kind)[:40]}")
    _need(problem.get("points"), int, f"{where}.points", shown, optional=True)
    for name, target in _need(problem.get("targets", {}), dict, f"{where}.targets", shown).items():
        _need(target, dict, f"{where}.targets.{name}", shown)
        _need(target.get("expected"), str, f"{where}.targets.{name}.expected", shown)
    if kind == "choice":
        order = _need(problem.get("order"), list, f"{where}.order", shown)
        if sorted(order) != list(range(len(order))) or not order:
            raise VariantsError(f"{shown}: {where}.order must be the option numbers 0..{max(len(order), 1) - 1} "
                                "each once")
        answer = _need(problem.get("answer"), list, f"{where}.answer", shown)
        if not answer or len(set(map(repr, answer))) != len(answer) or \
                any(isinstance(a, bool) or not isinstance(a, int) or not 0 <= a < len(order) for a in answer):
            raise VariantsError(f"{shown}: {where}.answer must list positions from 0 to {len(order) - 1}, "
                                "at least one, each once")
        if not _need(problem.get("multiple"), bool, f"{where}.multiple", shown) and len(answer) != 1:
            raise VariantsError(f"{shown}: {where}.answer lists {len(answer)} right options but 'multiple' is false")
    elif kind == "truefalse":
        _need(problem.get("truth"), bool, f"{where}.truth", shown)
    elif kind == "numeric":
        _exact(_need(problem.get("value"), str, f"{where}.value", shown), f"{where}.value", shown)
        tolerance = _need(problem.get("tolerance"), str, f"{where}.tolerance", shown, optional=True)
        if tolerance is not None and _exact(tolerance, f"{where}.tolerance", shown) < 0:
            raise VariantsError(f"{shown}: {where}.tolerance must not be negative, not {json.dumps(tolerance)[:40]}")
    elif kind == "short":
        _need(problem.get("model"), str, f"{where}.model", shown, optional=True)


def _exact(text: str, where: str, shown: str) -> Fraction:
    """A number variants.json writes as a spec's ``numeric`` gives it (``0.25``, ``1/4``, ``0.5/2``,
    ``2.5e-3``: :data:`derive.questions._NUMBER`, exponents of three digits at most), read as text,
    never evaluated; else a VariantsError naming ``where``."""
    from .questions import _NUMBER

    text = text.strip()
    top, _, bottom = text.partition("/")
    try:
        if not _NUMBER.fullmatch(text) or len(text) > 60:
            raise ValueError(text)
        return Fraction(top) / Fraction(bottom or 1)
    except (ValueError, ZeroDivisionError):
        raise VariantsError(f"{shown}: {where} must be a number (\"0.25\", \"1/4\"), not {json.dumps(text)[:40]}") \
            from None


# Drawing ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Draw:
    """What one parameter may be: the values ``start + k * step`` up to ``stop`` (a range), or
    one of ``choices``."""

    key: str
    start: Fraction = Fraction(0)
    step: Fraction = Fraction(1)
    count: int = 0
    choices: tuple[Fraction, ...] = ()

    def size(self) -> int:
        """How many values there are to draw from."""
        return len(self.choices) if self.choices else self.count

    def nth(self, index: int) -> Fraction:
        """The ``index``-th value (0-based)."""
        return self.choices[index] if self.choices else self.start + index * self.step


def _number(value, where: str) -> Fraction:
    """An exact number from a TOML value (an integer, a decimal, or a string such as ``"1/3"``)."""
    from .params import parse_number

    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise VariantsError(f"{where} must be a number, not {type(value).__name__}")
    try:
        number = parse_number(repr(value) if isinstance(value, float) else str(value))
    except (ValueError, ZeroDivisionError):
        raise VariantsError(f"{where} must be a number, not {str(value)[:40]!r}") from None
    return Fraction(int(number.p), int(number.q))


def _draw(key: str, value, where: str) -> Draw | None:
    """The Draw a ``params`` value asks for (a table: a range; a list: choices), None for a number."""
    if isinstance(value, list):
        if not value:
            raise VariantsError(f"{where}: the list of choices is empty")
        if len(value) > MAX_CHOICES:
            raise VariantsError(f"{where}: {len(value)} choices; at most {MAX_CHOICES}")
        return Draw(key, choices=tuple(_number(v, f"{where} choice {n}") for n, v in enumerate(value, 1)))
    if not isinstance(value, dict):
        return None
    unknown = set(value) - {"from", "to", "step"}
    if unknown:
        raise VariantsError(f"{where}: unknown key '{min(unknown)}' in a range (allowed: from, to, step)")
    for needed in ("from", "to"):
        if needed not in value:
            raise VariantsError(f"{where}: a range needs 'from' and 'to' (and optionally 'step')")
    start, stop = _number(value["from"], f"{where}.from"), _number(value["to"], f"{where}.to")
    step = _number(value.get("step", 1), f"{where}.step")
    if step <= 0:
        raise VariantsError(f"{where}.step must be more than 0, not {value.get('step')!r}")
    if start > stop:
        raise VariantsError(f"{where}: 'from' ({value['from']!r}) is more than 'to' ({value['to']!r})")
    return Draw(key, start, step, (stop - start) // step + 1)


def draws(table: dict, path: Path) -> dict[int, tuple[Draw, ...]]:
    """The parameters to draw, by problem number (1-based): every ``params`` value that is a range
    or a list. A range or list where values cannot be drawn yet (a problem other than a catalog
    entry) is a SpecError naming the problem and the key."""
    from .sheet import SpecError

    found = {}
    for number, problem in enumerate(table.get("problem", []) if isinstance(table.get("problem"), list) else [], 1):
        params = problem.get("params") if isinstance(problem, dict) else None
        if not isinstance(params, dict):
            continue
        where = f"problem[{number}].params"
        try:
            drawn = tuple(d for key, value in params.items() if (d := _draw(key, value, f"{where}.{key}")))
        except VariantsError as error:
            raise SpecError(f"{path}: {error}") from None
        if drawn and not _drawable(problem):
            raise SpecError(f"{path}: {where}.{drawn[0].key}: values are drawn for a catalog entry's parameters, "
                            "a network's sizes and a backprop problem's inputs and weights; not for this problem")
        if drawn:
            found[number] = drawn
    return found


def _drawable(problem: dict) -> bool:
    """Whether a problem takes drawn values: a catalog entry, a network, a backprop problem (not a
    simulation, not a built-in convolution example: see :mod:`derive.worked_params`)."""
    from .catalog.examples import EXAMPLES

    if "example" in problem:
        return EXAMPLES.get(problem["example"], {}).get("kind") == "backprop"
    return any(key in problem for key in ("entry", "network", "backprop"))


def shown(value: Fraction) -> int | str:
    """A drawn value as the spec and variants.json carry it: an integer, else its exact decimal
    (``"0.25"``), else a fraction (``"1/3"``)."""
    if value.denominator == 1:
        return int(value)
    rest = value.denominator
    for prime in (2, 5):
        while rest % prime == 0:
            rest //= prime
    if rest != 1:
        return f"{value.numerator}/{value.denominator}"
    with localcontext() as context:
        context.prec = 1000
        return format((Decimal(value.numerator) / Decimal(value.denominator)).normalize(), "f")


def student_seed(seed: int, student: str) -> int:
    """A student's seed: a 32-bit number from SHA-256 of (the sheet's seed, the student's id)."""
    return int.from_bytes(hashlib.sha256(f"derive-variants/{FORMAT}\0{seed}\0{student}".encode()).digest()[:4], "big")


def index(count: int, *material) -> int:
    """A number from 0 to ``count - 1`` drawn from SHA-256 of ``material`` (as text)."""
    digest = hashlib.sha256("\0".join(map(str, material)).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest, "big") % count


def shuffled(count: int, *material) -> list[int]:
    """A permutation of ``range(count)`` drawn from ``material`` (Fisher-Yates, each swap by :func:`index`)."""
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        j = index(i + 1, *material, "shuffle", i)
        order[i], order[j] = order[j], order[i]
    return order


def drawn_values(drawn: tuple[Draw, ...], seed: int, number: int, attempt: int) -> dict[str, int | str]:
    """One problem's drawn values for a student's ``seed``, try ``attempt``: key -> :func:`shown` value."""
    return {d.key: shown(d.nth(index(d.size(), seed, number, attempt, d.key))) for d in drawn}


def with_values(table: dict, values: dict[int, dict]) -> dict:
    """A copy of a spec's table with the values drawn put into each problem's ``params``."""
    result = copy.deepcopy(table)
    for number, problem_values in values.items():
        result["problem"][number - 1]["params"].update(problem_values)
    return result


def refuse_draws(table: dict, path: Path) -> None:
    """A spec with ranges or choices, asked for one sheet (no ``--variants``): a SpecError naming the key."""
    from .sheet import SpecError

    found = draws(table, path)
    if found:
        number, drawn = next(iter(found.items()))
        raise SpecError(f"{path}: problem[{number}].params.{drawn[0].key} is drawn per student (a range or "
                        "choices): write the variants with --variants ROSTER.csv or --variants N --seed S")


def build_problem(table: dict, number: int, path: Path, template_dir: str | None):
    """Problem ``number`` of a spec's ``table`` built by :func:`derive.sheet.build_sheet` (the
    table's header with that problem alone); a problem that cannot be built raises its
    SpecError, the problem named by its number in the spec."""
    from .sheet import SpecError, build_sheet

    header = {key: value for key, value in table.items() if key != "problem"}
    try:
        return build_sheet({**header, "problem": [table["problem"][number - 1]]}, path, template_dir).problems[0]
    except DeriveError as error:
        raise SpecError(str(error).replace("problem[1]", f"problem[{number}]", 1)) from None


# Building each student's variant ---------------------------------------------------------------

@dataclass(frozen=True)
class Student:
    """One student of a roster: the id (data, never a file name as it is) and the name (may be empty)."""

    id: str
    name: str = ""


@dataclass(frozen=True)
class Variant:
    """A student's sheet: the student, their seed, the values drawn (problem number -> key ->
    value), the sheet built with them (choice options in the student's order), and each choice
    question's order (problem number -> the spec's option indices in the order shown)."""

    student: Student
    seed: int
    params: dict
    sheet: object
    orders: dict


class _Builder:
    """Builds problems of one spec with values drawn, each (problem, values) once: a build that
    succeeded or failed is remembered, so students drawing the same values share the work."""

    def __init__(self, table: dict, path: Path, template_dir: str | None):
        self.table, self.path, self.template_dir = table, path, template_dir
        self.built: dict = {}

    def problem(self, number: int, values: dict):
        """Problem ``number`` built with ``values`` put into its ``params``: (sheet, None) or (None, error)."""
        key = (number, tuple(sorted(values.items())))
        if key not in self.built:
            table = {**self.table, "problem": list(self.table["problem"])}
            if values:
                table["problem"][number - 1] = {**table["problem"][number - 1],
                                                "params": {**table["problem"][number - 1]["params"], **values}}
            try:
                self.built[key] = (_one_problem(table, number, self.path, self.template_dir), None)
            except DeriveError as error:
                self.built[key] = (None, error)
        return self.built[key]


def _one_problem(table: dict, number: int, path: Path, template_dir: str | None):
    """The sheet of problem ``number`` alone, built by :func:`derive.sheet.build_sheet` (its errors
    name the problem by its number in the spec)."""
    from .sheet import SpecError, build_sheet

    header = {key: value for key, value in table.items() if key != "problem"}
    try:
        return build_sheet({**header, "problem": [table["problem"][number - 1]]}, path, template_dir)
    except DeriveError as error:
        raise SpecError(str(error).replace("problem[1]", f"problem[{number}]", 1)) from None


def _combinations(found: dict) -> int:
    """How many different sets of values can be drawn (capped: only compared with a roster's size)."""
    total = 1
    for drawn in found.values():
        for draw in drawn:
            total = min(total * draw.size(), 10**12)
    return total


def make(table: dict, path: Path, students: list[Student], seed: int, template_dir: str | None = None) -> list[Variant]:
    """Every student's variant of the spec ``table`` (read from ``path``), in the roster's order.

    A student's values are a function of (the spec, ``seed``, the student's id) alone, with one
    exception: where two students of the roster would draw the same values and the ranges have
    room for every student, the one whose id sorts later draws again (the next round), so the
    variants are pairwise different. A problem that does not build with the values drawn is drawn
    again (the next try); :data:`REDRAWS` failures in a row are a SpecError naming the problem,
    the student and the last error.
    """
    from .sheet import SpecError

    found = draws(table, path)
    builder = _Builder(table, path, template_dir)
    distinct = _combinations(found) >= len(students)
    taken, made = set(), {}
    for student in sorted(students, key=lambda s: s.id):
        own = student_seed(seed, student.id)
        for round_ in range(REDRAWS):
            params = {number: _well_posed(builder, number, drawn, own, round_, student) for number, drawn in found.items()}
            signature = json.dumps({str(n): v for n, v in params.items()}, sort_keys=True)
            if not distinct or signature not in taken or round_ == REDRAWS - 1:
                break
        taken.add(signature)
        problems = []
        for number in range(1, len(table["problem"]) + 1):
            sheet, error = builder.problem(number, params.get(number, {}))
            if error is not None:
                raise SpecError(str(error)) from None
            problems.append(sheet.problems[0])
        problems, orders = _shuffle(problems, own)
        made[student.id] = Variant(student, own, params, _replace_problems(sheet, problems), orders)
    return [made[student.id] for student in students]


def _well_posed(builder: _Builder, number: int, drawn: tuple[Draw, ...], own: int, round_: int,
                student: Student) -> dict:
    """Values for problem ``number`` that build: the first try of ``round_`` that does."""
    from .sheet import SpecError

    error = None
    for attempt in range(REDRAWS):
        values = drawn_values(drawn, own, number, f"{round_}.{attempt}")
        _, error = builder.problem(number, values)
        if error is None:
            return values
    shown_id = json.dumps(student.id, ensure_ascii=False)[:60]
    raise SpecError(f"{builder.path}: problem[{number}]: none of {REDRAWS} draws for student {shown_id} builds "
                    f"(do the ranges leave well-posed values?); the last: {_short(str(error))}")


def _short(text: str, most: int = 300) -> str:
    """``text`` cut to ``most`` characters (a drawn value may have hundreds of digits)."""
    return text if len(text) <= most else text[:most] + "…"


def _shuffle(problems: list, own: int) -> tuple[list, dict]:
    """Each choice question's options in the student's order (drawn from ``own``): the problems
    with their questions reordered, and each one's order (the spec's indices as shown)."""
    from dataclasses import replace

    result, orders = [], {}
    for number, problem in enumerate(problems, 1):
        question = getattr(problem, "question", None)
        if question is not None and question.kind == "choice" and len(question.options) > 1:
            order = shuffled(len(question.options), own, number, "options")
            problem = replace(problem, question=question.reordered(order))
            orders[number] = order
        result.append(problem)
    return result, orders


def _replace_problems(sheet, problems: list):
    from dataclasses import replace

    return replace(sheet, problems=tuple(problems))


# variants.json: what each student's variant expects ----------------------------------------------

def _source(table: dict, path: Path) -> tuple[str, dict]:
    """The name ``check`` grades a problem's targets by, and the fields that say how: a catalog
    entry's name (``notation``: its reading table), else a network's or worked problem's name
    (a spec beside the sheet by its path) with its counting ``convention``. A network or worked
    problem built with ``params`` (drawn or given) is not the one its name checks: its targets
    carry ``source`` instead of ``problem``, to be graded against ``expected`` (exact)."""
    if "entry" in table:
        return table["entry"], {"notation": table["entry"]}
    for key in ("network", "backprop", "example"):
        if key in table:
            name = table[key]
            name = str(path.parent / name) if key == "backprop" or name.endswith(".toml") else name
            return name, {"source" if table.get("params") else "problem": name,
                          "convention": table.get("convention", "full")}
    return "", {}


def _targets(problem, fields: dict, notation: str, template_dir: str | None) -> dict:
    """Each asked target's expected answer for the variant: LaTeX (checkable as ``expected``) and
    SymPy's text, with the fields ``check`` needs."""
    import sympy as sp

    from . import profiles
    from .printing import NotationLatexPrinter

    derivation = profiles.apply(problem.derivation, notation, template_dir)
    latex = NotationLatexPrinter(derivation.quantities).doprint
    found = {}
    for name in problem.targets:
        if name in problem.answers:
            value = problem.answers[name]
        else:
            value = derivation.value(name, problem.values) if problem.values else derivation.target(name).rhs
        found[name] = {"expected": latex(value), "value": sp.sstr(value), **fields}
    return found


def record(variant: Variant, table: dict, path: Path, notation: str | None = None,
           template_dir: str | None = None, cache: dict | None = None) -> dict:
    """A student's entry of variants.json: id, name, seed, the values drawn (by problem number, as
    text), and each problem's kind with its expected answers (a derivation's targets; a choice's
    order, options as shown and right positions; a true/false's truth; a numeric value and
    tolerance; a short answer's model). ``cache``, a dict the caller keeps, holds each problem's
    targets between students sharing the problem (the same object)."""
    from . import profiles

    cache = {} if cache is None else cache

    notation = notation or table.get("notation") or profiles.DEFAULT
    problems = []
    for number, (problem, spec) in enumerate(zip(variant.sheet.problems, table["problem"], strict=True), 1):
        question = getattr(problem, "question", None)
        kind = question.kind if question else "simulation" if problem.simulation is not None else "derivation"
        entry = {"number": number, "id": getattr(problem, "id", None) or str(number), "kind": kind,
                 "points": problem.points}
        if problem.derivation is not None:
            name, fields = _source(spec, path)
            if id(problem) not in cache:  # the problem kept with its targets: its id is not reused
                cache[id(problem)] = (problem, _targets(problem, fields, notation, template_dir))
            entry.update(problem=name, targets=cache[id(problem)][1])
        if kind == "choice":
            entry.update(order=variant.orders.get(number, list(range(len(question.options)))),
                         answer=list(question.answer), multiple=question.multiple, options=list(question.options))
        elif kind == "truefalse":
            entry["truth"] = question.truth
        elif kind == "numeric":
            entry.update(value=question.value, tolerance=question.tolerance)
        elif kind == "short":
            entry["model"] = question.model
        problems.append(entry)
    return {"id": variant.student.id, "name": variant.student.name, "seed": variant.seed,
            "params": {str(number): values for number, values in variant.params.items()}, "problems": problems}


def document(name: str, seed: int, students: list[dict]) -> dict:
    """The whole variants.json document of a sheet ``name`` drawn with ``seed``."""
    return {"spec": name, "seed": seed, "format": FORMAT, "students": students}
