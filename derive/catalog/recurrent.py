"""Backpropagation through time: a recurrent unit unrolled over T steps.

``bptt`` (one hidden unit): h_t = f(a_t), a_t = w h_{t-1} + u x_t, the loss L = l(h_T) at the last
step. By the chain rule along the unrolled chain, dL/dh_k = dL/dh_T prod_{t=k+1}^{T} w f'(a_t); the
weight w is shared by every step, so dL/dw sums its immediate effect at each step,
dL/dw = sum_{k=1}^{T} dL/dh_k f'(a_k) h_{k-1}.

``bptt-vector`` (n hidden units): a_t = W h_{t-1} + U x_t, so dh_t/dh_{t-1} = diag(f'(a_t)) W and
dh_T/dh_k is the product of T - k such Jacobians. With gamma = sup |f'| (1 for tanh, 1/4 for the
sigmoid) and a submultiplicative norm, ||dh_T/dh_k|| <= (gamma ||W||)^{T-k}: below 1 the gradient
vanishes geometrically in T - k; above 1 it may explode.

The engine verifies each algebraic step; the chain rule through time itself is stated, and every
result is then checked entry by entry against the unrolled graph at T = 2..4 (every k, the hidden
size n = 2 for the vector form), differentiated by SymPy with f = tanh and f = sigmoid and the loss
l(h) = (h - y)^2/2, at random points to 30 digits (:func:`check_unrolled`).
"""

from __future__ import annotations

import dataclasses
import random

import sympy as sp

from ..engine import Builder, Derivation
from ..errors import VerificationError
from ..notation import POSITIVE, REAL, SIZE, SMOOTH_FUNCTION, Quantity, index_domain
from .registry import Entry, get
from .shown import times

T = sp.Symbol("T", integer=True, positive=True)
k, t = sp.Symbol("k", integer=True, positive=True), sp.Symbol("t", integer=True, positive=True)
w, u = sp.Symbol("w", real=True), sp.Symbol("u", real=True)
x, h, a = (sp.IndexedBase(name, real=True) for name in "xha")
f = sp.Function("f")
gamma = sp.Symbol("gamma", positive=True)
norm_w = sp.Symbol("norm_W", positive=True)
#: The sizes every result is checked at, entry by entry, on the unrolled graph.
STEPS = (2, 3, 4)
HIDDEN = 2


def _named(key: str, latex: str, text: str, **assumptions) -> Quantity:
    """A quantity written as a plain symbol (a gradient, a Jacobian): a real number unless a line
    defines it."""
    return Quantity(key, sp.Symbol(key, **(assumptions or {"real": True})), latex, REAL, text=text)


STEP_COUNT = Quantity("T", T, "T", SIZE)
K = Quantity("k", k, "k", index_domain(T))
TIME = Quantity("t", t, "t", index_domain(T))
W_SCALAR = Quantity("w", w, "w", REAL)
U_SCALAR = Quantity("u", u, "u", REAL)
INPUT, HIDDEN_STATE, PRE = Quantity("x", x, "x"), Quantity("h", h, "h"), Quantity("a", a, "a")
ACTIVATION = Quantity("f", f, "f", SMOOTH_FUNCTION, aliases=(r"\sigma", r"\tanh"))
LOCAL = _named("dh_t/dh_t-1", r"\frac{\partial h_t}{\partial h_{t-1}}", "dh_t/dh_(t-1)")
PRE_LOCAL = _named("da_t/dh_t-1", r"\frac{\partial a_t}{\partial h_{t-1}}", "da_t/dh_(t-1)")
DL_DHK = _named("dL/dh_k", r"\frac{\partial L}{\partial h_k}", "dL/dh_k")
DL_DHT = _named("dL/dh_T", r"\frac{\partial L}{\partial h_T}", "dL/dh_T")
DL_DW = _named("dL/dw", r"\frac{\partial L}{\partial w}", "dL/dw")


def slope(at: sp.Basic) -> sp.Basic:
    """f'(at), the activation's slope at a pre-activation."""
    return sp.Derivative(f(at), at)


def _after(start: sp.Basic, body: sp.Basic) -> sp.Product:
    """prod_{t=start+1}^{T} body, its lower bound written as the course does (k + 1, not 1 + k)."""
    return sp.Product(body, (t, sp.Add(start, 1, evaluate=False), T))


