"""Sheet specs: a TOML file listing the problems of a homework, read and checked whole.

A spec is validated completely before anything is written: a malformed one raises a
:class:`SpecError` naming the file, the key and the problem, and no file is produced.

```toml
title = "神经网络基础 第三次作业"
course = "神经网络基础"
date = "2025 年 4 月"
lang = "zh"                       # optional; --lang on the command line wins
notation = "course"               # optional: the notation profile (course, textbook); --notation wins
catalog = "teacher-catalog.toml"  # optional: a teacher's catalog file (relative to the spec), its entries usable

[[problem]]
entry = "xavier"                  # a catalog name (or network = "resnet18", a network's arithmetic,
                                  # or simulate = {act = "relu", init = "kaiming", depth = 30}, a Monte Carlo)
targets = ["var", "uniform_bound", "normal_std"]   # optional; default: all. Also any name the checker
                                  # grades (derive check NAME --targets): params[Conv-1], grad[w11], ...
points = 10                       # optional
statement = "..."                 # optional: replaces the default statement; $...$ spans are formulas,
                                  # read by the course reader and printed again (derive.statements)
params = { n_in = 256, n_out = 128 }               # optional
```
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import sympy as sp

from . import catalog, profiles, questions
from .engine import Derivation
from .errors import DeriveError, UsageError
from .files import read_toml
from .params import parse_params
from .questions import Question

TOP_KEYS = {"title": str, "course": str, "date": str, "lang": str, "notation": str, "problem": list,
            "catalog": str}
PROBLEM_KEYS = {"entry": str, "network": str, "example": str, "backprop": str, "simulate": dict, "targets": list,
                "points": int, "statement": str, "params": dict, "convention": str,
                "exact": bool, "id": object, "choice": object, "truefalse": object, "numeric": object,
                "short": object, "section": str}
SOURCES = ("entry", "network", "example", "backprop", "simulate")
SIMULATE_KEYS = ("act", "init", "depth", "width", "batch", "seed")


class SpecError(UsageError):
    """A sheet spec that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Problem:
    """One problem of a sheet: a derivation, the targets asked, their values and points; or a
    simulation (a :class:`derive.simulate.Config`, and then no derivation)."""

    derivation: Derivation | None
    targets: tuple[str, ...]
    values: dict[str, sp.Rational]
    points: int | None
    statement: str | None
    simulation: object | None = None
    #: what the derivation was worked from, for a handout's givens: a backprop :class:`~derive.backprop.graph.Run`
    source: object | None = None
    #: the checker's value of each asked target that is not the derivation's own (``params[Conv-1]``)
    answers: dict = field(default_factory=dict)
    #: whether the targets are numbered sub-questions, (1), (2), ...: the spec lists two or more
    numbered: bool = False
    #: what the problem asks as a question (choice, true/false, numeric, short), if it does: a
    #: :class:`derive.questions.Question`
    question: Question | None = None
    #: the spec's ``id`` (a name grading lines may use), else None: the problem is named by its number
    id: str | None = None
    #: a heading printed before the problem (``一、选择题``), as the spec writes it
    section: str | None = None


@dataclass(frozen=True)
class Sheet:
    """A whole homework, read from a spec: its header and its problems in order."""

    name: str
    title: str
    course: str
    date: str
    lang: str | None
    problems: tuple[Problem, ...]
    notation: str | None = None
    #: the title is the spec's file name (no ``title`` key): literal text, never markup
    title_from_file: bool = False

    @property
    def title_tex(self) -> str:
        """The title for TeX: its text escaped, its ``$...$`` spans printed from their parsed form
        (see :mod:`derive.statements`); a title taken from the file name only escaped."""
        from .markup import title_tex
        from .statements import to_tex

        return title_tex(self.title) if self.title_from_file else to_tex(self.title, escape=title_tex)


