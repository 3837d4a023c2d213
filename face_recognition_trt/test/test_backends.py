"""Backend selection, here where TensorRT is absent: auto falls back, an explicit request fails clearly."""

from __future__ import annotations

import importlib.util

import pytest
from face_recognition_trt.backends import BackendOptions, selection
from face_recognition_trt.errors import BackendError


def test_auto_runs_a_real_model_on_what_this_machine_can_run(models_dir):
    """The real selection, nothing patched: TensorRT where it and a GPU are usable, else ONNX Runtime
    on the CPU; either way the model runs a batch."""
    import numpy as np

    backend = selection.create_backend(models_dir / "mtcnn_onet.onnx", BackendOptions(kind="auto"))
    expected = "tensorrt" if selection.tensorrt_available() else "onnxruntime:CPUExecutionProvider"
    assert backend.name.startswith(expected)
    outputs = backend.run({backend.input_names[0]: np.zeros((3, 3, 48, 48), np.float32)})
    assert set(outputs) == set(backend.output_names) and all(len(v) == 3 for v in outputs.values())
    assert selection.resolve_backend_kind("onnxruntime") == "onnxruntime"  # an explicit choice is kept


def test_explicit_tensorrt_without_it_says_what_to_do(monkeypatch):
    monkeypatch.setattr(selection, "tensorrt_available", lambda: False)
    with pytest.raises(BackendError, match="TensorRT or a CUDA GPU is not available.*--backend onnxruntime"):
        selection.resolve_backend_kind("tensorrt")
    with pytest.raises(BackendError, match="unknown backend 'cuda'"):
        selection.resolve_backend_kind("cuda")


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="TensorRT is installed here")
def test_without_tensorrt_the_backend_module_does_not_import_and_auto_is_onnxruntime():
    with pytest.raises(ImportError):
        importlib.import_module("face_recognition_trt.backends.tensorrt_backend")
    assert selection.tensorrt_available() is False
    assert selection.resolve_backend_kind("auto") == "onnxruntime"


def test_cli_tensorrt_request_fails_with_one_line(capsys, samples, models_dir, monkeypatch):
    from face_recognition_trt.cli import main

    monkeypatch.setattr(selection, "tensorrt_available", lambda: False)
    assert main(["--backend", "tensorrt", "detect", str(samples / "portraits/joe_biden_1.jpg")]) == 1
    err = capsys.readouterr().err
    assert "backend 'tensorrt' requested" in err and err.count("\n") == 1


def test_int8_keeps_mtcnn_in_fp16_and_profiles_cover_the_frame(models_dir, monkeypatch):
    from face_recognition_trt.detect import mtcnn

    seen = {}

    def record(path, options, profile=None, calibration=None):
        seen[path.name] = (options.precision, profile)
        return selection.create_backend(path, BackendOptions(kind="onnxruntime"))

    monkeypatch.setattr(mtcnn, "create_backend", record)
    mtcnn.MtcnnDetector(models_dir, BackendOptions(kind="tensorrt", precision="int8"), max_frame=(480, 640))
    assert {precision for precision, _ in seen.values()} == {"fp16"}
    lo, opt, hi = seen["mtcnn_pnet.onnx"][1]["input"]
    assert opt == (1, 3, 289, 385)  # the first pyramid level of a 640x480 frame at min_face 20
    assert hi == (1, 3, 481, 641)  # the first level at min_face 12: any run-time min_face fits
    # R-Net and O-Net batches reach 32 candidates per face of the profile's batch (max_faces)
    assert seen["mtcnn_rnet.onnx"][1]["input"][2] == (BackendOptions().max_batch * 32, 3, 24, 24)
    assert seen["mtcnn_onet.onnx"][1]["input"][2] == (BackendOptions().max_batch * 32, 3, 48, 48)


def test_int8_calibration_chips_come_from_a_folder_of_photos(pipeline, samples, tmp_path):
    from face_recognition_trt.errors import ImageError
    from face_recognition_trt.tooling.calibration import calibration_chips

    spec = pipeline.embedder.spec
    chips = calibration_chips(pipeline.detector, samples / "portraits", spec, limit=5)
    assert chips.shape == (5, 150, 150, 3) and chips.dtype.name == "uint8"
    tensor = pipeline.embedder.preprocess(chips)  # what the INT8 calibrator is fed
    assert tensor.shape[1:] == (3, 150, 150) and tensor.dtype.name == "float32"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageError, match="no faces found for INT8 calibration"):
        calibration_chips(pipeline.detector, tmp_path / "empty", spec)
