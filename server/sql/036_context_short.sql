-- 036_context_short: cchc_batch_context as 029 but for the usual report's
-- extra context. A report of a unit whose context the server keeps, with no
-- revision of its key stored and no previous period to compare with (a new
-- task report, a periodic report's first revision), gets '{"revisions": []}'
-- as it did, but as a constant: 029 built it for every such report as a
-- jsonb object of four keys, three of them null, then stripped the nulls and
-- wrote it out as text. auto_explain of cchc-bench's small ingest, a batch
-- of 200: 1.97 ms for the statement, of which about 1 ms was that
-- projection (the lookups, one index probe each, 0.9 ms).

CREATE OR REPLACE FUNCTION cchc_batch_context(p jsonb)
RETURNS TABLE (ord integer, id bigint, status text, findings text, payload bytea, extra text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT x.ord, r.id, r.status, r.findings::text, r.payload,
           CASE WHEN r.id IS NOT NULL THEN NULL
                -- (The usual report: its unit's context kept, no revision
                -- stored, no previous period: the text itself, 036.)
                WHEN coalesce(x.kept, false) AND rv.doc IS NULL AND pv.doc IS NULL
                THEN '{"revisions": []}'
                ELSE jsonb_strip_nulls(jsonb_build_object(
               'revisions', CASE WHEN rv.doc IS NULL THEN '[]'::jsonb
                                 ELSE jsonb_build_array(rv.doc) END,
               'previous', pv.doc,
               'inspections', (SELECT jsonb_build_array(cchc_inspection_json(i))
                               FROM inspections i
                               WHERE NOT coalesce(x.kept, false) AND i.code = x.subject),
               'tasks', (SELECT jsonb_build_array(cchc_task_json(k, x.unit, u.kind))
                         FROM plan_tasks k
                         WHERE NOT coalesce(x.kept, false) AND k.code = x.subject)))::text
           END
    FROM jsonb_to_recordset(p) AS x(ord integer, unit text, epoch bigint, msg_id bigint,
                                    type text, kind text, period text, subject text,
                                    kept boolean)
    -- (Each lookup one index probe per report, LATERAL: a join could become
    -- a hash join over all of reports in a plan made while it was small.)
    LEFT JOIN LATERAL (SELECT r0.id, r0.status, r0.findings, r0.payload FROM reports r0
                       WHERE r0.unit_code = x.unit AND r0.agent_epoch = x.epoch
                         AND r0.msg_id = x.msg_id
                       OFFSET 0) r ON true
    LEFT JOIN LATERAL (SELECT u0.kind FROM units u0 WHERE u0.code = x.unit OFFSET 0) u ON true
    -- The entry of "revisions" for the latest accepted revision of the
    -- report, as cchc_unit_metadata (014) writes it.
    LEFT JOIN LATERAL (
        SELECT jsonb_build_object(
                   'type', s.report_type, 'period', s.period, 'subject', s.subject,
                   'revision', s.revision,
                   'locked', EXISTS (SELECT 1 FROM periods p
                                     WHERE p.type_code = s.report_type AND p.period = s.period
                                       AND p.locked_at IS NOT NULL),
                   'first_received', to_char(cchc_vn_date(coalesce(s.first_received_at,
                                                                   s.received_at)),
                                             'YYYY-MM-DD'))
               || coalesce((SELECT jsonb_build_object('reopened_until',
                                                      to_char(max(o.until), 'YYYY-MM-DD'))
                            FROM period_reopenings o
                            WHERE o.type_code = s.report_type AND o.period = s.period
                              AND (o.unit_code IS NULL OR o.unit_code = x.unit)
                              AND o.ended_at IS NULL
                            HAVING count(*) > 0), '{}'::jsonb) AS doc
        FROM reports s
        WHERE r.id IS NULL AND s.report_type = x.type AND s.unit_code = x.unit
          AND s.period = x.period AND s.subject = x.subject AND s.status = 'accepted'
        ORDER BY s.revision DESC, s.id DESC
        LIMIT 1) rv ON true
    -- W015: as cchc_report_context (003): the accepted report of the period
    -- whose window ends the day before this one starts, the shortest window.
    LEFT JOIN LATERAL (
        SELECT jsonb_build_object(
                   'type', x.type, 'period', prev.period,
                   'pending', coalesce((SELECT jsonb_object_agg(d.field,
                                                d.pending_in_time + d.pending_overdue
                                                ORDER BY d.field)
                                        FROM dossier_rows d WHERE d.report_id = prev.id),
                                       '{}'::jsonb)) AS doc
        FROM report_types t
        CROSS JOIN LATERAL (
            SELECT r2.id, r2.period
            FROM reports r2 JOIN periods p2 ON p2.type_code = r2.report_type
                                           AND p2.period = r2.period
            WHERE r2.unit_code = x.unit AND r2.report_type = x.type AND r2.status = 'accepted'
              AND r2.period <> x.period
              AND p2.cutoff_end = coalesce((SELECT p3.cutoff_start FROM periods p3
                                            WHERE p3.type_code = x.type
                                              AND p3.period = x.period),
                                           cchc_period_cutoff_start(x.period, t.cutoff_rule)) - 1
            ORDER BY p2.cutoff_start DESC, r2.period, r2.revision DESC, r2.id DESC
            LIMIT 1) prev
        WHERE r.id IS NULL AND t.code = x.type AND t.content_kind = 'periodic'
          AND x.period <> '') pv ON true
    ORDER BY x.ord;
END $$;

REVOKE EXECUTE ON FUNCTION cchc_batch_context(jsonb) FROM PUBLIC;
