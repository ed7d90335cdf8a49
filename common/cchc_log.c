/* cchc_log.c: event log lines on stderr (see cchc_log.h). */
#include "cchc_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int cchc_log_level = CCHC_LOG_INFO;
static const char *s_ident = "cchc";

int cchc_log_parse_level(const char *name)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void cchc_log_set_ident(const char *ident)
{
    s_ident = ident;
}

void cchc_log_write(int level, const char *event, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, s_ident,
                     names[level < 0   ? 0
                           : level > 3 ? 3
                                       : level],
                     event);
    if (n < 0)
        return;
    if ((size_t)n < sizeof line - 2 && fmt && *fmt) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
        if ((size_t)n > sizeof line - 2)
            n = (int)sizeof line - 2;
    }
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}
