"""Weight initialization from the variance recursions: Xavier, Kaiming, PReLU, LeCun.

Every entry is made of the same chains: the variance of a product of independent factors,
the forward (or backward) recursion over a layer, the second moment of the activation
(by a Taylor expansion at 0, or by integrating against a symmetric zero-mean density),
the condition that the variance stays the same, solved for Var(W), and the uniform and
normal distributions that have that variance.
"""

from __future__ import annotations

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import POSITIVE, REAL, SIZE, SYMMETRIC_DENSITY, UNIT_LEAK, Quantity
from ..operations import (
    half_line_to_full,
    linearity,
    reflect_negative_half,
    split_at_zero,
    use_symmetry,
)
from .registry import Entry

z, w = sp.Symbol("z", real=True), sp.Symbol("w", real=True)
j, i = sp.Symbol("j", integer=True, positive=True), sp.Symbol("i", integer=True, positive=True)
n_in, n_out = sp.Symbol("n_in", integer=True, positive=True), sp.Symbol("n_out", integer=True, positive=True)
alpha = sp.Symbol("alpha", nonnegative=True)
p = sp.Function("p")


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

COMMON = (N_IN, N_OUT, VAR_W, MEAN_W, MEAN_A, SQUARE_A, SQUARE_W, VAR_PRODUCT, VAR_Z,
          VAR_DELTA, VAR_DELTA_PREVIOUS, BOUND, STD, VAR_UNIFORM)
ASSUMPTIONS = ("iid-weights", "weights-zero-mean", "independent-weights-inputs")
#: What the assumptions make equal, for the checker: E[W] = 0, so E[W^2] may stand for Var(W).
ZERO_MEAN_WEIGHTS = {MEAN_W.symbol: sp.S.Zero}


def product_variance(b: Builder) -> sp.Basic:
    """Var(W a) = E[W^2] E[a^2] - E[W]^2 E[a]^2 for independent W, a; = Var(W) E[a^2] if E[W] = 0."""
    mean_w, mean_a = MEAN_W.symbol, MEAN_A.symbol
    b.define(VAR_PRODUCT.symbol, SQUARE_W.symbol * SQUARE_A.symbol - mean_w**2 * mean_a**2, "independence")
    b.apply("second-moment-of-w", lambda e: e.xreplace({SQUARE_W.symbol: SQUARE_W.meaning}))
    return b.apply("zero-mean-weights", lambda e: sp.expand(e).xreplace({mean_w: 0}), given={mean_w: 0})


def forward_recursion(b: Builder) -> sp.Basic:
    """Var(z^(l)) = sum over the n_in inputs of Var(W a) = n_in Var(W) E[a^2]."""
    b.define(VAR_Z.symbol, sp.Sum(VAR_PRODUCT.symbol, (j, 1, n_in)), "variance-of-independent-sum")
    b.apply("identical-terms", sp.Sum.doit)
    return b.substitute(VAR_PRODUCT.symbol)


def backward_recursion(b: Builder) -> sp.Basic:
    """Var(delta^(l-1)) = sum over the n_out outputs: n_out Var(W) E[f'(z)^2] Var(delta^(l))."""
    term = VAR_W.symbol * SQUARE_SLOPE.symbol * VAR_DELTA.symbol
    b.define(VAR_DELTA_PREVIOUS.symbol, sp.Sum(term, (i, 1, n_out)), "backward-recursion")
    b.apply("identical-terms", sp.Sum.doit)
    return b.substitute(SQUARE_SLOPE.symbol)


