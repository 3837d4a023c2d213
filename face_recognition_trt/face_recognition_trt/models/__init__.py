"""Model sources, fetching and conversion to ONNX.

Only `fetch` and the network definitions (`*_nets.py`, `dlib_resnet.py`, `inception_resnet_v1.py`)
need torch, and only while converting: running the pipeline never imports torch.
"""
