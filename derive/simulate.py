"""A Monte Carlo of the variance recursion: a deep fully-connected network, forward and backward.

The network has no biases. For layers l = 1..depth, ``z_l = a_{l-1} W_l^T`` (each ``W_l`` is
width x width, ``a_0 = x``) and ``a_l = f(z_l)``; the loss reads the last pre-activation out
through a fixed vector of random signs r in {-1, +1}^width::

    loss = sum over the rows b of the batch of  r . z_depth[b]

so ``dL/dz_depth = r`` for every row. A plain sum of the outputs would not do: its gradient is
not zero-mean, and it makes the backward second moment grow by itself. Per layer, the forward
variance of ``z_l`` (over the batch and the units, population variance) and the backward second
moment ``mean((dL/dz_l)^2)`` (over the batch and the units, from a hand-written backward pass)
are compared with the mean-field recursion, whose Var(W) and activation come from the catalog.

Random draws, in this order, from ``numpy.random.default_rng(seed)``: the weights
``W_1..W_depth`` (``standard_normal((width, width)) * sqrt(Var(W))`` each), the readout
``r = 2 * integers(0, 2, width) - 1``, then the inputs ``x``, ``standard_normal((rows, width))``
chunk by chunk (the same numbers as one ``(batch, width)`` draw). All in float64.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from . import catalog, limits
from .errors import UsageError
from .params import parse_number

ACTIVATIONS = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid", "leaky_relu": "leaky-relu", "linear": "leaky-relu"}
INITS = {"xavier": "xavier", "kaiming": "kaiming", "lecun": "lecun", "prelu": "prelu-init"}
DEFAULT_LEAK = sp.Rational(1, 100)
MAX_DEPTH, MAX_WIDTH, MAX_BATCH = (limits.value(f"simulate.{key}") for key in ("depth", "width", "batch"))
CHUNK_VALUES, MAX_CHUNK_ROWS = 2**22, 1024
TAIL = 10  # the Gaussian expectations integrate over +-10 standard deviations (tails below 1e-22)


@dataclass(frozen=True)
class Config:
    """One simulation: activation, initialization, sizes, seed (checked by :func:`parse_config`)."""

    act: str                    # tanh, relu, sigmoid, leaky_relu, linear
    slope: sp.Rational | None   # leaky_relu's negative slope (1 for linear)
    init: str                   # xavier, kaiming, lecun, prelu, normal
    init_value: sp.Rational | None  # prelu's slope or normal's standard deviation
    depth: int
    width: int
    batch: int
    seed: int
    definition: sp.Basic | None = None  # f(z) of any other activation (derive init's names, 'f(z) = ...')

    @property
    def act_name(self) -> str:
        """The activation as written canonically, ``leaky_relu:0.01``."""
        return f"{self.act}:{float(self.slope)!r}" if self.act == "leaky_relu" else self.act

    @property
    def init_name(self) -> str:
        """The initialization as written canonically, ``prelu:0.01`` or ``normal:0.05``."""
        return self.init if self.init_value is None else f"{self.init}:{float(self.init_value)!r}"


def _parameter(text: str, what: str) -> sp.Rational:
    try:
        return parse_number(text)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"{what}: '{text}' is not a number") from None


def _count(value, option: str, low: int, high: int, where: str, limit: str | None = None) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            shown = value if len(value) <= 40 else value[:40] + "..."
            raise UsageError(f"{where}{option} '{shown}' is not an integer") from None
    if limit is not None and isinstance(value, int) and not isinstance(value, bool) and value > high:
        limits.check(limit, value, where.rstrip(".") if where else "", option)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{where}{option} must be an integer in [{low}, {high}], not {value!r}")
    return value


def parse_config(act: str, init: str, depth=30, width=512, batch=1024, seed=0, where: str = "") -> Config:
    """Check a simulation's options; ``where`` prefixes errors (``spec.toml: problem[3].simulate.``).

    Raises:
        UsageError: an unknown activation or initialization, a slope outside [0, 1), a
            standard deviation not positive, a size not a positive integer or too large.
    """
    prefix = f"{where}act" if where else "--act"
    kind, _, text = str(act).partition(":")
    definition = None
    if kind not in ACTIVATIONS:
        definition, kind, text = any_activation(str(act), prefix), str(act), ""
    slope = {"leaky_relu": DEFAULT_LEAK, "linear": sp.Integer(1)}.get(kind)
    if definition is None and (text or (kind != "leaky_relu" and ":" in str(act))):
        if kind != "leaky_relu":
            raise UsageError(f"{prefix}: '{act}': only leaky_relu takes a slope")
        slope = _parameter(text, f"{prefix} {act}")
        if not 0 <= slope < 1:
            raise UsageError(f"{prefix} {act}: the slope A must be in [0, 1)")
    prefix = f"{where}init" if where else "--init"
    name, _, text = str(init).partition(":")
    if name not in (*INITS, "normal"):
        raise UsageError(f"{prefix}: unknown initialization '{init}'; choose one of xavier, kaiming, lecun, "
                         "prelu[:A], normal:S")
    value = _parameter(text, f"{prefix} {init}") if text else None
    if name == "normal" and (value is None or value <= 0):
        raise UsageError(f"{prefix} {init}: give a positive standard deviation, normal:S")
    if name == "prelu":
        value = value if value is not None else slope if kind == "leaky_relu" else None
        if value is None or not 0 <= value < 1:
            raise UsageError(f"{prefix} {init}: prelu needs a slope A in [0, 1): --init prelu:A or --act leaky_relu:A")
    elif name != "normal" and text:
        raise UsageError(f"{prefix}: '{init}': only prelu and normal take a value")
    flag = "" if where else "--"
    depth = _count(depth, f"{flag}depth", 1, MAX_DEPTH, where, "simulate.depth")
    width = _count(width, f"{flag}width", 1, MAX_WIDTH, where, "simulate.width")
    batch = _count(batch, f"{flag}batch", 1, MAX_BATCH, where, "simulate.batch")
    seed = _count(seed, f"{flag}seed", 0, 2**63 - 1, where)
    limits.check("simulate.weights", depth * width * width, f"{where}{flag}depth {depth} and {flag}width {width}",
                 "weights (depth x width^2), too many to allocate in 1 GiB of float64")
    limits.check("simulate.inputs", batch * width, f"{where}{flag}batch {batch} and {flag}width {width}",
                 "input values (batch x width)")
    limits.check("simulate.work", batch * depth * width * width,
                 f"{where}{flag}batch {batch}, {flag}depth {depth} and {flag}width {width}",
                 "multiply-accumulates of the forward pass (batch x depth x width^2)")
    return Config(kind, slope, name, value, depth, width, batch, seed, definition)


def any_activation(act: str, prefix: str) -> sp.Basic:
    """f(z) of an activation other than the built-in five: a name ``derive init --act`` knows (gelu,
    silu/swish, elu[:A], softplus, leaky-relu:A, ...) or a LaTeX definition 'f(z) = ...', read by
    :func:`derive.catalog.any_init.read_activation` (never evaluated)."""
    from .catalog.any_init import CATALOG, read_activation, z
    from .catalog.teacher import activation_definition

    act = activation_definition(act) or act  # an activation entry of a teacher's catalog file: its definition
    name = act.partition(":")[0]
    if re.fullmatch(r"[A-Za-z][A-Za-z_-]*", name) and name.lower() not in CATALOG:
        raise UsageError(f"{prefix}: unknown activation '{act}'; choose one of tanh, relu, sigmoid, "
                         "leaky_relu[:A], linear, another of derive init's (gelu, silu, swish, elu[:A], "
                         "softplus) or 'f(z) = ...'")
    try:
        body = read_activation(act).body
    except UsageError as error:
        raise UsageError(f"{prefix}{str(error).removeprefix('--act')}") from None
    if body.free_symbols - {z}:
        raise UsageError(f"{prefix} '{act}': give the slope a value (NAME:A)")
    return body


def weight_variance(config: Config) -> tuple[sp.Basic, sp.Basic]:
    """Var(W) as the catalog derives it (its ``var`` target) and its exact value at this width."""
    if config.init == "normal":
        return sp.Symbol("S") ** 2, config.init_value**2
    formula = catalog.get(INITS[config.init]).target("var").rhs
    values = {"n_in": config.width, "n_out": config.width, "alpha": config.init_value}
    value = formula.xreplace({s: values.get(s.name, s) for s in formula.free_symbols})
    if not value.is_number:
        raise UsageError(f"Var(W) of {config.init} has symbols this simulation cannot fill: {value}")
    return formula, value


def _evaluator(variable: sp.Symbol, expr: sp.Basic) -> Callable:
    """A lambdified expression: in floats, or in mpmath where floats overflow (exp(800))."""
    fast, exact = (sp.lambdify(variable, expr, module, cse=True) for module in ("math", "mpmath"))

    def value(z):
        try:
            return fast(float(z))
        except (OverflowError, ZeroDivisionError, ValueError):
            return exact(z)
    return value


@functools.cache
def activation(act: str, slope: sp.Rational | None, definition: sp.Basic | None = None) -> tuple[Callable, Callable]:
    """f and f' from the catalog entry of ``act`` (its definition and its ``d1`` target), lambdified;
    for any other activation, from its ``definition`` f(z) and SymPy's derivative of it."""
    if definition is not None:
        (variable,) = definition.free_symbols or {sp.Symbol("z", real=True)}
        return tuple(_evaluator(variable, e) for e in (definition, sp.diff(definition, variable)))
    derivation = catalog.get(ACTIVATIONS[act])
    first = derivation.target("d1")
    applied = first.lhs.expr
    settings = {s: slope for s in first.rhs.free_symbols if s.name == "alpha"}
    return tuple(_evaluator(applied.args[0], derivation.explicit(e).xreplace(settings)) for e in (applied, first.rhs))


