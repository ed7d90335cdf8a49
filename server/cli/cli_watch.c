/* cli_watch.c: `cchc watch`, a notification subscriber (the zguide's Clone
 * pattern, client side). The only command that speaks ZeroMQ.
 *
 * One CURVE DEALER on the server's ROUTER, with the subscriber's key pair.
 * Replay{since_seq: last, topics, follow} makes the server send every
 * notification after `last` from the table, then ReplayEnd{last_seq}, then
 * the new ones live, in seq order on the one connection. `last` is the
 * highest seq printed or covered by a ReplayEnd; it is kept in --state FILE
 * (written atomically after each change) and a restart goes on from it.
 * What was printed is acked (NotificationAck{last}), which is what lets the
 * server push more: a subscriber that stops reading is not pushed to past
 * the server's subscriber_max_pending.
 *
 *   event                                      action
 *   -----------------------------------------  -----------------------------------------
 *   start; a reconnect seen by the monitor     Replay{last}
 *   a notification with seq > last             printed, last = seq
 *   a notification with seq <= last            dropped (already printed)
 *   ReplayEnd{m}                               last = max(last, m)
 *   no ReplayEnd S_REPLAY_WAIT_MS after asking  Replay{last} again
 *   Nack BUSY                                  Replay{last} 2 s later
 *   any other Nack (a topic outside ours)      the error, exit 1
 *   nothing heard for S_IDLE_REPLAY_MS         Replay{last} (renews the session)
 *
 * Several servers ([watch] endpoints, --endpoint A,B): one connection at a
 * time, to the first at start. When the server stops answering (the
 * connection is lost and an attempt to get it back fails, or no handshake
 * for S_TRY_MS: ZMTP heartbeats drop a frozen server's connection), watch
 * moves to the next (cchc_endpoints_next: the first of the list not given up
 * on in the last S_HOLDDOWN_MS, else the one after; at once through the
 * first pass, then with a backoff of 1 s doubling to 60 s), and it never
 * leaves a server that answers. Every server reads the one notifications
 * table, whose seqs are handed out in commit order, so `last` means the same
 * to all of them: the new server's session starts with Replay{last}, and
 * what the old one had pushed and the new one sends again (seq <= last) is
 * dropped. Each notification is printed once across the move.
 *
 * Configuration: admin.ini [watch] (cli_main.c hands it over as the options
 * --config-endpoints (its resolved endpoint or endpoints; internal: an
 * --endpoint on the command line replaces it), --server-key, --public-key,
 * --secret-key, which the command line may repeat to override). */
#include "cchc_clock.h"
#include "cchc_endpoints.h"
#include "cchc_err.h"
#include "cchc_keys.h"
#include "cchc_log.h"
#include "cchc_wire.h"
#include "cli_db.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define S_MAX_TOPICS 64
#define S_MAX_FRAME (1024 * 1024)
#define S_REPLAY_WAIT_MS 15000
#define S_IDLE_REPLAY_MS 60000
#define S_BUSY_RETRY_MS 2000
/* Liveness of a server: ZMTP heartbeats every S_HEARTBEAT_MS, the connection
 * dropped after S_TRY_MS without traffic; a server not answering a
 * handshake for S_TRY_MS is given up on. */
#define S_HEARTBEAT_MS 10000
#define S_TRY_MS 30000
#define S_MOVE_BASE_MS 1000
#define S_MOVE_CAP_MS 60000
#define S_HOLDDOWN_MS (5 * 60 * 1000)
#define S_MAX_ENDPOINTS_TEXT 4096

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

typedef struct {
    const char *server_key, *public_key, *secret_key;
    const char *config_endpoints;         /* admin.ini [watch], resolved by cli_main.c */
    char endpoints[S_MAX_ENDPOINTS_TEXT]; /* the --endpoint options, joined by commas */
    const char *topics[S_MAX_TOPICS];
    size_t ntopics;
    int json;
    const char *exec, *state;
} s_opts_t;

