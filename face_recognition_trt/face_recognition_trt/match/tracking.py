"""Face tracks across frames: a stable id per face, and an identity that does not flicker.

A robot sees the same person many times a second; one blurred frame should not turn "alice" into
"unknown" and back. Faces are matched to the previous frame's tracks by box overlap (greedy IoU,
enough for faces at camera rate), and each track keeps decaying votes for the names it was given.

Tracks also save work (`Recognizer.recognize_tracked`): the tracker says when a full detection is
due (`full_detection_due`) and which faces need a new embedding (`needs_embedding`); the rest of
the time the detector only follows the known faces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..detect.mtcnn_math import iou_matrix
from ..names import UNCHECKED


@dataclass
class Track:
    track_id: int
    box: np.ndarray
    missed: int = 0
    votes: dict[str, float] = field(default_factory=dict)
    embedded_at: int = -1  # frame number of the face's last embedding (-1: never)
    embedded_size: float = 0.0  # its size then, pixels
    embedded_score: float = 0.0  # its detection score then
    similarity: float = 0.0  # its similarity then

    @property
    def identity(self) -> str | None:
        """The name (or outcome) with the most votes, None before the first."""
        return max(self.votes, key=self.votes.get) if self.votes else None

    def vote(self, identity: str, decay: float) -> str:
        for name in self.votes:
            self.votes[name] *= decay
        self.votes[identity] = self.votes.get(identity, 0.0) + 1.0
        return max(self.votes, key=self.votes.get)


class FaceTracker:
    def __init__(
        self,
        min_iou: float = 0.3,
        max_missed: int = 15,
        decay: float = 0.7,
        reembed_every: int = 10,
        regrow: float = 1.25,
        score_drop: float = 0.1,
        detect_every: int = 5,
    ) -> None:
        self.min_iou = min_iou  # overlap with last frame's box to be the same face
        self.max_missed = max_missed  # frames a track survives without its face
        self.decay = decay  # weight of older votes per frame: 0.7 forgets in about 5 frames
        self.reembed_every = reembed_every  # frames between embeddings of a tracked face
        self.regrow = regrow  # re-embed a face this much larger than at its last embedding
        self.score_drop = score_drop  # re-embed a face whose detection score fell this much since
        self.detect_every = detect_every  # frames between full detections (new faces wait for one)
        self.tracks: list[Track] = []
        self.frame = 0
        self.detected_at = -detect_every  # frame of the last full detection
        self._next_id = 1

    def assign(self, boxes: np.ndarray) -> list[Track]:
        """The track of each box (new tracks for new faces); tracks not seen age, and die after
        `max_missed` frames. Every call is one frame."""
        self.frame += 1
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        previous = np.array([t.box for t in self.tracks], np.float64).reshape(-1, 4)
        overlap = iou_matrix(boxes, previous) if len(boxes) and self.tracks else np.zeros((len(boxes), 0))
        assigned: dict[int, Track] = {}
        taken: set[int] = set()
        for flat in np.argsort(-overlap, axis=None):  # best overlaps first
            i, j = divmod(int(flat), overlap.shape[1])
            if overlap[i, j] < self.min_iou:
                break
            if i not in assigned and j not in taken:
                assigned[i] = self.tracks[j]
                taken.add(j)
        out = []
        for i, box in enumerate(boxes):
            track = assigned.get(i)
            if track is None:
                track = Track(self._next_id, box)
                self._next_id += 1
                self.tracks.append(track)
            track.box, track.missed = box, 0
            out.append(track)
        seen = {t.track_id for t in out}
        for track in self.tracks:
            if track.track_id not in seen:
                track.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        return out

    def needs_embedding(self, track: Track, size: float, score: float) -> bool:
        """Re-embed a tracked face only when it is new, has grown (a closer face gives a better
        embedding), has lost confidence, or has gone `reembed_every` frames without one."""
        return (
            track.embedded_at < 0
            or self.frame - track.embedded_at >= self.reembed_every
            or size > self.regrow * track.embedded_size
            or score < track.embedded_score - self.score_drop
        )

    def gallery_changed(self) -> None:
        """Someone was enrolled, renamed or forgotten: compare every tracked face again on the next
        frame, rather than up to `reembed_every` frames later, and forget the votes, which were
        cast against the old gallery (a forgotten name must not live on in them)."""
        for track in self.tracks:
            track.embedded_at = -1
            track.votes.clear()

    def record(self, track: Track, identity: str, similarity: float, size: float, score: float) -> str:
        """A fresh comparison of the track's face: vote, remember it, return the voted identity."""
        track.embedded_at, track.embedded_size, track.similarity = self.frame, size, similarity
        track.embedded_score = score
        return track.vote(identity, self.decay)

    def full_detection_due(self) -> bool:
        """The next frame needs the whole detector: nobody to follow, or `detect_every` frames
        since the last full detection (new faces are found then)."""
        return not len(self.live_boxes()) or self.frame + 1 - self.detected_at >= self.detect_every

    def live_boxes(self) -> np.ndarray:
        """Boxes of the faces seen in the last frame (those `MtcnnDetector.follow` can find again)."""
        return np.array([t.box for t in self.tracks if t.missed == 0], np.float64).reshape(-1, 4)

    def update(self, faces: list) -> None:
        """Give each face (RecognizedFace) a `track_id` and its track's voted `identity`, in place."""
        tracks = self.assign(np.array([f.box for f in faces], np.float64).reshape(-1, 4))
        for face, track in zip(faces, tracks):
            face.track_id = track.track_id
            # The track's name wins over one frame's: a name needs a few frames to replace "unknown"
            # (no flashes of a wrong name) and one bad frame does not lose a known person. A face
            # not compared this frame (a crowd beyond max_faces) keeps what its track knows.
            if face.identity == UNCHECKED:
                face.identity = track.identity or UNCHECKED
            else:
                face.identity = track.vote(face.identity, self.decay)
