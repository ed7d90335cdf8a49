/* test_srv_units.c: srv_units's reads over the fake database (fake_db.c).
 *
 * The documents are read a few units per statement, one statement in flight
 * per reader: the server's connection, and the connections added with
 * srv_units_add_reader (the store lanes'), which take a read only while
 * nothing else is pending on them. Checked here: the wants spread over the
 * idle readers and never over a busy one, no unit is in two reads, every
 * want is answered once (ok when its document came back, failed when its
 * read was lost), and what was left queued goes out as readers come back. */
#include "cchc_clock.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "fake_db.h"
#include "srv_units.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S_UNITS 60

typedef struct {
    int ok, failed; /* the want's callback calls */
} s_want_t;

typedef struct {
    srv_db_t *main, *lane[2];
    srv_units_t *units;
    char names[S_UNITS][16];
    s_want_t wants[S_UNITS];
    int connected;        /* what is_connected answers for every unit */
    int changed[S_UNITS]; /* on_changed calls */
} s_env_t;

static int s_is_connected(void *arg, const char *unit)
{
    (void)unit;
    s_env_t *e = arg;
    return e->connected;
}

static void s_on_changed(void *arg, const char *unit)
{
    s_env_t *e = arg;
    for (int i = 0; i < S_UNITS; i++)
        if (strcmp(e->names[i], unit) == 0)
            e->changed[i]++;
}

static void s_on_want(void *arg, const char *unit, int ok)
{
    (void)unit;
    s_want_t *w = arg;
    if (ok)
        w->ok++;
    else
        w->failed++;
}

static void s_on_other(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    (void)db;
    (void)rc;
    (void)res;
    int *done = arg;
    (*done)++;
}

static srv_db_t *s_db(const char *name)
{
    char err[256] = "";
    srv_db_hooks_t h = {.name = name};
    srv_db_t *db = srv_db_new("", &h);
    assert_int_equal(srv_db_connect(db, 1000, err, sizeof err), 0);
    assert_int_equal(srv_db_start(db, err, sizeof err), 0);
    return db;
}

static s_env_t *s_env_new(void)
{
    if (!getenv("CCHC_TEST_LOG"))
        cchc_log_level = CCHC_LOG_ERROR + 1;
    fake_db_reset();
    s_env_t *e = cchc_calloc(1, sizeof *e);
    e->main = s_db("cchc-server");
    e->lane[0] = s_db("cchc-server-store-0");
    e->lane[1] = s_db("cchc-server-store-1");
    srv_units_hooks_t uh = {.is_connected = s_is_connected, .on_changed = s_on_changed, .arg = e};
    e->units = srv_units_new(e->main, &uh);
    srv_units_add_reader(e->units, e->lane[0]);
    srv_units_add_reader(e->units, e->lane[1]);
    for (int i = 0; i < S_UNITS; i++)
        snprintf(e->names[i], sizeof e->names[i], "xa-%03d", i);
    return e;
}

static void s_env_free(s_env_t *e)
{
    srv_units_destroy(&e->units);
    srv_db_destroy(&e->lane[1]);
    srv_db_destroy(&e->lane[0]);
    srv_db_destroy(&e->main);
    free(e);
}

/* Runs the units' timer as the server's loop would, once it is due. */
static void s_tick(s_env_t *e)
{
    int64_t due = srv_units_next_timer(e->units);
    if (due >= 0)
        srv_units_on_timer(e->units, due > cchc_clock_mono_ms() ? due : cchc_clock_mono_ms());
}

/* The units of the read queued at position k of db (the text array
 * parameter split), as indexes into e->names; returns how many. */
