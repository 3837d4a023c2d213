"""Where a face becomes an embedding.

    align.py     a face warped onto the embedder's template from its 5 landmarks (one pure
                 function), or cropped from its box
    embedder.py  the embedder (its spec: input size, colours, normalisation) run on aligned faces,
                 giving L2-normalised vectors
"""
