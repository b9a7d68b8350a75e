"""Exact values of a backprop problem, computed within the limits, each part checked before it is built.

SymPy computes a power of a rational at once, however large (``x^1000000000``), and keeps
``exp(exp(exp(100)))`` as it is until something asks for its digits, which then never come. So
a node's value is built here bottom-up from its parts: a logarithm of a value that is not
positive, a power whose exact value would have too many digits, an ``exp`` whose value would be
over 10^300, are refused before they are computed; and every value built is checked against
``backprop.digits`` (an exact rational's numerator and denominator), ``backprop.magnitude`` and
``backprop.terms`` (the size of an exact form such as ``1/(1 + exp(-3/5))``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import mpmath
import sympy as sp

from .. import limits
from .expressions import GraphError

_LOG10_2 = math.log10(2)


def evaluate(expr: sp.Basic, values: Mapping[sp.Basic, sp.Basic], where: str) -> sp.Basic:
    """The exact value of ``expr`` with ``values`` put in, checked (see the module).

    Raises:
        GraphError: one line starting with ``where`` (the node, derivative or gradient).
    """
    try:
        return bounded(_value(expr, values, where), where)
    except _Undefined:
        raise GraphError(f"{where}: {sp.sstr(expr)} is undefined at these values (division by zero?)") from None


class _Undefined(GraphError):
    """A division by zero, or a value that is infinite or not a number."""


def bounded(value: sp.Basic, where: str) -> sp.Basic:
    """``value`` itself, when it is a finite real number within the limits; GraphError otherwise."""
    _check_size(value, where)
    if isinstance(value, sp.Rational):
        if value != 0 and _log10(value) > limits.value("backprop.magnitude"):
            limits.refuse("backprop.magnitude", _power_of_ten(_log10(value)), where, "the size of the value")
        return value
    if not value.is_number:
        return value  # a name left over: the caller says which
    approximate = _approximate(value)
    if not isinstance(approximate, mpmath.mpf):
        raise GraphError(f"{where}: the value {mpmath.nstr(approximate, 6)} is not a real number")
    if approximate and _log10(approximate) > limits.value("backprop.magnitude"):
        limits.refuse("backprop.magnitude", _power_of_ten(_log10(approximate)), where, "the size of the value")
    return value


#: How an exact form is approximated: mpmath at a fixed precision, each shared part once (SymPy's
#: evalf walks a nested form as a tree and raises its precision on cancellation: minutes).
_APPROXIMATE = {sp.Add: lambda *v: mpmath.fsum(v), sp.Mul: lambda *v: mpmath.fprod(v), sp.Pow: mpmath.power,
                sp.exp: mpmath.exp, sp.log: mpmath.log, sp.tanh: mpmath.tanh}


def _approximate(value: sp.Basic, known: dict | None = None):
    """``value`` as an mpmath number at 30 digits (an mpc when it is not real)."""
    known = {} if known is None else known
    if value in known:
        return known[value]
    with mpmath.workdps(30):
        if isinstance(value, sp.Rational):
            result = mpmath.mpf(value.p) / value.q
        elif value.is_Atom:
            result = mpmath.mpmathify(sp.N(value, 30))
        elif type(value) in _APPROXIMATE:
            result = _APPROXIMATE[type(value)](*(_approximate(arg, known) for arg in value.args))
        else:
            result = mpmath.mpmathify(complex(sp.N(value, 30)))
        if isinstance(result, mpmath.mpc) and result.imag == 0:
            result = result.real
    known[value] = result
    return result


def _check_size(value: sp.Basic, where: str) -> None:
    """Refuse a value that is undefined, a rational of too many digits, or an exact form too large."""
    if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise _Undefined(f"{where}: the value is undefined (division by zero?)")
    if isinstance(value, sp.Rational):
        digits = max(_digits(value.p), _digits(value.q))
        if digits > limits.value("backprop.digits"):
            limits.refuse("backprop.digits", f"{digits:,}", where, "digits of the exact value")
        return
    size = _size(value, limits.value("backprop.terms"))
    if size > limits.value("backprop.terms"):
        limits.refuse("backprop.terms", f"more than {size - 1:,}", where, "operations in the exact value")


def _digits(n: int) -> int:
    """How many decimal digits |n| has (an estimate past 100,000 digits, where the exact count
    does not matter)."""
    n = abs(n)
    estimate = int((max(n.bit_length(), 1) - 1) * _LOG10_2) + 1
    if estimate > 100_000:
        return estimate
    while estimate > 1 and n < 10 ** (estimate - 1):
        estimate -= 1
    while n >= 10**estimate:
        estimate += 1
    return estimate


def _size(expr: sp.Basic, most: int) -> int:
    """How many nodes the expression tree has, counting no further than ``most + 1``."""
    count, stack = 0, [expr]
    while stack and count <= most:
        node = stack.pop()
        count += 1
        stack.extend(node.args)
    return count


def _log10(value) -> float:
    """log10 |value| of a nonzero number, without forming anything large (nor asking SymPy's
    assumptions about ``abs`` or ``log`` of an exact form, which is slow)."""
    if isinstance(value, sp.Rational):
        return _log10_int(abs(value.p)) - _log10_int(value.q)
    return float(mpmath.log10(abs(value if isinstance(value, mpmath.mpf) else _approximate(value))))


def _log10_int(n: int) -> float:
    shift = max(n.bit_length() - 60, 0)
    return math.log10(n >> shift) + shift * _LOG10_2


def _value(expr: sp.Basic, values: Mapping[sp.Basic, sp.Basic], where: str) -> sp.Basic:
    if expr in values:
        return values[expr]
    if not expr.args:
        return expr
    if isinstance(expr, sp.Piecewise):
        return _piecewise(expr, values, where)
    args = [_value(arg, values, where) for arg in expr.args]
    if isinstance(expr, sp.Pow):
        _check_power(*args, where)
    elif isinstance(expr, sp.exp):
        _check_exp(args[0], where)
    elif isinstance(expr, sp.log) and args[0].is_number:
        if not _positive(args[0]):
            raise GraphError(f"{where}: log of {_short(args[0])}, a value that is not positive")
    value = expr.func(*args)
    if isinstance(value, sp.Rational) or (isinstance(value, sp.Expr) and not value.is_Atom):
        _check_size(value, where)  # the magnitude of the whole is checked by evaluate(), once
    return value


def _piecewise(expr: sp.Piecewise, values, where: str) -> sp.Basic:
    """The branch whose condition holds first, only that branch computed."""
    for branch, condition in expr.args:
        holds = _value(condition, values, where)
        if holds is sp.true:
            return _value(branch, values, where)
        if holds is not sp.false:
            return sp.Piecewise(*((_value(e, values, where), _value(c, values, where)) for e, c in expr.args))
    raise GraphError(f"{where}: no branch of {expr} applies")


def _positive(value: sp.Basic) -> bool:
    if isinstance(value, sp.Rational):
        return value > 0
    approximate = _approximate(value)
    return isinstance(approximate, mpmath.mpf) and approximate > 0


def _check_power(base: sp.Basic, exponent: sp.Basic, where: str) -> None:
    """Refuse a power whose exact value would have more digits, or be larger, than the limits allow."""
    if not (base.is_number and exponent.is_number) or exponent == 0:
        return
    if base == 0:
        if _approximate(exponent).real < 0:
            raise _Undefined(f"{where}: 0 to a negative power (division by zero)")
        return
    if isinstance(base, sp.Rational) and isinstance(exponent, sp.Rational):
        widest = max(_log10_int(abs(base.p)), _log10_int(base.q))  # 0 for 1 and -1
        if widest > 0 and _log10(exponent) + math.log10(widest) > math.log10(limits.value("backprop.digits")):
            limits.refuse("backprop.digits", f"about 10^{_log10(exponent) + math.log10(widest):.1f}", where,
                          f"digits of the exact value of ({_short(base)})^({_short(exponent)})")
        return
    size = float(_approximate(exponent).real) * _log10(base)
    if size > limits.value("backprop.magnitude"):
        limits.refuse("backprop.magnitude", _power_of_ten(size), where, "the size of a power")


def _check_exp(argument: sp.Basic, where: str) -> None:
    """Refuse exp(v) for v so large that the value would be over 10^(backprop.magnitude)."""
    size = float(_approximate(argument).real) / math.log(10) if argument.is_number else 0
    if size > limits.value("backprop.magnitude"):
        limits.refuse("backprop.magnitude", _power_of_ten(size), where,
                      f"the size of exp({_short(argument)})")


def _power_of_ten(size: float) -> str:
    return f"about 10^{size:,.0f}" if size < 1e9 else f"about 10^({size:.3g})"


def _short(value: sp.Basic) -> str:
    """A value as a message shows it: as written when short, else to 6 digits."""
    text = sp.sstr(value)
    return text if len(text) <= 40 else mpmath.nstr(_approximate(value), 6)
