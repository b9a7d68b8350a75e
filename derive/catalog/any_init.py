"""Initialization for any activation: E[f(z)^2], E[f'(z)^2], Var(W) and the gain (issue 18, point 3).

``init_derivation(act)`` derives, for a catalog activation (``relu``, ``leaky-relu:0.01``, ``tanh``,
``gelu``, ...) or a definition ``f(z) = ...`` written in LaTeX (read with the project's reader, never
evaluated), the initialization that keeps the variance of the pre-activations steady, in the course's
order (seed 001 section 3.1, seed 000 section 3.2): the forward recursion Var(z^(l)) = n_in Var(W)
E[a^2], the second moment E[f(z)^2] for zero-mean normal z of variance Var(z^(l-1)), the condition
Var(z^(l)) = Var(z^(l-1)) solved for Var(W), the standard deviation and the gain g (sigma = g/sqrt(n_in),
PyTorch's convention), then the backward pass with E[f'(z)^2] (fan-out mode).

E[g(z)^2] is integrated in closed form where every piece of g is a polynomial (the ReLU family, linear
units, z^2; a piecewise g split at 0). Where the moment is c Var(z) (g positively homogeneous: ReLU,
PReLU, linear) Var(z) stays a symbol and cancels, so that Kaiming's 2/n_in and PReLU's
2/((1 + alpha^2) n_in) come out of it. Otherwise the derivation is taken at a given Var(z) (default 1):
exactly where SymPy integrates, else by a numeric integral (mpmath.quad at 30 digits, accurate to 25,
shown to 15 significant digits; the engine checks it again by its own quadrature and certifies the step
``numeric``). ELU takes PyTorch's slope 1 unless one is given (elu:A). For an odd saturating f (tanh,
erf, softsign) the linear regime f(z) = f'(0) z + O(z^3) (Xavier/LeCun) is derived beside the exact result.
"""

from __future__ import annotations

import dataclasses
import itertools
import re

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from ..engine import Builder, Derivation
from ..errors import UsageError
from ..notation import REAL, Quantity
from ..params import parse_number
from . import initialization as init
from .initialization import (
    ALPHA,
    ERROR_UNITS,
    GAIN,
    SLOPE_AT_ZERO,
    SQUARE_A,
    SQUARE_SLOPE,
    STD,
    VAR_DELTA,
    VAR_DELTA_PREVIOUS,
    VAR_W,
    VAR_Z,
    VAR_Z_PREVIOUS,
    course_fraction,
    n_in,
    n_out,
)
from .shown import over, plus, times

z = sp.Symbol("z", real=True)
alpha = init.alpha
f = sp.Function("f")
p = sp.Function("p")
V = dataclasses.replace(VAR_Z_PREVIOUS, meaning=None)
Z = Quantity("z", z, "z", REAL)
#: digits of the numeric integrals: computed at WORKING, accurate to ACCURATE (mpmath's error estimate),
#: shown to SHOWN significant digits
WORKING, ACCURATE, SHOWN = 30, 25, 15
#: the catalog's activations by the names ``--act`` accepts, and which take a slope ``NAME:A``
CATALOG = {
    "relu": "relu",
    "leaky-relu": "leaky-relu",
    "leaky_relu": "leaky-relu",
    "prelu": "prelu",
    "elu": "elu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softplus": "softplus",
    "silu": "silu",
    "swish": "silu",
    "gelu": "gelu",
    "linear": None,
    "identity": None,
}
SLOPED = {"leaky-relu", "prelu", "elu"}
_NAME = re.compile(r"[A-Za-z][A-Za-z_-]*(?::[^:]*)?")
_LARGE = (8, 16, 32)  # standard deviations at which the tails of f(z)^2 p(z) must have died out


@dataclasses.dataclass(frozen=True)
class Activation:
    """An activation to initialize for: its body in z, how it is written, and its parameters."""

    label: str  # as the user gave it, for messages
    body: sp.Basic  # f(z), in z (and alpha where the slope was not given)
    latex: str  # the function's name in documents: f, \operatorname{ReLU}
    parameters: tuple[Quantity, ...] = ()


def _catalog_body(entry: str) -> sp.Basic:
    """The definition of a catalog activation in z, from its derivation (never typed here)."""
    from . import get

    derivation = get(entry)
    applied = derivation.target("d1").lhs.expr
    return derivation.explicit(applied).xreplace({applied.args[0]: z})


