-- 012_exempt.sql: exempting an expectation goes through one function.
--
-- expectations has no audit trigger (the server rewrites it all day), so
-- `cchc exempt` used to write the change and its audit row itself, which
-- needed INSERT on audit_log and UPDATE on expectations for every operator:
-- an operator could then change an expectation, or write audit rows, without
-- a true trace. Now operators may only call cchc_exempt(), which checks the
-- transition, writes the change and its audit row (db_user = the login, as
-- session_user is kept under SECURITY DEFINER) in the caller's transaction,
-- and tells the server (NOTIFY cchc_meta).
--
-- Outcome (one row): 'exempt' with the row's due date; 'no_due' when there is
-- no row yet and p_due is NULL (the caller looks the due date up and calls
-- again); 'refused' with the row's status, report_id and exempt_reason.

CREATE FUNCTION cchc_exempt(p_type text, p_unit text, p_period text, p_subject text,
                            p_due date, p_grace integer, p_reason text)
RETURNS TABLE (outcome text, status text, report_id bigint, exempt_reason text, due date)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    e expectations;
    n expectations;
BEGIN
    IF char_length(btrim(coalesce(p_reason, ''))) < 3 THEN
        RAISE EXCEPTION 'the reason must be at least 3 characters' USING ERRCODE = '22023';
    END IF;
    FOR attempt IN 1 .. 2 LOOP
        SELECT * INTO e FROM expectations x
        WHERE x.type_code = p_type AND x.unit_code = p_unit AND x.period = p_period
          AND x.subject = p_subject
        FOR UPDATE;
        IF FOUND THEN
            IF e.status NOT IN ('expected', 'overdue') THEN
                RETURN QUERY SELECT 'refused'::text, e.status::text, e.report_id, e.exempt_reason,
                                    e.due;
                RETURN;
            END IF;
            UPDATE expectations x SET status = 'exempt', exempt_reason = p_reason,
                                      updated_at = now()
            WHERE x.id = e.id RETURNING * INTO n;
            INSERT INTO audit_log (table_name, op, before, after)
            VALUES ('expectations', 'UPDATE', to_jsonb(e), to_jsonb(n));
            EXIT;
        END IF;
        IF p_due IS NULL THEN
            RETURN QUERY SELECT 'no_due'::text, NULL::text, NULL::bigint, NULL::text, NULL::date;
            RETURN;
        END IF;
        -- The server may create the row between our look and our insert.
        INSERT INTO expectations (type_code, unit_code, period, subject, due, grace_days, status,
                                  exempt_reason)
        VALUES (p_type, p_unit, p_period, p_subject, p_due, coalesce(p_grace, 0), 'exempt',
                p_reason)
        ON CONFLICT (type_code, unit_code, period, subject) DO NOTHING
        RETURNING * INTO n;
        IF n.id IS NOT NULL THEN
            INSERT INTO audit_log (table_name, op, before, after)
            VALUES ('expectations', 'INSERT', NULL, to_jsonb(n));
            EXIT;
        END IF;
    END LOOP;
    IF n.id IS NULL THEN
        RAISE EXCEPTION 'the expectation changed while it was being exempted: try again'
            USING ERRCODE = '40001';
    END IF;
    PERFORM pg_notify('cchc_meta', 'expectations');
    RETURN QUERY SELECT 'exempt'::text, n.status::text, n.report_id, n.exempt_reason, n.due;
END $$;

REVOKE ALL ON FUNCTION cchc_exempt(text, text, text, text, date, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cchc_exempt(text, text, text, text, date, integer, text)
    TO cchc_operator;
REVOKE INSERT ON audit_log FROM cchc_operator;
REVOKE USAGE ON SEQUENCE audit_log_id_seq FROM cchc_operator;
REVOKE INSERT, UPDATE, DELETE ON expectations FROM cchc_operator;
REVOKE USAGE ON SEQUENCE expectations_id_seq FROM cchc_operator;
