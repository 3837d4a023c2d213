"""MTCNN face detector (Zhang et al. 2016) over any inference backend.

Frame in (BGR uint8), faces out: boxes, scores and 5 landmarks in original-image pixels. The
arithmetic lives in `mtcnn_math`; this module runs the three networks and strings the stages.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..backends import Backend, BackendOptions, create_backend
from ..models.installed import verify_model
from ..models.registry import MTCNN_FILES
from ..settings import SMALLEST_MIN_FACE, default
from . import mtcnn_math


@dataclass
class DetectorConfig:
    min_face: float = default("min_face")  # pixels: smaller faces are not searched for
    factor: float = default("scale_factor")  # pyramid step
    thresholds: tuple[float, float, float] = (0.6, 0.7, default("score_threshold"))  # P-, R-, O-Net probability
    nms: tuple[float, float, float, float] = (0.5, 0.7, 0.7, 0.7)  # per scale, P, R, O (min)
    border_pad: float = default("border_pad")  # grey border, as a fraction of the frame, for cut faces


@dataclass
class Detections:
    """Faces of one frame, best score first."""

    boxes: np.ndarray  # N x 4 float32, (x1, y1, x2, y2)
    scores: np.ndarray  # N float32
    landmarks: np.ndarray  # N x 5 x 2 float32: left eye, right eye, nose, mouth left, mouth right
    timings: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.scores)

    @staticmethod
    def empty() -> Detections:
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32))

    def sizes(self) -> np.ndarray:
        """Each face's size: the shorter side of its box, pixels."""
        return np.minimum(self.boxes[:, 2] - self.boxes[:, 0], self.boxes[:, 3] - self.boxes[:, 1])

    def subset(self, index) -> Detections:
        """The faces at `index` (a mask or indices), in that order, with the same timings."""
        return Detections(self.boxes[index], self.scores[index], self.landmarks[index], self.timings)


PNET_WINDOW = mtcnn_math.PNET_CELL
BORDER_FACE = 0.2  # the border pass looks for faces of at least this fraction of the shorter side
# ... and keeps only confident ones: false faces on clothes, paintings or furniture were measured at
# 0.71-0.87 on other projects' test photos, none at 0.9 or more (issue 13).
BORDER_MIN_SCORE = 0.9
MAX_WORK_PIXELS = 3840 * 2160  # larger frames are searched downscaled to this area (4K: 8.3 MP)


def pnet_profile(max_h: int, max_w: int, config: DetectorConfig) -> dict:
    """TensorRT shape range for P-Net: one profile from its 12x12 window up to the whole frame.

    The largest pyramid level of a frame is the frame itself at min_face 12, so any min_face set at
    run time stays inside the profile; the optimum is the largest level at the configured min_face.
    One engine over the range rather than one per pyramid level (the original TensorRT 7 project's
    way, before dynamic shapes): one build, one engine in memory.
    """
    largest = mtcnn_math.level_size(max_h, max_w, PNET_WINDOW / SMALLEST_MIN_FACE)
    usual = mtcnn_math.level_size(max_h, max_w, PNET_WINDOW / max(config.min_face, SMALLEST_MIN_FACE))
    return {"input": ((1, 3, 12, 12), (1, 3, *usual), (1, 3, *largest))}


