"""Weight initialization from the variance recursions: Xavier, Kaiming, PReLU, LeCun.

Every entry reads in the order the course derives it (seed 001 section 3.1, seed 000 section
3.2): the input z_i = sum_j W_ij a_j + b_i of a unit, the variance of that sum of independent
terms, the variance of one product W_ij a_j, the second moment of the activation (by its linear
regime near 0, or by integrating against a symmetric zero-mean density: split at 0, take the
slope out of the negative half, each half holds half of E[z^2]), the condition that the variance
stays the same, solved for Var(W), and the uniform and normal distributions with that variance.
Results are shown in the course's term order (M_{l-1} Var(W) Var(a), (1+alpha^2)/2 E[z^2],
the square root of a fraction) through display forms the engine proves equal.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import POSITIVE, REAL, SIZE, SMOOTH_FUNCTION, SYMMETRIC_DENSITY, UNIT_LEAK, Quantity
from .registry import Entry
from .shown import over, plus, times

z, w = sp.Symbol("z", real=True), sp.Symbol("w", real=True)
j, i = sp.Symbol("j", integer=True, positive=True), sp.Symbol("i", integer=True, positive=True)
n_in, n_out = sp.Symbol("n_in", integer=True, positive=True), sp.Symbol("n_out", integer=True, positive=True)
alpha = sp.Symbol("alpha", nonnegative=True)
p = sp.Function("p")


def _fraction(numerator: sp.Basic, *denominator: sp.Basic) -> sp.Basic:
    """numerator / (the product of ``denominator`` in that order), as written: 2/((1 + alpha^2) M)."""
    return over(numerator, denominator[0] if len(denominator) == 1 else times(*denominator))


def _root_of(fraction: sp.Basic) -> sp.Basic:
    """The square root of a fraction, kept whole: sqrt(6/(M_{l-1} + M_l)), not sqrt(6)/sqrt(...)."""
    return sp.sqrt(fraction, evaluate=False)


def _positive(key: str, latex: str, text: str = "", **extra) -> Quantity:
    return Quantity(key, sp.Symbol(key, positive=True), latex, POSITIVE, text=text or key, **extra)


N_IN = Quantity("n_in", n_in, "n_{in}", SIZE, aliases=("M_{l-1}", r"\mathrm{fan}_{in}", "n_{l-1}", "n_j", "d_{in}"))
N_OUT = Quantity("n_out", n_out, "n_{out}", SIZE, aliases=("M_l", r"\mathrm{fan}_{out}", "n_l", "n_{j+1}", "d_{out}"))
ALPHA = Quantity("alpha", alpha, r"\alpha", UNIT_LEAK, aliases=("a",))
DENSITY = Quantity("p", p, "p", SYMMETRIC_DENSITY)
Z = Quantity("z", z, "z", REAL)
VAR_W = _positive("var_w", r"\operatorname{Var}(W)", text="Var(W)", aliases=(r"\sigma_W^2", r"\operatorname{Var}(W_{ij}^{(l)})"))
MEAN_W = Quantity("mean_w", sp.Symbol("mean_w", real=True), r"\operatorname{E}[W]", REAL, text="E[W]")
MEAN_A = Quantity("mean_a", sp.Symbol("mean_a", real=True), r"\operatorname{E}[a]", REAL, text="E[a]")
VAR_A = _positive("var_a", r"\operatorname{Var}(a^{(l-1)})", text="Var(a[l-1])", aliases=(r"\operatorname{Var}(a)",))
SQUARE_A = _positive("square_a", r"\operatorname{E}[(a^{(l-1)})^2]", text="E[a[l-1]^2]", aliases=(r"\operatorname{E}[a^2]",))
SQUARE_W = Quantity("square_w", sp.Symbol("square_w", positive=True), r"\operatorname{E}[W^2]", text="E[W^2]",
                    meaning=VAR_W.symbol + MEAN_W.symbol**2)
VAR_PRODUCT = _positive("var_wa", r"\operatorname{Var}(W_{ij} a_j)", text="Var(W a)")
VAR_Z = _positive("var_z", r"\operatorname{Var}(z^{(l)})", text="Var(z[l])")
#: z^(l-1) has a symmetric zero-mean density, so its variance is its second moment E[z^2].
SECOND_MOMENT_NAMES = (r"\operatorname{E}[z^2]", r"\operatorname{E}[(z^{(l-1)})^2]")
PREVIOUS_VARIANCE_NAMES = (r"\operatorname{Var}(z)", r"\operatorname{Var}(z_{l-1})", r"\operatorname{Var}(z^{l-1})")
VAR_Z_PREVIOUS = _positive("var_z_prev", r"\operatorname{Var}(z^{(l-1)})", text="Var(z[l-1])",
                           aliases=PREVIOUS_VARIANCE_NAMES + SECOND_MOMENT_NAMES,
                           meaning=sp.Integral(z**2 * p(z), (z, -sp.oo, sp.oo)))
VAR_DELTA = _positive("var_delta", r"\operatorname{Var}(\delta^{(l)})", text="Var(delta[l])")
VAR_DELTA_PREVIOUS = _positive("var_delta_prev", r"\operatorname{Var}(\delta^{(l-1)})", text="Var(delta[l-1])")
SQUARE_SLOPE = _positive("square_slope", r"\operatorname{E}[f'(z)^2]", text="E[f'(z)^2]")
SLOPE_AT_ZERO = Quantity("slope0", sp.Symbol("slope0"), "f'(0)", text="f'(0)")
BOUND = _positive("r", "r", aliases=("a", "b"))
STD = _positive("std", r"\sigma", text="sigma", aliases=("s", r"\mathrm{std}", r"\sigma_W"),
                meaning=sp.sqrt(VAR_W.symbol))
GAIN = _positive("gain", "g")
VAR_UNIFORM = _positive("var_uniform", r"\operatorname{Var}(U(-r, r))", text="Var(U(-r, r))")


def _unit(key: str, latex: str, text: str) -> Quantity:
    """One entry of a layer's vector or matrix (z_i^(l), W_ij^(l)) as the course names it. It
    appears only in stated lines (the definition of z, the error recursion), never in a result."""
    return Quantity(key, sp.Symbol(key, real=True), latex, REAL, text=text)


# The entries of one unit, for the definition of z and the error recursion (premises).
Z_UNIT = _unit("z_unit", "z_i^{(l)}", "z_i^(l)")
Z_PREVIOUS_UNIT = _unit("z_prev_unit", "z_j^{(l-1)}", "z_j^(l-1)")
W_UNIT = _unit("w_unit", "W_{ij}^{(l)}", "W_ij^(l)")
A_UNIT = _unit("a_unit", "a_j^{(l-1)}", "a_j^(l-1)")
B_UNIT = _unit("b_unit", "b_i^{(l)}", "b_i^(l)")
DELTA_UNIT = _unit("delta_unit", r"\delta_i^{(l)}", "delta_i^(l)")
DELTA_PREVIOUS_UNIT = _unit("delta_prev_unit", r"\delta_j^{(l-1)}", "delta_j^(l-1)")
LOSS = Quantity("loss", sp.Symbol("loss", real=True), r"\mathcal{L}", REAL, text="L")
f = sp.Function("f")
ACTIVATION = Quantity("f", f, "f", SMOOTH_FUNCTION)
UNITS = (Z_UNIT, W_UNIT, A_UNIT, B_UNIT)
ERROR_UNITS = (Z_PREVIOUS_UNIT, DELTA_UNIT, DELTA_PREVIOUS_UNIT, LOSS, ACTIVATION)

COMMON = (N_IN, N_OUT, VAR_W, MEAN_W, MEAN_A, SQUARE_A, SQUARE_W, VAR_PRODUCT, VAR_Z,
          VAR_DELTA, VAR_DELTA_PREVIOUS, BOUND, STD, VAR_UNIFORM)
ASSUMPTIONS = ("iid-weights", "weights-zero-mean", "independent-weights-inputs")
#: What the assumptions make equal, for the checker: E[W] = 0, so E[W^2] may stand for Var(W).
ZERO_MEAN_WEIGHTS = {MEAN_W.symbol: sp.S.Zero}


def layer_input(b: Builder) -> None:
    """z_i^(l) = sum_j W_ij^(l) a_j^(l-1) + b_i^(l): what a unit of layer l adds up (a definition)."""
    term = times(W_UNIT.symbol, A_UNIT.symbol)
    b.define(Z_UNIT.symbol, plus(sp.Sum(term, (j, 1, n_in)), B_UNIT.symbol), "layer-input")


def sum_of_variances(b: Builder) -> None:
    """Var(z^(l)) = sum over the n_in inputs of Var(W_ij a_j): b_i is a constant, the terms independent."""
    b.define(VAR_Z.symbol, sp.Sum(VAR_PRODUCT.symbol, (j, 1, n_in)), "variance-of-independent-sum")


def product_variance(b: Builder) -> sp.Basic:
    """Var(W a) = E[W^2] E[a^2] - E[W]^2 E[a]^2 for independent W, a; = Var(W) E[a^2] if E[W] = 0."""
    mean_w, mean_a, square_w, square_a = MEAN_W.symbol, MEAN_A.symbol, SQUARE_W.symbol, SQUARE_A.symbol
    means = times(mean_w**2, mean_a**2)
    b.define(VAR_PRODUCT.symbol, square_w * square_a - mean_w**2 * mean_a**2, "independence")
    b.show(plus(times(square_w, square_a), times(-1, means)))
    b.apply("second-moment-of-w", lambda e: e.xreplace({square_w: SQUARE_W.meaning}))
    b.show(plus(times(SQUARE_W.meaning, square_a), times(-1, means)))
    value = b.apply("zero-mean-weights", lambda e: sp.expand(e).xreplace({mean_w: 0}), given={mean_w: 0})
    b.show(times(VAR_W.symbol, square_a))
    return value


def forward_recursion(b: Builder) -> sp.Basic:
    """The course's forward chain: z_i = sum_j W_ij a_j + b_i, the variance of that sum, the variance
    of one term, and the sum of the n_in identical terms, Var(z^(l)) = n_in Var(W) E[a^2]."""
    layer_input(b)
    sum_of_variances(b)
    term = product_variance(b)
    recursion = b.define(VAR_Z.symbol, n_in * term, "sum-of-identical-terms")
    b.show(times(n_in, VAR_W.symbol, SQUARE_A.symbol))
    return recursion


def error_recursion(b: Builder) -> None:
    """The backward pass as the course states it (premises): delta^(l) = dL/dz^(l),
    dL/dW_ij = delta_i a_j, and delta_j^(l-1) = (sum_i W_ij delta_i^(l)) f'(z_j^(l-1))."""
    delta, delta_before, z_before = DELTA_UNIT.symbol, DELTA_PREVIOUS_UNIT.symbol, Z_PREVIOUS_UNIT.symbol
    loss = LOSS.symbol
    b.equation(delta, sp.Derivative(loss, Z_UNIT.symbol), "error-definition")
    b.equation(sp.Derivative(loss, W_UNIT.symbol), times(delta, A_UNIT.symbol), "weight-gradient")
    back = sp.Sum(times(W_UNIT.symbol, delta), (i, 1, n_out))
    b.equation(delta_before, times(back, sp.Derivative(f(z_before), z_before)), "error-backward")


