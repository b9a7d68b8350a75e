"""Rendering a Derivation as LaTeX, plain text, Markdown or JSON.

Templates live in ``templates/`` (shipped inside the package); a user's template folder is
searched first. They use LaTeX-friendly delimiters (``\\VAR{...}``, ``\\BLOCK{...}``), and
every sentence they print comes from the zh/en wording tables beside them.
"""

from __future__ import annotations

import functools
import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

import jinja2
import sympy as sp

from .engine import EQUALS, IMPLIES, Derivation
from .errors import UsageError
from .figures import activation_figure
from .printing import NotationLatexPrinter, NotationStrPrinter
from .sheet import Problem, Sheet

FORMATS = ("text", "latex", "md", "json")
LANGUAGES = ("en", "zh")
TEMPLATE_FILES = {"text": "derivation.txt.j2", "latex": "derivation.tex.j2", "md": "derivation.md.j2"}

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
}


def package_templates() -> Path:
    """The templates folder: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    inside = here / "templates"
    return inside if inside.is_dir() else here.parent / "templates"


def tex_escape(text: str) -> str:
    """Escape every character TeX treats specially, so that text prints literally."""
    return "".join(_TEX_SPECIALS.get(character, character) for character in str(text))


@functools.cache
def environment(template_dir: str | None = None) -> jinja2.Environment:
    """The Jinja environment: a user's folder first, then the shipped templates."""
    folders = [template_dir] if template_dir else []
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*folders, str(package_templates())]),
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    env.filters["tex"] = tex_escape
    return env


@functools.cache
def wording(lang: str, template_dir: str | None = None) -> dict:
    """The wording table of a language (``en`` or ``zh``)."""
    if lang not in LANGUAGES:
        raise UsageError(f"unknown language '{lang}'; choose one of {', '.join(LANGUAGES)}")
    for folder in ([Path(template_dir)] if template_dir else []) + [package_templates()]:
        path = folder / "wording" / f"{lang}.toml"
        if path.is_file():
            with path.open("rb") as handle:
                return tomllib.load(handle)
    raise UsageError(f"no wording table for '{lang}' in the template folders")


def _check_text(words: Mapping, step) -> str:
    template = words["checks"][step.check]
    return template.format(points=step.certificate.points if step.certificate else 0)


def _side(printer, step) -> tuple[str, str]:
    """The (left, right) of a step's line, split where the = sign aligns."""
    return ("" if step.lhs is None else printer(step.lhs)), printer(step.rhs)


def context(derivation: Derivation, lang: str = "en", values: Mapping[str, sp.Rational] | None = None,
            template_dir: str | None = None) -> dict:
    """Everything a template needs, already printed: the view of one derivation."""
    words = wording(lang, template_dir)
    quantities = derivation.parameters()
    latex = NotationLatexPrinter(derivation.quantities).doprint
    text = NotationStrPrinter(derivation.quantities).doprint
    values = dict(values or {})
    lines = []
    for step in derivation.steps:
        tex_left, tex_right = _side(latex, step)
        text_left, text_right = _side(text, step)
        lines.append({
            "rule": step.rule, "kind": step.kind, "reason": words["rules"][step.rule],
            "check": step.check, "check_text": _check_text(words, step),
            "points": step.certificate.points if step.certificate else 0,
            "implies": step.kind == IMPLIES, "opens": step.kind != EQUALS,
            "tex_left": tex_left, "tex_right": tex_right, "text_left": text_left, "text_right": text_right,
        })
    targets = []
    for target in derivation.targets.values():
        entry = {"name": target.name, "tex_left": latex(target.lhs), "tex_right": latex(target.rhs),
                 "text_left": text(target.lhs), "text_right": text(target.rhs), "sympy": sp.sstr(target.rhs),
                 "entrywise": "; ".join(f"{size} = {', '.join(map(str, values))}"
                                        for size, values in target.entrywise)}
        if not values and isinstance(target.rhs, sp.Expr) and target.rhs.is_number and not target.rhs.is_Integer:
            entry["float"] = float(sp.N(target.rhs, 17))
        if values:
            value = derivation.value(target.name, values)
            entry.update(value=sp.sstr(value), value_tex=latex(value))
            if value.is_number:
                entry["float"] = float(sp.N(value, 17))
        targets.append(entry)
    counts = {kind: sum(1 for s in derivation.steps if s.check == kind) for kind in ("symbolic", "numeric", "given")}
    return {
        "name": derivation.name, "family": derivation.family,
        "title": derivation.title or words["titles"][derivation.name],
        "words": words, "lines": lines, "targets": targets,
        "assumptions": [words["assumptions"][key] for key in derivation.assumptions],
        "conventions": [words["conventions"][key] for key in derivation.conventions],
        "symbols": [{"name": q.key, "latex": q.latex, "domain": q.domain.latex if q.domain else None,
                     "aliases": list(q.aliases)} for q in derivation.quantities],
        "values": {key: sp.sstr(value) for key, value in values.items()},
        "values_tex": [f"{quantities[key].latex} = {latex(value)}" for key, value in values.items()],
        "verified": words["ui"]["verified"].format(**counts),
        "text_width": max((len(line["text_left"]) + 3 * line["implies"] for line in lines), default=0),
        "text_right_width": min(56, max((len(line["text_right"]) for line in lines), default=0)),
    }


