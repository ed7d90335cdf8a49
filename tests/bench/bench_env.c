/* bench_env.c: the system under test for cchc-bench (see bench.h).
 *
 * The cluster is made by deploy/pgcluster.sh, the one the tests use, with
 * fsync on (PGC_FSYNC) and room for a large table (PGC_OPTS); the schema by
 * `cchc migrate`; the district's data by the CLI's imports; the server is the
 * real cchc-server, its clock set to 2024-06-20 09:00 (Vietnam time) so that
 * the fixtures' periods are open. */
#include "bench.h"
#include "cchc_keys.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define S_CLOCK "2024-06-20T09:00:00+07:00"
#define S_PG_OPTS                                                                                  \
    "-c shared_buffers=256MB -c max_wal_size=8GB -c checkpoint_timeout=30min "                     \
    "-c wal_buffers=16MB"

int64_t bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Runs a shell command with the cluster's PG* variables; 0 when it exits 0. */
static int s_sh(const bench_env_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int s_sh(const bench_env_t *e, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(cmd, sizeof cmd, "set -e; export CCHC_SRC='%s' CCHC_BIN='%s'; %s", e->src,
                     e->bin, "");
    vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "bench: command failed (%d): %s\n", rc, cmd + n);
    return rc == 0 ? 0 : -1;
}

PGconn *bench_db(const bench_env_t *e)
{
    PGconn *c = PQconnectdb(e->conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench: could not connect (%s): %s", e->conninfo, PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

int bench_sql(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "bench: %s\n  in: %.300s\n", PQerrorMessage(c), sql);
    PQclear(r);
    return ok ? 0 : -1;
}

long long bench_sql_int(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "bench: %s\n  in: %.300s\n", PQerrorMessage(c), sql);
    PQclear(r);
    return v;
}

static int s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int s_server_spawn(bench_env_t *e)
{
    char ini[600], log[600], exe[600];
    snprintf(ini, sizeof ini, "%s/server.ini", e->dir);
    snprintf(log, sizeof log, "%s/server.log", e->dir);
    snprintf(exe, sizeof exe, "%s/cchc-server", e->bin);
    unlink(log);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("CCHC_CLOCK", S_CLOCK, 1);
        execl(exe, exe, "-c", ini, (char *)NULL);
        _exit(127);
    }
    e->server_pid = pid;
    /* Ready when it says it listens. */
    for (int i = 0; i < 600; i++) {
        char buf[1 << 14];
        FILE *f = fopen(log, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        if (strstr(buf, "event=listening"))
            return 0;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "bench: cchc-server exited at start; see %s\n", log);
            e->server_pid = 0;
            return -1;
        }
        usleep(100000);
    }
    fprintf(stderr, "bench: cchc-server did not start listening; see %s\n", log);
    return -1;
}

