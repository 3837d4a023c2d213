-- Least-privilege roles for a fleet gallery in PostgreSQL (docs/fleet.md).
--
--   face_robot     recognises only: reads the gallery and listens for changes
--   face_enroller  an enrollment station: also enrolls, renames and forgets
--
-- The order that keeps every other role out (docs/fleet.md, "Setting up a database"):
--   1. an administrator creates the owner, the database OWNED BY it, pgvector in it, and the two
--      roles (creating roles needs CREATEROLE, which the owner should not have):
--        CREATE ROLE gallery_owner LOGIN; CREATE DATABASE fleet OWNER gallery_owner;
--        \c fleet
--        CREATE EXTENSION vector; CREATE ROLE face_robot LOGIN; CREATE ROLE face_enroller LOGIN;
--   2. the owner creates the gallery once (any face-recognition-trt command with --gallery does);
--   3. the owner runs this script in the gallery's database, e.g.
--        psql "postgresql://gallery_owner@db.example.org/fleet?sslmode=verify-full" -f tools/postgres_roles.sql
--      Only the database's owner can take CONNECT from PUBLIC: run by anyone else, PostgreSQL
--      only warns, and every role of the server could still connect (and NOTIFY the robots).
--   4. give each role a password without it reaching the shell history:
--        \password face_robot
--        \password face_enroller
--      (or log them in with client certificates: docs/fleet.md).
-- Running it again changes nothing.
\set ON_ERROR_STOP on

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_database WHERE datname = current_database()
                   AND pg_has_role(current_user, datdba, 'MEMBER')) THEN
        RAISE EXCEPTION 'run this script as the owner of database %: only its owner can keep other roles out '
            '(CREATE DATABASE ... OWNER gallery_owner; docs/fleet.md)', current_database();
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'face_robot')
       OR NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'face_enroller') THEN
        IF NOT (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            RAISE EXCEPTION 'roles face_robot and face_enroller do not exist and % may not create them: an '
                'administrator runs CREATE ROLE face_robot LOGIN; CREATE ROLE face_enroller LOGIN; first',
                current_user;
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'face_robot') THEN
            CREATE ROLE face_robot LOGIN;
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'face_enroller') THEN
            CREATE ROLE face_enroller LOGIN;
        END IF;
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