typedef struct {
    s_opts_t o;
    void *ctx, *dealer, *mon;
    uint64_t last, acked;
    int replaying;
    int64_t replay_sent_ms; /* when the running replay was asked, or last answered */
    int64_t replay_due_ms;  /* -1: none scheduled */
    int64_t heard_ms;       /* monotonic: the server's last message */
    int failed;
    /* The servers: the list, the one connected to or tried, and its
     * liveness while not connected (as agent/agt_endpoints.c). */
    cchc_endpoints_t eps;
    size_t cur;
    int connected, failed_here;
    int64_t trying_ms, failed_ms, not_before;
    unsigned misses; /* moves since the last handshake */
} s_watch_t;

static void s_usage(FILE *f)
{
    fputs("usage: cchc watch [--topic PREFIX]... [--json] [--exec CMD] [--state FILE]\n"
          "                  [--endpoint E[,E...]]...\n"
          "\n"
          "Prints every notification the server has for this subscriber, in order and\n"
          "once each: first those after the last one seen (--state), then live ones.\n"
          "With several servers it talks to the first that answers and, when that one\n"
          "stops answering, resumes on the next, printing nothing twice.\n"
          "\n"
          "  --topic PREFIX   only topics starting with PREFIX (repeatable; default: all the\n"
          "                   subscriber may see), e.g. report.overdue. or deadline.\n"
          "  --json           one JSON object per line instead of a line of Vietnamese text\n"
          "  --exec CMD       run CMD with /bin/sh for each, the JSON object on its stdin\n"
          "  --state FILE     keep the last seq printed in FILE, and start after it\n"
          "  --endpoint E     a server, tcp://HOST:PORT; repeat it or separate several with\n"
          "                   commas, tried in that order (replaces admin.ini [watch]\n"
          "                   endpoints; default tcp://127.0.0.1:7470)\n"
          "  --server-key FILE, --public-key FILE, --secret-key FILE\n"
          "                   override admin.ini [watch]\n"
          "\n"
          "Stops with exit status 0 on SIGINT or SIGTERM, 1 when the server refuses (a\n"
          "--topic outside the subscriber's topics, a key that is not a subscriber's).\n",
          f);
}

/* ---- state --------------------------------------------------------------------------- */

static int s_state_load(const char *path, uint64_t *last)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    unsigned long long v = 0;
    int ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    if (!ok)
        return -1;
    *last = v;
    return 0;
}

/* Temp file, fsync, rename: a crash leaves the old value or the new one. */
static int s_state_save(const char *path, uint64_t last)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%llu\n", (unsigned long long)last) > 0 && fflush(f) == 0 &&
             fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- output ---------------------------------------------------------------------------- */

static json_t *s_to_json(const Cchc__V1__Notification *n)
{
    char utc[32];
    cchc_clock_format_utc(n->created_at_ms, utc, sizeof utc);
    json_error_t jerr;
    json_t *facts = json_loads(n->facts ? n->facts : "{}", JSON_DECODE_ANY, &jerr);
    if (!facts)
        facts = json_string(n->facts ? n->facts : "");
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "seq",
                     (json_int_t)n->seq, "kind", n->kind, "unit", n->unit, "about", n->about,
                     "topic", n->topic, "dedup_key", n->dedup_key, "text_vi", n->text_vi, "text_en",
                     n->text_en, "facts", facts, "created_at", utc);
}