def _check_keys(table: dict, allowed: dict, where: str, path: Path) -> None:
    for key, value in table.items():
        name = f"{where}.{key}" if where else key
        if key not in allowed:
            raise SpecError(f"{path}: unknown key '{name}' (allowed: {', '.join(allowed)})")
        if not isinstance(value, allowed[key]) or (allowed[key] is int and isinstance(value, bool)):
            raise SpecError(f"{path}: '{name}' must be {allowed[key].__name__}, not {type(value).__name__}")


def _problem(table: dict, where: str, path: Path) -> Problem:
    """One ``[[problem]]``, checked whole; its ``id`` and ``section`` (a heading printed before it) kept."""
    _check_keys(table, PROBLEM_KEYS, where, path)
    ident = _parse_question(table, where, path, check_id=True)
    section = table.get("section")
    if section is not None:
        _statement(section, None, f"{where}.section", path)
    inner = {key: value for key, value in table.items() if key not in ("id", "section")}
    return replace(_problem_of(inner, where, path), id=ident, section=section)


def _problem_of(table: dict, where: str, path: Path) -> Problem:
    if not any(key in table for key in SOURCES) and questions.kind_of(table):
        return _question(table, where, path)
    if sum(key in table for key in SOURCES) != 1:
        raise SpecError(f"{path}: '{where}' needs exactly one of 'entry' (a catalog name), 'network', 'example', "
                        "'backprop' (a problem spec) or 'simulate', or a question ('choice', 'truefalse', "
                        "'numeric', 'short')")
    if "simulate" in table:
        return _simulation(table, where, path)
    if table.get("convention", "full") not in ("full", "sheet"):
        raise SpecError(f"{path}: '{where}.convention' must be \"full\" or \"sheet\"")
    if "exact" in table and "backprop" not in table and "example" not in table:
        raise SpecError(f"{path}: '{where}.exact' applies to a worked problem ('example' or 'backprop') only")
    try:
        derivation, source = (catalog.get(table["entry"]), None) if "entry" in table else _worked(table, path)
        params = [f"{key}={value}" for key, value in table.get("params", {}).items() if "entry" in table]
        values = parse_params(derivation, params)  # a worked problem's params: its source's (_worked)
    except DeriveError as error:
        raise SpecError(f"{path}: {where}: {error}") from None
    targets, answers = _targets(table, derivation, where, path)
    points = table.get("points")
    if points is not None and points < 0:
        raise SpecError(f"{path}: '{where}.points' must not be negative")
    _statement(table.get("statement"), derivation, f"{where}.statement", path)
    question = _parse_question(table, where, path, derivation, targets, values, answers)
    return Problem(derivation, targets, values, points, table.get("statement"), source=source, answers=answers,
                   numbered=len(table.get("targets") or ()) > 1, question=question)


def _parse_question(table: dict, where: str, path: Path, *args, check_id: bool = False):
    """:func:`derive.questions.parse` (or, with ``check_id``, the problem's id), its errors as SpecErrors."""
    try:
        return questions.check_id(table.get("id"), where, path) if check_id else questions.parse(table, where, path, *args)
    except questions.QuestionError as error:
        raise SpecError(str(error)) from None


def _question(table: dict, where: str, path: Path) -> Problem:
    """A problem that is only a question (choice, true/false, numeric, short): no derivation."""
    for key in table:
        if key not in ("points", "statement", *questions.KINDS):
            raise SpecError(f"{path}: '{where}.{key}' does not apply to a question without a derivation "
                            f"(allowed: statement, points, id, section, {', '.join(questions.KINDS)})")
    points = table.get("points")
    if points is not None and points < 0:
        raise SpecError(f"{path}: '{where}.points' must not be negative")
    _statement(table.get("statement"), None, f"{where}.statement", path)
    question = _parse_question(table, where, path)
    return Problem(None, (), {}, points, table.get("statement"), question=question)


