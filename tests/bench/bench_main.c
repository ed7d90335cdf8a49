/* bench_main.c: cchc-bench, the scenarios and their figures.
 *
 *   cchc-bench [--quick] [--only LIST] [--server-ini LINE]... [sizes]
 *
 * Starts a throwaway PostgreSQL (fsync on) and a real cchc-server, then runs
 * each scenario in turn (tests/bench/README.md says what each measures) and
 * prints a human summary and one JSON line with every figure. --quick runs
 * them all small, in well under two minutes (ctest's smoke test). */
#include "bench.h"
#include "cchc_keys.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    int quick;
    const char *only;
    char server_ini[2048];
    /* sizes */
    int small_agents, small_reports, periodic_agents, periodic_reports, window;
    long long large_rows;
    int light_agents, light_seconds;
    int storm_agents;
    int drain_agents, drain_reports;
    int change_ingest_agents;
    int agent_seconds;
    int rounds; /* small, periodic and their baselines, each round in turn */
} s_opts_t;

static bench_env_t s_env;
static json_t *s_json;

static int s_want(const s_opts_t *o, const char *name)
{
    if (!o->only)
        return 1;
    size_t n = strlen(name);
    for (const char *p = o->only; (p = strstr(p, name)); p += n)
        if ((p == o->only || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return 1;
    return 0;
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double p50_ms, p99_ms, max_ms;
    size_t n;
} s_lat_t;

/* Percentiles of the latencies of samples sent in [from, to). */
static s_lat_t s_latency(const bench_sample_t *v, size_t n, int64_t from, int64_t to)
{
    int64_t *l = malloc((n + 1) * sizeof *l);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].sent_us >= from && v[i].sent_us < to)
            l[k++] = v[i].lat_us;
    s_lat_t r = {0};
    if (k) {
        qsort(l, k, sizeof *l, s_cmp_i64);
        r.p50_ms = (double)l[k / 2] / 1000;
        r.p99_ms = (double)l[(size_t)((double)(k - 1) * 0.99)] / 1000;
        r.max_ms = (double)l[k - 1] / 1000;
        r.n = k;
    }
    free(l);
    return r;
}

/* ---- ingest ------------------------------------------------------------------------------- */

typedef struct {
    long long answered, busy, acked, nacked, stored;
    double rate; /* answered per second */
    double seconds;
    /* Answered per second from the first answer to the last: without the
     * wait for the first (the server reading each unit's document, which for
     * the small reports' units, each leading a task per report, is MBs). */
    double warm_rate;
    /* With a warm-up (s_ingest's warmup): answered per second from the
     * warm-up's first send, the warm-up's reports counted (what `rate` was
     * without one). */
    double cold_rate;
    s_lat_t lat;
    bench_sample_t *samples;
    size_t nsamples;
} s_ingest_t;

#define S_PER_WORKER 4000

/* n agents of units send m reports each (rate per agent, 0: as fast as the
 * window allows); the workers start together. With hold_fn, it is called
 * once every worker is running (the change scenario). */
static int s_ingest(const s_opts_t *o, const bench_unit_t *units, int n, int m, double rate,
                    bench_report_kind_t kind, const char *task_prefix, int serial, int warmup,
                    s_ingest_t *out, int64_t timeout_us)
{
    int nw = (n + S_PER_WORKER - 1) / S_PER_WORKER;
    bench_worker_t *w = calloc((size_t)nw, sizeof *w);
    bench_task_t *t = calloc((size_t)nw, sizeof *t);
    int64_t start = bench_now_us() + 300000;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < nw; i++) {
        t[i] = (bench_task_t){.env = &s_env,
                              .units = units,
                              .lo = i * n / nw,
                              .hi = (i + 1) * n / nw,
                              .reports = m + (warmup ? 1 : 0),
                              .window = o->window,
                              .rate = rate,
                              .kind = kind,
                              .first_revision = 1,
                              .start_us = start,
                              .timeout_us = timeout_us};
        if (task_prefix)
            snprintf(t[i].task_prefix, sizeof t[i].task_prefix, "%s", task_prefix);
        t[i].serial = serial;
        t[i].warmup = warmup;
        snprintf(t[i].samples_path, sizeof t[i].samples_path, "%s/samples-%d", s_env.dir, i);
        if (bench_worker_start(&w[i], &t[i]) != 0)
            return -1;
    }
    int64_t first = INT64_MAX, last = 0, cold = INT64_MAX;
    int rc = 0;
    for (int i = 0; i < nw; i++) {
        char line[512];
        while (bench_worker_line(&w[i], line, sizeof line, start + timeout_us + 10000000) == 0) {
            long long a, b, ac, na, f, l, wf;
            if (sscanf(line, "done %lld %lld %lld %lld %lld %lld %lld", &a, &b, &ac, &na, &f, &l,
                       &wf) == 7) {
                out->answered += a;
                out->busy += b;
                out->acked += ac;
                out->nacked += na;
                first = f < first ? f : first;
                last = l > last ? l : last;
                cold = wf > 0 && wf < cold ? wf : cold;
                break;
            }
            fprintf(stderr, "bench: worker: %s\n", line);
            if (strncmp(line, "error", 5) == 0)
                rc = -1;
        }
        bench_worker_stop(&w[i]);
        bench_samples_read(t[i].samples_path, &out->samples, &out->nsamples);
        if (!getenv("BENCH_KEEP"))
            unlink(t[i].samples_path);
    }
    out->seconds = last > first ? (double)(last - first) / 1e6 : 0;
    out->rate = out->seconds > 0 ? (double)out->answered / out->seconds : 0;
    out->cold_rate = out->rate;
    if (warmup && cold < last)
        out->cold_rate = (double)(out->answered + n) / ((double)(last - cold) / 1e6);
    out->lat = s_latency(out->samples, out->nsamples, 0, INT64_MAX);
    int64_t a0 = INT64_MAX, a1 = 0;
    for (size_t i = 0; i < out->nsamples; i++) {
        int64_t at = out->samples[i].sent_us + out->samples[i].lat_us;
        a0 = at < a0 ? at : a0;
        a1 = at > a1 ? at : a1;
    }
    out->warm_rate =
        out->nsamples > 1 && a1 > a0 ? (double)(out->nsamples - 1) / ((double)(a1 - a0) / 1e6) : 0;
    free(w);
    free(t);
    return rc;
}