def _named(body: sp.Basic) -> sp.Basic:
    """The catalog's body as the SymPy function it equals, where it is one (tanh, which the catalog
    defines by exponentials), so that the derivation writes tanh(z)."""
    return next((f(z) for f in (sp.tanh,) if sp.simplify((body - f(z)).rewrite(sp.exp)) == 0), body)


def _from_name(act: str) -> Activation:
    name, _, slope_text = act.partition(":")
    key = name.lower()
    if key not in CATALOG:
        from ..errors import UnknownNameError

        raise UnknownNameError("activation for --act", act, CATALOG)
    entry = CATALOG[key]
    if slope_text and entry not in SLOPED:
        raise UsageError(f"--act '{act}': only leaky-relu, prelu and elu take a slope (NAME:A)")
    body = z if entry is None else _named(_catalog_body(entry))
    parameters: tuple[Quantity, ...] = ()
    if slope_text:
        try:
            slope = parse_number(slope_text)
        except (ValueError, ZeroDivisionError):
            raise UsageError(f"--act '{act}': the slope '{slope_text}' is not a number") from None
        if slope < 0 or (entry != "elu" and slope >= 1) or (entry == "elu" and slope == 0):
            raise UsageError(
                f"--act '{act}': the slope must be in " + ("(0, oo)" if entry == "elu" else "[0, 1)")
            )
        body = body.xreplace({alpha: slope})
    elif entry == "elu":  # PyTorch's default slope: ELU's moments are no polynomials in alpha
        body = body.xreplace({alpha: 1})
    elif body.has(alpha):
        parameters = (ALPHA,)
    shown = {
        "relu": "ReLU",
        "leaky-relu": "LeakyReLU",
        "prelu": "PReLU",
        "elu": "ELU",
        "softplus": "softplus",
        "silu": "SiLU",
        "gelu": "GELU",
        "sigmoid": "sigmoid",
        "tanh": "tanh",
    }.get(entry or "", "f")
    return Activation(act, body, rf"\operatorname{{{shown}}}" if shown != "f" else "f", parameters)


def _from_latex(act: str) -> Activation:
    """A definition ``f(z) = ...`` (or a body in one variable), read by part A's
    :func:`derive.differentiate.read_definition` (the project's reader, never evaluated); the course's
    named functions (sigma, softplus, Phi, phi) written out by their definitions."""
    from ..differentiate import named_quantities, read_definition

    try:
        _, body, variable = read_definition(act)
    except UsageError as error:
        raise UsageError(f"--act '{_short(act)}': {error}") from None
    for quantity in named_quantities(variable):
        body = body.replace(quantity.symbol, quantity.meaning)
    if body.atoms(AppliedUndef) or body.has(sp.Indexed):
        raise UsageError(f"--act '{_short(act)}': the definition uses a function it does not define")
    return Activation(act, body.xreplace({variable: z}), "f")


