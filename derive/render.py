"""Rendering a Derivation as LaTeX, plain text, Markdown or JSON.

Templates live in ``templates/`` (shipped inside the package); a user's template folder is
searched first. They use LaTeX-friendly delimiters (``\\VAR{...}``, ``\\BLOCK{...}``), and
every sentence they print comes from the zh/en wording tables beside them.
"""

from __future__ import annotations

import collections
import functools
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

import jinja2
import sympy as sp
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import catalog, markup, profiles, statements
from .backprop.conv import sheet_givens
from .backprop.givens import worked_view
from .engine import EQUALS, IMPLIES, Derivation
from .errors import UsageError
from .architecture.view import problem_network as network_view
from .figures import activation_figure
from .printing import NotationLatexPrinter, NotationStrPrinter, approximate, sum_rows, tex_escape
from .sheet import Problem, Sheet
from .subquestions import subquestions

FORMATS = ("text", "latex", "md", "json")
LANGUAGES = ("en", "zh")
TEMPLATE_FILES = {"text": "derivation.txt.j2", "latex": "derivation.tex.j2", "md": "derivation.md.j2"}


class TemplateProblem(UsageError):
    """A template or wording table that cannot be used; the message names the file and the line or key."""


def package_templates() -> Path:
    """The templates folder: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    inside = here / "templates"
    return inside if inside.is_dir() else here.parent / "templates"


@functools.cache
def environment(template_dir: str | None = None) -> jinja2.Environment:
    """The Jinja environment: a user's folder first, then the shipped templates.

    It is sandboxed (a template pack from anywhere cannot reach Python: no ``__globals__``,
    no method that changes a list or a dict), and ``tex`` is the filter every user string
    passes on its way to TeX (``title`` for a user's title: a space between Chinese characters kept;
    ``phrase`` for a wording phrase, whose ``$...$`` formulas stay math: see :mod:`derive.markup`).
    Compiled templates are kept in the cache folder (see :class:`derive.cache.TemplateCache`).
    """
    from .cache import TemplateCache

    folders = [template_dir] if template_dir else []
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader([*folders, str(package_templates())]), bytecode_cache=TemplateCache(),
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    env.filters["tex"] = tex_escape
    env.filters["comment"] = comment_text
    env.filters["rows"] = sum_rows
    env.filters["title"] = markup.title_tex
    env.filters["phrase"] = lambda phrase: _marked(phrase).tex
    return env


def comment_text(text) -> str:
    """Text for a TeX ``%`` comment: one line (a line break would end the comment)."""
    return " ".join(str(text).split())


_CJK = re.compile(markup.CJK)


def fill(template: str, template_dir: str | None = None, /, **values) -> str:
    """Render the template ``template`` with ``values``; a template that cannot be read or run
    (syntax, an undefined name, a sandbox violation, a bad format) is one line naming its file
    and line.

    ``cjk`` tells a template whether its text has Chinese in it (so that an English document
    with a Chinese title loads CJK fonts too): rendered once without, again with it if so."""
    try:
        compiled = environment(template_dir).get_template(template)
        text = compiled.render(**{"cjk": False, **values})
        return compiled.render(**values, cjk=True) if "cjk" not in values and _CJK.search(text) else text
    except jinja2.TemplateSyntaxError as error:
        where, message = f"template {error.filename or error.name}, line {error.lineno}", error.message
    except jinja2.TemplateNotFound as error:
        where, message = f"template {template}", f"no template '{error.name}' in the template folders"
    except (jinja2.TemplateError, KeyError, IndexError, ValueError, AttributeError, TypeError) as error:
        place = _template_line(error.__traceback__)
        if place is None and not isinstance(error, jinja2.TemplateError):
            raise
        where = f"template {place[0]}, line {place[1]}" if place else f"template {template}"
        message = f"{type(error).__name__}: {error}"
    raise TemplateProblem(f"{where}: {message}".replace("\n", " "))


def _template_line(trace) -> tuple[str, int] | None:
    """The innermost template file and line in a traceback (Jinja writes its frames with them)."""
    place = None
    while trace is not None:
        filename = trace.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            place = (filename, trace.tb_lineno)
        trace = trace.tb_next
    return place


class Wording(dict):
    """A wording table whose missing key is one line naming the file and the key, not a KeyError."""

    def __init__(self, table: Mapping, path: Path, prefix: str = ""):
        super().__init__({key: _entry(value, path, f"{prefix}{key}") for key, value in table.items()})
        self.path, self.prefix = path, prefix

    def __missing__(self, key):
        raise TemplateProblem(f"wording table {self.path}: no key '{self.prefix}{key}'")


class Phrase(str):
    """A sentence of a wording table: a placeholder ``format`` cannot fill is one line naming
    the file and the key."""

    def format(self, *args, **kwargs) -> str:
        """``str.format``, with the table's file and key in the error."""
        try:
            return str.format(self, *args, **kwargs)
        except (KeyError, IndexError, ValueError, AttributeError) as error:
            raise TemplateProblem(f"wording table {self.path}: '{self.key}': cannot fill in the placeholder "
                                  f"{error}") from None


