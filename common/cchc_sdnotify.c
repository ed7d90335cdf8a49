/* cchc_sdnotify.c: READY=1, STATUS= and STOPPING=1 through libsystemd
 * (see cchc_sdnotify.h).
 *
 * Owns nothing: each call formats one message on the stack and hands it to
 * sd_notify(), which opens, sends on and closes its own socket. The
 * environment is left alone (unset_environment = 0): the daemon notifies
 * again later, and its children (an agent's on_alert hook) are not the main
 * process, which the units' NotifyAccess=main ignores. */
#include "cchc_sdnotify.h"
#include "cchc_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

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
    int rc = sd_notify(0, msg);
    if (rc < 0) {
        errno = -rc;
        return CCHC_EIO;
    }
    return rc > 0 ? 1 : 0;
}
