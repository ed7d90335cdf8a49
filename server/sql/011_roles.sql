-- 011_roles: database roles for people who use psql or the cchc CLI.
--
--   cchc_viewer    reads everything, changes nothing;
--   cchc_operator  a viewer who also keeps the district's facts (units, types,
--                  calendar, inspections, plan, silences, exemptions);
--   cchc_admin     an operator who also manages who may connect: agent keys
--                  and subscribers.
--
-- The roles are NOLOGIN groups: a person gets a login role that is a member
-- of one of them (CREATE ROLE alice LOGIN IN ROLE cchc_operator), so the
-- audit log's db_user (session_user) names the person, not the group.
--
-- cchc-server keeps running as the owner of the schema (the user of its
-- [database] conninfo, in practice the one that applied the migrations, often
-- a superuser): it stores reports, notifications and contacts and runs the
-- scheduler, none of which a role below may do. This migration therefore
-- needs an owner that may create roles (CREATEROLE or superuser).

-- Roles are cluster-wide and may already exist (another database of the same
-- cluster, or a re-created database): create only the missing ones.
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['cchc_viewer', 'cchc_operator', 'cchc_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END $$;

-- Each role includes the one below it (privileges are inherited).
GRANT cchc_viewer TO cchc_operator;
GRANT cchc_operator TO cchc_admin;

-- ---- nobody but the owner by default ------------------------------------------------
-- PostgreSQL 15 gives PUBLIC no CREATE on schema public and no table
-- privileges; revoke anyway so a database upgraded from an older cluster, or
-- a hand-made grant, does not leave a door open.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC;
-- Functions are executable by PUBLIC by default; the writing ones
-- (cchc_store_report, the scheduler's) are the server's alone.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;

-- ---- cchc_viewer: read everything ----------------------------------------------------
GRANT USAGE ON SCHEMA public TO cchc_viewer;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cchc_viewer;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO cchc_viewer;
-- Tables and sequences later migrations create (as the same owner) are
-- readable too; write privileges are granted by the migration that needs them.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO cchc_viewer;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON SEQUENCES TO cchc_viewer;

-- Read-only functions: those declared IMMUTABLE or STABLE (PostgreSQL
-- refuses writes in them), trigger functions aside. Volatile functions may
-- write and stay the owner's.
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'
               AND p.provolatile IN ('i', 's')
               AND p.prorettype <> 'trigger'::regtype LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO cchc_viewer', f);
    END LOOP;
END $$;

-- ---- cchc_operator: the district's facts -----------------------------------------------
GRANT INSERT, UPDATE, DELETE ON units, report_types, type_assignments, periods, calendar_days,
    inspections, inspection_findings, plan_tasks, silences, expectations TO cchc_operator;
GRANT USAGE ON SEQUENCE inspections_id_seq, silences_id_seq, expectations_id_seq
    TO cchc_operator;
-- cchc exempt writes its own audit row (before/after of the expectation) in
-- the same transaction; UPDATE and DELETE stay refused by the append-only
-- trigger and by having no grant.
GRANT INSERT ON audit_log TO cchc_operator;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO cchc_operator;

-- The audit trigger runs with its owner's rights, so that the audit row is
-- written whatever the changer may do directly (an admin's key change, a
-- future role without INSERT on audit_log). db_user defaults to session_user,
-- which SECURITY DEFINER does not change: the row still names the login.
-- search_path is pinned, as for every SECURITY DEFINER function, so a caller
-- cannot substitute its own audit_log or to_jsonb.
ALTER FUNCTION cchc_audit() SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;

-- ---- cchc_admin: who may connect ---------------------------------------------------------
GRANT INSERT, UPDATE, DELETE ON agent_keys, subscribers TO cchc_admin;
GRANT USAGE ON SEQUENCE agent_keys_id_seq, subscribers_id_seq TO cchc_admin;
