/* cchc_wire.h: the only code that packs and unpacks the wire contract.
 *
 * Untrusted bytes are bounded before they are parsed: the frame size is
 * checked first, strings are checked on the raw bytes for valid UTF-8 and
 * embedded NULs (protobuf-c would silently cut a string at a NUL), and the
 * unpack runs on an allocator with a byte budget. A body kind this build does
 * not know is answered as "unsupported", never a crash. */
#ifndef CCHC_WIRE_H
#define CCHC_WIRE_H

#include "cchc/v1/cchc.pb-c.h"
#include "cchc_findings.h"

#include <stddef.h>
#include <stdint.h>

#define CCHC_WIRE_PROTOCOL_VERSION 1
/* Default largest frame, both ways; servers and agents may configure less. */
#define CCHC_WIRE_MAX_FRAME_DEFAULT (1024 * 1024)
/* Memory the decoder may use, as a multiple of the frame size (+ slack). */
#define CCHC_WIRE_BUDGET_FACTOR 32

typedef Cchc__V1__Envelope cchc_envelope_t;

/* Packs env into a new malloc'd buffer (*buf_p, *len_p: caller frees).
 * Returns 0, or CCHC_EENCODING if a string in env is not valid UTF-8. */
int cchc_wire_encode(const cchc_envelope_t *env, uint8_t **buf_p, size_t *len_p);

/* Decodes one frame. Returns:
 *   0                 *env_p set, body known, protocol version 1;
 *   CCHC_ETOOBIG      len > max_len (nothing parsed);
 *   CCHC_EMALFORMED   not a valid Envelope (truncated, garbage, over budget);
 *   CCHC_EENCODING    a string with invalid UTF-8 or an embedded NUL;
 *   CCHC_EUNSUPPORTED decoded, but the body kind or version is unknown:
 *                     *env_p IS set so the caller can answer by msg_id.
 * err (may be NULL) gets a one-line English reason. Free with cchc_wire_free. */
int cchc_wire_decode(const uint8_t *buf, size_t len, size_t max_len, cchc_envelope_t **env_p,
                     char *err, size_t errlen);

/* Frees a decoded envelope; accepts NULL and sets *env_p to NULL. */
void cchc_wire_free(cchc_envelope_t **env_p);

/* Builders for answers. Each returns a packed frame (caller frees *buf_p). */
int cchc_wire_pack_ack(const char *unit, uint64_t epoch, uint64_t msg_id, int64_t report_id,
                       int duplicate, const cchc_findings_t *warnings, uint8_t **buf_p,
                       size_t *len_p);
int cchc_wire_pack_nack(const char *unit, uint64_t epoch, uint64_t msg_id,
                        Cchc__V1__NackReason reason, const char *detail,
                        const cchc_findings_t *findings, uint8_t **buf_p, size_t *len_p);

/* Packs a report alone (what the agent's outbox and the server's payload
 * column keep). Caller frees *buf_p. 0 or CCHC_EENCODING. */
int cchc_wire_pack_report(const Cchc__V1__Report *r, uint8_t **buf_p, size_t *len_p);
/* Unpacks a report packed by cchc_wire_pack_report, with the same checks as
 * cchc_wire_decode. Free with cchc_report_free (plain malloc blocks). */
int cchc_wire_unpack_report(const uint8_t *buf, size_t len, size_t max_len, Cchc__V1__Report **out,
                            char *err, size_t errlen);

/* Where the Report of an envelope frame lies in it (the bytes of field
 * `report`, as sent): *off and *n. 0, or CCHC_EINVAL when the frame has no
 * report, or more than one (protobuf merges repeated submessages: the bytes
 * of one would not be the report decoded), or is not well formed. */
int cchc_wire_report_bytes(const uint8_t *frame, size_t len, size_t *off, size_t *n);

/* Appends the findings of a decoded Ack or Nack to f. */
void cchc_wire_findings_append(cchc_findings_t *f, Cchc__V1__Finding *const *v, size_t n);

/* Stable name of a Nack reason: "UNIT_MISMATCH", "BUSY", ...; "UNSPECIFIED"
 * for a value this build does not know (a newer peer's). */
const char *cchc_wire_nack_reason_name(Cchc__V1__NackReason r);
/* True when the same message may be sent again as it is, later (BUSY).
 * Every other reason, an unknown one included, is permanent for that
 * message as sent. */
int cchc_wire_nack_is_transient(Cchc__V1__NackReason r);

/* True when s[0..len) is valid UTF-8 without a NUL. */
int cchc_wire_text_ok(const char *s, size_t len);

#endif