def backward_recursion(b: Builder, slope: sp.Basic, slope_shown: sp.Basic) -> sp.Basic:
    """Var(delta^(l-1)) = sum over the n_out outputs of Var(W) E[f'(z)^2] Var(delta^(l))
    = n_out Var(W) E[f'(z)^2] Var(delta^(l)), then E[f'(z)^2] = ``slope`` (shown ``slope_shown``)."""
    var_w, square_slope, var_delta = VAR_W.symbol, SQUARE_SLOPE.symbol, VAR_DELTA.symbol
    b.define(VAR_DELTA_PREVIOUS.symbol, sp.Sum(times(var_w, square_slope, var_delta), (i, 1, n_out)),
             "backward-recursion")
    b.apply("identical-terms", sp.Sum.doit)
    b.show(times(n_out, var_w, square_slope, var_delta))
    value = b.apply("substitute-square-slope", lambda e: e.xreplace({square_slope: slope}))
    b.show(times(n_out, var_w, var_delta) if slope == 1 else times(slope_shown, n_out, var_w, var_delta))
    return value


def _squared_density(value: sp.Basic) -> sp.Basic:
    """value^2 p(z) as the course writes it: (alpha z)^2 p(z), z^2 p(z), p(z); 0 where value is 0."""
    if value == 0:
        return sp.S.Zero
    return p(z) if value == 1 else times(sp.Pow(value, 2, evaluate=False), p(z))