static size_t s_read_units(s_env_t *e, srv_db_t *db, size_t k, int *idx, size_t cap)
{
    const fake_db_job_t *j = fake_db_job(db, k);
    assert_non_null(j);
    assert_int_equal(j->segment, 0);
    assert_int_equal(j->n, 1);
    assert_non_null(j->stmts[0].sql);
    assert_non_null(strstr(j->stmts[0].sql, "cchc_unit_metadata"));
    assert_int_equal(j->stmts[0].nparams, 1);
    const char *p = j->stmts[0].values[0];
    assert_int_equal(*p, '{');
    size_t n = 0;
    while (*p && *p != '}') {
        p++; /* '{' or ',' */
        assert_int_equal(*p, '"');
        const char *end = strchr(p + 1, '"');
        assert_non_null(end);
        int found = -1;
        for (int i = 0; i < S_UNITS; i++)
            if (strlen(e->names[i]) == (size_t)(end - p - 1) &&
                memcmp(e->names[i], p + 1, (size_t)(end - p - 1)) == 0)
                found = i;
        assert_true(found >= 0);
        assert_true(n < cap);
        idx[n++] = found;
        p = end + 1;
    }
    return n;
}

/* Answers the head read of db with a document for each of its units, of
 * version v (a different v: a different document). */
static void s_answer_v(s_env_t *e, srv_db_t *db, int v)
{
    int idx[S_UNITS];
    size_t n = s_read_units(e, db, 0, idx, S_UNITS);
    const char **cells = cchc_calloc(2 * n, sizeof *cells);
    char(*docs)[64] = cchc_calloc(n, sizeof *docs);
    for (size_t i = 0; i < n; i++) {
        snprintf(docs[i], sizeof docs[i], "{\"unit\":{\"code\":\"%s\"},\"v\":%d}", e->names[idx[i]],
                 v);
        cells[2 * i] = e->names[idx[i]];
        cells[2 * i + 1] = docs[i];
    }
    fake_db_finish1(db, fake_db_tuples(2, (int)n, cells));
    free(cells);
    free(docs);
}

static void s_answer(s_env_t *e, srv_db_t *db)
{
    s_answer_v(e, db, 1);
}

static void test_reads_spread_over_idle_readers(void **state)
{
    (void)state;
    s_env_t *e = s_env_new();
    /* Lane 1 has a batch of its own pending: no read may go behind it. */
    int other = 0;
    assert_int_equal(srv_db_submit(e->lane[1], "SELECT 1", 0, NULL, NULL, NULL, s_on_other, &other),
                     0);
    for (int i = 0; i < S_UNITS; i++)
        srv_units_want(e->units, e->names[i], s_on_want, &e->wants[i]);
    s_tick(e);
    assert_int_equal(fake_db_jobs(e->main), 1);
    assert_int_equal(fake_db_jobs(e->lane[0]), 1);
    assert_int_equal(fake_db_jobs(e->lane[1]), 1); /* its own only */
    assert_string_equal(fake_db_job(e->lane[1], 0)->stmts[0].sql, "SELECT 1");
    int a[S_UNITS], b[S_UNITS], seen[S_UNITS] = {0};
    size_t na = s_read_units(e, e->main, 0, a, S_UNITS);
    size_t nb = s_read_units(e, e->lane[0], 0, b, S_UNITS);
    assert_int_equal(na, SRV_UNITS_PER_READ);
    assert_int_equal(nb, SRV_UNITS_PER_READ);
    for (size_t i = 0; i < na; i++)
        seen[a[i]]++;
    for (size_t i = 0; i < nb; i++)
        seen[b[i]]++;
    for (int i = 0; i < S_UNITS; i++)
        assert_true(seen[i] <= 1);
    /* Nothing more while every idle reader has its read. */
    s_tick(e);
    assert_int_equal(fake_db_jobs(e->main), 1);
    assert_int_equal(fake_db_jobs(e->lane[0]), 1);
    assert_int_equal(fake_db_jobs(e->lane[1]), 1);

    /* Lane 0 answers: its wants are answered ok, and the rest goes on it. */
    s_answer(e, e->lane[0]);
    for (size_t i = 0; i < nb; i++)
        assert_int_equal(e->wants[b[i]].ok, 1);
    s_tick(e);
    assert_int_equal(fake_db_jobs(e->lane[0]), 1);
    assert_int_equal(fake_db_jobs(e->lane[1]), 1);
    int c[S_UNITS];
    size_t nc = s_read_units(e, e->lane[0], 0, c, S_UNITS);
    assert_int_equal(na + nb + nc, S_UNITS);
    for (size_t i = 0; i < nc; i++)
        assert_int_equal(seen[c[i]]++, 0);

    /* Lane 1's own job done; the main read and lane 0's answered. */
    fake_db_finish1(e->lane[1], fake_db_command_ok());
    assert_int_equal(other, 1);
    s_answer(e, e->main);
    s_answer(e, e->lane[0]);
    s_tick(e);
    for (int i = 0; i < S_UNITS; i++) {
        assert_int_equal(e->wants[i].ok, 1);
        assert_int_equal(e->wants[i].failed, 0);
        size_t len = 0;
        uint64_t version = 0;
        const char *doc = srv_units_doc(e->units, e->names[i], &len, &version);
        assert_non_null(doc);
        assert_non_null(strstr(doc, e->names[i]));
    }
    assert_int_equal(fake_db_jobs(e->main), 0);
    assert_int_equal(fake_db_jobs(e->lane[0]), 0);
    assert_int_equal(fake_db_jobs(e->lane[1]), 0);
    assert_true(srv_units_next_timer(e->units) < 0);
    s_env_free(e);
}

