/* agt_cmd_run.c: `cchc-agent run [--drain] [--timeout SEC]`, the daemon.
 *
 * Owns the process side of the daemon: options, signals (and the two helpers
 * `sync` shares: agt_cmd_signals, agt_cmd_parse_seconds), and the lifetime of
 * the outbox and the link; agt_link does the work. `--drain` ends once
 * nothing is queued and the district's metadata was synced once. SIGTERM and SIGINT end it
 * promptly with 0: every report is already on disk, and whatever was in flight
 * is resent by the next run.
 *
 * Under systemd (Type=notify, cchc_sdnotify) the daemon is ready as soon as
 * the outbox is open, the link made and the signals caught: it does not wait
 * for the server, which may be out of reach for days while reports queue.
 * STOPPING=1 goes when the loop ends, before the socket's linger. */
#include "agt_config.h"
#include "agt_link.h"
#include "agt_outbox.h"

#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_sdnotify.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* No SA_RESTART: the signal interrupts zmq_poll, so the loop sees it at once. */
volatile sig_atomic_t *agt_cmd_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    return &s_stop;
}

int agt_cmd_parse_seconds(const char *text, int64_t *ms_out)
{
    char *end = NULL;
    double sec = text ? strtod(text, &end) : 0;
    if (!text || end == text || *end != '\0' || !isfinite(sec) || sec <= 0 || sec > 1e8)
        return CCHC_EINVAL;
    *ms_out = (int64_t)(sec * 1000.0 + 0.5);
    return *ms_out > 0 ? CCHC_OK : CCHC_EINVAL;
}

/* Queued rows, -1 when the outbox cannot tell. */
static int64_t s_queued(agt_outbox_t *outbox)
{
    int64_t n = -1;
    return agt_outbox_queued_count(outbox, &n) == CCHC_OK ? n : -1;
}

int agt_cmd_run(const agt_config_t *cfg, int argc, char **argv)
{
    agt_link_opts_t opts = {.stop = &s_stop};
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--drain") == 0) {
            opts.drain = 1;
            continue;
        }
        if (strcmp(argv[i], "--timeout") == 0)
            value = i + 1 < argc ? argv[++i] : NULL;
        else if (strncmp(argv[i], "--timeout=", 10) == 0)
            value = argv[i] + 10;
        else {
            fprintf(stderr, "run: tùy chọn không hợp lệ \"%s\" (unknown option)\n", argv[i]);
            return AGT_EXIT_USAGE;
        }
        if (agt_cmd_parse_seconds(value, &opts.timeout_ms) != CCHC_OK) {
            fprintf(stderr, "run: --timeout cần một số giây lớn hơn 0 (--timeout takes a number "
                            "of seconds above 0)\n");
            return AGT_EXIT_USAGE;
        }
    }

    /* One malloc arena for the process. Ours is one thread; libzmq's I/O
     * thread would otherwise get an arena of its own for its few message
     * buffers, which an idle daemon keeps resident (cchc-bench's agent
     * footprint: 8,252 -> 8,180 kB RSS; issue 12's target is 8 MB). */
    (void)mallopt(M_ARENA_MAX, 1);
    char err[512] = "";
    int code = AGT_EXIT_FAILED;
    agt_link_t *link = NULL;
    agt_outbox_t *outbox = agt_outbox_new(cfg->outbox, err, sizeof err);
    if (!outbox) {
        fprintf(stderr, "Không mở được hàng đợi gửi: %s\n(could not open the outbox: %s)\n", err,
                err);
        goto out;
    }
    link = agt_link_new(cfg, outbox, err, sizeof err);
    if (!link) {
        fprintf(stderr,
                "Không khởi động được kết nối tới máy chủ huyện: %s\n"
                "(could not start the link to the district server: %s)\n",
                err, err);
        code = AGT_EXIT_USAGE;
        goto out;
    }
    (void)agt_cmd_signals();
    long long queued = (long long)s_queued(outbox);
    if (cchc_sdnotify_send(CCHC_SDNOTIFY_READY,
                           "đang chạy, %lld báo cáo chờ gửi (running for %s: %lld queued)", queued,
                           cfg->unit, queued) < 0)
        CCHC_LOG(CCHC_LOG_WARN, "sd_notify", "err=\"could not notify the service manager: %s\"",
                 strerror(errno));
    int rc = agt_link_run(link, &opts);
    cchc_sdnotify_send(CCHC_SDNOTIFY_STOPPING, "đang dừng (stopping)");
    switch (rc) {
    case AGT_LINK_STOPPED:
        CCHC_LOG(CCHC_LOG_INFO, "stop", "why=signal");
        code = AGT_EXIT_OK;
        break;
    case AGT_LINK_DRAINED:
        CCHC_LOG(CCHC_LOG_INFO, "stop", "why=drained");
        code = AGT_EXIT_OK;
        break;
    case AGT_LINK_TIMED_OUT:
        CCHC_LOG(opts.drain ? CCHC_LOG_WARN : CCHC_LOG_INFO, "stop", "why=timeout drain=%d",
                 opts.drain);
        if (opts.drain && s_queued(outbox) > 0)
            fprintf(stderr, "Hết thời gian chờ mà vẫn còn báo cáo chưa gửi được; xem "
                            "`cchc-agent status`.\n(timed out with reports still queued)\n");
        else if (opts.drain)
            fprintf(stderr, "Hết thời gian chờ mà chưa đồng bộ được dữ liệu của huyện; xem "
                            "`cchc-agent status`.\n(timed out before the metadata sync)\n");
        code = opts.drain ? AGT_EXIT_TIMEOUT : AGT_EXIT_OK;
        break;
    default:
        CCHC_LOG(CCHC_LOG_ERROR, "stop", "why=error code=%s", cchc_strerror(rc));
        code = AGT_EXIT_FAILED;
        break;
    }
out:
    agt_link_destroy(&link);
    agt_outbox_destroy(&outbox);
    return code;
}
