"""The worked problems: ``backprop SPEC.toml``, ``conv2d --image --kernel`` and ``example NAME`` (the
course's own, built in)."""

from __future__ import annotations

import argparse
import json

from ..render import render, render_document, wording
from .options import command_parser, document, format_options, output_option, show_checks_option, write_output

TINY = ["cat > tiny.toml <<'EOF'", 'name = "tiny"', 'loss = "E"', "learning_rate = 1", "steps = 1", "[inputs]",
        "x = 2", "[params]", "w = 0.5", "[nodes]", 'E = "(w*x - 1)^2/2"', "EOF"]


def _worked_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    format_options(parser)
    output_option(parser)
    show_checks_option(parser)
    return parser


def _exact_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exact", action="store_true",
                        help="print exact fractions, not the course's decimals (the values are exact either way)")


def backprop_parser(table: dict | None = None) -> argparse.ArgumentParser:
    if table is None:
        parser = command_parser("backprop", "Forward pass, chain rule and one SGD step, exactly, from a problem "
                                            "spec (TOML): inputs, parameters, nodes, loss. The course's own "
                                            "problems are built in: python -m derive example list.",
                                *(f" {line}" for line in TINY), "backprop tiny.toml --exact")
        parser.add_argument("spec", help="a problem spec (TOML)")
    else:
        parser = command_parser(f"example {table['name']}", "Forward pass, chain rule and one SGD step, exactly.",
                                f"example {table['name']} --exact")
    _worked_options(parser)
    _exact_option(parser)
    return parser


def conv2d_parser(table: dict | None = None) -> argparse.ArgumentParser:
    if table is not None:
        return _worked_options(command_parser(f"example {table['name']}", "Every output entry of a 2-D "
                                              "convolution as its sum of products.", f"example {table['name']}"))
    parser = command_parser("conv2d", "Every output entry of a 2-D convolution (cross-correlation unless "
                                      "--convolution) as its sum of products.",
                            "conv2d --image '[[1, 2, 0], [0, 1, 3], [2, 1, 1]]' --kernel '[[1, 0], [0, -1]]'",
                            "conv2d --image '[[1, 2], [3, 4]]' --kernel '[[1]]' --padding 1 --stride 2 --latex")
    parser.add_argument("--image", required=True, help="rows of numbers, e.g. [[1, 2], [3, 4]]")
    parser.add_argument("--kernel", required=True, help="rows of numbers")
    parser.add_argument("--padding", type=int, default=0, help="zeros around the image (default 0)")
    parser.add_argument("--stride", type=int, default=1, help="the step of the kernel (default 1)")
    parser.add_argument("--convolution", action="store_true", help="flip the kernel (true convolution)")
    return _worked_options(parser)


def example_parser() -> argparse.ArgumentParser:
    """The options of ``example NAME`` (a backprop example's; a convolution's have no --exact)."""
    parser = command_parser("example", "The course's worked problems, built in: backpropagation through a "
                                       "small network or graph, and a 2-D convolution. 'python -m derive "
                                       "example list' lists them.",
                            "example list", "example bp-221-relu --pdf --lang zh")
    parser.add_argument("name", help="a worked example (see: python -m derive example list), or list")
    _worked_options(parser)
    _exact_option(parser)
    return parser


def _emit(derivation, text: str | None, options, published: str = "", picture: dict | None = None) -> int:
    """Write a worked problem in the chosen format (its own JSON, or the shared templates)."""
    if options.format == "pdf":
        return document(derivation.name, render_document(derivation, options.lang, picture=picture,
                                                         show_checks=options.show_checks), options)
    text = text if options.format == "json" else render(derivation, options.format or "text", options.lang)
    write_output(text + (published if options.format in (None, "text") else ""), options.output)
    return 0


