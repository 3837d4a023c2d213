"""Face recognition for robots: MTCNN detection, face alignment, embeddings, an identity gallery.

The data path, one folder per step (docs/architecture.md):

    frames/    a BGR uint8 frame enters (files, folders, videos, cameras)
    detect/    MTCNN: boxes, scores and 5 landmarks
    embed/     faces aligned onto the embedder's template, then turned into L2-normalised embeddings
    match/     embeddings against the gallery: a name, "uncertain" or "unknown"; tracking over frames
    gallery/   where identities are stored (SQLite, or PostgreSQL for a fleet)
    ros/       where results are published (the ROS 2 nodes)

`pipeline.FacePipeline` strings detect -> align -> embed together and `recognizer.Recognizer` adds
matching, enrollment and tracking; `settings` holds every setting's one default. The ways in are
`ros/` (the nodes), `cli/` (the command-line tool) and `tooling/` (benchmarks, evaluation, a test
database), which the runtime never imports. Nothing outside `ros/` imports ROS.
"""

__version__ = "0.1.0"
