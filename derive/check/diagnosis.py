"""Naming the slip in a wrong answer.

Each slip is a rule that builds, from the derived result, the wrong answer a student makes
by that slip (the sign flipped, a factor 2, n_in alone, the sqrt 3 of a uniform bound, ...).
A wrong answer that agrees with one of them at the sampled points is reported with that
slip's wording (en/zh, ``[slips]`` in the wording tables). Rules are data: a key, where they
apply, and how to build the wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from ..engine import Derivation
from ..verify import Verifier

VARIANCES = {"var", "forward_var", "backward_var", "var_fan_out"}
DEVIATIONS = {"std", "normal_std", "uniform_bound"}
LOSSES = {"mse", "bce", "bce-sigmoid", "huber", "softmax-ce"}


@dataclass(frozen=True)
class Slip:
    """A slip: its wording key, where it applies, and the wrong answer it produces."""

    key: str
    applies: Callable[[str, str], bool]
    wrong: Callable[[sp.Basic, Derivation], sp.Basic | None]


def _symbol(derivation: Derivation, key: str) -> sp.Basic | None:
    return next((q.symbol for q in derivation.quantities if q.key == key), None)


def _with_n_in_alone(expected: sp.Basic, d: Derivation) -> sp.Basic | None:
    n_in, n_out = _symbol(d, "n_in"), _symbol(d, "n_out")
    return expected.xreplace({n_in + n_out: 2 * n_in}) if n_in is not None and n_out is not None else None


def _with_product(expected: sp.Basic, d: Derivation) -> sp.Basic | None:
    n_in, n_out = _symbol(d, "n_in"), _symbol(d, "n_out")
    return expected.xreplace({n_in + n_out: n_in * n_out}) if n_in is not None and n_out is not None else None


def _without_inner_derivative(expected: sp.Basic, d: Derivation) -> sp.Basic | None:
    return sp.cancel(expected / d.targets["d1"].rhs) if "d1" in d.targets else None


def _one_plus(expected: sp.Basic, d: Derivation) -> sp.Basic | None:
    """1 - s written as 1 + s: every factor (1 - ...) with its minus signs flipped."""
    def flippable(e):
        return isinstance(e, sp.Add) and any(t.is_Number and t > 0 for t in e.args) and any(
            t.could_extract_minus_sign() and not t.is_Number for t in e.args)

    return expected.replace(flippable, lambda e: sp.Add(*(t if t.is_Number else -t if t.could_extract_minus_sign()
                                                          else t for t in e.args)))


SLIPS: tuple[Slip, ...] = (
    Slip("one-plus-sigma", lambda p, t: p in ("sigmoid", "softplus") and t.startswith("d"), _one_plus),
    Slip("missing-inner-derivative", lambda p, t: t == "d2", _without_inner_derivative),
    Slip("xavier-n-in-alone", lambda p, t: p == "xavier" and t in VARIANCES | DEVIATIONS, _with_n_in_alone),
    Slip("xavier-product", lambda p, t: p == "xavier" and t in VARIANCES | DEVIATIONS, _with_product),
    Slip("kaiming-without-2", lambda p, t: p == "kaiming" and t in VARIANCES, lambda e, d: e / 2),
    Slip("kaiming-without-2", lambda p, t: p == "kaiming" and t in DEVIATIONS, lambda e, d: e / sp.sqrt(2)),
    Slip("prelu-without-alpha", lambda p, t: p == "prelu-init",
         lambda e, d: e.xreplace({_symbol(d, "alpha"): 0})),
    Slip("std-for-variance", lambda p, t: t in VARIANCES, lambda e, d: sp.sqrt(e)),
    Slip("variance-for-std", lambda p, t: t in DEVIATIONS | {"gain"}, lambda e, d: e**2),
    Slip("gaussian-for-uniform", lambda p, t: t == "uniform_bound", lambda e, d: e / sp.sqrt(3)),
    Slip("softmax-without-delta", lambda p, t: p in ("softmax", "log-softmax"),
         lambda e, d: e.replace(lambda x: isinstance(x, sp.KroneckerDelta), lambda x: sp.Integer(0))),
    Slip("loss-wrong-sign", lambda p, t: p in LOSSES, lambda e, d: -e),
    Slip("sign-flip", lambda p, t: True, lambda e, d: -e),
    Slip("factor-2", lambda p, t: True, lambda e, d: 2 * e),
    Slip("factor-half", lambda p, t: True, lambda e, d: e / 2),
    Slip("reciprocal", lambda p, t: t in VARIANCES | DEVIATIONS, lambda e, d: 1 / e),
)


def diagnose(answer: sp.Basic, expected: sp.Basic, derivation: Derivation | None, target: str | None,
             verifier: Verifier) -> str | None:
    """The wording key of the slip that turns ``expected`` into ``answer``, if one does."""
    problem = derivation.name if derivation else ""
    unfolded = verifier.unfold(answer)
    for slip in SLIPS:
        if derivation is None and slip.key not in ("sign-flip", "factor-2", "factor-half"):
            continue
        if not slip.applies(problem, target or ""):
            continue
        try:
            wrong = slip.wrong(expected, derivation)
        except (TypeError, ValueError, KeyError, ZeroDivisionError):
            continue
        if wrong is None or wrong == expected:
            continue
        agreed, counter = verifier.sample(unfolded, verifier.unfold(wrong), points=4)
        if counter is None and agreed:
            return slip.key
    return None
