"""Tooling: what the command-line tool, the tests and tools/ use, and the runtime (the nodes, the
recognizer) never imports (test_code_shape.py checks it).

    bench.py           per-stage timing, fps and peak memory (`bench`)
    reference.py       facenet-pytorch's MTCNN and pipeline, the peer compared with (`bench --compare`)
    lfw.py             LFW verification accuracy (`eval-lfw`)
    calibration.py     face chips for TensorRT INT8 calibration (`models build-engines`)
    local_database.py  a local PostgreSQL + pgvector for tests and demos (python -m ...)
"""
