"""Face recognition for robots: MTCNN detection, face alignment, embeddings, an identity gallery.

The data path, one module per step:

    image_io / camera  -> a BGR uint8 frame enters
    mtcnn              -> boxes, scores and 5 landmarks (maths in mtcnn_math)
    align              -> faces warped onto the embedder's template
    embed              -> a face becomes an L2-normalised embedding
    match              -> embeddings against the gallery: identity or "unknown"
    gallery            -> where identities are stored (SQLite)

`pipeline.FacePipeline` strings detect -> align -> embed together; `ros/` holds the thin ROS 2
nodes, `cli` the command-line tool. Nothing outside `ros/` imports ROS.
"""

__version__ = "0.1.0"