def moment_against_density(b: Builder, lhs: sp.Symbol, slope: sp.Basic, root: sp.Basic = z) -> sp.Basic:
    """E[g(z)^2] for g = root (z > 0), slope * root (z <= 0), integrating against a symmetric
    zero-mean density p, as seed 000 section 3.2: split the integral at 0, take slope^2 out of the
    negative half, each half line holds half of the whole, and name what is left: E[z^2] = Var(z)
    (root z) or the total probability 1 (root 1). Returns the value; its display is ``b.current``'s."""
    negative_value = slope if root == 1 else times(slope, root)
    if slope == 0:
        negative_value = sp.S.Zero
    piece = sp.Piecewise((_squared_density(root), z > 0), (_squared_density(negative_value), True))
    b.define(lhs, sp.Integral(piece, (z, -sp.oo, sp.oo)), "expectation")
    body = _squared_density(root)
    negative, positive = sp.Integral(_squared_density(negative_value), (z, -sp.oo, 0)), sp.Integral(body, (z, 0, sp.oo))
    whole = sp.Integral(body, (z, -sp.oo, sp.oo))
    named = VAR_Z_PREVIOUS.symbol if root == z else sp.S.One
    if slope == 0:
        b.apply("split-at-zero-relu", lambda e: positive)
        b.apply("half-of-symmetric", lambda e: times(sp.Rational(1, 2), whole))
        b.apply("zero-mean-variance" if root == z else "total-probability", lambda e: named / 2)
        shown = times(sp.Rational(1, 2), named) if named != 1 else sp.Rational(1, 2)
        b.show(shown)
        return named / 2
    b.apply("split-at-zero", lambda e: plus(negative, positive))
    b.apply("take-out-slope", lambda e: plus(
        times(slope**2, sp.Integral(body, (z, -sp.oo, 0))), positive))
    half = _fraction(1 + slope**2, 2)
    b.apply("half-of-symmetric", lambda e: times(half, whole))
    value = b.apply("zero-mean-variance" if root == z else "total-probability", lambda e: (1 + slope**2) * named / 2)
    b.show(times(half, named) if named != 1 else half)
    return value