static void s_exec(const char *cmd, const char *text, uint64_t seq)
{
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "cchc watch: --exec: pipe: %s\n", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "cchc watch: --exec: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fds[1], text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* the command does not read its input: its business */
        off += (size_t)w;
    }
    if (write(fds[1], "\n", 1) < 0) {
        /* as above */
    }
    close(fds[1]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "cchc watch: --exec failed for seq=%llu: %s %d\n", (unsigned long long)seq,
                WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static void s_print(s_watch_t *w, const Cchc__V1__Notification *n)
{
    json_t *obj = s_to_json(n);
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    if (w->o.json) {
        printf("%s\n", text ? text : "{}");
    } else {
        char local[32];
        cchc_clock_format_local(n->created_at_ms, local, sizeof local);
        local[16] = '\0'; /* "YYYY-MM-DD HH:MM" */
        printf("[%s] %s %s: %s\n", local, n->kind, n->unit, n->text_vi);
    }
    fflush(stdout);
    if (w->o.exec && text)
        s_exec(w->o.exec, text, n->seq);
    free(text);
    json_decref(obj);
    w->last = n->seq;
    if (w->o.state && s_state_save(w->o.state, w->last) != 0) {
        fprintf(stderr, "cchc watch: could not write %s: %s\n", w->o.state, strerror(errno));
        w->failed = 1;
    }
}

/* ---- replay ---------------------------------------------------------------------------- */

static void s_replay(s_watch_t *w)
{
    Cchc__V1__Replay r = CCHC__V1__REPLAY__INIT;
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    r.since_seq = w->last;
    r.topics = (char **)w->o.topics;
    r.n_topics = w->o.ntopics;
    r.follow = 1;
    env.protocol_version = CCHC_WIRE_PROTOCOL_VERSION;
    env.sent_at_ms = cchc_clock_now_ms();
    env.body_case = CCHC__V1__ENVELOPE__BODY_REPLAY;
    env.replay = &r;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cchc_wire_encode(&env, &buf, &len) != CCHC_OK) {
        fprintf(stderr, "cchc watch: a --topic is not valid UTF-8\n");
        w->failed = 1;
        s_stop = 1;
        return;
    }
    if (zmq_send(w->dealer, buf, len, ZMQ_DONTWAIT) < 0)
        CCHC_LOG(CCHC_LOG_WARN, "replay_not_sent", "err=\"%s\"", zmq_strerror(zmq_errno()));
    free(buf);
    w->replaying = 1;
    w->replay_sent_ms = cchc_clock_mono_ms();
    w->replay_due_ms = -1;
    CCHC_LOG(CCHC_LOG_DEBUG, "replay", "since=%llu", (unsigned long long)w->last);
}

/* Tells the server what was printed: room for more. */
static void s_ack(s_watch_t *w)
{
    if (w->last <= w->acked)
        return;
    Cchc__V1__NotificationAck a = CCHC__V1__NOTIFICATION_ACK__INIT;
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    a.seq = w->last;
    env.protocol_version = CCHC_WIRE_PROTOCOL_VERSION;
    env.sent_at_ms = cchc_clock_now_ms();
    env.body_case = CCHC__V1__ENVELOPE__BODY_NOTIFICATION_ACK;
    env.notification_ack = &a;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cchc_wire_encode(&env, &buf, &len) == CCHC_OK &&
        zmq_send(w->dealer, buf, len, ZMQ_DONTWAIT) == (int)len)
        w->acked = w->last;
    free(buf);
}

static void s_on_dealer(s_watch_t *w, cchc_envelope_t *env)
{
    w->heard_ms = w->replay_sent_ms = cchc_clock_mono_ms(); /* progress */
    switch (env->body_case) {
    case CCHC__V1__ENVELOPE__BODY_NOTIFICATION:
        if (env->notification->seq > w->last)
            s_print(w, env->notification);
        break;
    case CCHC__V1__ENVELOPE__BODY_REPLAY_END:
        if (env->replay_end->last_seq > w->last) {
            w->last = env->replay_end->last_seq;
            if (w->o.state && s_state_save(w->o.state, w->last) != 0)
                fprintf(stderr, "cchc watch: could not write %s: %s\n", w->o.state,
                        strerror(errno));
        }
        w->replaying = 0;
        break;
    case CCHC__V1__ENVELOPE__BODY_NACK:
        if (env->nack->reason == CCHC__V1__NACK_REASON__NACK_BUSY) {
            w->replaying = 0;
            w->replay_due_ms = cchc_clock_mono_ms() + S_BUSY_RETRY_MS;
            break;
        }
        fprintf(stderr, "cchc watch: the server refused: %s: %s\n",
                cchc_wire_nack_reason_name(env->nack->reason), env->nack->detail);
        w->failed = 1;
        s_stop = 1;
        break;
    default:
        break;
    }
}

