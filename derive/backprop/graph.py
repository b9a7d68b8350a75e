"""Worked backpropagation on a small computation graph: forward, chain rule, one SGD step.

A problem spec names inputs, parameters and nodes (expressions over earlier names, read by
the project's own reader, never evaluated as Python), the loss node, a learning rate and a
number of steps. Values are exact (0.2 is 1/5). Every gradient is computed twice: as the
chain-rule sum of products along the paths from the parameter to the loss (what the sheet
shows), and by reverse accumulation over the graph; the two must agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import sympy as sp

from .. import limits
from ..engine import Builder, Derivation
from ..files import read_toml
from ..notation import REAL, Quantity
from ..params import parse_number
from ..printing import tex_escape
from . import optimizers
from .display import Record, course_form
from .exact import bounded, evaluate
from .expressions import FUNCTIONS, GraphError, read_node
from .optimizers import KEYS as OPTIMIZER_KEYS
from .optimizers import SGD, Optimizer, read_optimizer

__all__ = ["FUNCTIONS", "Graph", "GraphError", "Run", "compare_published", "graph_from", "read_graph", "run",
           "to_json"]
MAX_PATHS, MAX_FACTORS = 16, 8
#: What an input, parameter or node name must look like (it is printed as a symbol in LaTeX).
NAME_RULE = r"[A-Za-z][A-Za-z0-9_]*"
KEYS = {"name", "title", "inputs", "params", "nodes", "loss", "learning_rate", "steps", "published", "sample",
        "handout"} | OPTIMIZER_KEYS
#: What a handout may show of a problem beside its values: the nodes' equations, the graph's picture.
HANDOUT_PARTS = ("nodes", "graph")


@dataclass(frozen=True)
class Graph:
    """A problem: exact inputs and parameters, nodes in order, the loss node, the SGD settings,
    and optionally a batch of samples (each giving some inputs other values; the loss is then
    the mean of the samples' losses). ``texts`` are the nodes as the spec wrote them (a handout
    prints them); ``handout`` what a handout shows beside the values (:data:`HANDOUT_PARTS`); a
    built-in example's ``title`` is None (the wording tables hold it in each language)."""

    name: str
    title: str | None
    inputs: dict[str, sp.Rational]
    params: dict[str, sp.Rational]
    nodes: dict[str, sp.Basic]
    loss: str
    learning_rate: sp.Rational
    steps: int
    published: dict[str, sp.Rational] = field(default_factory=dict)
    samples: tuple[dict[str, sp.Rational], ...] = ()
    texts: dict[str, str] = field(default_factory=dict)
    handout: tuple[str, ...] = ("nodes",)
    optimizer: Optimizer = SGD


def _exact(value, where: str) -> sp.Rational:
    try:
        return bounded(parse_number(str(value)), where)
    except (ValueError, ZeroDivisionError):
        raise GraphError(f"{where}: {value!r} is not a number") from None


def _sizes(table: dict, where: str) -> int:
    """Check the counts of a spec against their limits before anything is read; returns the steps."""
    for key, what in (("inputs", "inputs"), ("params", "params"), ("nodes", "nodes"), ("sample", "samples")):
        if not isinstance(table.get(key, {} if key != "sample" else []), dict if key != "sample" else list):
            raise GraphError(f"{where}: '{key}' must be a {'list of tables' if key == 'sample' else 'table'}")
        limits.check(f"backprop.{what}", len(table.get(key, ())), where)
    steps = table.get("steps", 1)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise GraphError(f"{where}: 'steps' must be a whole number >= 0")
    return limits.check("backprop.steps", steps, where, "'steps'")