def variance_condition(b: Builder, before: sp.Symbol, after: sp.Symbol, recursion_shown: sp.Basic,
                       target: str, rule: str, substitution: str) -> sp.Basic:
    """Require the variance to stay the same across the layer (``after`` = ``before``), substitute
    the recursion (written ``recursion_shown``, in the course's order), solve for Var(W) (shown
    as the course writes the fraction) and name the result ``target``."""
    b.equation(after, before, rule)
    b.implies(substitution, recursion_shown, before)
    value = b.solve(VAR_W.symbol)
    b.show(course_fraction(value))
    b.result(target)
    return value


def standard_deviation(b: Builder, variance: sp.Basic, target: str, root_shown: sp.Basic | None = None) -> sp.Basic:
    """sigma^2 = Var(W), solved for sigma > 0, shown as the square root of the variance's fraction
    (or ``root_shown``)."""
    b.equation(STD.symbol**2, variance, "normal-with-variance")
    b.show(course_fraction(variance))
    value = b.solve(STD.symbol)
    b.show(_root_of(course_fraction(variance)) if root_shown is None else root_shown)
    b.result(target)
    return value


def uniform_bound(b: Builder, variance: sp.Basic, target: str = "uniform_bound") -> sp.Basic:
    """Var U(-r, r) = r^2/3, obtained by integration, set equal to Var(W) and solved for r > 0:
    r = sqrt(3 Var(W)), shown as the square root of one fraction (sqrt(6/(M_{l-1} + M_l)))."""
    r = BOUND.symbol
    b.define(VAR_UNIFORM.symbol, sp.Integral(w**2 / (2 * r), (w, -r, r)), "variance-of-uniform")
    spread = b.apply("integrate", sp.Integral.doit)
    b.equation(spread, variance, "match-variance")
    b.show(course_fraction(variance))
    value = b.solve(r)
    b.show(_root_of(course_fraction(sp.factor(3 * variance))))
    b.result(target)
    return value


def course_fraction(value: sp.Basic) -> sp.Basic:
    """A fraction as the course writes it, the sum in its denominator first: 2/M_{l-1},
    2/((1 + alpha^2) M_{l-1}), 6/(M_{l-1} + M_l)."""
    numerator, denominator = sp.fraction(value)
    factors = sorted(sp.Mul.make_args(denominator), key=lambda factor: not isinstance(factor, sp.Add))
    return _fraction(numerator, *factors)


