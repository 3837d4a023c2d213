"""Where an identity is stored: the gallery.

    base.py      the interface both stores share (Gallery), its types and every check they make
    open.py      a location (a file path or a postgresql:// URL) -> the store that serves it
    sqlite.py    one SQLite file on the robot (the default)
    postgres.py  PostgreSQL + pgvector, one gallery for a fleet; replica.py: each robot's copy in
                 memory, kept current by LISTEN/NOTIFY
    transfer.py  export to and import from a JSON file, and between stores
"""
