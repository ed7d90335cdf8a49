/* cchc_sdnotify.c: READY=1, STATUS= and STOPPING=1 to the service manager
 * (see cchc_sdnotify.h).
 *
 * The notification protocol itself (sd_notify(3), "the protocol is stable"):
 * one datagram of "KEY=value" lines on the AF_UNIX socket that NOTIFY_SOCKET
 * names, a path or, after '@', an abstract name. It is done here, not with
 * libsystemd's sd_notify(): libsystemd brought libgcrypt, libzstd, liblzma,
 * liblz4 and libcap into every program for this one datagram, and their pages
 * into the idle agent's RSS (issue 12 asks for at most 8 MB).
 *
 * Owns nothing: each call formats one message on the stack, opens a socket,
 * sends and closes it. The environment is left alone: the daemon notifies
 * again later, and its children (an agent's on_alert hook) are not the main
 * process, which the units' NotifyAccess=main ignores. */
#include "cchc_sdnotify.h"
#include "cchc_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Longest STATUS text sent; systemd shows one line anyway. */
#define S_STATUS_MAX 400

int cchc_sdnotify_send(const char *state, const char *status_fmt, ...)
{
    const char *sock = getenv("NOTIFY_SOCKET");
    if (!sock || !*sock)
        return 0; /* not under a service manager: skip the formatting too */
    char status[S_STATUS_MAX] = "";
    if (status_fmt) {
        va_list ap;
        va_start(ap, status_fmt);
        vsnprintf(status, sizeof status, status_fmt, ap);
        va_end(ap);
        for (char *p = status; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = ' ';
    }
    char msg[S_STATUS_MAX + 32];
    snprintf(msg, sizeof msg, "%s%s%s%s", state ? state : "", state && status_fmt ? "\n" : "",
             status_fmt ? "STATUS=" : "", status);
    if (!msg[0])
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(sock);
    if ((sock[0] != '/' && sock[0] != '@') || len >= sizeof sa.sun_path) {
        errno = EAFNOSUPPORT; /* not a path nor an abstract name: nothing to send to */
        return CCHC_EIO;
    }
    memcpy(sa.sun_path, sock, len);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = 0; /* abstract namespace */
    socklen_t salen =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (sock[0] == '/' ? 1 : 0));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return CCHC_EIO;
    ssize_t n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    int saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        return CCHC_EIO;
    }
    return 1;
}
