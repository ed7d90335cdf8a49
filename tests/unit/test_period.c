/* test_period.c: civil dates, period ids, Decree 09/2019 cut-offs, the working-day
 * calendar of 2024 (deploy/data/holidays.csv) and the due rules of report types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cchc_err.h"
#include "cchc_period.h"

#include <string.h>

/* The 2024 rows of deploy/data/holidays.csv, copied so the test stands alone. */
static const struct {
    const char *date;
    const char *kind;
} s_2024[] = {
    {"2024-01-01", "holiday"}, {"2024-02-08", "holiday"},   {"2024-02-09", "holiday"},
    {"2024-02-12", "holiday"}, {"2024-02-13", "holiday"},   {"2024-02-14", "holiday"},
    {"2024-04-18", "holiday"}, {"2024-04-29", "swap_off"},  {"2024-04-30", "holiday"},
    {"2024-05-01", "holiday"}, {"2024-05-04", "swap_work"}, {"2024-09-02", "holiday"},
    {"2024-09-03", "holiday"},
};

static cchc_day_t s_day(const char *text)
{
    cchc_day_t day = CCHC_DAY_NONE;
    assert_int_equal(cchc_day_parse(text, &day), CCHC_OK);
    return day;
}

static cchc_period_t s_period(const char *id)
{
    cchc_period_t p;
    assert_int_equal(cchc_period_parse(id, &p), CCHC_OK);
    return p;
}