static long long s_stored(const char *tag)
{
    PGconn *c = bench_db(&s_env);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM reports WHERE unit_code LIKE 'bench-%s-%%'",
             tag);
    long long v = c ? bench_sql_int(c, sql) : -1;
    PQfinish(c);
    return v;
}

static json_t *s_ingest_json(const s_ingest_t *r, int agents, int reports)
{
    return json_pack("{s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "agents", agents,
                     "reports_per_agent", reports, "answered", (json_int_t)r->answered, "acked",
                     (json_int_t)r->acked, "nacked", (json_int_t)r->nacked, "busy",
                     (json_int_t)r->busy, "stored", (json_int_t)r->stored, "seconds", r->seconds,
                     "rate", r->rate, "rate_from_first_ack", r->warm_rate, "rate_cold",
                     r->cold_rate, "ack_p50_ms", r->lat.p50_ms, "ack_p99_ms", r->lat.p99_ms,
                     "ack_max_ms", r->lat.max_ms);
}

static void s_ingest_print(const char *name, const s_ingest_t *r, int agents, int reports)
{
    printf("%-22s %5d agents x %6d: %9.0f reports/s in %6.1f s (%.0f/s from the first ack, %.0f/s "
           "cold); ack p50 %7.1f ms, p99 %7.1f ms, max %7.1f ms; busy %lld, nacked %lld, stored "
           "%lld\n",
           name, agents, reports, r->rate, r->seconds, r->warm_rate, r->cold_rate, r->lat.p50_ms,
           r->lat.p99_ms, r->lat.max_ms, r->busy, r->nacked, r->stored);
    fflush(stdout);
}

/* One ingest scenario on fresh units, printed as label (the caller puts
 * its figures in the JSON). */
static int s_run_ingest(const s_opts_t *o, const char *label, const char *tag, int n, int m,
                        bench_report_kind_t kind, s_ingest_t *out)
{
    bench_unit_t *units;
    if (bench_units_make(&s_env, tag, n, &units) != 0)
        return -1;
    /* Small reports: each a report of its own, on its own task (one more
     * for the warm-up). */
    char prefix[32] = "";
    if (kind == BENCH_REPORT_SMALL) {
        snprintf(prefix, sizeof prefix, "T-%s-", tag);
        if (bench_tasks_make(&s_env, prefix, units, n, m + 1) != 0) {
            free(units);
            return -1;
        }
    }
    sleep(1); /* the server reloads its keys on NOTIFY cchc_keys */
    /* Timed after a warm-up report per agent: the server builds a unit's
     * context at its first report and keeps it; these units lead a task per
     * report, so each context is MBs, which no commune's is (`rate_cold`
     * keeps the figure from the warm-up's first send). */
    int rc =
        s_ingest(o, units, n, m, 0, kind, prefix[0] ? prefix : NULL, 0, 1, out, 1800LL * 1000000);
    if (prefix[0])
        bench_tasks_drop(&s_env, prefix);
    out->stored = s_stored(tag);
    s_ingest_print(label, out, n, m);
    free(units);
    return rc;
}

/* ---- scenarios ---------------------------------------------------------------------------- */

/* The baseline of round `round` (its own unit), printed as label with its
 * ratio to ingest_rate; its rate, 0 when it could not be written (its
 * error printed). */
