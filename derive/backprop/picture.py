"""The computation graph as a picture: where each name stands, and what each edge carries.

Only layout and labels are made here (the numbers come from the worked run); the template
draws them with TikZ, forward values above the edges and gradients below, as lecture notes do.
"""

from __future__ import annotations

import sympy as sp

from .graph import Run, _latex_name

X_STEP, Y_STEP = 3.2, 1.1


def _label(value: sp.Basic) -> str:
    number = float(sp.N(value, 15))
    return f"{number:.4g}"


def graph_picture(result: Run) -> dict:
    """Nodes with positions and edges with their forward value and gradient."""
    graph = result.graph
    operands = {name: sorted((s.name for s in expr.free_symbols), key=str) for name, expr in graph.nodes.items()}
    depth: dict[str, int] = {}
    for name, used in operands.items():
        depth[name] = 1 + max((depth.get(o, 0) for o in used), default=0)
    for name, used in operands.items():
        for operand in used:
            if operand not in graph.nodes:
                depth[operand] = min(depth.get(operand, depth[name] - 1), depth[name] - 1)
    users = {o: name for name, used in operands.items() for o in used if o not in graph.nodes}
    placed: dict[str, float] = {}
    columns: dict[int, list[str]] = {}
    for name in graph.nodes:
        columns.setdefault(depth[name], []).append(name)
    for names in columns.values():
        for row, name in enumerate(names):
            placed[name] = (len(names) - 1) / 2 * 2 * Y_STEP - row * 2 * Y_STEP
    leaves: dict[int, list[str]] = {}
    for name in [*graph.inputs, *graph.params]:
        if name in depth:
            leaves.setdefault(depth[name], []).append(name)
    for column, names in leaves.items():
        names.sort(key=lambda n: -placed[users[n]])
        columns.setdefault(column, [])
        for row, name in enumerate(names):
            placed[name] = (len(names) - 1) / 2 * Y_STEP - row * Y_STEP + (
                sum(placed[users[n]] for n in names) / len(names))
    values = {**graph.inputs, **graph.params, **result.forward}
    shared = {name for names in leaves.values() for name in names if any(
        depth[n] == depth[name] for n in graph.nodes)}
    # A leaf in a column that has nodes goes half a column on, above or below the nodes' edges.
    for column, names in leaves.items():
        inside = [n for n in names if n in shared]
        extent = max((abs(placed[n]) for n in graph.nodes if depth[n] in (column, column + 1)), default=0)
        for k, name in enumerate(inside):
            placed[name] = (1 if k % 2 == 0 else -1) * (extent + Y_STEP * (1 + k // 2))
    nodes = [{"id": f"n{index}", "name": name, "latex": _latex_name(name),
              "x": (depth[name] + (0.5 if name in shared else 0)) * X_STEP,
              "y": round(placed[name], 2),
              "kind": "param" if name in graph.params else "input" if name in graph.inputs else "node"}
             for index, name in enumerate(placed)]
    ids = {n["name"]: n["id"] for n in nodes}
    edges = [{"source": ids[o], "target": ids[name], "above": _label(values[o]),
              "below": _label(result.adjoints.get(o, sp.Integer(0)))}
             for name, used in operands.items() for o in used]
    loss = ids[graph.loss]
    return {"nodes": nodes, "edges": edges, "loss": loss, "loss_value": _label(result.loss)}