def _entry(value, path: Path, key: str):
    if isinstance(value, dict):
        return Wording(value, path, f"{key}.")
    if isinstance(value, str):
        value = Phrase(value)
        value.path, value.key = path, key
    return value


@functools.cache
def wording(lang: str, template_dir: str | None = None) -> Wording:
    """The wording table of a language (``en`` or ``zh``); a table that is not TOML, or that
    lacks a key asked for, is one line naming the file and the line or key."""
    if lang not in LANGUAGES:
        raise UsageError(f"unknown language '{lang}'; choose one of {', '.join(LANGUAGES)}")
    for folder in ([Path(template_dir)] if template_dir else []) + [package_templates()]:
        path = folder / "wording" / f"{lang}.toml"
        if path.is_file():
            try:
                with path.open("rb") as handle:
                    return Wording(tomllib.load(handle), path)
            except tomllib.TOMLDecodeError as error:
                raise TemplateProblem(f"wording table {path}: TOML syntax: {error}") from None
            except (OSError, UnicodeDecodeError) as error:
                raise TemplateProblem(f"wording table {path}: cannot read: {error}") from None
    raise UsageError(f"no wording table for '{lang}' in the template folders")


def _check_text(words: Mapping, step) -> str:
    template = words["checks"][step.check]
    return template.format(points=step.certificate.points if step.certificate else 0)


def _side(printer, step) -> tuple[str, str]:
    """The (left, right) of a step's line, split where the = sign aligns."""
    return ("" if step.lhs is None else printer(step.lhs)), printer(step.display)


def _marked(phrase: str | markup.Marked, fields: Mapping[str, markup.Marked] | None = None) -> markup.Marked:
    """A wording phrase in every output form (:func:`derive.markup.marked`); a phrase whose markup
    cannot be read is one line naming the table's file and key."""
    if isinstance(phrase, markup.Marked):
        return phrase
    try:
        return markup.marked(phrase, fields)
    except markup.MarkupError as error:
        where = f"wording table {phrase.path}: '{phrase.key}'" if isinstance(phrase, Phrase) else "wording"
        raise TemplateProblem(f"{where}: {error}") from None


def _phrases(name: str, phrase: str | markup.Marked, fields: Mapping[str, markup.Marked] | None = None) -> dict:
    """A wording phrase in each output form: ``name`` (plain text), ``name_tex`` (for TeX) and
    ``name_md`` (for Markdown); its formulas are math markup (see :mod:`derive.markup`)."""
    forms = _marked(phrase, fields)
    return {name: forms.text, f"{name}_tex": forms.tex, f"{name}_md": forms.md}


def _phrase_lists(name: str, phrases: Sequence[str], fields: Mapping[str, markup.Marked] | None = None) -> dict:
    """A list of wording phrases in each output form (see :func:`_phrases`)."""
    forms = [_phrases(name, phrase, fields) for phrase in phrases]
    return {key: [form[key] for form in forms] for key in (name, f"{name}_tex", f"{name}_md")}


class _QuantityNames(Mapping):
    """A phrase's ``{key}`` placeholders: the derivation's quantities (symbols) as its notation
    writes them, printed only when a phrase asks (``{n_out} independent terms``)."""

    def __init__(self, quantities, latex, text):
        self._symbols = {q.key: q.symbol for q in quantities if isinstance(q.symbol, sp.Symbol)}
        self._latex, self._text = latex, text

    def __getitem__(self, key):
        symbol = self._symbols[key]
        return markup.math(self._latex(symbol), self._text(symbol))

    def __iter__(self):
        return iter(self._symbols)

    def __len__(self):
        return len(self._symbols)