static double s_baseline(const char *label, bench_report_kind_t kind, int round, long long total,
                         double ingest_rate)
{
    char tag[32];
    snprintf(tag, sizeof tag, "base-%s%.0d", kind == BENCH_REPORT_SMALL ? "small" : "periodic",
             round > 1 ? round : 0);
    double base = bench_baseline(&s_env, kind, total, tag);
    double ratio = base > 0 ? ingest_rate / base : 0;
    printf("%-22s %16lld reports: %9.0f reports/s by COPY and updates (1,000 a transaction); ratio "
           "ingest/baseline %.3f\n",
           label, total, base, ratio);
    fflush(stdout);
    return base;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (n >= 1; the lower middle when n is even). */
static double s_median(const double *v, int n)
{
    double *c = calloc((size_t)n, sizeof *c);
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, s_cmp_double);
    double m = c[(n - 1) / 2];
    free(c);
    return m;
}

/* Small and periodic ingest and their baselines, o->rounds times in turn
 * (ingest small, ingest periodic, baseline small, baseline periodic), each
 * on units of its own: one run of each is seconds long and this machine's
 * noise is tens of percent, so each ratio is one round's ingest over the
 * same round's baseline, and the figures are the medians. The JSON keeps
 * the median round's ingest under ingest_small and ingest_periodic, and
 * every round under baseline_*.rounds. *small_rate: the median small ingest
 * rate (the large table's reference). */
static int s_rounds(const s_opts_t *o, double *small_rate)
{
    static const struct {
        const char *name, *key, *base_key;
        bench_report_kind_t kind;
    } kinds[2] = {{"small", "ingest_small", "baseline_small", BENCH_REPORT_SMALL},
                  {"periodic", "ingest_periodic", "baseline_periodic", BENCH_REPORT_PERIODIC}};
    int want[2] = {s_want(o, "small"), s_want(o, "periodic")}, base = s_want(o, "baseline");
    int n = o->rounds, agents[2] = {o->small_agents, o->periodic_agents},
        reports[2] = {o->small_reports, o->periodic_reports}, rc = 0;
    s_ingest_t *runs[2] = {calloc((size_t)n, sizeof *runs[0]), calloc((size_t)n, sizeof *runs[1])};
    double *bases[2] = {calloc((size_t)n, sizeof(double)), calloc((size_t)n, sizeof(double))};
    for (int r = 0; r < n; r++) {
        for (int k = 0; k < 2; k++) {
            if (!want[k])
                continue;
            char label[48], tag[32];
            snprintf(label, sizeof label, n > 1 ? "%s %d/%d" : "%s", kinds[k].key, r + 1, n);
            snprintf(tag, sizeof tag, "%s%.0d", kinds[k].name, r > 0 ? r + 1 : 0);
            rc |= s_run_ingest(o, label, tag, agents[k], reports[k], kinds[k].kind, &runs[k][r]);
        }
        for (int k = 0; base && k < 2; k++) {
            char label[48];
            snprintf(label, sizeof label, n > 1 ? "%s %d/%d" : "%s", kinds[k].base_key, r + 1, n);
            bases[k][r] = s_baseline(label, kinds[k].kind, r + 1, (long long)agents[k] * reports[k],
                                     runs[k][r].rate);
            if (bases[k][r] <= 0)
                rc = -1;
        }
    }
    for (int k = 0; k < 2; k++) {
        if (!want[k] && !base)
            continue;
        double *rates = calloc((size_t)n, sizeof *rates),
               *ratios = calloc((size_t)n, sizeof *ratios);
        for (int r = 0; r < n; r++) {
            rates[r] = runs[k][r].rate;
            ratios[r] = bases[k][r] > 0 ? runs[k][r].rate / bases[k][r] : 0;
        }
        double rate = s_median(rates, n);
        int mid = 0; /* the round whose rate is the median */
        for (int r = 0; r < n; r++)
            if (rates[r] == rate)
                mid = r;
        if (k == 0)
            *small_rate = rate;
        if (want[k])
            json_object_set_new(s_json, kinds[k].key,
                                s_ingest_json(&runs[k][mid], agents[k], reports[k]));
        if (base) {
            double brate = s_median(bases[k], n), ratio = s_median(ratios, n);
            json_t *rj = json_array();
            for (int r = 0; r < n; r++)
                json_array_append_new(rj, json_pack("{s:f,s:f,s:f}", "ingest", rates[r], "baseline",
                                                    bases[k][r], "ratio", ratios[r]));
            json_object_set_new(s_json, kinds[k].base_key,
                                json_pack("{s:I,s:f,s:f,s:i,s:o}", "reports",
                                          (json_int_t)agents[k] * reports[k], "rate", brate,
                                          "ratio", ratio, "of_rounds", n, "rounds", rj));
            if (n > 1) {
                printf("%-22s ratio ingest/baseline, median of %d rounds: %.3f (rounds:",
                       kinds[k].name, n, ratio);
                for (int r = 0; r < n; r++)
                    printf(" %.3f", ratios[r]);
                printf("); medians of their own: ingest %.0f/s, baseline %.0f/s\n", rate, brate);
                fflush(stdout);
            }
        }
        free(rates);
        free(ratios);
    }
    for (int k = 0; k < 2; k++) {
        for (int r = 0; r < n; r++)
            free(runs[k][r].samples);
        free(runs[k]);
        free(bases[k]);
    }
    return rc;
}

