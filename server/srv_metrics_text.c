/* srv_metrics_text.c: what /metrics says (see srv_metrics.h).
 *
 * The Prometheus text format 0.0.4: for each family a "# HELP" and a
 * "# TYPE" line, then its samples; counters end in _total, histograms give
 * cumulative _bucket{le} lines up to +Inf, then _sum and _count. Every name,
 * label and help text here is a constant of ours; the only values from
 * outside (the version and the commit in cchc_build_info) are escaped.
 * Owns nothing: it formats a snapshot that the caller owns, reads /proc,
 * and parses [metrics] listen. */
#include "srv_metrics.h"
#include "cchc_err.h"

#include <ctype.h>
#include <dirent.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- [metrics] listen ----------------------------------------------------------------- */

int srv_metrics_listen_parse(const char *text, struct sockaddr_storage *sa, socklen_t *salen,
                             char *err, size_t errlen)
{
    static const char *const expect =
        "expected HOST:PORT, such as 127.0.0.1:9470 or [::1]:9470 (empty turns /metrics off)";
    char host[256];
    const char *port;
    size_t hlen;
    if (!text || !text[0]) {
        snprintf(err, errlen, "[metrics] listen is empty: %s", expect);
        return CCHC_EINVAL;
    }
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errlen, "[metrics] listen = \"%s\": %s", text, expect);
            return CCHC_EINVAL;
        }
        hlen = (size_t)(close - text - 1);
        memcpy(host, text + 1, hlen < sizeof host ? hlen : 0);
        port = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon) {
            snprintf(err, errlen, "[metrics] listen = \"%s\" has no port: %s", text, expect);
            return CCHC_EINVAL;
        }
        if (memchr(text, ':', (size_t)(colon - text))) {
            snprintf(err, errlen,
                     "[metrics] listen = \"%s\": an IPv6 address goes in brackets, such as "
                     "[::1]:9470",
                     text);
            return CCHC_EINVAL;
        }
        hlen = (size_t)(colon - text);
        memcpy(host, text, hlen < sizeof host ? hlen : 0);
        port = colon + 1;
    }
    if (hlen == 0 || hlen >= sizeof host) {
        snprintf(err, errlen, "[metrics] listen = \"%s\": the host is %s: %s", text,
                 hlen ? "too long" : "missing", expect);
        return CCHC_EINVAL;
    }
    host[hlen] = '\0';
    long pn = 0;
    int digits = 0;
    for (const char *p = port; *p && pn <= 65535; p++, digits++)
        pn = isdigit((unsigned char)*p) ? pn * 10 + (*p - '0') : 65536;
    if (digits == 0 || digits > 5 || pn < 1 || pn > 65535) {
        snprintf(err, errlen,
                 "[metrics] listen = \"%s\": the port \"%s\" is not a number from 1 "
                 "to 65535",
                 text, port);
        return CCHC_EINVAL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "[metrics] listen = \"%s\": could not resolve host \"%s\": %s", text,
                 host, rc ? gai_strerror(rc) : "no address");
        return CCHC_EINVAL;
    }
    memset(sa, 0, sizeof *sa);
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    *salen = res->ai_addrlen;
    freeaddrinfo(res);
    return CCHC_OK;
}

int srv_metrics_check(const char *listen, char *err, size_t errlen)
{
    struct sockaddr_storage sa;
    socklen_t salen;
    if (!listen || !listen[0])
        return CCHC_OK;
    return srv_metrics_listen_parse(listen, &sa, &salen, err, errlen);
}

/* ---- /proc -------------------------------------------------------------------------------- */

/* The fields of /proc/self/stat after the command (which may hold spaces
 * and parentheses): field 14 is at index 11 (utime), 15 (stime), 22
 * (starttime, clock ticks after boot). */
static int s_proc_stat(double *cpu_s, double *start_ticks)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long v[20] = {0};
    int k = 0;
    for (p++; k < 20 && *p;) {
        while (*p == ' ')
            p++;
        char *end;
        v[k++] = strtoull(p, &end, 10); /* the state letter reads as 0 */
        p = end == p ? p + 1 : end;
        while (*p && *p != ' ')
            p++;
    }
    if (k < 20)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    *cpu_s = (double)(v[11] + v[12]) / hz;
    *start_ticks = (double)v[19] / hz;
    return 0;
}

