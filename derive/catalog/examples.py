"""Built-in worked examples: the course sheets' backpropagation and convolution problems.

Names and numbers follow the seeds (shared/seeds); ``published`` holds what the sheet states,
so that the output can compare it with what derive computes; ``handout`` what a handout shows
beside the values (the nodes' equations, the graph's picture: only where the seed's problem gives
them). Titles and statements are in the wording tables (``[examples.NAME]``), in each language.
"""

from __future__ import annotations

from ..errors import UnknownNameError

EXAMPLES: dict[str, dict] = {
    "bp-221-relu": {"kind": "backprop", "inputs": {"x1": 0.2, "x2": 0.3, "yhat": 0.5},
                    "params": {"v11": 0.6, "v21": 0.2, "v12": 0.1, "v22": 0.7, "w11": 0.5, "w21": 0.8},
                    "nodes": {"alpha1": "v11*x1 + v21*x2", "alpha2": "v12*x1 + v22*x2", "b1": "relu(alpha1)",
                              "b2": "relu(alpha2)", "beta1": "w11*b1 + w21*b2", "y": "relu(beta1)",
                              "E": "(y - yhat)^2/2"},
                    "loss": "E", "learning_rate": 1, "steps": 1, "handout": ["nodes", "graph"],
                    "published": {"alpha1": 0.18, "alpha2": 0.23, "y": 0.274, "E": 0.025538,
                                  "updated.w11": 0.54068, "updated.w21": 0.85198, "updated.v11": 0.6226,
                                  "updated.v12": 0.13616, "updated.v21": 0.2339, "updated.v22": 0.75424,
                                  "loss_after": 0.01598}},
    # 002 Q4 asks for the graph itself: the handout states the values only, the key draws it
    "graph-xyz": {"kind": "backprop", "params": {"x": 1, "y": 2, "z": -6},
                  "nodes": {"q": "x + y", "s": "q^2", "f": "s*z"}, "loss": "f", "steps": 0, "handout": []},
    "relu-chain": {"kind": "backprop", "inputs": {"x1": 1, "x2": 2, "y": 2},
                   "params": {"w1": 1, "w2": 1, "b1": 0, "w3": 2, "b2": 0},
                   "nodes": {"z": "w1*x1 + w2*x2 + b1", "h": "relu(z)", "yhat": "w3*h + b2", "L": "mse(yhat, y)"},
                   "loss": "L", "steps": 0,
                   "published": {"z": 3, "h": 3, "yhat": 6, "L": 8, "grad.w3": 12, "grad.b2": 4}},
    "linear-mse": {"kind": "backprop", "inputs": {"h": 3, "y": 2}, "params": {"w3": 2, "b2": 0},
                   "nodes": {"yhat": "w3*h + b2", "L": "(yhat - y)^2/2"}, "loss": "L", "steps": 0,
                   "published": {"yhat": 6, "L": 8, "grad.w3": 12, "grad.b2": 4}},
    "linear-unit": {"kind": "backprop",
                    "inputs": {"x1": 1, "x2": 2, "t": 10}, "params": {"w1": 2, "w2": 1, "b": 1},
                    "nodes": {"z": "w1*x1 + w2*x2 + b", "L": "(z - t)^2/2"}, "loss": "L", "steps": 0,
                    "published": {"z": 5, "L": 12.5, "grad.w1": -5, "grad.w2": -10, "grad.b": -5}},
    "sigmoid-upstream": {"kind": "backprop",
                         "params": {"x": 0}, "nodes": {"s": "sigmoid(x)", "L": "4.0*s"}, "loss": "L", "steps": 0,
                         "handout": ["nodes"],
                         "published": {"s": 0.5, "grad.x": 1}},
    "conv2d-4x4": {"kind": "conv2d",
                   "image": [[10, 20, 30, 40], [50, 60, 70, 80], [90, 100, 110, 120], [130, 140, 150, 160]],
                   "kernel": [[-1, 0], [1, 2]], "parts": [(1, 1), (0, 2)],
                   "published": [[[20, 50, 80, 110, 40], [100, 160, 180, 200, 40], [180, 240, 260, 280, 40],
                                  [260, 320, 340, 360, 40], [0, -130, -140, -150, -160]],
                                 [[160, 200], [320, 360]]]},
}


def example(name: str) -> dict:
    """A built-in example by name (its ``title`` None: the wording tables hold it); an unknown
    name suggests the closest."""
    if name not in EXAMPLES:
        raise UnknownNameError("example", name, EXAMPLES)
    return {"name": name, "title": None, **EXAMPLES[name]}


def title(name: str, lang: str = "en") -> str:
    """A built-in example's title as plain text, from the wording table of ``lang``."""
    from .. import markup
    from ..render import wording

    return markup.marked(wording(lang)["examples"][name]["title"]).text
