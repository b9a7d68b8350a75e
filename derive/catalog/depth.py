"""Depth: what happens to gradients and variances through L layers.

``vanishing``: the slope of sigmoid is at most 1/4 (where its second derivative vanishes), so
the gradient through L sigmoid layers with |w| <= 1 is at most 4^{-L}; tanh's slope is at most
1, and below 1 away from 0; ReLU's is exactly 1 on active units. ``variance-recursion``: the
per-layer recursion of the initialization entries, unrolled into a product over the layers,
with the gain of each activation; every factor equal to 1 gives back the Xavier/LeCun,
Kaiming and PReLU results, shown equal to those entries' own targets.

The engine has no inequality: a bound is written as an equation for the maximum (the
supremum over the free pre-activations and over |w| <= 1), which is attained, so the
maximum is an exact value; only "the maximum of a product of independent factors is the
product of their maxima" is stated.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import POSITIVE, SIZE, Domain, Quantity
from ..operations import prefer_one_minus
from .activations import SIGMA, TANH, X, sigma, tanh, x
from .initialization import (
    ALPHA,
    ASSUMPTIONS,
    COMMON,
    DENSITY,
    MEAN_A,
    N_IN,
    SQUARE_A,
    UNITS,
    VAR_A,
    VAR_W,
    VAR_Z_PREVIOUS,
    ZERO_MEAN_WEIGHTS,
    Z,
    alpha,
    course_fraction,
    forward_recursion,
    moment_against_density,
    n_in,
    n_out,
    z,
)
from .registry import Entry, get
from .shown import over, times

L = sp.Symbol("L", integer=True, positive=True)
l = sp.Symbol("l", integer=True, positive=True)  # noqa: E741 - the layer index of the course
DEPTH = Quantity("L", L, "L", SIZE, aliases=("D",))
LAYERS = {L: range(2, 6)}


def _named(key: str, latex: str, text: str, domain: Domain | None = None, meaning: sp.Basic | None = None,
           **assumptions) -> Quantity:
    """A quantity named by a plain symbol (real unless other assumptions are given)."""
    return Quantity(key, sp.Symbol(key, **(assumptions or {"real": True})), latex, domain, meaning=meaning, text=text)


def _family(key: str, latex: str, text: str, label: str = "", **assumptions) -> Quantity:
    """An indexed family (z_l, one per layer); ``label`` is its name in plain text."""
    return Quantity(key, sp.IndexedBase(label or key, **(assumptions or {"real": True})), latex, text=text)


# vanishing: a chain a_l = f(z_l), z_l = w_l a_{l-1} + b_l, one unit per layer.
f = sp.Function("f")
ACTIVATION = Quantity("f", f, "f", aliases=(r"\sigma", r"\tanh", r"\theta"))
PRE = _family("z", "z", "z")
ACTIVE = _family("z", "z", "z", positive=True)
WEIGHT = _family("w", "w", "w")
GRADIENT = _named("grad", r"\frac{\partial a_L}{\partial a_0}", "da_L/da_0")
UNIT_BOUND = Domain("real", low=Fraction(0), high=Fraction(1), high_open=False, latex="(0, 1]")
WEIGHT_MAX = _named("w_max", r"\max |w_l|", "max |w_l|", UNIT_BOUND, positive=True)
SIGMOID_MAX = _named("sigmoid_max", r"\max_x \sigma'(x)", "max sigma'(x)")
TANH_MAX = _named("tanh_max", r"\max_x \tanh'(x)", "max tanh'(x)")
SIGMOID_CHAIN = _named("sigmoid_chain", r"\max \left|\frac{\partial a_L}{\partial a_0}\right|_{f = \sigma}",
                       "max |da_L/da_0| (sigmoid)")
TANH_CHAIN = _named("tanh_chain", r"\max \left|\frac{\partial a_L}{\partial a_0}\right|_{f = \tanh}",
                    "max |da_L/da_0| (tanh)")


def _relu() -> Quantity:
    """The ReLU function as the relu entry defines it."""
    return next(q for q in get("relu").quantities if q.key == "relu")


def steepest(b: Builder, function: sp.FunctionClass, entry: Derivation, maximum: Quantity, name: str) -> sp.Basic:
    """Where f' is largest (f''(x) = 0, solved for x) and how large: f'(argmax), from the entry's d1, d2."""
    b.equation(sp.Derivative(function(x), (x, 2)), 0, "stationary-point")
    b.implies("substitute-second-derivative", entry.target("d2").display, sp.S.Zero)  # as that entry shows it
    written_out = prefer_one_minus(sp.factor(sp.simplify(entry.explicit(entry.target("d2").rhs))))
    written_out = written_out.func(*written_out.args)  # evaluated, so that it survives pickling unchanged
    b.implies(f"write-out-{name}", written_out, sp.S.Zero)
    argmax = b.solve(x)
    b.result(f"{name}_argmax")
    with sp.evaluate(False):  # the entry's display form at the argmax, its factors kept in order
        at_argmax = entry.target("d1").display.xreplace({x: argmax})
    b.define(maximum.symbol, at_argmax, "maximum-at-stationary-point")
    value = b.apply(f"{name}-at-zero", entry.explicit)
    b.result(f"{name}_max")
    return value