/* Before a scenario that follows others: what they wrote is vacuumed and
 * analyzed and a checkpoint written, so that autovacuum and the checkpointer
 * do not work through the last scenario's rows (hundreds of thousands in a
 * minute, which no district sends) during this one's figures. */
static void s_settle(const char *before)
{
    int64_t t0 = bench_now_us();
    PGconn *c = bench_db(&s_env);
    if (c && bench_sql(c, "VACUUM ANALYZE") == 0 && bench_sql(c, "CHECKPOINT") == 0)
        fprintf(stderr, "bench: settled before %s in %.1f s (VACUUM ANALYZE, CHECKPOINT)\n", before,
                (double)(bench_now_us() - t0) / 1e6);
    PQfinish(c);
}

/* Fills reports up to `rows` with filler units' rows, by SQL. */
static int s_fill(long long rows)
{
    PGconn *c = bench_db(&s_env);
    if (!c)
        return -1;
    long long have = bench_sql_int(c, "SELECT count(*) FROM reports");
    int rc = bench_sql(c, "INSERT INTO units (code, name, kind, parent, valid_from) "
                          "SELECT 'fill-' || g, 'Fill ' || g, 'commune', 'huyen-son-dong', "
                          "'2020-01-01' FROM generate_series(1, 1000) g ON CONFLICT DO NOTHING");
    int64_t t0 = bench_now_us();
    for (long long at = have; rc == 0 && at < rows; at += 1000000) {
        long long n = rows - at < 1000000 ? rows - at : 1000000;
        char sql[1200];
        snprintf(sql, sizeof sql,
                 "INSERT INTO reports (unit_code, agent_epoch, msg_id, report_type, content_kind, "
                 "period, revision, subject, received_at, payload, body, status, findings, "
                 "first_received_at) SELECT 'fill-' || (g %% 1000 + 1), 1, g, 'NV_KH', "
                 "'task_progress', '', 1, 'F' || g, timestamptz '2023-01-01' + g * interval "
                 "'1 second', '\\x0a0556425f4b48'::bytea, '{\"type\": \"NV_KH\", \"task\": "
                 "\"F\"}'::jsonb, 'accepted', '[]', timestamptz '2023-01-01' + g * interval "
                 "'1 second' FROM generate_series(%lld, %lld) g",
                 at + 1, at + n);
        rc = bench_sql(c, sql);
        fprintf(stderr, "\rbench: filled %lld of %lld reports (%.0f s)", at + n, rows,
                (double)(bench_now_us() - t0) / 1e6);
    }
    fputc('\n', stderr);
    if (rc == 0)
        rc = bench_sql(c, "VACUUM ANALYZE reports");
    /* The fill's dirty pages written out now, not by a checkpoint running
     * through the measured ingest (a server's table grows over years). */
    if (rc == 0)
        rc = bench_sql(c, "CHECKPOINT");
    PQfinish(c);
    return rc;
}

/* Connects n agents that each send Hello and MetaRequest and get one
 * catch-up notification; with hold, they stay (workers returned in *ws). */
static int s_storm(const bench_unit_t *units, int n, int hold, bench_worker_t **ws, int *nw_p,
                   double *served_s)
{
    int nw = (n + S_PER_WORKER - 1) / S_PER_WORKER;
    bench_worker_t *w = calloc((size_t)nw, sizeof *w);
    bench_task_t *t = calloc((size_t)nw, sizeof *t);
    int64_t start = bench_now_us() + 500000;
    for (int i = 0; i < nw; i++) {
        t[i] = (bench_task_t){.env = &s_env,
                              .units = units,
                              .lo = i * n / nw,
                              .hi = (i + 1) * n / nw,
                              .serve = 1,
                              .catchup = 1,
                              .hold = hold,
                              .start_us = start,
                              .timeout_us = 300LL * 1000000};
        if (bench_worker_start(&w[i], &t[i]) != 0)
            return -1;
    }
    int64_t last = 0;
    int rc = 0;
    for (int i = 0; i < nw; i++) {
        char line[512];
        long long at;
        if (bench_worker_line(&w[i], line, sizeof line, start + 310LL * 1000000) != 0) {
            rc = -1;
            continue;
        }
        if (sscanf(line, "served %lld", &at) == 1)
            last = at > last ? at : last;
        else {
            fprintf(stderr, "bench: storm worker: %s\n", line);
            rc = -1;
        }
    }
    *served_s = (double)(last - start) / 1e6;
    if (!hold)
        for (int i = 0; i < nw; i++)
            bench_worker_stop(&w[i]);
    *ws = w;
    *nw_p = nw;
    free(t);
    return rc;
}

static int s_notify_each(const char *tag)
{
    PGconn *c = bench_db(&s_env);
    char sql[600];
    snprintf(sql, sizeof sql,
             "INSERT INTO notifications (kind, unit_code, about, dedup_key, text_vi, text_en, "
             "facts) SELECT 'deadline.today', u.code, u.code, 'bench:' || u.code, "
             "'Hôm nay là hạn nộp báo cáo.', 'Today is the deadline.', '{}' FROM units u "
             "WHERE u.code LIKE 'bench-%s-%%' ORDER BY u.code",
             tag);
    int rc = c ? bench_sql(c, sql) : -1;
    PQfinish(c);
    return rc;
}