def _recursion_builder(name: str, extra: tuple[Quantity, ...], assumptions: tuple[str, ...],
                       replaced: dict[str, Quantity] | None = None) -> Builder:
    """A builder with the common quantities (those in ``replaced`` by key swapped), ``extra`` and the units."""
    common = tuple((replaced or {}).get(q.key, q) for q in COMMON)
    return Builder(name, "initialization", (*common, *extra, *UNITS), assumptions=ASSUMPTIONS + assumptions,
                   relations=ZERO_MEAN_WEIGHTS)


def xavier() -> Derivation:
    """Glorot, as seed 001 section 3.1: Var(W) = 1/n_in forward, 1/n_out backward, 2/(n_in + n_out)
    as their harmonic mean, then the uniform bound and the normal standard deviation."""
    z_before = _positive("var_z_prev", r"\operatorname{Var}(z^{(l-1)})", text="Var(z[l-1])",
                         aliases=PREVIOUS_VARIANCE_NAMES)
    # E[a^2] is not a line of the course's Xavier sheet; its meaning lets a student's E[a^2] form be read.
    square_a = dataclasses.replace(SQUARE_A, meaning=VAR_A.symbol + MEAN_A.symbol**2)
    # f is no function of this table: f'(0) is the slope's name here (SLOPE_AT_ZERO), read as such.
    errors = tuple(q for q in ERROR_UNITS if q is not ACTIVATION)
    b = _recursion_builder("xavier", (z_before, VAR_A, Z, SQUARE_SLOPE, SLOPE_AT_ZERO, *errors),
                           ("zero-mean-inputs", "tanh-linear-regime"), {"square_a": square_a})
    var_w, var_a, mean_w, mean_a = VAR_W.symbol, VAR_A.symbol, MEAN_W.symbol, MEAN_A.symbol
    layer_input(b)
    sum_of_variances(b)
    b.define(VAR_PRODUCT.symbol, var_w * var_a + var_w * mean_a**2 + var_a * mean_w**2, "independence-variance")
    b.show(plus(times(var_w, var_a), times(var_w, mean_a**2), times(var_a, mean_w**2)))
    b.apply("zero-means", lambda e: e.xreplace({mean_w: 0, mean_a: 0}), given={mean_w: 0, mean_a: 0})
    b.show(times(var_w, var_a))
    b.series(sp.tanh(z), z, 5)
    b.define(var_a, z_before.symbol, "linear-regime-variance")
    b.equation(VAR_Z.symbol, var_a, "forward-condition-linear")
    b.implies("substitute-variances", sp.Sum(times(var_w, var_a), (j, 1, n_in)), var_a)
    b.implies("identical-terms", times(n_in, var_w, var_a), var_a)
    forward = b.solve(var_w)
    b.result("forward_var")

    error_recursion(b)
    b.define(SLOPE_AT_ZERO.symbol, sp.Subs(sp.Derivative(sp.tanh(z), z), z, 0), "definition")
    b.apply("differentiate", sp.Subs.doit)
    b.define(SQUARE_SLOPE.symbol, SLOPE_AT_ZERO.symbol**2, "linear-regime")
    b.substitute(SLOPE_AT_ZERO.symbol, rule="substitute-slope")
    backward_recursion(b, sp.S.One, sp.S.One)
    backward = variance_condition(b, VAR_DELTA.symbol, VAR_DELTA_PREVIOUS.symbol,
                                  times(n_out, var_w, VAR_DELTA.symbol), "backward_var",
                                  "backward-condition", "substitute-recursion")

    b.equation(1 / var_w, (1 / forward + 1 / backward) / 2, "harmonic-mean")
    b.show(_fraction(n_in + n_out, 2))
    variance = b.solve(var_w)
    b.result("var")
    uniform_bound(b, variance)
    standard_deviation(b, variance, "normal_std")
    return b.build()


