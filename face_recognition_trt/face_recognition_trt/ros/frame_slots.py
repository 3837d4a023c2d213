"""Where frames wait for the worker: the newest camera frame, and images paired with detections.

Plain Python with a lock each (ROS callbacks fill them from one thread, the worker empties them from
another), so the logic is tested without ROS.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

KEEP_FRAMES = 30  # about two seconds of images at 15 fps wait for their detections


class NewestFrame:
    """Holds one frame: a newer one replaces it, and the replaced frame is counted as dropped
    (the worker is the bottleneck, and stale frames are worth less than fresh ones)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Any = None

    def put(self, frame: Any) -> bool:
        """Keep `frame`; True when it replaced one that was never taken (a dropped frame)."""
        with self._lock:
            replaced = self._frame is not None
            self._frame = frame
            return replaced

    def take(self) -> Any:
        """The newest frame, or None when there is none waiting."""
        with self._lock:
            frame, self._frame = self._frame, None
            return frame


class StampPairing:
    """Pairs detections with the image (and landmarks) of the same camera frame.

    Images, detections and landmarks of one frame share the image's header stamp exactly (the
    detector copies it), so an exact-stamp cache of recent images is enough. Only the newest
    detections wait for their image; older waiting detections are dropped.
    """

    def __init__(self, keep: int = KEEP_FRAMES) -> None:
        self._lock = threading.Lock()
        self._keep = keep
        self._images: collections.OrderedDict = collections.OrderedDict()
        self._landmarks: collections.OrderedDict = collections.OrderedDict()
        self._pending: Any = None
        self._pending_key: tuple | None = None

    def _remember(self, cache: collections.OrderedDict, key: tuple, value: Any) -> None:
        cache[key] = value
        while len(cache) > self._keep:
            cache.popitem(last=False)

    def add_image(self, key: tuple, image: Any) -> None:
        with self._lock:
            self._remember(self._images, key, image)

    def add_landmarks(self, key: tuple, landmarks: Any) -> None:
        with self._lock:
            self._remember(self._landmarks, key, landmarks)

    def add_detections(self, key: tuple, detections: Any) -> bool:
        """Wait for this frame's image; True when it replaced detections still waiting (dropped)."""
        with self._lock:
            replaced = self._pending is not None
            self._pending, self._pending_key = detections, key
            return replaced

    def take(self) -> tuple[Any, Any, Any] | None:
        """(image, detections, landmarks or None) when the waiting detections have their image."""
        with self._lock:
            if self._pending is None or self._pending_key not in self._images:
                return None  # its image has not arrived yet (or is long gone)
            key, detections = self._pending_key, self._pending
            self._pending, self._pending_key = None, None
            return self._images[key], detections, self._landmarks.get(key)