def _targets(table: dict, derivation: Derivation, where: str, path: Path) -> tuple[tuple[str, ...], dict]:
    """The targets asked (default: the derivation's) and the value of each that is not one of the
    derivation's own but one the checker grades for this problem (``params[Conv-1]``, ``grad[w11]``:
    the names ``derive check NAME --targets`` lists). An unknown, repeated or non-string target is
    a SpecError naming it, with the closest names."""
    import difflib

    asked = list(table.get("targets") or derivation.targets)
    gradable = None  # computed when a target is not the derivation's own (a backprop run, a network's counts)
    answers = {}
    for n, target in enumerate(asked, 1):
        if not isinstance(target, str):
            raise SpecError(f"{path}: '{where}.targets' item {n} must be a string, not {type(target).__name__}")
        shown = " ".join(target.split())
        shown = shown if len(shown) <= 60 else shown[:60] + "…"
        if asked.index(target) != n - 1:
            raise SpecError(f"{path}: {where}: target '{shown}' is asked twice")
        if target in derivation.targets:
            continue
        if target.replace("[", "").replace("]", "") in derivation.targets:  # output[p1s1]: the result outputp1s1
            asked[n - 1] = target.replace("[", "").replace("]", "")
            continue
        gradable = _gradable(table, path) if gradable is None else gradable
        if target in gradable:
            answers[target] = gradable[target]
            continue
        known = [*derivation.targets, *(name for name in gradable if name not in derivation.targets)]
        close = difflib.get_close_matches(target[:200], known, n=3, cutoff=0.5)
        hint = (f"did you mean {', '.join(repr(name) for name in close)}?" if close else
                f"known: {', '.join(known[:12])}{', ...' if len(known) > 12 else ''}")
        raise SpecError(f"{path}: {where}: unknown target '{shown}' in '{derivation.name}'; {hint}")
    return tuple(asked), answers


def _gradable(table: dict, path: Path) -> dict:
    """What the checker grades for a network or a worked problem, by name: the one list of
    :mod:`derive.check.numeric` (under the problem's counting convention), else nothing."""
    from .check import numeric

    if table.get("params") and "entry" not in table:  # the source built with them (derive.worked_params)
        from .worked_params import gradable

        return gradable(table, path)
    if "network" in table:
        name = table["network"]
        source = str(path.parent / name) if name.endswith(".toml") else name
    elif "backprop" in table:
        source = str(path.parent / table["backprop"])
    elif "example" in table:
        source = table["example"]
    else:
        return {}
    try:
        found = numeric.problem(source)
    except DeriveError as error:
        raise SpecError(f"{path}: {error}") from None
    return dict(found.values.get(table.get("convention", "full"), found.values["full"]))


def _statement(text: str | None, derivation: Derivation | None, where: str, path: Path) -> None:
    """A statement or title whose ``$...$`` spans cannot be read is a SpecError naming the span."""
    from .statements import StatementError, check

    if text is None:
        return
    try:
        check(text, derivation)
    except StatementError as error:
        raise SpecError(f"{path}: {where}: {error}") from None


def _simulation(table: dict, where: str, path: Path) -> Problem:
    """A problem that is a Monte Carlo of the variance recursion (see :mod:`derive.simulate`)."""
    from .simulate import parse_config

    options = table["simulate"]
    for key in table:
        if key not in ("simulate", "points", "statement"):
            raise SpecError(f"{path}: '{where}.{key}' does not apply to a simulation (allowed: simulate, points, statement)")
    for key in options:
        if key not in SIMULATE_KEYS:
            raise SpecError(f"{path}: unknown key '{where}.simulate.{key}' (allowed: {', '.join(SIMULATE_KEYS)})")
    for key in ("act", "init"):
        if not isinstance(options.get(key), str):
            raise SpecError(f"{path}: '{where}.simulate.{key}' must be given, as a string")
    try:
        config = parse_config(where=f"{path}: {where}.simulate.", **options)
    except DeriveError as error:
        raise SpecError(str(error)) from None
    points = table.get("points")
    if points is not None and points < 0:
        raise SpecError(f"{path}: '{where}.points' must not be negative")
    _statement(table.get("statement"), None, f"{where}.statement", path)
    return Problem(None, (), {}, points, table.get("statement"), config)


