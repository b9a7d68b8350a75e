"""Question types of a sheet: multiple choice, true/false, a numeric answer, a short prose answer.

A ``[[problem]]`` of a sheet spec (:mod:`derive.sheet`) may ask a question instead of (or, for a
derivation's target, as well as) a derivation:

```toml
[[problem]]
statement = "Sigmoid 的导数是？"
choice = { options = ["$\\sigma(1-\\sigma)$", "$\\sigma(1+\\sigma)$"], answer = [0] }   # 0-based; several = multiple
[[problem]]
statement = "学习率不影响收敛。"
truefalse = false
[[problem]]
statement = "$\\sigma(0)$ = ?"
numeric = { value = "0.5", tolerance = "0.01" }      # tolerance absent: the digits-shown rule
[[problem]]
statement = "ReLU 相比 sigmoid 的优点？"
short = "正半轴梯度为 1，不饱和；计算简单。"          # or { model = "...", lines = 4 }
[[problem]]
entry = "sigmoid"                                     # a formula question: the options generated from the
targets = ["derivative"]                              # slips the checker's feedback knows for the target
choice = { distractors = "slips", count = 3 }
```

Option texts and model answers are untrusted: their ``$...$`` spans are read by the course
reader and printed again (:mod:`derive.statements`), their text escaped. Every malformed case is a
:class:`~derive.sheet.SpecError`-style one-line error naming the file, the problem and the key.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import UsageError

#: the keys that make a problem a question, one at most per problem
KINDS = ("choice", "truefalse", "numeric", "short")
#: at most this many options (lettered A..Z)
MAX_OPTIONS = 26
#: how long an option text or a model answer may be
MAX_TEXT = 4000
CHOICE_KEYS = ("options", "answer", "multiple", "distractors", "count")
NUMERIC_KEYS = ("value", "tolerance", "digits")
SHORT_KEYS = ("model", "lines")
#: a number as a teacher types it: an integer, a decimal (with an exponent) or a fraction
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?(/\d{1,30})?")
#: a problem's id: a name grading lines use (not all digits: those are problem numbers)
_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,39}")


@dataclass(frozen=True)
class Question:
    """What a problem asks beyond a derivation, and its right answer.

    ``kind`` is ``choice``, ``truefalse``, ``numeric`` or ``short``. For a choice: ``options`` (texts
    as written, ``$...$`` math; generated ones as ``$LaTeX$``), ``answer`` (0-based indices of the
    right ones, spec order) and ``multiple``. For true/false: ``truth``. For numeric: ``value`` (an
    exact string) and ``tolerance`` (absolute, a string; None = the digits-shown rule). For short:
    ``model`` (prose with ``$...$`` math) and ``lines`` (answer space on a handout). ``target``
    names the derivation's target a generated or checker-graded question asks, else None;
    ``generated`` says the options came from the checker's slips (``formulas`` holds them as SymPy).
    """

    kind: str
    options: tuple[str, ...] = ()
    answer: tuple[int, ...] = ()
    multiple: bool = False
    truth: bool | None = None
    value: str | None = None
    tolerance: str | None = None
    model: str | None = None
    lines: int | None = None
    target: str | None = None
    generated: bool = False
    #: a generated choice's options as SymPy formulas (printed in the document's notation profile)
    formulas: tuple = ()

    def reordered(self, order) -> Question:
        """This choice with its options shown in ``order`` (spec indices, each once): options, their
        formulas and the right answers (positions in the new order) moved together, for a student's
        variant (:mod:`derive.variants`)."""
        order = tuple(order)
        if sorted(order) != list(range(len(self.options))):
            raise ValueError(f"order {order} is not a permutation of the {len(self.options)} options")
        return replace(self, options=tuple(self.options[i] for i in order),
                       formulas=tuple(self.formulas[i] for i in order) if self.formulas else (),
                       answer=tuple(sorted(order.index(i) for i in self.answer)))

    @property
    def letters(self) -> str:
        """The right options' letters, ``A`` or ``A, C``."""
        return ", ".join(letter(index) for index in self.answer)