/* A store lane's connection lost during a read: its wants are not
 * failed but read again on a free connection; the same for the refresh
 * of a change, whose MetaChanged (on_changed) must not be lost, since the
 * lane's reconnect does not queue the documents again. */
static void test_lost_reader(void **state)
{
    (void)state;
    s_env_t *e = s_env_new();
    for (int i = 0; i < 30; i++)
        srv_units_want(e->units, e->names[i], s_on_want, &e->wants[i]);
    s_tick(e);
    int a[S_UNITS], b[S_UNITS], c[S_UNITS];
    size_t na = s_read_units(e, e->main, 0, a, S_UNITS);
    size_t nb = s_read_units(e, e->lane[0], 0, b, S_UNITS);
    assert_int_equal(na + nb, 30);
    assert_int_equal(fake_db_jobs(e->lane[1]), 0);
    fake_db_lose(e->lane[0]);
    for (int i = 0; i < 30; i++)
        assert_int_equal(e->wants[i].failed + e->wants[i].ok, 0);
    /* Lane 0 is down and the server's connection busy: lane 1 reads them. */
    s_tick(e);
    assert_int_equal(fake_db_jobs(e->lane[0]), 0);
    assert_int_equal(fake_db_jobs(e->lane[1]), 1);
    size_t nc = s_read_units(e, e->lane[1], 0, c, S_UNITS);
    assert_int_equal(nc, nb);
    for (size_t i = 0; i < nb; i++)
        assert_int_equal(c[i], b[i]);
    s_answer(e, e->lane[1]);
    s_answer(e, e->main);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(e->wants[i].ok, 1);
        assert_int_equal(e->wants[i].failed, 0);
    }

    /* A change for every unit, the agents connected: each document read
     * again, and each unit whose document moved told once, though lane 0
     * is lost again in the middle. */
    fake_db_reconnect(e->lane[0]);
    e->connected = 1;
    srv_units_changed(e->units, NULL);
    for (int i = 0; i < 30; i++)
        assert_null(srv_units_doc(e->units, e->names[i], &(size_t){0}, &(uint64_t){0}));
    s_tick(e);
    assert_int_equal(fake_db_jobs(e->main), 1);
    assert_int_equal(fake_db_jobs(e->lane[0]), 1);
    fake_db_lose(e->lane[0]);
    s_tick(e);
    assert_int_equal(fake_db_jobs(e->lane[1]), 1);
    s_answer_v(e, e->lane[1], 2);
    s_answer_v(e, e->main, 2);
    s_tick(e);
    assert_int_equal(fake_db_jobs(e->main) + fake_db_jobs(e->lane[1]), 0);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(e->changed[i], 1);
        assert_non_null(srv_units_doc(e->units, e->names[i], &(size_t){0}, &(uint64_t){0}));
    }
    for (int i = 30; i < S_UNITS; i++)
        assert_int_equal(e->changed[i], 0);
    fake_db_reconnect(e->lane[0]);
    s_env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_spread_over_idle_readers),
        cmocka_unit_test(test_lost_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
