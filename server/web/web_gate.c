/* web_gate.c: the first look at a connection (see web_gate.h). */
#define _GNU_SOURCE
#include "web_gate.h"
#include "cchc_clock.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "web_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the request line -------------------------------------------------------------------- */

static int s_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int s_digit(char c)
{
    return c >= '0' && c <= '9';
}

web_line_t web_gate_line(const char *buf, size_t n, size_t limit)
{
    size_t i = 0;
    while (i < n && (buf[i] == '\r' || buf[i] == '\n'))
        i++; /* empty lines before the request line */
    const char *lf = memchr(buf + i, '\n', n - i);
    size_t end = lf ? (size_t)(lf - buf) : n;
    if (lf && end > i && buf[end - 1] == '\r')
        end--;
    size_t m = i; /* the method: a token, then one space (a TLS hello fails here at once) */
    while (m < end && buf[m] != ' ') {
        if (!s_tchar((unsigned char)buf[m]))
            return lf || buf[m] != '\r' ? WEB_LINE_NOT_HTTP : WEB_LINE_MORE;
        m++;
    }
    if (!lf)
        return n >= limit ? WEB_LINE_TOO_LONG : WEB_LINE_MORE;
    if (m == i || m == end)
        return WEB_LINE_NOT_HTTP;
    size_t v = end; /* the version: after the last space */
    while (v > m + 1 && buf[v - 1] != ' ')
        v--;
    if (v <= m + 2) /* no target between the two spaces */
        return WEB_LINE_NOT_HTTP;
    const char *ver = buf + v;
    if (end - v != 8 || memcmp(ver, "HTTP/", 5) != 0 || !s_digit(ver[5]) || ver[6] != '.' ||
        !s_digit(ver[7]))
        return WEB_LINE_NOT_HTTP;
    if (ver[5] != '1' || (ver[7] != '0' && ver[7] != '1'))
        return WEB_LINE_VERSION;
    return WEB_LINE_PASS;
}

/* ---- the gate ---------------------------------------------------------------------------- */

typedef struct {
    int fd;
    int64_t t0_ms, deadline_ms; /* monotonic */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char ip[INET6_ADDRSTRLEN];
} s_wait_t;

struct web_gate {
    int lfd, stop_fd;
    pthread_t thread;
    int started;
    struct MHD_Daemon *mhd;
    unsigned max_waiting, max_per_ip;
    int64_t timeout_ms;
    size_t line_max;
    s_wait_t *w; /* the connections waiting for their request line */
    unsigned nw;
    struct pollfd *pfd;
    char *buf;
};

static void s_ip(const struct sockaddr_storage *a, char *out, size_t len)
{
    if (a->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, out, (socklen_t)len);
    else if (a->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, out, (socklen_t)len);
    else
        snprintf(out, len, "-");
}

static void s_remove(web_gate_t *self, unsigned k)
{
    self->w[k] = self->w[--self->nw];
}

/* Closes k without an answer (logged). */
static void s_drop(web_gate_t *self, unsigned k, const char *why)
{
    CCHC_LOG(CCHC_LOG_INFO, "http", "addr=%s path=- status=0 ms=%lld gate=%s", self->w[k].ip,
             (long long)(cchc_clock_mono_ms() - self->w[k].t0_ms), why);
    close(self->w[k].fd);
    s_remove(self, k);
}

/* Answers k with status and closes it. What the client sent is read first,
 * so that the close is a FIN after the answer, not a reset before it. */
static void s_refuse(web_gate_t *self, unsigned k, int status, const char *reason, const char *vi,
                     const char *en, const char *why)
{
    char body[512], head[1024];
    int blen = snprintf(body, sizeof body, "%d %s: %s (%s)\n", status, reason, vi, en);
    int hlen = snprintf(head, sizeof head,
                        "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Content-Length: %d\r\nConnection: close\r\n"
                        "Content-Security-Policy: " WEB_CSP "\r\n"
                        "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
                        "X-Frame-Options: DENY\r\nCache-Control: no-store\r\n\r\n",
                        status, reason, blen);
    int fd = self->w[k].fd;
    while (recv(fd, self->buf, self->line_max, MSG_DONTWAIT) > 0) {
    }
    struct iovec iov[2] = {{head, (size_t)hlen}, {body, (size_t)blen}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    (void)sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT); /* small: fits the send buffer */
    shutdown(fd, SHUT_WR);
    CCHC_LOG(CCHC_LOG_INFO, "http", "addr=%s path=- status=%d ms=%lld gate=%s", self->w[k].ip,
             status, (long long)(cchc_clock_mono_ms() - self->w[k].t0_ms), why);
    close(fd);
    s_remove(self, k);
}

