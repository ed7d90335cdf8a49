/* bench_fleet.c: simulated agents for cchc-bench (see bench.h).
 *
 * A worker process owns a slice of the bench's units: one DEALER socket each,
 * with the unit's own CURVE key, in one epoll loop over the sockets' ZMQ_FD
 * (zmq_poll over thousands of sockets cost a poll(2) of every descriptor
 * each turn: 77 % of the machine in a 10,000-agent storm, leaving the
 * server a fraction of it). Like cchc-agent, an
 * agent keeps at most `window` reports unanswered (one when `serial`), resends one answered
 * NACK_BUSY after a backoff, and acks the notifications it is pushed. A
 * report is answered for good by an Ack or by any other Nack (a stored
 * rejection is durable too); its latency is from its first send to that
 * answer. An agent of a storm sends Hello and MetaRequest and is served when
 * its Meta and its catch-up notifications are in. */
#include "bench.h"
#include "cchc_clock.h"
#include "cchc_report.h"
#include "cchc_wire.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h> /* bench_worker_line */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define S_BUSY_BACKOFF_US 100000 /* the agent's first BUSY backoff is of this order */

typedef struct {
    void *sock;
    const bench_unit_t *u;
    uint64_t epoch;
    int started;        /* reports sent at least once */
    int answered;       /* reports answered for good */
    int inflight;       /* sent, unanswered, not waiting on a BUSY backoff */
    int64_t *first_us;  /* per report (msg_id - 1): first send; 0 before */
    int64_t *answer_us; /* per report: when it was answered for good; 0 before */
    int *busy;          /* FIFO of reports to resend after BUSY */
    int64_t *busy_at;
    int busy_head, busy_len;
    int64_t next_send_us; /* pacing */
    /* storm */
    int has_meta, notes, synced, served;
    uint64_t version;
    uint64_t last_seq, acked_seq;
    int poke;  /* its ZMQ_FD fired or it sent: look for messages (ZMQ_EVENTS) */
    void *mon; /* BENCH_MONITOR: the PAIR reading its socket's monitor */
} s_agent_t;

typedef struct {
    const bench_task_t *t;
    void *ctx;
    s_agent_t *a;
    int n;
    cchc_report_t *report; /* the template, changed per message */
    FILE *out;
    long long acked, nacked, busy;
    int served, synced, done;
    int64_t first_us, last_us;
    int warm;              /* warmup: every agent's report 0 answered */
    int64_t warm_first_us; /* warmup: its first send */
} s_worker_t;

static void s_line(s_worker_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_line(s_worker_t *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(w->out, fmt, ap);
    va_end(ap);
    fputc('\n', w->out);
    fflush(w->out);
}

static int s_send_env(s_agent_t *a, cchc_envelope_t *env)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    env->protocol_version = 1;
    env->unit = (char *)a->u->unit;
    env->agent_epoch = a->epoch;
    env->sent_at_ms = cchc_clock_now_ms();
    if (cchc_wire_encode(env, &buf, &len) != 0)
        return -1;
    int rc = zmq_send(a->sock, buf, len, ZMQ_DONTWAIT) == (int)len ? 0 : -1;
    free(buf);
    a->poke = 1; /* see s_service */
    return rc;
}

static int s_send_report(s_worker_t *w, s_agent_t *a, int k)
{
    cchc_envelope_t env = CCHC__V1__ENVELOPE__INIT;
    env.body_case = CCHC__V1__ENVELOPE__BODY_REPORT;
    w->report->unit = (char *)a->u->unit;
    w->report->revision = (int64_t)(w->t->first_revision + (uint64_t)k);
    char task[64];
    char *template_task = NULL;
    if (w->report->content_case == CCHC__V1__REPORT__CONTENT_TASK_PROGRESS) {
        w->report->task_progress->percent = k % 100;
        if (w->t->task_prefix[0]) {
            /* a report of its own: its own task, revision 1 */
            snprintf(task, sizeof task, "%s%d", w->t->task_prefix, k + 1);
            template_task = w->report->task_progress->task;
            w->report->task_progress->task = task;
            w->report->revision = (int64_t)w->t->first_revision;
        }
    }
    env.report = w->report;
    env.msg_id = (uint64_t)k + 1;
    int rc = s_send_env(a, &env);
    if (template_task)
        w->report->task_progress->task = template_task;
    return rc;
}

