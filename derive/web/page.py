"""The page students check their answers on: ``GET /`` and the form post ``POST /``.

The page is one HTML document (``derive/web/templates/page.html.j2``, Jinja2 with autoescape on,
an Environment of its own, not the LaTeX one) in English or Chinese: the ``[web]`` table of
``templates/wording/{en,zh}.toml``, chosen by ``?lang=`` or else the browser's Accept-Language.
With JavaScript on, ``static/app.js`` typesets with the vendored KaTeX and checks through the JSON
API (``/api/check``, ``/api/check-steps``); with it off, the forms post to ``/`` and the verdict is
rendered here, through the same :class:`derive.web.api.Service` methods.

Every string from a user, a sheet, a title or a feedback reaches the page through autoescaping
(or, in the script, ``textContent``); a formula is written as its LaTeX source in a ``data-tex``
attribute, which the script typesets and a page without JavaScript shows as it is. The one
exception is a sheet's statement, givens, options and sub-question: the HTML of
:mod:`derive.export.html` (the handout's own text, user text escaped there), inserted as it is,
its formulas in ``span.tex`` typeset by KaTeX's auto-render (:func:`typeset_html`).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from .. import markup
from ..render import wording
from .api import ApiError

LANGUAGES = ("en", "zh")
TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def environment() -> jinja2.Environment:
    """The page's Jinja2 environment: HTML autoescaping on (a result's optional fields, absent,
    are empty)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True)


def language(request: Request) -> str:
    """The page's language: ``?lang=`` when it is ``en`` or ``zh``, else the first of those the
    browser's Accept-Language prefers (by its q values), else English."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    ranked = []
    for n, item in enumerate(request.headers.get("accept-language", "").split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and weight > 0:
            ranked.append((-weight, n, primary))
    return min(ranked)[2] if ranked else "en"


def pieces(text: str) -> list[dict]:
    """A title or statement cut at its ``$`` signs: ``[{"math": bool, "text": str}]`` (a text whose
    dollars do not pair is all text)."""
    try:
        return [{"math": is_math, "text": piece} for is_math, piece in markup.parts(text) if piece]
    except markup.MarkupError:
        return [{"math": False, "text": str(text)}]


#: a formula of :func:`derive.export.html.math_html`, the only backslash-parenthesis or -bracket its
#: HTML holds (a user's backslash is the character reference ``&#92;``)
_FORMULA = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)


def typeset_html(text: str) -> str:
    """A sheet's HTML (:mod:`derive.export.html`: user text escaped, formulas as ``\\( ... \\)``)
    with each formula in a ``<span class="tex">``: the script typesets those spans only (KaTeX's
    auto-render), so a user's ``\\(`` in the text, a character reference there, stays text."""
    return _FORMULA.sub(lambda found: f'<span class="tex">{found.group()}</span>', text or "")


def html_plain(text: str) -> str:
    """A sheet's HTML (:func:`typeset_html`'s input) as plain Unicode, for a ``<select>`` option: its
    tags dropped, its formulas as :func:`derive.markup.latex_to_text` writes them."""
    import html

    out, position = [], 0
    for found in _FORMULA.finditer(text):
        out.append(html.unescape(re.sub(r"<[^>]*>", "", text[position:found.start()])))
        out.append(markup.latex_to_text(html.unescape(found.group()[2:-2].strip())))
        position = found.end()
    out.append(html.unescape(re.sub(r"<[^>]*>", "", text[position:])))
    return " ".join("".join(out).split())


@functools.cache
def _find(lang: str) -> str:
    """The handout's ``Find:`` (``求：``) before a sub-question, as plain text."""
    from ..export.items import asked_html

    return html_plain(asked_html("", lang, period=False, html=True))


def plain(text: str) -> str:
    """A title as plain Unicode (for a ``<select>`` option, which cannot hold typeset math)."""
    return "".join(markup.latex_to_text(p["text"]) if p["math"] else p["text"] for p in pieces(text))


@functools.cache
def catalog_statement(name: str, lang: str) -> str:
    """A catalog entry's statement (its ``[statements]`` wording) as ``$...$`` markup, a ``\\q{key}``
    quantity written as the entry writes it; "" when it has none."""
    phrase = wording(lang)["statements"].get(name)
    if not phrase:
        return ""
    fields = {}
    if "\\q{" in phrase:
        from ..catalog import get
        from ..render import quantity_names

        fields = quantity_names(get(name).quantities)
    return markup.marked(phrase, fields).md


