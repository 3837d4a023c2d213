"""Jetson Nano: CSI camera 640x480, TensorRT FP16 when available, all stages in one process.

ros2 launch face_recognition_trt nano.launch.py [camera_source:=0] [mode:=pipeline] [rviz:=true]
"""

from face_recognition_trt.ros.launch_description import generate


def generate_launch_description():
    return generate(params_file="nano.yaml", camera_source="csi", backend="auto")
