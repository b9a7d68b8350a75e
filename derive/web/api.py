"""What the web page and its JSON API ask: the problems, and checks run in the worker pool.

A :class:`Service` owns one :class:`~derive.check.pool.CheckPool` (its workers' time and memory
limits) and the sheets given to ``serve --sheet``. A check is the request ``check`` and ``grade``
run (:func:`derive.check.batch.run_request` in a worker), its reply written with the fields of
``check --json``; a derivation is ``check-steps``'s report (the same worker, the request's
``report`` flag), with the summary verdict and feedback of ``grade``'s derivation lines. Nothing a
request holds is evaluated, written to disk or used as a file name: a problem must be a catalog
entry, a built-in network or worked example, or a loaded sheet's ``SHEET#N``.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import anyio.to_thread

from .. import catalog
from ..errors import DeriveError
from ..render import LANGUAGES, render_list, wording

#: The fields of ``POST /api/check`` and of ``POST /api/check-steps``.
CHECK_KEYS = ("problem", "target", "expected", "answer", "lang", "assume", "log_base", "convention", "notation")
STEPS_KEYS = ("problem", "derivation", "lang")
_MAX_SHOWN = 60
#: Judged answers kept in memory (identical requests answered at once; never written anywhere).
CACHED = 4096


class ApiError(Exception):
    """A request that cannot be answered: its HTTP status and a one-line message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _shown(value) -> str:
    """A user's string cut short for a message (the page escapes it)."""
    from ..check.decide import quoted

    return quoted(str(value), _MAX_SHOWN)


class _SheetProblem:
    """One checkable problem of a loaded sheet: its id, how each target is checked, its listing."""

    def __init__(self, ident: str, number: int, sheet, problem, table: dict, path: Path):
        from ..check.variant_grade import _request
        from ..variants import _source, _targets

        self.id, self.number, self.sheet, self.problem = ident, number, sheet, problem
        self.entry = table.get("entry") if not table.get("params") else None
        _, fields = _source(table, path)
        notation = sheet.notation or "course"
        self._targets = _targets(problem, fields, notation, None)  # the variant mechanism: expected per target
        if "problem" in fields:  # a worked problem's own target names (grad_w11) that check does not know
            from ..check.numeric import targets as named  # (it names grad[w11]): judged against the value

            known = set(named(fields["problem"])["targets"])
            for target, spec in self._targets.items():
                if target not in known:
                    self._targets[target] = {k: v for k, v in spec.items() if k not in ("problem", "convention")}
        self._plain = self.entry is not None and notation == "course"
        self._request = _request

    @property
    def targets(self) -> tuple[str, ...]:
        """The targets the sheet asks."""
        return tuple(self._targets)

    def job(self, target: str, answer: str, lang: str) -> dict:
        """The worker request checking ``answer`` for ``target``: as ``check ENTRY --target T`` for a
        catalog entry as the catalog has it, else against the sheet's own expected value (a
        network's or worked problem's target as ``check`` names it)."""
        if self._plain:
            return {"problem": self.entry, "target": target, "answer": answer, "lang": lang}
        listing = {"kind": "derivation", "number": self.number, "id": self.id, "targets": self._targets}
        return self._request(listing, {"target": target, "answer": answer}, lang)


class _QuestionProblem:
    """A sheet's question (choice, true/false, number, short answer): judged as ``grade --variants``
    judges a student's answer, the sheet being the variant with the options in the spec's order."""

    targets = ("answer",)
    entry = None

    def __init__(self, ident: str, number: int, sheet, problem):
        self.id, self.number, self.sheet, self.problem = ident, number, sheet, problem
        question = problem.question
        self.kind = question.kind
        self.variant = {"number": number, "id": ident, "kind": question.kind,
                        "order": list(range(len(question.options))), "answer": list(question.answer),
                        "multiple": question.multiple, "truth": question.truth, "value": question.value,
                        "tolerance": question.tolerance, "model": question.model or ""}

    def judged(self, answer: str, lang: str) -> dict | None:
        """A choice's, true/false's or short answer's result, judged here; None for a number
        (judged in the worker pool: :meth:`job`)."""
        from ..check import variant_grade as judges

        words = wording(lang)["variant_grade"]
        try:
            if self.kind == "choice":
                return judges._judge_choice(self.variant, {"answer": answer}, words)
            if self.kind == "truefalse":
                return judges._judge_truth(self.variant, {"answer": answer}, words)
            if self.kind == "short":
                return judges._judge_short(self.variant, words)
        except DeriveError as error:  # a letter the question does not have
            return {"verdict": "unparsable", "expected": "", "parsed": "", "feedback": str(error),
                    "certificate": None, "ms": 0.0}
        return None

    def job(self, target: str, answer: str, lang: str) -> dict:
        """The worker request judging a number against the question's value and tolerance."""
        from ..check.variant_grade import _request

        return _request(self.variant, {"answer": answer}, lang)


