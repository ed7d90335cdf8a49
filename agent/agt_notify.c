/* agt_notify.c: storing, acking and alerting notifications (see agt_notify.h).
 *
 * Owns the ack state (highest sequence stored, highest told to the server,
 * when) and the on_alert child. The child is made with posix_spawn (the
 * process has ZeroMQ's threads: nothing but exec may run after a fork), in a
 * process group of its own so that a timeout kills whatever the shell started,
 * with the notification's JSON on stdin from an unlinked temporary file (no
 * pipe to keep fed) and CCHC_KIND, CCHC_SEQ and CCHC_UNIT in its environment.
 *
 *   alerted  event                                   next     where
 *   -------  --------------------------------------  -------  ---------------------
 *   (none)   stored while on_alert is set            0        agt_notify_handle
 *   (none)   stored while on_alert is empty          3        agt_notify_handle
 *   0        no command running (start, or reaped)   running  agt_notify_tick
 *   running  exits 0                                 1        agt_notify_tick
 *   running  exits non-zero, killed, over 30 s       2        agt_notify_tick
 *   0        cannot be started                       2        agt_notify_tick
 *   running  the daemon stops                        0        agt_notify_destroy */
#include "agt_notify.h"

#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define S_ACK_GAP_MS 200
#define S_ALERT_TIMEOUT_MS 30000
#define S_REAP_POLL_MS 100
#define S_STOP_WAIT_MS 1000

struct agt_notify_t {
    const agt_config_t *cfg; /* borrowed */
    agt_outbox_t *outbox;    /* borrowed */
    int64_t max_seq;         /* highest stored */
    int64_t told_seq;        /* highest acked or said in a Hello on this connection */
    int64_t ack_at;          /* monotonic ms: not before this (coalescing, retries) */
    int online;
    int check_pending; /* there may be rows with alerted = 0 */
    pid_t child;       /* 0: none */
    int64_t child_seq;
    int64_t child_started; /* monotonic ms */
    int killed;
};

static int s_has_command(const agt_notify_t *self)
{
    return self->cfg->on_alert && *self->cfg->on_alert;
}

agt_notify_t *agt_notify_new(const agt_config_t *cfg, agt_outbox_t *outbox)
{
    agt_notify_t *self = cchc_calloc(1, sizeof *self);
    self->cfg = cfg;
    self->outbox = outbox;
    int64_t count = 0;
    (void)agt_outbox_notif_stats(outbox, &count, &self->max_seq);
    self->check_pending = s_has_command(self);
    CCHC_LOG(CCHC_LOG_DEBUG, "notifications_loaded", "count=%" PRId64 " last_seq=%" PRId64, count,
             self->max_seq);
    return self;
}

/* Stops a running command and reaps it; its row stays pending. */
static void s_stop_child(agt_notify_t *self)
{
    if (self->child <= 0)
        return;
    (void)kill(-self->child, SIGTERM);
    int64_t until = cchc_clock_mono_ms() + S_STOP_WAIT_MS;
    int status;
    while (waitpid(self->child, &status, WNOHANG) == 0) {
        if (cchc_clock_mono_ms() >= until) {
            (void)kill(-self->child, SIGKILL);
            (void)waitpid(self->child, &status, 0);
            break;
        }
        usleep(10000);
    }
    CCHC_LOG(CCHC_LOG_INFO, "alert_stopped", "seq=%" PRId64 " why=shutdown", self->child_seq);
    self->child = 0;
}

void agt_notify_destroy(agt_notify_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_stop_child(*self_p);
    free(*self_p);
    *self_p = NULL;
}

uint64_t agt_notify_last_seq(const agt_notify_t *self)
{
    return (uint64_t)self->max_seq;
}