static void s_hello(s_agent_t *a)
{
    cchc_envelope_t env = CCHC__V1__ENVELOPE__INIT;
    Cchc__V1__Hello h = CCHC__V1__HELLO__INIT;
    h.agent_version = "bench";
    env.body_case = CCHC__V1__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    s_send_env(a, &env);
}

static void s_meta_request(s_agent_t *a)
{
    cchc_envelope_t env = CCHC__V1__ENVELOPE__INIT;
    Cchc__V1__MetaRequest m = CCHC__V1__META_REQUEST__INIT;
    m.version = a->version;
    env.body_case = CCHC__V1__ENVELOPE__BODY_META_REQUEST;
    env.meta_request = &m;
    s_send_env(a, &env);
}

static void s_note_ack(s_agent_t *a)
{
    if (a->last_seq <= a->acked_seq)
        return;
    cchc_envelope_t env = CCHC__V1__ENVELOPE__INIT;
    Cchc__V1__NotificationAck n = CCHC__V1__NOTIFICATION_ACK__INIT;
    n.seq = a->last_seq;
    env.body_case = CCHC__V1__ENVELOPE__BODY_NOTIFICATION_ACK;
    env.notification_ack = &n;
    if (s_send_env(a, &env) == 0)
        a->acked_seq = a->last_seq;
}

static void s_answered(s_worker_t *w, s_agent_t *a, uint64_t msg_id, int ok)
{
    int k = (int)msg_id - 1;
    if (k < 0 || k >= w->t->reports || a->answer_us[k] || !a->first_us[k])
        return;
    int64_t now = bench_now_us();
    a->answer_us[k] = now;
    a->answered++;
    a->inflight--;
    if (ok)
        w->acked++;
    else
        w->nacked++;
    w->last_us = now;
}

static void s_on_message(s_worker_t *w, s_agent_t *a, const uint8_t *buf, size_t len)
{
    cchc_envelope_t *env = NULL;
    if (cchc_wire_decode(buf, len, 64 << 20, &env, NULL, 0) != 0) {
        cchc_wire_free(&env);
        return;
    }
    switch (env->body_case) {
    case CCHC__V1__ENVELOPE__BODY_ACK:
        s_answered(w, a, env->ack->msg_id, 1);
        break;
    case CCHC__V1__ENVELOPE__BODY_NACK:
        if (env->nack->reason == CCHC__V1__NACK_REASON__NACK_BUSY) {
            int k = (int)env->nack->msg_id - 1;
            if (k >= 0 && k < w->t->reports && !a->answer_us[k]) {
                int at = (a->busy_head + a->busy_len) % w->t->reports;
                a->busy[at] = k;
                a->busy_at[at] = bench_now_us() + S_BUSY_BACKOFF_US + rand() % 50000;
                a->busy_len++;
                a->inflight--;
                w->busy++;
            }
        } else {
            s_answered(w, a, env->nack->msg_id, 0);
        }
        break;
    case CCHC__V1__ENVELOPE__BODY_META:
        if (!a->has_meta) {
            a->has_meta = 1;
            a->version = env->meta->version;
        } else if (!env->meta->unchanged && env->meta->version != a->version) {
            a->version = env->meta->version;
            if (!a->synced) {
                a->synced = 1;
                w->synced++;
            }
        }
        break;
    case CCHC__V1__ENVELOPE__BODY_META_CHANGED:
        if (w->t->serve)
            s_meta_request(a);
        break;
    case CCHC__V1__ENVELOPE__BODY_NOTIFICATION:
        if (env->notification->seq > a->last_seq)
            a->last_seq = env->notification->seq;
        a->notes++;
        break;
    default:
        break;
    }
    cchc_wire_free(&env);
}

/* Sends what the window, the pacing and the BUSY backoffs allow (one at a
 * time when serial). */
static void s_pump(s_worker_t *w, s_agent_t *a, int64_t now)
{
    const bench_task_t *t = w->t;
    int window = t->serial ? 1 : t->window;
    while (a->busy_len > 0 && a->busy_at[a->busy_head] <= now && a->inflight < window) {
        int k = a->busy[a->busy_head];
        a->busy_head = (a->busy_head + 1) % t->reports;
        a->busy_len--;
        if (s_send_report(w, a, k) == 0)
            a->inflight++;
    }
    while (a->started < t->reports && a->inflight + a->busy_len < window &&
           (t->rate <= 0 || now >= a->next_send_us) && (!t->warmup || w->warm || a->started == 0)) {
        int k = a->started;
        a->first_us[k] = now;
        if (!w->first_us)
            w->first_us = now;
        if (s_send_report(w, a, k) != 0) {
            a->first_us[k] = 0;
            break;
        }
        a->started++;
        a->inflight++;
        if (t->rate > 0)
            a->next_send_us += (int64_t)(1e6 / t->rate);
    }
}

