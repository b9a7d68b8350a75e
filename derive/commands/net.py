"""``python -m derive net NAME|SPEC.toml``: a network's shapes, parameters, memory, MACs and receptive fields."""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..errors import UsageError
from .options import command_parser, document, format_options, show_checks_option, write_output


def parser() -> argparse.ArgumentParser:
    result = command_parser(
        "net", "Shapes, parameters, memory, MACs and receptive fields of a network, layer by layer, "
               "each count derived and verified. 'python -m derive net list' lists the built-in networks.",
        "net resnet18 --convention sheet --no-bn",
        "net audits/stack-3x3.toml --md")
    result.add_argument("network", help="a built-in network (see: python -m derive net list) or a spec (TOML)")
    format_options(result)
    result.add_argument("--input", metavar="HxWxC", help="another input size, for example 224x224x3")
    result.add_argument("--bytes-per-value", type=int, default=4, help="bytes per activation (default 4)")
    result.add_argument("--convention", choices=("full", "sheet"), default="full",
                        help="sheet: count as the course's ResNet-18 answer does")
    result.add_argument("--no-bn", action="store_true", help="leave batch norm parameters out")
    result.add_argument("--no-bias", action="store_true", help="leave biases out")
    result.add_argument("-o", "--output", metavar="FILE", help="write to FILE (with --pdf: a folder, default out/)")
    show_checks_option(result)
    return result


def run(argv: list[str]) -> int:
    from ..architecture.arithmetic import Convention, analyse
    from ..architecture.arithmetic import to_json as net_json
    from ..architecture.spec import parse_input, read_network
    from ..catalog import architectures
    from ..render import render, render_document
    if argv[:1] == ["list"]:
        print("\n".join(f"{name:22} {architectures.builtin(name).title}" for name in architectures.network_names()))
        return 0
    options = parser().parse_args(argv)
    if options.bytes_per_value < 1:
        raise UsageError("--bytes-per-value must be at least 1")
    source = options.network
    network = read_network(source) if source.endswith(".toml") else architectures.builtin(source)
    if options.input:
        network = replace(network, input=parse_input(options.input))
    convention = Convention(not options.no_bn, not options.no_bias, options.convention == "sheet")
    reference = architectures.REFERENCES.get(network.name)
    if reference:
        reference = analyse(architectures.builtin(reference), convention, options.bytes_per_value)
    report = analyse(network, convention, options.bytes_per_value, reference)
    if options.format == "pdf":
        return document(network.name, render_document(report.derivation, options.lang,
                                                      show_checks=options.show_checks), options)
    text = net_json(report) if options.format == "json" else render(report.derivation, options.format or "text",
                                                                    options.lang)
    write_output(text, options.output)
    return 0