def chain_maximum(b: Builder, chain: Quantity, maximum: Quantity, name: str) -> sp.Basic:
    """max |prod f'(z_l) w_l| = prod (max f') (max |w_l|), then |w_l| <= 1 and the product evaluated."""
    b.define(chain.symbol, sp.Product(maximum.symbol * WEIGHT_MAX.symbol, (l, 1, L)), "maximise-each-factor")
    b.substitute(maximum.symbol, rule="substitute-maximum")
    b.apply("weights-at-most-one", lambda e: e.xreplace({WEIGHT_MAX.symbol: 1}), given={WEIGHT_MAX.symbol: 1})
    product = b.apply("evaluate-product", sp.Product.doit)
    if sp.simplify(product) != product:  # (1/4)^L = 4^(-L)
        b.apply("simplify", sp.simplify)
    return b.result(f"{name}_chain").rhs


def vanishing() -> Derivation:
    """Sigmoid' <= 1/4 (at 0), so the gradient through L layers with |w| <= 1 is at most 4^{-L};
    tanh' <= 1, below 1 away from 0; ReLU' = 1 on active units, so their product is exactly 1."""
    relu = _relu()
    sigmoid, tanh_entry = get("sigmoid"), get("tanh")
    b = Builder("vanishing", "depth",
                (X, SIGMA, TANH, relu, ACTIVATION, DEPTH, PRE, ACTIVE, WEIGHT, GRADIENT, WEIGHT_MAX,
                 SIGMOID_MAX, TANH_MAX, SIGMOID_CHAIN, TANH_CHAIN),
                assumptions=("scalar-chain", "weights-at-most-one"))
    z_l, w_l = PRE.symbol[l], WEIGHT.symbol[l]
    b.define(GRADIENT.symbol, sp.Product(sp.Derivative(f(z_l), z_l) * w_l, (l, 1, L)), "chain-rule-layers")

    steepest(b, sigma, sigmoid, SIGMOID_MAX, "sigmoid")
    chain_maximum(b, SIGMOID_CHAIN, SIGMOID_MAX, "sigmoid")

    steepest(b, tanh, tanh_entry, TANH_MAX, "tanh")
    b.define(1 - sp.Derivative(tanh(x), x), sp.expand(1 - tanh_entry.target("d1").rhs), "tanh-below-one")
    chain_maximum(b, TANH_CHAIN, TANH_MAX, "tanh")

    active = ACTIVE.symbol[l]
    slope = get("relu").target("d1").rhs.xreplace({x: active})
    b.define(sp.Product(sp.Derivative(relu.symbol(active), active), (l, 1, L)), sp.Product(slope, (l, 1, L)),
             "active-units")
    b.apply("relu-no-shrinking", sp.Product.doit)
    b.result("relu_chain")
    return b.build()


