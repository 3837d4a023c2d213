"""Face tracks across frames: a stable id per face, and an identity that does not flicker.

A robot sees the same person many times a second; one blurred frame should not turn "alice" into
"unknown" and back. Faces are matched to the previous frame's tracks by box overlap (greedy IoU,
enough for faces at camera rate), and each track keeps decaying votes for the names it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .mtcnn_math import iou_matrix
from .names import UNCHECKED


@dataclass
class Track:
    track_id: int
    box: np.ndarray
    missed: int = 0
    votes: dict[str, float] = field(default_factory=dict)

    def vote(self, identity: str, decay: float) -> str:
        for name in self.votes:
            self.votes[name] *= decay
        self.votes[identity] = self.votes.get(identity, 0.0) + 1.0
        return max(self.votes, key=self.votes.get)


class FaceTracker:
    def __init__(self, min_iou: float = 0.3, max_missed: int = 15, decay: float = 0.7) -> None:
        self.min_iou = min_iou  # overlap with last frame's box to be the same face
        self.max_missed = max_missed  # frames a track survives without its face
        self.decay = decay  # weight of older votes per frame: 0.7 forgets in about 5 frames
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, faces: list) -> None:
        """Give each face (RecognizedFace) a `track_id` and its track's voted `identity`, in place."""
        boxes = np.array([f.box for f in faces], np.float64).reshape(-1, 4)
        previous = np.array([t.box for t in self.tracks], np.float64).reshape(-1, 4)
        overlap = iou_matrix(boxes, previous) if len(faces) and self.tracks else np.zeros((len(faces), 0))
        assigned: dict[int, Track] = {}
        taken: set[int] = set()
        for flat in np.argsort(-overlap, axis=None):  # best overlaps first
            i, j = divmod(int(flat), overlap.shape[1])
            if overlap[i, j] < self.min_iou:
                break
            if i not in assigned and j not in taken:
                assigned[i] = self.tracks[j]
                taken.add(j)
        updated = set()
        for i, face in enumerate(faces):
            track = assigned.get(i)
            if track is None:
                track = Track(self._next_id, boxes[i])
                self._next_id += 1
                self.tracks.append(track)
            track.box, track.missed = boxes[i], 0
            updated.add(track.track_id)
            face.track_id = track.track_id
            # The track's name wins over one frame's: a name needs a few frames to replace "unknown"
            # (no flashes of a wrong name) and one bad frame does not lose a known person. A face
            # not compared this frame (a crowd beyond max_faces) keeps what its track knows.
            if face.identity == UNCHECKED:
                if track.votes:
                    face.identity = max(track.votes, key=track.votes.get)
            else:
                face.identity = track.vote(face.identity, self.decay)
        for track in self.tracks:
            if track.track_id not in updated:
                track.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
