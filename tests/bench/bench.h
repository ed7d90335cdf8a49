/* bench.h: cchc-bench, the server's benchmark (tests/bench/README.md).
 *
 * Four parts:
 *   bench_env.c    the system under test: a throwaway PostgreSQL cluster with
 *                  fsync on and a real cchc-server started on it (or an
 *                  existing server and database), the bench's units and keys,
 *                  SQL helpers, /proc readings;
 *   bench_fleet.c  simulated agents: real DEALER sockets with CURVE, one key
 *                  per unit, a window like the agent's, run in forked worker
 *                  processes (a process may hold 20,000 descriptors here, two
 *                  per socket) that report through a pipe;
 *   bench_baseline.c  the same-run baseline: the rows the server writes,
 *                  written straight (COPY, and one UPDATE per 1,000);
 *   bench_main.c   the scenarios, and the summary and JSON line.
 * Times are CLOCK_MONOTONIC microseconds, shared by the workers. */
#ifndef BENCH_H
#define BENCH_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the system under test (bench_env.c) ----------------------------------------- */

typedef struct {
    char dir[200];      /* throwaway directory (cluster, server files); "" when connecting */
    char endpoint[128]; /* tcp://127.0.0.1:PORT */
    char server_pub[41];
    char conninfo[512];
    int server_pid; /* 0 when connecting to a server we did not start */
    int own_cluster;
    char src[512], bin[512]; /* the source and build directories */
} bench_env_t;

/* Makes the cluster (fsync on), migrates, loads the district's data, starts a
 * server with extra lines for server.ini (may be NULL). 0 or -1 (said). */
int bench_env_start(bench_env_t *e, const char *server_ini_extra);
/* Restarts the server (same config). 0 or -1. */
int bench_env_restart_server(bench_env_t *e);
/* Stops the server and the cluster, removes the directory. */
void bench_env_stop(bench_env_t *e);

PGconn *bench_db(const bench_env_t *e);
/* Runs sql (no parameters); 0 or -1 after printing the error. */
int bench_sql(PGconn *c, const char *sql);
/* The first value of sql's result as an int64 (-1 on error). */
long long bench_sql_int(PGconn *c, const char *sql);
/* COPY rows (text format, tab-separated lines) into table_cols ("t (a, b)"),
 * the error on stderr. 0 or -1. */
int bench_copy(PGconn *c, const char *table_cols, const char *data, size_t len);

/* Units bench-<tag>-NNNNN (kind commune, open) with one CURVE key each,
 * registered; the keys go to pub/sec (n entries, caller frees). The server
 * learns of the keys through NOTIFY cchc_keys. 0 or -1. */
typedef struct {
    char unit[40];
    char pub[41];
    char sec[41];
} bench_unit_t;
int bench_units_make(const bench_env_t *e, const char *tag, int n, bench_unit_t **units_p);

/* Tasks <prefix>1 .. <prefix>m of the plan, led by the n units (so that each
 * small report of an agent is a report of its own: its own key, its own
 * expectation), then waits until the scheduler has made their n x m
 * expectations (up to 180 s). 0 or -1. */
int bench_tasks_make(const bench_env_t *e, const char *prefix, const bench_unit_t *units, int n,
                     int m);
/* Removes the tasks <prefix>* and their expectations (the reports stay):
 * later scenarios meet a plan of the usual size. */
void bench_tasks_drop(const bench_env_t *e, const char *prefix);

/* Resident set size and its peak (kB), its shared clean pages (library
 * text other processes map too) and its proportional share (PSS) (kB,
 * from smaps_rollup; -1 when unreadable), CPU ms, and context switches of
 * a process (all threads). 0 or -1. */
typedef struct {
    long rss_kb, hwm_kb, shared_clean_kb, pss_kb;
    long long cpu_ms;
    long long ctxsw;
} bench_proc_t;
int bench_proc_read(int pid, bench_proc_t *p);

int64_t bench_now_us(void);

/* ---- simulated agents (bench_fleet.c) ------------------------------------------------ */

typedef enum {
    BENCH_REPORT_SMALL,    /* NV_KH task_progress, ~300 bytes */
    BENCH_REPORT_PERIODIC, /* CCHC_DK 2024S1 like the example, ~3 kB */
} bench_report_kind_t;

/* What one worker does with its agents. */
typedef struct {
    const bench_env_t *env;
    const bench_unit_t *units; /* [lo, hi) */
    int lo, hi;
    /* ingest: each agent sends `reports` reports, at most `window` unanswered
     * (and window_bytes), at `rate` reports per second each (0: as fast as
     * the window allows); BUSY is resent after a backoff, like the agent. */
    int reports, window;
    double rate;
    bench_report_kind_t kind;
    uint64_t first_revision; /* revisions count up from it, per agent */
    /* small reports: when set, report k is on task <task_prefix>k+1 at
     * first_revision (a report of its own); else every report is the next
     * revision of one report on BENCH-01 (a chain of revisions) */
    char task_prefix[32];
    /* one report in flight at a time: revisions of one report, sent as
     * cchc-agent sends them (its window never holds two of a report) */
    int serial;
    /* a warm-up: report 0 of every agent is sent alone, and the others only
     * once every agent of the worker has had it answered (the server then
     * holds each unit's context, which it builds at a unit's first report
     * and keeps); the counts, the samples and FIRST leave it out */
    int warmup;
    /* storm: Hello{last_seq 0} and MetaRequest{0}; an agent is served when it
     * has its Meta and `catchup` notifications. Then it stays, answers
     * MetaChanged with a MetaRequest, and counts when it has a new version. */
    int serve, catchup;
    int64_t start_us; /* when to connect (all workers start together) */
    int64_t timeout_us;
    int hold;               /* stay connected until the parent closes the control pipe */
    char samples_path[320]; /* ingest: (sent_us, latency_us) pairs written here */
} bench_task_t;

/* A worker's answer, one line each on its pipe:
 *   served T          every agent served (T: monotonic us)
 *   synced T          every agent has the new metadata version
 *   done ANSWERED BUSY ACKED NACKED FIRST LAST WARM   ingest over (us; WARM: the
 *                     warm-up's first send, 0 without one)
 *   error TEXT */
typedef struct {
    int pid;
    int out_fd; /* the worker's lines */
    int ctl_fd; /* closed by the parent to stop a holding worker */
    char buf[4096];
    size_t len; /* bytes of buf read and not yet returned */
} bench_worker_t;

/* Forks a worker running task. 0 or -1. */
int bench_worker_start(bench_worker_t *w, const bench_task_t *task);
/* The worker's next line (without newline) into buf; 0, or -1 at its end. */
int bench_worker_line(bench_worker_t *w, char *buf, size_t len, int64_t deadline_us);
/* Stops the worker (closes its control pipe) and reaps it. */
void bench_worker_stop(bench_worker_t *w);

/* Latency samples written by an ingest worker. */
typedef struct {
    int64_t sent_us;
    int64_t lat_us;
} bench_sample_t;
/* Reads the samples of a file (appends to *v, *n). 0 or -1. */
int bench_samples_read(const char *path, bench_sample_t **v, size_t *n);

/* ---- the same-run baseline (bench_baseline.c) ------------------------------------ */

/* Writes what the server writes for `total` reports like the scenario's of
 * kind (under a unit "bench-<tag>" it makes), 1,000 reports a transaction:
 * the new rows by COPY, the updated ones by one statement a batch. Reports
 * per second; 0 when it could not (said on stderr). */
double bench_baseline(const bench_env_t *e, bench_report_kind_t kind, long long total,
                      const char *tag);

#endif
