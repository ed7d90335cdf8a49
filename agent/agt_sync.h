/* agt_sync.h: the unit's metadata, synced from the district server.
 *
 * The server keeps, per unit, one JSON document (the report types the unit
 * must submit, the working-day calendar, its open inspections and its tasks:
 * the context document of cchc_validate.h). The daemon asks for it after every
 * handshake, every 10 minutes while connected (30 s while a request is
 * unanswered), whenever the server says it changed, and on demand
 * (`cchc-agent sync`); the document is stored in the outbox (agt_outbox_meta_*) so that
 * submit, template, inspections and tasks work offline.
 *
 * Two halves: the sync state machine, driven by agt_link (which owns the
 * socket and sends what this module asks for), and read helpers for the
 * officer commands. */
#ifndef AGT_SYNC_H
#define AGT_SYNC_H

#include "agt_config.h"
#include "agt_outbox.h"

#include "cchc/v1/cchc.pb-c.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the daemon side --------------------------------------------------------- */

typedef struct agt_sync_t agt_sync_t;

/* outbox is borrowed and must outlive the sync. Reads the stored version. */
agt_sync_t *agt_sync_new(agt_outbox_t *outbox);
/* Accepts NULL and sets *self_p to NULL. */
void agt_sync_destroy(agt_sync_t **self_p);

/* The version a MetaRequest carries: the stored one, 0 when none. Versions
 * are shown as 16 hex digits, as the server logs them. */
uint64_t agt_sync_version(const agt_sync_t *self);
/* Monotonic ms at which a MetaRequest is due; INT64_MAX while disconnected. */
int64_t agt_sync_due(const agt_sync_t *self);
/* The link connected (now, monotonic): a request is due at once (after Hello). */
void agt_sync_connected(agt_sync_t *self, int64_t now);
/* The link lost the server: nothing is due until the next handshake. */
void agt_sync_disconnected(agt_sync_t *self);
/* A MetaRequest went out at now: the next one is due in 10 minutes, or in
 * 30 s if this one is not answered (the server could not read its database). */
void agt_sync_requested(agt_sync_t *self, int64_t now);
/* The socket would not take the request: try again at `when`. */
void agt_sync_defer(agt_sync_t *self, int64_t when);
/* What the last Meta of this run did (AGT_SYNC_NONE before one came). */
enum {
    AGT_SYNC_NONE = 0,      /* no answer yet */
    AGT_SYNC_SAVED = 1,     /* a new document was stored */
    AGT_SYNC_UNCHANGED = 2, /* the server said the stored one is current */
    AGT_SYNC_REJECTED = 3,  /* the document did not parse or validate: the old one stays */
    AGT_SYNC_FAILED = 4,    /* the outbox could not store it */
};
int agt_sync_outcome(const agt_sync_t *self);
/* Answers from the server. A document that does not parse or that validation
 * does not accept is logged and dropped; the stored one stays. */
void agt_sync_handle_meta(agt_sync_t *self, const Cchc__V1__Meta *meta);
void agt_sync_handle_changed(agt_sync_t *self, const Cchc__V1__MetaChanged *changed, int64_t now);

/* ---- the officer side ---------------------------------------------------------- */

/* Parses a metadata document: a JSON object that cchc_vctx_new accepts.
 * 0 with *doc_p (new reference), or CCHC_EINVAL with the reason in err. */
int agt_sync_parse(const char *text, size_t len, json_t **doc_p, char *err, size_t errlen);

/* The stored document, opened from cfg's outbox. 0 with *doc_p (new
 * reference); CCHC_ENOTFOUND when nothing was ever synced; another code
 * (the officer was told why, on stderr) when the outbox cannot be read or
 * the stored document no longer parses. version and synced_at may be NULL. */
int agt_sync_load(const agt_config_t *cfg, json_t **doc_p, uint64_t *version, int64_t *synced_at);

/* Prints (to f) that the district's data was never synced, and how to get it. */
void agt_sync_print_never_synced(FILE *f);

/* The report type the unit submits for a content kind ("periodic", ...): the
 * first type of that kind marked assigned, else the first of that kind.
 * Borrowed from doc; NULL when doc has none. */
const json_t *agt_sync_type_for(const json_t *doc, const char *kind);

/* 1 when the inspection is the unit's and not closed. */
int agt_sync_inspection_open(const json_t *inspection, const char *unit);

enum { AGT_ROLE_NONE = 0, AGT_ROLE_LEAD = 1, AGT_ROLE_SUPPORT = 2 };
/* The unit's role in a task: named (or its kind, "@commune") among the lead
 * units, among the supporting units, or only marked assigned (support). */
int agt_sync_task_role(const json_t *doc, const json_t *task, const char *unit);

/* A member of an object as a string, or dflt (borrowed). */
const char *agt_sync_str(const json_t *obj, const char *key, const char *dflt);

#endif