def bptt() -> Derivation:
    """Scalar RNN h_t = f(w h_{t-1} + u x_t), loss at step T: dL/dh_k = dL/dh_T prod w f'(a_t),
    dL/dw = sum_k dL/dh_k f'(a_k) h_{k-1}."""
    b = Builder("bptt", "recurrent", (STEP_COUNT, K, TIME, W_SCALAR, U_SCALAR, INPUT, HIDDEN_STATE, PRE,
                                      ACTIVATION, LOCAL, PRE_LOCAL, DL_DHK, DL_DHT, DL_DW),
                assumptions=("rnn-scalar", "loss-at-last-step"))
    b.define(PRE_LOCAL.symbol, sp.Derivative(w * h[t - 1] + u * x[t], h[t - 1]), "differentiate-pre-activation")
    b.apply("differentiate", sp.Derivative.doit)
    b.define(LOCAL.symbol, times(slope(a[t]), PRE_LOCAL.symbol), "chain-rule")
    b.substitute(PRE_LOCAL.symbol)
    b.show(times(w, slope(a[t])))
    b.result("local_jacobian")
    b.define(DL_DHK.symbol, times(DL_DHT.symbol, sp.Product(LOCAL.symbol, (t, k + 1, T))), "chain-rule-through-time")
    b.show(times(DL_DHT.symbol, _after(k, LOCAL.symbol)))
    b.substitute(LOCAL.symbol, rule="substitute-local-jacobian")
    b.show(times(DL_DHT.symbol, _after(k, times(w, slope(a[t])))))
    _checked(b, "dl_dh_k", _scalar_dl_dh)
    # summed over the steps: a bound index of its own (k itself is the free step of dl_dh_k)
    each = sp.Dummy("k", integer=True, positive=True)
    b.define(DL_DW.symbol, sp.Sum(times(DL_DHK.symbol, slope(a[each]), h[each - 1]), (each, 1, T)), "shared-weight-sum")
    at_each = {DL_DHK.symbol: b.targets["dl_dh_k"].rhs.xreplace({k: each})}
    b.apply("substitute-dl-dh", lambda e: e.xreplace(at_each), given=at_each)
    b.show(sp.Sum(times(DL_DHT.symbol, slope(a[each]), h[each - 1], _after(each, times(w, slope(a[t])))), (each, 1, T)))
    _checked(b, "dl_dw_through_time", _scalar_dl_dw)
    return b.build()


# The vector form: noncommutative symbols keep the order of the matrix products as written.
D_T = sp.Symbol(r"D_t", commutative=False)
W_MATRIX = sp.Symbol("W", commutative=False)
JACOBIAN = _named("dh_T/dh_k", r"\frac{\partial \mathbf{h}_T}{\partial \mathbf{h}_k}", "dh_T/dh_k")
VECTOR_LOCAL = _named("dh_t/dh_t-1 (vector)", r"\frac{\partial \mathbf{h}_t}{\partial \mathbf{h}_{t-1}}",
                      "dh_t/dh_(t-1)")
DIAG = Quantity("D_t", D_T, r"\operatorname{diag}(f'(\mathbf{a}_t))", text="diag(f'(a_t))")
MATRIX = Quantity("W", W_MATRIX, "W")
GAMMA = Quantity("gamma", gamma, r"\gamma", POSITIVE, text="gamma")
NORM_W = Quantity("norm_W", norm_w, r"\lVert W\rVert", POSITIVE, text="||W||")
BOUND = _named("bound", r"\beta_{T-k}", "beta_(T-k)", positive=True)
BOUND_TANH = _named("bound_tanh", r"\beta_{T-k}^{\tanh}", "beta_(T-k) (tanh)", positive=True)
BOUND_SIGMOID = _named("bound_sigmoid", r"\beta_{T-k}^{\sigma}", "beta_(T-k) (sigmoid)", positive=True)