int bench_env_start(bench_env_t *e, const char *server_ini_extra)
{
    char tmpl[] = "/tmp/cchc-bench.XXXXXX";
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    chmod(tmpl, 0755);
    snprintf(e->dir, sizeof e->dir, "%s", tmpl);
    e->own_cluster = 1;
    /* The cluster: the tests' script, fsync on. pgc_pick_dir finds a
     * directory the postgres user can enter when we run as root. */
    if (s_sh(e,
             ". \"$CCHC_SRC/deploy/pgcluster.sh\"; D=$(pgc_pick_dir '%s/pg' cchc-bench-pg); "
             "echo \"$D\" >'%s/pgdir'; pgc_create \"$D\"; "
             "PGC_FSYNC=on PGC_OPTS='%s %s' pgc_start \"$D\"",
             e->dir, e->dir, S_PG_OPTS,
             getenv("BENCH_PG_OPTS") ? getenv("BENCH_PG_OPTS") : "") != 0)
        return -1;
    char pgdir[256] = "", path[600];
    snprintf(path, sizeof path, "%s/pgdir", e->dir);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(pgdir, sizeof pgdir, f)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    pgdir[strcspn(pgdir, "\n")] = '\0';
    snprintf(e->conninfo, sizeof e->conninfo, "host=%s user=cchc dbname=postgres", pgdir);
    if (s_sh(e,
             "export PGHOST='%s' PGUSER=cchc PGDATABASE=postgres; C=\"$CCHC_BIN/cchc\"; "
             "D=\"$CCHC_SRC/deploy/data\"; $C migrate >/dev/null; "
             "$C unit import $D/units.csv >/dev/null; $C type import $D/report-types.csv "
             ">/dev/null; $C calendar import $D/holidays.csv >/dev/null; "
             "$C plan import $D/plan-tasks.csv >/dev/null; "
             "\"$CCHC_BIN/cchc-server\" --keygen '%s/server' >/dev/null",
             pgdir, e->dir) != 0)
        return -1;
    PGconn *c = bench_db(e);
    if (!c)
        return -1;
    /* The bench's task: every commune leads it, so each bench unit may report on it. */
    int rc = bench_sql(c, "INSERT INTO plan_tasks (code, title, index_name, dimension, target, "
                          "lead, support, due) VALUES ('BENCH-01', 'Nhiệm vụ đo tải', 'PAPI', "
                          "'D5', 'maintain', '{@commune}', '{}', '2024-12-14')");
    PQfinish(c);
    if (rc != 0)
        return -1;
    snprintf(path, sizeof path, "%s/server.pub", e->dir);
    char err[300];
    if (cchc_keys_read(path, 0, e->server_pub, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    int port = s_free_port();
    snprintf(e->endpoint, sizeof e->endpoint, "tcp://127.0.0.1:%d", port);
    snprintf(path, sizeof path, "%s/server.ini", e->dir);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "[server]\nendpoint = tcp://127.0.0.1:%d\npublic_key = server.pub\n"
            "secret_key = server.key\nshutdown_grace_ms = 5000\n%s\n"
            "[database]\nconninfo = %s\n%s",
            port, server_ini_extra ? server_ini_extra : "", e->conninfo,
            /* (--server-ini may set the level: a key set twice is refused) */
            server_ini_extra && strstr(server_ini_extra, "[log]") ? "" : "[log]\nlevel = info\n");
    fclose(f);
    return s_server_spawn(e);
}

int bench_env_restart_server(bench_env_t *e)
{
    if (e->server_pid > 0) {
        kill(e->server_pid, SIGTERM);
        waitpid(e->server_pid, NULL, 0);
        e->server_pid = 0;
    }
    return s_server_spawn(e);
}

void bench_env_stop(bench_env_t *e)
{
    if (e->server_pid > 0) {
        kill(e->server_pid, SIGTERM);
        for (int i = 0; i < 100 && waitpid(e->server_pid, NULL, WNOHANG) == 0; i++)
            usleep(100000);
        kill(e->server_pid, SIGKILL);
        waitpid(e->server_pid, NULL, 0);
        e->server_pid = 0;
    }
    if (e->own_cluster && e->dir[0] && !getenv("BENCH_KEEP")) {
        s_sh(e,
             ". \"$CCHC_SRC/deploy/pgcluster.sh\"; D=$(cat '%s/pgdir' 2>/dev/null || true); "
             "[ -z \"$D\" ] || pgc_stop \"$D\" immediate; [ -z \"$D\" ] || rm -rf \"$D\"; "
             "rm -rf '%s'",
             e->dir, e->dir);
        e->dir[0] = '\0';
    } else if (e->dir[0]) {
        fprintf(stderr, "bench: kept %s (BENCH_KEEP)\n", e->dir);
    }
}

int bench_copy(PGconn *c, const char *table_cols, const char *data, size_t len)
{
    char sql[400];
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table_cols);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (ok)
        ok = PQputCopyData(c, data, (int)len) == 1 && PQputCopyEnd(c, NULL) == 1;
    r = PQgetResult(c);
    ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "bench: COPY %s: %s", table_cols, PQerrorMessage(c));
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    return ok ? 0 : -1;
}

/* Waits until the server accepts u's key in a CURVE handshake: it loads
 * the keys on NOTIFY cchc_keys, all of them at once, and a busy server
 * takes a moment. A simulated agent refused meanwhile would stay refused
 * (libzmq does not reconnect after a failed handshake; the real agent
 * reconnects itself), so the scenarios start only after this. */
