/* cchc_period.c: civil dates, reporting periods, data cut-offs, the working-day
 * calendar and due dates (see cchc_period.h, DOMAIN.md sections 2 and 3).
 *
 * Owns the date arithmetic every deadline in the system rests on: day numbers
 * (Hinnant's civil-date algorithms, no libc time zone), the period ids and their
 * Decree 09/2019 windows, the sorted table of holidays and swaps, and the due
 * rules of report types. Pure computation: no I/O, no logging, no clock. */
#include "cchc_period.h"
#include "cchc_err.h"
#include "cchc_mem.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MS_PER_DAY INT64_C(86400000)
#define S_UTC_OFFSET_MS (INT64_C(7) * 3600 * 1000) /* Asia/Ho_Chi_Minh, no DST */
/* How far a working-day search may walk. Ten years is far beyond any real run of
 * holidays, yet bounds the loop when a calendar (by mistake) has no working day. */
#define S_MAX_SCAN 3660

/* ---- civil dates ------------------------------------------------------------ */

static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int s_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int s_month_length(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_is_leap(y) ? 29 : len[m - 1];
}

/* Hinnant's days_from_civil. The caller passes a real date; no validation here,
 * so that the parser alone decides what is a date. */
cchc_day_t cchc_day_from_ymd(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    unsigned yoe = (unsigned)(yy - era * 400);
    unsigned mp = (unsigned)(m > 2 ? m - 3 : m + 9);
    unsigned doy = (153 * mp + 2) / 5 + (unsigned)d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (cchc_day_t)(era * 146097 + (int64_t)doe - 719468);
}