/* ---- sockets ------------------------------------------------------------------------- */

/* Keys, limits, and the heartbeats that drop a frozen server's connection
 * (and a greeting that never comes) after S_TRY_MS. */
static int s_curve(void *sock, const char *spub, const char *pub, const char *sec)
{
    int64_t maxmsg = S_MAX_FRAME + 65536;
    int linger = 0, ivl = 1000, ivl_max = 60000;
    int hb_ivl = S_HEARTBEAT_MS, hb_timeout = S_TRY_MS, hb_ttl = 2 * S_TRY_MS;
    return zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, spub, 41) ||
           zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, 41) ||
           zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, 41) ||
           zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
           zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) ||
           zmq_setsockopt(sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl) ||
           zmq_setsockopt(sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max) ||
           zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl) ||
           zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout) ||
           zmq_setsockopt(sock, ZMQ_HEARTBEAT_TTL, &hb_ttl, sizeof hb_ttl) ||
           zmq_setsockopt(sock, ZMQ_HANDSHAKE_IVL, &hb_timeout, sizeof hb_timeout);
}

static void *s_monitor(s_watch_t *w, void *sock, const char *name)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://watch-%s", name);
    if (zmq_socket_monitor(sock, ep,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
        return NULL;
    void *mon = zmq_socket(w->ctx, ZMQ_PAIR);
    if (mon && zmq_connect(mon, ep) != 0) {
        zmq_close(mon);
        return NULL;
    }
    return mon;
}

/* One monitor event; returns its id, and its endpoint in ep. */
static uint16_t s_event(void *mon, char *ep, size_t eplen)
{
    zmq_msg_t ev, addr;
    uint16_t id = 0;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    ep[0] = '\0';
    if (zmq_msg_recv(&ev, mon, 0) >= 0 && zmq_msg_size(&ev) >= 2)
        memcpy(&id, zmq_msg_data(&ev), 2);
    if (zmq_msg_more(&ev) && zmq_msg_recv(&addr, mon, 0) >= 0) {
        size_t n = zmq_msg_size(&addr) < eplen - 1 ? zmq_msg_size(&addr) : eplen - 1;
        memcpy(ep, zmq_msg_data(&addr), n);
        ep[n] = '\0';
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
    return id;
}

static int s_open(s_watch_t *w)
{
    char spub[41], pub[41], sec[41], err[512];
    const char *missing = !w->o.server_key || !w->o.server_key[0]   ? "server_key"
                          : !w->o.public_key || !w->o.public_key[0] ? "public_key"
                          : !w->o.secret_key || !w->o.secret_key[0] ? "secret_key"
                                                                    : NULL;
    if (missing) {
        fprintf(stderr, "cchc watch: set [watch] %s in admin.ini (or --%s)\n", missing,
                strcmp(missing, "server_key") == 0   ? "server-key"
                : strcmp(missing, "public_key") == 0 ? "public-key"
                                                     : "secret-key");
        return CLI_EXIT_USAGE;
    }
    if (cchc_keys_read(w->o.server_key, 0, spub, err, sizeof err) != CCHC_OK ||
        cchc_keys_read(w->o.public_key, 0, pub, err, sizeof err) != CCHC_OK ||
        cchc_keys_read(w->o.secret_key, 1, sec, err, sizeof err) != CCHC_OK) {
        fprintf(stderr, "cchc watch: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    w->ctx = zmq_ctx_new();
    w->dealer = zmq_socket(w->ctx, ZMQ_DEALER);
    if (!w->dealer || s_curve(w->dealer, spub, pub, sec)) {
        fprintf(stderr, "cchc watch: could not set up the sockets: %s\n",
                zmq_strerror(zmq_errno()));
        memset(sec, 0, sizeof sec);
        return CLI_EXIT_FAIL;
    }
    memset(sec, 0, sizeof sec);
    w->mon = s_monitor(w, w->dealer, "dealer");
    if (!w->mon) {
        fprintf(stderr, "cchc watch: could not monitor the sockets: %s\n",
                zmq_strerror(zmq_errno()));
        return CLI_EXIT_FAIL;
    }
    if (zmq_connect(w->dealer, w->eps.v[0]) != 0) {
        fprintf(stderr, "cchc watch: could not connect to %s: %s\n", w->eps.v[0],
                zmq_strerror(zmq_errno()));
        return CLI_EXIT_USAGE;
    }
    /* Trying the first server from now (s_move_due counts S_TRY_MS from
     * here, not from the clock's zero). */
    w->trying_ms = cchc_clock_mono_ms();
    return CLI_EXIT_OK;
}

static void s_close(s_watch_t *w)
{
    void **socks[] = {&w->mon, &w->dealer};
    if (w->dealer)
        zmq_socket_monitor(w->dealer, NULL, 0);
    for (size_t i = 0; i < 2; i++) {
        if (*socks[i]) {
            int linger = 0;
            zmq_setsockopt(*socks[i], ZMQ_LINGER, &linger, sizeof linger);
            zmq_close(*socks[i]);
            *socks[i] = NULL;
        }
    }
    if (w->ctx)
        zmq_ctx_term(w->ctx);
}

/* Reads one frame (and drops any more of the message); NULL if none or not
 * a notification-bearing envelope we can use. */
static cchc_envelope_t *s_read(void *sock, int skip_topic)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return NULL;
    }
    if (skip_topic && zmq_msg_more(&m)) {
        zmq_msg_close(&m);
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            return NULL;
        }
    }
    while (zmq_msg_more(&m)) {
        zmq_msg_t x;
        zmq_msg_init(&x);
        int more = zmq_msg_recv(&x, sock, 0) >= 0 && zmq_msg_more(&x);
        zmq_msg_close(&x);
        if (!more)
            break;
    }
    cchc_envelope_t *env = NULL;
    char err[200];
    if (cchc_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), S_MAX_FRAME, &env, err, sizeof err) !=
        CCHC_OK) {
        CCHC_LOG(CCHC_LOG_WARN, "undecodable", "err=\"%s\"", err);
        cchc_wire_free(&env);
    }
    zmq_msg_close(&m);
    return env;
}

