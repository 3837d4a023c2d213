"""`models fetch`: idempotence, checksum verification, clear errors for missing tools."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
from face_recognition_trt.errors import FetchError
from face_recognition_trt.models import fetch as fetch_mod
from face_recognition_trt.models import registry


@pytest.fixture
def models_copy(models_dir, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(models_dir, target)
    return target


def test_fetch_is_idempotent_and_downloads_nothing_when_current(models_copy, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("fetch ran a download although every model is current")

    monkeypatch.setattr(fetch_mod.subprocess, "run", no_network)
    lines = []
    manifest = fetch_mod.fetch(models_copy, log=lines.append)
    assert any("MTCNN: up to date" in line for line in lines)
    assert any("dlib-resnet-v1: up to date" in line for line in lines)
    assert set(manifest["models"]) >= {"mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet", "dlib-resnet-v1"}


def test_altered_model_is_fetched_again(models_copy, monkeypatch):
    (models_copy / registry.MTCNN_FILES["rnet"]).write_bytes(b"tampered")
    calls = []

    def record(cmd, **kwargs):
        calls.append(cmd)
        raise FileNotFoundError(cmd[0])

    monkeypatch.setattr(fetch_mod.subprocess, "run", record)
    with pytest.raises(FetchError, match="not found"):
        fetch_mod.fetch(models_copy, log=lambda _: None)
    assert "download" in calls[0]


def test_manifest_records_sources_and_checksums(models_dir):
    manifest = json.loads((models_dir / registry.MANIFEST).read_text())["models"]
    dlib = manifest["dlib-resnet-v1"]
    assert dlib["source"] == "npm:@vladmandic/face-api@1.7.15"
    assert dlib["sha256_weights"] == registry.FACE_API.files["package/model/face_recognition_model.bin"]
    assert dlib["sha256_onnx"] == fetch_mod.sha256_file(models_dir / dlib["file"])
    assert manifest["mtcnn-pnet"]["source"] == "pip:facenet-pytorch==2.6.0"


def test_checksum_mismatch_is_refused(tmp_path):
    wrong = dataclasses.replace(registry.FACENET_PYTORCH, files={"facenet_pytorch/data/pnet.pt": "0" * 64})
    with pytest.raises(FetchError, match="checksum mismatch.*pnet.pt"):
        fetch_mod.download_pip(wrong, tmp_path)


def test_missing_npm_is_named(tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no npm anywhere
    with pytest.raises(FetchError, match="'npm' not found: install Node.js and npm"):
        fetch_mod.download_npm(registry.FACE_API, tmp_path / "work")


def test_unknown_package_version_fails_clearly(tmp_path):
    missing = dataclasses.replace(registry.FACENET_PYTORCH, version="0.0.0.0")
    with pytest.raises(FetchError, match="pip download"):
        fetch_mod.download_pip(missing, tmp_path)


def test_unknown_embedder(tmp_path):
    with pytest.raises(FetchError, match="unknown embedder"):
        fetch_mod.fetch(tmp_path, embedders=["nope"], log=lambda _: None)


def test_facenet_without_network_or_file_says_how(tmp_path, monkeypatch, models_copy):
    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(FetchError, match="--checkpoint FILE"):
        fetch_mod.fetch(models_copy, embedders=["facenet-vggface2"], log=lambda _: None)


def test_facenet_from_a_user_checkpoint_runs_in_the_pipeline(models_copy, tmp_path, read):
    """No FaceNet checkpoint can be downloaded here: a randomly initialised one in the published
    format (a state dict with a classifier) goes through `models fetch --checkpoint` and the pipeline."""
    torch = pytest.importorskip("torch")
    from face_recognition_trt.models.inception_resnet_v1 import InceptionResnetV1
    from face_recognition_trt.pipeline import FacePipeline, PipelineConfig

    torch.manual_seed(0)
    state = InceptionResnetV1().state_dict()
    state["logits.weight"] = torch.zeros(8631, 512)
    state["logits.bias"] = torch.zeros(8631)
    checkpoint = tmp_path / "20180402-114759-vggface2.pt"
    torch.save(state, checkpoint)
    lines = []
    manifest = fetch_mod.fetch(models_copy, embedders=["facenet-vggface2"], checkpoint=checkpoint, log=lines.append)
    entry = manifest["models"]["facenet-vggface2"]
    assert entry["sha256_weights"] == fetch_mod.sha256_file(checkpoint)
    assert any("no pinned checksum" in line for line in lines)
    pipeline = FacePipeline(PipelineConfig(models_dir=models_copy, embedder="facenet-vggface2"))
    faces = pipeline.process(read("portraits/joe_biden_1.jpg")).faces
    assert len(faces) == 1 and faces[0].embedding.shape == (512,)
    assert np.linalg.norm(faces[0].embedding) == pytest.approx(1.0, abs=1e-5)
