"""The disk cache of verified derivations and compiled templates: a faithful round trip, a
template compiled afresh whenever its text or its file changes, and never a wrong or broken load."""

import pickle
import shutil

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

import derive
from derive import cache, render
from derive.errors import UnknownNameError


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("DERIVE_NO_CACHE", raising=False)
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    return tmp_path / "cache"


def test_round_trip_gives_the_same_derivation(cache_dir):
    built = derive.get("kaiming")
    cache.store(built)
    assert len(list(cache_dir.rglob("kaiming.pickle"))) == 1
    assert cache.load("kaiming") == built


def test_a_corrupt_or_foreign_entry_is_ignored(cache_dir):
    cache.store(derive.get("mse"))
    path = next(cache_dir.rglob("mse.pickle"))
    path.write_bytes(b"not a pickle")
    assert cache.load("mse") is None
    path.rename(path.with_name("bce.pickle"))
    assert cache.load("bce") is None


def test_switched_off_by_environment(cache_dir, monkeypatch):
    monkeypatch.setenv("DERIVE_NO_CACHE", "1")
    cache.store(derive.get("mse"))
    assert cache.load("mse") is None and not list(cache_dir.rglob("*.pickle"))


def test_unknown_target_names_the_closest():
    with pytest.raises(UnknownNameError, match="unknown target 'vr' in 'xavier'; did you mean 'var'?"):
        derive.get("xavier").target("vr")


PROBE = "probe.txt.j2"