def graph_from(table: dict, where: str) -> Graph:
    """A graph from its table (a TOML spec or a built-in example), checked: its counts against
    the limits first, then every name, value and expression, then the work the counts make."""
    unknown = set(table) - KEYS
    if unknown:
        raise GraphError(f"{where}: unknown key '{sorted(unknown)[0]}' (allowed: {', '.join(sorted(KEYS))})")
    steps = _sizes(table, where)
    inputs = {k: _exact(v, f"{where}: input {k}") for k, v in table.get("inputs", {}).items()}
    params = {k: _exact(v, f"{where}: parameter {k}") for k, v in table.get("params", {}).items()}
    known = {name: sp.Symbol(name, real=True) for name in (*inputs, *params)}
    nodes = {}
    for name, text in table.get("nodes", {}).items():
        if name in known:
            raise GraphError(f"node {name}: the name is already an input, a parameter or a node")
        nodes[name] = read_node(name, text, known)
        known[name] = sp.Symbol(name, real=True)
    loss = table.get("loss")
    if loss not in nodes:
        raise GraphError(f"{where}: 'loss' must name a node, not {loss!r}")
    size = sum(1 + len(expr.free_symbols) for expr in nodes.values()) + len(params)
    samples = max(1, len(table.get("sample", ())))
    limits.check("backprop.work", size * samples * (steps + 1), where,
                 f"work: (nodes + operands + params) {size} x samples {samples} x (steps + 1) {steps + 1}")
    published = {k: _exact(v, f"{where}: published {k}") for k, v in table.get("published", {}).items()}
    samples = []
    for number, sample in enumerate(table.get("sample", []), 1):
        unknown = set(sample) - set(inputs) if isinstance(sample, dict) else {"?"}
        if unknown:
            raise GraphError(f"{where}: sample {number} gives '{sorted(unknown)[0]}', which is not an input")
        samples.append({k: _exact(v, f"{where}: sample {number}, {k}") for k, v in sample.items()})
    title = table.get("title", table.get("name", where))
    if "lr" in table and "learning_rate" in table:
        raise GraphError(f"{where}: give the learning rate once, as 'learning_rate' or 'lr'")
    key = "lr" if "lr" in table else "learning_rate"
    learning_rate = _exact(table.get(key, 1), f"{where}: {key}")
    if learning_rate < 0:
        raise GraphError(f"{where}: '{key}' must be >= 0, not {table[key]!r}")
    return Graph(str(table.get("name", where)), None if title is None else str(title), inputs, params,
                 nodes, loss, learning_rate, steps, published, tuple(samples), dict(table.get("nodes", {})),
                 _handout(table.get("handout", ["nodes"]), where), read_optimizer(table, where))


def _handout(parts, where: str) -> tuple[str, ...]:
    """What a spec's ``handout`` asks a handout to show, checked against :data:`HANDOUT_PARTS`."""
    if not isinstance(parts, list) or any(part not in HANDOUT_PARTS for part in parts):
        raise GraphError(f"{where}: 'handout' must be a list of {', '.join(map(repr, HANDOUT_PARTS))}")
    return tuple(parts)


def read_graph(path: str | Path) -> Graph:
    """Read a backprop problem spec (TOML)."""
    path = Path(path)
    table = read_toml(path)
    table.setdefault("name", path.stem)
    return graph_from(table, str(path))


@dataclass
class Run:
    """Everything one worked problem computes, and its Derivation."""

    graph: Graph
    forward: dict[str, sp.Basic]
    loss: sp.Basic
    grads: dict[str, sp.Basic]
    chains: dict[str, str]
    updated: dict[str, sp.Basic]
    loss_after: sp.Basic | None
    derivation: Derivation
    adjoints: dict[str, sp.Basic] = field(default_factory=dict)

    @property
    def decreased(self) -> bool | None:
        """Whether the steps lowered the loss (None without a step): the two values compared at
        30 digits, never symbolically (SymPy's comparison of two exact forms can take minutes)."""
        if self.loss_after is None:
            return None
        return bool(sp.N(self.loss_after, 30) < sp.N(self.loss, 30))


def _symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _partial_symbol(top: str, below: str) -> sp.Symbol:
    return sp.Symbol(f"d{top}/d{below}")