/* Hinnant's civil_from_days. */
void cchc_day_to_ymd(cchc_day_t day, int *y, int *m, int *d)
{
    assert(y && m && d);
    int64_t z = (int64_t)day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

/* Reads exactly n ASCII digits; -1 when any is not one. */
static int s_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int cchc_day_parse(const char *text, cchc_day_t *out)
{
    assert(text && out);
    if (strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return CCHC_EINVAL;
    int y = s_digits(text, 4), m = s_digits(text + 5, 2), d = s_digits(text + 8, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1 || d > s_month_length(y, m))
        return CCHC_EINVAL;
    *out = cchc_day_from_ymd(y, m, d);
    return CCHC_OK;
}

void cchc_day_format(cchc_day_t day, char *buf, size_t len)
{
    assert(buf && len >= 11);
    int y, m, d;
    cchc_day_to_ymd(day, &y, &m, &d);
    snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

/* Day 0 (1970-01-01) was a Thursday (4). */
int cchc_day_weekday(cchc_day_t day)
{
    int64_t r = ((int64_t)day + 3) % 7;
    return (int)(r < 0 ? r + 7 : r) + 1;
}

cchc_day_t cchc_day_of_instant(int64_t ms)
{
    return (cchc_day_t)s_floor_div(ms + S_UTC_OFFSET_MS, S_MS_PER_DAY);
}

int64_t cchc_day_instant(cchc_day_t day, int hh, int mm)
{
    return (int64_t)day * S_MS_PER_DAY + ((int64_t)hh * 60 + mm) * 60000 - S_UTC_OFFSET_MS;
}

/* ---- periods ------------------------------------------------------------------ */

/* Per kind (in enum order): months spanned, the largest index, and the letter of
 * the id. NINE and YEAR have a single fixed index (9 and 0). */
static const int s_span[] = {1, 3, 6, 9, 12};
static const int s_max_index[] = {12, 4, 2, 9, 0};
static const char s_letter[] = "\0QSN";

static int s_period_valid(const cchc_period_t *p)
{
    if (p->year < 2000 || p->year > 2199 || (unsigned)p->kind > CCHC_PERIOD_YEAR)
        return 0;
    if (p->kind >= CCHC_PERIOD_NINE)
        return p->index == s_max_index[p->kind];
    return p->index >= 1 && p->index <= s_max_index[p->kind];
}

int cchc_period_parse(const char *id, cchc_period_t *out)
{
    assert(id && out);
    size_t len = strlen(id);
    cchc_period_t p = {.year = s_digits(id, 4), .kind = CCHC_PERIOD_YEAR, .index = 0};
    if (len == 6) {
        const char *letter = id[4] ? strchr(s_letter + 1, id[4]) : NULL;
        if (letter) {
            p.kind = (cchc_period_kind_t)(letter - s_letter);
            p.index = s_digits(id + 5, 1);
        } else { /* "YYYYMM": the month must be two digits, zero-padded */
            p.kind = CCHC_PERIOD_MONTH;
            p.index = s_digits(id + 4, 2);
        }
    } else if (len != 4) {
        return CCHC_EINVAL;
    }
    if (!s_period_valid(&p))
        return CCHC_EINVAL;
    *out = p;
    return CCHC_OK;
}

void cchc_period_format(const cchc_period_t *p, char *buf, size_t len)
{
    assert(p && buf && len >= 8 && s_period_valid(p));
    if (p->kind == CCHC_PERIOD_MONTH)
        snprintf(buf, len, "%04d%02d", p->year, p->index);
    else if (p->kind == CCHC_PERIOD_YEAR)
        snprintf(buf, len, "%04d", p->year);
    else /* NINE prints as "N9" through its fixed index */
        snprintf(buf, len, "%04d%c%d", p->year, s_letter[p->kind], p->index);
}

const char *cchc_period_code(const cchc_period_t *p)
{
    static const char *const codes[] = {"Q1", "Q2", "Q3", "Q4", "S1", "S2"};
    assert(p && s_period_valid(p));
    if (p->kind == CCHC_PERIOD_QUARTER)
        return codes[p->index - 1];
    if (p->kind == CCHC_PERIOD_HALF)
        return codes[3 + p->index];
    return p->kind == CCHC_PERIOD_MONTH ? "M" : p->kind == CCHC_PERIOD_NINE ? "N9" : "Y";
}

void cchc_period_months(const cchc_period_t *p, int *first, int *last)
{
    assert(p && first && last && s_period_valid(p));
    int span = s_span[p->kind];
    *last = p->kind >= CCHC_PERIOD_NINE ? span : p->index * span;
    *first = *last - span + 1;
}

int cchc_cutoff_parse(const char *text, cchc_cutoff_t *out)
{
    assert(text && out);
    if (strcmp(text, "dec09") == 0)
        *out = CCHC_CUTOFF_DEC09;
    else if (strcmp(text, "calendar") == 0 || strcmp(text, "none") == 0)
        *out = CCHC_CUTOFF_CALENDAR;
    else
        return CCHC_EINVAL;
    return CCHC_OK;
}

void cchc_period_range(const cchc_period_t *p, cchc_cutoff_t rule, cchc_day_t *start,
                       cchc_day_t *end)
{
    assert(start && end);
    int first, last;
    cchc_period_months(p, &first, &last);
    if (rule == CCHC_CUTOFF_DEC09) {
        /* The figures of January start on 15 December of the year before. */
        *start = first == 1 ? cchc_day_from_ymd(p->year - 1, 12, 15)
                            : cchc_day_from_ymd(p->year, first - 1, 15);
        *end = cchc_day_from_ymd(p->year, last, 14);
    } else {
        *start = cchc_day_from_ymd(p->year, first, 1);
        *end = cchc_day_from_ymd(p->year, last, s_month_length(p->year, last));
    }
}

/* ---- the working-day calendar -------------------------------------------------- */

typedef struct {
    cchc_day_t day;
    cchc_cal_kind_t kind;
} s_entry_t;

/* A sorted array: a year has a dozen entries, the lookups are binary searches. */
struct cchc_calendar {
    s_entry_t *entries;
    size_t count;
    size_t cap;
};

cchc_calendar_t *cchc_calendar_new(void)
{
    return cchc_calloc(1, sizeof(cchc_calendar_t));
}

void cchc_calendar_destroy(cchc_calendar_t **self_p)
{
    assert(self_p);
    if (*self_p) {
        free((*self_p)->entries);
        free(*self_p);
        *self_p = NULL;
    }
}

int cchc_cal_kind_parse(const char *text, cchc_cal_kind_t *out)
{
    static const char *const names[] = {"holiday", "swap_off", "swap_work"};
    assert(text && out);
    for (int i = 0; i < 3; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (cchc_cal_kind_t)i;
            return CCHC_OK;
        }
    }
    return CCHC_EINVAL;
}

/* Index of the first entry whose day is >= day (count when none). */
static size_t s_lower_bound(const cchc_calendar_t *self, cchc_day_t day)
{
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->entries[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void cchc_calendar_add(cchc_calendar_t *self, cchc_day_t day, cchc_cal_kind_t kind)
{
    assert(self);
    size_t i = s_lower_bound(self, day);
    if (i < self->count && self->entries[i].day == day) {
        self->entries[i].kind = kind;
        return;
    }
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 32;
        self->entries = cchc_realloc(self->entries, self->cap * sizeof(s_entry_t));
    }
    memmove(self->entries + i + 1, self->entries + i, (self->count - i) * sizeof(s_entry_t));
    self->entries[i] = (s_entry_t){day, kind};
    self->count++;
}

int cchc_calendar_is_working(const cchc_calendar_t *self, cchc_day_t day)
{
    assert(self);
    size_t i = s_lower_bound(self, day);
    if (i < self->count && self->entries[i].day == day)
        return self->entries[i].kind == CCHC_CAL_SWAP_WORK;
    return cchc_day_weekday(day) <= 5;
}

/* Walks from `from` by step, returning the n-th working day met, or the last day
 * examined when S_MAX_SCAN days pass first. n <= 0 returns `from`. */
static cchc_day_t s_walk(const cchc_calendar_t *self, cchc_day_t from, int n, int step)
{
    cchc_day_t day = from;
    for (int i = 0; n > 0 && i < S_MAX_SCAN; i++) {
        day += step;
        if (cchc_calendar_is_working(self, day))
            n--;
    }
    return day;
}

cchc_day_t cchc_calendar_add_working(const cchc_calendar_t *self, cchc_day_t from, int n)
{
    assert(self);
    return s_walk(self, from, n, 1);
}

cchc_day_t cchc_calendar_prev_working(const cchc_calendar_t *self, cchc_day_t day)
{
    assert(self);
    return cchc_calendar_is_working(self, day) ? day : s_walk(self, day, 1, -1);
}

cchc_day_t cchc_calendar_next_working(const cchc_calendar_t *self, cchc_day_t day)
{
    assert(self);
    return cchc_calendar_is_working(self, day) ? day : s_walk(self, day, 1, 1);
}

/* Mon-Fri days in [1970-01-05 (a Monday), x), negative before it. */
static int64_t s_weekdays_before(int64_t x)
{
    int64_t r = x - 4;
    int64_t weeks = s_floor_div(r, 7);
    int64_t rem = r - weeks * 7;
    return weeks * 5 + (rem < 5 ? rem : 5);
}

/* Arithmetic on the weekdays, then one correction per calendar entry in range,
 * so a long span costs no more than the entries it holds. */
int cchc_calendar_count_working(const cchc_calendar_t *self, cchc_day_t a, cchc_day_t b)
{
    assert(self);
    if (b <= a)
        return 0;
    int64_t n = s_weekdays_before((int64_t)b + 1) - s_weekdays_before((int64_t)a + 1);
    for (size_t i = s_lower_bound(self, a + 1); i < self->count && self->entries[i].day <= b; i++) {
        int weekday = cchc_day_weekday(self->entries[i].day) <= 5;
        int working = self->entries[i].kind == CCHC_CAL_SWAP_WORK;
        n += working - weekday;
    }
    return (int)n;
}

/* ---- due dates ----------------------------------------------------------------------- */

/* Parses the ":N" suffix after a rule word: "" gives def (or refuses when def < 0),
 * ":N" needs 1-3 digits in [lo, hi]. */
static int s_rule_arg(const char *rest, int def, int lo, int hi, int *out)
{
    if (*rest == '\0') {
        *out = def;
        return def < 0 ? CCHC_EINVAL : CCHC_OK;
    }
    size_t len = strlen(rest + 1);
    if (*rest != ':' || len < 1 || len > 3)
        return CCHC_EINVAL;
    int v = s_digits(rest + 1, (int)len);
    if (v < lo || v > hi)
        return CCHC_EINVAL;
    *out = v;
    return CCHC_OK;
}

/* If text starts with word, the rest after it; else NULL. */
static const char *s_after(const char *text, const char *word)
{
    size_t n = strlen(word);
    return strncmp(text, word, n) == 0 ? text + n : NULL;
}

int cchc_due_rule_parse(const char *text, cchc_due_rule_t *out)
{
    assert(text && out);
    cchc_due_rule_t r = {.kind = CCHC_DUE_FIXED, .n = 0, .fixed = CCHC_DAY_NONE};
    const char *rest;
    int rc;
    if ((rest = s_after(text, "wd_after_cutoff"))) {
        r.kind = CCHC_DUE_WD_AFTER_CUTOFF;
        rc = s_rule_arg(rest, 2, 0, 365, &r.n);
    } else if ((rest = s_after(text, "wd_after_event"))) {
        r.kind = CCHC_DUE_WD_AFTER_EVENT;
        rc = s_rule_arg(rest, 15, 0, 365, &r.n);
    } else if ((rest = s_after(text, "day_of_month"))) {
        r.kind = CCHC_DUE_DAY_OF_MONTH; /* the day has no default */
        rc = s_rule_arg(rest, -1, 1, 31, &r.n);
    } else if ((rest = s_after(text, "fixed"))) {
        rc = CCHC_OK;
        if (*rest == ':')
            rc = cchc_day_parse(rest + 1, &r.fixed);
        else if (*rest != '\0')
            rc = CCHC_EINVAL;
    } else {
        rc = CCHC_EINVAL;
    }
    if (rc != CCHC_OK)
        return CCHC_EINVAL;
    *out = r;
    return CCHC_OK;
}

int cchc_due_date(const cchc_due_rule_t *rule, const cchc_calendar_t *cal,
                  const cchc_period_t *period, cchc_cutoff_t cutoff, cchc_day_t event,
                  cchc_day_t *out)
{
    assert(rule && out);
    cchc_day_t start, end;
    int first, last;
    switch (rule->kind) {
    case CCHC_DUE_WD_AFTER_CUTOFF:
        if (!period)
            return CCHC_EINVAL;
        cchc_period_range(period, cutoff, &start, &end);
        *out = cchc_calendar_add_working(cal, end, rule->n);
        return CCHC_OK;
    case CCHC_DUE_DAY_OF_MONTH: {
        if (!period)
            return CCHC_EINVAL;
        cchc_period_months(period, &first, &last);
        int len = s_month_length(period->year, last);
        int d = rule->n < len ? rule->n : len;
        *out = cchc_calendar_prev_working(cal, cchc_day_from_ymd(period->year, last, d));
        return CCHC_OK;
    }
    case CCHC_DUE_WD_AFTER_EVENT:
        if (event == CCHC_DAY_NONE)
            return CCHC_EINVAL;
        *out = cchc_calendar_add_working(cal, event, rule->n);
        return CCHC_OK;
    case CCHC_DUE_FIXED:
        if (rule->fixed == CCHC_DAY_NONE && event == CCHC_DAY_NONE)
            return CCHC_EINVAL;
        *out = rule->fixed != CCHC_DAY_NONE ? rule->fixed : event;
        return CCHC_OK;
    }
    return CCHC_EINVAL;
}