static int s_wait_key(const bench_env_t *e, const bench_unit_t *u)
{
    void *ctx = zmq_ctx_new();
    int rc = -1;
    int64_t deadline = bench_now_us() + 60LL * 1000000;
    for (int attempt = 0; rc != 0 && bench_now_us() < deadline; attempt++) {
        void *s = zmq_socket(ctx, ZMQ_DEALER), *m = zmq_socket(ctx, ZMQ_PAIR);
        char mon[64];
        snprintf(mon, sizeof mon, "inproc://bench-wait-key-%d", attempt);
        int zero = 0;
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(m, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, e->server_pub, 41);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, u->pub, 41);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, u->sec, 41);
        zmq_socket_monitor(s, mon,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
        zmq_connect(m, mon);
        zmq_connect(s, e->endpoint);
        zmq_pollitem_t it = {.socket = m, .events = ZMQ_POLLIN};
        if (zmq_poll(&it, 1, 5000) == 1) {
            uint8_t ev[6];
            char addr[256];
            if (zmq_recv(m, ev, sizeof ev, 0) == 6) {
                uint16_t event;
                memcpy(&event, ev, 2);
                if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                    rc = 0;
            }
            zmq_recv(m, addr, sizeof addr, ZMQ_DONTWAIT);
        }
        zmq_socket_monitor(s, NULL, 0);
        zmq_close(s);
        zmq_close(m);
        if (rc != 0)
            usleep(100000);
    }
    zmq_ctx_term(ctx);
    if (rc != 0)
        fprintf(stderr, "bench: the server did not accept the key of %s within a minute\n",
                u->unit);
    return rc;
}

int bench_units_make(const bench_env_t *e, const char *tag, int n, bench_unit_t **units_p)
{
    bench_unit_t *u = calloc((size_t)n, sizeof *u);
    size_t cap = (size_t)n * 120 + 64, ulen = 0, klen = 0;
    char *ubuf = malloc(cap), *kbuf = malloc(cap);
    for (int i = 0; i < n; i++) {
        snprintf(u[i].unit, sizeof u[i].unit, "bench-%s-%05d", tag, i);
        if (cchc_keys_generate(u[i].pub, u[i].sec) != 0) {
            fprintf(stderr, "bench: could not make a key pair\n");
            goto fail;
        }
        ulen += (size_t)snprintf(ubuf + ulen, cap - ulen,
                                 "%s\tXã đo tải %s %d\tcommune\thuyen-son-dong\t2020-01-01\n",
                                 u[i].unit, tag, i);
        klen += (size_t)snprintf(kbuf + klen, cap - klen, "%s\t%s\n", u[i].unit, u[i].pub);
    }
    PGconn *c = bench_db(e);
    if (!c)
        goto fail;
    int rc = bench_sql(c, "BEGIN");
    if (!rc)
        rc = bench_copy(c, "units (code, name, kind, parent, valid_from)", ubuf, ulen);
    if (!rc)
        rc = bench_copy(c, "agent_keys (unit_code, public_key)", kbuf, klen);
    if (!rc)
        rc = bench_sql(c, "NOTIFY cchc_keys");
    if (!rc)
        rc = bench_sql(c, "COMMIT");
    /* New units wake the server's scheduler (their expectations, and the
     * overdue ones of the bench's 2024 clock): its tick takes seconds for
     * thousands of units. A district's units are there long before their
     * reports: the scenario starts once the tick has covered the last one
     * (or after 30 s). */
    for (int64_t until = bench_now_us() + 30LL * 1000000; rc == 0 && bench_now_us() < until;) {
        char q[200];
        snprintf(q, sizeof q, "SELECT 1 FROM expectations WHERE unit_code = '%s' LIMIT 1",
                 u[n - 1].unit);
        PGresult *r = PQexec(c, q);
        int seen = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        PQclear(r);
        if (seen)
            break;
        usleep(100000);
    }
    PQfinish(c);
    if (rc != 0 || s_wait_key(e, &u[n - 1]) != 0)
        goto fail;
    free(ubuf);
    free(kbuf);
    *units_p = u;
    return 0;
fail:
    free(ubuf);
    free(kbuf);
    free(u);
    return -1;
}

