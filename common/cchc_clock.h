/* cchc_clock.h: the one source of "now".
 *
 * Instants are int64 milliseconds since the Unix epoch, UTC. Tests set the
 * clock with cchc_clock_set() or the CCHC_CLOCK environment variable
 * ("2024-09-18T08:00:00+07:00" or milliseconds), so deadline logic is tested
 * without sleeping. Monotonic time (timeouts) is separate and never faked. */
#ifndef CCHC_CLOCK_H
#define CCHC_CLOCK_H

#include <stdint.h>

/* Wall-clock now, in ms since the epoch (or the injected time). */
int64_t cchc_clock_now_ms(void);
/* Monotonic ms, for timeouts and intervals. */
int64_t cchc_clock_mono_ms(void);
/* Fixes the wall clock at ms; 0 returns to the real clock. */
void cchc_clock_set(int64_t ms);
/* Parses "YYYY-MM-DDTHH:MM:SS[.mmm](Z|+HH:MM|-HH:MM)" or an integer of ms.
 * Returns 0 or CCHC_EINVAL. */
int cchc_clock_parse(const char *text, int64_t *ms_out);
/* Offset of Asia/Ho_Chi_Minh from UTC (no daylight saving time). */
#define CCHC_CLOCK_VN_OFFSET_MS (7LL * 3600 * 1000)
/* Formats ms as Vietnam civil time "YYYY-MM-DD HH:MM:SS +07" (at least 24 bytes). */
void cchc_clock_format_local(int64_t ms, char *buf, unsigned long len);
/* Formats ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least 25 bytes). */
void cchc_clock_format_utc(int64_t ms, char *buf, unsigned long len);

#endif
