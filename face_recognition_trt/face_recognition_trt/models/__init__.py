"""The models: where they come from, and what is installed.

    registry.py    every model's source (a registry package pinned by version), checksums, input
                   size, colour order, normalisation and licence
    installed.py   the runtime's view: the models folder, and a model file checked before it loads
    conversion/    fetching and converting to ONNX (torch, while converting only): never imported
                   at run time
"""