def moment_against_density(b: Builder, lhs: sp.Symbol, integrand_root: sp.Basic) -> sp.Basic:
    """E[g(z)^2] for a piecewise g, integrating against a symmetric zero-mean density p.

    Split the line at 0, reflect the negative half (z -> -z, p(-z) = p(z)), collect, write the
    half line as half the whole line, and name what is left: Var(z) and the total mass 1.
    """
    b.define(lhs, sp.Integral(sp.piecewise_fold(integrand_root**2) * p(z), (z, -sp.oo, sp.oo)), "expectation")
    result = b.apply("split-at-zero", lambda e: split_at_zero(e))
    if any(limits[1] == -sp.oo for part in result.atoms(sp.Integral) for limits in part.limits):
        b.apply("change-of-variable", reflect_negative_half)
        b.apply("symmetric-density", lambda e: use_symmetry(e, p))
        b.apply("linearity", lambda e: sp.collect(linearity(e), list(linearity(e).atoms(sp.Integral))))
    b.apply("symmetric-density", half_line_to_full)
    named = {VAR_Z_PREVIOUS.meaning: VAR_Z_PREVIOUS.symbol, sp.Integral(p(z), (z, -sp.oo, sp.oo)): 1}
    return b.apply("zero-mean-variance", lambda e: sp.factor(e.xreplace(named)))


def variance_condition(b: Builder, before: sp.Symbol, after: sp.Symbol, recursion: sp.Basic,
                       target: str, rule: str) -> sp.Basic:
    """Require the variance to stay the same across the layer and solve for Var(W)."""
    b.equation(after, before, rule)
    b.implies("substitute", recursion, before)
    value = b.solve(VAR_W.symbol)
    b.result(target)
    return value


def standard_deviation(b: Builder, variance: sp.Basic, target: str) -> sp.Basic:
    """sigma^2 = Var(W), solved for sigma > 0."""
    b.equation(STD.symbol**2, variance, "normal-with-variance")
    value = b.solve(STD.symbol)
    b.result(target)
    return value


def uniform_bound(b: Builder, variance: sp.Basic, target: str = "uniform_bound") -> sp.Basic:
    """Var U(-r, r) = r^2/3, obtained by integration, set equal to Var(W) and solved for r > 0."""
    r = BOUND.symbol
    b.define(VAR_UNIFORM.symbol, sp.Integral(w**2 / (2 * r), (w, -r, r)), "variance-of-uniform")
    spread = b.apply("integrate", sp.Integral.doit)
    b.equation(spread, variance, "match-variance")
    value = b.solve(r)
    b.result(target)
    return value


def _recursion_builder(name: str, extra: tuple[Quantity, ...], assumptions: tuple[str, ...]) -> Builder:
    return Builder(name, "initialization", (*COMMON, *extra), assumptions=ASSUMPTIONS + assumptions,
                   relations=ZERO_MEAN_WEIGHTS)


def xavier() -> Derivation:
    """Glorot: Var(W) = 1/n_in forward, 1/n_out backward, 2/(n_in + n_out) as their harmonic mean."""
    z_before = _positive("var_z_prev", r"\operatorname{Var}(z^{(l-1)})", text="Var(z[l-1])",
                         aliases=PREVIOUS_VARIANCE_NAMES)
    b = _recursion_builder("xavier", (z_before, VAR_A, Z, SQUARE_SLOPE, SLOPE_AT_ZERO),
                           ("zero-mean-inputs", "tanh-linear-regime"))
    product_variance(b)
    b.series(sp.tanh(z), z, 4)
    b.define(SQUARE_A.symbol, VAR_A.symbol + MEAN_A.symbol**2, "second-moment")
    b.apply("zero-mean-inputs", lambda e: e.xreplace({MEAN_A.symbol: 0}), given={MEAN_A.symbol: 0})
    b.apply("linear-regime", lambda e: e.xreplace({VAR_A.symbol: z_before.symbol}),
            given={VAR_A.symbol: z_before.symbol})
    forward_recursion(b)
    recursion = b.substitute(SQUARE_A.symbol)
    forward = variance_condition(b, z_before.symbol, VAR_Z.symbol, recursion, "forward_var", "forward-condition")

    b.define(SLOPE_AT_ZERO.symbol, sp.Subs(sp.Derivative(sp.tanh(z), z), z, 0), "definition")
    b.apply("differentiate", sp.Subs.doit)
    b.define(SQUARE_SLOPE.symbol, SLOPE_AT_ZERO.symbol**2, "linear-regime")
    b.substitute(SLOPE_AT_ZERO.symbol)
    backward = variance_condition(b, VAR_DELTA.symbol, VAR_DELTA_PREVIOUS.symbol, backward_recursion(b),
                                  "backward_var", "backward-condition")

    b.equation(1 / VAR_W.symbol, (1 / forward + 1 / backward) / 2, "harmonic-mean")
    variance = b.solve(VAR_W.symbol)
    b.result("var")
    uniform_bound(b, variance)
    standard_deviation(b, variance, "normal_std")
    return b.build()


