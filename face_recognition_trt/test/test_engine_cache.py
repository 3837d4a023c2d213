"""Engine cache logic without TensorRT: fake build/deserialize callables stand in for the builder."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest
from face_recognition_trt.backends import engine_cache
from face_recognition_trt.backends.engine_cache import EngineCache, EngineKey, default_engine_cache_dir
from face_recognition_trt.errors import BackendError

PROFILE = {"input": ((1, 3, 160, 160), (2, 3, 160, 160), (16, 3, 160, 160))}


def make_key(**changes) -> EngineKey:
    fields = dict(
        onnx_sha256="a" * 64,
        trt_version="10.3.0",
        gpu_name="Orin",
        compute_capability="8.7",
        precision="fp16",
        profile=PROFILE,
    )
    fields.update(changes)
    return EngineKey(**fields)


class FakeTensorRT:
    """build() returns a plan naming the key; deserialize() turns a plan back into an 'engine'."""

    def __init__(self, plan: bytes = b"PLAN") -> None:
        self.plan = plan
        self.builds = 0
        self.loads = 0

    def build(self) -> bytes:
        self.builds += 1
        return self.plan

    def deserialize(self, plan: bytes):
        self.loads += 1
        if not plan.startswith(b"PLAN"):
            raise RuntimeError("bad magic")
        return ("engine", plan)


@pytest.fixture
def cache(tmp_path) -> EngineCache:
    return EngineCache(tmp_path / "engines")


def get(cache: EngineCache, key: EngineKey, trt: FakeTensorRT, lines: list):
    return cache.get_or_build(key, "embedder", trt.build, trt.deserialize, lines.append)


# -- key ----------------------------------------------------------------------------------------


def test_digest_is_stable():
    assert make_key().digest() == make_key().digest()
    # lists or tuples, ints or numpy-like ints: the normalised profile hashes the same
    as_lists = {"input": [[1, 3, 160, 160], [2, 3, 160, 160], [16, 3, 160, 160]]}
    assert make_key(profile=as_lists).digest() == make_key().digest()
    assert make_key().filename("embedder") == f"embedder-{make_key().digest()[:16]}.engine"


@pytest.mark.parametrize(
    "change",
    [
        {"onnx_sha256": "b" * 64},
        {"trt_version": "10.4.0"},
        {"gpu_name": "GeForce RTX 3060"},
        {"compute_capability": "8.6"},
        {"precision": "fp32"},
        {"precision": "int8"},
        {"profile": {"input": ((1, 3, 160, 160), (2, 3, 160, 160), (32, 3, 160, 160))}},
        {"profile": {"data": PROFILE["input"]}},
    ],
)
def test_digest_changes_with_each_field(change):
    assert make_key(**change).digest() != make_key().digest()


def test_key_rejects_bad_precision_and_profile():
    with pytest.raises(ValueError):
        make_key(precision="fp8")
    with pytest.raises(ValueError):
        make_key(profile={"input": ((1, 3, 8, 8), (1, 3, 8, 8))})


def test_every_field_has_a_label():
    names = {f.name for f in dataclasses.fields(EngineKey)}
    assert names == {name for name, _ in engine_cache.FIELD_LABELS}


# -- get_or_build -------------------------------------------------------------------------------


def test_builds_once_then_loads_from_cache(cache):
    trt, lines = FakeTensorRT(), []
    first = get(cache, make_key(), trt, lines)
    assert trt.builds == 1
    assert any("no cached engine" in line for line in lines)
    second = get(cache, make_key(), trt, lines)
    assert trt.builds == 1
    assert first == second == ("engine", b"PLAN")
    path = cache.path_for(make_key(), "embedder")
    assert path.read_bytes() == b"PLAN"
    assert json.loads(cache.sidecar_for(path).read_text())["key"] == make_key().as_dict()
    # a fresh cache object (a new process) loads it too
    assert EngineCache(cache.directory).load(make_key(), "embedder", trt.deserialize) == ("engine", b"PLAN")


def test_changed_trt_version_rebuilds_and_names_it(cache):
    trt, lines = FakeTensorRT(), []
    get(cache, make_key(trt_version="10.3"), trt, lines)
    lines.clear()
    get(cache, make_key(trt_version="10.4"), trt, lines)
    assert trt.builds == 2
    assert len(lines) == 1
    assert "stale: TensorRT version changed 10.3->10.4" in lines[0]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"onnx_sha256": "b" * 64}, "ONNX model changed aaaaaaaaaaaa->bbbbbbbbbbbb"),
        ({"gpu_name": "Xavier"}, "GPU changed Orin->Xavier"),
        ({"compute_capability": "7.2"}, "compute capability changed 8.7->7.2"),
        ({"precision": "fp32"}, "precision changed fp16->fp32"),
        (
            {"profile": {"input": ((1, 3, 160, 160), (2, 3, 160, 160), (32, 3, 160, 160))}},
            "input shape profile changed",
        ),
    ],
)
def test_rebuild_reason_names_the_changed_field(cache, change, words):
    trt, lines = FakeTensorRT(), []
    get(cache, make_key(), trt, lines)
    lines.clear()
    get(cache, make_key(**change), trt, lines)
    assert trt.builds == 2
    assert words in lines[0]


def test_reason_prefers_the_closest_cached_engine(cache):
    trt, lines = FakeTensorRT(), []
    get(cache, make_key(precision="fp32", gpu_name="Xavier"), trt, lines)
    get(cache, make_key(precision="fp32"), trt, lines)
    lines.clear()
    get(cache, make_key(), trt, lines)  # closest cached one differs only in precision
    assert "precision changed fp32->fp16" in lines[0]


def test_other_models_do_not_count_as_stale(cache):
    trt, lines = FakeTensorRT(), []
    cache.get_or_build(make_key(), "mtcnn-pnet-big", trt.build, trt.deserialize, lines.append)
    lines.clear()
    cache.get_or_build(make_key(trt_version="10.4"), "mtcnn-pnet", trt.build, trt.deserialize, lines.append)
    assert "no cached engine" in lines[0]


def test_deleted_engine_is_simply_missing(cache):
    trt, lines = FakeTensorRT(), []
    get(cache, make_key(), trt, lines)
    get(cache, make_key(precision="fp32"), trt, lines)
    cache.path_for(make_key(), "embedder").unlink()  # the user deletes engines to force a rebuild
    cache.path_for(make_key(precision="fp32"), "embedder").unlink()
    lines.clear()
    get(cache, make_key(), trt, lines)
    assert trt.builds == 3
    assert "no cached engine" in lines[0]


def test_tampered_sidecar_is_a_key_mismatch(cache, caplog):
    trt, lines = FakeTensorRT(), []
    get(cache, make_key(), trt, lines)
    sidecar = cache.sidecar_for(cache.path_for(make_key(), "embedder"))
    data = json.loads(sidecar.read_text())
    data["key"]["trt_version"] = "10.2.0"
    sidecar.write_text(json.dumps(data))

    with caplog.at_level(logging.INFO, logger=engine_cache.__name__):
        assert cache.load(make_key(), "embedder", trt.deserialize) is None
    assert "key mismatch" in caplog.text and "TensorRT version changed 10.2.0->10.3.0" in caplog.text

    lines.clear()
    assert get(cache, make_key(), trt, lines) == ("engine", b"PLAN")
    assert trt.builds == 2
    assert "TensorRT version changed 10.2.0->10.3.0" in lines[0]
    assert json.loads(sidecar.read_text())["key"] == make_key().as_dict()  # rewritten


def test_engine_without_sidecar_is_rebuilt(cache):
    trt, lines = FakeTensorRT(), []
    get(cache, make_key(), trt, lines)
    cache.sidecar_for(cache.path_for(make_key(), "embedder")).unlink()
    lines.clear()
    get(cache, make_key(), trt, lines)
    assert trt.builds == 2
    assert "sidecar" in lines[0]


def test_corrupt_engine_is_deleted_and_rebuilt(cache, caplog):
    trt, lines = FakeTensorRT(), []
    get(cache, make_key(), trt, lines)
    path = cache.path_for(make_key(), "embedder")
    path.write_bytes(b"garbage")

    with caplog.at_level(logging.INFO, logger=engine_cache.__name__):
        assert cache.load(make_key(), "embedder", trt.deserialize) is None
    assert "corrupt" in caplog.text
    assert not path.exists() and not cache.sidecar_for(path).exists()

    path.write_bytes(b"garbage")  # corrupt again, now through get_or_build
    lines.clear()
    assert get(cache, make_key(), trt, lines) == ("engine", b"PLAN")
    assert trt.builds == 2
    assert "corrupt" in lines[0]
    assert path.read_bytes() == b"PLAN"


def test_deserialize_returning_none_counts_as_corrupt(cache):
    trt, lines = FakeTensorRT(), []
    get(cache, make_key(), trt, lines)
    lines.clear()
    builds_before = trt.builds
    calls = []

    def deserialize_once_none(plan):
        calls.append(plan)
        return None if len(calls) == 1 else ("engine", plan)  # TensorRT returns None for a bad plan

    assert cache.get_or_build(make_key(), "embedder", trt.build, deserialize_once_none, lines.append)
    assert trt.builds == builds_before + 1
    assert "corrupt" in lines[0]


def test_fresh_plan_that_cannot_load_raises_and_is_not_kept(cache):
    trt, lines = FakeTensorRT(plan=b"junk"), []
    with pytest.raises(RuntimeError):
        get(cache, make_key(), trt, lines)
    assert not cache.path_for(make_key(), "embedder").exists()

    with pytest.raises(BackendError):
        cache.get_or_build(make_key(), "embedder", trt.build, lambda plan: None, lines.append)
    assert not cache.path_for(make_key(), "embedder").exists()


def test_build_failure_stores_nothing(cache):
    def failing_build() -> bytes:
        raise BackendError("parser said no")

    with pytest.raises(BackendError):
        cache.get_or_build(make_key(), "embedder", failing_build, FakeTensorRT().deserialize, [].append)
    assert not cache.directory.exists() or not any(cache.directory.iterdir())


# -- files --------------------------------------------------------------------------------------


def test_timing_cache_round_trip(cache):
    assert cache.load_timing_cache() == b""
    cache.store_timing_cache(b"\x00timings\xff")
    assert cache.timing_cache_path() == cache.directory / "timing.cache"
    assert cache.load_timing_cache() == b"\x00timings\xff"
    cache.store_timing_cache(b"newer")
    assert EngineCache(cache.directory).load_timing_cache() == b"newer"


def test_atomic_store_leaves_no_tmp_files(cache):
    cache.store(make_key(), "embedder", b"PLAN" * 1000)
    cache.store(make_key(), "embedder", b"PLAN" * 10)  # overwrite
    cache.store_timing_cache(b"t")
    names = sorted(p.name for p in cache.directory.iterdir())
    assert not [n for n in names if n.endswith(".tmp")]
    path = cache.path_for(make_key(), "embedder")
    assert names == sorted([path.name, path.name + ".json", "timing.cache"])
    assert path.read_bytes() == b"PLAN" * 10


def test_failed_write_keeps_old_file_and_leaves_no_tmp(cache, monkeypatch):
    cache.store_timing_cache(b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(engine_cache.os, "replace", broken_replace)
    with pytest.raises(OSError):
        cache.store_timing_cache(b"new")
    monkeypatch.undo()
    assert cache.load_timing_cache() == b"old"
    assert not [p for p in cache.directory.iterdir() if p.name.endswith(".tmp")]


def test_unwritable_cache_still_returns_an_engine(cache, monkeypatch):
    def broken_store(*args, **kwargs):
        raise OSError("read-only file system")

    monkeypatch.setattr(cache, "store", broken_store)
    trt = FakeTensorRT()
    assert get(cache, make_key(), trt, []) == ("engine", b"PLAN")


def test_default_dir_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("FACE_RECOGNITION_TRT_ENGINES", str(tmp_path / "e"))
    assert default_engine_cache_dir() == tmp_path / "e"
    assert EngineCache().directory == tmp_path / "e"
    monkeypatch.delenv("FACE_RECOGNITION_TRT_ENGINES")
    default = default_engine_cache_dir()
    assert default.name == "engines" and "face_recognition_trt" in str(default)