def letter(index: int) -> str:
    """Option ``index`` (0-based) as its letter: A, B, ..."""
    return chr(ord("A") + index)


class QuestionError(UsageError):
    """A question key of a sheet spec that cannot be used (the message names file, problem and key)."""


def kind_of(table: dict) -> str | None:
    """The question key a problem's table holds, None if none; two of them is an error for the caller."""
    found = [key for key in KINDS if key in table]
    return found[0] if found else None


def check_id(value, where: str, path: Path) -> str | None:
    """A problem's ``id``: a name (letters, digits, ``_ . -``, not starting with a digit, at most 40)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise QuestionError(f"{path}: '{where}.id' must be a string, not {type(value).__name__}")
    if not _ID.fullmatch(value):
        raise QuestionError(f"{path}: '{where}.id' must be a name (a letter or '_', then letters, digits, "
                            f"'_', '.', '-'; at most 40), not {_shown(value)!r}")
    return value


def parse(table: dict, where: str, path: Path, derivation=None, targets: tuple[str, ...] = (),
          values: dict | None = None, answers: dict | None = None) -> Question | None:
    """The question a problem's table asks (None if it asks none), validated whole.

    Args:
        table: the problem's table as read.
        where: ``problem[N]`` for messages.
        path: the spec file, for messages.
        derivation: the problem's derivation, if it has a source (entry, network, example, backprop).
        targets: the targets the problem asks (a derivation-backed question needs exactly one).
        values: the problem's parameter values (a checker-graded numeric target is evaluated at them).
        answers: the checker's values of asked targets that are not the derivation's own.
    """
    found = [key for key in KINDS if key in table]
    if not found:
        return None
    if len(found) > 1:
        raise QuestionError(f"{path}: '{where}' has both '{found[0]}' and '{found[1]}'; a problem asks one question")
    kind = found[0]
    spec = table[kind]
    key = f"{where}.{kind}"
    if derivation is not None:
        if kind in ("truefalse", "short"):
            raise QuestionError(f"{path}: '{key}' does not apply to a problem with a derivation "
                                "(only 'choice' with distractors = \"slips\" and 'numeric' do)")
        if len(targets) != 1:
            raise QuestionError(f"{path}: '{key}' on a derivation asks one target; give 'targets' = [one name] "
                                f"(it has {len(targets)})")
    elif "statement" not in table:
        raise QuestionError(f"{path}: '{where}' asks a question ('{kind}') but has no 'statement'")
    if kind == "choice":
        return _choice(spec, key, path, derivation, targets, values or {})
    if kind == "truefalse":
        if not isinstance(spec, bool):
            raise QuestionError(f"{path}: '{key}' must be true or false, not {type(spec).__name__}")
        return Question("truefalse", truth=spec)
    if kind == "numeric":
        return _numeric(spec, key, path, derivation, targets, values or {}, answers or {})
    return _short(spec, key, path)


def _shown(text: str) -> str:
    """A user's string for a one-line message: whitespace as single spaces, cut at 40 characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= 40 else text[:40] + "…"


def _text(value, key: str, path: Path, derivation=None) -> str:
    """An option or model answer: a non-empty string whose ``$...$`` spans read (derive.statements)."""
    from .statements import StatementError, check

    if not isinstance(value, str):
        raise QuestionError(f"{path}: '{key}' must be a string, not {type(value).__name__}")
    if not value.strip():
        raise QuestionError(f"{path}: '{key}' is empty")
    if len(value) > MAX_TEXT:
        raise QuestionError(f"{path}: '{key}' is {len(value)} characters long; at most {MAX_TEXT}")
    try:
        check(value, derivation)
    except StatementError as error:
        raise QuestionError(f"{path}: '{key}': {error}") from None
    return value