/* Bytes have come (or the client closed): look at the request line. */
static void s_look(web_gate_t *self, unsigned k, short revents)
{
    s_wait_t *w = &self->w[k];
    ssize_t n = recv(w->fd, self->buf, self->line_max, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0)
        return s_drop(self, k, n == 0 ? "closed_by_client" : "recv_failed");
    int one = 1;
    switch (web_gate_line(self->buf, (size_t)n, self->line_max)) {
    case WEB_LINE_MORE:
        if (revents & (POLLRDHUP | POLLHUP | POLLERR))
            return s_drop(self, k, "closed_before_request_line");
        int lowat = (int)n + 1; /* wake again only when more has come */
        setsockopt(w->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat);
        return;
    case WEB_LINE_PASS:
        setsockopt(w->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
        if (MHD_add_connection(self->mhd, w->fd, (const struct sockaddr *)&w->addr, w->addrlen) !=
            MHD_YES)
            /* over a libmicrohttpd limit (per address, in all); it closed the socket */
            CCHC_LOG(CCHC_LOG_INFO, "http", "addr=%s path=- status=0 ms=0 gate=over_limit", w->ip);
        return s_remove(self, k);
    case WEB_LINE_NOT_HTTP:
        return s_refuse(self, k, 400, "Bad Request", "không phải một yêu cầu HTTP",
                        "not an HTTP request line: want METHOD TARGET HTTP/1.1", "not_http");
    case WEB_LINE_VERSION:
        return s_refuse(self, k, 400, "Bad Request", "phiên bản HTTP không được hỗ trợ",
                        "only HTTP/1.0 and HTTP/1.1 are served", "http_version");
    case WEB_LINE_TOO_LONG:
        return s_refuse(self, k, 414, "URI Too Long", "dòng yêu cầu quá dài",
                        "the request line is too long", "line_too_long");
    }
}

static void s_accept(web_gate_t *self)
{
    for (int round = 0; round < 64; round++) {
        s_wait_t w = {.addrlen = sizeof w.addr};
        w.fd = accept4(self->lfd, (struct sockaddr *)&w.addr, &w.addrlen,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (w.fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                CCHC_LOG(CCHC_LOG_WARN, "accept_failed", "err=\"%s\"", strerror(errno));
                poll(NULL, 0, 100); /* the backlog waits; no busy loop */
            }
            return;
        }
        s_ip(&w.addr, w.ip, sizeof w.ip);
        w.t0_ms = cchc_clock_mono_ms();
        w.deadline_ms = w.t0_ms + self->timeout_ms;
        unsigned same = 0;
        for (unsigned i = 0; i < self->nw; i++)
            same += strcmp(self->w[i].ip, w.ip) == 0;
        if (self->nw >= self->max_waiting || same >= self->max_per_ip) {
            CCHC_LOG(CCHC_LOG_INFO, "http", "addr=%s path=- status=0 ms=0 gate=%s", w.ip,
                     self->nw >= self->max_waiting ? "too_many_waiting" : "too_many_from_addr");
            close(w.fd);
            continue;
        }
        self->w[self->nw++] = w;
    }
}

static void *s_run(void *arg)
{
    web_gate_t *self = arg;
    for (;;) {
        int64_t now = cchc_clock_mono_ms(), wait = 1000;
        self->pfd[0] = (struct pollfd){.fd = self->stop_fd, .events = POLLIN};
        self->pfd[1] = (struct pollfd){.fd = self->lfd, .events = POLLIN};
        for (unsigned k = 0; k < self->nw; k++) {
            self->pfd[2 + k] = (struct pollfd){.fd = self->w[k].fd, .events = POLLIN | POLLRDHUP};
            int64_t left = self->w[k].deadline_ms - now;
            wait = left < wait ? (left < 0 ? 0 : left) : wait;
        }
        unsigned nw = self->nw;
        if (poll(self->pfd, 2 + nw, (int)wait) < 0 && errno != EINTR) {
            CCHC_LOG(CCHC_LOG_ERROR, "poll_failed", "err=\"%s\"", strerror(errno));
            poll(NULL, 0, 100);
            continue;
        }
        if (self->pfd[0].revents)
            break;
        now = cchc_clock_mono_ms();
        /* From the last: a removal moves the last one into k, already seen. */
        for (unsigned k = nw; k-- > 0;) {
            if (self->pfd[2 + k].revents)
                s_look(self, k, self->pfd[2 + k].revents);
            else if (self->w[k].deadline_ms <= now)
                s_drop(self, k, "timeout");
        }
        if (self->pfd[1].revents)
            s_accept(self);
    }
    return NULL;
}

web_gate_t *web_gate_new(int listen_fd, struct MHD_Daemon *mhd, unsigned max_waiting,
                         unsigned max_per_ip, int timeout_s, size_t line_max, char *err,
                         size_t errlen)
{
    web_gate_t *self = cchc_calloc(1, sizeof *self);
    self->lfd = listen_fd;
    self->mhd = mhd;
    self->max_waiting = max_waiting ? max_waiting : 1;
    self->max_per_ip = max_per_ip ? max_per_ip : self->max_waiting;
    self->timeout_ms = (int64_t)(timeout_s > 0 ? timeout_s : 10) * 1000;
    self->line_max = line_max;
    self->w = cchc_calloc(self->max_waiting, sizeof *self->w);
    self->pfd = cchc_calloc(self->max_waiting + 2, sizeof *self->pfd);
    self->buf = cchc_malloc(line_max);
    self->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int fl = fcntl(listen_fd, F_GETFL);
    if (self->stop_fd < 0 || fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
        (errno = pthread_create(&self->thread, NULL, s_run, self)) != 0) {
        snprintf(err, errlen, "could not start the connection gate: %s", strerror(errno));
        self->lfd = -1; /* still the caller's */
        web_gate_destroy(&self);
        return NULL;
    }
    self->started = 1;
    return self;
}

void web_gate_destroy(web_gate_t **self_p)
{
    web_gate_t *self = *self_p;
    if (!self)
        return;
    if (self->started) {
        uint64_t one = 1;
        (void)!write(self->stop_fd, &one, sizeof one);
        pthread_join(self->thread, NULL);
    }
    for (unsigned k = 0; k < self->nw; k++)
        close(self->w[k].fd);
    if (self->stop_fd >= 0)
        close(self->stop_fd);
    if (self->lfd >= 0)
        close(self->lfd);
    free(self->w);
    free(self->pfd);
    free(self->buf);
    free(self);
    *self_p = NULL;
}