def gaussian_square(g: Callable, variance: float) -> float:
    """E[g(z)^2] for z ~ N(0, variance), by mpmath.quad split at 0 (for kinks), over +-10 sd;
    inf where the result overflows float64, nan for an infinite or undefined variance."""
    if not 0 < variance < math.inf:
        return float(g(0.0)) ** 2 if variance == 0 else math.nan
    scale = math.sqrt(variance)

    def integrand(t) -> float:      # g(scale t)^2 times the standard normal density, without its 1/sqrt(2 pi)
        t = float(t)
        return g(scale * t) ** 2 * math.exp(-t * t / 2)
    try:
        with mpmath.workdps(15):
            return float(mpmath.quad(integrand, [-TAIL, 0, TAIL])) / math.sqrt(2 * math.pi)
    except OverflowError:
        return math.inf


def predict(config: Config, var_w: float) -> tuple[list[float], list[float]]:
    """The mean-field recursion: predicted Var(z_l) and E[(dL/dz_l)^2] for l = 1..depth."""
    f, slope = activation(config.act, config.slope, config.definition)
    gain = config.width * var_w
    forward = [gain]
    for _ in range(config.depth - 1):
        forward.append(gain * gaussian_square(f, forward[-1]))
    backward = [1.0]
    for variance in reversed(forward[:-1]):
        backward.append(gain * gaussian_square(slope, variance) * backward[-1])
    return forward, backward[::-1]