/* Takes the messages of a poked agent (its descriptor fired, or it sent:
 * a send may take in the socket's commands, and with them the signal of
 * messages that came meanwhile), and acks its notifications, until it is
 * quiet. */
static void s_service(s_worker_t *w, s_agent_t *a)
{
    while (a->poke) {
        a->poke = 0;
        int zev = 0, got = 0;
        size_t zsz = sizeof zev;
        while (zmq_getsockopt(a->sock, ZMQ_EVENTS, &zev, &zsz) == 0 && (zev & ZMQ_POLLIN)) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            while (zmq_msg_recv(&m, a->sock, ZMQ_DONTWAIT) >= 0) {
                s_on_message(w, a, zmq_msg_data(&m), zmq_msg_size(&m));
                got++;
            }
            zmq_msg_close(&m);
        }
        uint64_t acked = a->acked_seq;
        s_note_ack(a);
        /* Nothing came and the ack could not go (a failed send pokes too):
         * left poked, looked at again next turn, not in a loop here. */
        if (!got && a->acked_seq == acked)
            break;
    }
}

static void *s_socket(s_worker_t *w, const bench_unit_t *u)
{
    void *s = zmq_socket(w->ctx, ZMQ_DEALER);
    if (!s)
        return NULL;
    int zero = 0, ivl = 200;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, w->t->env->server_pub, 41);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, u->pub, 41);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, u->sec, 41);
    if (zmq_connect(s, w->t->env->endpoint) != 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* BENCH_MONITOR=1: why connections end, on stderr (a connection libzmq
 * ends for good after a protocol error on this side is not dialled again). */
static void *s_monitor(s_worker_t *w, void *sock, int i)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://bench-mon-%d", i);
    if (zmq_socket_monitor(sock, ep,
                           ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0)
        return NULL;
    void *m = zmq_socket(w->ctx, ZMQ_PAIR);
    if (m && zmq_connect(m, ep) != 0) {
        zmq_close(m);
        m = NULL;
    }
    return m;
}

static void s_monitor_read(s_agent_t *a)
{
    for (;;) {
        uint8_t ev[6];
        char addr[256];
        if (zmq_recv(a->mon, ev, sizeof ev, ZMQ_DONTWAIT) != 6)
            return;
        int n = zmq_recv(a->mon, addr, sizeof addr - 1, 0);
        addr[n > 0 ? n : 0] = '\0';
        uint16_t id;
        uint32_t value;
        memcpy(&id, ev, 2);
        memcpy(&value, ev + 2, 4);
        fprintf(stderr, "bench: monitor %s event 0x%x value 0x%x at %lld\n", a->u->unit, id, value,
                (long long)bench_now_us());
    }
}

static cchc_report_t *s_template(const bench_task_t *t)
{
    char path[700];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", t->env->src,
             t->kind == BENCH_REPORT_PERIODIC ? "periodic.json" : "task_progress.json");
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    cchc_findings_t fi = CCHC_FINDINGS_INIT;
    cchc_report_t *r = NULL;
    if (cchc_report_from_text(text, n, &r, &fi) != 0)
        r = NULL;
    cchc_findings_clear(&fi);
    if (r && t->kind == BENCH_REPORT_SMALL) {
        /* The bench's own task, which every commune leads. */
        free(r->task_progress->task);
        r->task_progress->task = strdup("BENCH-01");
        r->task_progress->n_evidence = 0;
    }
    return r;
}