class Service:
    """The checks of the web page, in a worker pool.

    Args:
        sheets: sheet specs (TOML) whose problems are listed and checkable as ``SHEET#N``.
        jobs: worker processes (checks at once).
        timeout: seconds per check (a derivation: per line, at most 30 lines' worth).
        log: a file that gets one JSON line per check (time, problem, target, verdict, ms).
    """

    def __init__(self, sheets: Iterable[Path] = (), jobs: int = 2, timeout: float = 5, log: Path | None = None):
        from ..check.pool import CheckPool
        from ..sheet import read_spec

        self.sheets: dict[str, _SheetProblem | _QuestionProblem] = {}
        self._sheet_titles: list[tuple[str, object]] = []
        for spec in sheets:
            self._load(Path(spec), read_spec)
        self._listing: dict[str, list[dict]] = {}
        self._done: OrderedDict[str, dict] = OrderedDict()
        self._log = Path(log).open("a", encoding="utf-8") if log is not None else None  # noqa: SIM115 - open while serving
        self._log_lock = threading.Lock()
        self.pool = CheckPool(jobs, timeout)

    def _load(self, path: Path, read_spec) -> None:
        from ..files import read_toml, safe_stem

        sheet = read_spec(path)
        table = read_toml(path)
        stem = safe_stem(path.stem, "sheet")
        while any(key.startswith(f"{stem}#") for key in self.sheets):
            stem += "-2"
        self._sheet_titles.append((stem, sheet))
        for number, (problem, spec) in enumerate(zip(sheet.problems, table["problem"], strict=True), 1):
            ident = f"{stem}#{number}"
            if problem.question is not None:
                self.sheets[ident] = _QuestionProblem(ident, number, sheet, problem)
            elif problem.derivation is not None and problem.simulation is None:
                self.sheets[ident] = _SheetProblem(ident, number, sheet, problem, spec, path)

    # -- listing -------------------------------------------------------------------------------
    def problems(self, lang: str = "en") -> list[dict]:
        """The catalog's entries and the loaded sheets' checkable problems: ``{"id", "kind",
        "title", "targets": [{"name", "label"}]}``. A sheet's problem also has ``sheet``,
        ``number``, ``statement`` (the spec's own text, ``$...$`` formulas, or null) and
        ``statement_html``: the handout's statement and a worked problem's givens as HTML, user
        text escaped and formulas as ``\\( ... \\)`` (:func:`derive.export.items.problem_text`);
        a derivation's target its ``asked_html`` (``Find: (1) ...``); a question its ``question``
        kind (``choice``, ``truefalse``, ``numeric``, ``short``) and a choice its ``options_html``."""
        lang = lang if lang in LANGUAGES else "en"
        if lang not in self._listing:
            self._listing[lang] = self._catalog_listing(lang) + self._sheet_listing(lang)
        return self._listing[lang]

    def _catalog_listing(self, lang: str) -> list[dict]:
        labels = _labels(lang)
        return [{"id": row["name"], "kind": "catalog", "family": row["family"], "title": row["title"],
                 "targets": [{"name": t, "label": labels(t)} for t in row["targets"]]}
                for row in json.loads(render_list(catalog.entries(), "json", lang))]

    def _sheet_listing(self, lang: str) -> list[dict]:
        from .. import markup, profiles
        from ..export.items import problem_items, problem_text
        from ..render import _title

        labels, words, found = _labels(lang), wording(lang), []
        for item in self.sheets.values():
            notation = item.sheet.notation or profiles.DEFAULT
            row = {"id": item.id, "kind": "sheet", "sheet": markup.user(item.sheet.title).text,
                   "number": item.number, "statement": item.problem.statement}
            if isinstance(item, _QuestionProblem):
                asked = problem_items(item.problem, item.number, lang, notation)[0]
                kind = words["web"]["question_kinds"]
                title = _title(item.problem.derivation, words, lang)["title"] if item.problem.derivation \
                    else kind["title"].format(kind=kind[item.kind])
                row.update(title=title, question=item.kind, statement_html=asked.html,
                           options_html=list(asked.options),
                           targets=[{"name": "answer", "label": kind[f"{item.kind}_answer"]}])
            else:
                context, asked = problem_text(item.problem, item.number, lang, notation)
                row.update(title=_title(item.problem.derivation, words, lang)["title"], statement_html=context,
                           targets=[{"name": t, "label": labels(t), "asked_html": asked.get(t, "")}
                                    for t in item.targets])
            found.append(row)
        return found

    # -- checks --------------------------------------------------------------------------------
    async def check(self, payload: Mapping) -> dict:
        """``POST /api/check``: one answer, the fields of ``check --json``.

        Raises:
            ApiError: 400 for a malformed request, 404 for an unknown problem.
        """
        from ..check.batch import _fields, invalid

        request = _object(payload, CHECK_KEYS)
        lang = _lang(request)
        if reason := invalid(request):
            raise ApiError(400, reason)
        shown_problem = request.get("problem")
        if isinstance(shown_problem, str) and shown_problem in self.sheets:
            if "convention" in request or "notation" in request:
                raise ApiError(400, "a sheet's problem is checked as the sheet asks: no 'convention' or 'notation'")
            item = self.sheets[shown_problem]
            target = request.get("target", "")
            if target not in item.targets:
                raise ApiError(400, f"unknown target '{_shown(target)}' of '{item.id}' "
                                    f"(known: {', '.join(item.targets)})")
            judged = item.judged(request["answer"], lang) if isinstance(item, _QuestionProblem) else None
            if judged is not None:  # a choice, true/false or short answer: no worker needed
                result = {**judged, "problem": shown_problem, "target": target}
                self._record(result)
                return result
            job = {**item.job(target, request["answer"], lang),
                   **{k: request[k] for k in ("assume", "log_base") if k in request}}
        else:
            if shown_problem is not None:
                await anyio.to_thread.run_sync(_known_target, shown_problem, request.get("target"))
            job = {**request, "lang": lang}
        key = json.dumps(job, sort_keys=True, ensure_ascii=False)
        result = self._done.get(key)
        if result is None:
            reply = await anyio.to_thread.run_sync(self.pool.run, job, self.pool.timeout)
            result = _fields(job, reply, self.pool.timeout)
            self._remember(key, result)
        result = dict(result)
        if shown_problem in self.sheets:
            result.update(problem=shown_problem, target=request["target"])
        self._record(result)
        return result

    def _remember(self, key: str, result: dict) -> None:
        """Keep a judged answer (never a timeout or a failure): an identical request is answered
        from memory, as ``grade`` checks identical lines once; the oldest forgotten past CACHED."""
        if result.get("verdict") in ("correct", "incorrect", "unparsable"):
            self._done[key] = result
            while len(self._done) > CACHED:
                self._done.popitem(last=False)

    async def check_steps(self, payload: Mapping) -> dict:
        """``POST /api/check-steps``: a derivation line by line, the fields of ``check-steps --json``
        (problem, lines, final, first_error) with the summary ``verdict`` and ``feedback``.

        Raises:
            ApiError: 400 for a malformed request or derivation, 404 for an unknown problem.
        """
        from ..check.batch import _budget, summarize_steps

        request = _object(payload, STEPS_KEYS)
        lang = _lang(request)
        problem, text = request.get("problem"), request.get("derivation")
        if not isinstance(problem, str) or not isinstance(text, str):
            raise ApiError(400, "needs 'problem' and 'derivation', both strings")
        if problem in self.sheets:
            entry = self.sheets[problem].entry
            if entry is None:
                raise ApiError(400, f"'{problem}' is not a catalog entry's derivation: check its answers one by one")
        elif problem in _catalog_names():
            entry = problem
        else:
            raise ApiError(404, f"unknown problem '{_shown(problem)}' (a derivation is checked for a catalog entry)")
        job = {"problem": entry, "steps": text, "lang": lang, "report": True}
        seconds = _budget(job, self.pool.timeout)
        reply = await anyio.to_thread.run_sync(self.pool.run, job, seconds)
        if "final" not in reply:  # bad input (too many lines), a failure, or out of time
            if reply.get("verdict") == "error" and not reply.get("feedback", "").startswith("the derivation"):
                raise ApiError(400, reply.get("feedback") or "the derivation cannot be checked")
            feedback = reply.get("feedback") or wording(lang)["check"]["timeout"].format(seconds=f"{seconds:g}")
            result = {"problem": problem, "lines": [], "final": {"target": None, "verdict": reply.get("verdict")},
                      "first_error": None, "verdict": reply.get("verdict", "error"), "target": None,
                      "feedback": feedback}
        else:
            summary = summarize_steps(reply, lang)
            result = {"problem": problem, "lines": reply["lines"], "final": reply["final"],
                      "first_error": reply["first_error"], "target": summary["target"],
                      "verdict": summary["verdict"], "feedback": summary["feedback"]}
        result["ms"] = reply.get("ms")
        self._record(result)
        return result

    def _record(self, result: Mapping) -> None:
        """One line of the ``--log`` file: time, problem, target, verdict, ms; never the answer,
        nor who asked (the problem and target are known names, or null for ``expected``)."""
        if self._log is None:
            return
        line = json.dumps({"time": datetime.now(UTC).isoformat(timespec="seconds"), "problem": result.get("problem"),
                           "target": result.get("target"), "verdict": result.get("verdict"),
                           "ms": result.get("ms")}, ensure_ascii=False)
        with self._log_lock:
            self._log.write(line + "\n")
            self._log.flush()

    def close(self) -> None:
        """Stop the workers and close the log."""
        self.pool.close()
        if self._log is not None:
            self._log.close()