# variance-recursion: the same symbols as the initialization entries, written per layer.
LAYER_N = Quantity("n_in", n_in, "n_{l-1}", SIZE, aliases=("n_{in}", *N_IN.aliases))
LAYER_VAR_W = Quantity("var_w", VAR_W.symbol, r"\operatorname{Var}(W^{(l)})", VAR_W.domain, text="Var(W)",
                       aliases=(r"\operatorname{Var}(W)", *VAR_W.aliases))
GAIN = _named("g", "g", "g", POSITIVE, positive=True)
VAR_Z_LAYER = _family("var_z_layer", r"\operatorname{Var}(z)", "Var(z)", label="Var(z)", positive=True)
N_LAYER = _family("n_layer", "n", "n", label="n", positive=True)
VAR_W_LAYER = _family("var_w_layer", r"\operatorname{Var}(W)", "Var(W)", label="Var(W)", positive=True)
SQUARE_PRELU = _named("square_prelu", r"\operatorname{E}[\operatorname{PReLU}(z)^2]", "E[PReLU(z)^2]",
                      positive=True)
GAIN_IDENTITY = _named("g_identity", r"g_{\mathrm{id}}", "g_id", positive=True)
GAIN_RELU = _named("g_relu", r"g_{\mathrm{ReLU}}", "g_ReLU", positive=True)
GAIN_PRELU = _named("g_prelu", r"g_{\mathrm{PReLU}}", "g_PReLU", positive=True)
DEPTH_ASSUMPTIONS = ("zero-mean-inputs", "tanh-linear-regime", "symmetric-pre-activations", "same-gain")


def _entry_result(name: str, target: str, label: str) -> Quantity:
    """A catalog entry's result as a quantity of its own (Var(W) of Kaiming), to show a condition equal to it."""
    key = f"var_{name}_{target}".replace("-", "_")
    return _named(key, rf"\operatorname{{Var}}(W)_{{\text{{{label}}}}}", f"Var(W)_{label.replace(' ', '')}",
                  meaning=get(name).target(target).rhs, positive=True)


def _gain(b: Builder, gain: Quantity, moment: sp.Symbol, target: str, shown: sp.Basic | None = None) -> sp.Basic:
    """g = E[f(z)^2] / Var(z^(l-1)), with the second moment derived just before (shown ``shown``)."""
    b.define(gain.symbol, over(moment, VAR_Z_PREVIOUS.symbol), "gain-ratio")
    found = b.verifier.facts[moment]
    ratio = b.apply("substitute-second-moment-found", lambda e: e.xreplace({moment: found}))
    if shown is not None:
        b.show(shown)
    b.result(target)
    return ratio


def _condition(b: Builder, gain: Quantity, shown: sp.Basic, target: str,
               matches: tuple[tuple[str, Quantity, dict | None], ...]) -> None:
    """Every factor n_{l-1} Var(W^(l)) g equal to 1 (with the gain's value ``shown`` as the course
    writes it), solved for Var(W), then shown equal to the entries' results."""
    b.equation(times(n_in, VAR_W.symbol, gain.symbol), 1, "unit-factor")
    b.implies("substitute-gain", times(n_in, VAR_W.symbol) if shown == 1 else times(n_in, VAR_W.symbol, shown),
              sp.S.One)
    b.show(course_fraction(b.solve(VAR_W.symbol)))
    b.result(target)
    for rule, result, given in matches:
        b.implies(rule, VAR_W.symbol, result.symbol, given)


