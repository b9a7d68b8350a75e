"""What a handout states of a worked backprop problem: its givens, as the course's sheets do.

The inputs, the target, the initial parameters and the learning rate with their values as the
spec wrote them (decimals: 0.2, not 1/5), the nodes' equations as the spec wrote them (in
order, ``ReLU`` and ``σ`` by name, with their definitions), the loss singled out; and the
computation graph without its numbers where the problem gives the net (a key draws it with them).
Every sentence comes from the wording table (``[worked]``); every value is the spec's own.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from .. import markup
from .expressions import FUNCTIONS, _Translator
from .graph import Run, _latex_name

#: How a function of a node is written, and its definition (None: a standard function).
FUNCTION_TEX = {
    "relu": (r"\operatorname{ReLU}", r"\operatorname{ReLU}(x) = \max\{0, x\}"),
    "sigmoid": (r"\sigma", r"\sigma(x) = \frac{1}{1 + e^{-x}}"),
    "tanh": (r"\tanh", None),
    "exp": (r"\exp", None),
    "log": (r"\log", None),
    "mse": (r"\operatorname{MSE}", r"\operatorname{MSE}(a, b) = \frac{1}{2}(a - b)^2"),
    "bce": (r"\operatorname{BCE}", r"\operatorname{BCE}(a, b) = -\bigl(b \log a + (1 - b) \log(1 - a)\bigr)"),
}
assert set(FUNCTION_TEX) == set(FUNCTIONS)


def decimal_tex(value: sp.Rational) -> str:
    """A given value as the sheets write it: an integer, a terminating decimal (``0.2``), else
    a fraction; a negative value with a minus sign."""
    value = sp.Rational(value)
    if value.q == 1:
        return str(value.p)
    q, twos, fives = value.q, 0, 0
    while q % 2 == 0:
        q, twos = q // 2, twos + 1
    while q % 5 == 0:
        q, fives = q // 5, fives + 1
    if q != 1:
        sign = "-" if value < 0 else ""
        return rf"{sign}\frac{{{abs(value.p)}}}{{{value.q}}}"
    places = max(twos, fives)
    digits = str(abs(value.p) * 10**places // value.q).rjust(places + 1, "0")
    return f"{'-' if value < 0 else ''}{digits[:-places]}.{digits[-places:]}"


class _Display(_Translator):
    """A node's text as display LaTeX, as written: its names as symbols (``w_{11}``, ``\\hat{y}``),
    its numbers as written, ``*`` as a space (``\\cdot`` before a number), ``/`` as a fraction,
    its functions by name (:data:`FUNCTION_TEX`). The grammar and the checks are the reader's."""

    def __init__(self, node: str, text: str, known):
        super().__init__(node, text, known)
        self.used: list[str] = []

    def unary(self) -> str:
        if self.peek() not in ("+", "-"):
            return self.power()
        sign = self.take()[1]
        self.nest()
        operand = self.unary()
        self.depth -= 1
        return f"-{operand}" if sign == "-" else operand

    def term(self) -> str:
        latex = self.unary()
        while self.peek() in ("*", "/"):
            operator = self.take()[1]
            right = self.unary()
            if operator == "/":
                latex = rf"\frac{{{_bare(latex)}}}{{{_bare(right)}}}"
            else:
                latex += (r" \cdot " if right[:1].isdigit() or right[:1] == "-" else " ") + right
        return latex

    def power(self) -> str:
        base = self.atom()
        if self.peek() not in ("^", "**"):
            return base
        self.take()
        self.nest()
        exponent = self.unary()
        self.depth -= 1
        return f"{{{base}}}^{{{_bare(exponent)}}}"

    def atom(self) -> str:
        kind, text, position = self.take()
        if kind == "number":
            self.number(text)  # the reader's limits on digits
            return text
        if kind == "name":
            if text in FUNCTIONS:
                return self.application(text)
            if text not in self.known:
                self.fail(f"'{text}' is not an input, a parameter or an earlier node")
            return _latex_name(text)
        if text == "(":
            self.nest()
            inner = self.expression()
            self.depth -= 1
            self.expect(")", position)
            return rf"\left({inner}\right)"
        self.fail(f"expected a number, a name or '(' but found {text!r} at character {position + 1}")

    def application(self, function: str) -> str:
        if self.peek() != "(":
            self.fail(f"{function} is a function: write {function}(...)")
        opened = self.take()[2]
        self.nest()
        arguments = [] if self.peek() == ")" else [self.expression()]
        while self.peek() == ",":
            self.take()
            arguments.append(self.expression())
        self.depth -= 1
        self.expect(")", opened)
        if function not in self.used:
            self.used.append(function)
        return rf"{FUNCTION_TEX[function][0]}({', '.join(arguments)})"


