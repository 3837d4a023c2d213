"""Installs with colcon (ROS 2, ament_python) and with plain pip (CLI and tests, no ROS)."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "face_recognition_trt"

NODES = ["camera_node", "detector_node", "recognizer_node", "face_recognition_node"]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml") + glob("config/*.rviz")),
    ],
    python_requires=">=3.10",
    # Ranges, not pins: on a Jetson numpy and OpenCV come from JetPack. The exact versions this
    # project is tested with are pinned in ../constraints.txt.
    install_requires=[
        "numpy>=1.21",
        "onnxruntime>=1.15",
        "platformdirs>=3",
        "PyYAML>=5.4",
        "tqdm>=4.60",
        "confusable-homoglyphs>=3.2",  # Unicode's look-alike letters, for reserved names (names.py)
        "Pillow>=9",  # image headers read before decoding (frames/images.py); JetPack has python3-pil
    ],
    extras_require={
        # OpenCV from PyPI; on a Jetson use JetPack's OpenCV (it has GStreamer for the CSI camera).
        "opencv": ["opencv-python-headless>=4.5"],
        # Conversion of the fetched weights to ONNX (not needed at run time).
        "export": ["torch>=2.0", "onnx>=1.14"],
        # The reference implementation for parity tests and `bench --compare facenet-pytorch`;
        # facenet-pytorch itself is installed with --no-deps (see tools/setup.sh).
        "compare": ["requests>=2"],
        "eval": ["matplotlib>=3.7"],  # plots of tools/measure_open_set.py
        # A postgresql:// gallery shared by a fleet (gallery/postgres.py); SQLite needs nothing.
        "postgres": ["psycopg[binary]>=3.2", "pgvector>=0.3"],
        # A local PostgreSQL 16 + pgvector from one wheel: tests, tools/fleet_demo.sh, trying it out.
        "postgres-server": ["pgserver>=0.1.4"],
        "test": [
            "pytest>=7",
            "psutil>=5.8",  # tools/ros_bench.py and tools/ros_soak.py: CPU and memory of node processes
            "hypothesis>=6",
            "ruff",
            "rosbags>=0.10",
            "rosbags-image>=0.10",
            "catkin_pkg>=1.0",
            "colcon-core>=0.15",
            "colcon-ros>=0.4",
            "colcon-package-information>=0.3",
        ],
        # TensorRT itself comes from JetPack (apt) on a Jetson, `pip install tensorrt` elsewhere.
        # onnx + onnxmltools: polygraphy's FP16 conversion, needed on TensorRT 11 only.
        "tensorrt": ["polygraphy>=0.49", "cuda-python>=12", "onnx>=1.14", "onnxmltools>=1.11"],
    },
    zip_safe=True,
    maintainer="face_recognition_trt developers",
    maintainer_email="face-recognition-trt@users.noreply.invalid",
    description="Real-time face recognition for ROS 2 robots: MTCNN + embeddings on TensorRT or ONNX Runtime",
    license="MIT",
    entry_points={
        "console_scripts": [
            "face-recognition-trt = face_recognition_trt.cli:main",
            *[f"{node} = face_recognition_trt.ros.{node}:main" for node in NODES],
            "enroll = face_recognition_trt.ros.enroll_client:main",
        ],
    },
)