def read_activation(act: str) -> Activation:
    """``act`` as an :class:`Activation`: a catalog name (``relu``, ``leaky-relu:0.01``, ``swish``)
    or a LaTeX definition ``f(z) = ...``.

    Raises:
        UsageError: an unknown name, a definition that does not read, of more than one variable,
            or not real on the line.
    """
    act = str(act).strip()
    if not act:
        raise UsageError("--act: give an activation name or a definition f(z) = ...")
    activation = _from_name(act) if _NAME.fullmatch(act) and "\\" not in act else _from_latex(act)
    body = (
        activation.body.rewrite(sp.Piecewise)
        if activation.body.has(sp.Max, sp.Min, sp.Abs, sp.Heaviside)
        else activation.body
    )
    body = sp.piecewise_fold(body)
    probe = body.xreplace({alpha: sp.Rational(1, 3)})
    for point in (-2, sp.Rational(-1, 2), sp.Rational(1, 3), 3):
        value = sp.N(probe.xreplace({z: point}), 15)
        if not (value.is_real and value.is_finite):
            raise UsageError(f"--act '{_short(act)}': f is not real and finite at z = {point}")
    return dataclasses.replace(activation, body=body)


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _density(variance: sp.Basic) -> sp.Basic:
    return sp.exp(-(z**2) / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


def _pieces(body: sp.Basic) -> tuple[sp.Basic, sp.Basic] | None:
    """(f on z < 0, f on z > 0) where f is piecewise with its only break at 0, else None."""
    if not isinstance(body, sp.Piecewise):
        return None
    sides = []
    for point in (-1, 1):
        for expr, condition in body.args:
            if condition.xreplace({z: point}) == sp.true:
                sides.append(expr)
                break
    for expr, condition in body.args:
        if condition in (sp.true,):
            continue
        if not (
            isinstance(condition, sp.core.relational.Relational) and {condition.lhs, condition.rhs} == {z, 0}
        ):
            return None
    return (sides[0], sides[1]) if len(sides) == 2 else None


def _closed_form_able(expr: sp.Basic) -> bool:
    """Whether SymPy integrates expr^2 against the normal density in closed form, quickly and polynomial
    in Var(z): a polynomial in z (each piece of the ReLU family, linear units)."""
    return not expr.has(sp.Piecewise) and expr.is_polynomial(z)


def _check_converges(square: sp.Basic, variance: sp.Basic, what: str, act: str) -> None:
    """Refuse an integrand g(z)^2 p(z) whose tails do not die out (e^{z^2}: the moment diverges):
    z^2 g(z)^2 p(z) must be tiny and falling at 8, 16 and 32 standard deviations on both sides."""
    integrand = z**2 * square * _density(variance)
    numeric = sp.lambdify(z, integrand.xreplace({alpha: sp.Rational(1, 3)}), "mpmath")
    scale = mpmath.sqrt(mpmath.mpf(sp.N(variance, WORKING)))
    with mpmath.workdps(WORKING):
        for sign in (-1, 1):
            try:
                values = [abs(mpmath.mpf(numeric(sign * k * scale))) for k in _LARGE]
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                values = [mpmath.inf]
            if not all(mpmath.isfinite(v) for v in values) or values[-1] > 1e-12 or values[-1] > values[-2]:
                raise UsageError(
                    f"--act '{_short(act)}': {what} diverges for z ~ N(0, {variance}): "
                    f"f grows too fast for the normal density to tame"
                )


def _numeric_integral(square: sp.Basic, variance: sp.Basic, kinks: list) -> sp.Float:
    """The integral of ``square`` times the normal density of ``variance`` over the line, by
    mpmath.quad at WORKING digits, split at 0 and at the kinks; rounded to SHOWN digits."""
    integrand = sp.lambdify(z, square * _density(variance), "mpmath")
    with mpmath.workdps(WORKING):
        nodes = sorted({mpmath.mpf(0), *(mpmath.mpf(sp.N(k, WORKING)) for k in kinks)})
        value, error = mpmath.quad(integrand, [-mpmath.inf, *nodes, mpmath.inf], error=True)
    if not mpmath.isfinite(value) or error > mpmath.mpf(10) ** -ACCURATE * max(1, abs(value)):
        raise UsageError(
            f"the integral of {square} against N(0, {variance}) does not settle to {ACCURATE} digits"
        )
    return sp.Rational(mpmath.nstr(value, ACCURATE))


def _kinks(body: sp.Basic) -> list:
    points = []
    for piecewise in body.atoms(sp.Piecewise):
        for _, condition in piecewise.args:
            for relation in condition.atoms(sp.core.relational.Relational):
                roots = sp.solve(relation.lhs - relation.rhs, z) if relation.has(z) else []
                points += [r for r in roots if r.is_real]
    return points


def _closed(body: sp.Basic) -> bool:
    """Whether E[body^2] is integrated in closed form (see :func:`_closed_form_able`)."""
    pieces = _pieces(body)
    return all(_closed_form_able(g) for g in pieces) if pieces is not None else _closed_form_able(body)


def _integrate(body: sp.Basic) -> sp.Basic | None:
    """E[body^2] for z ~ N(0, Var(z)) by SymPy, Var(z) a symbol; None where SymPy leaves an integral."""
    full, pieces = _density(V.symbol), _pieces(body)
    if pieces is None:
        value = sp.integrate(sp.expand(body**2) * full, (z, -sp.oo, sp.oo))
    else:
        value = sum(
            (
                sp.integrate(sp.expand(piece**2) * full, (z, low, high))
                for piece, (low, high) in zip(pieces, ((-sp.oo, 0), (0, sp.oo)), strict=True)
            ),
            sp.S.Zero,
        )
    value = sp.factor(sp.simplify(value))
    return None if value.has(sp.Integral, sp.Piecewise) or value.is_finite is False else value


def second_moment(
    b: Builder,
    lhs: sp.Symbol,
    opening: sp.Basic,
    body: sp.Basic,
    value: sp.Rational,
    act: str,
    what: str,
    rule: str,
    differentiate: bool = False,
) -> sp.Basic:
    """E[g(z)^2] = int ``opening`` p(z) dz (``opening`` f(z)^2 or f'(z)^2; g = ``body``): g written out
    (differentiated first with ``differentiate``), the integral split at 0 where g is piecewise there,
    then integrated in closed form in Var(z), or, where there is none, numerically at Var(z) =
    ``value`` (stated as a line first, if no earlier line did). Returns the moment."""
    density = p(z)
    _check_converges(body**2, value, what, act)
    closed = _integrate(body) if _closed(body) else None
    if closed is None and body.has(alpha):
        raise UsageError(f"--act '{_short(act)}': {what} has no closed form; give the slope a value (NAME:A)")
    scale_free = (
        closed is not None
        and not closed.atoms(sp.Function)
        and not (closed / V.symbol).has(V.symbol)
        or closed is not None
        and not closed.has(V.symbol)
    )
    if not scale_free and V.symbol not in b.verifier.facts:
        # Var(W) would depend on Var(z) (or there is no closed form): the moment is taken at the given Var(z)
        b.define(V.symbol, value, "given-variance")
    given = V.symbol in b.verifier.facts
    kinks = sorted({sp.S.Zero, *_kinks(body)}, key=float) if closed is None else []
    if kinks:
        # piece by piece between the kinks (and 0): each integral smooth on a half line or an interval,
        # so that quadrature (the engine's too) is exact and quick
        suffix = "-pieces" if body.has(sp.Piecewise) else "-halves"
        if differentiate:  # f' on a line of its own (a cheap proof), then the moment of f'(z) as written
            b.define(opening.base, body, "differentiate")
            b.define(lhs, plus(*_between_kinks(opening.base, kinks, density)), f"{rule}{suffix}")
        else:
            b.define(lhs, plus(*_between_kinks(body, kinks, density)), f"{rule}{suffix}")
    else:
        b.define(lhs, sp.Integral(opening * density, (z, -sp.oo, sp.oo)), rule)
    if differentiate and not kinks:
        b.apply("differentiate", lambda e: sp.Integral(body**2 * density, (z, -sp.oo, sp.oo)))
    pieces = _pieces(body) if closed is not None else None
    if pieces is not None:
        halves = [
            sp.Integral(g**2 * density, limits)
            for g, limits in zip(pieces, ((z, -sp.oo, 0), (z, 0, sp.oo)), strict=True)
            if g != 0
        ]
        b.apply(
            "split-at-zero-relu" if len(halves) == 1 else "split-at-zero",
            lambda e: plus(*halves) if len(halves) > 1 else halves[0],
        )
    elif closed is not None and not differentiate:
        b.apply("write-out-activation", lambda e: sp.Integral(body**2 * density, (z, -sp.oo, sp.oo)))
    if closed is not None:
        b.apply("integrate-normal", lambda e: closed)
        return b.apply("at-given-variance", lambda e: closed.xreplace({V.symbol: value})) if given else closed
    number = _numeric_integral(body**2, value, kinks)
    b.apply("numeric-integral", lambda e: number)
    return number


def _between_kinks(body: sp.Basic, kinks: list, density: sp.Basic) -> list[sp.Integral]:
    """The integrals of body^2 p(z) over the intervals between the kinks, each with the piece that holds there
    (a body that is no Piecewise, f'(z) before it is differentiated, the same on each)."""
    points = sorted(set(kinks), key=float)
    bounds = [-sp.oo, *points, sp.oo]
    integrals = []
    for low, high in itertools.pairwise(bounds):
        middle = (
            (low + high) / 2 if low.is_finite and high.is_finite else (high - 1 if low == -sp.oo else low + 1)
        )
        piece = (
            body
            if not isinstance(body, sp.Piecewise)
            else next(expr for expr, condition in body.args if condition.xreplace({z: middle}) == sp.true)
        )
        if piece != 0:
            integrals.append(sp.Integral(piece**2 * density, (z, low, high)))
    return integrals or [sp.Integral(sp.S.Zero, (z, -sp.oo, sp.oo))]


def _odd_saturating(body: sp.Basic) -> bool:
    """f(-z) = -f(z), f'(0) != 0, and f tends to a finite limit as z -> oo (tanh, erf, softsign)."""
    if body.has(sp.Piecewise) or body.free_symbols - {z}:
        return False
    if sp.simplify(body.xreplace({z: -z}) + body) != 0 or sp.diff(body, z).xreplace({z: 0}) == 0:
        return False
    try:
        return sp.limit(body, z, sp.oo).is_finite is True
    except (NotImplementedError, ValueError):
        return False


def _parse_variance(var_z) -> sp.Rational:
    try:
        value = parse_number(str(var_z))
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"--var-z: '{var_z}' is not a number") from None
    if not 0 < value <= 10**6:
        raise UsageError(f"--var-z: the variance must be in (0, 10^6], not {var_z}")
    return value


