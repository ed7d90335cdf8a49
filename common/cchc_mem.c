/* cchc_mem.c: allocation that aborts on failure (see cchc_mem.h). */
#include "cchc_mem.h"
#include "cchc_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_oom(size_t n)
{
    fprintf(stderr, "fatal event=out_of_memory bytes=%zu\n", n);
    abort();
}

void *cchc_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        s_oom(n);
    return p;
}

void *cchc_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        s_oom(n * size);
    return p;
}

void *cchc_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        s_oom(n);
    return q;
}

char *cchc_strdup(const char *s)
{
    return cchc_strndup(s, strlen(s));
}

char *cchc_strndup(const char *s, size_t n)
{
    char *d = cchc_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *cchc_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        s_oom(0);
    char *s = cchc_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

const char *cchc_strerror(int code)
{
    switch (code) {
    case CCHC_OK:
        return "OK";
    case CCHC_EAGAIN:
        return "EAGAIN";
    case CCHC_EINVAL:
        return "EINVAL";
    case CCHC_EPROTO:
        return "EPROTO";
    case CCHC_ETOOBIG:
        return "ETOOBIG";
    case CCHC_EMALFORMED:
        return "EMALFORMED";
    case CCHC_EENCODING:
        return "EENCODING";
    case CCHC_EUNSUPPORTED:
        return "EUNSUPPORTED";
    case CCHC_EIO:
        return "EIO";
    case CCHC_ENOTFOUND:
        return "ENOTFOUND";
    case CCHC_EFULL:
        return "EFULL";
    case CCHC_EPERM:
        return "EPERM";
    default:
        return "EUNKNOWN";
    }
}