def quantity_names(quantities) -> Mapping[str, markup.Marked]:
    """A wording phrase's ``{key}`` placeholders for ``quantities`` (a derivation's): each quantity
    as its notation writes it (LaTeX and plain text), for :func:`derive.markup.marked`."""
    return _QuantityNames(quantities, NotationLatexPrinter(quantities).doprint, NotationStrPrinter(quantities).doprint)


class _RuleTexts(Mapping):
    """The wording of each rule as plain text, converted when asked for."""

    def __init__(self, rules: Mapping, names: Mapping):
        self._rules, self._names = rules, names

    def __getitem__(self, rule):
        if rule not in self._rules:
            raise KeyError(rule)
        return _marked(self._rules[rule], self._names).text

    def __iter__(self):
        return iter(self._rules)

    def __len__(self):
        return len(self._rules)


def rule_texts(words: Mapping, derivation: Derivation) -> Mapping[str, str]:
    """The rules' wording as plain text (for the checker's feedback), their ``{key}``
    placeholders the derivation's quantities."""
    quantities = derivation.quantities
    names = _QuantityNames(quantities, NotationLatexPrinter(quantities).doprint, NotationStrPrinter(quantities).doprint)
    return _RuleTexts(words["rules"], names)


#: what a reason names of a substitution: at most this many facts, this many characters of text
FACTS_AT_MOST, FACTS_TEXT_AT_MOST = 2, 80


def _reason(words: Mapping, step, latex, text, names: Mapping) -> markup.Marked:
    """A step's reason: the rule's wording, and what was substituted (``zero-mean weights:
    substitute E[W] = 0``) where the step records it and the wording has no formula of its own.
    Facts too many or too long for a reason are not listed: a bare substitution then reads
    ``substitute the results above``."""
    rule = words["rules"][step.rule]
    reason = _marked(rule, names)
    inner = step.rule.startswith("rule-")  # a differentiation rule names its inner function: u = ...
    if not step.given or "$" in rule and step.rule != "substitute" and not inner:
        return reason
    facts = markup.math(r",\; ".join(f"{latex(old)} = {latex(new)}" for old, new in step.given),
                        ", ".join(f"{text(old)} = {text(new)}" for old, new in step.given))
    if len(step.given) > FACTS_AT_MOST or len(facts.text) > FACTS_TEXT_AT_MOST:
        return _marked(words["ui"]["substituted_above"]) if step.rule == "substitute" else reason
    if step.rule == "substitute":
        return _marked(words["ui"]["substituted"], {"facts": facts})
    # a substitute-... rule already says it substitutes: its facts follow a colon
    joined = "reason_inner" if inner else "reason_facts" if step.rule.startswith("substitute-") else "reason_substituted"
    return _marked(words["ui"][joined], {"reason": reason, "facts": facts})


def _builtin_network_title(derivation: Derivation) -> bool:
    """Whether a derivation is a built-in network under its built-in title (a user's spec may
    reuse a built-in name: its own title is then kept)."""
    from .catalog import architectures

    return (derivation.name in architectures.network_names()
            and derivation.title == architectures.builtin(derivation.name).title)


def _title(derivation: Derivation, words: Mapping, lang: str = "en") -> dict:
    """The title in each output form (``title``, ``title_tex``, ``title_md``): a derivation's own
    title (a user's network, a teacher's entry: in ``lang`` where its file gives one) literally, a
    catalog entry's from the wording table."""
    if derivation.title:
        if _builtin_network_title(derivation) and derivation.name in words.get("networks", {}):
            return _phrases("title", words["networks"][derivation.name])
        from .catalog.teacher import title_in

        return _phrases("title", markup.user(title_in(derivation, lang)))
    return _phrases("title", words["titles"].get(derivation.name)
                    or words.get("examples", {}).get(derivation.name, {}).get("title") or markup.user(derivation.name))