def _numpy_activation(config: Config) -> Callable:
    """``z -> (f(z), f'(z))`` in NumPy, overwriting z (f'(0) as PyTorch: 0 for ReLU, the slope for
    leaky ReLU)."""
    def smooth(z):
        if config.act == "sigmoid":          # sigma(z) = (1 + tanh(z/2))/2, stable for large |z|
            z *= 0.5
        a = np.tanh(z, out=z)
        if config.act == "sigmoid":
            a += 1
            a *= 0.5
            slope = 1 - a
            return a, np.multiply(slope, a, out=slope)
        slope = a * a
        return a, np.subtract(1, slope, out=slope)

    def rectifier(z):
        positive = z > 0
        if config.act == "relu":
            return np.maximum(z, 0, out=z), positive.astype(np.float64)
        slope = float(config.slope)
        return np.where(positive, z, slope * z), np.where(positive, 1.0, slope)
    if config.definition is not None:
        return _lambdified(config.definition)
    return smooth if config.act in ("tanh", "sigmoid") else rectifier


def _lambdified(definition: sp.Basic) -> Callable:
    """``z -> (f(z), f'(z))`` in NumPy for an activation given by its SymPy definition (lambdified from
    the expression, never evaluated from text)."""
    variable = sp.Symbol("z", real=True)
    f, slope = (sp.lambdify(variable, e, ["scipy", "numpy"]) for e in (definition, sp.diff(definition, variable)))

    def fused(z):
        return tuple(np.broadcast_to(np.asarray(g(z), dtype=np.float64), z.shape) for g in (f, slope))
    return fused


