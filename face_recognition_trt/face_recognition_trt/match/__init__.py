"""Embeddings against the gallery: who is this face?

    matcher.py   cosine similarity to every enrolled sample, and the decision rule (match.decide):
                 a name, "uncertain" or "unknown"
    cohort.py    the impostor cohort that normalises scores, so one threshold means the same for
                 everyone
    tracking.py  faces followed across the frames of a stream: track ids, votes over identities,
                 and which work tracking lets the pipeline skip
"""
