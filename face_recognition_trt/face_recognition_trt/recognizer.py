"""Enroll and recognise: the pipeline, the gallery and the matcher put together.

Used by the CLI and by the ROS nodes alike, so both behave the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from .detect.mtcnn import Detections
from .errors import EnrollmentError
from .gallery.base import Gallery, Sample
from .gallery.open import open_gallery
from .match.cohort import resolve_cohort
from .match.matcher import DEFAULT_THRESHOLDS, FALLBACK_THRESHOLDS, Matcher, Thresholds
from .match.tracking import FaceTracker
from .names import UNCERTAIN, UNCHECKED, validate_name
from .pipeline import FacePipeline, FrameResult, PipelineConfig
from .quality import QualityConfig, check_quality, check_upright, choose_face
from .settings import default, value


@dataclass
class RecognizedFace:
    box: np.ndarray
    score: float
    landmarks: np.ndarray
    identity: str  # display name, "unknown", "uncertain" or "unchecked" (names.py)
    similarity: float  # cosine similarity to the best candidate
    track_id: int | None = None  # set when tracking (a video, a camera, the ROS nodes)
    candidate: str | None = None  # the best candidate when "uncertain": for an operator, never a result

    def to_json(self) -> dict:
        out = {
            "box": [round(float(v), 1) for v in self.box],
            "score": round(self.score, 4),
            "identity": self.identity,
            "similarity": round(self.similarity, 4),
        }
        if self.track_id is not None:
            out["track_id"] = self.track_id
        if self.identity == UNCERTAIN and self.candidate:
            out["candidate"] = self.candidate
        return out


@dataclass
class RecognizerConfig:
    threshold: float | None = None  # cosine; None (or a negative value): the embedder's calibrated default
    norm_threshold: float | None = None  # cohort-normalised; None or negative: the embedder's default
    cohort: str = default("cohort")  # cohort.resolve_cohort's setting: "", "off" or a file
    margin: float = default("margin")
    quality: QualityConfig = field(default_factory=QualityConfig)
    thumbnails: bool = False  # keep a 64x64 JPEG of each enrolled face (biometric data: opt-in)
    track: bool = False  # frames of one stream: track faces (ids, identities voted over frames)

    @classmethod
    def from_values(cls, values: dict, track: bool | None = None, thumbnails: bool = False) -> RecognizerConfig:
        """From flat settings (CLI flags, ROS parameters; see settings.py)."""
        return cls(
            threshold=value(values, "threshold"),
            norm_threshold=value(values, "norm_threshold"),
            cohort=value(values, "cohort"),
            margin=value(values, "margin"),
            quality=QualityConfig(min_enroll_face=value(values, "min_enroll_face")),
            thumbnails=thumbnails,
            track=value(values, "track_faces") if track is None else track,
        )


def open_pipeline_gallery(
    location: str | Path | None, pipeline: FacePipeline, password_file: str | None = None
) -> Gallery:
    """The gallery at `location` (a file, a postgresql:// URL, or empty: the user's data dir) for
    the pipeline's embedder."""
    spec = pipeline.embedder.spec
    return open_gallery(location, spec.name, spec.version, spec.dim, password_file or None)


def open_configured_gallery(values: dict, pipeline: FacePipeline) -> Gallery:
    """The gallery of the settings `gallery` and `gallery_password_file` (CLI flags, ROS parameters)."""
    return open_pipeline_gallery(value(values, "gallery"), pipeline, value(values, "gallery_password_file"))


def build_recognizer(values: dict, track: bool | None = None, thumbnails: bool = False) -> Recognizer:
    """The whole engine from flat settings (CLI flags or ROS parameters: settings.py): the pipeline,
    its gallery and the recognizer. `track`: None follows the `track_faces` setting."""
    pipeline = FacePipeline(PipelineConfig.from_values(values))
    config = RecognizerConfig.from_values(values, track=track, thumbnails=thumbnails)
    return Recognizer(pipeline, open_configured_gallery(values, pipeline), config)


class Recognizer:
    def __init__(self, pipeline: FacePipeline, gallery: Gallery, config: RecognizerConfig | None = None) -> None:
        self.pipeline = pipeline
        self.gallery = gallery
        self.config = config or RecognizerConfig()
        spec = pipeline.embedder.spec
        self.cohort = resolve_cohort(self.config.cohort, pipeline.config.models_dir, spec)
        self.matcher = Matcher(self._thresholds(), self.config.margin, self.cohort)
        self.tracker = FaceTracker() if self.config.track else None
        self._gallery_generation: int | None = None  # of the gallery the tracks were compared with

    def _thresholds(self) -> Thresholds:
        """The embedder's calibrated thresholds (docs/accuracy.md), with the configured overrides.
        An override lower than the uncertain band's floor moves the floor with it."""
        t = DEFAULT_THRESHOLDS.get(self.pipeline.embedder.spec.name, FALLBACK_THRESHOLDS)
        cosine, norm = self.config.threshold, self.config.norm_threshold
        if cosine is not None and cosine >= 0:
            t = replace(t, cosine=cosine, cosine_uncertain=min(t.cosine_uncertain, cosine))
        if norm is not None and norm >= 0:
            t = replace(t, normalised=norm, normalised_uncertain=min(t.normalised_uncertain, norm))
        return t

    def decision_rule(self) -> str:
        """One line for logs and /diagnostics: how faces are named right now."""
        t = self.matcher.thresholds
        if self.cohort is None:
            return f"cosine >= {t.cosine:g}, uncertain >= {t.cosine_uncertain:g} (no cohort)"
        return (
            f"cohort-normalised >= {t.normalised:g}, uncertain >= {t.normalised_uncertain:g} "
            f"(cohort of {len(self.cohort.embeddings)} faces)"
        )

    def update(
        self,
        threshold: float | None = None,
        norm_threshold: float | None = None,
        margin: float | None = None,
        min_enroll_face: float | None = None,
        **detector_settings: float | None,
    ) -> None:
        """Change the settings that may change while running (`settings.runtime_values`): these,
        and the detector's (min_face, scale_factor, score_threshold, border_pad). None keeps a value,
        except the thresholds, where a negative value returns to the embedder's default."""
        self.pipeline.update(**detector_settings)
        if threshold is not None:
            self.config.threshold = threshold
        if norm_threshold is not None:
            self.config.norm_threshold = norm_threshold
        self.matcher.thresholds = self._thresholds()
        if margin is not None:
            self.config.margin = self.matcher.margin = margin
        if min_enroll_face is not None:
            self.config.quality.min_enroll_face = min_enroll_face

    # --- recognition -----------------------------------------------------------------------------

    def label(self, result: FrameResult) -> list[RecognizedFace]:
        embedded = [f for f in result.faces if f.embedding is not None]
        matches = iter(self._match(np.array([f.embedding for f in embedded])) if embedded else [])
        out = []
        for face in result.faces:
            m = next(matches) if face.embedding is not None else None
            out.append(
                RecognizedFace(
                    face.box,
                    face.score,
                    face.landmarks,
                    m.identity if m else UNCHECKED,
                    m.similarity if m else 0.0,
                    candidate=m.candidate if m else None,
                )
            )
        if self.tracker is not None:
            self.tracker.update(out)  # track ids, and identities voted over recent frames
        return out

    def _match(self, embeddings: np.ndarray) -> list:
        """Where a face's embedding meets the gallery: against the samples the store offers for them
        (every sample, or a database index's shortlist for a large fleet gallery)."""
        return self.matcher.match(embeddings, self.gallery.candidates(embeddings))

    def recognize(self, frame: np.ndarray) -> tuple[list[RecognizedFace], dict[str, float]]:
        if self.tracker is not None:
            _, faces, timings = self.recognize_tracked(frame)
            return faces, timings
        result = self.pipeline.process(frame)
        faces = self.label(result)
        return faces, result.timings

    def recognize_tracked(self, frame: np.ndarray) -> tuple[Detections, list[RecognizedFace], dict[str, float]]:
        """A frame of a stream, doing only the work tracking leaves: between full detections the
        known faces are found again by O-Net alone (`MtcnnDetector.follow`), and a face is embedded
        again only when `FaceTracker.needs_embedding` says so. Returns the detections too (the
        nodes publish them)."""
        start = time.perf_counter()
        tracker, pipeline = self.tracker, self.pipeline
        generation = self.gallery.generation()
        if generation != self._gallery_generation:  # enrolled, renamed or forgotten, here or elsewhere
            tracker.gallery_changed()
            self._gallery_generation = generation
        detections = None
        if not tracker.full_detection_due():
            followed = tracker.live_boxes()
            detections = pipeline.detector.follow(frame, followed)
            if len(detections) < len(followed):  # someone moved out of reach: look everywhere
                detections = None
        if detections is None:
            detections = pipeline.detect(frame)
            tracker.detected_at = tracker.frame + 1
        tracks = tracker.assign(detections.boxes)
        sizes = detections.sizes()
        due = [i for i, t in enumerate(tracks) if tracker.needs_embedding(t, sizes[i], detections.scores[i])]
        timings = dict(detections.timings)
        embedded = {}
        if due:
            result = pipeline.embed_detections(frame, detections.subset(due))  # the largest max_faces of them
            embedded = {due[k]: f for k, f in enumerate(result.faces) if f.embedding is not None}
            timings.update(align=result.timings["align"], embed=result.timings["embed"])
        keys = list(embedded)
        matches = self._match(np.array([embedded[i].embedding for i in keys])) if keys else []
        fresh = dict(zip(keys, matches))
        faces = []
        for i, track in enumerate(tracks):
            if i in fresh:
                m = fresh[i]
                identity = tracker.record(track, m.identity, m.similarity, sizes[i], float(detections.scores[i]))
                candidate = m.candidate
            else:  # compared on an earlier frame of this track, or never (a crowd beyond max_faces)
                identity, candidate = track.identity or UNCHECKED, None
            face = RecognizedFace(
                detections.boxes[i], float(detections.scores[i]), detections.landmarks[i], identity, track.similarity
            )
            face.track_id, face.candidate = track.track_id, candidate
            faces.append(face)
        timings["total"] = time.perf_counter() - start
        return detections, faces, timings

    def recognize_detections(self, frame: np.ndarray, detections: Detections) -> tuple[list[RecognizedFace], dict]:
        """For a detector that ran elsewhere (the ROS detector node)."""
        result = self.pipeline.embed_detections(frame, detections)
        return self.label(result), result.timings

    # --- enrollment ------------------------------------------------------------------------------

    def sample_from_frame(self, frame: np.ndarray, take_largest: bool = False, source: str | None = None) -> Sample:
        """The enrollment sample of a photo or live frame, or EnrollmentError with the reason."""
        result = self.pipeline.process(frame, keep_chips=True)
        index = choose_face(result.faces, take_largest, self.config.quality)
        face = result.faces[index]
        if face.embedding is None:
            raise EnrollmentError("the face was not embedded (too many faces in the frame)")
        chip = face.chip
        quality = check_quality(face, chip, self.config.quality)
        check_upright(face, self.pipeline.detector.orientation_probabilities(frame, face.box))
        thumb = None
        if self.config.thumbnails:
            ok, jpeg = cv2.imencode(".jpg", cv2.resize(chip, (64, 64), interpolation=cv2.INTER_AREA))
            thumb = jpeg.tobytes() if ok else None
        return Sample(face.embedding.copy(), quality, source, thumb)

    def enroll(self, name: str, samples: list[Sample], add_to_existing: bool = False) -> int:
        validate_name(name)
        return self.gallery.enroll(name, samples, add_to_existing)