def _bare(latex: str) -> str:
    """A fraction's part or an exponent without the parentheses that only grouped it."""
    if latex.startswith(r"\left(") and latex.endswith(r"\right)") and latex.count(r"\left(") == 1:
        return latex[len(r"\left("):-len(r"\right)")]
    return latex


def node_equations(run: Run) -> tuple[list[tuple[str, str]], list[str]]:
    """The nodes as (name, LaTeX of ``name = expression``) in order, as the spec wrote them, and
    the definitions of the functions they use."""
    graph = run.graph
    known = {name: sp.Symbol(name, real=True) for name in (*graph.inputs, *graph.params, *graph.nodes)}
    equations, used = [], []
    for name, expr in graph.nodes.items():
        text = graph.texts.get(name)
        if text is None:
            right = sp.latex(expr)
        else:
            display = _Display(name, text, known)
            right = display.translate()
            used += [f for f in display.used if f not in used]
        equations.append((name, f"{_latex_name(name)} = {right}"))
    return equations, [FUNCTION_TEX[f][1] for f in used if FUNCTION_TEX[f][1]]


def _targets(run: Run) -> list[str]:
    """The inputs only the loss node uses: the target (ŷ, y, t) a sheet calls the desired output."""
    graph = run.graph
    users = {name: [n for n, expr in graph.nodes.items() if sp.Symbol(name, real=True) in expr.free_symbols]
             for name in graph.inputs}
    return [name for name, used in users.items() if used == [graph.loss] and len(graph.nodes) > 1]


def _values(names, values: Mapping[str, sp.Rational], comma: str) -> markup.Marked:
    """``x_1 = 0.2, x_2 = 0.3``: each value its own formula, joined by the language's comma."""
    return _join([markup.math(f"{_latex_name(n)} = {decimal_tex(values[n])}",
                              f"{n} = {decimal_tex(values[n])}") for n in names], comma)


def _optimizer(optimizer, worked: Mapping, comma: str) -> markup.Marked:
    """``the optimizer Adam with β_1 = 0.9, β_2 = 0.999, ε = 0.00000001``: its hyper-parameters."""
    from .optimizers import LATEX

    values = _join([markup.math(f"{LATEX[k][0]} = {decimal_tex(v)}", f"{LATEX[k][1]} = {sp.sstr(v)}")
                    for k, v in optimizer.hyper.items()], comma)
    return markup.marked(worked["optimizer_with"], {"name": markup.marked(worked[f"name_{optimizer.name}"]),
                                                    "values": values})


def _join(items: list[markup.Marked], separator: str) -> markup.Marked:
    joined = markup.Marked("", "", "")
    for index, item in enumerate(items):
        joined = joined + (markup.marked(separator) if index else markup.Marked("", "", "")) + item
    return joined