void agt_notify_handle(agt_notify_t *self, const Cchc__V1__Notification *n)
{
    if (n->seq == 0 || n->seq > (uint64_t)INT64_MAX) {
        CCHC_LOG(CCHC_LOG_WARN, "notification_dropped", "seq=%" PRIu64 " why=bad_seq", n->seq);
        return;
    }
    /* The server decides who gets what: a notification for another
     * recipient (a group, say) is kept, and said. */
    if (n->unit && *n->unit && strcmp(n->unit, self->cfg->unit) != 0)
        CCHC_LOG(CCHC_LOG_INFO, "notification_other_unit", "seq=%" PRIu64 " unit=%s own=%s", n->seq,
                 n->unit, self->cfg->unit);
    agt_notif_t row = {
        .seq = (int64_t)n->seq,
        .kind = n->kind,
        .unit = n->unit,
        .about = n->about,
        .topic = n->topic,
        .dedup_key = n->dedup_key,
        .text_vi = n->text_vi,
        .text_en = n->text_en,
        .facts = n->facts,
        .created_at = n->created_at_ms,
        .received_at = cchc_clock_now_ms(),
        .alerted = s_has_command(self) ? AGT_ALERT_PENDING : AGT_ALERT_NONE,
    };
    int inserted = 0;
    /* Not stored: not acked either, so the server sends it again. */
    if (agt_outbox_notif_store(self->outbox, &row, &inserted) != CCHC_OK)
        return;
    if (inserted) {
        CCHC_LOG(CCHC_LOG_INFO, "notification", "seq=%" PRId64 " kind=%s about=%s", row.seq,
                 n->kind && *n->kind ? n->kind : "-", n->about && *n->about ? n->about : "-");
        self->check_pending |= s_has_command(self);
    } else {
        CCHC_LOG(CCHC_LOG_DEBUG, "notification_duplicate", "seq=%" PRId64, row.seq);
    }
    if (row.seq > self->max_seq)
        self->max_seq = row.seq;
    /* A duplicate is acked too: the server may have missed the first ack. */
    if (self->told_seq >= self->max_seq)
        self->told_seq = self->max_seq - 1;
    /* the ack is due at ack_at: at once, or 200 ms after the last one */
}

int64_t agt_notify_ack_due(const agt_notify_t *self)
{
    if (!self->online || self->told_seq >= self->max_seq)
        return INT64_MAX;
    return self->ack_at;
}

void agt_notify_acked(agt_notify_t *self, uint64_t seq, int64_t now)
{
    if ((int64_t)seq > self->told_seq)
        self->told_seq = (int64_t)seq;
    self->ack_at = now + S_ACK_GAP_MS;
}

void agt_notify_defer(agt_notify_t *self, int64_t when)
{
    self->ack_at = when;
}

void agt_notify_connected(agt_notify_t *self)
{
    self->online = 1;
    self->told_seq = 0; /* the Hello on this connection says it first */
}

void agt_notify_disconnected(agt_notify_t *self)
{
    self->online = 0;
}

/* ---- on_alert ----------------------------------------------------------------- */

static json_t *s_text(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *agt_notify_to_json(const agt_notif_t *n)
{
    json_t *facts = n->facts ? json_loads(n->facts, 0, NULL) : NULL;
    if (!facts)
        facts = s_text(n->facts);
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(n->seq));
    json_object_set_new(o, "kind", s_text(n->kind));
    json_object_set_new(o, "unit", s_text(n->unit));
    json_object_set_new(o, "about", s_text(n->about));
    json_object_set_new(o, "topic", s_text(n->topic));
    json_object_set_new(o, "dedup_key", s_text(n->dedup_key));
    json_object_set_new(o, "text_vi", s_text(n->text_vi));
    json_object_set_new(o, "text_en", s_text(n->text_en));
    json_object_set_new(o, "facts", facts);
    json_object_set_new(o, "created_at_ms", json_integer(n->created_at));
    json_object_set_new(o, "received_at_ms", json_integer(n->received_at));
    return o;
}

/* The process's environment with CCHC_KIND, CCHC_SEQ and CCHC_UNIT set (a new
 * array of new strings, NULL-terminated; s_env_free frees it). */
static char **s_env(const agt_notify_t *self, const agt_notif_t *n)
{
    size_t count = 0, k = 0;
    while (environ && environ[count])
        count++;
    char **env = cchc_calloc(count + 4, sizeof *env);
    for (size_t i = 0; i < count; i++) {
        if (strncmp(environ[i], "CCHC_KIND=", 10) != 0 &&
            strncmp(environ[i], "CCHC_SEQ=", 9) != 0 && strncmp(environ[i], "CCHC_UNIT=", 10) != 0)
            env[k++] = cchc_strdup(environ[i]);
    }
    env[k++] = cchc_asprintf("CCHC_KIND=%s", n->kind ? n->kind : "");
    env[k++] = cchc_asprintf("CCHC_SEQ=%" PRId64, n->seq);
    env[k++] = cchc_asprintf("CCHC_UNIT=%s", self->cfg->unit);
    env[k] = NULL;
    return env;
}

static void s_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

