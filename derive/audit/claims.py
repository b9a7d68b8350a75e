"""Claims files: what a published sheet states, one ``[[claim]]`` per quantity, checked whole.

```toml
sheet = "000_dd70edf79f6a3bfe.txt"     # which sheet (a name; nothing is opened)
title = "..."                          # optional
lang = "zh"                            # the report's default language
[[claim]]
where = "2.3.5"                        # where the claim stands in the sheet
entry = "mlp-cost"                     # a catalog entry and one of its targets ...
target = "backward_mults"
claims = '3Ln^2 + 2Ln'                 # ... and the sheet's formula, in LaTeX
[[claim]]
where = "3.3"
network = "resnet18"                   # a built-in network, or a spec file beside this file
quantity = "params"                    # params, weights, bias, activations, ... (see QUANTITIES)
layer = "layer1.*"                     # optional: one layer, or a pattern summed over
convention = "sheet"                   # full, sheet, no-bn, no-bias, no-bn no-bias
claims = "11 506 880"                  # a number as the sheet writes it: 2 653.5 K, 6.4 \\times 10^9, 77.5%
approx = true                          # the sheet writes it as approximate (≈)
[[claim]]
where = "q4"
example = "relu-chain"                 # a built-in worked example
quantity = "grad.w1"                   # a node, grad.P, updated.P, after.NODE, loss_after, dA/dB, output.pPsS
claims = "8"
```

Everything is checked before anything is computed: a malformed file is one line naming the
file, the claim and what is wrong (a :class:`~derive.errors.UsageError`, exit status 2).
Strings are never evaluated; numbers are read by :func:`parse_number` below, LaTeX later by
the checker's own reader.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from .. import limits
from ..errors import UsageError
from ..files import read_toml

MAX_CLAIMS, MAX_TEXT, MAX_LATEX = (limits.value(f"audit.{key}") for key in ("claims", "text", "latex"))
TOP_KEYS = {"sheet", "title", "lang", "claim"}
CLAIM_KEYS = {"where", "entry", "target", "network", "example", "quantity", "layer", "convention", "claims",
              "approx", "bytes_per_value"}
KINDS = ("entry", "network", "example")
NETWORK_QUANTITIES = ("params", "weights", "bias", "activations", "activation_bytes", "macs", "macs_ratio",
                      "macs_reduction", "output_shape", "output_size", "receptive_field", "jump")
SUMMABLE = {"params", "weights", "bias", "activations", "activation_bytes", "macs"}
CONVENTIONS = {"full": (True, True, False), "sheet": (True, True, True), "no-bn": (False, True, False),
               "no-bias": (True, False, False), "no-bn no-bias": (False, False, False)}
SCALES = {"": 1, "K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "%": Fraction(1, 100)}


class ClaimsError(UsageError):
    """A malformed claims file; the message names the file, the claim and what is wrong."""


@dataclass(frozen=True)
class Number:
    """A number as a sheet writes it: its exact value, and the unit of its last digit when it
    is shown rounded (approximate, or written with K, M, G, x 10^n or %); ``unit`` is None
    for an exact claim."""

    value: Fraction
    unit: Fraction | None
    scale: Fraction
    decimals: int
    suffix: str


@dataclass(frozen=True)
class Claim:
    """One claim of the sheet."""

    index: int
    where: str
    kind: str                      # entry, network or example
    name: str                      # the entry, network or example named
    quantity: str                  # the target (entry) or quantity (network, example)
    claims: str                    # as written in the file
    layer: str | None = None
    convention: str | None = None
    approx: bool = False
    bytes_per_value: int = 4
    spec: Path | None = None       # a network spec file beside the claims file


@dataclass(frozen=True)
class ClaimsFile:
    """A whole claims file."""

    path: Path
    sheet: str
    title: str
    lang: str
    claims: tuple[Claim, ...] = field(default_factory=tuple)


def _clean(text: str, what: str, limit: int, fail) -> str:
    if len(text) > limit:
        fail(f"{what} is {len(text)} characters long; at most {limit}")
    for character in text:
        if unicodedata.category(character) in ("Cc", "Cf") and character not in "\n\t":
            fail(f"{what} holds the invisible control character U+{ord(character):04X}")
    return text


def read_claims(path: str | Path, deadline: limits.Deadline | None = None) -> ClaimsFile:
    """Read and check a claims file (every claim's names, quantities and numbers), within the
    limits ``file.bytes``, ``file.depth``, ``audit.claims``, ``audit.text``, ``audit.latex`` and,
    when given, the time left of ``deadline`` (checked between claims).

    Raises:
        ClaimsError: the file is missing, too large, not TOML, or any claim is malformed.
        LimitError: a limit is exceeded.
    """
    path = Path(path)
    table = read_toml(path)

    def fail(message: str):
        raise ClaimsError(f"{path}: {message}")

    unknown = sorted(set(table) - TOP_KEYS)
    if unknown:
        fail(f"unknown key '{unknown[0]}' (allowed: {', '.join(sorted(TOP_KEYS))})")
    sheet, title, lang = table.get("sheet"), table.get("title", ""), table.get("lang", "en")
    if not isinstance(sheet, str) or not sheet.strip():
        fail("'sheet' must name the published sheet, for example sheet = \"000_dd70edf79f6a3bfe.txt\"")
    if not isinstance(title, str):
        fail("'title' must be text")
    if lang not in ("en", "zh"):
        fail("'lang' must be \"en\" or \"zh\"")
    _clean(sheet, "'sheet'", MAX_TEXT, fail)
    _clean(title, "'title'", MAX_TEXT, fail)
    claims = table.get("claim")
    if not isinstance(claims, list) or not claims:
        fail("no [[claim]] tables")
    limits.check("audit.claims", len(claims), str(path))
    checked = []
    for number, claim in enumerate(claims, 1):
        # a network claim is checked by building the network: the only check that can take long
        if deadline is not None and isinstance(claim, dict) and "network" in claim and deadline.spent():
            limits.refuse("audit.budget", f"more than {deadline.seconds:g} s", str(path),
                          f"time to check the network claims (stopped at claim {number})")
        checked.append(_claim(claim, number, path))
    return ClaimsFile(path, sheet, title, lang, tuple(checked))


def _claim(table, index: int, path: Path) -> Claim:
    where = table.get("where") if isinstance(table, dict) else None
    label = f"claim {index}" + (f" (where = {where!r})" if isinstance(where, str) and len(where) <= MAX_TEXT else "")

    def fail(message: str):
        raise ClaimsError(f"{path}: {label}: {message}")

    if not isinstance(table, dict):
        fail("must be a table")
    unknown = sorted(set(table) - CLAIM_KEYS)
    if unknown:
        fail(f"unknown key '{unknown[0]}' (allowed: {', '.join(sorted(CLAIM_KEYS))})")
    for key, value in table.items():
        if key not in ("approx", "bytes_per_value", "claims") and not isinstance(value, str):
            fail(f"'{key}' must be text")
        if isinstance(value, str):
            _clean(value, f"'{key}'", MAX_LATEX if key == "claims" else MAX_TEXT, fail)
    if not isinstance(where, str) or not where.strip():
        fail("'where' must say where the claim stands in the sheet")
    kinds = [k for k in KINDS if k in table]
    if len(kinds) != 1:
        fail("name exactly one of 'entry' (a catalog entry), 'network' or 'example'")
    kind = kinds[0]
    claims = table.get("claims")
    if isinstance(claims, bool) or not isinstance(claims, (str, int, float)) or not str(claims).strip():
        fail("'claims' must be the sheet's formula or number, as text")
    claims = claims if isinstance(claims, str) else str(claims)
    approx = table.get("approx", False)
    if not isinstance(approx, bool):
        fail("'approx' must be true or false")
    bytes_per_value = table.get("bytes_per_value", 4)
    if isinstance(bytes_per_value, bool) or not isinstance(bytes_per_value, int) or not 1 <= bytes_per_value <= 64:
        fail("'bytes_per_value' must be a whole number from 1 to 64")
    allowed = {"entry": {"target", "convention"}, "network": {"quantity", "layer", "convention", "approx",
                                                              "bytes_per_value"},
               "example": {"quantity", "approx"}}[kind] | {"where", "claims", kind}
    extra = sorted(set(table) - allowed)
    if extra:
        fail(f"'{extra[0]}' does not apply to a claim about {'a catalog entry' if kind == 'entry' else f'an {kind}' if kind == 'example' else 'a network'}")
    name = table[kind]
    claim = Claim(index, where, kind, name, table.get("target" if kind == "entry" else "quantity", ""), claims,
                  table.get("layer"), table.get("convention"), approx, bytes_per_value)
    from .recompute import validate

    try:
        return validate(claim, path.parent)
    except ClaimsError as error:
        fail(str(error))
    except UsageError as error:  # an unknown name, a spec file that cannot be built
        fail(str(error))


_SPACES = re.compile(r"\\[ ,;:!]|~|\u2009|\u202f|\u00a0|\s+")
_SEPARATOR = re.compile(r"(?<=\d)(?:, ?| )(?=\d{3}(?!\d))")
_NUMBER = re.compile(r"(?P<sign>[-+]?)(?P<digits>\d+(?:/\d+|(?:\.\d+)?))"
                     r"(?:(?:\\times|\\cdot|×|x|\*)10\^\{?(?P<power>[-+]?\d{1,2})\}?|[eE](?P<e>[-+]?\d{1,2}))?"
                     r"(?:\\?(?P<suffix>[KkMG%]))?(?P<bytes>B)?")


def parse_number(text: str, approx: bool = False) -> Number:
    """A number as a sheet writes it: ``11 506 880``, ``6,480,242,100``, ``2 653.5 K``,
    ``6.4 \\times 10^9``, ``77.5%``, ``10.6 MB``, ``-0.226``, ``1/2``, an optional leading ``≈``.

    Raises:
        ValueError: anything else (nothing is evaluated).
    """
    written = text.strip()
    for prefix in ("≈", r"\approx", "~"):
        if written.startswith(prefix):
            written, approx = written[len(prefix):].strip(), True
    written = re.sub(r"\\(?:text|mathrm)\{\s*([^{}]*?)\s*\}", r" \1", written.replace("$", ""))
    spaced = _SEPARATOR.sub("", _SPACES.sub(" ", written).strip())
    if re.search(r"\d \d", spaced):  # 12 34 is two numbers, not 1234
        raise ValueError(text)
    compact = spaced.replace(" ", "")
    match = _NUMBER.fullmatch(compact.replace(r"\%", "%"))
    if not match or len(compact) > 60:
        raise ValueError(text)
    digits = match.group("digits")
    value = Fraction(digits) * (-1 if match.group("sign") == "-" else 1)
    power = int(match.group("power") or match.group("e") or 0)
    suffix = match.group("suffix") or ""
    scale = Fraction(10) ** power * SCALES[suffix]
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    rounded = approx or power != 0 or bool(suffix)
    unit = Fraction(1, 10**decimals) * scale if rounded and "/" not in digits else None
    return Number(value * scale, unit, scale, decimals, suffix + ("B" if match.group("bytes") else ""))


def parse_shape(text: str) -> tuple[int, ...]:
    """``27 \\times 27 \\times 96``, ``27x27x96`` or ``27×27×96`` as (27, 27, 96) (H, W, C)."""
    parts = re.split(r"\\times|×|x|\*", text.replace("$", "").replace(" ", ""))
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 9 for p in parts):
        raise ValueError(text)
    return tuple(int(p) for p in parts)


def parse_matrix(text: str) -> list[list[Fraction]]:
    """Rows of numbers: JSON, ``[[1, 2], [3, 4]]``, or a LaTeX ``pmatrix`` / ``bmatrix``."""
    body = text.strip()
    environment = re.fullmatch(r"\\begin\{([pbv]?matrix)\}(.*)\\end\{\1\}", body, flags=re.S)
    if environment:
        rows = [[cell.strip() for cell in row.split("&")] for row in environment.group(2).split(r"\\") if row.strip()]
    else:
        try:
            rows = json.loads(body, parse_float=str, parse_int=str)
        except ValueError:
            raise ValueError(text) from None
    if not isinstance(rows, list) or not rows or not all(isinstance(r, list) and r for r in rows) \
            or len({len(r) for r in rows}) != 1:
        raise ValueError(text)
    matrix = []
    for row in rows:
        values = []
        for cell in row:
            number = parse_number(str(cell))
            if number.unit is not None:
                raise ValueError(text)
            values.append(number.value)
        matrix.append(values)
    return matrix
