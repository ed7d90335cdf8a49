/* bench_baseline.c: the same-run baseline (see bench.h): the rows the server
 * writes for a scenario's reports, written straight into the same tables,
 * for the ratio of ingest to what PostgreSQL alone takes. */
#include "bench.h"
#include "cchc_report.h"
#include "cchc_wire.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* COPY text escaping for a text field (\\, tab, newline, CR). */
static void s_copy_text(char **b, size_t *len, size_t *cap, const char *s)
{
    for (; *s; s++) {
        if (*len + 4 >= *cap) {
            *cap *= 2;
            *b = realloc(*b, *cap);
        }
        char c = *s;
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            (*b)[(*len)++] = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
        }
        (*b)[(*len)++] = c;
    }
}

static void s_put(char **b, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    while (*len + n + 1 >= *cap) {
        *cap *= 2;
        *b = realloc(*b, *cap);
    }
    memcpy(*b + *len, s, n);
    *len += n;
    (*b)[*len] = '\0'; /* the ids' arrays are printed with %s */
}

/* A COPY field and its separator: the text escaped, or \N when empty (the
 * store writes NULL for an empty date or apology number). */
static void s_field(char **b, size_t *len, size_t *cap, const char *s, int empty_null,
                    const char *sep)
{
    if (empty_null && (!s || !*s))
        s_put(b, len, cap, "\\N");
    else
        s_copy_text(b, len, cap, s ? s : "");
    s_put(b, len, cap, sep);
}

/* What the server writes for `total` reports like the scenario's, written
 * straight, 1,000 reports a transaction, by COPY where rows are new: the
 * report row with its payload and JSON body, its parts (a small report's
 * task_progress row; a periodic report's dossier rows and overdue
 * dossiers) and its receipt notification; and the rows it updates, each
 * batch by one statement. Like the scenario's: a small report is on a
 * task of its own and meets its expectation (made before the clock starts,
 * as the scheduler makes them before reports come); the periodic reports
 * are revisions of one report, each superseding the one before (written
 * superseded within a batch, the last of the batch before updated).
 * Reports per second. */
