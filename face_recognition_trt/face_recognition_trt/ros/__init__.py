"""The ROS 2 layer: thin rclpy nodes over the core engine. Nothing outside this package imports it.

- Nodes (`*_node.py`), each a shell around the core: camera, detector, recognizer, all-in-one.
- What they share: `node_main` (process start and clean stop), `node_parameters` (declarations,
  parameters -> engine config), `frame_worker` (event-driven frame work), `qos`,
  `identity_services` (enroll, forget, list), `face_output` and `detection_output` (publishing),
  `diagnostics_publisher`, `launch_description`, and `enroll_client` (the `enroll` command).
- Plain Python, tested without ROS: `parameters`, `image_conversion`, `detection_messages`,
  `diagnostics`, `frame_slots`, `live_enrollment`.
"""