/* ---- servers: which one, and when to move ------------------------------------------- */

/* The current server is tried from now: it has S_TRY_MS to answer, and the
 * next move waits nothing through the first pass of the list, then 1 s
 * doubling to 60 s. */
static void s_trying(s_watch_t *w, int64_t now)
{
    int64_t d = 0;
    if (w->misses >= w->eps.n) {
        d = S_MOVE_BASE_MS;
        for (unsigned i = (unsigned)w->eps.n; i < w->misses && d < S_MOVE_CAP_MS; i++)
            d *= 2;
        d = d > S_MOVE_CAP_MS ? S_MOVE_CAP_MS : d;
    }
    w->trying_ms = now;
    w->failed_here = 0;
    w->not_before = now + d;
}

/* With one server, libzmq redials it by itself (its failed attempts say
 * so), except after a protocol error found on our side of an established
 * connection (a message over S_MAX_FRAME, a frame that does not decrypt):
 * libzmq 4.3 then drops the connection for good and is silent (libzmq PR
 * #1043). S_TRY_MS of that silence: dial it again ourselves. */
static int64_t s_move_due(const s_watch_t *w)
{
    if (w->connected || (w->eps.n < 2 && w->failed_here))
        return INT64_MAX;
    int64_t at = w->failed_here ? w->failed_ms : w->trying_ms + S_TRY_MS;
    return at > w->not_before ? at : w->not_before;
}