double bench_baseline(const bench_env_t *e, bench_report_kind_t kind, long long total,
                      const char *tag)
{
    char path[700], *text = malloc(1 << 16);
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", e->src,
             kind == BENCH_REPORT_PERIODIC ? "periodic.json" : "task_progress.json");
    FILE *f = fopen(path, "rb");
    size_t tn = f ? fread(text, 1, (1 << 16) - 1, f) : 0;
    if (f)
        fclose(f);
    text[tn] = '\0';
    cchc_findings_t fi = CCHC_FINDINGS_INIT;
    cchc_report_t *r = NULL;
    if (cchc_report_from_text(text, tn, &r, &fi) != 0) {
        free(text);
        return 0;
    }
    uint8_t *payload;
    size_t plen;
    cchc_wire_pack_report(r, &payload, &plen);
    json_t *body = cchc_report_to_json(r);
    char *body_text = json_dumps(body, JSON_COMPACT);
    char *hex = malloc(plen * 2 + 4);
    strcpy(hex, "\\\\x");
    for (size_t i = 0; i < plen; i++)
        sprintf(hex + 3 + i * 2, "%02x", payload[i]);
    PGconn *c = bench_db(e);
    PGresult *exps = NULL;
    char sql[400];
    snprintf(sql, sizeof sql,
             "INSERT INTO units (code, name, kind, parent, valid_from) VALUES "
             "('bench-%s', 'Baseline', 'commune', 'huyen-son-dong', '2020-01-01')",
             tag);
    bench_sql(c, sql);
    if (kind == BENCH_REPORT_SMALL) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO expectations (type_code, unit_code, period, subject, due, "
                 "grace_days) SELECT 'NV_KH', 'bench-%s', '', 'BASE-' || g, '2099-12-31', 0 "
                 "FROM generate_series(1, %lld) g",
                 tag, total);
        bench_sql(c, sql);
        /* Found by its key, as the store finds it; then updated by its id. */
        snprintf(sql, sizeof sql,
                 "SELECT id FROM expectations WHERE type_code = 'NV_KH' AND unit_code = "
                 "'bench-%s' AND period = '' AND subject LIKE 'BASE-%%' "
                 "ORDER BY substr(subject, 6)::bigint",
                 tag);
        exps = PQexec(c, sql);
        if (PQresultStatus(exps) != PGRES_TUPLES_OK || PQntuples(exps) != total) {
            fprintf(stderr, "bench: baseline expectations: %d of %lld found%s%s\n", PQntuples(exps),
                    total, PQresultStatus(exps) == PGRES_TUPLES_OK ? "" : ": ",
                    PQresultStatus(exps) == PGRES_TUPLES_OK ? "" : PQerrorMessage(c));
            total = 0;
        }
    }
    size_t cap = 1 << 20;
    char *ub = malloc(cap);
    size_t ucap = cap;
    long long prev_last = 0; /* periodic: the last revision stored, to supersede */
    char *eb = malloc(cap);
    size_t ecap = cap;
    char *rb = malloc(cap), *pb = malloc(cap), *nb = malloc(cap), *ob = malloc(cap);
    int64_t t0 = bench_now_us();
    long long done = 0;
    while (c && done < total) {
        long long n = total - done < 1000 ? total - done : 1000;
        bench_sql(c, "BEGIN");
        /* Ids and sequence numbers are taken first, as the server takes them. */
        snprintf(sql, sizeof sql, "SELECT nextval('reports_id_seq') FROM generate_series(1, %lld)",
                 n);
        PGresult *ids = PQexec(c, sql);
        snprintf(sql, sizeof sql,
                 "UPDATE notification_counter SET last_seq = last_seq + %lld WHERE id = 1 "
                 "RETURNING last_seq - %lld",
                 n, n);
        long long seq0 = bench_sql_int(c, sql);
        if (PQresultStatus(ids) != PGRES_TUPLES_OK || PQntuples(ids) != n || seq0 < 0) {
            fprintf(stderr, "bench: baseline ids: %s", PQerrorMessage(c));
            PQclear(ids);
            bench_sql(c, "ROLLBACK");
            break;
        }
        size_t rl = 0, pl = 0, nl = 0, ul = 0, el = 0, ol = 0;
        size_t rcap = cap, pcap = cap, ncap = cap, ocap = cap;
        s_put(&ub, &ul, &ucap, "{");
        s_put(&eb, &el, &ecap, "{");
        for (long long i = 0; i < n; i++) {
            char line[512], subject[32] = "";
            const char *id = PQgetvalue(ids, (int)i, 0);
            if (kind == BENCH_REPORT_SMALL)
                snprintf(subject, sizeof subject, "BASE-%lld", done + i + 1);
            /* periodic: superseded by the next revision, but the batch's last */
            const char *next =
                kind == BENCH_REPORT_PERIODIC && i + 1 < n ? PQgetvalue(ids, (int)i + 1, 0) : NULL;
            snprintf(line, sizeof line,
                     "%s\tbench-%s\t1\t%lld\t%s\t%s\t%s\t%lld\t%s\t2024-06-20 02:00:00+00\t", id,
                     tag, done + i + 1, r->type, cchc_report_kind(r), r->period ? r->period : "",
                     kind == BENCH_REPORT_PERIODIC ? done + i + 1 : 1, subject);
            s_put(&rb, &rl, &rcap, line);
            s_put(&rb, &rl, &rcap, hex);
            s_put(&rb, &rl, &rcap, "\t");
            s_copy_text(&rb, &rl, &rcap, body_text);
            snprintf(line, sizeof line, "\t%s\t[]\t2024-06-20 02:00:00+00\t%s\n",
                     next ? "superseded" : "accepted", next ? next : "\\N");
            s_put(&rb, &rl, &rcap, line);
            if (kind == BENCH_REPORT_SMALL) {
                snprintf(line, sizeof line, "%s%s", i ? "," : "", id);
                s_put(&ub, &ul, &ucap, line);
                snprintf(line, sizeof line, "%s%s", i ? "," : "",
                         PQgetvalue(exps, (int)(done + i), 0));
                s_put(&eb, &el, &ecap, line);
                snprintf(line, sizeof line, "%s\t%s\tin_progress\t60\t", id, subject);
                s_put(&pb, &pl, &pcap, line);
                s_copy_text(&pb, &pl, &pcap, r->task_progress->result);
                s_put(&pb, &pl, &pcap, "\t{}\n");
            } else {
                for (size_t k = 0; k < r->periodic->n_dossiers; k++) {
                    const Cchc__V1__DossierRow *d = r->periodic->dossiers[k];
                    snprintf(line, sizeof line,
                             "D\t%s\t%s\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t\n", id,
                             d->field, (long long)d->carried_over, (long long)d->new_online,
                             (long long)d->new_direct_postal, (long long)d->resolved_early,
                             (long long)d->resolved_on_time, (long long)d->resolved_late,
                             (long long)d->pending_in_time, (long long)d->pending_overdue);
                    s_put(&pb, &pl, &pcap, line + 2);
                }
                for (size_t k = 0; k < r->periodic->n_overdue_dossiers; k++) {
                    const Cchc__V1__OverdueDossier *o = r->periodic->overdue_dossiers[k];
                    const Cchc__V1__ApologySlip *a = o->apology;
                    snprintf(line, sizeof line, "%s\t%zu\t", id, k + 1);
                    s_put(&ob, &ol, &ocap, line);
                    s_field(&ob, &ol, &ocap, o->code, 0, "\t");
                    s_field(&ob, &ol, &ocap, o->field, 0, "\t");
                    s_field(&ob, &ol, &ocap, o->procedure, 0, "\t");
                    s_field(&ob, &ol, &ocap, o->received, 1, "\t");
                    s_field(&ob, &ol, &ocap, o->due, 1, "\t");
                    s_field(&ob, &ol, &ocap, o->resolved, 1, "\t");
                    s_field(&ob, &ol, &ocap, o->cause, 0, "\t");
                    s_field(&ob, &ol, &ocap, o->remedy, 0, "\t");
                    s_field(&ob, &ol, &ocap, a ? a->number : NULL, 1, "\t");
                    s_field(&ob, &ol, &ocap, a ? a->date : NULL, 1, "\t");
                    s_field(&ob, &ol, &ocap, a ? a->new_due : NULL, 1, "\n");
                }
            }
            snprintf(line, sizeof line,
                     "%lld\treport.accepted\tbench-%s\tbench-%s\tbaseline:%s:%lld\t", seq0 + i + 1,
                     tag, tag, tag, done + i + 1);
            s_put(&nb, &nl, &ncap, line);
            s_put(&nb, &nl, &ncap,
                  "Đã nhận báo cáo NV_KH BENCH-01 (lần 1) của xã: đúng hạn.\t"
                  "Report NV_KH BENCH-01 (revision 1) accepted, on time.\t");
            /* The facts of the server's receipt of a report meeting its
             * expectation on time (cchc_store_batch). */
            snprintf(line, sizeof line,
                     "{\"type\": \"%s\", \"period\": \"%s\", \"subject\": \"%s\", "
                     "\"unit\": \"bench-%s\", \"report_id\": %s, \"revision\": %lld, "
                     "\"due\": \"2099-12-31\", \"status\": \"on_time\", \"on_time\": true}\t"
                     "2024-06-20 02:00:00+00\n",
                     r->type, r->period ? r->period : "", subject, tag, id,
                     kind == BENCH_REPORT_PERIODIC ? done + i + 1 : 1);
            s_put(&nb, &nl, &ncap, line);
        }
        long long first_id = strtoll(PQgetvalue(ids, 0, 0), NULL, 10);
        long long last_id = strtoll(PQgetvalue(ids, (int)n - 1, 0), NULL, 10);
        PQclear(ids);
        s_put(&ub, &ul, &ucap, "}");
        s_put(&eb, &el, &ecap, "}");
        int ok = bench_copy(c,
                            "reports (id, unit_code, agent_epoch, msg_id, report_type, "
                            "content_kind, period, revision, subject, received_at, payload, "
                            "body, status, findings, first_received_at, superseded_by)",
                            rb, rl) == 0;
        if (ok && kind == BENCH_REPORT_SMALL) {
            /* The expectations met, by one statement. */
            size_t qcap = ul + el + 600;
            char *q = malloc(qcap);
            snprintf(q, qcap,
                     "UPDATE expectations e SET status = 'on_time', report_id = v.id, "
                     "met_at = now(), basis = 'received', updated_at = now() "
                     "FROM unnest('%s'::bigint[], '%s'::bigint[]) AS v(id, eid) "
                     "WHERE e.id = v.eid",
                     ub, eb);
            ok = bench_sql(c, q) == 0;
            free(q);
        }
        if (ok && prev_last > 0) {
            /* The revision stored before this batch is superseded by its first. */
            snprintf(sql, sizeof sql,
                     "UPDATE reports SET status = 'superseded', superseded_by = %lld "
                     "WHERE id = %lld",
                     first_id, prev_last);
            ok = bench_sql(c, sql) == 0;
        }
        if (kind == BENCH_REPORT_PERIODIC)
            prev_last = last_id;
        ok = ok && bench_copy(c,
                              kind == BENCH_REPORT_SMALL
                                  ? "task_progress (report_id, task_code, status, percent, "
                                    "result, evidence)"
                                  : "dossier_rows (report_id, field, carried_over, new_online, "
                                    "new_direct_postal, resolved_early, resolved_on_time, "
                                    "resolved_late, pending_in_time, pending_overdue, comment)",
                              pb, pl) == 0;
        ok = ok &&
             (ol == 0 || bench_copy(c,
                                    "overdue_dossiers (report_id, seq, code, field, procedure, "
                                    "received, due, resolved, cause, remedy, apology_number, "
                                    "apology_date, apology_new_due)",
                                    ob, ol) == 0);
        ok = ok && bench_copy(c,
                              "notifications (seq, kind, unit_code, about, dedup_key, text_vi, "
                              "text_en, facts, created_at)",
                              nb, nl) == 0;
        bench_sql(c, ok ? "COMMIT" : "ROLLBACK");
        if (!ok)
            break;
        done += n;
    }
    double secs = (double)(bench_now_us() - t0) / 1e6;
    /* Its expectations go (the scheduler's ticks need not carry them). */
    if (c && kind == BENCH_REPORT_SMALL) {
        snprintf(sql, sizeof sql,
                 "DELETE FROM expectations WHERE type_code = 'NV_KH' AND unit_code = 'bench-%s' "
                 "AND period = '' AND subject LIKE 'BASE-%%'",
                 tag);
        bench_sql(c, sql);
    }
    PQfinish(c);
    free(rb);
    free(pb);
    free(nb);
    free(ob);
    free(ub);
    free(eb);
    PQclear(exps);
    free(hex);
    free(body_text);
    json_decref(body);
    free(payload);
    cchc_report_free(&r);
    free(text);
    cchc_findings_clear(&fi);
    return done == total && secs > 0 ? (double)total / secs : 0;
}