def to_json(view: Mapping) -> str:
    """The JSON contract of one derivation (see the README)."""
    document = {
        "name": view["name"], "title": view["title"], "family": view["family"],
        "assumptions": view["assumptions"], "conventions": view["conventions"],
        "symbols": view["symbols"],
        "steps": [{"rule": line["rule"], "reason": line["reason"],
                   "latex": _joined(line["tex_left"], line["tex_right"], line["kind"]),
                   "check": line["check"], "points": line["points"]} for line in view["lines"]],
        "targets": {t["name"]: {k: t[k] for k in ("latex", "sympy", "value", "float") if k in t}
                    for t in ({**t, "latex": t["tex_right"]} for t in view["targets"])},
    }
    if view["values"]:
        document["values"] = view["values"]
    return json.dumps(document, ensure_ascii=False, indent=2)


def _joined(left: str, right: str, kind: str) -> str:
    prefix = r"\Rightarrow " if kind == IMPLIES else ""
    return f"{prefix}{left} = {right}".strip()


def render(derivation: Derivation, fmt: str = "text", lang: str = "en",
           values: Mapping[str, sp.Rational] | None = None, template_dir: str | None = None,
           display: bool = False) -> str:
    """Render a derivation.

    Args:
        derivation: the verified derivation.
        fmt: ``text``, ``latex``, ``md`` or ``json``.
        lang: ``en`` or ``zh``.
        values: parameter values; each target then also shows its exact and decimal value.
        template_dir: a folder searched for templates before the shipped ones.
        display: for ``latex``, a ``$$\\begin{aligned}`` block (as Jupyter shows it)
            instead of ``align*``.
    """
    view = context(derivation, lang, values, template_dir)
    if fmt == "json":
        return to_json(view)
    if fmt not in TEMPLATE_FILES:
        raise UsageError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    return environment(template_dir).get_template(TEMPLATE_FILES[fmt]).render(
        **view, self_view=view, display=display)


def render_document(derivation: Derivation, lang: str = "en", values: Mapping[str, sp.Rational] | None = None,
                    template_dir: str | None = None, picture: dict | None = None) -> str:
    """A whole LaTeX document of one derivation (``single.tex.j2``), with its figure if it has
    one, and a computation graph ``picture`` if given (see :mod:`derive.backprop.picture`)."""
    view = context(derivation, lang, values, template_dir)
    return environment(template_dir).get_template("single.tex.j2").render(
        view=view, words=view["words"], lang=lang, plot=activation_figure(derivation, values or {}), picture=picture)


def _problem_view(problem: Problem, number: int, lang: str, template_dir: str | None) -> dict:
    if problem.simulation is not None:
        from .simulate_view import problem_view

        return problem_view(problem, number, lang, template_dir)
    view = context(problem.derivation, lang, problem.values, template_dir)
    words = view["words"]
    asked = []
    for target in view["targets"]:
        if target["name"] in problem.targets:
            described = words["targets"].get(target["name"])
            asked.append(f"${target['tex_left']}$" if described is None else
                         described if "$" in described else f"{described} ${target['tex_left']}$")
    return {
        "number": number, "points": problem.points, "statement": problem.statement,
        "default_statement": words["statements"].get(problem.derivation.name)
        or words["sheet"][f"{problem.derivation.family}_statement"].format(title=tex_escape(view["title"])),
        "values_tex": view["values_tex"], "asked": asked, "names": list(problem.targets),
        "view": view, "figure": activation_figure(problem.derivation, problem.values), "simulation": None,
    }


LAYOUTS = ("handout", "key", "formulas")


def render_sheet(sheet: Sheet, layout: str, lang: str = "en", template_dir: str | None = None) -> str:
    """A sheet as a LaTeX document: ``handout`` (questions), ``key`` (with solutions) or ``formulas``."""
    problems = [_problem_view(p, n, lang, template_dir) for n, p in enumerate(sheet.problems, 1)]
    words = wording(lang, template_dir)
    counts = {kind: sum(1 for p in sheet.problems if p.derivation for s in p.derivation.steps if s.check == kind)
              for kind in ("symbolic", "numeric", "given")}
    return environment(template_dir).get_template(f"{layout}.tex.j2").render(
        sheet=sheet, problems=problems, words=words, lang=lang,
        verified=words["sheet"]["verified_note"].format(**counts) if any(p.derivation for p in sheet.problems) else "")


def render_list(entries: Sequence, fmt: str, lang: str) -> str:
    """The catalog as a table (text) or a JSON list: name, family, title and targets."""
    words = wording(lang)
    rows = [{"name": e.name, "family": e.family, "title": words["titles"][e.name],
             "targets": list(e.targets)} for e in entries]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    return environment().get_template("list.txt.j2").render(rows=rows)