static void s_agent_footprint(const s_opts_t *o)
{
    bench_unit_t *u;
    if (bench_units_make(&s_env, "agent", 1, &u) != 0)
        return;
    char dir[400], path[500], err[300];
    snprintf(dir, sizeof dir, "%s/agent", s_env.dir);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/agent", dir);
    cchc_keys_write_pair(path, u->pub, u->sec, err, sizeof err);
    snprintf(path, sizeof path, "%s/server.pub", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "%s\n", s_env.server_pub);
    fclose(f);
    snprintf(path, sizeof path, "%s/agent.ini", dir);
    f = fopen(path, "w");
    fprintf(f, "[agent]\nunit = %s\n[server]\nendpoint = %s\n[log]\nlevel = warn\n", u->unit,
            s_env.endpoint);
    fclose(f);
    sleep(1);
    fflush(NULL); /* the child's freopen must not write our buffered output again */
    pid_t pid = fork();
    if (pid == 0) {
        char exe[600], log[500];
        snprintf(exe, sizeof exe, "%s/cchc-agent", s_env.bin);
        snprintf(log, sizeof log, "%s/agent.log", dir);
        freopen(log, "w", stderr);
        freopen("/dev/null", "w", stdout);
        execl(exe, exe, "-c", path, "run", (char *)NULL);
        _exit(127);
    }
    sleep(3); /* connected, synced: idle from here */
    bench_proc_t a, b;
    bench_proc_read(pid, &a);
    sleep((unsigned)o->agent_seconds);
    bench_proc_read(pid, &b);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    double secs = o->agent_seconds;
    double wake = (double)(b.ctxsw - a.ctxsw) / secs;
    printf("%-22s idle %d s: RSS %ld kB (peak %ld; %ld kB of it shared library pages, PSS %ld "
           "kB), CPU %lld ms, %.2f wakeups/s\n",
           "agent footprint", o->agent_seconds, b.rss_kb, b.hwm_kb, b.shared_clean_kb, b.pss_kb,
           b.cpu_ms - a.cpu_ms, wake);
    json_object_set_new(s_json, "agent_idle",
                        json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:f}", "seconds", o->agent_seconds,
                                  "rss_kb", (json_int_t)b.rss_kb, "hwm_kb", (json_int_t)b.hwm_kb,
                                  "shared_clean_kb", (json_int_t)b.shared_clean_kb, "pss_kb",
                                  (json_int_t)b.pss_kb, "cpu_ms", (json_int_t)(b.cpu_ms - a.cpu_ms),
                                  "wakeups_per_s", wake));
    free(u);
}

static void s_usage(FILE *f)
{
    fputs("usage: cchc-bench [--quick] [--only LIST] [--server-ini LINE]...\n"
          "                  [--small A,R] [--periodic A,R] [--window W] [--large ROWS]\n"
          "                  [--light A,S] [--storm N] [--drain A,R] [--agent-seconds S]\n"
          "                  [--rounds N]\n"
          "\n"
          "Starts a throwaway PostgreSQL (fsync on) and a real cchc-server, drives it with\n"
          "simulated agents (DEALER, CURVE, one key per unit, a window like the agent's) and\n"
          "prints a summary and one JSON line. Scenarios (--only takes a comma list):\n"
          "  small      A agents x R small task_progress reports (default 8 x 5000)\n"
          "  periodic   A agents x R full periodic reports (default 8 x 1000)\n"
          "  baseline   the rows the server writes for them, straight (COPY): the ratio\n"

          "  large      small again on a table of ROWS reports (default 20,000,000)\n"
          "  light      A agents at 1 report/s each for S s (default 1000, 30)\n"
          "  storm      N agents connect at once: Hello, catch-up, Meta (default 10000)\n"
          "  change     an operator change with the storm's agents connected, ingest running\n"
          "  drain      A agents with R queued reports each (default 1000 x 1000)\n"
          "  agent      an idle cchc-agent run: RSS, CPU, wake-ups (default 60 s)\n"
          "  --quick    everything small, for the smoke test\n"
          "  --rounds N small, periodic and baseline N times in turn, and light N times,\n"
          "             the medians kept (default 3; 1 with --quick)\n"
          "  --server-ini LINE  a line for server.ini's [server] section (repeatable)\n"
          "  BENCH_KEEP=1 keeps the directory and cluster.\n",
          f);
}

