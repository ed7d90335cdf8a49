/* srv_calendar.h: the working-day calendar (common/cchc_period.h) as the
 * database keeps it (calendar_days), for the server's scheduler and the CLI.
 *
 * One query and one reader, so that every program that counts working days
 * from the database reads the calendar the same way. */
#ifndef SRV_CALENDAR_H
#define SRV_CALENDAR_H

#include "cchc_period.h"

#include <libpq-fe.h>

/* The query whose result srv_calendar_from_result reads. */
#define SRV_CALENDAR_SQL "SELECT cchc_ymd(day), kind FROM calendar_days ORDER BY day"

/* The calendar of a SRV_CALENDAR_SQL result (rows that do not parse, which
 * the table's CHECKs prevent, are skipped). The caller destroys it. */
cchc_calendar_t *srv_calendar_from_result(const PGresult *r);

#endif
