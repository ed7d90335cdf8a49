/* tclient.h: what tclient.c (the modes) and tclient_fuzz.c (--fuzz) share.
 * Integration tests only. */
#ifndef TCLIENT_H
#define TCLIENT_H

#include "cchc_report.h"
#include "cchc_wire.h"

#include <stddef.h>
#include <stdint.h>

/* A protobuf varint of v into out (10 bytes at most); its length. */
size_t tc_varint_put(uint8_t *out, uint64_t v);
/* One "FINDING code=... path=..." line per finding. */
void tc_print_findings(Cchc__V1__Finding *const *v, size_t n);
/* --fuzz N --seed S over the connected DEALER sock (mon: its monitor);
 * prints the FUZZ summary line; 0 when every owed answer came and the
 * final report got its verdict (see tclient_fuzz.c). */
int tc_fuzz_run(void *sock, void *mon, const cchc_report_t *report, const char *unit,
                uint64_t epoch, long n, uint64_t seed, int timeout);

#endif