def bptt_vector() -> Derivation:
    """Vector RNN: dh_T/dh_k = prod_{t=T}^{k+1} diag(f'(a_t)) W, and ||dh_T/dh_k|| <= (gamma ||W||)^{T-k}:
    the bound beta = prod (gamma ||W||) is computed; it vanishes or explodes geometrically in T - k."""
    b = Builder("bptt-vector", "recurrent",
                (STEP_COUNT, K, TIME, ACTIVATION, DIAG, MATRIX, GAMMA, NORM_W, JACOBIAN, VECTOR_LOCAL,
                 BOUND, BOUND_TANH, BOUND_SIGMOID), assumptions=("rnn-vector", "loss-at-last-step", "slope-bound"))
    b.define(VECTOR_LOCAL.symbol, D_T * W_MATRIX, "chain-rule-vector")
    b.define(JACOBIAN.symbol, sp.Product(D_T * W_MATRIX, (t, k + 1, T)), "chain-rule-through-time-vector")
    b.show(_after(k, D_T * W_MATRIX))
    _checked(b, "jacobian_product", _vector_jacobian)
    b.define(BOUND.symbol, sp.Product(gamma * norm_w, (t, k + 1, T)), "submultiplicative-norm")
    b.show(_after(k, gamma * norm_w))
    b.apply("evaluate-product", sp.Product.doit)
    b.result("bound")
    slopes = get("vanishing")  # the largest slopes, derived there: tanh' <= 1, sigma' <= 1/4
    for name in ("tanh", "sigmoid"):
        largest = slopes.target(f"{name}_max").rhs
        b.define((BOUND_TANH if name == "tanh" else BOUND_SIGMOID).symbol, BOUND.symbol, f"bound-for-{name}")
        b.substitute(BOUND.symbol)
        b.apply(f"{name}-slope-bound", lambda e, v=largest: e.xreplace({gamma: v}), given={gamma: largest})
        b.result(f"bound_{name}")
    return b.build()


# --- the entrywise checks on the unrolled graph -------------------------------------------------

#: The activations the general f is checked with: its value and its slope.
_CHECKED = {"tanh": (sp.tanh, lambda v: 1 - sp.tanh(v) ** 2),
            "sigmoid": (lambda v: 1 / (1 + sp.exp(-v)), lambda v: sp.exp(-v) / (1 + sp.exp(-v)) ** 2)}


def _checked(b: Builder, name: str, check) -> None:
    """Name the line's result ``name``, run ``check`` on it at every size in STEPS and record the
    sizes on the target (as Builder.result's ``entrywise`` does for results its verifier can
    unfold; a recurrence it cannot)."""
    target = b.result(name)
    for steps in STEPS:
        check(target.rhs, steps)
    b.targets[name] = dataclasses.replace(target, entrywise=(("T", STEPS),))


def _fail(name: str, steps: int, detail: str) -> None:
    raise VerificationError(f"{name}: fails on the unrolled graph at T = {steps}: {detail}")


def _concrete(expr: sp.Basic, steps: int, values: dict, fprime, pre: dict) -> sp.Basic:
    """A result at a concrete T: sums and products written out, f'(a_t) the slope at the unrolled a_t."""
    expr = expr.xreplace({T: steps}).doit()
    expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and e.expr.func == f,
                        lambda e: fprime(e.variables[0]))
    return expr.xreplace(pre).xreplace(values)


def _unrolled(steps: int, start: int, first: sp.Basic, values: dict, function) -> tuple[dict, dict]:
    """h_start = first, then h_t = f(w h_{t-1} + u x_t) up to T; the pre-activations a_t."""
    states, pre = {h[start]: first}, {}
    for step in range(start + 1, steps + 1):
        pre[a[step]] = w * states[h[step - 1]] + u * x[step]
        states[h[step]] = function(pre[a[step]])
    return states, pre


def _point(steps: int, rng: random.Random) -> dict:
    """Random rational values of w, u, the inputs, h_0 and the label."""
    value = lambda: sp.Rational(rng.randint(-9, 9), 7)
    return {w: value(), u: value(), **{x[i]: value() for i in range(1, steps + 1)}, h[0]: value(),
            sp.Symbol("y"): value()}


def _agree(left: sp.Basic, right: sp.Basic) -> bool:
    """Whether two values at the same point (40-digit floats put in) agree to 30 digits (a side
    left with a symbol, a step the unrolled graph does not have, does not agree)."""
    difference, scale = sp.N(left - right, 40), sp.N(left, 40)
    return bool(difference.is_number and scale.is_number and abs(difference) < sp.Float(10) ** -30 * max(1, abs(scale)))


def _floats(point: dict) -> dict:
    """A point's rational values as 40-digit floats: SymPy then evaluates as it substitutes, far
    faster than evaluating the exact tree afterwards."""
    return {key: sp.Float(value, 40) for key, value in point.items()}


