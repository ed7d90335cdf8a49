/* srv_hist.h: the histograms that the loop counts and /metrics shows.
 *
 * Fixed buckets, counted per bucket (not cumulative: srv_metrics adds them
 * up when it writes them), so an observation is a few comparisons and one
 * increment in the loop's thread, with no lock and no allocation. They live
 * in srv_counters_t (srv_router.h) beside the counters that the stats line
 * logs, and reach the metrics thread the same way: in the snapshot the loop
 * publishes (srv_metrics.c). */
#ifndef SRV_HIST_H
#define SRV_HIST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SRV_HIST_MAX 16
#define SRV_HIST_BATCH_ROWS_N 12
#define SRV_HIST_COMMIT_N 13

/* The upper bounds (inclusive, "le") of each histogram's buckets, ascending;
 * one more bucket holds what is above the last. */
static inline const double *srv_hist_batch_rows_le(void)
{
    static const double le[SRV_HIST_BATCH_ROWS_N] = {1,   2,   5,   10,   20,   50,
                                                     100, 200, 500, 1000, 2000, 5000};
    return le;
}

static inline const double *srv_hist_commit_le(void)
{
    static const double le[SRV_HIST_COMMIT_N] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                 0.25,  0.5,    1,     2.5,  5,     10};
    return le;
}

typedef struct {
    unsigned long long bucket[SRV_HIST_MAX + 1]; /* [i]: in (le[i-1], le[i]]; [n]: above */
    unsigned long long count;
    double sum;
} srv_hist_t;

/* Counts v in h, whose n bucket bounds are le (ascending). */
static inline void srv_hist_observe(srv_hist_t *h, const double *le, size_t n, double v)
{
    size_t i = 0;
    while (i < n && v > le[i])
        i++;
    h->bucket[i]++;
    h->count++;
    h->sum += v;
}

/* A batch of rows reports (cchc_batch_reports). */
static inline void srv_hist_batch_rows(srv_hist_t *h, size_t rows)
{
    srv_hist_observe(h, srv_hist_batch_rows_le(), SRV_HIST_BATCH_ROWS_N, (double)rows);
}

/* Monotonic microseconds: the start of what srv_hist_commit measures. */
static inline int64_t srv_hist_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A commit, started_us (srv_hist_now_us) ago (cchc_batch_commit_seconds). */
static inline void srv_hist_commit(srv_hist_t *h, int64_t started_us)
{
    srv_hist_observe(h, srv_hist_commit_le(), SRV_HIST_COMMIT_N,
                     (double)(srv_hist_now_us() - started_us) / 1e6);
}

#endif
