-- Least-privilege roles for a fleet gallery in PostgreSQL (docs/fleet.md).
--
--   face_robot     recognises only: reads the gallery and listens for changes
--   face_enroller  an enrollment station: also enrolls, renames and forgets
--
-- Run it as the gallery's owner (or a superuser) in the gallery's database, after the owner has
-- created the gallery once (any face-recognition-trt command with --gallery does), e.g.
--   psql "postgresql://admin@db.example.org/fleet?sslmode=verify-full" -f tools/postgres_roles.sql
-- then give each role a password without it reaching the shell history:
--   \password face_robot
--   \password face_enroller
-- (or log them in with client certificates: docs/fleet.md). Running it again changes nothing.
\set ON_ERROR_STOP on

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'face_robot') THEN
        CREATE ROLE face_robot LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'face_enroller') THEN
        CREATE ROLE face_enroller LOGIN;
    END IF;
END
$$;

-- Only these roles (and the owner) may connect, and nobody else sees the schema.
REVOKE CONNECT ON DATABASE :"DBNAME" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"DBNAME" TO face_robot, face_enroller;
REVOKE ALL ON SCHEMA face_gallery FROM PUBLIC;
GRANT USAGE ON SCHEMA face_gallery TO face_robot, face_enroller;

-- Robots read. Nobody but the owner may change the schema, the triggers or the metadata.
GRANT SELECT ON face_gallery.meta, face_gallery.identities, face_gallery.samples TO face_robot, face_enroller;

-- Enrollment stations write identities and samples (forget deletes rows for real).
GRANT INSERT, UPDATE, DELETE ON face_gallery.identities, face_gallery.samples TO face_enroller;
GRANT USAGE ON SEQUENCE face_gallery.identities_id_seq, face_gallery.samples_id_seq TO face_enroller;