def handout_givens(run: Run, words: Mapping, asks_update: bool) -> list[markup.Marked]:
    """The paragraphs a handout states of a worked problem (see the module's docstring):
    the values, then the network's equations and the functions' definitions where the spec's
    ``handout`` shows the nodes. ``words`` is the wording table of the document's language;
    the learning rate is stated when the problem asks for an update."""
    graph, worked = run.graph, words["worked"]
    comma, separator = words["sheet"]["comma"], words["sheet"]["separator"]
    every = set.intersection(*(set(sample) for sample in graph.samples)) if graph.samples else set()
    targets = [n for n in _targets(run) if n not in every]  # what every sample gives is stated per sample
    inputs = [n for n in graph.inputs if n not in targets and n not in every]
    parts = []
    if inputs:
        parts.append(markup.marked(worked["inputs"], {"values": _values(inputs, graph.inputs, comma)}))
    if targets:
        parts.append(markup.marked(worked["targets"], {"values": _values(targets, graph.inputs, comma)}))
    for number, sample in enumerate(graph.samples, 1):  # a batch: each sample's own inputs
        parts.append(markup.marked(worked["sample"], {"number": markup.user(number),
                                                      "values": _values(sample, sample, comma)}))
    if graph.params:
        values = _values(graph.params, graph.params, comma)
        # named only beside other values (002 Q4 gives "x = 1, y = 2, z = -6" as they are)
        key = "initial" if asks_update else "params" if parts else None
        parts.append(markup.marked(worked[key], {"values": values}) if key else values)
    if asks_update:
        parts.append(markup.marked(worked["learning_rate"], {"value": markup.math(
            rf"\eta = {decimal_tex(graph.learning_rate)}", f"eta = {sp.sstr(graph.learning_rate)}")}))
        if graph.optimizer.name != "sgd":
            parts.append(_optimizer(graph.optimizer, worked, comma))
    paragraphs = [markup.marked(worked["given"], {"parts": _join(parts, separator)})] if parts else []
    if "nodes" in graph.handout:
        equations, definitions = node_equations(run)
        loss = dict(equations)[graph.loss]
        rest = [markup.math(tex) for name, tex in equations if name != graph.loss]
        fields = {"equations": _join(rest, comma), "loss": markup.math(loss)}
        paragraphs.append(markup.marked(worked["network" if rest else "network_loss_only"], fields))
        if definitions:
            paragraphs.append(markup.marked(worked["functions"], {
                "definitions": _join([markup.math(d) for d in definitions], comma)}))
    return paragraphs


def asks_update(targets) -> bool:
    """Whether a problem's targets ask for the step of gradient descent (an updated parameter,
    ``updated_w11`` or ``updated[w11]``, or the loss after the step)."""
    return any(str(t).startswith(("updated_", "updated[")) or t == "loss_after" for t in targets)


def blank_picture(picture: dict) -> dict:
    """A computation graph's picture without its numbers (a handout's: the key's carries the
    forward values and the gradients)."""
    return {**picture, "edges": [{**edge, "above": "", "below": ""} for edge in picture["edges"]],
            "labels": [], "blank": True}


def worked_view(problem, view: Mapping, words: Mapping) -> dict | None:
    """What a sheet prints of a worked backprop problem (``problem.source`` a :class:`Run`), None
    for any other: ``statement`` (the default statement, TeX: a built-in example's setting from
    ``[examples.NAME]``, else the title, then what to compute, the step of gradient descent only
    when a target asks for it), ``givens`` (TeX paragraphs), ``handout_picture`` (the graph
    without numbers, where the problem gives the net) and ``key_picture`` (with them, always)."""
    from .picture import graph_picture

    run = problem.source
    if not isinstance(run, Run):
        return None
    worked, update = words["worked"], asks_update(problem.targets)
    title = markup.Marked(view["title"], view["title_tex"], view["title_md"])
    example = words.get("examples", {}).get(run.graph.name) if run.graph.title is None else None
    lead = markup.marked(example["statement"]) if example and "statement" in example else \
        markup.marked(worked["titled"], {"title": title})
    key = "ask_step" if update and run.graph.steps == 1 else "ask_steps" if update else "ask"
    optimizer = run.graph.optimizer.name
    key = "ask_optimizer" if update and optimizer != "sgd" else key
    statement = markup.marked(worked[key], {"lead": lead, "steps": markup.user(run.graph.steps),
                                            "name": markup.marked(worked.get(f"name_{optimizer}", ""))})
    picture = graph_picture(run)
    return {"statement": statement.tex, "givens": [g.tex for g in handout_givens(run, words, update)],
            "handout_picture": blank_picture(picture) if "graph" in run.graph.handout else None,
            "key_picture": picture}