static int s_pair(const char *v, int *a, int *b)
{
    return sscanf(v, "%d,%d", a, b) == 2 && *a > 0 && *b > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    s_opts_t o = {.small_agents = 8,
                  .small_reports = 5000,
                  .periodic_agents = 8,
                  .periodic_reports = 1000,
                  .window = 64,
                  .large_rows = 20000000,
                  .light_agents = 1000,
                  .light_seconds = 30,
                  .storm_agents = 10000,
                  .drain_agents = 1000,
                  .drain_reports = 1000,
                  .change_ingest_agents = 8,
                  .agent_seconds = 60,
                  .rounds = 3};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--quick")) {
            o.quick = 1;
            o.small_agents = 4, o.small_reports = 300, o.periodic_agents = 2;
            o.periodic_reports = 100, o.large_rows = 100000, o.light_agents = 50;
            o.light_seconds = 4, o.storm_agents = 200, o.drain_agents = 20;
            o.drain_reports = 100, o.change_ingest_agents = 2, o.agent_seconds = 3;
            o.rounds = 1;
        } else if (!strcmp(a, "--only") && v)
            o.only = argv[++i];
        else if (!strcmp(a, "--server-ini") && v) {
            strncat(o.server_ini, argv[++i], sizeof o.server_ini - strlen(o.server_ini) - 2);
            strcat(o.server_ini, "\n");
        } else if (!strcmp(a, "--small") && v)
            bad = s_pair(argv[++i], &o.small_agents, &o.small_reports);
        else if (!strcmp(a, "--periodic") && v)
            bad = s_pair(argv[++i], &o.periodic_agents, &o.periodic_reports);
        else if (!strcmp(a, "--light") && v)
            bad = s_pair(argv[++i], &o.light_agents, &o.light_seconds);
        else if (!strcmp(a, "--drain") && v)
            bad = s_pair(argv[++i], &o.drain_agents, &o.drain_reports);
        else if (!strcmp(a, "--window") && v)
            bad = (o.window = atoi(argv[++i])) < 1;
        else if (!strcmp(a, "--large") && v)
            bad = (o.large_rows = atoll(argv[++i])) < 1;
        else if (!strcmp(a, "--storm") && v)
            bad = (o.storm_agents = atoi(argv[++i])) < 1;
        else if (!strcmp(a, "--rounds") && v)
            bad = (o.rounds = atoi(argv[++i])) < 1 || o.rounds > 99;
        else if (!strcmp(a, "--agent-seconds") && v)
            bad = (o.agent_seconds = atoi(argv[++i])) < 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            s_usage(stdout);
            return 0;
        } else
            bad = 1;
        if (bad) {
            fprintf(stderr, "cchc-bench: bad option '%s'\n", a);
            s_usage(stderr);
            return 2;
        }
    }
    snprintf(s_env.src, sizeof s_env.src, "%s", CCHC_SOURCE_DIR);
    /* BENCH_BIN: another build's server, CLI and agent (a before/after run) */
    snprintf(s_env.bin, sizeof s_env.bin, "%s",
             getenv("BENCH_BIN") ? getenv("BENCH_BIN") : CCHC_BINARY_DIR);
    s_json = json_object();
    json_object_set_new(s_json, "bench", json_string("cchc"));
    json_object_set_new(s_json, "quick", json_boolean(o.quick));
    if (bench_env_start(&s_env, o.server_ini) != 0) {
        bench_env_stop(&s_env);
        return 1;
    }
    int rc = 0;
    double small_rate = 0;
    printf("cchc-bench: server %s, PostgreSQL with fsync on, in %s\n", s_env.endpoint, s_env.dir);
    if (s_want(&o, "small") || s_want(&o, "periodic") || s_want(&o, "baseline"))
        rc |= s_rounds(&o, &small_rate);
    if (s_want(&o, "light")) {
        /* o.rounds times, each on units of its own (a run is 30 s of a
         * machine whose speed drifts by tens of percent within minutes),
         * the round whose steady p99 is the median kept as light_load. */
        int n = o.rounds;
        json_t *rounds = json_array(), *kept = NULL;
        double *p99 = calloc((size_t)n, sizeof *p99);
        json_t **each = calloc((size_t)n, sizeof *each);
        for (int k = 0; k < n; k++) {
            char tag[16], label[40];
            snprintf(tag, sizeof tag, k ? "light%d" : "light", k + 1);
            snprintf(label, sizeof label, n > 1 ? "light load %d/%d" : "light load", k + 1, n);
            s_settle(tag);
            bench_unit_t *u;
            s_ingest_t r;
            if (bench_units_make(&s_env, tag, o.light_agents, &u) != 0) {
                rc = 1;
                break;
            }
            sleep(1);
            rc |= s_ingest(&o, u, o.light_agents, o.light_seconds, 1.0, BENCH_REPORT_SMALL, NULL, 1,
                           0, &r, (o.light_seconds + 120LL) * 1000000);
            r.stored = s_stored(tag);
            s_ingest_print(label, &r, o.light_agents, o.light_seconds);
            json_t *j = s_ingest_json(&r, o.light_agents, o.light_seconds);
            /* Steady state: the reports sent once the first 5 s are over
             * (every agent connected, its unit's context loaded). */
            int64_t t0 = INT64_MAX;
            for (size_t i = 0; i < r.nsamples; i++)
                t0 = r.samples[i].sent_us < t0 ? r.samples[i].sent_us : t0;
            s_lat_t st = s_latency(r.samples, r.nsamples, t0 + 5000000, INT64_MAX);
            printf("%-22s %5s reports sent after the first 5 s: ack p50 %7.1f ms, p99 %7.1f ms, "
                   "max %7.1f ms\n",
                   "light load, steady", "", st.p50_ms, st.p99_ms, st.max_ms);
            fflush(stdout);
            json_t *sj = json_pack("{s:I,s:f,s:f,s:f}", "reports", (json_int_t)st.n, "ack_p50_ms",
                                   st.p50_ms, "ack_p99_ms", st.p99_ms, "ack_max_ms", st.max_ms);
            json_array_append(rounds, sj);
            json_object_set_new(j, "steady", sj);
            p99[k] = st.p99_ms;
            each[k] = j;
            free(r.samples);
            free(u);
        }
        if (each[n - 1]) {
            double m = s_median(p99, n);
            for (int k = 0; k < n && !kept; k++)
                if (each[k] && p99[k] == m)
                    kept = json_incref(each[k]);
        }
        if (kept) {
            json_object_set_new(kept, "of_rounds", json_integer(n));
            json_object_set_new(kept, "rounds", json_incref(rounds));
            json_t *st = json_object_get(kept, "steady");
            if (n > 1) {
                printf(
                    "%-22s median of %d rounds: ack p50 %.1f ms, p99 %.1f ms (p99 of the rounds:",
                    "light load, steady", n, json_real_value(json_object_get(st, "ack_p50_ms")),
                    json_real_value(json_object_get(st, "ack_p99_ms")));
                for (int k = 0; k < n; k++)
                    printf(" %.1f", p99[k]);
                printf(")\n");
                fflush(stdout);
            }
            json_object_set_new(s_json, "light_load", kept);
        }
        for (int k = 0; k < n; k++)
            json_decref(each[k]);
        json_decref(rounds);
        free(each);
        free(p99);
    }
    if (s_want(&o, "storm") || s_want(&o, "change")) {
        s_settle("storm");
        bench_unit_t *u;
        bench_worker_t *ws = NULL;
        int nw = 0;
        double served = 0;
        int change = s_want(&o, "change");
        if (bench_units_make(&s_env, "storm", o.storm_agents, &u) == 0 &&
            s_notify_each("storm") == 0) {
            sleep(2);
            rc |= s_storm(u, o.storm_agents, change, &ws, &nw, &served);
            bench_proc_t p = {0};
            bench_proc_read(s_env.server_pid, &p);
            printf("%-22s %5d agents: all served (handshake, Hello, catch-up, Meta) in %.2f s; "
                   "server RSS %ld kB, peak %ld kB\n",
                   "connection storm", o.storm_agents, served, p.rss_kb, p.hwm_kb);
            json_object_set_new(s_json, "storm",
                                json_pack("{s:i,s:f,s:I,s:I}", "agents", o.storm_agents, "served_s",
                                          served, "server_rss_kb", (json_int_t)p.rss_kb,
                                          "server_hwm_kb", (json_int_t)p.hwm_kb));
            if (change) {
                /* Ingest runs; after a quiet while an operator changes the
                 * calendar, which is in every agent's metadata. */
                bench_unit_t *iu;
                bench_units_make(&s_env, "change", o.change_ingest_agents, &iu);
                int m = o.quick ? 1500 : 4000;
                bench_tasks_make(&s_env, "T-change-", iu, o.change_ingest_agents, m);
                sleep(1);
                bench_task_t t = {.env = &s_env,
                                  .units = iu,
                                  .lo = 0,
                                  .hi = o.change_ingest_agents,
                                  .reports = m,
                                  .window = o.window,
                                  .kind = BENCH_REPORT_SMALL,
                                  .first_revision = 1,
                                  .task_prefix = "T-change-",
                                  .start_us = bench_now_us(),
                                  .timeout_us = 600LL * 1000000};
                snprintf(t.samples_path, sizeof t.samples_path, "%s/samples-change", s_env.dir);
                bench_worker_t iw;
                bench_worker_start(&iw, &t);
                usleep(o.quick ? 300000 : 3000000);
                int64_t changed = bench_now_us();
                PGconn *c = bench_db(&s_env);
                bench_sql(c, "INSERT INTO calendar_days (day, kind, note) VALUES "
                             "('2024-11-20', 'holiday', 'Ngày đo tải') ON CONFLICT DO NOTHING");
                PQfinish(c);
                int64_t synced = 0;
                for (int i = 0; i < nw; i++) {
                    char line[256];
                    long long at;
                    while (bench_worker_line(&ws[i], line, sizeof line,
                                             changed + 300LL * 1000000) == 0)
                        if (sscanf(line, "synced %lld", &at) == 1) {
                            synced = at > synced ? at : synced;
                            break;
                        }
                }
                char line[256];
                while (bench_worker_line(&iw, line, sizeof line,
                                         bench_now_us() + 600LL * 1000000) == 0 &&
                       strncmp(line, "done", 4) != 0)
                    ;
                bench_worker_stop(&iw);
                bench_sample_t *sv = NULL;
                size_t sn = 0;
                bench_samples_read(t.samples_path, &sv, &sn);
                s_lat_t quiet = s_latency(sv, sn, 0, changed);
                s_lat_t during = s_latency(sv, sn, changed, synced ? synced : INT64_MAX);
                double sync_s = synced ? (double)(synced - changed) / 1e6 : -1;
                printf("%-22s %5d agents connected: all synced in %.2f s; ingest p99 %.1f ms "
                       "meanwhile (%zu acks), %.1f ms before (%zu)\n",
                       "operator change", o.storm_agents, sync_s, during.p99_ms, during.n,
                       quiet.p99_ms, quiet.n);
                json_object_set_new(s_json, "operator_change",
                                    json_pack("{s:i,s:f,s:f,s:f,s:I,s:I}", "agents", o.storm_agents,
                                              "synced_s", sync_s, "ingest_p99_ms_during",
                                              during.p99_ms, "ingest_p99_ms_quiet", quiet.p99_ms,
                                              "acks_during", (json_int_t)during.n, "acks_quiet",
                                              (json_int_t)quiet.n));
                if (!synced)
                    rc = -1;
                free(sv);
                bench_tasks_drop(&s_env, "T-change-");
                free(iu);
                for (int i = 0; i < nw; i++)
                    bench_worker_stop(&ws[i]);
            }
            free(ws);
            free(u);
        }
    }
    if (s_want(&o, "drain")) {
        s_settle("drain");
        bench_unit_t *u;
        s_ingest_t r;
        o.window = 32; /* the agent's default window */
        if (bench_units_make(&s_env, "drain", o.drain_agents, &u) == 0) {
            sleep(2);
            rc |= s_ingest(&o, u, o.drain_agents, o.drain_reports, 0, BENCH_REPORT_SMALL, NULL, 1,
                           0, &r, 3600LL * 1000000);
            r.stored = s_stored("drain");
            s_ingest_print("backlog drain", &r, o.drain_agents, o.drain_reports);
            json_object_set_new(s_json, "backlog_drain",
                                s_ingest_json(&r, o.drain_agents, o.drain_reports));
            free(r.samples);
            free(u);
        }
    }
    if (s_want(&o, "large")) {
        fprintf(stderr, "bench: filling the reports table to %lld rows\n", o.large_rows);
        if (s_fill(o.large_rows) == 0) {
            /* As many rounds as on the empty table, the median against its
             * median. */
            s_ingest_t *runs = calloc((size_t)o.rounds, sizeof *runs);
            double *rates = calloc((size_t)o.rounds, sizeof *rates);
            for (int r = 0; r < o.rounds; r++) {
                char label[48], tag[32];
                if (o.rounds > 1)
                    snprintf(label, sizeof label, "ingest_small_large %d/%d", r + 1, o.rounds);
                else
                    snprintf(label, sizeof label, "ingest_small_large");
                snprintf(tag, sizeof tag, "large%.0d", r > 0 ? r + 1 : 0);
                rc |= s_run_ingest(&o, label, tag, o.small_agents, o.small_reports,
                                   BENCH_REPORT_SMALL, &runs[r]);
                rates[r] = runs[r].rate;
            }
            double rate = s_median(rates, o.rounds), of = small_rate > 0 ? rate / small_rate : 0;
            int mid = 0;
            for (int r = 0; r < o.rounds; r++)
                if (rates[r] == rate)
                    mid = r;
            printf("%-22s %lld rows: %.3f of the empty-table rate (median %.0f/s against %.0f/s)\n",
                   "large table", o.large_rows, of, rate, small_rate);
            json_t *j = s_ingest_json(&runs[mid], o.small_agents, o.small_reports);
            json_object_set_new(j, "of_empty", json_real(of));
            json_object_set_new(j, "table_rows", json_integer(o.large_rows));
            json_t *rj = json_array();
            for (int r = 0; r < o.rounds; r++)
                json_array_append_new(rj, json_real(rates[r]));
            json_object_set_new(j, "round_rates", rj);
            json_object_set_new(s_json, "ingest_small_large", j);
            for (int r = 0; r < o.rounds; r++)
                free(runs[r].samples);
            free(runs);
            free(rates);
        } else {
            rc = -1;
        }
    }
    if (s_want(&o, "agent"))
        s_agent_footprint(&o);
    bench_proc_t sp;
    if (s_env.server_pid > 0 && bench_proc_read(s_env.server_pid, &sp) == 0)
        json_object_set_new(s_json, "server",
                            json_pack("{s:I,s:I,s:I}", "rss_kb", (json_int_t)sp.rss_kb, "hwm_kb",
                                      (json_int_t)sp.hwm_kb, "cpu_ms", (json_int_t)sp.cpu_ms));
    bench_env_stop(&s_env);
    char *j = json_dumps(s_json, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    printf("%s\n", j);
    free(j);
    json_decref(s_json);
    return rc ? 1 : 0;
}
