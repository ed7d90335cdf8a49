/* srv_config.h: the settings of cchc-server and the table that reads them.
 *
 * One declarative table (cchc_cfg_entry_t) maps server.ini onto srv_config_t;
 * cchc_config applies the defaults, then the file, and reports FILE:LINE on
 * any unknown key or bad value. */
#ifndef SRV_CONFIG_H
#define SRV_CONFIG_H

#include "cchc_config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The most store connections a server may have ([database] store_connections). */
#define SRV_STORE_CONNECTIONS_MAX 16

typedef struct {
    char *endpoint;               /* [server] endpoint */
    char *public_key;             /* [server] public_key, absolute path */
    char *secret_key;             /* [server] secret_key, absolute path */
    int64_t max_frame;            /* [server] max_frame, bytes */
    int64_t shutdown_grace_ms;    /* [server] shutdown_grace_ms */
    int64_t batch_max_rows;       /* [server] batch_max_rows: reports per batch */
    int64_t batch_max_delay_ms;   /* [server] batch_max_delay_ms: longest wait for a batch */
    int64_t max_pending;          /* [server] max_pending: unanswered reports, all peers */
    int64_t peer_max_inflight;    /* [server] peer_max_inflight: per routing id */
    int64_t sub_max_pending;      /* [server] subscriber_max_pending: unacked pushes */
    int64_t io_threads;           /* [server] io_threads: ZMQ_IO_THREADS */
    int64_t heartbeat_ivl_ms;     /* [server] heartbeat_ivl_ms: ZMQ_TCP_KEEPALIVE_INTVL */
    int64_t heartbeat_timeout_ms; /* [server] heartbeat_timeout_ms: ZMQ_TCP_KEEPALIVE_IDLE */
    char *conninfo;               /* [database] conninfo, "" = PG* environment */
    int64_t store_connections;    /* [database] store_connections: batch lanes */
    int64_t query_timeout_ms;     /* [database] query_timeout_ms: 0 = none */
    int sched_enabled;            /* [scheduler] enabled */
    int64_t tick_interval_ms;     /* [scheduler] tick_interval_ms */
    char *start_date;             /* [scheduler] start_date, YYYY-MM-DD */
    char *approaching_at;         /* [scheduler] approaching_at, HH:MM local */
    char *today_at;               /* [scheduler] today_at, HH:MM local */
    char *overdue_at;             /* [scheduler] overdue_at, HH:MM local */
    int64_t overdue_repeat_wd;    /* [scheduler] overdue_repeat_wd */
    int64_t escalate_after_wd;    /* [scheduler] escalate_after_wd */
    int64_t silent_hours;         /* [scheduler] silent_hours */
    int64_t max_clock_skew_ms;    /* [scheduler] max_clock_skew_ms: sealed time trusted within */
    int64_t closed_grace_days;    /* [units] closed_key_grace_days: a closed unit's keys work */
    char *metrics_listen;         /* [metrics] listen: HOST:PORT of /metrics, "" = off */
    int log_level;                /* [log] level, CCHC_LOG_* */
} srv_config_t;

extern const cchc_cfg_entry_t srv_config_table[];
extern const size_t srv_config_table_len;

/* Loads defaults then the file at path into *cfg (zeroed first).
 * 0, CCHC_EIO or CCHC_EINVAL; err names the file and line. */
int srv_config_load(srv_config_t *cfg, const char *path, char *err, size_t errlen);

/* Frees the strings of *cfg and zeroes it; safe on a zeroed struct. */
void srv_config_free(srv_config_t *cfg);

/* Prints the table (section, key, default, help) for --help. */
void srv_config_describe(FILE *f);

#endif