def _summary_lines(result, lang: str) -> str:
    """Rounded values of the loss and the gradients, and whether the step lowered the loss."""
    words = wording(lang)["sheet"]
    lines = [f"  {result.graph.loss} ~ {float(result.loss):.6g}"]
    for param, gradient in result.grads.items():
        # the gradient the Results show: with several steps, the last step's, labelled as there
        target = result.derivation.targets.get(f"grad_{param}")
        gradient, step = (target.rhs, target.step) if target is not None else (gradient, None)
        label = words["at_step"].format(step=step) + ": " if step else ""
        lines.append(f"  {label}d{result.graph.loss}/d{param} ~ {float(gradient):.6g}")
    if result.loss_after is not None:
        change = "loss_decreased" if result.decreased else "loss_not_decreased"
        lines.append("  " + words[change].format(before=f"{float(result.loss):.6g}",
                                                 after=f"{float(result.loss_after):.6g}"))
    return f"\n{words['rounded']}:\n" + "\n".join(lines) + "\n"


def _published_lines(rows: list[dict], lang: str) -> str:
    """The sheet's published numbers beside derive's, with the difference named."""
    if not rows:
        return ""
    words = wording(lang)["sheet"]
    lines = ["  " + words["published_row"].format(quantity=r["quantity"], published=r["published"], derive=r["derive"],
                                                  difference=words[f"difference_{r['difference'].replace(' ', '_')}"])
             for r in rows]
    return f"\n{words['published']}:\n" + "\n".join(lines) + "\n"


def backprop(argv: list[str], table: dict | None = None) -> int:
    from ..backprop.graph import compare_published, graph_from, read_graph
    from ..backprop.graph import run as run_graph
    from ..backprop.graph import to_json as graph_json
    from ..backprop.picture import graph_picture
    options = backprop_parser(table).parse_args(argv)
    graph = graph_from(table, table["name"]) if table else read_graph(options.spec)
    result = run_graph(graph, exact=options.exact)
    return _emit(result.derivation, graph_json(result), options,
                 _summary_lines(result, options.lang) + _published_lines(compare_published(result), options.lang),
                 graph_picture(result))


def conv2d(argv: list[str], table: dict | None = None) -> int:
    import sympy as sp

    from ..backprop.conv import agrees_with_published, exact_matrix, parse_matrix, worked
    options = conv2d_parser(table).parse_args(argv)
    if table:
        image, kernel = exact_matrix(table["image"]), exact_matrix(table["kernel"])
        parts, flip, name, title = table["parts"], False, table["name"], table["title"]
    else:
        image, kernel = parse_matrix(options.image, "image"), parse_matrix(options.kernel, "kernel")
        parts, flip, name, title = [(options.padding, options.stride)], options.convolution, "conv2d", "conv2d"
    derivation, outputs = worked(image, kernel, parts, flip, name, title)
    mode = "convolution" if flip else "cross-correlation"
    documents = [{"output": [[int(v) if v.is_Integer else sp.sstr(v) for v in row] for row in out], "mode": mode,
                  "padding": p, "stride": s}
                 for out, (p, s) in zip(outputs, parts, strict=True)]
    published = ""
    if table and table.get("published"):
        same = agrees_with_published(outputs, table["published"])
        words = wording(options.lang)["sheet"]
        published = f"\n{words['published']}:\n" + "\n".join(
            "  " + words["published_matrix"].format(padding=p, stride=s, difference=words[
                "difference_equal" if ok else "difference_differs"]) for (p, s), ok in zip(parts, same, strict=True)) + "\n"
        for each, ok in zip(documents, same, strict=True):
            each["published_agrees"] = ok
    text = json.dumps(documents[0] if len(documents) == 1 else documents, ensure_ascii=False)
    return _emit(derivation, text, options, published)


def example(argv: list[str]) -> int:
    from ..catalog.examples import EXAMPLES, title
    from ..catalog.examples import example as example_table
    if not argv or argv[0] == "list":
        print("\n".join(f"{name:18} {title(name)}" for name in EXAMPLES))
        return 0
    if argv[0] in ("-h", "--help"):
        example_parser().parse_args(argv)
    table = example_table(argv[0])
    kind = table.pop("kind")
    return (backprop if kind == "backprop" else conv2d)(argv[1:], table)