/* Asserts a day equals a date, comparing the text so a failure prints both. */
static void s_assert_day(cchc_day_t day, const char *want)
{
    char buf[16];
    cchc_day_format(day, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static int s_setup(void **state)
{
    cchc_calendar_t *cal = cchc_calendar_new();
    for (size_t i = 0; i < sizeof s_2024 / sizeof s_2024[0]; i++) {
        cchc_cal_kind_t kind;
        assert_int_equal(cchc_cal_kind_parse(s_2024[i].kind, &kind), CCHC_OK);
        cchc_calendar_add(cal, s_day(s_2024[i].date), kind);
    }
    *state = cal;
    return 0;
}

static int s_teardown(void **state)
{
    cchc_calendar_t *cal = *state;
    cchc_calendar_destroy(&cal);
    assert_null(cal);
    cchc_calendar_destroy(&cal); /* NULL is accepted */
    return 0;
}

static void test_day_numbers(void **state)
{
    (void)state;
    assert_int_equal(cchc_day_from_ymd(1970, 1, 1), 0);
    assert_int_equal(cchc_day_from_ymd(2000, 3, 1), 11017);
    assert_int_equal(cchc_day_from_ymd(2024, 1, 1), 19723);
    assert_int_equal(cchc_day_from_ymd(2024, 9, 17), 19983);
    assert_int_equal(cchc_day_from_ymd(1600, 2, 29), -135081);
    int y, m, d;
    cchc_day_to_ymd(-135081, &y, &m, &d);
    assert_true(y == 1600 && m == 2 && d == 29);
    /* Round trip over 1900..2200, through leap days and century rules. */
    for (cchc_day_t day = cchc_day_from_ymd(1900, 1, 1); day < 84100; day++) {
        cchc_day_to_ymd(day, &y, &m, &d);
        assert_int_equal(cchc_day_from_ymd(y, m, d), day);
    }
    assert_int_equal(cchc_day_weekday(0), 4);                   /* Thursday */
    assert_int_equal(cchc_day_weekday(-1), 3);                  /* 1969-12-31, Wednesday */
    assert_int_equal(cchc_day_weekday(s_day("2024-09-17")), 2); /* Tuesday */
    assert_int_equal(cchc_day_weekday(s_day("2024-09-01")), 7); /* Sunday */
    assert_int_equal(cchc_day_weekday(s_day("2024-04-29")), 1); /* Monday */
}

static void test_day_parse(void **state)
{
    (void)state;
    char buf[16];
    const char *good[] = {"2024-02-29", "2000-02-29", "1970-01-01", "2199-12-31", "2024-12-31"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cchc_day_format(s_day(good[i]), buf, sizeof buf);
        assert_string_equal(buf, good[i]);
    }
    const char *bad[] = {"2024-02-30",  "2023-02-29",  "1900-02-29", "2024-04-31", "2024-13-01",
                         "2024-00-10",  "2024-01-00",  "2024-6-01",  "2024-06-1",  "2024-06-01x",
                         "2024-06-01 ", " 2024-06-01", "2024/06/01", "20240601",   "",
                         "2024-0a-01",  "2024-06-+1",  "abcd-ef-gh"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cchc_day_t day = 42;
        assert_int_equal(cchc_day_parse(bad[i], &day), CCHC_EINVAL);
        assert_int_equal(day, 42); /* untouched on refusal */
    }
}

static void test_instants(void **state)
{
    (void)state;
    /* 2024-09-17T16:59:59Z is 23:59:59 local: still the 17th; a second later, the 18th. */
    assert_int_equal(cchc_day_of_instant(INT64_C(1726592399000)), 19983);
    assert_int_equal(cchc_day_of_instant(INT64_C(1726592400000)), 19984);
    s_assert_day(cchc_day_of_instant(INT64_C(1726592400000)), "2024-09-18");
    /* Before the epoch, floor division: 1970-01-01T00:00Z is 07:00 local on day 0. */
    assert_int_equal(cchc_day_of_instant(-1), 0);
    assert_int_equal(cchc_day_of_instant(-7 * 3600 * 1000), 0);
    assert_int_equal(cchc_day_of_instant(-7 * 3600 * 1000 - 1), -1);
    assert_int_equal(cchc_day_instant(19983, 23, 59) + 59000, INT64_C(1726592399000));
    assert_int_equal(cchc_day_instant(19984, 0, 0), INT64_C(1726592400000));
    assert_int_equal(cchc_day_instant(0, 7, 0), 0);
    assert_int_equal(cchc_day_of_instant(cchc_day_instant(19983, 0, 0)), 19983);
}

static void test_period_parse(void **state)
{
    (void)state;
    char buf[16];
    const struct {
        const char *id, *code;
        cchc_period_kind_t kind;
        int index, first, last;
    } good[] = {
        {"2024Q1", "Q1", CCHC_PERIOD_QUARTER, 1, 1, 3},
        {"2024Q4", "Q4", CCHC_PERIOD_QUARTER, 4, 10, 12},
        {"2024S1", "S1", CCHC_PERIOD_HALF, 1, 1, 6},
        {"2024S2", "S2", CCHC_PERIOD_HALF, 2, 7, 12},
        {"2024N9", "N9", CCHC_PERIOD_NINE, 9, 1, 9},
        {"2024", "Y", CCHC_PERIOD_YEAR, 0, 1, 12},
        {"202406", "M", CCHC_PERIOD_MONTH, 6, 6, 6},
        {"200001", "M", CCHC_PERIOD_MONTH, 1, 1, 1},
        {"2199Q3", "Q3", CCHC_PERIOD_QUARTER, 3, 7, 9},
        {"202412", "M", CCHC_PERIOD_MONTH, 12, 12, 12},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cchc_period_t p = s_period(good[i].id);
        assert_int_equal(p.kind, good[i].kind);
        assert_int_equal(p.index, good[i].index);
        assert_string_equal(cchc_period_code(&p), good[i].code);
        int first, last;
        cchc_period_months(&p, &first, &last);
        assert_int_equal(first, good[i].first);
        assert_int_equal(last, good[i].last);
        cchc_period_format(&p, buf, sizeof buf);
        assert_string_equal(buf, good[i].id);
    }
    const char *bad[] = {"2024Q5", "2024Q0",  "2024S3", "2024S0",  "2024N8", "24Q1",
                         "2024q1", "2024-06", "",       "202413",  "202400", "20246",
                         "1999",   "2200",    "1999Q1", "2200Q1",  "2024Q",  "2024Q12",
                         "2024 ",  "2024Y",   "2024M6", "2024Q1x", "abcd",   "2024N"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cchc_period_t p = {.year = 7};
        assert_int_equal(cchc_period_parse(bad[i], &p), CCHC_EINVAL);
        assert_int_equal(p.year, 7);
    }
}

static void test_cutoff_ranges(void **state)
{
    (void)state;
    const struct {
        const char *id;
        cchc_cutoff_t rule;
        const char *start, *end;
    } cases[] = {
        {"2024Q1", CCHC_CUTOFF_DEC09, "2023-12-15", "2024-03-14"},
        {"2024S1", CCHC_CUTOFF_DEC09, "2023-12-15", "2024-06-14"},
        {"2024Q3", CCHC_CUTOFF_DEC09, "2024-06-15", "2024-09-14"},
        {"2024N9", CCHC_CUTOFF_DEC09, "2023-12-15", "2024-09-14"},
        {"2024", CCHC_CUTOFF_DEC09, "2023-12-15", "2024-12-14"},
        {"202401", CCHC_CUTOFF_DEC09, "2023-12-15", "2024-01-14"},
        {"202406", CCHC_CUTOFF_DEC09, "2024-05-15", "2024-06-14"},
        {"2024S2", CCHC_CUTOFF_DEC09, "2024-06-15", "2024-12-14"},
        {"2024Q1", CCHC_CUTOFF_CALENDAR, "2024-01-01", "2024-03-31"},
        {"202402", CCHC_CUTOFF_CALENDAR, "2024-02-01", "2024-02-29"},
        {"202302", CCHC_CUTOFF_CALENDAR, "2023-02-01", "2023-02-28"},
        {"2024S1", CCHC_CUTOFF_CALENDAR, "2024-01-01", "2024-06-30"},
        {"2024N9", CCHC_CUTOFF_CALENDAR, "2024-01-01", "2024-09-30"},
        {"2024", CCHC_CUTOFF_CALENDAR, "2024-01-01", "2024-12-31"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cchc_period_t p = s_period(cases[i].id);
        cchc_day_t start, end;
        cchc_period_range(&p, cases[i].rule, &start, &end);
        s_assert_day(start, cases[i].start);
        s_assert_day(end, cases[i].end);
    }
    cchc_cutoff_t rule = CCHC_CUTOFF_DEC09;
    assert_int_equal(cchc_cutoff_parse("calendar", &rule), CCHC_OK);
    assert_int_equal(rule, CCHC_CUTOFF_CALENDAR);
    assert_int_equal(cchc_cutoff_parse("dec09", &rule), CCHC_OK);
    assert_int_equal(rule, CCHC_CUTOFF_DEC09);
    assert_int_equal(cchc_cutoff_parse("none", &rule), CCHC_OK);
    assert_int_equal(rule, CCHC_CUTOFF_CALENDAR);
    const char *bad[] = {"", "DEC09", "dec09 ", "dec", "calendar:1", "nd09"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cchc_cutoff_parse(bad[i], &rule), CCHC_EINVAL);
}

static void test_calendar_2024(void **state)
{
    cchc_calendar_t *cal = *state;
    /* 26/04 Fri, then 29/04 swap_off, 30/04 and 01/05 holidays: 02/05 Thu (2), 03/05 Fri (3),
     * Sat 04/05 worked (4), Mon 06/05 (5). */
    s_assert_day(cchc_calendar_add_working(cal, s_day("2024-04-25"), 5), "2024-05-06");
    /* 30/08 Fri (1), 02/09 and 03/09 holidays, 04/09 Wed (2), 05/09 Thu (3). */
    s_assert_day(cchc_calendar_add_working(cal, s_day("2024-08-29"), 3), "2024-09-05");
    s_assert_day(cchc_calendar_add_working(cal, s_day("2024-08-29"), 0), "2024-08-29");
    s_assert_day(cchc_calendar_add_working(cal, s_day("2024-09-01"), 0), "2024-09-01");
    s_assert_day(cchc_calendar_add_working(cal, s_day("2024-09-06"), 1), "2024-09-09");

    assert_false(cchc_calendar_is_working(cal, s_day("2024-04-29"))); /* Monday, swap_off */
    assert_false(cchc_calendar_is_working(cal, s_day("2024-09-02"))); /* Monday, holiday */
    assert_true(cchc_calendar_is_working(cal, s_day("2024-05-04")));  /* Saturday, swap_work */
    assert_false(cchc_calendar_is_working(cal, s_day("2024-05-05"))); /* Sunday */
    assert_true(cchc_calendar_is_working(cal, s_day("2024-05-06")));  /* Monday */

    s_assert_day(cchc_calendar_prev_working(cal, s_day("2024-05-01")), "2024-04-26");
    s_assert_day(cchc_calendar_next_working(cal, s_day("2024-04-27")), "2024-05-02");
    s_assert_day(cchc_calendar_prev_working(cal, s_day("2024-05-05")), "2024-05-04");
    s_assert_day(cchc_calendar_next_working(cal, s_day("2024-05-06")), "2024-05-06");
    s_assert_day(cchc_calendar_prev_working(cal, s_day("2024-05-06")), "2024-05-06");

    assert_int_equal(cchc_calendar_count_working(cal, s_day("2024-04-25"), s_day("2024-05-06")), 5);
    assert_int_equal(cchc_calendar_count_working(cal, s_day("2024-05-06"), s_day("2024-04-25")), 0);
    assert_int_equal(cchc_calendar_count_working(cal, s_day("2024-05-06"), s_day("2024-05-06")), 0);
    /* 2024 has 262 weekdays; 12 weekdays off, 1 Saturday worked. */
    assert_int_equal(cchc_calendar_count_working(cal, s_day("2023-12-31"), s_day("2024-12-31")),
                     251);
    /* The arithmetic count agrees with counting day by day, for every start of 2024. */
    cchc_day_t from = s_day("2024-01-01"), to = s_day("2024-12-31");
    for (cchc_day_t a = from - 3; a <= to; a += 1) {
        int n = 0;
        for (cchc_day_t b = a + 1; b <= to + 3; b++) {
            n += cchc_calendar_is_working(cal, b);
            if ((b - a) % 17 == 0 || b == to + 3)
                assert_int_equal(cchc_calendar_count_working(cal, a, b), n);
        }
    }
    /* add_working and count_working are inverse on working days. */
    for (int n = 0; n < 300; n += 7) {
        cchc_day_t d = cchc_calendar_add_working(cal, s_day("2024-01-01"), n);
        assert_int_equal(cchc_calendar_count_working(cal, s_day("2024-01-01"), d), n);
    }
}

static void test_calendar_replace_and_all_holidays(void **state)
{
    (void)state;
    cchc_calendar_t *cal = cchc_calendar_new();
    cchc_day_t mon = s_day("2024-06-03");
    assert_true(cchc_calendar_is_working(cal, mon));
    cchc_calendar_add(cal, mon, CCHC_CAL_HOLIDAY);
    assert_false(cchc_calendar_is_working(cal, mon));
    cchc_calendar_add(cal, mon, CCHC_CAL_SWAP_WORK); /* a later entry replaces */
    assert_true(cchc_calendar_is_working(cal, mon));
    assert_int_equal(cchc_calendar_count_working(cal, mon - 1, mon), 1);

    cchc_cal_kind_t kind = CCHC_CAL_SWAP_WORK;
    assert_int_equal(cchc_cal_kind_parse("holiday", &kind), CCHC_OK);
    assert_int_equal(kind, CCHC_CAL_HOLIDAY);
    assert_int_equal(cchc_cal_kind_parse("swap_off", &kind), CCHC_OK);
    assert_int_equal(kind, CCHC_CAL_SWAP_OFF);
    assert_int_equal(cchc_cal_kind_parse("Holiday", &kind), CCHC_EINVAL);
    assert_int_equal(cchc_cal_kind_parse("", &kind), CCHC_EINVAL);
    assert_int_equal(cchc_cal_kind_parse("swap", &kind), CCHC_EINVAL);

    /* Every day off from 2010 to 2040, added out of order: the searches must give up. */
    cchc_day_t first = s_day("2010-01-01"), last = s_day("2040-12-31");
    for (cchc_day_t d = last; d >= first; d -= 2)
        cchc_calendar_add(cal, d, CCHC_CAL_HOLIDAY);
    for (cchc_day_t d = last - 1; d >= first; d -= 2)
        cchc_calendar_add(cal, d, CCHC_CAL_HOLIDAY);
    cchc_day_t from = s_day("2024-06-01");
    assert_false(cchc_calendar_is_working(cal, mon));
    cchc_day_t got = cchc_calendar_add_working(cal, from, 1);
    assert_true(got > from && got <= from + 3660);
    got = cchc_calendar_next_working(cal, from);
    assert_true(got > from && got <= from + 3660);
    got = cchc_calendar_prev_working(cal, from);
    assert_true(got < from && got >= from - 3660);
    assert_int_equal(cchc_calendar_count_working(cal, from, from + 3000), 0);
    cchc_calendar_destroy(&cal);
}

static void test_due_rule_parse(void **state)
{
    (void)state;
    const struct {
        const char *text;
        cchc_due_kind_t kind;
        int n;
        const char *fixed;
    } good[] = {
        {"wd_after_cutoff", CCHC_DUE_WD_AFTER_CUTOFF, 2, NULL},
        {"wd_after_cutoff:5", CCHC_DUE_WD_AFTER_CUTOFF, 5, NULL},
        {"wd_after_cutoff:0", CCHC_DUE_WD_AFTER_CUTOFF, 0, NULL},
        {"wd_after_cutoff:365", CCHC_DUE_WD_AFTER_CUTOFF, 365, NULL},
        {"day_of_month:20", CCHC_DUE_DAY_OF_MONTH, 20, NULL},
        {"day_of_month:1", CCHC_DUE_DAY_OF_MONTH, 1, NULL},
        {"day_of_month:31", CCHC_DUE_DAY_OF_MONTH, 31, NULL},
        {"wd_after_event", CCHC_DUE_WD_AFTER_EVENT, 15, NULL},
        {"wd_after_event:30", CCHC_DUE_WD_AFTER_EVENT, 30, NULL},
        {"fixed", CCHC_DUE_FIXED, 0, NULL},
        {"fixed:2024-12-31", CCHC_DUE_FIXED, 0, "2024-12-31"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cchc_due_rule_t r;
        assert_int_equal(cchc_due_rule_parse(good[i].text, &r), CCHC_OK);
        assert_int_equal(r.kind, good[i].kind);
        assert_int_equal(r.n, good[i].n);
        if (good[i].fixed)
            s_assert_day(r.fixed, good[i].fixed);
        else
            assert_int_equal(r.fixed, CCHC_DAY_NONE);
    }
    const char *bad[] = {"wd_after_cutoff:",
                         "wd_after_cutoff:366",
                         "wd_after_cutoff:-1",
                         "wd_after_cutoff:+2",
                         "wd_after_cutoff:2x",
                         "wd_after_cutoff 2",
                         "wd_after_cutoffs",
                         "wd_after_cutoff:1000",
                         "day_of_month",
                         "day_of_month:",
                         "day_of_month:0",
                         "day_of_month:32",
                         "wd_after_event:",
                         "wd_after_event:x",
                         "fixed:",
                         "fixed:2024-13-01",
                         "fixed:2024-02-30",
                         "fixed2024-01-01",
                         "fixed:2024-01-01x",
                         "",
                         "daily",
                         "WD_AFTER_CUTOFF",
                         " fixed"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cchc_due_rule_t r = {.n = 99};
        assert_int_equal(cchc_due_rule_parse(bad[i], &r), CCHC_EINVAL);
        assert_int_equal(r.n, 99);
    }
}

static cchc_day_t s_due(const cchc_calendar_t *cal, const char *rule_text, const char *period,
                        cchc_cutoff_t cutoff, cchc_day_t event)
{
    cchc_due_rule_t rule;
    assert_int_equal(cchc_due_rule_parse(rule_text, &rule), CCHC_OK);
    cchc_period_t p;
    if (period)
        p = s_period(period);
    cchc_day_t out = CCHC_DAY_NONE;
    assert_int_equal(cchc_due_date(&rule, cal, period ? &p : NULL, cutoff, event, &out), CCHC_OK);
    return out;
}

static void test_due_dates(void **state)
{
    cchc_calendar_t *cal = *state;
    const cchc_cutoff_t dec = CCHC_CUTOFF_DEC09;
    const cchc_day_t none = CCHC_DAY_NONE;
    /* CCHC_DK in 2024: two working days after the Decree 09 cut-off. */
    s_assert_day(s_due(cal, "wd_after_cutoff:2", "2024Q1", dec, none), "2024-03-18");
    s_assert_day(s_due(cal, "wd_after_cutoff:2", "2024S1", dec, none), "2024-06-18");
    s_assert_day(s_due(cal, "wd_after_cutoff:2", "2024Q3", dec, none), "2024-09-17");
    s_assert_day(s_due(cal, "wd_after_cutoff:2", "2024", dec, none), "2024-12-17");
    s_assert_day(s_due(cal, "wd_after_cutoff", "2024Q1", dec, none), "2024-03-18");
    /* Calendar cut-off: Q1 ends Sun 31/03, then Mon 01/04 (1), Tue 02/04 (2). */
    s_assert_day(s_due(cal, "wd_after_cutoff", "2024Q1", CCHC_CUTOFF_CALENDAR, none), "2024-04-02");
    s_assert_day(s_due(cal, "wd_after_cutoff:0", "2024Q3", dec, none), "2024-09-14");

    /* 2024-06-20 is a Thursday: kept. 2024-09-01 is a Sunday: back to Fri 30/08. */
    s_assert_day(s_due(cal, "day_of_month:20", "2024Q2", dec, none), "2024-06-20");
    s_assert_day(s_due(cal, "day_of_month:1", "2024Q3", dec, none), "2024-08-30");
    /* September has 30 days: 31 clamps to Mon 30/09. */
    s_assert_day(s_due(cal, "day_of_month:31", "2024Q3", dec, none), "2024-09-30");
    /* February 2024: 31 clamps to Thu 29/02; 2023: to Tue 28/02. */
    s_assert_day(s_due(cal, "day_of_month:31", "202402", dec, none), "2024-02-29");
    s_assert_day(s_due(cal, "day_of_month:31", "202302", dec, none), "2023-02-28");
    /* June 2024: 31 clamps to Sun 30/06, moved back to Fri 28/06. */
    s_assert_day(s_due(cal, "day_of_month:31", "202406", dec, none), "2024-06-28");

    /* From Wed 2024-05-15, no holiday in the way: 16 (1), 17 (2), 20 (3), 21 (4), 22 (5),
     * 23 (6), 24 (7), 27 (8), 28 (9), 29 (10), 30 (11), 31 (12), 03/06 (13), 04/06 (14),
     * Wed 05/06 (15). */
    s_assert_day(s_due(cal, "wd_after_event:15", NULL, dec, s_day("2024-05-15")), "2024-06-05");
    s_assert_day(s_due(cal, "wd_after_event", NULL, dec, s_day("2024-05-15")), "2024-06-05");
    s_assert_day(s_due(cal, "wd_after_event:5", NULL, dec, s_day("2024-04-25")), "2024-05-06");

    s_assert_day(s_due(NULL, "fixed:2024-12-31", NULL, dec, none), "2024-12-31");
    s_assert_day(s_due(NULL, "fixed:2024-12-31", NULL, dec, s_day("2024-01-01")), "2024-12-31");
    s_assert_day(s_due(NULL, "fixed", NULL, dec, s_day("2024-07-07")), "2024-07-07");

    /* A rule missing what it needs is refused, and the output untouched. */
    const struct {
        const char *rule;
        int with_period;
    } missing[] = {
        {"wd_after_cutoff", 0}, {"day_of_month:20", 0}, {"wd_after_event", 1}, {"fixed", 1}};
    cchc_period_t q1 = s_period("2024Q1");
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        cchc_due_rule_t rule;
        assert_int_equal(cchc_due_rule_parse(missing[i].rule, &rule), CCHC_OK);
        cchc_day_t out = 42;
        assert_int_equal(
            cchc_due_date(&rule, cal, missing[i].with_period ? &q1 : NULL, dec, none, &out),
            CCHC_EINVAL);
        assert_int_equal(out, 42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_numbers),
        cmocka_unit_test(test_day_parse),
        cmocka_unit_test(test_instants),
        cmocka_unit_test(test_period_parse),
        cmocka_unit_test(test_cutoff_ranges),
        cmocka_unit_test_setup_teardown(test_calendar_2024, s_setup, s_teardown),
        cmocka_unit_test(test_calendar_replace_and_all_holidays),
        cmocka_unit_test(test_due_rule_parse),
        cmocka_unit_test_setup_teardown(test_due_dates, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
