"""Optimizer steps of a worked backprop problem: SGD, momentum, Nesterov, RMSProp and Adam.

A spec chooses one with ``optimizer = "sgd" | "momentum" | "nesterov" | "rmsprop" | "adam"`` and
gives its hyper-parameters (:data:`HYPER`, with PyTorch's defaults); ``learning_rate`` and ``steps``
are the spec's own. Every moment update is one computed line (``lhs = formula = numbers = value``),
exact: rational where the inputs are (SGD, momentum and Nesterov on rational gradients), an exact
form with square roots for RMSProp and Adam, within the limits of :mod:`derive.backprop.exact`.

The updates are PyTorch's (``torch.optim``), for step t = 1, 2, ... with gradient g:

- momentum (dampening 0): v_t = mu v_{t-1} + g (v_0 = 0), p_t = p_{t-1} - eta v_t;
- Nesterov: v_t = mu v_{t-1} + g, g~_t = g + mu v_t, p_t = p_{t-1} - eta g~_t;
- RMSProp: s_t = beta s_{t-1} + (1 - beta) g^2, p_t = p_{t-1} - eta g / (sqrt(s_t) + eps)
  (eps outside the square root; PyTorch calls beta ``alpha``);
- Adam: m_t = beta1 m_{t-1} + (1 - beta1) g, v_t = beta2 v_{t-1} + (1 - beta2) g^2,
  m^_t = m_t / (1 - beta1^t), v^_t = v_t / (1 - beta2^t), p_t = p_{t-1} - eta m^_t / (sqrt(v^_t) + eps).

Textbook forms that differ: momentum as v_t = mu v_{t-1} - eta g, p_t = p_{t-1} + v_t (the same
iterates while eta is constant); Nesterov with the gradient taken at the look-ahead point
p + mu v (Sutskever et al.; PyTorch's form is the same method rewritten in the shifted parameter);
RMSProp and Adam with eps inside the square root (slightly different values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from ..params import parse_number
from .exact import bounded
from .expressions import GraphError

#: The optimizers, and each one's hyper-parameters with their defaults (PyTorch's; momentum 0.9).
HYPER: dict[str, dict[str, sp.Rational]] = {
    "sgd": {},
    "momentum": {"momentum": sp.Rational(9, 10)},
    "nesterov": {"momentum": sp.Rational(9, 10)},
    "rmsprop": {"beta": sp.Rational(99, 100), "eps": sp.Rational(1, 10**8)},
    "adam": {"beta1": sp.Rational(9, 10), "beta2": sp.Rational(999, 1000), "eps": sp.Rational(1, 10**8)},
}
#: The spec keys this module reads.
KEYS = {"optimizer", "momentum", "beta", "beta1", "beta2", "eps", "lr"}  # lr: learning_rate's other name
#: The significant digits a parameter that is not rational (after a square root) is carried to
#: the next step with: its exact form would grow with every step (RMSProp, Adam); the line that
#: computes it is exact.
DIGITS = 40
#: The convention (wording tables, ``[conventions]``) that says so.
CARRIED = "optimizer-carried-digits"
#: How each hyper-parameter is written: LaTeX and text.
LATEX = {"momentum": (r"\mu", "mu"), "beta": (r"\beta", "beta"), "beta1": (r"\beta_1", "beta1"),
         "beta2": (r"\beta_2", "beta2"), "eps": (r"\epsilon", "eps")}


@dataclass(frozen=True)
class Optimizer:
    """An optimizer by name and its hyper-parameters (exact), every one of :data:`HYPER`'s given."""

    name: str = "sgd"
    hyper: Mapping[str, sp.Rational] = field(default_factory=dict)


SGD = Optimizer()


def read_optimizer(table: Mapping, where: str) -> Optimizer:
    """The optimizer a spec's table asks for (SGD without ``optimizer``), its hyper-parameters
    checked: each a number (not a string), momentum and the betas in [0, 1), eps > 0.

    Raises:
        GraphError: one line naming the spec and the key.
    """
    name = table.get("optimizer", "sgd")
    if not isinstance(name, str) or name not in HYPER:
        raise GraphError(f"{where}: 'optimizer' must be one of {', '.join(map(repr, HYPER))}, not {_short(name)}")
    hyper = dict(HYPER[name])
    for key in sorted(KEYS - {"optimizer", "lr"}):
        if key not in table:
            continue
        if key not in hyper:
            allowed = ", ".join(map(repr, HYPER[name])) or "none"
            raise GraphError(f"{where}: '{key}' is not a hyper-parameter of {name} (its own: {allowed})")
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GraphError(f"{where}: '{key}' must be a number, not {_short(value)}")
        try:
            number = bounded(parse_number(repr(value) if isinstance(value, float) else str(value)), f"{where}: {key}")
        except (ValueError, OverflowError):
            raise GraphError(f"{where}: '{key}' must be a finite number, not {_short(value)}") from None
        if key == "eps" and not number > 0:
            raise GraphError(f"{where}: 'eps' must be > 0, not {_short(value)}")
        if key != "eps" and not 0 <= number < 1:
            raise GraphError(f"{where}: '{key}' must be in [0, 1), not {_short(value)}")
        hyper[key] = number
    return Optimizer(name, hyper)