def _rectifier(name: str, slope: sp.Basic, extra: tuple[Quantity, ...], fan_out: bool) -> tuple[Builder, sp.Basic]:
    """The forward recursion of a ReLU-family layer, up to Var(W) (and, with ``fan_out``, the
    backward one); returns the builder and Var(W)."""
    b = _recursion_builder(name, (VAR_Z_PREVIOUS, DENSITY, Z, SQUARE_SLOPE, *extra, *ERROR_UNITS),
                           ("symmetric-pre-activations",))
    var_w, previous = VAR_W.symbol, VAR_Z_PREVIOUS.symbol
    forward_recursion(b)
    moment_against_density(b, SQUARE_A.symbol, slope)
    b.result("second_moment")
    gain = _fraction(1 + slope**2, 2) if slope != 0 else sp.Rational(1, 2)
    variance = variance_condition(b, previous, VAR_Z.symbol, times(n_in, var_w, gain, previous), "var",
                                  "forward-condition", "substitute-second-moment")
    if fan_out:
        error_recursion(b)
        moment_against_density(b, SQUARE_SLOPE.symbol, slope, sp.S.One)
        backward_recursion(b, (1 + slope**2) / 2, gain)
        variance_condition(b, VAR_DELTA.symbol, VAR_DELTA_PREVIOUS.symbol,
                           times(gain, n_out, var_w, VAR_DELTA.symbol), "var_fan_out",
                           "backward-condition", "substitute-recursion")
    return b, variance


def kaiming() -> Derivation:
    """He (ReLU, fan-in): E[ReLU(z)^2] = Var(z)/2, so Var(W) = 2/n_in; fan-out: 2/n_out."""
    b, variance = _rectifier("kaiming", sp.Integer(0), (), fan_out=True)
    standard_deviation(b, variance, "std")
    uniform_bound(b, variance)
    return b.build()


def prelu_init() -> Derivation:
    """PReLU/leaky ReLU with slope alpha, as seed 000 section 3.2: E[f(z)^2] = (1 + alpha^2)/2 Var(z),
    Var(W) = 2/((1 + alpha^2) n_in); the standard deviation, the gain and the uniform bound."""
    b, variance = _rectifier("prelu-init", alpha, (ALPHA, GAIN), fan_out=False)
    std = standard_deviation(b, variance, "std")
    b.equation(STD.symbol, GAIN.symbol / sp.sqrt(n_in), "gain-definition")
    b.show(_fraction(GAIN.symbol, sp.sqrt(n_in)))
    b.implies("substitute-std", _root_of(course_fraction(variance)), GAIN.symbol / sp.sqrt(n_in), given={STD.symbol: std})
    b.solve(GAIN.symbol)
    b.show(_root_of(_fraction(2, 1 + alpha**2)))
    b.result("gain")
    uniform_bound(b, variance)
    return b.build()


def lecun() -> Derivation:
    """LeCun (linear or SELU regime): E[a^2] = Var(z^(l-1)), so Var(W) = 1/n_in."""
    z_before = _positive("var_z_prev", r"\operatorname{Var}(z^{(l-1)})", text="Var(z[l-1])",
                         aliases=PREVIOUS_VARIANCE_NAMES)
    b = _recursion_builder("lecun", (z_before, VAR_A), ("zero-mean-inputs", "identity-regime"))
    forward_recursion(b)
    b.define(SQUARE_A.symbol, VAR_A.symbol + MEAN_A.symbol**2, "second-moment")
    b.apply("zero-mean-inputs", lambda e: e.xreplace({MEAN_A.symbol: 0}), given={MEAN_A.symbol: 0})
    b.apply("identity-regime", lambda e: e.xreplace({VAR_A.symbol: z_before.symbol}),
            given={VAR_A.symbol: z_before.symbol})
    variance = variance_condition(b, z_before.symbol, VAR_Z.symbol, times(n_in, VAR_W.symbol, z_before.symbol),
                                  "var", "forward-condition", "substitute-second-moment")
    standard_deviation(b, variance, "std", _fraction(1, sp.sqrt(n_in)))
    return b.build()


ENTRIES = (
    Entry("xavier", "initialization", xavier, ("forward_var", "backward_var", "var", "uniform_bound", "normal_std")),
    Entry("kaiming", "initialization", kaiming, ("second_moment", "var", "var_fan_out", "std", "uniform_bound")),
    Entry("prelu-init", "initialization", prelu_init, ("second_moment", "var", "std", "gain", "uniform_bound")),
    Entry("lecun", "initialization", lecun, ("var", "std")),
)