static int s_run(s_worker_t *w, int ctl_fd)
{
    const bench_task_t *t = w->t;
    w->n = t->hi - t->lo;
    w->a = calloc((size_t)w->n, sizeof *w->a);
    w->ctx = zmq_ctx_new();
    int monitor = getenv("BENCH_MONITOR") && atoi(getenv("BENCH_MONITOR")) > 0;
    zmq_ctx_set(w->ctx, ZMQ_MAX_SOCKETS, (monitor ? 3 : 1) * w->n + 64);
    if (t->reports > 0 && !(w->report = s_template(t))) {
        s_line(w, "error could not load the report fixture");
        return 1;
    }
    int64_t now = bench_now_us();
    if (t->start_us > now)
        usleep((useconds_t)(t->start_us - now));
    int64_t start = bench_now_us(), deadline = start + t->timeout_us;
    for (int i = 0; i < w->n; i++) {
        s_agent_t *a = &w->a[i];
        a->u = &t->units[t->lo + i];
        a->epoch = ((uint64_t)getpid() << 32) ^ (uint64_t)(t->lo + i) ^ (uint64_t)start;
        a->sock = s_socket(w, a->u);
        if (!a->sock) {
            s_line(w, "error socket %d: %s", i, zmq_strerror(zmq_errno()));
            return 1;
        }
        if (monitor && !(a->mon = s_monitor(w, a->sock, i))) {
            s_line(w, "error monitor %d: %s", i, zmq_strerror(zmq_errno()));
            return 1;
        }
        if (t->reports > 0) {
            a->first_us = calloc((size_t)t->reports, sizeof *a->first_us);
            a->answer_us = calloc((size_t)t->reports, sizeof *a->answer_us);
            a->busy = calloc((size_t)t->reports, sizeof *a->busy);
            a->busy_at = calloc((size_t)t->reports, sizeof *a->busy_at);
            /* Spread the paced agents over one period. */
            a->next_send_us = start + (t->rate > 0 ? (int64_t)(1e6 / t->rate * i / w->n) : 0);
        }
        /* As cchc-agent does on every connect (agt_link: Hello, then
         * MetaRequest, then the window); then it is pushed its receipts.
         * Not for the scenarios whose units lead a task per report (5,000
         * each: a document of 1.8 MB, over max_frame, that no commune's
         * is; building it cost the small ingest a third of its rate). */
        s_hello(a);
        if (t->serve || !t->task_prefix[0])
            s_meta_request(a);
    }
    /* Level-triggered: a descriptor stays ready until ZMQ_EVENTS has taken
     * the socket's commands. */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; ep >= 0 && i <= w->n; i++) {
        int fd = ctl_fd;
        size_t sz = sizeof fd;
        if (i < w->n && zmq_getsockopt(w->a[i].sock, ZMQ_FD, &fd, &sz) != 0) {
            s_line(w, "error ZMQ_FD: %s", zmq_strerror(zmq_errno()));
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            s_line(w, "error epoll_ctl: %s", strerror(errno));
            return 1;
        }
        /* A monitor's descriptor: index n + 1 + i. */
        if (i < w->n && w->a[i].mon && zmq_getsockopt(w->a[i].mon, ZMQ_FD, &fd, &sz) == 0) {
            ev.data.u32 = (uint32_t)(w->n + 1 + i);
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
    }
    if (ep < 0) {
        s_line(w, "error epoll_create1: %s", strerror(errno));
        return 1;
    }
    struct epoll_event evs[512];
    int total = w->n * t->reports, answered = 0, stop = 0, said_done = 0, said_served = 0,
        said_synced = 0;
    for (int i = 0; i < w->n; i++)
        w->a[i].poke = 1;
    while (!stop) {
        now = bench_now_us();
        if (now > deadline) {
            s_line(w, "error timeout: %d of %d answered, %d of %d served", answered, total,
                   w->served, t->serve ? w->n : 0);
            break;
        }
        int ne = epoll_wait(ep, evs, (int)(sizeof evs / sizeof evs[0]), 5);
        if (ne < 0 && errno != EINTR)
            break;
        for (int e = 0; e < ne; e++) {
            uint32_t i = evs[e].data.u32;
            if (i < (uint32_t)w->n) {
                w->a[i].poke = 1;
            } else if (i > (uint32_t)w->n) {
                s_monitor_read(&w->a[i - (uint32_t)w->n - 1]);
            } else {
                char c;
                if (read(ctl_fd, &c, 1) <= 0)
                    stop = 1; /* the parent is done with us */
            }
        }
        now = bench_now_us();
        answered = 0;
        for (int i = 0; i < w->n; i++) {
            s_agent_t *a = &w->a[i];
            s_service(w, a);
            if (t->reports > 0) {
                s_pump(w, a, now);
                s_service(w, a);
            }
            answered += a->answered;
            if (t->serve && !a->served && a->has_meta && a->notes >= t->catchup) {
                a->served = 1;
                w->served++;
            }
        }
        if (t->warmup && !w->warm && t->reports > 0) {
            int warm = 1;
            for (int i = 0; warm && i < w->n; i++)
                warm = w->a[i].answer_us[0] != 0;
            if (warm) {
                /* The timed part starts at its first send. */
                w->warm = 1;
                w->warm_first_us = w->first_us;
                w->first_us = 0;
                w->acked = w->nacked = w->busy = 0;
            }
        }
        if (t->reports > 0 && answered == total && !said_done) {
            said_done = 1;
            s_line(w, "done %d %lld %lld %lld %lld %lld %lld", answered - (t->warmup ? w->n : 0),
                   w->busy, w->acked, w->nacked, (long long)w->first_us, (long long)w->last_us,
                   (long long)w->warm_first_us);
        }
        if (t->serve && w->served == w->n && !said_served) {
            said_served = 1;
            s_line(w, "served %lld", (long long)bench_now_us());
        }
        if (t->serve && w->synced == w->n && !said_synced) {
            said_synced = 1;
            s_line(w, "synced %lld", (long long)bench_now_us());
        }
        int finished = (t->reports == 0 || said_done) && (!t->serve || said_served);
        if (finished && !t->hold)
            stop = 1;
    }
    if (t->reports > 0 && t->samples_path[0]) {
        FILE *f = fopen(t->samples_path, "wb");
        for (int i = 0; f && i < w->n; i++)
            for (int k = t->warmup ? 1 : 0; k < t->reports; k++)
                if (w->a[i].answer_us[k]) {
                    bench_sample_t s = {w->a[i].first_us[k],
                                        w->a[i].answer_us[k] - w->a[i].first_us[k]};
                    fwrite(&s, sizeof s, 1, f);
                }
        if (f)
            fclose(f);
    }
    /* Process exit reclaims the rest, and its closing the descriptors ends
     * the connections as zmq_close would: zmq_ctx_term over a storm's
     * 3,334 sockets took about 30 s a worker (bench_worker_stop's wait),
     * 90 s of every full run. */
    close(ep);
    return 0;
}

