/* cchc_err.h: return codes shared by every module.
 *
 * 0 is success; failures are negative. Transient failures (worth retrying
 * later, unchanged) are kept apart from permanent ones (retrying cannot help),
 * because whether a report is resent depends on it. */
#ifndef CCHC_ERR_H
#define CCHC_ERR_H

enum {
    CCHC_OK = 0,
    CCHC_EAGAIN = -1,       /* transient: try again later */
    CCHC_EINVAL = -2,       /* permanent: the input breaks a rule */
    CCHC_EPROTO = -3,       /* permanent: a peer broke the protocol */
    CCHC_ETOOBIG = -4,      /* permanent: over a size or count limit */
    CCHC_EMALFORMED = -5,   /* permanent: bytes that do not decode */
    CCHC_EENCODING = -6,    /* permanent: invalid UTF-8 or an embedded NUL */
    CCHC_EUNSUPPORTED = -7, /* permanent: unknown body kind or protocol version */
    CCHC_EIO = -8,          /* a file or system call failed (see errno) */
    CCHC_ENOTFOUND = -9,    /* the thing asked for does not exist */
    CCHC_EFULL = -10,       /* a configured capacity is reached */
    CCHC_EPERM = -11,       /* permanent: the principal may not do this */
};

/* Short English name of a code, for logs: "EAGAIN", "EINVAL", ... */
const char *cchc_strerror(int code);

/* True for codes where resending the same thing later may succeed. */
static inline int cchc_err_is_transient(int code)
{
    return code == CCHC_EAGAIN;
}

#endif
