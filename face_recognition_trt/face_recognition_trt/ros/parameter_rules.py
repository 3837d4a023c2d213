"""Node parameters: the shared settings (../settings.py) plus what only the nodes have.

Plain Python so that the rules are tested without ROS; `parameter_declarations.declare_parameters` turns
these into rclpy declarations with ParameterDescriptors (read-only unless `runtime`), and refuses
bad values with the reason.
"""

from __future__ import annotations

from ..settings import DETECTION, MODELS, RECOGNITION, Setting

MAX_LATENCY = Setting(
    "max_latency_ms",
    250.0,
    "Diagnostics warn above this processing time per frame",
    minimum=1.0,
    maximum=60000.0,
    runtime=True,
)
SERVICES = (
    Setting(
        "enroll_timeout", 10.0, "Seconds to collect live enrollment frames", minimum=0.5, maximum=120.0, runtime=True
    ),
    Setting("annotate", True, "Publish faces/image_annotated (only while someone subscribes)", runtime=True),
    Setting(
        "read_only_gallery",
        False,
        "Refuse /enroll and /forget (each refusal is logged): for robots that only recognise",
    ),
)
CAMERA_PARAMS = (
    Setting("source", "csi", "csi | device index | GStreamer pipeline | URL | video file | image folder"),
    Setting("width", 640, "Frame width (CSI and USB cameras)", minimum=16, maximum=8192),
    Setting("height", 480, "Frame height (CSI and USB cameras)", minimum=16, maximum=8192),
    Setting("fps", 15.0, "Frames per second published", minimum=0.1, maximum=240.0),
    Setting("flip", 0, "CSI flip-method (0 none, 2 rotate 180)", minimum=0, maximum=7),
    Setting("loop", False, "Replay a video file or image folder forever"),
    Setting("frame_id", "camera", "frame_id of published images", runtime=True),
)

DETECTOR_NODE = (*MODELS, *DETECTION, MAX_LATENCY)
RECOGNIZER_NODE = (*MODELS, *RECOGNITION, *SERVICES, MAX_LATENCY)
FACE_RECOGNITION_NODE = (*MODELS, *DETECTION, *RECOGNITION, *SERVICES, MAX_LATENCY)


def check_update(params: tuple, changes: dict) -> str | None:
    """Reason to refuse a set of parameter changes at run time, or None to accept them all."""
    by_name = {p.name: p for p in params}
    for name, value in changes.items():
        param = by_name.get(name)
        if param is None:
            continue  # parameters we do not own (use_sim_time, ...) are not ours to judge
        if not param.runtime:
            return f"{name} cannot change while the node runs; restart it with the new value"
        reason = param.validate(value)
        if reason:
            return reason
    return None