static long s_status_kb(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

int bench_proc_read(int pid, bench_proc_t *p)
{
    char path[128], buf[8192];
    memset(p, 0, sizeof *p);
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p->rss_kb = s_status_kb(buf, "VmRSS:");
    p->hwm_kb = s_status_kb(buf, "VmHWM:");
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    p->shared_clean_kb = p->pss_kb = -1;
    if ((f = fopen(path, "r")) != NULL) {
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        p->shared_clean_kb = s_status_kb(buf, "Shared_Clean:");
        p->pss_kb = s_status_kb(buf, "\nPss:");
    }
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command's closing parenthesis: utime is the 14th. */
    char *q = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (q && sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
        p->cpu_ms = (long long)((ut + st) * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK));
    /* Every thread's context switches: each is a wake-up or a preemption. */
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char tp[300];
        snprintf(tp, sizeof tp, "/proc/%d/task/%s/status", pid, de->d_name);
        FILE *tf = fopen(tp, "r");
        if (!tf)
            continue;
        n = fread(buf, 1, sizeof buf - 1, tf);
        fclose(tf);
        buf[n] = '\0';
        long v = s_status_kb(buf, "voluntary_ctxt_switches:");
        long nv = s_status_kb(buf, "nonvoluntary_ctxt_switches:");
        p->ctxsw += (v > 0 ? v : 0) + (nv > 0 ? nv : 0);
    }
    if (d)
        closedir(d);
    return 0;
}

int bench_tasks_make(const bench_env_t *e, const char *prefix, const bench_unit_t *units, int n,
                     int m)
{
    size_t cap = (size_t)n * 48 + 4096;
    char *sql = malloc(cap);
    size_t len = (size_t)snprintf(sql, cap,
                                  "INSERT INTO plan_tasks (code, title, index_name, dimension, "
                                  "target, lead, support, due) SELECT '%s' || g, 'Nhiệm vụ đo "
                                  "tải ' || g, 'PAPI', 'D5', 'maintain', ARRAY[",
                                  prefix);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(sql + len, cap - len, "%s'%s'", i ? "," : "", units[i].unit);
    snprintf(sql + len, cap - len, "], '{}', '2024-12-14' FROM generate_series(1, %d) g", m);
    PGconn *c = bench_db(e);
    int rc = c ? bench_sql(c, sql) : -1;
    free(sql);
    char q[300];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM expectations WHERE type_code = 'NV_KH' AND subject LIKE '%s%%'",
             prefix);
    int64_t t0 = bench_now_us();
    long long have = -1;
    while (rc == 0 && (have = bench_sql_int(c, q)) < (long long)n * m) {
        if (have < 0 || bench_now_us() - t0 > 180LL * 1000000) {
            fprintf(stderr, "bench: the scheduler made %lld of %lld expectations of %s*\n", have,
                    (long long)n * m, prefix);
            rc = -1;
            break;
        }
        usleep(200000);
    }
    if (c)
        PQfinish(c);
    return rc;
}

void bench_tasks_drop(const bench_env_t *e, const char *prefix)
{
    char sql[400];
    PGconn *c = bench_db(e);
    if (!c)
        return;
    snprintf(sql, sizeof sql,
             "BEGIN; DELETE FROM expectations WHERE type_code = 'NV_KH' AND subject LIKE '%s%%'; "
             "DELETE FROM plan_tasks WHERE code LIKE '%s%%'; COMMIT",
             prefix, prefix);
    bench_sql(c, sql);
    /* No district deletes 40,000 tasks at once: until autovacuum came, every
     * unit's metadata document scanned their dead rows (3.3 ms of 11.5 ms
     * a document; the next scenario's first 12 s were a backlog). */
    bench_sql(c, "VACUUM ANALYZE plan_tasks");
    bench_sql(c, "VACUUM ANALYZE expectations");
    PQfinish(c);
}
