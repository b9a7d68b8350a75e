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
KEYS = {"optimizer", "momentum", "beta", "beta1", "beta2", "eps"}
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
    for key in sorted(KEYS - {"optimizer"}):
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
    from .graph import _latex_name  # the graph module imports this one

    graph, optimizer = worker.graph, worker.graph.optimizer
    worker.step += 1
    t = worker.step
    if t == 1:
        worker.builder.conventions += (f"optimizer-{optimizer.name}",)
    symbols = {"eta": worker.quantity("eta", r"\eta", "eta")}
    for key in optimizer.hyper:
        symbols[key] = worker.quantity(key, *LATEX[key])
    values = {"eta": graph.learning_rate, **optimizer.hyper}
    updated = {}
    for param, grad in grads.items():
        name = _latex_name(param)

        def moment(key: str, latex: str, step: int = t) -> sp.Symbol:
            return worker.quantity(f"{key}_{param}({step})", rf"{latex}_{{{name}}}^{{({step})}}", f"{key}_{param}({step})")

        g = worker.quantity(f"g_{param}({t})", rf"g_{{{name}}}^{{({t})}}", f"g_{param}({t})")
        numbers = {**{symbols[k]: values[k] for k in symbols}, g: grad}

        def line(key: str, latex: str, formula: sp.Basic, rule: str) -> sp.Basic:
            """``key^(t) = formula``, one computed line (the formula built unevaluated: as written)."""
            with sp.evaluate(True):  # the values evaluated, as always
                lhs = moment(key, latex)
                value = bounded(formula.xreplace(numbers), f"{key}_{param} (step {t})")
                used = {s: numbers[s] for s in formula.free_symbols}
                numbers[lhs] = worker.compute(lhs, formula, used, value, rule)
            return lhs

        def previous(key: str, latex: str) -> sp.Symbol:
            before = moment(key, latex, t - 1)
            numbers[before] = worker.moments.get((key, param), sp.Integer(0))
            return before

        eta, p = symbols["eta"], worker.quantity(f"{param}({t - 1})", rf"{name}^{{({t - 1})}}", f"{param}({t - 1})")
        numbers[p] = graph.params[param]
        kind = optimizer.name
        with sp.evaluate(False):  # every formula in the order the rules write it
            step = _moments(kind, symbols, g, t, line, previous, worker.moments, numbers, param)
            formula = p - eta * step
        rule = {"momentum": "momentum-step", "nesterov": "nesterov-step"}.get(kind, f"{kind}-step")
        updated[param] = _parameter(worker, param, name, t, formula, numbers, rule)
        worker.builder.result(f"updated_{param}")
    return updated


def _moments(kind, symbols, g, t, line, previous, moments, numbers, param) -> sp.Basic:
    """The moment lines of one parameter's step (``line`` computes one, ``previous`` names the
    step before's value); returns the step direction, which the parameter moves against."""
    if kind in ("momentum", "nesterov"):
        mu = symbols["momentum"]
        v = line("v", "v", mu * previous("v", "v") + g, "momentum-buffer")
        moments[("v", param)] = numbers[v]
        return v if kind == "momentum" else line("gn", r"\tilde{g}", g + mu * v, "nesterov-gradient")
    if kind == "rmsprop":
        beta = symbols["beta"]
        s = line("s", "s", beta * previous("s", "s") + (1 - beta) * g**2, "rmsprop-square")
        moments[("s", param)] = numbers[s]
        return g / (sp.sqrt(s) + symbols["eps"])
    beta1, beta2 = symbols["beta1"], symbols["beta2"]
    m = line("m", "m", beta1 * previous("m", "m") + (1 - beta1) * g, "adam-first-moment")
    v = line("v", "v", beta2 * previous("v", "v") + (1 - beta2) * g**2, "adam-second-moment")
    moments[("m", param)], moments[("v", param)] = numbers[m], numbers[v]
    m_hat = line("mhat", r"\hat{m}", m / (1 - beta1**t), "adam-bias-correction")
    v_hat = line("vhat", r"\hat{v}", v / (1 - beta2**t), "adam-bias-correction")
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
