"""Every catalog entry builds, delivers exactly the targets it promises, and renders."""

import pickle
import tomllib
from pathlib import Path

import pytest

import derive
from derive.catalog import ENTRIES
from derive.render import package_templates, render

NAMES = [entry.name for entry in ENTRIES]


@pytest.mark.parametrize("entry", ENTRIES, ids=NAMES)
def test_targets_are_the_promised_ones(entry):
    derivation = derive.get(entry.name)
    assert tuple(derivation.targets) == entry.targets
    assert all(step.check in ("symbolic", "numeric", "given") for step in derivation.steps)
    assert any(step.check == "symbolic" for step in derivation.steps)


def test_issue_catalog_and_at_least_four_more():
    required = {"sigmoid", "tanh", "relu", "leaky-relu", "prelu", "softmax", "log-softmax", "mse", "bce",
                "bce-sigmoid", "softmax-ce", "xavier", "kaiming", "prelu-init", "lecun"}
    assert required <= set(NAMES) and len(set(NAMES) - required) >= 4


def test_wording_tables_have_the_same_keys_and_cover_every_key_used():
    tables = {lang: tomllib.loads((package_templates() / "wording" / f"{lang}.toml").read_text("utf-8"))
              for lang in ("en", "zh")}

    def keys(table, prefix=""):
        return {f"{prefix}{k}" if not isinstance(v, dict) else None for k, v in table.items()} - {None} | {
            key for k, v in table.items() if isinstance(v, dict) for key in keys(v, f"{prefix}{k}.")}

    assert keys(tables["en"]) == keys(tables["zh"])
    for name in NAMES:
        d = derive.get(name)
        used = ({f"rules.{s.rule}" for s in d.steps} | {f"assumptions.{a}" for a in d.assumptions}
                | {f"conventions.{c}" for c in d.conventions} | {f"titles.{name}"})
        assert used <= keys(tables["en"]), used - keys(tables["en"])


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_renders_in_every_format_and_language(name):
    d = derive.get(name)
    for lang in ("en", "zh"):
        for fmt in ("text", "latex", "md", "json"):
            assert render(d, fmt, lang).strip()


@pytest.mark.parametrize("name", NAMES)
def test_pickling_keeps_every_step(name):
    d = derive.get(name)
    assert pickle.loads(pickle.dumps(d)) == d


def test_repr_latex_for_jupyter():
    shown = derive.get("sigmoid")._repr_latex_()
    assert shown.startswith("$$\\begin{aligned}") and shown.rstrip().endswith("\\end{aligned}$$")
    assert r"\sigma'(x)" in shown


def test_templates_ship_inside_the_wheel_config():
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]["templates"] == "derive/templates"