def init_derivation(
    act: str, density: str = "normal", var_z="1", name: str = "init", title: str | None = None
) -> Derivation:
    """The initialization of a layer whose activation is ``act`` (a catalog name or ``f(z) = ...``),
    for zero-mean normal pre-activations (``density``: only ``normal``); a moment without a closed form
    is integrated numerically at Var(z) = ``var_z``. Targets: ``second_moment``, ``var``, ``std``,
    ``gain``, ``square_slope``, ``var_fan_out``, and for an odd saturating f ``var_linear``, ``gain_linear``.

    Raises:
        UsageError: an unknown activation or density, an unreadable definition, a moment that diverges.
    """
    if density != "normal":
        raise UsageError(f"--density: '{_short(str(density))}' is not supported; the only density is normal")
    activation = read_activation(act)
    value = _parse_variance(var_z)
    body = activation.body
    function = Quantity("f", f, activation.latex, meaning=sp.Lambda(z, body))
    density_q = Quantity("p", p, "p", meaning=sp.Lambda(z, _density(V.symbol)))
    errors = tuple(q for q in ERROR_UNITS if q.key != "f")
    b = init._recursion_builder(
        name,
        (V, Z, function, density_q, SQUARE_SLOPE, GAIN, SLOPE_AT_ZERO, *activation.parameters, *errors),
        ("normal-pre-activations",),
    )
    b.define(f(z), body, "activation")
    b.define(p(z), _density(V.symbol), "normal-density-of-z")
    b.show(over(sp.exp(-(z**2) / (2 * V.symbol)), sp.sqrt(2 * sp.pi * V.symbol, evaluate=False)))
    init.forward_recursion(b)
    moment = second_moment(
        b, SQUARE_A.symbol, f(z) ** 2, body, value, act, "E[f(z)^2]", "expectation-activation"
    )
    b.result("second_moment")
    variance = _condition(
        b,
        V.symbol,
        VAR_Z.symbol,
        times(n_in, VAR_W.symbol, moment),
        "var",
        "forward-condition",
        "substitute-second-moment-found",
    )
    _gain(b, variance, "std", "gain")
    init.error_recursion(b)
    slope = sp.piecewise_fold(sp.diff(body, z))
    if not slope.has(sp.Piecewise):  # written short, as diff writes it: tanh' = 4 e^{2z}/(e^{2z} + 1)^2
        from ..differentiate import simplest

        slope = simplest(slope)
    slope_moment = second_moment(
        b,
        SQUARE_SLOPE.symbol,
        sp.Derivative(f(z), z) ** 2,
        slope,
        value,
        act,
        "E[f'(z)^2]",
        "expectation-slope",
        differentiate=True,
    )
    b.result("square_slope")
    init.backward_recursion(b, slope_moment, slope_moment)
    _condition(
        b,
        VAR_DELTA.symbol,
        VAR_DELTA_PREVIOUS.symbol,
        times(slope_moment, n_out, VAR_W.symbol, VAR_DELTA.symbol),
        "var_fan_out",
        "backward-condition",
        "substitute-recursion",
    )
    if _odd_saturating(body):
        _linear_regime(b, body)
    return _rounded(b.build(title))


