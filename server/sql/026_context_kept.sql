-- 026_context_kept: the batch's context no longer reads again the task or
-- the inspection that the server's kept context of the unit already holds.
--
-- cchc_batch_context (018) built, for every report, the JSON of the task or
-- inspection it names (cchc_task_json, cchc_inspection_json), and the server
-- parsed it and laid it over the unit's kept context. The unit's document
-- (cchc_unit_metadata) holds the same entries for the unit's own tasks and
-- open inspections, and is replaced when NOTIFY cchc_meta says that they
-- changed, as its types and calendar are. On a kept cluster with 5,000 tasks,
-- a batch of 127 task reports took 8.5-10 ms in this statement, and 4.8-5.6 ms
-- without those two reads.
--
-- Each report's object may now say "kept": true (srv_report.c): the server's
-- context holds what the report names (or it names nothing: a periodic
-- report). The statement then reads only the earlier delivery, the stored
-- revision and the previous period (W015). Without "kept" (a unit whose
-- document is read in the same segment, a predecessor's report, a task not
-- among the unit's, or a server older than this), it reads them as before.
-- The result's shape is unchanged, and it is still planned for each batch
-- (021): a generic plan made while `reports` is nearly empty probes it by
-- its index on the unit alone (tried again: 177 ms a batch of 127 once a
-- unit holds 5,000 reports, against 1.5 ms).

CREATE OR REPLACE FUNCTION cchc_batch_context(p jsonb)
RETURNS TABLE (ord integer, id bigint, status text, findings text, payload bytea, extra text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT x.ord, r.id, r.status, r.findings::text, r.payload,
           CASE WHEN r.id IS NULL THEN jsonb_strip_nulls(jsonb_build_object(
               'revisions', CASE WHEN rv.doc IS NULL THEN '[]'::jsonb
                                 ELSE jsonb_build_array(rv.doc) END,
               'previous', pv.doc,
               'inspections', (SELECT jsonb_build_array(cchc_inspection_json(i))
                               FROM inspections i
                               WHERE NOT coalesce(x.kept, false) AND i.code = x.subject),
               'tasks', (SELECT jsonb_build_array(cchc_task_json(k, x.unit, u.kind))
                         FROM plan_tasks k
                         WHERE NOT coalesce(x.kept, false) AND k.code = x.subject)))::text END
    FROM jsonb_to_recordset(p) AS x(ord integer, unit text, epoch bigint, msg_id bigint,
                                    type text, kind text, period text, subject text,
                                    kept boolean)
    LEFT JOIN reports r ON r.unit_code = x.unit AND r.agent_epoch = x.epoch
                       AND r.msg_id = x.msg_id
    LEFT JOIN units u ON u.code = x.unit
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
