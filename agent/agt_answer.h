/* agt_answer.h: what the server's answer to a report does to it.
 *
 * Split from agt_link.c, which owns the socket and hands each Ack and Nack
 * here. An answer is for a report in the window (this epoch, its msg_id),
 * else it is a late duplicate and ignored. What it does to the report's row
 * in the outbox, and whether the report leaves the window:
 *
 *   answer                                    row             window
 *   ----------------------------------------  --------------  ---------------------------
 *   Ack (new or duplicate), its warnings      delivered       removed
 *   Nack BUSY (transient)                     unchanged       resent after a backoff
 *   Nack KEY_REVOKED                          held            removed (requeued at a
 *                                                             start with another key)
 *   Nack whose only errors are E007, while a  superseded      removed
 *   newer revision of the key is stored
 *   any other Nack, its findings              refused         removed
 *
 * An outbox error leaves the row queued and in the window: it is resent and
 * answered again. A KEY_REVOKED (also for Hello or MetaRequest, msg_id 0) is
 * said once per connection, in the log and as status's last error. */
#ifndef AGT_ANSWER_H
#define AGT_ANSWER_H

#include "agt_outbox.h"
#include "agt_window.h"

#include "cchc/v1/cchc.pb-c.h"

#include <stdint.h>

typedef struct agt_answer_t agt_answer_t;

/* win, outbox and public_key are borrowed and must outlive it. */
agt_answer_t *agt_answer_new(uint64_t epoch, agt_window_t *win, agt_outbox_t *outbox,
                             const char *public_key);
/* Accepts NULL and sets *self_p to NULL. */
void agt_answer_destroy(agt_answer_t **self_p);
void agt_answer_ack(agt_answer_t *self, const Cchc__V1__Ack *ack);
void agt_answer_nack(agt_answer_t *self, const Cchc__V1__Nack *nack);
/* A new connection: a key refusal on it is said again. */
void agt_answer_connected(agt_answer_t *self);
/* A KEY_REVOKED came this run. */
int agt_answer_key_revoked(const agt_answer_t *self);

#endif
