"""Where frames enter: cameras (USB/V4L2, Jetson CSI through GStreamer), streams, video files, folders.

ROS-free so that the CLI (`recognize --camera`) and the ROS camera node share it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageError
from .images import IMAGE_SUFFIXES, iter_image_paths, read_image


@dataclass
class CameraConfig:
    source: str = "csi"  # csi | a device index ("0") | a GStreamer pipeline ("... ! appsink") | URL | file | folder
    width: int = 640
    height: int = 480
    fps: float = 30.0
    flip: int = 0  # nvvidconv flip-method for CSI cameras (0 none, 2 rotate 180)
    loop: bool = False  # replay a video file or folder forever


def csi_pipeline(width: int, height: int, fps: float, flip: int, sensor_id: int = 0) -> str:
    """GStreamer pipeline for a Jetson CSI camera (nvarguscamerasrc) ending in a BGR appsink."""
    return (
        f"nvarguscamerasrc sensor-id={sensor_id} ! "
        f"video/x-raw(memory:NVMM), width=(int){width}, height=(int){height}, "
        f"framerate=(fraction){int(round(fps))}/1 ! "
        f"nvvidconv flip-method={flip} ! video/x-raw, format=(string)BGRx ! "
        "videoconvert ! video/x-raw, format=(string)BGR ! appsink drop=true max-buffers=1 sync=false"
    )


def describe_source(source: str) -> str:
    """What kind of source a string names: csi, device, gstreamer, url, folder, file."""
    if source == "csi":
        return "csi"
    if source.isdigit():
        return "device"
    if "!" in source:
        return "gstreamer"
    if "://" in source:
        return "url"
    if Path(source).is_dir():
        return "folder"
    return "file"


def open_capture(config: CameraConfig) -> cv2.VideoCapture:
    """An opened cv2.VideoCapture for a camera, stream or video file; ImageError when it cannot open."""
    kind = describe_source(config.source)
    if kind == "csi":
        cap = cv2.VideoCapture(csi_pipeline(config.width, config.height, config.fps, config.flip), cv2.CAP_GSTREAMER)
    elif kind == "gstreamer":
        cap = cv2.VideoCapture(config.source, cv2.CAP_GSTREAMER)
    elif kind == "device":
        cap = cv2.VideoCapture(int(config.source))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, config.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, config.height)
        cap.set(cv2.CAP_PROP_FPS, config.fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a queue of old ones
    else:
        cap = cv2.VideoCapture(config.source)
    if not cap.isOpened():
        cap.release()
        hint = " (OpenCV needs GStreamer support: use JetPack's OpenCV)" if kind in ("csi", "gstreamer") else ""
        raise ImageError(f"cannot open camera source '{config.source}'{hint}")
    return cap


class FrameSource:
    """Frames from any source, one at a time; `read()` returns None at the end of a file or folder
    (unless looping) and raises ImageError when a live camera fails, so callers can reconnect."""

    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self.kind = describe_source(config.source)
        self._cap: cv2.VideoCapture | None = None
        self._files: list[Path] = []
        self._index = 0
        self.skipped: list[str] = []  # folder files that could not be read, with the reason
        self.open()

    def open(self) -> None:
        self.close()
        if self.kind == "folder":
            self._files = [p for p in iter_image_paths([self.config.source]) if p.suffix.lower() in IMAGE_SUFFIXES]
            if not self._files:
                raise ImageError(f"no images in folder {self.config.source}")
            self._index = 0
        else:
            self._cap = open_capture(self.config)

    @property
    def live(self) -> bool:
        return self.kind in ("csi", "device", "gstreamer", "url")

    def read(self) -> np.ndarray | None:
        if self.kind == "folder":
            return self._read_folder()
        if self._cap is None:
            raise ImageError("camera is closed")
        ok, frame = self._cap.read()
        if ok:
            return frame
        if self.kind == "file":
            if self.config.loop:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
                return frame if ok else None
            return None
        raise ImageError(f"camera source '{self.config.source}' stopped delivering frames")

    def frame_count(self) -> int | None:
        """Frames a video file says it holds (None for cameras, streams and folders)."""
        if self.kind != "file" or self._cap is None:
            return None
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        return count if count > 0 else None

    def _read_folder(self) -> np.ndarray | None:
        """The next readable image; an unreadable one is skipped and reported in `skipped` (once),
        so one bad file neither stops a folder nor, looping, replays the folder from its start."""
        for _ in range(len(self._files)):
            if self._index >= len(self._files):
                if not self.config.loop:
                    return None
                self._index = 0
            path = self._files[self._index]
            self._index += 1
            try:
                return read_image(path)
            except ImageError as exc:
                if str(exc) not in self.skipped:
                    self.skipped.append(str(exc))
        if self._index >= len(self._files) and not self.config.loop:
            return None
        raise ImageError(f"no readable image in folder {self.config.source}")

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __iter__(self) -> Iterator[np.ndarray]:
        while (frame := self.read()) is not None:
            yield frame


def backoff_delays(first: float = 0.5, maximum: float = 8.0) -> Iterator[float]:
    """Reconnection delays: 0.5, 1, 2, 4, 8, 8, ... seconds."""
    delay = first
    while True:
        yield delay
        delay = min(maximum, delay * 2)