def _worked(table: dict, path: Path) -> tuple[Derivation, object | None]:
    """A problem that is not a catalog entry: a network's arithmetic (built-in or a spec beside
    the sheet spec), a built-in worked example, or a backprop problem spec; with what it was worked
    from where a handout states that (a backprop run), else None."""
    from .architecture.arithmetic import Convention, analyse
    from .architecture.spec import read_network
    from .backprop.conv import exact_matrix, worked
    from .backprop.graph import graph_from, read_graph, run
    from .catalog import architectures
    from .catalog.architectures import builtin
    from .catalog.examples import example

    if table.get("params"):  # the values the source is built from, changed (derive.worked_params)
        from .worked_params import worked as worked_with

        return worked_with(table, path)
    if "network" in table:
        name = table["network"]
        network = read_network(path.parent / name) if name.endswith(".toml") else builtin(name)
        convention = Convention(sheet=table.get("convention") == "sheet")
        reference = architectures.REFERENCES.get(name)  # Inception's 1x1 reductions: the MACs ratio to naive
        reference = analyse(builtin(reference), convention) if reference else None
        return analyse(network, convention, reference=reference).derivation, None
    if "backprop" in table:
        result = run(read_graph(path.parent / table["backprop"]), exact=table.get("exact", False))
        return result.derivation, result
    spec = example(table["example"])
    if spec.pop("kind") == "conv2d":
        return worked(exact_matrix(spec["image"]), exact_matrix(spec["kernel"]), spec["parts"], False,
                      spec["name"], spec["title"])[0], None
    spec.pop("published", None)
    result = run(graph_from(spec, spec["name"]), exact=table.get("exact", False))
    return result.derivation, result


def read_spec(path: str | Path, template_dir: str | None = None) -> Sheet:
    """Read and check a sheet spec; raises SpecError (exit status 2) on anything wrong. Its
    ``notation`` must name a profile, shipped or in ``template_dir``."""
    path = Path(path)
    return build_sheet(read_toml(path), path, template_dir)


def build_sheet(table: dict, path: Path, template_dir: str | None = None) -> Sheet:
    """A sheet from a spec's table as read (``path`` names the spec in errors and anchors its
    relative files): what :func:`read_spec` does after reading, and what a student's variant is
    built by once its parameters are drawn (:mod:`derive.variants`)."""
    _check_keys(table, TOP_KEYS, "", path)
    problems = table.get("problem", [])
    if not problems:
        raise SpecError(f"{path}: no [[problem]] tables")
    if not all(isinstance(p, dict) for p in problems):
        raise SpecError(f"{path}: 'problem' must be a list of tables ([[problem]])")
    if table.get("lang") not in (None, "en", "zh"):
        raise SpecError(f"{path}: 'lang' must be \"en\" or \"zh\", not {table['lang']!r}")
    if "notation" in table:
        try:
            profiles.load(table["notation"], template_dir)
        except UsageError as error:
            raise SpecError(f"{path}: 'notation': {error}") from None
    _statement(table.get("title"), None, "title", path)
    if "catalog" in table:  # a teacher's catalog file, relative to the spec (derive.catalog.teacher)
        from .catalog.teacher import add_to_environment

        try:
            add_to_environment(path.parent / table["catalog"])
        except UsageError as error:
            raise SpecError(f"{path}: 'catalog': {error}") from None
    built = tuple(_problem(p, f"problem[{n}]", path) for n, p in enumerate(problems, 1))
    ids = [p.id for p in built if p.id is not None]
    for n, ident in enumerate(ids):
        if ids.index(ident) != n:
            raise SpecError(f"{path}: problem id '{ident}' is given twice (ids name problems in grading lines)")
    return Sheet(
        name=path.stem,
        title=table.get("title", path.stem),
        course=table.get("course", ""),
        date=table.get("date", ""),
        lang=table.get("lang"),
        problems=built,
        notation=table.get("notation"),
        title_from_file="title" not in table,
    )