def _scalar_dl_dh(rhs: sp.Basic, steps: int) -> None:
    """dL/dh_k against SymPy's derivative of l(h_T(h_k)) = (h_T - y)^2/2, every k."""
    rng, y, hk = random.Random(steps), sp.Symbol("y"), sp.Symbol("h_k", real=True)
    for name, (function, fprime) in _CHECKED.items():
        for kk in range(1, steps + 1):
            point = _point(steps, rng)
            states, pre = _unrolled(steps, kk, hk, point, function)
            loss = (states[h[steps]] - y) ** 2 / 2
            expected = sp.diff(loss, hk)
            got = _concrete(rhs.xreplace({k: kk}), steps, {}, fprime, pre)
            got = got.xreplace({DL_DHT.symbol: states[h[steps]] - y})
            at = _floats({**point, hk: sp.Rational(rng.randint(-9, 9), 5)})
            if not _agree(expected.xreplace(at), got.xreplace(at)):
                _fail("bptt dl_dh", steps, f"f = {name}, k = {kk}")


def _scalar_dl_dw(rhs: sp.Basic, steps: int) -> None:
    """dL/dw against SymPy's derivative in w of the whole unrolled loss (w in every step)."""
    rng, y = random.Random(steps + 10), sp.Symbol("y")
    for name, (function, fprime) in _CHECKED.items():
        point = _point(steps, rng)
        states, pre = _unrolled(steps, 0, h[0], point, function)
        expected = sp.diff((states[h[steps]] - y) ** 2 / 2, w)
        got = _concrete(rhs, steps, {}, fprime, pre)
        got = got.xreplace({DL_DHT.symbol: states[h[steps]] - y}).xreplace(
            {h[i]: states[h[i]] for i in range(1, steps + 1)})
        at = _floats(point)
        if not _agree(expected.xreplace(at), got.xreplace(at)):
            _fail("bptt dl_dw", steps, f"f = {name}")


def _vector_jacobian(rhs: sp.Basic, steps: int) -> None:
    """dh_T/dh_k (n = 2) against SymPy's Jacobian of the unrolled vector recurrence, every k: the
    product's factors taken from the result in order, t = T first (leftmost), down to k + 1."""
    rng = random.Random(steps + 20)
    value = lambda: sp.Rational(rng.randint(-9, 9), 7)
    for name, (function, fprime) in _CHECKED.items():
        weights = sp.Matrix(HIDDEN, HIDDEN, lambda *_: value())
        start = sp.Matrix(sp.symbols(f"s1:{HIDDEN + 1}", real=True))
        for kk in range(1, steps + 1):
            inputs = {i: sp.Matrix(HIDDEN, 1, lambda *_: value()) for i in range(kk + 1, steps + 1)}
            state, pres = start, {}
            for i in range(kk + 1, steps + 1):
                pres[i] = weights * state + inputs[i]
                state = pres[i].applyfunc(function)
            expected = state.jacobian(start)
            factors = _factors(rhs, kk, steps)
            got = sp.eye(HIDDEN)
            for i, factor in factors:  # the factors as the result writes them, left to right
                got = got * _matrix_of(factor, sp.diag(*pres[i].applyfunc(fprime)), weights)
            at = _floats({s: sp.Rational(rng.randint(-9, 9), 5) for s in start})
            if not all(_agree(e.xreplace(at), g.xreplace(at)) for e, g in zip(expected, got, strict=True)):
                _fail("bptt-vector jacobian", steps, f"f = {name}, k = {kk}")


def _factors(rhs: sp.Basic, kk: int, steps: int) -> list[tuple[int, sp.Basic]]:
    """The factors of prod_{t=k+1}^{T} (noncommutative) in the order the product is applied to a
    vector from the right: t = T leftmost, t = k + 1 rightmost (dh_T/dh_k = J_T ... J_{k+1})."""
    product = rhs
    if not isinstance(product, sp.Product):
        raise VerificationError(f"bptt-vector: the Jacobian {product} is not a product over t")
    body, (index, low, high) = product.function, product.limits[0]
    low, high = int(low.xreplace({k: kk})), int(high.xreplace({T: steps}))
    return [(i, body.xreplace({index: i})) for i in range(high, low - 1, -1)]


def _matrix_of(factor: sp.Basic, diagonal: sp.Matrix, weights: sp.Matrix) -> sp.Matrix:
    """A noncommutative product of D_t and W as the concrete matrix it stands for."""
    result = sp.eye(HIDDEN)
    for part in sp.Mul.make_args(factor):
        result = result * {D_T: diagonal, W_MATRIX: weights}[part]
    return result


ENTRIES = (
    Entry("bptt", "recurrent", bptt, ("local_jacobian", "dl_dh_k", "dl_dw_through_time")),
    Entry("bptt-vector", "recurrent", bptt_vector, ("jacobian_product", "bound", "bound_tanh", "bound_sigmoid")),
)