@dataclass(frozen=True)
class Simulation:
    """The measured and predicted moments per layer (index 0 is layer 1) and Var(W)."""

    config: Config
    var_w_formula: sp.Basic
    var_w: sp.Basic
    forward_var: tuple[float, ...]
    forward_pred: tuple[float, ...]
    backward_m2: tuple[float, ...]
    backward_pred: tuple[float, ...]


def _tick(timings: dict | None, phase: str, start: float) -> float:
    now = time.perf_counter()
    if timings is not None:
        timings[phase] = timings.get(phase, 0.0) + now - start
    return now


def simulate(config: Config, timings: dict | None = None, chunk_rows: int | None = None) -> Simulation:
    """Run the network on ``config.batch`` inputs, chunk by chunk, and predict every layer.

    ``timings``, if given, accumulates seconds per phase: catalog, draws, forward_matmul,
    activation, backward_matmul, sums, prediction. Per-layer sums are exact over the whole
    batch (sums of squares accumulated, then divided once).
    """
    start = time.perf_counter()
    formula, var_w = weight_variance(config)
    activation(config.act, config.slope, config.definition)
    start = _tick(timings, "catalog", start)
    depth, width = config.depth, config.width
    rng = np.random.default_rng(config.seed)
    std = math.sqrt(float(var_w))
    try:
        weights = [rng.standard_normal((width, width)) * std for _ in range(depth)]
    except MemoryError:
        raise UsageError(f"not enough memory for {depth} weight matrices of {width} x {width}") from None
    readout = 2.0 * rng.integers(0, 2, width) - 1.0
    fused = _numpy_activation(config)
    rows = chunk_rows or max(1, min(MAX_CHUNK_ROWS, CHUNK_VALUES // (width * max(depth - 1, 1))))
    first, second, grad = np.zeros(depth), np.zeros(depth), np.zeros(depth)
    top = readout @ weights[-1]          # dL/da_{depth-1}, the same for every row
    start = _tick(timings, "draws", start)
    with np.errstate(over="ignore", invalid="ignore"):
        for begin in range(0, config.batch, rows):
            count = min(rows, config.batch - begin)
            a = rng.standard_normal((count, width))
            start = _tick(timings, "draws", start)
            slopes = []
            for layer in range(depth):
                z = a @ weights[layer].T
                start = _tick(timings, "forward_matmul", start)
                flat = z.ravel()
                first[layer] += flat.sum()
                second[layer] += flat @ flat
                start = _tick(timings, "sums", start)
                if layer < depth - 1:
                    a, slope = fused(z)
                    slopes.append(slope)
                    start = _tick(timings, "activation", start)
            grad[-1] += count * float(readout @ readout)
            g = None
            for layer in range(depth - 2, -1, -1):   # dL/dz_l for l = depth-1 .. 1 (index l - 1)
                g = top if g is None else g @ weights[layer + 1]     # dL/da_l = dL/dz_{l+1} W_{l+1}
                start = _tick(timings, "backward_matmul", start)
                g = g * slopes[layer] if g is top else np.multiply(g, slopes[layer], out=g)
                start = _tick(timings, "activation", start)
                flat = g.ravel()
                grad[layer] += flat @ flat
                start = _tick(timings, "sums", start)
    samples = config.batch * width
    with np.errstate(all="ignore"):     # a network that overflows float64 reports inf or nan
        mean = first / samples
        forward_var = second / samples - mean * mean
    forward_pred, backward_pred = predict(config, float(var_w))
    _tick(timings, "prediction", start)
    return Simulation(config, formula, var_w, tuple(map(float, forward_var)), tuple(forward_pred),
                      tuple(map(float, grad / samples)), tuple(backward_pred))


@functools.lru_cache(maxsize=16)
def simulate_cached(config: Config) -> Simulation:
    """:func:`simulate`, remembered per configuration (a sheet renders the same one per layout)."""
    return simulate(config)