static double s_boot_time(void)
{
    char line[256];
    double bt = -1;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "btime ", 6) == 0)
            bt = strtod(line + 6, NULL);
    fclose(f);
    return bt;
}

void srv_metrics_proc(srv_metrics_snapshot_t *snap)
{
    snap->rss_bytes = snap->vsize_bytes = snap->start_time_s = snap->cpu_s = -1;
    snap->open_fds = snap->max_fds = -1;
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &resident) == 2) {
            double page = (double)sysconf(_SC_PAGESIZE);
            snap->vsize_bytes = (double)size * page;
            snap->rss_bytes = (double)resident * page;
        }
        fclose(f);
    }
    double cpu, start, boot = s_boot_time();
    if (s_proc_stat(&cpu, &start) == 0) {
        snap->cpu_s = cpu;
        if (boot >= 0)
            snap->start_time_s = boot + start;
    }
    /* One entry per open descriptor, less the one that reads the directory. */
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        double n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                n++;
        closedir(d);
        snap->open_fds = n - 1;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        snap->max_fds = (double)rl.rlim_cur;
}

/* ---- the text ----------------------------------------------------------------------------- */

static void s_family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void s_counter(FILE *f, const char *name, const char *help, unsigned long long v)
{
    s_family(f, name, "counter", help);
    fprintf(f, "%s %llu\n", name, v);
}

static void s_gauge(FILE *f, const char *name, const char *help, double v)
{
    s_family(f, name, "gauge", help);
    fprintf(f, "%s %.15g\n", name, v);
}

/* One labelled sample of a family already headed. */
static void s_labelled(FILE *f, const char *name, const char *label, const char *value,
                       unsigned long long v)
{
    fprintf(f, "%s{%s=\"%s\"} %llu\n", name, label, value, v);
}

static void s_histogram(FILE *f, const char *name, const char *help, const srv_hist_t *h,
                        const double *le, size_t n)
{
    s_family(f, name, "histogram", help);
    unsigned long long cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += h->bucket[i];
        fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, le[i], cum);
    }
    fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, h->count);
    fprintf(f, "%s_sum %.17g\n%s_count %llu\n", name, h->sum, name, h->count);
}