def _object(payload, keys: tuple[str, ...]) -> dict:
    """The request as a dict of known fields (ApiError 400 naming what is not)."""
    if not isinstance(payload, dict):
        raise ApiError(400, "the body must be a JSON object")
    unknown = [key for key in payload if key not in keys]
    if unknown:
        raise ApiError(400, f"unknown field '{_shown(unknown[0])}' (known: {', '.join(keys)})")
    return dict(payload)


def _lang(request: dict) -> str:
    lang = request.pop("lang", "en")
    if lang not in LANGUAGES:
        raise ApiError(400, f"'lang' must be one of {', '.join(LANGUAGES)}")
    return lang


def _catalog_names() -> set[str]:
    return {entry.name for entry in catalog.entries()}


def _known_target(problem: str, target: str | None) -> None:
    """ApiError unless ``problem`` is a catalog entry, a built-in network or a worked example (never
    a file: a name ending in .toml is not looked up) and ``target`` one of its targets."""
    from ..catalog.architectures import network_names
    from ..catalog.examples import EXAMPLES
    from ..check.numeric import targets

    entries = {entry.name: entry for entry in catalog.entries()}
    if problem not in entries and problem not in network_names() and problem not in EXAMPLES:
        raise ApiError(404, f"unknown problem '{_shown(problem)}' (see GET /api/problems)")
    try:
        known = list(entries[problem].targets) if problem in entries else targets(problem)["targets"]
    except DeriveError as error:
        raise ApiError(400, str(error)) from None
    if target not in known:
        raise ApiError(400, f"unknown target '{_shown(target)}' of '{problem}' (known: "
                            f"{', '.join(known[:12])}{', ...' if len(known) > 12 else ''})")


def _labels(lang: str):
    """A target's label (``the first derivative``) from the wording table, in plain text."""
    from .. import markup

    phrases = wording(lang)["targets"]

    def label(name: str) -> str:
        try:
            return markup.marked(phrases[name]).text if name in phrases else name
        except DeriveError:
            return name
    return label
