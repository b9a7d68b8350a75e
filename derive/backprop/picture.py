"""The computation graph as a picture: a layered layout, and the numbers beside each box.

Only layout and labels are made here (the numbers come from the worked run); the template's
``graph`` macro draws them with TikZ. Each name stands in a column by its depth (a node one column
after its deepest operand, an input or a parameter one column before its first user), the names
of a column ordered to keep edges short (barycentres, a few sweeps). A name's forward value is
written above its box and the gradient of the loss with respect to it below (the labels depend on
the name only, so they go on the name, not on each of its edges: nothing is written where edges
cross). Numbers are decimals as the key prints them (:func:`derive.backprop.display.decimal`),
in math mode (a minus sign, not a hyphen). Every box is measured here (:func:`boxes`: a width
estimated from the label's characters times the font size); columns and rows are spaced so that
no two boxes meet.
"""

from __future__ import annotations

import sympy as sp

from .display import decimal
from .graph import Run, _latex_name

PT = 2.54 / 72.27  # one TeX point in cm
#: The label font (\scriptsize of an 11 pt document) and the node font (\small), in pt.
LABEL_PT, NODE_PT = 8.0, 10.0
#: Width of one character of a label, in em (digits are 0.5 em; the minus sign 0.78 em).
CHAR_EM, MINUS_EM = 0.55, 0.9
#: TikZ inner sep of a label and the box sizes of a name (the macro's minimum width and height), cm.
INNER, NODE_W, NODE_H = 1.0 * PT, 1.1, 0.6
LABEL_H = 1.2 * LABEL_PT * PT + 2 * INNER
#: Gaps between boxes, cm: a label and its name, two rows, two columns.
LABEL_GAP, ROW_GAP, COLUMN_GAP = 0.04, 0.2, 0.7


def _text(value: sp.Basic) -> str:
    """A number as the key prints it, as math."""
    return f"${sp.latex(decimal(value)[0])}$"


def node_width(name: str) -> float:
    """The width of a name's box in cm: the macro's minimum width, or its characters at the node font."""
    return max(NODE_W, len(name) * CHAR_EM * NODE_PT * PT + 0.3)


def label_width(tex: str) -> float:
    """The width of a label in cm, estimated from its characters times the label font size."""
    body = tex.strip("$")
    minus = body.count("-")
    others = len(body.replace("\\cdot", "x").replace("{", "").replace("}", "").replace("^", "")) - minus
    return (others * CHAR_EM + minus * MINUS_EM) * LABEL_PT * PT + 2 * INNER


def _columns(result: Run) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Each name's column, and each name's neighbours (operands and users)."""
    graph = result.graph
    operands = {name: sorted((s.name for s in expr.free_symbols), key=str) for name, expr in graph.nodes.items()}
    column: dict[str, int] = {}
    for name, used in operands.items():
        column[name] = 1 + max((column[o] for o in used if o in graph.nodes), default=0)
    neighbours: dict[str, list[str]] = {}
    for name, used in operands.items():
        for operand in used:
            neighbours.setdefault(name, []).append(operand)
            neighbours.setdefault(operand, []).append(name)
            if operand not in graph.nodes:
                column[operand] = min(column.get(operand, column[name] - 1), column[name] - 1)
    return column, neighbours


def _order(column: dict[str, int], neighbours: dict[str, list[str]], names: list[str]) -> dict[int, list[str]]:
    """The names of each column, ordered by the barycentre of their neighbours' rows (four sweeps)."""
    layers: dict[int, list[str]] = {}
    for name in names:
        if name in column:
            layers.setdefault(column[name], []).append(name)
    for sweep in range(4):
        keys = sorted(layers) if sweep % 2 == 0 else sorted(layers, reverse=True)
        for key in keys:
            rank = {n: (i - (len(layers[column[n]]) - 1) / 2) for c in layers.values() for i, n in enumerate(c)}
            def centre(name, rank=rank, key=key):
                near = [rank[n] for n in neighbours.get(name, []) if column[n] != key]
                return sum(near) / len(near) if near else rank[name]
            layers[key] = sorted(layers[key], key=lambda n: (centre(n), layers[key].index(n)))
    return layers


def graph_picture(result: Run) -> dict:
    """Boxes with positions, their labels (forward value above, gradient below) with positions and
    measured sizes, and the edges (operand to node)."""
    graph = result.graph
    column, neighbours = _columns(result)
    layers = _order(column, neighbours, [*graph.inputs, *graph.params, *graph.nodes])
    values = {**graph.inputs, **graph.params, **result.forward}
    above = {name: _text(values[name]) for name in column}
    below = {name: _text(result.adjoints.get(name, sp.Integer(0))) for name in column}
    widths = {key: max(*(node_width(n) for n in names), *(label_width(t[n]) for n in names for t in (above, below)))
              for key, names in layers.items()}
    row = NODE_H + 2 * (LABEL_GAP + LABEL_H) + ROW_GAP
    x, left = {}, 0.0
    for key in sorted(layers):
        x[key] = round(left + widths[key] / 2, 2)
        left += widths[key] + COLUMN_GAP
    nodes, labels = [], []
    ids = {}
    for key in sorted(layers):
        names = layers[key]
        for index, name in enumerate(names):
            y = round(((len(names) - 1) / 2 - index) * row, 2)
            ids[name] = f"n{len(ids)}"
            kind = "param" if name in graph.params else "input" if name in graph.inputs else "node"
            nodes.append({"id": ids[name], "name": name, "latex": _latex_name(name), "x": x[key], "y": y, "kind": kind,
                          "width": round(node_width(name), 3)})
            offset = NODE_H / 2 + LABEL_GAP + LABEL_H / 2
            labels.append({"tex": above[name], "x": x[key], "y": round(y + offset, 3), "kind": "value",
                           "width": round(label_width(above[name]), 3), "height": round(LABEL_H, 3)})
            labels.append({"tex": below[name], "x": x[key], "y": round(y - offset, 3), "kind": "gradient",
                           "width": round(label_width(below[name]), 3), "height": round(LABEL_H, 3)})
    edges = [{"source": ids[o], "target": ids[name], "above": "", "below": ""}
             for name, expr in graph.nodes.items() for o in sorted((s.name for s in expr.free_symbols), key=str)]
    return {"nodes": nodes, "labels": labels, "edges": edges, "loss": ids[graph.loss],
            "loss_value": _text(result.loss), "label_pt": LABEL_PT}


def boxes(picture: dict) -> list[tuple[str, float, float, float, float]]:
    """Every box of the picture as (what, x0, y0, x1, y1) in cm: each name's box (at least the
    macro's minimum size) and each label's (estimated width, one line high)."""
    found = [(f"node {n['name']}", n["x"] - n["width"] / 2, n["y"] - NODE_H / 2, n["x"] + n["width"] / 2,
              n["y"] + NODE_H / 2) for n in picture["nodes"]]
    found += [(f"label {lab['tex']}", lab["x"] - lab["width"] / 2, lab["y"] - lab["height"] / 2,
               lab["x"] + lab["width"] / 2, lab["y"] + lab["height"] / 2) for lab in picture["labels"]]
    return found


def overlaps(picture: dict) -> list[tuple[str, str]]:
    """The pairs of boxes (:func:`boxes`) that meet: empty for a readable picture."""
    found = boxes(picture)
    return [(a[0], b[0]) for i, a in enumerate(found) for b in found[i + 1:]
            if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]]
