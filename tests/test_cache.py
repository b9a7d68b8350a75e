"""The disk cache of verified derivations: a faithful round trip, and never a wrong or broken load."""

import pytest

import derive
from derive import cache
from derive.errors import UnknownNameError


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("DERIVE_NO_CACHE", raising=False)
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path))
    return tmp_path


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