class _Worker:
    def __init__(self, graph: Graph):
        self.graph = graph
        self.after = ""  # "+k" while the gradients after step k are taken (for messages)
        names = [*graph.inputs, *graph.params, *graph.nodes]
        self.quantities = {n: Quantity(n, _symbol(n), _latex_name(n), REAL) for n in names}
        self.builder = Builder(graph.name, "backprop", self.quantities.values())
        self.records: list[Record] = []
        self.moments: dict[tuple[str, str], sp.Basic] = {}  # an optimizer's moments between steps
        self.step = 0

    def compute(self, lhs: sp.Symbol, formula: sp.Basic, numbers: dict, value: sp.Basic, rule: str,
                toward: str = "") -> sp.Basic:
        """Builder.compute, remembered for the course's display (see :mod:`derive.backprop.display`)."""
        before = len(self.builder.steps)
        result = self.builder.compute(lhs, formula, numbers, value, rule)
        self.records.append(Record(lhs, formula, dict(numbers), result, rule, len(self.builder.steps) - before, toward))
        return result

    def quantity(self, key: str, latex: str, text: str) -> sp.Symbol:
        if key not in self.quantities:
            self.quantities[key] = Quantity(key, sp.Symbol(key), latex, text=text)
        return self.quantities[key].symbol

    def forward(self, params: dict[str, sp.Basic], label: str, sample: dict | None = None) -> dict[str, sp.Basic]:
        values = {_symbol(k): v for k, v in {**self.graph.inputs, **(sample or {}), **params}.items()}
        result = {}
        for name, expr in self.graph.nodes.items():
            value = evaluate(expr, values, f"node {name}{_where(label)}")
            if not value.is_number:
                raise GraphError(f"node {name}: {expr} is undefined at these values (division by zero?)")
            lhs = self.quantity(f"{name}{label}", _latex_name(name) + _mark(label), f"{name}{label}")
            self.compute(lhs, expr, {s: values[s] for s in expr.free_symbols if s in values}, value, "forward")
            values[_symbol(name)] = value
            result[name] = value
        return result

    def backward(self, forward: dict[str, sp.Basic], sample: dict | None = None, label: str = "",
                 final: bool = True) -> tuple[dict, dict]:
        values = {_symbol(k): v for k, v in {**self.graph.inputs, **(sample or {}), **self.graph.params,
                                             **forward}.items()}
        local = {}
        for name, expr in self.graph.nodes.items():
            for operand in sorted(expr.free_symbols, key=str):
                derivative = sp.diff(expr, operand)
                value = evaluate(derivative, values, f"d{name}/d{operand.name}{_where(label + self.after)}")
                local[(name, operand.name)] = value
                lhs = self.quantity(f"d{name}/d{operand.name}{label}", rf"\frac{{\partial {_latex_name(name)}}}"
                                    rf"{{\partial {_latex_name(operand.name)}}}" + _mark(label),
                                    f"d{name}/d{operand.name}{label}")
                kind = "input" if operand.name in self.graph.inputs else "other"
                self.compute(lhs, derivative, {s: values[s] for s in derivative.free_symbols if s in values},
                             value, "local-derivative", kind)
        adjoint = {self.graph.loss: sp.Integer(1)}
        below_of: dict[str, list[tuple[str, sp.Basic]]] = {}
        for (top, below), value in local.items():
            below_of.setdefault(top, []).append((below, value))
        for name in reversed(list(self.graph.nodes)):
            for below, value in below_of.get(name, []) if name in adjoint else []:
                adjoint[below] = bounded(adjoint.get(below, 0) + adjoint[name] * value,
                                         f"d{self.graph.loss}/d{below}{_where(label + self.after)}")
        self.adjoint = adjoint
        grads, chains = {}, {}
        for param in self.graph.params:
            paths = self._paths(param, local)
            if paths:
                chain = sp.Add(*(sp.Mul(*(_partial_symbol(t, u) for t, u in path)) for path in paths))
                numbers = {_partial_symbol(t, u): local[(t, u)] for path in paths for t, u in path}
            else:
                # Deep or wide graphs: dL/dp = sum over the nodes n that use p of delta(n) dn/dp,
                # with delta(n) = dL/dn from the backward pass (written out, it would be quadratic).
                users = [top for top, below in local if below == param]
                chain = sp.Add(*(_partial_symbol(self.graph.loss, n) * _partial_symbol(n, param) for n in users))
                numbers = {**{_partial_symbol(self.graph.loss, n): adjoint[n] for n in users},
                           **{_partial_symbol(n, param): local[(n, param)] for n in users}}
            lhs = self.quantity(f"dL/d{param}{label}", rf"\frac{{\partial {_latex_name(self.graph.loss)}}}"
                                rf"{{\partial {_latex_name(param)}}}" + _mark(label), f"d{self.graph.loss}/d{param}{label}")
            grads[param] = self.compute(lhs, chain, numbers, adjoint.get(param, sp.Integer(0)), "chain-rule")
            if final:
                self.builder.result(f"grad_{param}")
            chains[param] = sp.sstr(chain)
        return grads, chains

    def _paths(self, start: str, local: dict) -> list[list[tuple[str, str]]]:
        """Every path from ``start`` up to the loss, as (node, operand) edges from the loss down;
        empty when there are more than MAX_PATHS paths or one is longer than MAX_FACTORS."""
        users: dict[str, list[str]] = {}
        for top, below in local:
            users.setdefault(below, []).append(top)
        reaches, frontier = {self.graph.loss}, [self.graph.loss]  # the names the loss depends on
        while frontier:
            top = frontier.pop()
            for above, below in local:
                if above == top and below not in reaches:
                    reaches.add(below)
                    frontier.append(below)
        users = {below: [top for top in tops if top in reaches] for below, tops in users.items()}
        found: list[list[tuple[str, str]]] = []
        stack: list[tuple[str, list[tuple[str, str]]]] = [(start, [])]
        while stack:
            name, trail = stack.pop()
            if len(trail) > MAX_FACTORS or len(found) > MAX_PATHS:
                return []
            if name == self.graph.loss:
                found.append(list(reversed(trail)))
                continue
            stack.extend((top, [*trail, (top, name)]) for top in reversed(users.get(name, [])))
        return found

    def update(self, grads: dict[str, sp.Basic]) -> dict[str, sp.Basic]:
        if self.graph.optimizer.name != "sgd":
            return optimizers.update(self, grads)
        eta, updated = sp.Symbol("eta", positive=True), {}
        self.quantities["eta"] = Quantity("eta", eta, r"\eta", text="eta")
        for param, grad in grads.items():
            g = self.quantity(f"g_{param}", rf"g_{{{_latex_name(param)}}}", f"g_{param}")
            lhs = self.quantity(f"{param}+", _latex_name(param) + "^{+}", f"{param}+")
            formula = _symbol(param) - eta * g
            value = bounded(self.graph.params[param] - self.graph.learning_rate * grad, f"updated {param}")
            updated[param] = self.compute(lhs, formula, {_symbol(param): self.graph.params[param],
                                                                  eta: self.graph.learning_rate, g: grad},
                                                  value, "sgd-step")
            self.builder.result(f"updated_{param}")
        return updated


