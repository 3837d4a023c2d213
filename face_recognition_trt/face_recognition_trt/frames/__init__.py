"""Where a frame enters, and where an annotated one leaves.

    images.py   image files, folders and videos: read with size checks, as BGR uint8 frames
    camera.py   cameras and video files as a stream of frames (the CLI and the camera node)
    draw.py     boxes, names and landmarks drawn on a frame (--output, faces/image_annotated)
"""