/* Starts on_alert for n. 0, or a code when it could not be started. */
static int s_spawn(agt_notify_t *self, const agt_notif_t *n, int64_t now)
{
    json_t *o = agt_notify_to_json(n);
    FILE *in = tmpfile();
    int rc = in ? CCHC_OK : CCHC_EIO;
    if (rc == CCHC_OK &&
        (json_dumpf(o, in, JSON_COMPACT) != 0 || fputc('\n', in) == EOF || fflush(in) != 0))
        rc = CCHC_EIO;
    json_decref(o);
    if (rc == CCHC_OK)
        rewind(in);
    char **env = rc == CCHC_OK ? s_env(self, n) : NULL;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    pid_t pid = 0;
    if (rc == CCHC_OK) {
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fileno(in), STDIN_FILENO);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        char *argv[] = {"sh", "-c", self->cfg->on_alert, NULL};
        int err = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (err != 0) {
            errno = err;
            rc = CCHC_EIO;
        }
    }
    if (rc != CCHC_OK)
        CCHC_LOG(CCHC_LOG_ERROR, "alert_failed", "seq=%" PRId64 " why=spawn err=\"%s\"", n->seq,
                 strerror(errno));
    s_env_free(env);
    if (in)
        fclose(in);
    if (rc != CCHC_OK)
        return rc;
    self->child = pid;
    self->child_seq = n->seq;
    self->child_started = now;
    self->killed = 0;
    CCHC_LOG(CCHC_LOG_DEBUG, "alert_started", "seq=%" PRId64 " pid=%d", n->seq, (int)pid);
    return CCHC_OK;
}

static int s_first_pending(const agt_notif_t *n, void *arg)
{
    agt_notify_t *self = arg;
    if (s_spawn(self, n, cchc_clock_mono_ms()) != CCHC_OK) {
        (void)agt_outbox_notif_mark(self->outbox, n->seq, AGT_ALERT_FAILED);
        self->check_pending = 1; /* not retried: the next row, at once */
    }
    return 1;
}

/* The running command ended with status: record it. */
static void s_reaped(agt_notify_t *self, int status, int64_t now)
{
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    int64_t ms = now - self->child_started;
    if (ok)
        CCHC_LOG(CCHC_LOG_INFO, "alert_done", "seq=%" PRId64 " ms=%" PRId64, self->child_seq, ms);
    else if (self->killed)
        CCHC_LOG(CCHC_LOG_WARN, "alert_failed", "seq=%" PRId64 " why=timeout timeout_ms=%d",
                 self->child_seq, S_ALERT_TIMEOUT_MS);
    else if (WIFSIGNALED(status))
        CCHC_LOG(CCHC_LOG_WARN, "alert_failed", "seq=%" PRId64 " why=signal signal=%d",
                 self->child_seq, WTERMSIG(status));
    else
        CCHC_LOG(CCHC_LOG_WARN, "alert_failed", "seq=%" PRId64 " why=exit code=%d", self->child_seq,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    (void)agt_outbox_notif_mark(self->outbox, self->child_seq,
                                ok ? AGT_ALERT_DONE : AGT_ALERT_FAILED);
    self->child = 0;
    self->check_pending = 1;
}

void agt_notify_tick(agt_notify_t *self, int64_t now)
{
    if (self->child > 0) {
        int status = 0;
        pid_t r = waitpid(self->child, &status, WNOHANG);
        if (r == self->child) {
            s_reaped(self, status, now);
        } else if (r < 0 && errno != EINTR) {
            /* Someone else reaped it (cannot happen unless SIGCHLD is ignored). */
            CCHC_LOG(CCHC_LOG_WARN, "alert_failed", "seq=%" PRId64 " why=lost err=\"%s\"",
                     self->child_seq, strerror(errno));
            (void)agt_outbox_notif_mark(self->outbox, self->child_seq, AGT_ALERT_FAILED);
            self->child = 0;
            self->check_pending = 1;
        } else if (!self->killed && now - self->child_started >= S_ALERT_TIMEOUT_MS) {
            (void)kill(-self->child, SIGKILL);
            self->killed = 1;
        }
        if (self->child > 0)
            return;
    }
    if (!self->check_pending || !s_has_command(self))
        return;
    self->check_pending = 0;
    /* One at a time, oldest first; the next when this one is reaped. An
     * outbox error is logged there and waits for the next notification. */
    (void)agt_outbox_notif_list(self->outbox, 1, 1, s_first_pending, self);
}

int64_t agt_notify_wake(const agt_notify_t *self, int64_t now)
{
    if (self->child > 0)
        return now + S_REAP_POLL_MS;
    if (self->check_pending && s_has_command(self))
        return now;
    return INT64_MAX;
}