def variance_recursion() -> Derivation:
    """Var(z^(l)) = n_{l-1} Var(W^(l)) E[a^2], unrolled over L layers with the gain g of the activation;
    each factor equal to 1 gives Xavier (forward) and LeCun, Kaiming, and PReLU initialization."""
    xavier_forward = _entry_result("xavier", "forward_var", "Xavier, forward")
    xavier = _entry_result("xavier", "var", "Xavier")
    lecun = _entry_result("lecun", "var", "LeCun")
    kaiming = _entry_result("kaiming", "var", "Kaiming")
    prelu = _entry_result("prelu-init", "var", "PReLU")
    common = tuple(q for q in COMMON if q.key not in ("n_in", "var_w"))
    b = Builder("variance-recursion", "depth",
                (LAYER_N, LAYER_VAR_W, *common, VAR_Z_PREVIOUS, VAR_A, DENSITY, Z, ALPHA, DEPTH, GAIN,
                 VAR_Z_LAYER, N_LAYER, VAR_W_LAYER, SQUARE_PRELU, GAIN_IDENTITY, GAIN_RELU,
                 GAIN_PRELU, xavier_forward, xavier, lecun, kaiming, prelu, *UNITS),
                assumptions=ASSUMPTIONS + DEPTH_ASSUMPTIONS, relations=ZERO_MEAN_WEIGHTS)
    previous, g = VAR_Z_PREVIOUS.symbol, GAIN.symbol
    forward_recursion(b)  # shown n_{l-1} Var(W^(l)) E[(a^(l-1))^2], as the question writes it
    b.result("recursion")
    layer = b.apply("gain-of-activation", lambda e: e.xreplace({SQUARE_A.symbol: g * previous}),
                    given={SQUARE_A.symbol: g * previous})
    b.show(times(n_in, VAR_W.symbol, g, previous))

    variance, width, weights = VAR_Z_LAYER.symbol, N_LAYER.symbol, VAR_W_LAYER.symbol
    step = layer.xreplace({n_in: width[l - 1], VAR_W.symbol: weights[l], previous: variance[l - 1]})
    b.equation(variance[L], times(variance[1], sp.Product(variance[l] / variance[l - 1], (l, 2, L))),
               "telescoping-product")
    b.implies("recursion-every-layer", variance[L],
              times(variance[1], sp.Product(times(width[l - 1], weights[l], g), (l, 2, L))),
              given={variance[l]: step})
    # From here on Var(z)_l means the recursion itself, so the product is checked against the recursion
    # unrolled layer by layer at L = 2..5.
    b.learn(variance, sp.Lambda(l, sp.Piecewise((variance[1], sp.Eq(l, 1)), (step, True))))
    b.result("depth_product", entrywise=LAYERS)

    b.series(sp.tanh(z), z, 5)
    b.define(SQUARE_A.symbol, VAR_A.symbol + MEAN_A.symbol**2, "second-moment")
    b.apply("zero-mean-inputs", lambda e: e.xreplace({MEAN_A.symbol: 0}), given={MEAN_A.symbol: 0})
    b.apply("linear-regime", lambda e: e.xreplace({VAR_A.symbol: previous}),
            given={VAR_A.symbol: previous})
    identity = _gain(b, GAIN_IDENTITY, SQUARE_A.symbol, "gain_identity")
    moment_against_density(b, SQUARE_PRELU.symbol, alpha)
    leaky_shown = over(1 + alpha**2, 2)
    _gain(b, GAIN_PRELU, SQUARE_PRELU.symbol, "gain_prelu", leaky_shown)
    b.define(GAIN_RELU.symbol, sp.Subs(leaky_shown, alpha, 0), "relu-is-prelu")
    relu = b.apply("evaluate", sp.Subs.doit)
    b.result("gain_relu")

    _condition(b, GAIN_IDENTITY, identity, "xavier_condition",
               (("xavier-forward", xavier_forward, None), ("lecun-result", lecun, None),
                ("xavier-equal-widths", xavier, {n_out: n_in})))
    _condition(b, GAIN_RELU, relu, "kaiming_condition", (("kaiming-result", kaiming, None),))
    _condition(b, GAIN_PRELU, leaky_shown, "prelu_condition", (("prelu-result", prelu, None),))
    return b.build()


ENTRIES = (
    Entry("vanishing", "depth", vanishing,
          ("sigmoid_argmax", "sigmoid_max", "sigmoid_chain", "tanh_argmax", "tanh_max", "tanh_chain", "relu_chain")),
    Entry("variance-recursion", "depth", variance_recursion,
          ("recursion", "depth_product", "gain_identity", "gain_prelu", "gain_relu",
           "xavier_condition", "kaiming_condition", "prelu_condition")),
)
