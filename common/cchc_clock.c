/* cchc_clock.c: injectable wall clock, monotonic clock (see cchc_clock.h). */
#include "cchc_clock.h"
#include "cchc_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t s_fixed_ms;
static int s_env_read;

/* Days since 1970-01-01 of a proleptic Gregorian civil date (H. Hinnant). */
static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int cchc_clock_parse(const char *text, int64_t *ms_out)
{
    char *end;
    if (!text || !*text)
        return CCHC_EINVAL;
    long long v = strtoll(text, &end, 10);
    if (*end == '\0') {
        *ms_out = v;
        return CCHC_OK;
    }
    int y, mo, d, h, mi, s, n = 0;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6)
        return CCHC_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return CCHC_EINVAL;
    const char *p = text + n;
    int ms = 0;
    if (*p == '.') {
        int digits = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3) {
                ms = ms * 10 + (*p - '0');
                digits++;
            }
            p++;
        }
        while (digits++ < 3)
            ms *= 10;
    }
    int off_min = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
            return CCHC_EINVAL;
        off_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return CCHC_EINVAL;
    }
    if (*p != '\0')
        return CCHC_EINVAL;
    int64_t days = s_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms_out = ((days * 86400 + h * 3600 + mi * 60 + s) - (int64_t)off_min * 60) * 1000 + ms;
    return CCHC_OK;
}

int64_t cchc_clock_now_ms(void)
{
    if (!s_env_read) {
        s_env_read = 1;
        const char *env = getenv("CCHC_CLOCK");
        int64_t ms;
        if (env && !s_fixed_ms && cchc_clock_parse(env, &ms) == CCHC_OK)
            s_fixed_ms = ms;
    }
    if (s_fixed_ms)
        return s_fixed_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cchc_clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cchc_clock_set(int64_t ms)
{
    s_env_read = 1;
    s_fixed_ms = ms;
}

void cchc_clock_format_utc(int64_t ms, char *buf, unsigned long len)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)t * 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

void cchc_clock_format_local(int64_t ms, char *buf, unsigned long len)
{
    int64_t local = ms + CCHC_CLOCK_VN_OFFSET_MS;
    /* Floor division, so instants before 1970 still format correctly. */
    time_t secs = (time_t)(local >= 0 ? local / 1000 : -((-local + 999) / 1000));
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d +07", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