def _page_problems(service, lang: str) -> list[dict]:
    """The problems as the page shows them: the service's list with its titles cut into pieces, a
    sheet's problems by their numbers, each with the group it is listed in (the catalog, or its sheet)."""
    shown, catalog = [], wording(lang)["web"]["group_catalog"]
    for problem in service.problems(lang):
        item = dict(problem)
        title = problem.get("title", problem["id"])
        sheet = problem.get("kind") == "sheet"
        item["group"] = plain(problem.get("sheet") or problem["id"].split("#")[0]) if sheet else catalog
        item["title_plain"] = f"{problem.get('number', '')}. {plain(title)}" if sheet else plain(title)
        item["title_pieces"] = pieces(problem.get("title", problem["id"]))
        if "statement_html" in problem:  # a sheet's problem: the handout's text, formulas typeset
            item["statement_html"] = typeset_html(problem["statement_html"])
            item["options_html"] = [typeset_html(option) for option in problem.get("options_html", [])]
            item["statement_pieces"] = []
        else:
            statement = problem.get("statement") or (catalog_statement(problem["id"], lang) if not sheet else "")
            item["statement_pieces"] = pieces(statement)
        item["targets"] = [dict(t, label_plain=_target_label(t, lang), asked_html=typeset_html(t.get("asked_html", "")))
                           for t in problem.get("targets", [])]
        shown.append(item)
    return shown


def _target_label(target: dict, lang: str) -> str:
    """A target as its ``<option>`` shows it: its label, or for a sheet's target the wording has no
    label for (``grad_w11``), its sub-question without ``Find:`` (``(1) ∂E/∂w₁₁``)."""
    label = target.get("label") or target["name"]
    if label != target["name"] or not target.get("asked_html"):
        return plain(label)
    return html_plain(target["asked_html"]).removeprefix(_find(lang)).strip().rstrip("。.") or plain(label)


def render(service, lang: str, chosen: dict, result: dict | None = None, status: int = 200) -> HTMLResponse:
    """The page in ``lang``; ``chosen`` holds the problem, target and the text of the two fields,
    ``result`` the answer of a form post (``{"kind": "check"|"steps"|"error", ...}``)."""
    words = wording(lang)["web"]
    problems = _page_problems(service, lang)
    problem = next((p for p in problems if p["id"] == chosen.get("problem")), problems[0] if problems else None)
    notice = ""
    if chosen.get("problem") and (problem is None or problem["id"] != chosen["problem"]):
        notice = words["no_problem"].format(problem=chosen["problem"])
    targets = problem["targets"] if problem else []
    target = chosen.get("target") if any(t["name"] == chosen.get("target") for t in targets) else (
        targets[0]["name"] if targets else "")
    groups: dict[str, list[dict]] = {}
    for item in problems:
        groups.setdefault(item["group"], []).append(item)
    asked = next((t["asked_html"] for t in targets if t["name"] == target), "")
    html = environment().get_template("page.html.j2").render(
        lang=lang, words=words, groups=groups, problem=problem, target=target, asked=asked,
        answer=chosen.get("answer", ""), derivation=chosen.get("derivation", ""), result=result,
        notice=notice, other_lang="zh" if lang == "en" else "en",
        client={"lang": lang, "words": dict(words), "problems": problems})
    return HTMLResponse(html, status_code=status)


def routes(service) -> list[Route]:
    """The page's routes over ``service`` (a :class:`derive.web.api.Service`): ``GET /`` and ``POST /``."""

    async def show(request: Request) -> HTMLResponse:
        """The page; ``?problem=...&target=...`` preselects a problem and its target."""
        chosen = {"problem": request.query_params.get("problem", ""),
                  "target": request.query_params.get("target", "")}
        return render(service, language(request), chosen)

    async def post(request: Request) -> HTMLResponse:
        """A form post (JavaScript off): the verdict rendered on the page."""
        form = await request.form()
        fields = {key: str(form.get(key, "")) for key in ("lang", "mode", "problem", "target", "answer",
                                                          "derivation")}
        lang = fields["lang"] if fields["lang"] in LANGUAGES else language(request)
        status, result = 200, None
        try:
            if fields["mode"] == "steps":
                report = await service.check_steps({"problem": fields["problem"],
                                                    "derivation": fields["derivation"], "lang": lang})
                result = {"kind": "steps", **report}
            else:
                report = await service.check({"problem": fields["problem"], "target": fields["target"],
                                              "answer": fields["answer"], "lang": lang})
                result = {"kind": "check", **report}
        except ApiError as error:
            status = error.status
            result = {"kind": "error", "mode": fields["mode"], "message": error.message}
        return render(service, lang, fields, result, status)

    return [Route("/", show, methods=["GET"]), Route("/", post, methods=["POST"])]