def _long(expr: sp.Basic | None) -> bool:
    """Whether ``expr`` holds a number of more than SHOWN digits (a numeric integral's value, exact to
    ACCURATE digits, or what follows from it)."""
    return isinstance(expr, sp.Basic) and any(
        abs(r.p) > 10**SHOWN or r.q > 10**SHOWN for r in expr.atoms(sp.Rational)
    )


def _decimals(expr: sp.Basic | None) -> sp.Basic | None:
    """``expr`` with its numbers as decimals of SHOWN significant digits, where it holds a long one."""
    if not _long(expr):
        return expr
    if isinstance(expr, sp.Mul):  # the number in front, the quantities as they are: 1.59.../sqrt(n_in)
        number, rest = expr.as_independent(*expr.free_symbols, as_Add=False)
        return sp.N(number, SHOWN) * rest
    return sp.N(expr, SHOWN)


def _rounded(derivation: Derivation) -> Derivation:
    """The derivation as documents print it: a numeric integral's value and what follows from it shown to
    SHOWN significant digits, as a worked problem's decimals are (the computed values keep every digit)."""
    steps = tuple(
        dataclasses.replace(s, lhs=_decimals(s.lhs), shown=_decimals(s.rhs))
        if _long(s.display) or _long(s.lhs)
        else s
        for s in derivation.steps
    )
    targets = {
        k: dataclasses.replace(t, lhs=_decimals(t.lhs), shown=_decimals(t.rhs), accurate_to=ACCURATE)
        if _long(t.display)
        else t
        for k, t in derivation.targets.items()
    }
    return dataclasses.replace(derivation, steps=steps, targets=targets)