def _latex_name(name: str) -> str:
    """w11 -> w_{11}, yhat -> \\hat{y}, alpha1 -> \\alpha_{1}, y_out -> \\mathrm{y\\_out}.

    Raises:
        GraphError: a name that is not a letter followed by letters, digits and ``_`` (NAME_RULE):
            it could not be printed as a symbol.
    """
    if not re.fullmatch(NAME_RULE, name, flags=re.ASCII):
        raise GraphError(f"name {name!r}: an input, parameter or node name must be a letter followed by "
                         "letters, digits or _ (it is printed as a symbol)")
    greek = {"alpha", "beta", "gamma", "delta", "sigma", "theta", "eta"}
    match = re.fullmatch(r"([A-Za-z]+?)(hat)?_?([0-9]*)", name)
    if not match:
        return rf"\mathrm{{{tex_escape(name)}}}"
    base, hat, digits = match.groups()
    base = rf"\{base}" if base in greek else base
    base = rf"\hat{{{base}}}" if hat else base
    return f"{base}_{{{digits}}}" if digits else base


def _mark(label: str) -> str:
    """The LaTeX mark of a label: ' after the update, (s) for sample s."""
    prime = "'" if "+" in label else ""
    sample = re.search(r"\[(\d+)\]", label)
    return prime + (f"^{{({sample.group(1)})}}" if sample else "")


def _where(label: str) -> str:
    """Where a value stands, for a message: `` (sample 3, after step 2)``, or nothing."""
    sample, step = re.search(r"\[(\d+)\]", label), re.match(r"\+(\d*)", label)
    parts = ([f"sample {sample.group(1)}"] if sample else []) + ([f"after step {step.group(1) or 1}"] if step else [])
    return f" ({', '.join(parts)})" if parts else ""


def _mean(worker: _Worker, key: str, latex: str, parts: list[sp.Basic], rule: str) -> sp.Basic:
    """(v_1 + ... + v_N)/N over the samples, as a step; the sum is checked as it grows."""
    symbols = [worker.quantity(f"{key}[{n}]", f"{latex}^{{({n})}}", f"{key}[{n}]") for n in range(1, len(parts) + 1)]
    lhs = worker.quantity(key, latex, key)
    total = sp.Integer(0)
    for part in parts:
        total = bounded(total + part, f"the sum over the samples of {key}")
    return worker.compute(lhs, sp.Add(*symbols) / len(parts), dict(zip(symbols, parts, strict=True)),
                                  total / len(parts), rule)