static void s_attempt_failed(s_watch_t *w, int64_t now)
{
    if (!w->failed_here)
        w->failed_ms = now;
    w->failed_here = 1;
}

/* Gives up on the current server and dials the next. */
static void s_move(s_watch_t *w, int64_t now)
{
    size_t was = w->cur;
    w->cur = cchc_endpoints_next(&w->eps, was, now, S_HOLDDOWN_MS);
    if (w->misses < UINT32_MAX)
        w->misses++;
    s_trying(w, now);
    if (w->eps.n < 2)
        CCHC_LOG(CCHC_LOG_WARN, "redial",
                 "endpoint=%s misses=%u hint=\"the connection was dropped and libzmq did not "
                 "dial again (a protocol error on this side); dialling again\"",
                 w->eps.v[w->cur], w->misses);
    else
        CCHC_LOG(CCHC_LOG_WARN, "server_moved", "from=%s to=%s misses=%u", w->eps.v[was],
                 w->eps.v[w->cur], w->misses);
    (void)zmq_disconnect(w->dealer, w->eps.v[was]);
    if (zmq_connect(w->dealer, w->eps.v[w->cur]) != 0) {
        CCHC_LOG(CCHC_LOG_ERROR, "connect_failed", "endpoint=%s err=\"%s\"", w->eps.v[w->cur],
                 zmq_strerror(zmq_errno()));
        s_attempt_failed(w, now);
    }
}

/* One monitor event of the current server's connection. */
static void s_on_event(s_watch_t *w, uint16_t id, const char *ep)
{
    int64_t now = cchc_clock_mono_ms();
    if (cchc_endpoints_is_other(&w->eps, w->cur, ep))
        return; /* a connection left behind by a move */
    switch (id) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        /* A new connection is a new session on the server: what was sent on
         * the old one and not printed is in the table. */
        CCHC_LOG(CCHC_LOG_INFO, "connected", "endpoint=%s last=%llu", w->eps.v[w->cur],
                 (unsigned long long)w->last);
        w->connected = 1;
        w->misses = 0;
        s_replay(w);
        break;
    case ZMQ_EVENT_DISCONNECTED:
        if (w->connected) {
            CCHC_LOG(CCHC_LOG_WARN, "disconnected", "endpoint=%s", w->eps.v[w->cur]);
            w->connected = 0;
            s_trying(w, now); /* it may come back */
        } else {
            s_attempt_failed(w, now);
        }
        break;
    case ZMQ_EVENT_CONNECT_RETRIED:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        s_attempt_failed(w, now);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        fprintf(stderr,
                "cchc watch: the server refused the key (%s): is the subscriber "
                "registered and not revoked?\n",
                w->eps.v[w->cur]);
        s_attempt_failed(w, now);
        break;
    default:
        break;
    }
}

/* ---- the command ------------------------------------------------------------------------ */