def _condition(
    b: Builder,
    before: sp.Symbol,
    after: sp.Symbol,
    recursion: sp.Basic,
    target: str,
    rule: str,
    substitution: str,
) -> sp.Basic:
    """The variance kept the same across the layer, solved for Var(W) (see
    :func:`initialization.variance_condition`), with a given Var(z) put in where it remains."""
    given = b.verifier.facts.get(V.symbol)
    b.equation(after, before, rule)
    b.implies(substitution, recursion, before)
    value = b.solve(VAR_W.symbol)
    if given is not None and value.has(V.symbol):
        value = value.xreplace({V.symbol: given})
        b.implies("substitute-given-variance", VAR_W.symbol, value, given={V.symbol: given})
    b.show(course_fraction(value))
    b.result(target)
    return value


def _gain(b: Builder, variance: sp.Basic, std_target: str | None, gain_target: str) -> None:
    """sigma = sqrt(Var(W)) (a target ``std_target`` unless None), then the gain g of sigma = g/sqrt(n_in)
    (PyTorch's convention)."""
    if std_target is not None:
        std = init.standard_deviation(b, variance, std_target)
    else:
        b.equation(STD.symbol**2, variance, "normal-with-variance")
        b.show(course_fraction(variance))
        std = b.solve(STD.symbol)
    b.equation(STD.symbol, GAIN.symbol / sp.sqrt(n_in), "gain-definition")
    b.show(over(GAIN.symbol, sp.sqrt(n_in)))
    b.implies("substitute-std", std, GAIN.symbol / sp.sqrt(n_in), given={STD.symbol: std})
    b.solve(GAIN.symbol)
    b.result(gain_target)


def _linear_regime(b: Builder, body: sp.Basic) -> None:
    """Near 0, f(z) = f'(0) z + O(z^3): E[f(z)^2] = f'(0)^2 Var(z), so Var(W) = 1/(f'(0)^2 n_in)
    (Xavier's forward condition, LeCun's), beside the exact result."""
    b.series(body, z, 3, "taylor")
    b.define(SLOPE_AT_ZERO.symbol, sp.Subs(sp.Derivative(body, z), z, 0), "definition")
    slope = b.apply("differentiate", sp.Subs.doit)
    regime = slope**2 * V.symbol
    b.equation(SQUARE_A.symbol, regime, "linear-regime")
    b.equation(VAR_Z.symbol, V.symbol, "forward-condition")
    b.implies(
        "substitute-linear-regime",
        times(n_in, VAR_W.symbol, regime),
        V.symbol,
        given={SQUARE_A.symbol: regime},
    )
    variance = b.solve(VAR_W.symbol)
    b.show(course_fraction(variance))
    b.result("var_linear")
    _gain(b, variance, None, "gain_linear")