def run(graph: Graph, exact: bool = False) -> Run:
    """Forward, gradients, the SGD steps and the loss after them, as exact values and a Derivation.

    The derivation prints the course's arithmetic (decimals, one line per value; see
    :mod:`derive.backprop.display`), or the exact fractions with ``exact``; its targets are exact.

    With several steps, each step's gradients are taken at the parameters the step before left;
    with a batch of samples, the loss and the gradients are the means over the samples.
    """
    worker = _Worker(graph)
    samples = list(graph.samples) or [None]
    batch = len(graph.samples) > 0

    def tag(index: int, after: str = "") -> str:
        return after + (f"[{index + 1}]" if batch else "")

    def gradients(params, forwards):
        worker.graph = replace(graph, params=params)
        per_sample = [worker.backward(f, s, tag(i), final=not batch) for i, (f, s) in enumerate(
            zip(forwards, samples, strict=True))]
        if not batch:
            return per_sample[0]
        latex = lambda p: rf"\frac{{\partial \bar{{{_latex_name(graph.loss)}}}}}{{\partial {_latex_name(p)}}}"  # noqa: E731
        grads = {}
        for param in graph.params:
            grads[param] = _mean(worker, f"dL/d{param}", latex(param), [g[param] for g, _ in per_sample], "batch-mean")
            worker.builder.result(f"grad_{param}")
        return grads, {p: f"mean over {len(samples)} samples of {c}" for p, c in per_sample[0][1].items()}

    forwards = [worker.forward(graph.params, tag(i), s) for i, s in enumerate(samples)]
    initial = forwards[0]
    first_grads, chains = grads, _ = gradients(graph.params, forwards)
    adjoints = dict(worker.adjoint)
    loss = forwards[0][graph.loss] if not batch else _mean(
        worker, "L_mean", rf"\bar{{{_latex_name(graph.loss)}}}", [f[graph.loss] for f in forwards], "batch-mean")
    params, loss_after = dict(graph.params), None
    for step in range(graph.steps):
        worker.graph = replace(graph, params=params)
        params = worker.update(grads)
        after = "+" if graph.steps == 1 else f"+{step + 1}"
        forwards = [worker.forward(params, tag(i, after), s) for i, s in enumerate(samples)]
        loss_after = forwards[0][graph.loss] if not batch else _mean(
            worker, f"L_mean{after}", rf"\bar{{{_latex_name(graph.loss)}}}'", [f[graph.loss] for f in forwards],
            "batch-mean")
        worker.builder.result("loss_after")
        if step < graph.steps - 1:
            worker.after = f"+{step + 1}"
            grads, _ = gradients(params, forwards)
    worker.builder.quantities = tuple(worker.quantities.values())
    derivation = course_form(worker.builder.build(title=graph.title), worker.records, exact)
    if graph.steps > 1:  # the gradients last taken are the last step's (the first step's are Run.grads)
        derivation = replace(derivation, targets={
            name: replace(target, step=graph.steps) if name.startswith("grad_") else target
            for name, target in derivation.targets.items()})
    return Run(graph, initial, loss, first_grads, chains, params if graph.steps else {}, loss_after, derivation,
               adjoints)


def _number(value: sp.Basic) -> dict:
    return {"exact": sp.sstr(value), "float": float(sp.N(value, 17))}


def to_json(result: Run) -> str:
    """The JSON contract of ``derive backprop --json``."""
    import json

    document = {
        "forward": {name: _number(v) for name, v in result.forward.items()},
        "loss": _number(result.loss),
        "grads": {p: {**_number(g), "chain": result.chains[p]} for p, g in result.grads.items()},
        "updated": {p: _number(v) for p, v in result.updated.items()},
        "loss_after": _number(result.loss_after) if result.loss_after is not None else None,
        "decreased": result.decreased,
        "published": compare_published(result),
    }
    if result.graph.optimizer.name != "sgd":
        document["optimizer"] = {"name": result.graph.optimizer.name,
                                 **{k: _number(v) for k, v in result.graph.optimizer.hyper.items()}}
    return json.dumps(document, ensure_ascii=False, indent=1)


def compare_published(result: Run) -> list[dict]:
    """The seed's published numbers beside derive's, with the difference named."""
    computed = {**result.forward, **{f"grad.{k}": v for k, v in result.grads.items()},
                **{f"updated.{k}": v for k, v in result.updated.items()}}
    if result.loss_after is not None:
        computed["loss_after"] = result.loss_after
    rows = []
    for key, published in result.graph.published.items():
        value = computed.get(key)
        if value is None:
            rows.append({"quantity": key, "published": sp.sstr(published), "derive": None, "difference": "not computed"})
            continue
        exact = float(sp.N(value, 17))
        rounded = abs(exact - float(published)) <= 0.5 * 10 ** -_decimals(published)
        difference = "equal" if value == published else ("rounded" if rounded else "differs")
        rows.append({"quantity": key, "published": sp.sstr(published), "derive": sp.sstr(value), "float": exact,
                     "difference": difference})
    return rows


def _decimals(value: sp.Rational) -> int:
    """How many decimals a published rational was written with (1/5 -> 1, 13/50 -> 2)."""
    q = value.q
    for n in range(0, 12):
        if (10**n) % q == 0:
            return n
    return 12
