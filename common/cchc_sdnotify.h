/* cchc_sdnotify.h: telling the service manager how a daemon is doing.
 *
 * Under systemd with Type=notify (deploy/systemd/), a daemon says READY=1
 * once it serves, STATUS= lines that `systemctl status` shows, and STOPPING=1
 * when it begins to stop. The service manager passes its socket in
 * NOTIFY_SOCKET; when that is unset (a terminal, a test, another supervisor)
 * every call does nothing and returns 0, so callers need no test of their own.
 * A send is one datagram on a local socket (the sd_notify(3) protocol): cheap
 * enough for a few lines a minute, never for a per-message path. */
#ifndef CCHC_SDNOTIFY_H
#define CCHC_SDNOTIFY_H

#define CCHC_SDNOTIFY_READY "READY=1"
#define CCHC_SDNOTIFY_STOPPING "STOPPING=1"

/* Sends `state` (CCHC_SDNOTIFY_READY, CCHC_SDNOTIFY_STOPPING, or NULL for a
 * status only) and, when status_fmt is not NULL, STATUS=<text>, in one
 * datagram. Control characters in the text become spaces (a newline would
 * start another assignment). Returns 1 when sent, 0 when NOTIFY_SOCKET is
 * unset, CCHC_EIO when the socket refused it (errno says why). */
int cchc_sdnotify_send(const char *state, const char *status_fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