def context(derivation: Derivation, lang: str = "en", values: Mapping[str, sp.Rational] | None = None,
            template_dir: str | None = None, notation: str = profiles.DEFAULT) -> dict:
    """Everything a template needs, already printed: the view of one derivation, its quantities
    written in the notation profile ``notation`` (see :mod:`derive.profiles`)."""
    derivation = profiles.apply(derivation, notation, template_dir)
    words = wording(lang, template_dir)
    quantities = derivation.parameters()
    latex = NotationLatexPrinter(derivation.quantities, words["ui"]).doprint
    text = NotationStrPrinter(derivation.quantities).doprint
    values = dict(values or {})
    names = _QuantityNames(derivation.quantities, latex, text)
    lines = []
    for step in derivation.steps:
        tex_left, tex_right = _side(latex, step)
        text_left, text_right = _side(text, step)
        lines.append({
            "rule": step.rule, "kind": step.kind, **_phrases("reason", _reason(words, step, latex, text, names)),
            "check": step.check, "check_text": _check_text(words, step),
            "points": step.certificate.points if step.certificate else 0,
            "implies": step.kind == IMPLIES, "opens": step.kind != EQUALS,
            "tex_left": tex_left, "tex_right": tex_right, "text_left": text_left, "text_right": text_right,
        })
    targets = []
    for target in derivation.targets.values():
        entry = {"name": target.name, "tex_left": latex(target.lhs), "tex_right": latex(target.display),
                 "text_left": text(target.lhs), "text_right": text(target.display), "sympy": sp.sstr(target.rhs),
                 "formula": bool(getattr(target.rhs, "free_symbols", True)),
                 # a worked problem's grad_b is its own parameter's, not the catalog's gradient in the biases
                 **_phrases("label", words["targets"].get(target.name, "") if derivation.family != "backprop" else
                            words["sheet"]["at_step"].format(step=target.step) if target.step else "", names),
                 "entrywise": "; ".join(f"{size} = {', '.join(map(str, values))}"
                                        for size, values in target.entrywise)}
        # a target's value is shown where the --param values enter it; the others read as without them
        given = {key: value for key, value in values.items() if quantities[key].symbol in target.rhs.free_symbols}
        if not given and isinstance(target.rhs, sp.Expr) and target.rhs.is_number and not target.rhs.is_Integer \
                and not isinstance(target.display, sp.Float):  # a decimal display is its own rounding
            entry["float"] = float(sp.N(target.rhs, 17))
        if given:
            value = derivation.value(target.name, given)
            # value: SymPy's text, where it is a number; value_text and value_tex in the notation (never a key)
            entry.update(value_text=text(value), value_tex=latex(value))
            if value.is_number:
                entry.update(value=sp.sstr(value), float=float(sp.N(value, 17)))
        if "float" in entry:
            entry.update(approximate(entry["float"], target.percent))
        targets.append(entry)
    counts = {kind: sum(1 for s in derivation.steps if s.check == kind) for kind in ("symbolic", "numeric", "given")}
    return {
        "name": derivation.name, "family": derivation.family,
        **_title(derivation, words, lang),
        "words": words, "lines": lines, "targets": targets, "quantity_names": names,
        **_phrase_lists("assumptions", [words["assumptions"][key] for key in derivation.assumptions], names),
        **_phrase_lists("conventions", [words["conventions"][key] for key in derivation.conventions], names),
        "symbols": [{"name": q.key, "latex": q.latex, "domain": q.domain.latex if q.domain else None,
                     "aliases": list(q.aliases)} for q in derivation.quantities],
        "values": {key: sp.sstr(value) for key, value in values.items()},
        "values_tex": [f"{quantities[key].latex} = {latex(value)}" for key, value in values.items()],
        "verified": words["ui"]["verified"].format(**counts),
        "text_width": max((len(line["text_left"]) + 3 * line["implies"] for line in lines), default=0),
        "text_right_width": min(56, max((len(line["text_right"]) for line in lines), default=0)),
    }


def to_json(view: Mapping) -> str:
    """The JSON contract of one derivation (see docs/reference/json-outputs.md)."""
    document = {
        "name": view["name"], "title": view["title"], "family": view["family"],
        "assumptions": view["assumptions"], "conventions": view["conventions"],
        "symbols": view["symbols"],
        "steps": [{"rule": line["rule"], "reason": line["reason"],
                   "latex": _joined(line["tex_left"], line["tex_right"], line["kind"]),
                   "check": line["check"], "points": line["points"]} for line in view["lines"]],
        "targets": {t["name"]: {k: t[k] for k in ("latex", "sympy", "value", "value_latex", "float") if k in t}
                    for t in ({**t, "latex": t["tex_right"],
                               **({"value_latex": t["value_tex"]} if "value_tex" in t and "value" not in t else {})}
                              for t in view["targets"])},
    }
    if view["values"]:
        document["values"] = view["values"]
    return json.dumps(document, ensure_ascii=False, indent=2)