def _keys(spec: dict, allowed: tuple[str, ...], key: str, path: Path) -> None:
    for name in spec:
        if name not in allowed:
            raise QuestionError(f"{path}: unknown key '{key}.{_shown(name)}' (allowed: {', '.join(allowed)})")


def _choice(spec, key: str, path: Path, derivation, targets, values) -> Question:
    if not isinstance(spec, dict):
        raise QuestionError(f"{path}: '{key}' must be a table ({{ options = [...], answer = [...] }}), "
                            f"not {type(spec).__name__}")
    _keys(spec, CHOICE_KEYS, key, path)
    if "distractors" in spec or derivation is not None:
        if spec.get("distractors") != "slips":
            raise QuestionError(f"{path}: '{key}.distractors' must be \"slips\" (a choice on a derivation's target "
                                "takes its wrong options from the checker's slips)")
        for name in ("options", "answer", "multiple"):
            if name in spec:
                raise QuestionError(f"{path}: '{key}.{name}' does not apply with distractors = \"slips\"")
        if derivation is None:
            raise QuestionError(f"{path}: '{key}.distractors' needs a derivation: 'entry' and one target")
        count = spec.get("count", 3)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_OPTIONS - 1:
            raise QuestionError(f"{path}: '{key}.count' must be a whole number from 1 to {MAX_OPTIONS - 1}")
        from .distractors import options

        try:
            shown, found = options(derivation, targets[0], values, count)
        except UsageError as error:
            raise QuestionError(f"{path}: '{key}': {error}") from None
        return Question("choice", tuple(shown), (0,), False, target=targets[0], generated=True,
                        formulas=tuple(found))
    if "count" in spec:
        raise QuestionError(f"{path}: '{key}.count' applies with distractors = \"slips\" only")
    options = spec.get("options")
    if not isinstance(options, list):
        raise QuestionError(f"{path}: '{key}.options' must be a list of strings"
                            + ("" if options is None else f", not {type(options).__name__}"))
    if len(options) < 2:
        raise QuestionError(f"{path}: '{key}.options' must list at least 2 options (it has {len(options)})")
    if len(options) > MAX_OPTIONS:
        raise QuestionError(f"{path}: '{key}.options' lists {len(options)} options; at most {MAX_OPTIONS}")
    seen = {}
    for n, option in enumerate(options):
        _text(option, f"{key}.options[{n}]", path)
        same = " ".join(option.split())
        if same in seen:
            raise QuestionError(f"{path}: '{key}.options[{n}]' repeats option {seen[same]} ({_shown(option)!r})")
        seen[same] = n
    answer = spec.get("answer")
    if isinstance(answer, int) and not isinstance(answer, bool):
        answer = [answer]
    if not isinstance(answer, list) or not answer:
        raise QuestionError(f"{path}: '{key}.answer' must be a list of option indices (0-based), e.g. [0]")
    for n, index in enumerate(answer):
        if not isinstance(index, int) or isinstance(index, bool):
            raise QuestionError(f"{path}: '{key}.answer' item {n + 1} must be a whole number (0-based option index), "
                                f"not {type(index).__name__}")
        if not 0 <= index < len(options):
            raise QuestionError(f"{path}: '{key}.answer' index {index} is out of range: the options are numbered "
                                f"0 to {len(options) - 1}")
        if answer.index(index) != n:
            raise QuestionError(f"{path}: '{key}.answer' lists option {index} twice")
    multiple = spec.get("multiple", len(answer) != 1)
    if not isinstance(multiple, bool):
        raise QuestionError(f"{path}: '{key}.multiple' must be true or false, not {type(multiple).__name__}")
    if not multiple and len(answer) != 1:
        raise QuestionError(f"{path}: '{key}.answer' has {len(answer)} right options but 'multiple' is false")
    return Question("choice", tuple(options), tuple(answer), multiple)


