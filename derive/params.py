"""Reading parameter values given on the command line (``n_in=256``, ``alpha=0.25``).

Values are exact: a decimal is read as the rational it names (0.25 is 1/4). Text is never
evaluated: only plain integers, decimals and fractions are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction

import sympy as sp

from .engine import Derivation
from .errors import UnknownNameError, UsageError

MAX_NUMBER_LENGTH, MAX_EXPONENT = 100, 400
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?\d+/\d+")


def parse_number(text: str) -> sp.Rational:
    """An exact rational from ``3``, ``-0.25``, ``1e-3`` or ``2/3``; anything else is an error."""
    text = text.strip()
    if not _NUMBER.fullmatch(text) or (text.endswith("/0") and "/" in text):
        raise ValueError(text)
    exponent = re.search(r"[eE]([+-]?\d+)", text)
    if len(text) > MAX_NUMBER_LENGTH or (exponent and abs(int(exponent.group(1))) > MAX_EXPONENT):
        raise ValueError(text)  # 1e99999999 would take forever to write out exactly
    value = Fraction(text)
    return sp.Rational(value.numerator, value.denominator)


def parse_params(derivation: Derivation, items: Iterable[str]) -> dict[str, sp.Rational]:
    """Read ``KEY=VALUE`` items for a derivation, checking each key and domain.

    Raises:
        UsageError: a malformed item, an unknown key, a value that is not a number or lies
            outside the parameter's domain; the message names the parameter.
    """
    known = derivation.parameters()
    values: dict[str, sp.Rational] = {}
    for item in items:
        key, separator, text = item.partition("=")
        key = key.strip()
        if not separator or not key:
            raise UsageError(f"parameter '{item}' must look like KEY=VALUE (for example n_in=256)")
        if key not in known:
            raise UnknownNameError("parameter", key, known, where=derivation.name)
        try:
            value = parse_number(text)
        except (ValueError, ZeroDivisionError):
            raise UsageError(f"parameter {key}='{text}' is not a number") from None
        domain = known[key].domain
        if not domain.contains(value):
            raise UsageError(f"parameter {key}={text} is outside its domain: {domain.describe()}")
        values[key] = value
    return values