static int s_loop(s_watch_t *w)
{
    s_replay(w);
    while (!s_stop) {
        zmq_pollitem_t items[2] = {{w->dealer, 0, ZMQ_POLLIN, 0}, {w->mon, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, 250) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            fprintf(stderr, "cchc watch: poll: %s\n", zmq_strerror(zmq_errno()));
            return CLI_EXIT_FAIL;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            char ep[256];
            uint16_t id = s_event(w->mon, ep, sizeof ep);
            s_on_event(w, id, ep);
        }
        if (items[0].revents & ZMQ_POLLIN) {
            cchc_envelope_t *env;
            while (!s_stop && (env = s_read(w->dealer, 0)) != NULL) {
                s_on_dealer(w, env);
                cchc_wire_free(&env);
            }
        }
        s_ack(w); /* also one that could not be queued before */
        int64_t now = cchc_clock_mono_ms();
        if (now >= s_move_due(w))
            s_move(w, now);
        if (w->replaying && now - w->replay_sent_ms >= S_REPLAY_WAIT_MS)
            s_replay(w);
        if (!w->replaying && w->replay_due_ms >= 0 && now >= w->replay_due_ms)
            s_replay(w);
        if (!w->replaying && w->replay_due_ms < 0 && now - w->heard_ms >= S_IDLE_REPLAY_MS)
            s_replay(w);
    }
    return w->failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_watch_run(cli_ctx_t *ctx, int argc, char **argv)
{
    (void)ctx; /* no database: the server is the source */
    static const struct option opts[] = {
        {"topic", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"exec", required_argument, NULL, 'x'},
        {"state", required_argument, NULL, 's'},
        {"endpoint", required_argument, NULL, 'E'},
        {"config-endpoints", required_argument, NULL, 'C'},
        {"server-key", required_argument, NULL, 'S'},
        {"public-key", required_argument, NULL, 'K'},
        {"secret-key", required_argument, NULL, 'X'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    s_watch_t w;
    memset(&w, 0, sizeof w);
    w.o.config_endpoints = "tcp://127.0.0.1:7470";
    w.replay_due_ms = -1;
    char err[512] = "";
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (w.o.ntopics == S_MAX_TOPICS || strlen(optarg) > 200) {
                fprintf(stderr, "cchc watch: at most %d topics of 200 bytes\n", S_MAX_TOPICS);
                return CLI_EXIT_USAGE;
            }
            w.o.topics[w.o.ntopics++] = optarg;
            break;
        case 'j':
            w.o.json = 1;
            break;
        case 'x':
            w.o.exec = optarg;
            break;
        case 's':
            w.o.state = optarg;
            break;
        case 'E': {
            size_t used = strlen(w.o.endpoints);
            if (used + strlen(optarg) + 2 > sizeof w.o.endpoints) {
                fprintf(stderr, "cchc watch: --endpoint: too many servers\n");
                return CLI_EXIT_USAGE;
            }
            snprintf(w.o.endpoints + used, sizeof w.o.endpoints - used, "%s%s", used ? "," : "",
                     optarg);
            break;
        }
        case 'C':
            w.o.config_endpoints = optarg;
            break;
        case 'S':
            w.o.server_key = optarg;
            break;
        case 'K':
            w.o.public_key = optarg;
            break;
        case 'X':
            w.o.secret_key = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return CLI_EXIT_OK;
        default:
            cli_db_bad_option(c, argv);
            s_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cchc watch: unexpected argument '%s'\n", argv[optind]);
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    /* The command line's servers replace admin.ini's. */
    const char *list = w.o.endpoints[0] ? w.o.endpoints : w.o.config_endpoints;
    if (cchc_endpoints_parse(list, &w.eps, err, sizeof err) != CCHC_OK) {
        fprintf(stderr, "cchc watch: %s: %s\n",
                w.o.endpoints[0] ? "--endpoint" : "[watch] endpoints", err);
        return CLI_EXIT_USAGE;
    }
    if (w.o.state && s_state_load(w.o.state, &w.last) != 0) {
        cchc_endpoints_free(&w.eps);
        fprintf(stderr, "cchc watch: could not read the state file %s\n", w.o.state);
        return CLI_EXIT_FAIL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc = s_open(&w);
    if (rc == CLI_EXIT_OK) {
        w.heard_ms = cchc_clock_mono_ms();
        s_trying(&w, w.heard_ms);
        rc = s_loop(&w);
    }
    s_close(&w);
    cchc_endpoints_free(&w.eps);
    return rc;
}