int bench_worker_start(bench_worker_t *w, const bench_task_t *task)
{
    int out[2], ctl[2];
    if (pipe(out) != 0 || pipe(ctl) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(out[0]);
        close(ctl[1]);
        signal(SIGPIPE, SIG_IGN);
        s_worker_t sw = {.t = task, .out = fdopen(out[1], "w")};
        _exit(s_run(&sw, ctl[0]));
    }
    close(out[1]);
    close(ctl[0]);
    w->pid = pid;
    w->out_fd = out[0];
    w->ctl_fd = ctl[1];
    w->len = 0;
    return 0;
}

int bench_worker_line(bench_worker_t *w, char *buf, size_t len, int64_t deadline_us)
{
    for (;;) {
        char *nl = memchr(w->buf, '\n', w->len);
        if (nl) {
            size_t n = (size_t)(nl - w->buf);
            snprintf(buf, len, "%.*s", (int)n, w->buf);
            memmove(w->buf, nl + 1, w->len - n - 1);
            w->len -= n + 1;
            return 0;
        }
        int64_t left = deadline_us - bench_now_us();
        if (left <= 0 || w->len == sizeof w->buf)
            return -1;
        struct pollfd p = {.fd = w->out_fd, .events = POLLIN};
        if (poll(&p, 1, (int)(left / 1000 + 1)) <= 0)
            continue;
        ssize_t r = read(w->out_fd, w->buf + w->len, sizeof w->buf - w->len);
        if (r <= 0)
            return -1;
        w->len += (size_t)r;
    }
}

void bench_worker_stop(bench_worker_t *w)
{
    if (w->ctl_fd >= 0)
        close(w->ctl_fd);
    w->ctl_fd = -1;
    if (w->pid > 0) {
        int st;
        for (int i = 0; i < 300 && waitpid(w->pid, &st, WNOHANG) == 0; i++)
            usleep(100000);
        if (waitpid(w->pid, &st, WNOHANG) == 0) {
            kill(w->pid, SIGKILL);
            waitpid(w->pid, &st, 0);
        }
        w->pid = 0;
    }
    if (w->out_fd >= 0)
        close(w->out_fd);
    w->out_fd = -1;
}

int bench_samples_read(const char *path, bench_sample_t **v, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    bench_sample_t s;
    size_t cap = *n + 1024;
    *v = realloc(*v, cap * sizeof **v);
    while (fread(&s, sizeof s, 1, f) == 1) {
        if (*n == cap) {
            cap *= 2;
            *v = realloc(*v, cap * sizeof **v);
        }
        (*v)[(*n)++] = s;
    }
    fclose(f);
    return 0;
}