@pytest.fixture
def pack(tmp_path, cache_dir, monkeypatch):
    """A template pack holding one template, and a record of the templates Jinja compiles. Each
    ``fill`` starts from a new environment, as a new process would."""
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / PROBE).write_text(r"first \VAR{who}" + "\n", encoding="utf-8")
    compiled = []
    original = jinja2.Environment.compile

    def compile_and_record(self, source, name=None, filename=None, *args, **kwargs):
        compiled.append(name)
        return original(self, source, name, filename, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", compile_and_record)

    def fill(folder=folder):
        render.environment.cache_clear()
        return render.fill(PROBE, str(folder), who="x")

    yield folder, compiled, fill
    render.environment.cache_clear()


def _same(folder):
    return folder


def _edited(folder):
    (folder / PROBE).write_text(r"second \VAR{who}" + "\n", encoding="utf-8")
    return folder


def _moved(folder):
    other = folder.parent / "other-pack"
    other.mkdir()
    (other / PROBE).write_bytes((folder / PROBE).read_bytes())
    return other


@pytest.mark.parametrize("change, compiled_again, text", [
    (_same, False, "first x\n"),     # unchanged: the compiled template is read from the cache
    (_edited, True, "second x\n"),   # the template's text changed: compiled afresh, the edit shows
    (_moved, True, "first x\n"),     # the same text in another pack's folder: an entry of its own
])
def test_a_template_is_compiled_again_exactly_when_its_text_or_file_changes(pack, change, compiled_again, text):
    folder, compiled, fill = pack
    assert fill() == "first x\n" and compiled == [PROBE]
    assert fill(change(folder)) == text
    assert compiled == [PROBE] * (1 + compiled_again)


SYNTAX = {"block_start_string": r"\BLOCK{", "block_end_string": "}", "variable_start_string": r"\VAR{",
          "variable_end_string": "}", "comment_start_string": r"\#{", "comment_end_string": "}"}
ENVIRONMENTS = {
    "plain": lambda loader: jinja2.Environment(loader=loader, bytecode_cache=cache.TemplateCache(), **SYNTAX),
    "default syntax": lambda loader: jinja2.Environment(loader=loader, bytecode_cache=cache.TemplateCache()),
    "sandboxed": lambda loader: ImmutableSandboxedEnvironment(loader=loader, bytecode_cache=cache.TemplateCache(),
                                                              **SYNTAX),
}


@pytest.mark.parametrize("source, first, first_text, second, second_text", [
    # the same file compiled with other delimiters reads other placeholders
    (r"\VAR{who}", "plain", "x", "default syntax", r"\VAR{who}"),
    # code compiled without the sandbox never runs in it: the list stays unchangeable
    (r"\VAR{items.append(1) or items}", "plain", "[1]", "sandboxed", jinja2.exceptions.SecurityError),
])
def test_a_template_compiled_by_another_environment_is_compiled_again(pack, source, first, first_text, second,
                                                                       second_text):
    folder, compiled, _ = pack
    (folder / PROBE).write_text(source, encoding="utf-8")
    loader = jinja2.FileSystemLoader(str(folder))
    assert ENVIRONMENTS[first](loader).get_template(PROBE).render(who="x", items=[]) == first_text
    template = ENVIRONMENTS[second](loader).get_template(PROBE)
    if isinstance(second_text, str):
        assert template.render(who="x", items=[]) == second_text
    else:
        with pytest.raises(second_text):
            template.render(who="x", items=[])
    assert compiled == [PROBE, PROBE]


@pytest.mark.parametrize("switched_off, kept", [("1", False), ("", True)])
def test_no_cache_keeps_no_template_and_still_shows_every_edit(pack, cache_dir, monkeypatch, switched_off, kept):
    folder, compiled, fill = pack
    monkeypatch.setenv("DERIVE_NO_CACHE", switched_off)
    assert fill() == "first x\n"
    assert fill() == "first x\n"
    assert fill(_edited(folder)) == "second x\n"
    assert bool(list(cache_dir.rglob("*.cache"))) is kept
    assert compiled == [PROBE] * (2 if kept else 3)


@pytest.mark.parametrize("damage", [
    b"",                                      # empty
    b"not a compiled template",               # another file's bytes
    None,                                     # a whole entry cut short
    "code",                                   # Jinja's header and checksum, then a pickle where the code was
])
def test_a_damaged_template_entry_is_compiled_afresh(pack, cache_dir, damage):
    _, compiled, fill = pack
    fill()
    [entry] = cache_dir.rglob("*.cache")
    whole = entry.read_bytes()
    if damage is None:
        damage = whole[:-5]
    elif damage == "code":
        header = len(jinja2.bccache.bc_magic)
        checksum = pickle.loads(whole[header:])
        damage = whole[:header] + pickle.dumps(checksum, 2) + pickle.dumps(["not", "code"])
    entry.write_bytes(damage)
    assert fill() == "first x\n"
    assert compiled == [PROBE, PROBE]
    assert fill() == "first x\n" and compiled == [PROBE, PROBE]   # the entry was written again whole


def _file_in_the_way(cache_dir):
    shutil.rmtree(cache_dir)
    cache_dir.write_text("a file where the cache folder should be")


def _folders_in_the_way(cache_dir):
    for entry in [*cache_dir.rglob("*.cache"), *cache_dir.rglob("*.pickle")]:
        entry.unlink()
        entry.mkdir()


@pytest.mark.parametrize("block", [_file_in_the_way, _folders_in_the_way])
def test_a_cache_that_cannot_be_written_is_skipped(pack, cache_dir, block):
    _, compiled, fill = pack
    fill()
    cache.store(derive.get("mse"))
    block(cache_dir)
    assert fill() == "first x\n" and fill() == "first x\n"
    assert compiled == [PROBE] * 3
    cache.store(derive.get("mse"))
    assert cache.load("mse") is None
    assert not list(cache_dir.parent.rglob("*.tmp"))


class _Unpicklable:
    def __reduce__(self):
        raise pickle.PicklingError("cannot be kept")


def test_an_object_that_cannot_be_kept_leaves_nothing_behind(cache_dir):
    target = cache_dir / "entry.pickle"
    cache._write(target, lambda stream: pickle.dump(_Unpicklable(), stream))
    assert not list(cache_dir.rglob("*"))