class MtcnnDetector:
    def __init__(
        self,
        models_dir: Path,
        options: BackendOptions | None = None,
        config: DetectorConfig | None = None,
        max_frame: tuple[int, int] = (1080, 1920),
    ) -> None:
        options = options or BackendOptions()
        if options.precision == "int8":
            # INT8 is calibrated on aligned faces, which say nothing about MTCNN's inputs (pyramid
            # levels, box crops); the three small networks stay FP16.
            options = dataclasses.replace(options, precision="fp16")
        self.config = config or DetectorConfig()
        batch = options.max_batch * 32  # R-Net sees many candidates per face
        profiles = {
            "pnet": pnet_profile(*max_frame, self.config),
            "rnet": {"input": ((1, 3, 24, 24), (64, 3, 24, 24), (batch, 3, 24, 24))},
            "onet": {"input": ((1, 3, 48, 48), (8, 3, 48, 48), (batch, 3, 48, 48))},
        }
        self.nets: dict[str, Backend] = {
            net: create_backend(verify_model(models_dir, f"mtcnn-{net}", file), options, profiles[net])
            for net, file in MTCNN_FILES.items()
        }
        self.backend_name = self.nets["pnet"].name

    def update(
        self,
        min_face: float | None = None,
        scale_factor: float | None = None,
        score_threshold: float | None = None,
        border_pad: float | None = None,
    ) -> None:
        """Change the settings that may change while running (the rest needs a new detector)."""
        if border_pad is not None:
            self.config.border_pad = float(border_pad)
        if min_face is not None:
            self.config.min_face = max(float(min_face), SMALLEST_MIN_FACE)
        if scale_factor is not None:
            self.config.factor = float(scale_factor)
        if score_threshold is not None:
            self.config.thresholds = (*self.config.thresholds[:2], float(score_threshold))

    def detect(self, bgr: np.ndarray) -> Detections:
        """Detect faces in a BGR uint8 frame (H x W x 3); boxes and landmarks in its pixels.

        A frame over MAX_WORK_PIXELS is searched at a reduced size, so that neither time nor memory
        grows without bound with the input (a 39-megapixel photo took 21 s and 4 GB): faces under
        min_face / scale pixels are then out of reach, which at that size costs nothing in practice.
        """
        height, width = bgr.shape[:2]
        scale = min(1.0, (MAX_WORK_PIXELS / (height * width)) ** 0.5)
        if scale == 1.0:
            return self._with_border_faces(bgr, self._detect(bgr, self.config.min_face))
        small = cv2.resize(
            bgr, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
        )
        found = self._with_border_faces(small, self._detect(small, self.config.min_face * scale))
        factor_x, factor_y = width / small.shape[1], height / small.shape[0]
        found.boxes = found.boxes * np.float32([factor_x, factor_y, factor_x, factor_y])
        found.landmarks = found.landmarks * np.float32([factor_x, factor_y])
        return found

    def _with_border_faces(self, bgr: np.ndarray, found: Detections) -> Detections:
        """Add the large faces that the frame's edge cuts (someone stepping close to the camera).

        MTCNN needs most of a face inside its window, so a face cut by the edge is missed. A second
        pass looks for large faces only (at least BORDER_FACE of the shorter side) on the frame framed
        by a grey border; its confident faces join the first pass's where they do not overlap. Boxes
        and landmarks stay in the frame's pixels and may reach past its edge. Its time is the
        "border" stage (25-44 ms per 640x480 frame on a 2-core CPU, docs/accuracy.md).
        """
        pad_fraction = self.config.border_pad
        if pad_fraction <= 0:
            return found
        start = time.perf_counter()
        height, width = bgr.shape[:2]
        pad = int(round(pad_fraction * max(height, width)))
        framed = cv2.copyMakeBorder(bgr, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(128, 128, 128))
        big = self._detect(framed, max(self.config.min_face, BORDER_FACE * min(height, width)))
        big = big.subset(big.scores >= BORDER_MIN_SCORE)
        big.boxes -= pad
        big.landmarks -= pad
        if len(big) and len(found):
            big = big.subset(mtcnn_math.iou_matrix(big.boxes, found.boxes).max(axis=1) < 0.3)
        merged = Detections(
            np.concatenate([found.boxes, big.boxes]),
            np.concatenate([found.scores, big.scores]),
            np.concatenate([found.landmarks, big.landmarks]),
            dict(found.timings, border=time.perf_counter() - start),
        )
        return merged.subset(np.argsort(-merged.scores, kind="stable"))

    def _detect(self, bgr: np.ndarray, min_face: float) -> Detections:
        height, width = bgr.shape[:2]
        cfg = self.config
        timings = {}
        t0 = time.perf_counter()
        table = mtcnn_math.integral_image(bgr)  # every resize below reads this one table

        # Stage 1: P-Net over the image pyramid proposes boxes.
        candidates = []
        # Never below P-Net's window, whatever the config says: the pyramid's memory stays bounded.
        min_face = max(min_face, SMALLEST_MIN_FACE)
        for scale in mtcnn_math.pyramid_scales(height, width, min_face, cfg.factor):
            h, w = mtcnn_math.level_size(height, width, scale)
            level = mtcnn_math.area_resize(table, h, w)[None]
            out = self.nets["pnet"].run({"input": mtcnn_math.normalise(level, bgr=True)})
            boxes = mtcnn_math.generate_boxes(out["reg"][0], out["prob"][0, 1], scale, cfg.thresholds[0])
            candidates.append(boxes[mtcnn_math.nms(boxes[:, :4], boxes[:, 4], cfg.nms[0])])
        boxes = np.concatenate(candidates) if candidates else np.zeros((0, 9), np.float32)
        boxes = boxes[mtcnn_math.nms(boxes[:, :4], boxes[:, 4], cfg.nms[1])]
        boxes = mtcnn_math.apply_regression(boxes[:, :5], boxes[:, 5:9], plus_one=False)
        boxes = mtcnn_math.square(boxes)
        timings["pnet"] = time.perf_counter() - t0

        # Stage 2: R-Net rejects most proposals and refines the rest.
        t0 = time.perf_counter()
        if len(boxes):
            boxes, reg, _ = self._refine("rnet", table, boxes, 24, cfg.thresholds[1], width, height)
            keep = mtcnn_math.nms(boxes[:, :4], boxes[:, 4], cfg.nms[2])
            boxes = mtcnn_math.square(mtcnn_math.apply_regression(boxes[keep], reg[keep]))
        timings["rnet"] = time.perf_counter() - t0

        # Stage 3: O-Net gives final boxes, scores and landmarks.
        t0 = time.perf_counter()
        result = self._output_stage(table, boxes, width, height)
        timings["onet"] = time.perf_counter() - t0
        result.timings = timings
        return result

    def _output_stage(self, table: np.ndarray, boxes: np.ndarray, width: int, height: int) -> Detections:
        """O-Net on square boxes: final boxes, scores and landmarks, above the score threshold."""
        if not len(boxes):
            return Detections.empty()
        boxes, reg, marks = self._refine("onet", table, boxes, 48, self.config.thresholds[2], width, height)
        w = boxes[:, 2:3] - boxes[:, 0:1] + 1
        h = boxes[:, 3:4] - boxes[:, 1:2] + 1
        points = np.stack([w * marks[:, :5] + boxes[:, 0:1] - 1, h * marks[:, 5:] + boxes[:, 1:2] - 1], axis=2)
        boxes = mtcnn_math.apply_regression(boxes, reg)
        keep = mtcnn_math.nms(boxes[:, :4], boxes[:, 4], self.config.nms[3], mode="min")
        return Detections(
            boxes[keep, :4].astype(np.float32), boxes[keep, 4].astype(np.float32), points[keep].astype(np.float32)
        )

    def follow(self, bgr: np.ndarray, boxes: np.ndarray) -> Detections:
        """The faces of the previous frame, found again by O-Net alone on their squared boxes: the
        cheap step between full detections of a video (a face moves little from one frame to the
        next, and O-Net's box regression follows it). A face that moved out of its box scores under
        the threshold and is missing from the result: the caller then runs a full `detect`."""
        start = time.perf_counter()
        height, width = bgr.shape[:2]
        squared = mtcnn_math.square(np.column_stack([np.asarray(boxes, np.float32)[:, :4], np.ones(len(boxes))]))
        result = self._output_stage(mtcnn_math.integral_image(bgr), squared, width, height)
        result.timings = {"follow": time.perf_counter() - start}
        return result

    def landmarks_for_boxes(self, bgr: np.ndarray, boxes: np.ndarray, scores: np.ndarray) -> Detections:
        """Landmarks for face boxes found elsewhere (the detector node, any face detector).

        O-Net runs on each squared box, as the detector's last stage does; boxes wholly outside the
        frame are dropped.
        """
        if len(boxes) == 0:
            return Detections.empty()
        height, width = bgr.shape[:2]
        squared = mtcnn_math.square(np.asarray(boxes, np.float32)[:, :4])
        windows = mtcnn_math.clip_to_image(squared, width, height)
        valid = (windows[:, 2] > windows[:, 0]) & (windows[:, 3] > windows[:, 1])
        squared, windows = squared[valid], windows[valid]
        if not len(squared):
            return Detections.empty()
        crops = mtcnn_math.area_crops(mtcnn_math.integral_image(bgr), windows, 48, 48)
        marks = self.nets["onet"].run({"input": mtcnn_math.normalise(crops, bgr=True)})["landmarks"]
        w = squared[:, 2:3] - squared[:, 0:1] + 1
        h = squared[:, 3:4] - squared[:, 1:2] + 1
        points = np.stack([w * marks[:, :5] + squared[:, 0:1] - 1, h * marks[:, 5:] + squared[:, 1:2] - 1], axis=2)
        boxes = np.asarray(boxes, np.float32)[valid]
        return Detections(boxes, np.asarray(scores, np.float32)[valid], points.astype(np.float32))

    def orientation_probabilities(self, bgr: np.ndarray, box: np.ndarray) -> np.ndarray:
        """O-Net's face probability for the box's square turned by 0, 90, 180 and 270 degrees
        (counter-clockwise). An upright face scores best at 0: enrollment uses it to refuse faces
        on their side or upside down, whose landmarks O-Net still places as if upright."""
        x1, y1, x2, y2 = (float(v) for v in box[:4])
        centre, side = ((x1 + x2) / 2, (y1 + y2) / 2), max(x2 - x1, y2 - y1)
        crops = []
        for quarter in range(4):
            turn = cv2.getRotationMatrix2D(centre, 90.0 * quarter, 48.0 / side)
            turn[:, 2] += 24.0 - np.array(centre)  # the box's centre to the crop's centre
            crops.append(cv2.warpAffine(bgr, turn, (48, 48), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE))
        out = self.nets["onet"].run({"input": mtcnn_math.normalise(np.stack(crops), bgr=True)})
        return out["prob"][:, 1].astype(np.float32)

    def _refine(
        self, net: str, table: np.ndarray, boxes: np.ndarray, size: int, threshold: float, width: int, height: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Run R-Net or O-Net on all boxes in one batch; keep those above the threshold."""
        windows = mtcnn_math.clip_to_image(boxes, width, height)
        valid = (windows[:, 2] > windows[:, 0]) & (windows[:, 3] > windows[:, 1])
        boxes, windows = boxes[valid], windows[valid]
        crops = mtcnn_math.area_crops(table, windows, size, size)
        out = self.nets[net].run({"input": mtcnn_math.normalise(crops, bgr=True)})
        score = out["prob"][:, 1]
        keep = score > threshold
        refined = np.column_stack([boxes[keep, :4], score[keep]])
        marks = out["landmarks"][keep] if "landmarks" in out else None
        return refined, out["reg"][keep], marks
