"""Every documented limit on the size of an input or the time a command may take, in one table.

Each limit has a key (``net.layers``), a value, the commands it applies to and what it counts;
The manual's table of limits (docs/reference/limits.md) is this table (a test compares them). A value over its limit is
refused before the work starts, by :func:`check`, with one line naming the limit and the value
(a :class:`LimitError`, exit status 2). Time options (``--timeout``, ``--budget``) are read by
:func:`seconds`, which refuses anything that is not a number of seconds in range.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .errors import UsageError


class LimitError(UsageError):
    """An input over a documented limit; the message names the limit and the value."""


@dataclass(frozen=True)
class Limit:
    """One limit: ``value`` is the most allowed (for times, in seconds; ``default`` is the
    option's default)."""

    key: str
    value: int | float
    commands: str
    what: str
    default: float | None = None


_TABLE = (
    Limit("file.bytes", 1_000_000, "net, backprop, sheet, audit", "bytes in a TOML file (a spec or a claims file)"),
    Limit("file.depth", 32, "net, backprop, sheet, audit", "levels of nested arrays and tables in a TOML file"),
    Limit("net.layers", 2_000, "net, sheet, audit", "layers in a network, those inside residual and concat included"),
    Limit("net.size", 10_000_000, "net, sheet, audit",
          "any size in a network (an input side or channels, out, kernel, stride, padding, dilation, groups)"),
    Limit("backprop.inputs", 200, "backprop, sheet", "inputs of a backprop problem"),
    Limit("backprop.params", 200, "backprop, sheet", "parameters of a backprop problem"),
    Limit("backprop.nodes", 200, "backprop, sheet", "nodes of a backprop problem"),
    Limit("backprop.expression", 1_000, "backprop, sheet", "characters in a node's expression"),
    Limit("backprop.samples", 1_000, "backprop, sheet", "samples ([[sample]] tables) of a backprop problem"),
    Limit("backprop.steps", 100, "backprop, sheet", "SGD steps of a backprop problem"),
    Limit("backprop.work", 2_000, "backprop, sheet",
          "units of work: (nodes + their operands + parameters) x samples (at least 1) x (steps + 1)"),
    Limit("backprop.digits", 1_000, "backprop, sheet",
          "digits in the numerator or denominator of an exact value (a node, a derivative, a gradient)"),
    Limit("backprop.magnitude", 300, "backprop, sheet", "the power of ten of a value's size (at most 10^300)"),
    Limit("backprop.terms", 500, "backprop, sheet", "operations in the exact form of one value (exp, log, ...)"),
    Limit("conv2d.image", 64, "conv2d", "rows or columns of the image"),
    Limit("conv2d.kernel", 64, "conv2d", "rows or columns of the kernel"),
    Limit("conv2d.padding", 64, "conv2d", "--padding"),
    Limit("conv2d.stride", 64, "conv2d", "--stride"),
    Limit("conv2d.outputs", 1_024, "conv2d", "entries of the output matrix"),
    Limit("conv2d.products", 10_000, "conv2d", "products written out: output entries x kernel entries"),
    Limit("simulate.depth", 1_000, "simulate, sheet", "--depth (layers)"),
    Limit("simulate.width", 16_384, "simulate, sheet", "--width (units per layer)"),
    Limit("simulate.batch", 2**28, "simulate, sheet", "--batch (inputs)"),
    Limit("simulate.weights", 2**27, "simulate, sheet", "weights: depth x width^2 (1 GiB of float64)"),
    Limit("simulate.inputs", 2**28, "simulate, sheet", "input values: batch x width"),
    Limit("simulate.work", 2**35, "simulate, sheet", "multiply-accumulates of the forward pass: batch x depth x width^2"),
    Limit("check.timeout", 600, "check, grade", "--timeout, seconds per check", 5.0),
    Limit("grade.bytes", 200 * 2**20, "grade", "bytes in the input file (or standard input)"),
    Limit("grade.lines", 1_000_000, "grade", "lines in the input"),
    Limit("grade.line", 100_000, "grade", "bytes in one line (a longer line gets the verdict error)"),
    Limit("grade.depth", 16, "grade", "levels of nested arrays and objects in one line (deeper: error)"),
    Limit("grade.points", 1_000_000, "grade", "a line's points, a finite number from 0 (else: error)"),
    Limit("grade.jobs", 64, "grade", "--jobs, worker processes"),
    Limit("variants.students", 10_000, "sheet", "students of --variants: a roster's rows, or N"),
    Limit("check-steps.bytes", 100_000, "check-steps", "bytes in the derivation file (or standard input)"),
    Limit("check-steps.characters", 20_000, "check-steps", "characters in the derivation"),
    Limit("check-steps.lines", 60, "check-steps", "lines of the derivation that are checked"),
    Limit("check-steps.timeout", 600, "check-steps", "--timeout, seconds per line", 5.0),
    Limit("check-steps.budget", 3_600, "check-steps", "--budget, seconds for the whole file", 60.0),
    Limit("audit.claims", 1_000, "audit", "claims in a claims file"),
    Limit("audit.text", 200, "audit", "characters in a claims file's name-like strings (where, sheet, title, ...)"),
    Limit("audit.latex", 2_000, "audit", "characters in a claim's 'claims' string"),
    Limit("audit.timeout", 600, "audit", "--timeout, seconds per formula check", 5.0),
    Limit("audit.budget", 3_600, "audit", "--budget, seconds for the whole file", 300.0),
    Limit("diff.timeout", 600, "diff", "--timeout, seconds for the whole derivation", 60.0),
    Limit("init.timeout", 600, "init", "--timeout, seconds for the whole derivation", 120.0),
)
LIMITS: dict[str, Limit] = {limit.key: limit for limit in _TABLE}


def value(key: str) -> int | float:
    """The value of the limit ``key``."""
    return LIMITS[key].value


def check(key: str, amount: int, where: str = "", what: str | None = None) -> int:
    """Refuse ``amount`` when it is over the limit ``key``; returns it otherwise.

    Raises:
        LimitError: one line, ``WHERE: WHAT is AMOUNT; at most LIMIT (limit KEY)``.
    """
    if amount > LIMITS[key].value:
        refuse(key, _number(amount), where, what)
    return amount


def refuse(key: str, shown: str, where: str = "", what: str | None = None):
    """Raise the one-line :class:`LimitError` of the limit ``key``, with the value as ``shown``."""
    limit = LIMITS[key]
    place = f"{where}: " if where else ""
    raise LimitError(f"{place}{what or limit.what}: {shown}; at most {_number(limit.value)} (limit {key})")


def seconds(key: str, given: float, option: str) -> float:
    """A time option's value, refused unless it is a number of seconds in (0, the limit]."""
    if not 0 < given <= LIMITS[key].value:  # also refuses nan and inf
        refuse(key, f"{given:g}", what=f"{option} (seconds, more than 0)")
    return given


class Deadline:
    """A time budget of ``seconds`` that starts now (``--budget``): how much is left, and whether it is spent."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left (0 or less once it is spent)."""
        return self.end - time.monotonic()

    def spent(self) -> bool:
        """Whether no time is left."""
        return self.left() <= 0


def _number(amount) -> str:
    if isinstance(amount, int) and abs(amount) >= 10**30:
        return f"a number of {len(str(amount)):,} digits" if abs(amount).bit_length() < 10_000 else "a huge number"
    return f"{amount:,}" if isinstance(amount, int) else f"{amount:g}"


def markdown_table() -> str:
    """The table as the manual prints it (docs/reference/limits.md): limit, value, commands, what it counts."""
    rows = ["| limit | value | commands | what |", "|---|---|---|---|"]
    for limit in _TABLE:
        shown = _number(limit.value) + (f" s (default {limit.default:g})" if limit.default is not None else "")
        rows.append(f"| `{limit.key}` | {shown} | {limit.commands} | {limit.what} |")
    return "\n".join(rows)