def _short(value) -> str:
    """A value for a message: its repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def update(worker, grads: Mapping[str, sp.Basic]) -> dict[str, sp.Basic]:
    """One step of the graph's optimizer (not SGD, which the worker does itself) for every
    parameter: its moments, then the parameter, each one computed line. The moments live in
    ``worker.moments`` between steps; ``worker.step`` counts the steps."""
    graph, optimizer = worker.graph, worker.graph.optimizer
    worker.step += 1
    if worker.step == 1:
        worker.builder.conventions += (f"optimizer-{optimizer.name}",)
    symbols = {"eta": worker.quantity("eta", r"\eta", "eta")}
    for key in optimizer.hyper:
        symbols[key] = worker.quantity(key, *LATEX[key])
    values = {"eta": graph.learning_rate, **optimizer.hyper}
    updated = {}
    for param, grad in grads.items():
        one = _Step(worker, param, {symbols[key]: values[key] for key in symbols})
        g = one.name("g", "g")
        one.numbers[g] = grad
        before = one.quantity(f"{param}({one.t - 1})", rf"{one.latex}^{{({one.t - 1})}}")
        one.numbers[before] = graph.params[param]
        with sp.evaluate(False):  # every formula in the order the rules write it
            formula = before - symbols["eta"] * _direction(optimizer.name, symbols, g, one)
        rule = {"momentum": "momentum-step", "nesterov": "nesterov-step"}.get(optimizer.name, f"{optimizer.name}-step")
        updated[param] = _parameter(worker, param, one.latex, one.t, formula, one.numbers, rule)
        worker.builder.result(f"updated_{param}")
    return updated


class _Step:
    """One parameter's step t: its named values (the moments before and after) and the lines."""

    def __init__(self, worker, param: str, numbers: dict):
        from .graph import _latex_name  # the graph module imports this one

        self.worker, self.param, self.t = worker, param, worker.step
        self.latex, self.numbers = _latex_name(param), numbers

    def quantity(self, key: str, latex: str) -> sp.Symbol:
        """The worker's quantity ``key`` (created on first use)."""
        return self.worker.quantity(key, latex, key)

    def name(self, key: str, latex: str, step: int | None = None) -> sp.Symbol:
        """A moment of this parameter at a step (this one by default): m_w^(t)."""
        step = self.t if step is None else step
        return self.quantity(f"{key}_{self.param}({step})", rf"{latex}_{{{self.latex}}}^{{({step})}}")

    def previous(self, key: str, latex: str) -> sp.Symbol:
        """The moment at the step before, with its value (0 before the first step)."""
        before = self.name(key, latex, self.t - 1)
        self.numbers[before] = self.worker.moments.get((key, self.param), sp.Integer(0))
        return before

    def line(self, key: str, latex: str, formula: sp.Basic, rule: str) -> sp.Symbol:
        """``key^(t) = formula``, one computed line, its value kept as the moment ``key``."""
        with sp.evaluate(True):  # the values evaluated, as always
            lhs = self.name(key, latex)
            value = bounded(formula.xreplace(self.numbers), f"{key}_{self.param} (step {self.t})")
            used = {s: self.numbers[s] for s in formula.free_symbols}
            self.numbers[lhs] = self.worker.compute(lhs, formula, used, value, rule)
            self.worker.moments[(key, self.param)] = self.numbers[lhs]
        return lhs


def _direction(kind: str, symbols: dict, g: sp.Symbol, one: _Step) -> sp.Basic:
    """The moment lines of one parameter's step; returns the direction the parameter moves
    against (times the learning rate)."""
    if kind in ("momentum", "nesterov"):
        mu = symbols["momentum"]
        v = one.line("v", "v", mu * one.previous("v", "v") + g, "momentum-buffer")
        return v if kind == "momentum" else one.line("gn", r"\tilde{g}", g + mu * v, "nesterov-gradient")
    if kind == "rmsprop":
        beta = symbols["beta"]
        s = one.line("s", "s", beta * one.previous("s", "s") + (1 - beta) * g**2, "rmsprop-square")
        return g / (sp.sqrt(s) + symbols["eps"])
    beta1, beta2, t = symbols["beta1"], symbols["beta2"], one.t
    m = one.line("m", "m", beta1 * one.previous("m", "m") + (1 - beta1) * g, "adam-first-moment")
    v = one.line("v", "v", beta2 * one.previous("v", "v") + (1 - beta2) * g**2, "adam-second-moment")
    m_hat = one.line("mhat", r"\hat{m}", m / (1 - beta1**t), "adam-bias-correction")
    v_hat = one.line("vhat", r"\hat{v}", v / (1 - beta2**t), "adam-bias-correction")
    return m_hat / (sp.sqrt(v_hat) + symbols["eps"])


def _parameter(worker, param: str, name: str, t: int, formula: sp.Basic, numbers: dict, rule: str) -> sp.Basic:
    """The parameter after step t: ``p^(t) = formula``, computed and checked."""
    lhs = worker.quantity(f"{param}({t})", rf"{name}^{{({t})}}", f"{param}({t})")
    value = bounded(formula.xreplace(numbers), f"updated {param} (step {t})")
    value = worker.compute(lhs, formula, {s: numbers[s] for s in formula.free_symbols}, value, rule)
    if value.is_Rational:
        return value
    if CARRIED not in worker.builder.conventions:
        worker.builder.conventions += (CARRIED,)
    return sp.Float(sp.N(value, DIGITS), DIGITS)
