"""Numeric problems: built-in networks, worked examples and their spec files, graded like any other.

A problem is a built-in network (``derive net list``), a worked example (``derive example list``)
or a spec file (``.toml``: a network spec, or a backprop spec with ``nodes``). Its targets are the
network's totals ``params``, ``activations``, ``macs`` and per layer ``params[LAYER]``,
``output_shape[LAYER]``, ``activations[LAYER]``, ``macs[LAYER]``, ``receptive_field[LAYER]``; an
example's ``loss``, ``loss_after``, ``grad[P]``, ``updated[P]``, ``forward[NODE]``, or a
convolution's ``output`` matrices. Expected values come from the engines (never typed in).

A number is judged by the digits it shows: an answer equal to the exact value is correct
"exactly"; otherwise, written with its last digit in the place ``u`` (0.01598: u = 0.00001; 11.7 M:
u = 100 000), it is correct "to the digits shown" when ``|answer - exact| <= u/2`` (the exact
value rounded to that digit gives the answer; exactly halfway, either neighbour) and it shows at
least ``MIN_SIGNIFICANT`` significant digits. A plain integer (no decimal point, no K, M, G or
x 10^n) claims an exact value: 11,689,500 for 11,689,512 and 12 for 12.5 are incorrect. A wrong
answer that another counting convention gives is named.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import sympy as sp

from ..audit.claims import CONVENTIONS, parse_matrix, parse_number
from ..audit.judge import format_exact, value_only
from ..errors import UnknownNameError, UsageError
from ..render import wording

#: A rounded answer must show at least this many significant digits (0.02 for 0.0159766 does not).
MIN_SIGNIFICANT = 2
LAYER_QUANTITIES = ("params", "output_shape", "activations", "macs", "receptive_field")
_RESIDUAL = ("output_shape", "receptive_field")  # a residual row's own parameters are its layers'
_TARGET = re.compile(r"(?P<quantity>[A-Za-z_]+)(?:\[(?P<inner>.+)\])?")


@dataclass(frozen=True)
class Problem:
    """A numeric problem: its kind (``network`` or ``example``) and every target's exact value
    (a SymPy number, a shape tuple in H x W x C order, or a matrix as rows) per convention."""

    name: str
    kind: str
    values: Mapping[str, Mapping[str, object]]      # convention -> target -> value (examples: "full" only)

    def targets(self) -> list[str]:
        """The target names, in the order the engine gives them."""
        return list(self.values["full"])


# -- problems --------------------------------------------------------------------------------
def _catalog_names() -> set[str]:
    from .. import catalog

    return {entry.name for entry in catalog.entries()}


def is_numeric(problem: str) -> bool:
    """Whether a problem name is not a catalog derivation (a network, an example, a spec file, or
    an unknown name, which :func:`problem` reports with the closest known one)."""
    return problem not in _catalog_names()


def problem(name: str) -> Problem:
    """The numeric problem called ``name`` (or in the spec file ``name``).

    Raises:
        UnknownNameError: no network, example or derivation has that name (the closest suggested).
        UsageError: a spec file that cannot be read or built.
    """
    if name.endswith(".toml"):
        if "\x00" in name:
            raise UsageError("the problem's file name holds a NUL character")
        try:
            status = Path(name).stat()
            stamp = (status.st_mtime_ns, status.st_size)
        except OSError:  # missing or unreadable: read_toml says which
            stamp = None
        return _spec_problem(name, stamp)
    return _builtin_problem(name)


@functools.lru_cache(maxsize=32)
def _builtin_problem(name: str) -> Problem:
    from ..catalog import architectures
    from ..catalog.examples import EXAMPLES, example

    if name in architectures.network_names():
        return _network_problem(name, architectures.builtin(name))
    if name in EXAMPLES:
        table = example(name)
        return _example_problem(name, table.pop("kind"), table)
    raise UnknownNameError("problem", name, [*architectures.network_names(), *EXAMPLES, *_catalog_names()])


@functools.lru_cache(maxsize=8)
def _spec_problem(path: str, stamp) -> Problem:
    from ..architecture.spec import network_from
    from ..files import read_toml

    table = read_toml(path)
    table.setdefault("name", Path(path).stem)
    if "nodes" in table:
        return _example_problem(path, "backprop", table)
    return _network_problem(path, network_from(table, path))


def _network_problem(name: str, network) -> Problem:
    from ..architecture.arithmetic import Convention, analyse
    from ..catalog import architectures

    reference = architectures.REFERENCES.get(name)  # Inception's 1x1 reductions: measured from naive
    report = analyse(network, reference=analyse(architectures.builtin(reference)) if reference else None)
    rows = report.rows
    compared = {key: sp.Rational(report.totals[key]["exact"]) for key in ("macs_ratio", "macs_reduction")
                if key in report.totals}
    values = {}
    for convention, flags in CONVENTIONS.items():
        rules = Convention(*flags)
        counts = {"params": rules.counts, "activations": rules.counts_activations, "macs": lambda r: r.macs}
        table = {quantity: sp.Integer(sum(count(r) for r in rows)) for quantity, count in counts.items()}
        for row in rows:
            shape = row.output_shape
            shape = shape[1:] + shape[:1] if len(shape) == 3 else shape  # H x W x C, as derive net prints
            layer = {"params": counts["params"](row), "output_shape": tuple(shape),
                     "activations": counts["activations"](row), "macs": row.macs,
                     "receptive_field": row.receptive_field}
            for quantity in LAYER_QUANTITIES if row.kind != "residual" else _RESIDUAL:
                value = layer[quantity]
                table[f"{quantity}[{row.name}]"] = value if isinstance(value, tuple) else sp.Integer(value)
        values[convention] = {**table, **compared}
    return Problem(name, "network", values)


def _example_problem(name: str, kind: str, table: dict) -> Problem:
    if kind == "conv2d":
        from ..backprop.conv import exact_matrix, worked

        parts = table["parts"]
        _, outputs = worked(exact_matrix(table["image"]), exact_matrix(table["kernel"]), parts, False, name,
                            table["title"])
        labels = ["output"] if len(parts) == 1 else [f"output[p{p}s{s}]" for p, s in parts]
        return Problem(name, "example", {"full": dict(zip(labels, outputs, strict=True))})
    from ..backprop.graph import graph_from, run

    result = run(graph_from(table, name))
    after = {"loss_after": result.loss_after} if result.loss_after is not None else {}
    values = {"loss": result.loss, **after,
              **{f"grad[{p}]": v for p, v in result.grads.items()},
              **{f"updated[{p}]": v for p, v in result.updated.items()},
              **{f"forward[{n}]": v for n, v in result.forward.items()}}
    return Problem(name, "example", {"full": values})


def targets(name: str) -> dict:
    """``{"problem", "kind", "targets"}``: what ``derive check NAME --targets`` lists (a catalog
    derivation's targets too)."""
    if not is_numeric(name):
        from .. import catalog

        return {"problem": name, "kind": "derivation", "targets": list(catalog.get(name).targets)}
    found = problem(name)
    return {"problem": name, "kind": found.kind, "targets": found.targets()}


def _expected(found: Problem, target: str | None, convention: str | None):
    """The expected value of ``target`` under ``convention`` (UsageError naming what is unknown)."""
    if target is None:
        raise UsageError(f"which target of '{found.name}'? see: derive check {found.name} --targets")
    if convention is not None and found.kind != "network":
        raise UsageError(f"'convention' applies to a network's counts, not to the example '{found.name}'")
    if convention is not None and convention not in CONVENTIONS:
        raise UnknownNameError("convention", convention, CONVENTIONS)
    values = found.values[convention or "full"]
    if target in values:
        return values[target]
    match = _TARGET.fullmatch(target)
    layers = {key.partition("[")[2][:-1] for key in values if "[" in key}
    if found.kind == "network" and match and match["inner"] and match["quantity"] in LAYER_QUANTITIES:
        raise UnknownNameError("layer", match["inner"], layers, found.name)
    raise UnknownNameError("target", target, values, found.name)


# -- reading answers -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Written:
    """A number as the answer writes it: its value and the place of its last digit (None: exact form)."""

    value: sp.Basic
    unit: Fraction | None = None

    @property
    def significant(self) -> int:
        """How many significant digits it shows (0.0160: 3; 11.7 M: 3; 0.02: 1)."""
        if self.unit is None:
            return 10**6
        mantissa = abs(_fraction(self.value) / self.unit)
        return len(str(mantissa)) if mantissa else 0


def sides(text: str) -> list[str]:
    """The sides of ``E = \\frac{1}{2}(y - t)^2 = 0.0255 \\approx 0.026`` (equals signs inside
    groups and environments stay), the value last."""
    rest, found = re.sub(r"\\approx(?![A-Za-z])|≈", "=", text.replace("$", "")), []
    while True:
        last = value_only(rest)
        found.insert(0, last)
        head = rest.rstrip()[: len(rest.rstrip()) - len(last)].rstrip()
        if not head.endswith("=") or not head[:-1].strip():
            return found
        rest = head[:-1]


def _last_side(text: str) -> str:
    return sides(text)[-1]


def _plain(side: str) -> Written | None:
    """A number as written (``11,689,512``, ``0.0160``, ``11.7 M``), or None if it is not one."""
    if re.search(r"\d[eE][-+]?\d{3}", side):
        raise ValueError(f"'{side[:40]}': an exponent of e-notation has at most two digits (1.6e-2)")
    try:
        number = parse_number(side, approx=True)
    except ZeroDivisionError:
        raise ValueError("division by zero") from None
    except ValueError:
        return None
    if number.suffix.endswith("B"):
        raise ValueError("a number of bytes is not a count of values")
    plain = number.unit == 1 and number.scale == 1  # an integer as written is a claim of an exact value
    value = sp.Rational(number.value.numerator, number.value.denominator)
    return Written(value, None if plain else number.unit)


def is_plain(text: str) -> bool:
    """Whether an answer's value (its last side) is a number as written (``0.0052``, ``11.7 M``),
    not an exact form (``\\frac{1}{192}``)."""
    try:
        return _plain(_last_side(text)) is not None
    except ValueError:
        return False


def read_number(text: str) -> Written:
    """A numeric answer's value (its last side): a number as written (``11,689,512``,
    ``11\\,689\\,512``, ``0.0160``, ``11.7 M``, ``6.4 \\times 10^9``), or an exact form the course
    reader reads (``\\frac{1}{2}``, ``e^{-1}``). Raises ValueError with why not."""
    side = _last_side(text)
    number = _plain(side)
    if number is not None:
        return number
    from .reader import ReadError, read
    from .table import table_for

    if re.search(r"\d,\d", side):
        raise ValueError(f"'{side[:40]}': a comma between digits is read only as a thousands separator "
                         "(1,234,567)")
    if re.search(r"\d(?:\s|~|\\[,;:! ])+\d", side):  # 11 68 9512 is not a product, nor one number
        raise ValueError(f"'{side[:40]}': digits apart are read only as groups of three (11 689 512)")
    try:
        value = read(side, table_for(None, True)).value
    except ReadError as error:
        raise ValueError(str(error)) from None
    if not isinstance(value, sp.Expr) or not value.is_number or value.atoms(sp.core.function.AppliedUndef):
        raise ValueError(f"'{side[:40]}' is not a number")
    if value.is_finite is not True or value.is_real is not True:
        raise ValueError(f"'{side[:40]}' is not a finite real number")
    return Written(value)


def _square(text: str) -> Written | None:
    """A receptive field written as its square, ``11 \\times 11``: the side, 11 (None otherwise)."""
    try:
        shape = read_shape(text)
    except ValueError:
        return None
    return Written(sp.Integer(shape[0])) if len(shape) == 2 and shape[0] == shape[1] else None


def false_side(text: str, agrees) -> str | None:
    """The first side before the value that is a plain number the predicate ``agrees`` (on a
    :class:`Written`) refuses: in ``0.5 = 0.01598`` the 0.5; working such as
    ``\\frac{1}{2}(0.3212 - 0.5)^2`` is not judged."""
    for side in sides(text)[:-1]:
        try:
            number = _plain(side)
        except ValueError:
            number = None
        if number is not None and not agrees(number):
            return side.strip()
    return None


def read_shape(text: str) -> tuple[int, ...]:
    """``56 \\times 56 \\times 64``, ``[56, 56, 64]``, ``(64, 56, 56)`` or ``4096`` as a tuple, as written."""
    side = re.sub(r"\\left|\\right|\\[,;! ]|\s", "", _last_side(text))
    side = (side[1:-1] if side[:1] + side[-1:] in ("[]", "()") else side).removesuffix(",")  # (4096,)
    parts = re.split(r"\\times|\\cdot|×|x|\*|,", side)
    if not parts or not all(part.isascii() and part.isdigit() and len(part) <= 12 for part in parts):
        raise ValueError("write a shape such as 56 \\times 56 \\times 64 or [56, 56, 64]")
    return tuple(int(part) for part in parts)


# -- judging ---------------------------------------------------------------------------------------
def _fraction(value: sp.Basic) -> Fraction:
    if isinstance(value, sp.Rational):
        return Fraction(int(value.p), int(value.q))
    return Fraction(str(sp.N(value, 60)))


def _rounded(value: Fraction, unit: Fraction) -> Fraction:
    """``value`` rounded to a multiple of ``unit``, half away from zero."""
    steps = (abs(value) / unit + Fraction(1, 2)) // 1
    return steps * unit * (1 if value >= 0 else -1)


def _at(value: Fraction, unit: Fraction) -> str:
    """``value`` written to the place of ``unit`` (0.016 to 0.0001 is 0.0160)."""
    places = next(n for n in range(400) if (unit * 10**n).denominator == 1)  # units are 10^-k (x 10^n, %)
    if places == 0:
        return format_exact(value)
    digits = f"{abs(value.numerator) * 10**places // value.denominator:0{places + 1}d}"
    return ("-" if value < 0 else "") + f"{int(digits[:-places]):,}" + "." + digits[-places:]


def _equal(written: Written, expected: sp.Basic) -> bool:
    if isinstance(written.value, sp.Rational) and isinstance(expected, sp.Rational):
        return written.value == expected
    difference = abs(_fraction(written.value) - _fraction(expected))
    if difference > Fraction(1, 10**40) * (1 + abs(_fraction(expected))):
        return False  # plainly another number: no proof needed
    from ..verify import Verifier

    return Verifier({}, seed=0).compare(written.value, expected, thorough=False).certificate is not None


def _matches(written: Written, expected: sp.Basic) -> str | None:
    """``exact``, ``digits`` (correct to the digits shown) or None."""
    if _equal(written, expected):
        return "exact"
    if written.unit is None or written.significant < MIN_SIGNIFICANT:
        return None
    return "digits" if abs(_fraction(written.value) - _fraction(expected)) * 2 <= written.unit else None


def _shown(value) -> str:
    if isinstance(value, tuple):
        return " × ".join(map(str, value))
    if isinstance(value, list):
        return "[" + ", ".join("[" + ", ".join(_shown(v) for v in row) + "]" for row in value) + "]"
    if isinstance(value, sp.Rational):
        return format_exact(Fraction(int(value.p), int(value.q)))
    return f"{sp.sstr(value)} (≈ {sp.N(value, 12)})"


class _Judge:
    """Judges answers to one target of one problem (under one convention)."""

    def __init__(self, found: Problem, target: str, convention: str | None, lang: str, approximate: bool = False):
        self.found, self.target, self.convention = found, target, convention or "full"
        self.words = wording(lang)["numeric"]
        self.expected = _expected(found, target, convention)
        #: the expected value is a numeric computation's, known to its digits (its sentences say so)
        self.approximate = approximate

    def say(self, key: str, **values) -> str:
        """A sentence of the ``[numeric]`` wording (its ``_approximate`` form for an approximate value)."""
        text = self.words.get(f"{key}_approximate", self.words[key]) if self.approximate else self.words[key]
        return text.format(**values)

    def result(self, verdict: str, parsed: str, key: str, certificate: dict | None = None, **values) -> dict:
        """The check's fields, its feedback the sentence ``key``."""
        return {"problem": self.found.name, "target": self.target, "verdict": verdict,
                "expected": _shown(self.expected), "parsed": parsed, "feedback": self.say(key, **values),
                "certificate": certificate}

    def judge(self, answer: str) -> dict:
        """The verdict on one answer."""
        if isinstance(self.expected, tuple):
            return self._shape(answer)
        if isinstance(self.expected, list):
            return self._matrix(answer)
        return self._number(answer)

    def _number(self, answer: str) -> dict:
        try:
            written = (self.target.startswith("receptive_field[") and _square(answer)) or read_number(answer)
        except ValueError as error:
            return self.result("unparsable", "", "unreadable_number", reason=str(error))
        exact, parsed = _shown(self.expected), _shown(written.value) if written.unit is None else \
            _at(_fraction(written.value), written.unit)  # as written: 0.0160 keeps its zero
        how = _matches(written, self.expected)
        false = false_side(answer, lambda number: _matches(number, self.expected)) if how else None
        if false is not None:
            return self.result("incorrect", parsed, "false_side", None, side=false[:60], exact=exact)
        if how == "exact":
            return self.result("correct", parsed, "correct_exact", {"method": "exact"}, exact=exact)
        unit = _at(written.unit, written.unit) if written.unit is not None else ""
        if how == "digits":
            rounded = _at(_rounded(_fraction(self.expected), written.unit), written.unit)
            return self.result("correct", parsed, "correct_digits", {"method": "digits", "unit": unit},
                               exact=exact, unit=unit, rounded=rounded)
        key, values = self._why(written)
        return self.result("incorrect", parsed, key, None, answer=parsed, exact=exact, unit=unit, **values)

    def _why(self, written: Written) -> tuple[str, dict]:
        """Why a number is wrong: another convention's count, another target's value, a cut-off,
        too few digits shown, or plainly another number."""
        others = [self.say(f"convention_{convention}") for convention, values in self.found.values.items()
                  if convention != self.convention and values[self.target] != self.expected
                  and _matches(written, values[self.target])]
        if others:  # every convention that gives it (on a net without batch norm, no-bias may be the sheet's)
            return "convention", {"other": self.say("or").join(others),
                                  "stated": self.say(f"convention_{self.convention}")}
        family = self.target.partition("[")[0] + "["  # per layer, per parameter, per node: not the totals
        for key, other in self.found.values[self.convention].items():
            if key.startswith(family) and isinstance(other, sp.Basic) and other not in (0, self.expected) \
                    and _matches(written, other):
                return "other_target", {"other": key, "asked": self.target}
        if written.unit is None:
            return "wrong_exact", {}
        if written.significant < MIN_SIGNIFICANT:
            return "too_few_digits", {"digits": written.significant, "least": MIN_SIGNIFICANT}
        truth = _fraction(self.expected)
        cut = abs(truth) // written.unit * written.unit * (1 if truth >= 0 else -1)
        return "cut_off" if _fraction(written.value) == cut else "wrong_digits", {
            "rounded": _at(_rounded(truth, written.unit), written.unit)}

    def _shape(self, answer: str) -> dict:
        try:
            shape = read_shape(answer)
        except ValueError as error:
            return self.result("unparsable", "", "unreadable_shape", reason=str(error))
        parsed, expected = _shown(shape), _shown(self.expected)
        if shape == self.expected:
            return self.result("correct", parsed, "correct_shape", {"method": "exact"})
        turned = len(shape) == 3 and shape == self.expected[-1:] + self.expected[:-1]
        return self.result("incorrect", parsed, "channels_first" if turned else "wrong_shape", answer=parsed,
                           expected=expected)

    def _matrix(self, answer: str) -> dict:
        try:
            rows = parse_matrix(_last_side(answer).strip())
        except (ValueError, ZeroDivisionError):
            return self.result("unparsable", "", "unreadable_matrix")
        matrix = [[sp.Rational(v.numerator, v.denominator) for v in row] for row in rows]
        parsed, expected = _shown(matrix), self.expected
        size, wanted = f"{len(matrix)}x{len(matrix[0])}", f"{len(expected)}x{len(expected[0])}"
        if size != wanted:
            return self.result("incorrect", parsed, "matrix_size", answer=size, expected=wanted)
        wrong = [(i, j) for i, row in enumerate(expected) for j, v in enumerate(row) if matrix[i][j] != v]
        if not wrong:
            return self.result("correct", parsed, "correct_matrix", {"method": "exact"})
        entries = "; ".join(f"({i + 1}, {j + 1}): {_shown(matrix[i][j])} / {_shown(expected[i][j])}"
                            for i, j in wrong[:6])
        return self.result("incorrect", parsed, "matrix_entries", count=len(wrong), entries=entries)


def check_number(answer: str, expected: sp.Basic, problem_name: str, target: str, lang: str = "en",
                 approximate: bool = True) -> dict | None:
    """A plain number answered for a target whose value is known only to some digits (a numeric
    integral's; ``expected``: that value to its accurate digits): judged by the digits it shows, as a
    network's counts are; None where the answer is not a plain number (then compared as an expression).
    ``approximate=False`` for a value given exactly (a teacher's): the feedback does not call it a
    numerical computation's."""
    try:
        read_number(answer)
    except ValueError:
        return None
    found = Problem(problem_name, "catalog", {"full": {target: expected}})
    return _Judge(found, target, None, lang, approximate=approximate).judge(answer)


def check(answer: str, problem_name: str | None, target: str | None, lang: str = "en",
          convention: str | None = None) -> dict:
    """Check one answer to a numeric problem's target (the fields of :func:`derive.check.decide.check`).

    Raises:
        UsageError: an unknown problem, target, layer or convention (with the closest name), a
            convention given for something other than a network.
    """
    if problem_name is None or not is_numeric(problem_name):
        raise UsageError("'convention' applies to a network's counts: give a network as the problem")
    return _Judge(problem(problem_name), target, convention, lang).judge(answer)