def _rectifier(name: str, slope: sp.Basic, extra: tuple[Quantity, ...], fan_out: bool) -> tuple[Builder, sp.Basic]:
    """The forward recursion of a ReLU-family layer, up to Var(W); returns the builder and Var(W)."""
    b = _recursion_builder(name, (VAR_Z_PREVIOUS, DENSITY, Z, SQUARE_SLOPE, *extra),
                           ("symmetric-pre-activations",))
    product_variance(b)
    moment = moment_against_density(b, SQUARE_A.symbol, sp.Piecewise((z, z > 0), (slope * z, True)))
    b.result("second_moment")
    forward_recursion(b)
    b.apply("substitute", lambda e: e.xreplace({SQUARE_A.symbol: moment}))
    variance = variance_condition(b, VAR_Z_PREVIOUS.symbol, VAR_Z.symbol, b.current, "var", "forward-condition")
    if fan_out:
        moment_against_density(b, SQUARE_SLOPE.symbol, sp.Piecewise((1, z > 0), (slope, True)))
        variance_condition(b, VAR_DELTA.symbol, VAR_DELTA_PREVIOUS.symbol, backward_recursion(b),
                           "var_fan_out", "backward-condition")
    return b, variance


def kaiming() -> Derivation:
    """He (ReLU, fan-in): E[ReLU(z)^2] = Var(z)/2, so Var(W) = 2/n_in; fan-out: 2/n_out."""
    b, variance = _rectifier("kaiming", sp.Integer(0), (), fan_out=True)
    standard_deviation(b, variance, "std")
    uniform_bound(b, variance)
    return b.build()


def prelu_init() -> Derivation:
    """PReLU/leaky ReLU with slope alpha: E[f(z)^2] = (1 + alpha^2)/2 Var(z), Var(W) = 2/((1 + alpha^2) n_in)."""
    b, variance = _rectifier("prelu-init", alpha, (ALPHA, GAIN), fan_out=False)
    std = standard_deviation(b, variance, "std")
    b.equation(std, GAIN.symbol / sp.sqrt(n_in), "gain-definition")
    b.solve(GAIN.symbol)
    b.result("gain")
    uniform_bound(b, variance)
    return b.build()


def lecun() -> Derivation:
    """LeCun (linear or SELU regime): E[a^2] = Var(z^(l-1)), so Var(W) = 1/n_in."""
    z_before = _positive("var_z_prev", r"\operatorname{Var}(z^{(l-1)})", text="Var(z[l-1])",
                         aliases=PREVIOUS_VARIANCE_NAMES)
    b = _recursion_builder("lecun", (z_before, VAR_A), ("zero-mean-inputs", "identity-regime"))
    product_variance(b)
    forward_recursion(b)
    b.apply("zero-mean-inputs", lambda e: e.xreplace({SQUARE_A.symbol: z_before.symbol}),
            given={SQUARE_A.symbol: z_before.symbol})
    variance = variance_condition(b, z_before.symbol, VAR_Z.symbol, b.current, "var", "forward-condition")
    standard_deviation(b, variance, "std")
    return b.build()


ENTRIES = (
    Entry("xavier", "initialization", xavier, ("forward_var", "backward_var", "var", "uniform_bound", "normal_std")),
    Entry("kaiming", "initialization", kaiming, ("second_moment", "var", "var_fan_out", "std", "uniform_bound")),
    Entry("prelu-init", "initialization", prelu_init, ("second_moment", "var", "std", "gain", "uniform_bound")),
    Entry("lecun", "initialization", lecun, ("var", "std")),
)
