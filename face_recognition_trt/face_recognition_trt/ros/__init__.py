"""The ROS 2 layer: thin rclpy nodes over the core engine.

Modules that import rclpy, launch or message packages: the nodes (`*_node.py`), `node_support`,
`newest_frame_node`, `identity_services`, `face_output` and `launch_description`. The helpers that
carry logic (`image_conversion`, `parameters`, `detection_messages`, `diagnostics`,
`live_enrollment`) are plain Python, tested without ROS.
"""
