/* cchc_period.h: civil dates, reporting periods, data cut-offs, the working-day
 * calendar and due dates (DOMAIN.md sections 2 and 3).
 *
 * A civil date is a day number: days since 1970-01-01 in the proleptic
 * Gregorian calendar. Business dates are civil dates in Asia/Ho_Chi_Minh
 * (UTC+7, no DST), computed explicitly from an instant, never from the host's
 * time zone. Everything here is pure computation: no I/O, no policy beyond
 * the rules the district's data names (cut-off rule, due rule, calendar). */
#ifndef CCHC_PERIOD_H
#define CCHC_PERIOD_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t cchc_day_t;

#define CCHC_DAY_NONE INT32_MIN

/* ---- civil dates ------------------------------------------------------------ */

cchc_day_t cchc_day_from_ymd(int y, int m, int d);
void cchc_day_to_ymd(cchc_day_t day, int *y, int *m, int *d);
/* Strict "YYYY-MM-DD" of a real date (2024-02-30 is refused). 0 or CCHC_EINVAL. */
int cchc_day_parse(const char *text, cchc_day_t *out);
/* "YYYY-MM-DD" into buf (at least 11 bytes). */
void cchc_day_format(cchc_day_t day, char *buf, size_t len);
/* 1 = Monday ... 7 = Sunday (ISO 8601). */
int cchc_day_weekday(cchc_day_t day);
/* The civil date in Asia/Ho_Chi_Minh at instant ms (since the epoch, UTC). */
cchc_day_t cchc_day_of_instant(int64_t ms);
/* The instant of local time hh:mm on day in Asia/Ho_Chi_Minh. */
int64_t cchc_day_instant(cchc_day_t day, int hh, int mm);

/* ---- periods ------------------------------------------------------------------ */

typedef enum {
    CCHC_PERIOD_MONTH,   /* "202406"  */
    CCHC_PERIOD_QUARTER, /* "2024Q2"  */
    CCHC_PERIOD_HALF,    /* "2024S1", "2024S2" */
    CCHC_PERIOD_NINE,    /* "2024N9": the first nine months */
    CCHC_PERIOD_YEAR,    /* "2024"    */
} cchc_period_kind_t;

typedef struct {
    int year;
    cchc_period_kind_t kind;
    int index; /* month 1-12, quarter 1-4, half 1-2; 9 for NINE; 0 for YEAR */
} cchc_period_t;

/* Parses a period id. 0 or CCHC_EINVAL (years 2000-2199). */
int cchc_period_parse(const char *id, cchc_period_t *out);
/* The id back: "2024Q3" (buf at least 8 bytes). */
void cchc_period_format(const cchc_period_t *p, char *buf, size_t len);
/* The code a report type lists its periods by: "M" (any month), "Q1".."Q4",
 * "S1", "S2", "N9", "Y". Borrowed static string. */
const char *cchc_period_code(const cchc_period_t *p);
/* First and last calendar month of the period (1-12). */
void cchc_period_months(const cchc_period_t *p, int *first, int *last);

typedef enum {
    CCHC_CUTOFF_DEC09,    /* Decree 09/2019: 15th of the month before .. 14th of the last month */
    CCHC_CUTOFF_CALENDAR, /* first .. last day of the period */
} cchc_cutoff_t;

/* "dec09" | "calendar" (also "none", meaning calendar, for event types). */
int cchc_cutoff_parse(const char *text, cchc_cutoff_t *out);
/* The data window [*start, *end] of a period under a cut-off rule. */
void cchc_period_range(const cchc_period_t *p, cchc_cutoff_t rule, cchc_day_t *start,
                       cchc_day_t *end);

/* ---- the working-day calendar -------------------------------------------------- */

typedef enum {
    CCHC_CAL_HOLIDAY,   /* a weekday off */
    CCHC_CAL_SWAP_OFF,  /* a weekday off, swapped for a worked Saturday */
    CCHC_CAL_SWAP_WORK, /* a Saturday (or Sunday) worked */
} cchc_cal_kind_t;

typedef struct cchc_calendar cchc_calendar_t;

cchc_calendar_t *cchc_calendar_new(void);
void cchc_calendar_destroy(cchc_calendar_t **self_p);
/* "holiday" | "swap_off" | "swap_work". 0 or CCHC_EINVAL. */
int cchc_cal_kind_parse(const char *text, cchc_cal_kind_t *out);
/* Adds one day; a later entry for the same day replaces the earlier. */
void cchc_calendar_add(cchc_calendar_t *self, cchc_day_t day, cchc_cal_kind_t kind);
/* Monday-Friday unless a holiday or swap_off; Saturday/Sunday only when swap_work. */
int cchc_calendar_is_working(const cchc_calendar_t *self, cchc_day_t day);
/* The n-th working day strictly after `from` (n >= 1); `from` itself when n == 0. */
cchc_day_t cchc_calendar_add_working(const cchc_calendar_t *self, cchc_day_t from, int n);
/* day if it is a working day, else the working day before it. */
cchc_day_t cchc_calendar_prev_working(const cchc_calendar_t *self, cchc_day_t day);
/* day if it is a working day, else the working day after it. */
cchc_day_t cchc_calendar_next_working(const cchc_calendar_t *self, cchc_day_t day);
/* Working days in (a, b]: 0 when b <= a. */
int cchc_calendar_count_working(const cchc_calendar_t *self, cchc_day_t a, cchc_day_t b);

/* ---- due dates ----------------------------------------------------------------------- */

typedef enum {
    CCHC_DUE_WD_AFTER_CUTOFF, /* "wd_after_cutoff:N" (N defaults to 2) */
    CCHC_DUE_DAY_OF_MONTH,    /* "day_of_month:D" of the period's last month, moved back to
                                 a working day */
    CCHC_DUE_WD_AFTER_EVENT,  /* "wd_after_event:N" working days after an event */
    CCHC_DUE_FIXED,           /* "fixed" or "fixed:YYYY-MM-DD": a given date */
} cchc_due_kind_t;

typedef struct {
    cchc_due_kind_t kind;
    int n;            /* N or D */
    cchc_day_t fixed; /* CCHC_DAY_NONE unless "fixed:DATE" */
} cchc_due_rule_t;

/* Parses a due rule. 0 or CCHC_EINVAL. */
int cchc_due_rule_parse(const char *text, cchc_due_rule_t *out);

/* The due date of an expected report.
 *   period: the report's period (WD_AFTER_CUTOFF, DAY_OF_MONTH), else NULL;
 *   event:  the event day (WD_AFTER_EVENT) or the fixed date (FIXED without a
 *           date in the rule), else CCHC_DAY_NONE.
 * Returns 0, or CCHC_EINVAL when the rule needs what was not given. */
int cchc_due_date(const cchc_due_rule_t *rule, const cchc_calendar_t *cal,
                  const cchc_period_t *period, cchc_cutoff_t cutoff, cchc_day_t event,
                  cchc_day_t *out);

#endif