def _joined(left: str, right: str, kind: str) -> str:
    prefix = r"\Rightarrow " if kind == IMPLIES else ""
    return f"{prefix}{left} = {right}".strip()


def render(derivation: Derivation, fmt: str = "text", lang: str = "en",
           values: Mapping[str, sp.Rational] | None = None, template_dir: str | None = None,
           display: bool = False, notation: str = profiles.DEFAULT) -> str:
    """Render a derivation.

    Args:
        derivation: the verified derivation.
        fmt: ``text``, ``latex``, ``md`` or ``json``.
        lang: ``en`` or ``zh``.
        values: parameter values; each target then also shows its exact and decimal value.
        template_dir: a folder searched for templates before the shipped ones.
        display: for ``latex``, a ``$$\\begin{aligned}`` block (as Jupyter shows it)
            instead of ``align*``.
        notation: the notation profile (``course``, ``textbook``).
    """
    view = context(derivation, lang, values, template_dir, notation)
    if fmt == "json":
        return to_json(view)
    if fmt not in TEMPLATE_FILES:
        raise UsageError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    return fill(TEMPLATE_FILES[fmt], template_dir, **view, self_view=view, display=display)


def render_document(derivation: Derivation, lang: str = "en", values: Mapping[str, sp.Rational] | None = None,
                    template_dir: str | None = None, picture: dict | None = None, show_checks: bool = False,
                    notation: str = profiles.DEFAULT) -> str:
    """A whole LaTeX document of one derivation (``single.tex.j2``), with its figure if it has
    one, and a computation graph ``picture`` if given (see :mod:`derive.backprop.picture`).

    The certificates (how each step was checked, the summary line) are ``%`` comments unless
    ``show_checks``: a student's copy shows only the mathematics. Quantities are written in the
    notation profile ``notation``."""
    view = context(derivation, lang, values, template_dir, notation)
    return fill("single.tex.j2", template_dir, view=view, words=view["words"], lang=lang,
                plot=activation_figure(derivation, values or {}), picture=picture, show_checks=show_checks,
                network=network_view(derivation, view, lang, template_dir, notation))  # a network: its tables


def _problem_view(problem: Problem, number: int, lang: str, template_dir: str | None,
                  notation: str = profiles.DEFAULT) -> dict:
    from . import question_view

    if problem.question is not None and problem.derivation is None:  # a question only (choice, short, ...)
        return question_view.problem_view(problem, number, lang, template_dir, notation)
    if problem.simulation is not None:
        from .simulate_view import problem_view

        return {**problem_view(problem, number, lang, template_dir, notation), "subquestions": [],
                "statement_tex": statements.to_tex(problem.statement) if problem.statement is not None else None}
    view = context(problem.derivation, lang, problem.values, template_dir, notation)
    words = view["words"]
    # the targets asked, in the spec's order: the derivation's own and the checker's (params[Conv-1])
    symbols = {symbol["name"]: symbol["latex"] for symbol in view["symbols"]}
    conv = sheet_givens(problem.derivation, words)  # conv2d: I and K as matrices, padding and stride in words
    labels = {name: phrase.tex for name, phrase in conv["asked"]} if conv else {}
    subs = subquestions(problem, view, words, symbols.get, lang, labels)
    asked = [sub["question_tex" if problem.numbered else "label_tex"] for sub in subs]
    quantities = profiles.apply(problem.derivation, notation, template_dir).quantities
    worked = worked_view(problem, view, words)  # backprop: the givens, what to compute, the graph
    # A formula sheet keeps a worked problem's results only where they are formulas (its
    # all-numeric results are the homework's answers); a catalog entry's constants (g = 1/2) stay.
    from_catalog = problem.derivation.name in {entry.name for entry in catalog.entries()}
    return {
        "formulas": [t["name"] for t in view["targets"]
                     if t["name"] in problem.targets and (from_catalog or t["formula"])],
        "number": number, "points": problem.points, "statement": problem.statement,
        "statement_tex": statements.to_tex(problem.statement, problem.derivation, quantities)
        if problem.statement is not None else None,
        "subquestions": subs if problem.numbered else [],
        "default_statement": worked["statement"] if worked else _marked(words["statements"].get(problem.derivation.name)
                                     or words["sheet"][f"{problem.derivation.family}_statement"],
                                     collections.ChainMap({"title": markup.Marked(view["title"], view["title_tex"],
                                                                                  view["title_md"]),
                                                           **_definition(problem.derivation, quantities, words)},
                                                          view["quantity_names"])).tex,
        "values_tex": view["values_tex"], "asked": asked, "names": list(problem.targets),
        "givens": [given.tex for given in conv["givens"]] if conv else worked["givens"] if worked else [],
        "handout_picture": worked and worked["handout_picture"], "key_picture": worked and worked["key_picture"],
        "view": view, "figure": activation_figure(problem.derivation, problem.values), "simulation": None,
        "network": network_view(problem.derivation, view, lang, template_dir, notation),  # layer tables
        "question": question_view.view(problem.question, problem.derivation, lang, template_dir, notation)
        if problem.question is not None else None,  # a choice on a target (distractors = "slips"), a numeric one
    }