/* A label value: backslash, quote and newline escaped (format 0.0.4). */
static void s_label_value(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(f, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void s_reports(FILE *f, const srv_metrics_snapshot_t *s)
{
    const srv_counters_t *c = &s->c;
    s_counter(f, "cchc_reports_received_total", "Report messages received from agents.",
              c->reports);
    s_counter(f, "cchc_reports_accepted_total",
              "Reports stored as accepted (a copy delivered again is not counted again).",
              c->accepted);
    s_counter(f, "cchc_reports_rejected_total",
              "Reports stored as rejected, with their findings, and answered Nack INVALID.",
              c->rejected);
    s_counter(f, "cchc_reports_duplicate_total",
              "Deliveries of a report stored before, acked again as a duplicate.", c->duplicates);
    s_family(f, "cchc_reports_refused_total", "counter",
             "Nacks INVALID by the error code of their findings; a Nack counts once under each "
             "code it carries.");
    for (int k = 0; k <= SRV_REFUSED_CODES; k++) {
        char code[8];
        if (!c->refused_code[k])
            continue;
        if (k < SRV_REFUSED_CODES)
            snprintf(code, sizeof code, "E%03d", k);
        else
            snprintf(code, sizeof code, "other");
        s_labelled(f, "cchc_reports_refused_total", "code", code, c->refused_code[k]);
    }
    s_family(f, "cchc_reports_refused_busy_total", "counter",
             "Reports answered BUSY on arrival, by cause: max_pending reached (server_queue), "
             "peer_max_inflight reached (connection_queue), or the database away (database).");
    s_labelled(f, "cchc_reports_refused_busy_total", "cause", "server_queue",
               c->refused_busy_pending);
    s_labelled(f, "cchc_reports_refused_busy_total", "cause", "connection_queue",
               c->refused_busy_peer);
    s_labelled(f, "cchc_reports_refused_busy_total", "cause", "database", c->refused_busy_db);
    s_gauge(f, "cchc_reports_pending", "Reports taken and not yet answered.", (double)s->pending);
    s_family(f, "cchc_nacks_total", "counter",
             "Nacks sent, by reason: BUSY (resend later), INVALID (refused with findings), "
             "UNIT_MISMATCH, MALFORMED, UNSUPPORTED, KEY_REVOKED.");
    const struct {
        const char *reason;
        unsigned long long n;
    } nacks[] = {{"BUSY", c->nack_busy},
                 {"INVALID", c->nack_invalid},
                 {"UNIT_MISMATCH", c->nack_unit_mismatch},
                 {"MALFORMED", c->nack_malformed},
                 {"UNSUPPORTED", c->nack_unsupported},
                 {"KEY_REVOKED", c->nack_key_revoked}};
    for (size_t i = 0; i < sizeof nacks / sizeof nacks[0]; i++)
        s_labelled(f, "cchc_nacks_total", "reason", nacks[i].reason, nacks[i].n);
    s_counter(f, "cchc_acks_total", "Acks sent (duplicates included).", c->acked);
}

static void s_messages(FILE *f, const srv_metrics_snapshot_t *s)
{
    const srv_counters_t *c = &s->c;
    s_counter(f, "cchc_messages_received_total", "Messages read from the ROUTER, of every kind.",
              c->received);
    s_family(f, "cchc_messages_refused_total", "counter",
             "Messages refused before their handler: over max_frame (oversize), a kind the "
             "principal may not send (not_allowed), a revoked or expired key (key_revoked).");
    s_labelled(f, "cchc_messages_refused_total", "cause", "oversize", c->refused_oversize);
    s_labelled(f, "cchc_messages_refused_total", "cause", "not_allowed", c->refused_principal);
    s_labelled(f, "cchc_messages_refused_total", "cause", "key_revoked", c->refused_revoked);
    s_counter(f, "cchc_sends_failed_total",
              "Sends on the ROUTER that failed: the peer gone or its queue full.", c->send_failed);
    s_family(f, "cchc_zap_handshakes_total", "counter",
             "CURVE handshakes decided by the ZAP handler, by result.");
    s_labelled(f, "cchc_zap_handshakes_total", "result", "accepted", s->zap_accepted);
    s_labelled(f, "cchc_zap_handshakes_total", "result", "refused", s->zap_refused);
    s_gauge(f, "cchc_agents_connected",
            "Agent connections heard from in the last 10 minutes and not found gone.",
            (double)s->agents);
    s_gauge(f, "cchc_subscribers_connected", "Notification subscribers' sessions open.",
            (double)s->notify.sub_sessions);
    s_gauge(f, "cchc_agent_outbox_reports",
            "Reports that the connected agents still have to send, as their last Hello said, "
            "summed.",
            (double)s->agents_queued);
    s_gauge(f, "cchc_agent_outbox_reports_max",
            "The largest of those queues (one agent's last Hello).", (double)s->agents_queued_max);
}

static void s_batches(FILE *f, const srv_metrics_snapshot_t *s)
{
    const srv_counters_t *c = &s->c;
    s_histogram(f, "cchc_batch_reports", "Reports per batch (group commit).", &c->batch_reports,
                srv_hist_batch_rows_le(), SRV_HIST_BATCH_ROWS_N);
    s_histogram(f, "cchc_batch_commit_seconds",
                "Seconds from a batch leaving its queue to its commit (each part of a split "
                "batch counts).",
                &c->batch_commit, srv_hist_commit_le(), SRV_HIST_COMMIT_N);
    s_counter(f, "cchc_batch_splits_total",
              "Failed batch statements split in halves to find the report at fault.",
              c->batch_splits);
    s_counter(f, "cchc_batches_resent_total",
              "Batch stages sent again after their connection was lost.", c->resent_batches);
    s_family(f, "cchc_db_reconnects_total", "counter",
             "PostgreSQL connections made again after a loss, by connection name "
             "(application_name).");
    s_labelled(f, "cchc_db_reconnects_total", "connection", "cchc-server",
               c->db_reconnects - c->store_reconnects);
    s_labelled(f, "cchc_db_reconnects_total", "connection", "cchc-server-store",
               c->store_reconnects);
    s_labelled(f, "cchc_db_reconnects_total", "connection", "cchc-server-scheduler",
               s->sched.reconnects);
}

static void s_notifications(FILE *f, const srv_metrics_snapshot_t *s)
{
    const srv_notify_stats_t *n = &s->notify;
    s_counter(f, "cchc_notifications_written_total",
              "Notification rows written to the table since start (by this server or another on "
              "the same database), as the publisher reads them back in order.",
              n->published);
    s_counter(f, "cchc_notifications_pushed_total",
              "Live pushes of notifications to agents and subscribers.", n->pushed);
    s_counter(f, "cchc_notifications_replayed_total",
              "Notifications sent again from the table in replays (after a Hello or a Replay).",
              n->replayed);
    s_counter(f, "cchc_notification_sessions_dropped_total",
              "Delivery sessions dropped (a push could not be queued, or the key was revoked); "
              "the peer's next Hello or Replay replays what it missed.",
              n->dropped);
    s_counter(f, "cchc_notifications_unsendable_total",
              "Notification rows too large for a frame, never sent.", n->oversize);
    s_counter(f, "cchc_notification_replays_total", "Replays started.", n->replays);
    s_counter(f, "cchc_notification_acks_total", "NotificationAcks received.", n->acks);
    s_counter(f, "cchc_notification_subscribers_lagging_total",
              "Times a subscriber reached subscriber_max_pending and was left to catch up.",
              n->lagging);
    s_gauge(f, "cchc_notification_last_seq", "The highest notification seq published.",
            (double)s->notify_last_seq);
}

static void s_scheduler(FILE *f, const srv_metrics_snapshot_t *s)
{
    s_family(f, "cchc_scheduler_ticks_total", "counter",
             "Scheduler ticks of this server, by outcome (skipped: another server held the "
             "lock; failed: rolled back, the next tick redoes it).");
    s_labelled(f, "cchc_scheduler_ticks_total", "outcome", "committed", s->sched.committed);
    s_labelled(f, "cchc_scheduler_ticks_total", "outcome", "skipped", s->sched.skipped);
    s_labelled(f, "cchc_scheduler_ticks_total", "outcome", "failed", s->sched.failed);
    s_gauge(f, "cchc_scheduler_last_tick_timestamp_seconds",
            "The instant of the last tick committed or skipped, on the server's clock, Unix "
            "seconds; 0 before the first.",
            (double)s->sched.last_tick_ms / 1000.0);
    s_counter(f, "cchc_scheduler_notifications_inserted_total",
              "Notification rows inserted by this server's ticks (reminders, overdue notices, "
              "digests).",
              s->sched.inserted);
}

static void s_process(FILE *f, const srv_metrics_snapshot_t *s)
{
    const struct {
        const char *name, *type, *help;
        double v;
    } p[] = {
        {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", s->rss_bytes},
        {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", s->vsize_bytes},
        {"process_start_time_seconds", "gauge",
         "Start time of the process since the Unix epoch in seconds.", s->start_time_s},
        {"process_cpu_seconds_total", "counter", "Total user and system CPU time in seconds.",
         s->cpu_s},
        {"process_open_fds", "gauge", "Number of open file descriptors.", s->open_fds},
        {"process_max_fds", "gauge", "Maximum number of open file descriptors.", s->max_fds},
    };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        if (p[i].v < 0)
            continue;
        s_family(f, p[i].name, p[i].type, p[i].help);
        fprintf(f, "%s %.15g\n", p[i].name, p[i].v);
    }
}

void srv_metrics_format(FILE *f, const srv_metrics_snapshot_t *snap, const char *version,
                        const char *commit)
{
    s_family(f, "cchc_build_info", "gauge", "The running cchc-server's version and git commit.");
    fputs("cchc_build_info{version=\"", f);
    s_label_value(f, version);
    fputs("\",commit=\"", f);
    s_label_value(f, commit);
    fputs("\"} 1\n", f);
    s_reports(f, snap);
    s_messages(f, snap);
    s_batches(f, snap);
    s_notifications(f, snap);
    s_scheduler(f, snap);
    s_process(f, snap);
}