def _number(value, key: str, path: Path, negative: bool = True) -> str:
    """A number as a teacher types it ("0.25", "1/4", 0.25), kept as an exact string."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QuestionError(f"{path}: '{key}' must be a number written as a string (\"0.25\", \"1/4\"), "
                            f"not {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise QuestionError(f"{path}: '{key}' must be a finite number")
    text = str(value).strip()
    if not _NUMBER.fullmatch(text) or len(text) > 60:
        raise QuestionError(f"{path}: '{key}' must be a number (\"0.25\", \"-3\", \"1/4\", \"2.5e-3\"), "
                            f"not {_shown(text)!r}")
    if text.endswith("/" + "0" * (len(text) - text.rfind("/") - 1)) and "/" in text:
        raise QuestionError(f"{path}: '{key}' divides by zero")
    if not negative and text.startswith("-"):
        raise QuestionError(f"{path}: '{key}' must not be negative")
    return text


def _numeric(spec, key: str, path: Path, derivation, targets, values, answers) -> Question:
    if not isinstance(spec, dict):
        raise QuestionError(f"{path}: '{key}' must be a table ({{ value = \"0.25\", tolerance = \"0.01\" }}), "
                            f"not {type(spec).__name__}")
    _keys(spec, NUMERIC_KEYS, key, path)
    digits = spec.get("digits", False)
    if not isinstance(digits, bool):
        raise QuestionError(f"{path}: '{key}.digits' must be true or false, not {type(digits).__name__}")
    if digits and "tolerance" in spec:
        raise QuestionError(f"{path}: '{key}' has both 'digits' and 'tolerance'; give one")
    tolerance = _number(spec["tolerance"], f"{key}.tolerance", path, negative=False) if "tolerance" in spec else None
    if derivation is None:
        if "value" not in spec:
            raise QuestionError(f"{path}: '{key}.value' must be given (the expected number)")
        return Question("numeric", value=_number(spec["value"], f"{key}.value", path), tolerance=tolerance)
    if "value" in spec:
        raise QuestionError(f"{path}: '{key}.value' does not apply to a derivation's target (its value is derived)")
    return Question("numeric", value=_target_value(derivation, targets[0], values, answers, key, path),
                    tolerance=tolerance, target=targets[0])


def _target_value(derivation, target: str, values: dict, answers: dict, key: str, path: Path) -> str:
    """A target's exact value at the problem's parameters, as a string; a formula is an error."""
    import sympy as sp

    if target in answers:
        value = sp.sympify(answers[target]) if not isinstance(answers[target], sp.Basic) else answers[target]
    else:
        symbols = {q.symbol: values[q.key] for q in derivation.quantities if q.key in values}
        value = derivation.target(target).rhs.subs(symbols)
    value = sp.nsimplify(value) if isinstance(value, sp.Float) else value
    if not getattr(value, "is_number", False) or value.free_symbols:
        raise QuestionError(f"{path}: '{key}': target '{target}' is a formula, not a number; give its "
                            f"parameters in 'params' (free: {', '.join(sorted(map(str, value.free_symbols)))})")
    if isinstance(value, sp.Rational):
        return str(value)
    return str(sp.N(value, 15))


def _short(spec, key: str, path: Path) -> Question:
    if isinstance(spec, str):
        spec = {"model": spec}
    if not isinstance(spec, dict):
        raise QuestionError(f"{path}: '{key}' must be the model answer (a string) or a table "
                            f"{{ model = \"...\", lines = 4 }}, not {type(spec).__name__}")
    _keys(spec, SHORT_KEYS, key, path)
    if "model" not in spec:
        raise QuestionError(f"{path}: '{key}.model' must be given (the model answer the key prints)")
    model = _text(spec["model"], key if set(spec) == {"model"} else f"{key}.model", path)
    lines = spec.get("lines")
    if lines is not None and (not isinstance(lines, int) or isinstance(lines, bool) or not 1 <= lines <= 40):
        raise QuestionError(f"{path}: '{key}.lines' must be a whole number from 1 to 40")
    return Question("short", model=model, lines=lines)