def _shared_view(views: dict | None, problem: Problem, number: int, lang: str, template_dir: str | None,
                 notation: str) -> dict:
    """:func:`_problem_view`, kept in ``views`` (if given) by the problem object and its number."""
    if views is None:
        return _problem_view(problem, number, lang, template_dir, notation)
    key = (id(problem), number, lang, template_dir, notation)
    if key not in views:  # the problem is kept with its view: its id is not reused while views lives
        views[key] = (problem, _problem_view(problem, number, lang, template_dir, notation))
    return views[key][1]


def _definition(derivation: Derivation, quantities, words: Mapping) -> dict:
    """``{definition}`` of a statement: what a teacher's catalog entry defines (L = ..., f(x) = ...), printed."""
    from .catalog.teacher import definition

    pairs = definition(derivation)
    if not pairs:
        return {}
    latex, text = NotationLatexPrinter(quantities, words["ui"]).doprint, NotationStrPrinter(quantities).doprint
    return {"definition": markup.math(", \\quad ".join(f"{latex(a)} = {latex(b)}" for a, b in pairs),
                                      ", ".join(f"{text(a)} = {text(b)}" for a, b in pairs))}


LAYOUTS = ("handout", "key", "formulas")


def render_sheet(sheet: Sheet, layout: str, lang: str = "en", template_dir: str | None = None,
                 show_checks: bool = False, notation: str | None = None, views: dict | None = None) -> str:
    """A sheet as a LaTeX document: ``handout`` (questions), ``key`` (with solutions) or ``formulas``
    (the results as formulas: no value computed from the spec's params, no all-numeric result
    of a worked problem). A key's certificates are ``%`` comments unless ``show_checks``. One
    notation profile for the whole document: ``notation``, else the spec's, else the default.
    ``views``, a dict the caller keeps, holds each problem's view between calls: a handout and its
    key, and students' variants sharing a problem (the same object), compute it once."""
    notation = notation or sheet.notation or profiles.DEFAULT
    problems = [{**_shared_view(views, p, n, lang, template_dir, notation),  # a spec's section heading before it
                 "section_tex": statements.to_tex(p.section) if p.section else None}
                for n, p in enumerate(sheet.problems, 1)]
    words = wording(lang, template_dir)
    counts = {kind: sum(1 for p in sheet.problems if p.derivation for s in p.derivation.steps if s.check == kind)
              for kind in ("symbolic", "numeric", "given")}
    return fill(f"{layout}.tex.j2", template_dir, sheet=sheet, problems=problems, words=words,
                lang=lang, show_checks=show_checks,
        verified=words["sheet"]["verified_note"].format(**counts) if any(p.derivation for p in sheet.problems) else "")


def render_list(entries: Sequence, fmt: str, lang: str) -> str:
    """The catalog as a table (text) or a JSON list: name, family, title and targets."""
    words = wording(lang)
    rows = [{"name": e.name, "family": e.family,  # a teacher's entry (derive.catalog.teacher): its own title
             "title": _marked(words["titles"][e.name] if e.title is None else markup.user(
                 e.title if lang == "en" else e.titles.get(lang, e.title))).text,
             "targets": list(e.targets)} for e in entries]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    return fill("list.txt.j2", None, rows=rows)
