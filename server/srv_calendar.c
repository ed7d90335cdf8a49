/* srv_calendar.c: the calendar_days table as a cchc_calendar_t (see
 * srv_calendar.h). */
#include "srv_calendar.h"

cchc_calendar_t *srv_calendar_from_result(const PGresult *r)
{
    cchc_calendar_t *cal = cchc_calendar_new();
    for (int i = 0; i < PQntuples(r); i++) {
        cchc_day_t day;
        cchc_cal_kind_t kind;
        if (cchc_day_parse(PQgetvalue(r, i, 0), &day) == 0 &&
            cchc_cal_kind_parse(PQgetvalue(r, i, 1), &kind) == 0)
            cchc_calendar_add(cal, day, kind);
    }
    return cal;
}
