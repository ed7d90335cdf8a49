/* cchc_wire.c: pack and unpack the wire contract (see cchc_wire.h).
 *
 * Decoding is three steps, cheapest first:
 *   1. size: a frame over max_len is refused before any byte is read;
 *   2. scan: the raw bytes are walked against the message descriptors; every
 *      length-delimited string field must be valid UTF-8 without NUL (after
 *      protobuf-c's unpack a NUL would silently cut the string), tags and
 *      lengths must stay inside the buffer, nesting is bounded;
 *   3. unpack with an allocator that refuses to go over a byte budget
 *      proportional to the frame, so a small frame cannot make us allocate a
 *      large amount (a repeated field claiming millions of entries).
 * The scan costs one pass over the frame; the frame is small and the pass
 * saves walking the unpacked tree. */
#include "cchc_wire.h"
#include "cchc_err.h"
#include "cchc_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_DEPTH 16

/* ---- budgeted allocator -------------------------------------------------- */

typedef struct {
    size_t used, budget;
} s_budget_t;

static void *s_budget_alloc(void *data, size_t size)
{
    s_budget_t *b = data;
    if (size > b->budget - b->used)
        return NULL;
    b->used += size;
    return malloc(size);
}

static void s_budget_free(void *data, void *p)
{
    free(p); /* blocks are plain malloc: protobuf_c_message_free_unpacked(m, NULL) works */
}

/* ---- UTF-8 ------------------------------------------------------------------ */

int cchc_wire_text_ok(const char *s, size_t len)
{
    /* Well-formed UTF-8 as RFC 3629 has it (no overlong form, no surrogate,
     * nothing past U+10FFFF), and no NUL: what utf8proc_iterate accepts, a
     * byte at a time without a call per character (a periodic report's
     * Vietnamese texts went through utf8proc_iterate character by character:
     * 8 % of the server's time on periodic ingest, cchc-bench). The unit
     * test compares the two on every sequence of up to three bytes. */
    if (len == 0)
        return 1; /* (and s may be NULL: no arithmetic on it) */
    const unsigned char *p = (const unsigned char *)s, *e = p + len;
    while (p < e) {
        unsigned c = *p;
        if (c < 0x80) {
            if (!c)
                return 0;
            p++;
            continue;
        }
        size_t n = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
        if (!n || (size_t)(e - p) < n)
            return 0;
        for (size_t k = 1; k < n; k++)
            if ((p[k] & 0xC0) != 0x80)
                return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0) ||
            (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
            return 0;
        p += n;
    }
    return 1;
}

/* ---- raw scan ----------------------------------------------------------------- */

static int s_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return -1;
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static int s_scan(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                  int depth, char *err, size_t errlen)
{
    if (depth > S_MAX_DEPTH) {
        snprintf(err, errlen, "nesting deeper than %d", S_MAX_DEPTH);
        return CCHC_EMALFORMED;
    }
    while (p < end) {
        uint64_t key, len, skip;
        if (s_varint(&p, end, &key) != 0) {
            snprintf(err, errlen, "truncated tag in %s", d->short_name);
            return CCHC_EMALFORMED;
        }
        uint32_t field = (uint32_t)(key >> 3);
        if (field == 0 || key >> 3 > 0x1fffffff) {
            snprintf(err, errlen, "invalid field number in %s", d->short_name);
            return CCHC_EMALFORMED;
        }
        switch (key & 7) {
        case 0:
            if (s_varint(&p, end, &skip) != 0) {
                snprintf(err, errlen, "truncated varint in %s", d->short_name);
                return CCHC_EMALFORMED;
            }
            break;
        case 1:
        case 5: {
            size_t w = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < w) {
                snprintf(err, errlen, "truncated fixed field in %s", d->short_name);
                return CCHC_EMALFORMED;
            }
            p += w;
            break;
        }
        case 2: {
            if (s_varint(&p, end, &len) != 0 || len > (uint64_t)(end - p)) {
                snprintf(err, errlen, "truncated length-delimited field in %s", d->short_name);
                return CCHC_EMALFORMED;
            }
            const ProtobufCFieldDescriptor *fd =
                protobuf_c_message_descriptor_get_field(d, (unsigned)field);
            if (fd && fd->type == PROTOBUF_C_TYPE_STRING &&
                !cchc_wire_text_ok((const char *)p, (size_t)len)) {
                snprintf(err, errlen, "field %s.%s is not valid UTF-8 or holds a NUL",
                         d->short_name, fd->name);
                return CCHC_EENCODING;
            }
            if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
                int rc = s_scan(fd->descriptor, p, p + len, depth + 1, err, errlen);
                if (rc != CCHC_OK)
                    return rc;
            }
            p += len;
            break;
        }
        default:
            snprintf(err, errlen, "unsupported wire type %u in %s", (unsigned)(key & 7),
                     d->short_name);
            return CCHC_EMALFORMED;
        }
    }
    return CCHC_OK;
}

static int s_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                    size_t max_len, ProtobufCMessage **out, char *err, size_t errlen)
{
    char tmp[160];
    if (!err) {
        err = tmp;
        errlen = sizeof tmp;
    }
    *out = NULL;
    if (len > max_len) {
        snprintf(err, errlen, "frame of %zu bytes is over the limit of %zu", len, max_len);
        return CCHC_ETOOBIG;
    }
    int rc = s_scan(d, buf, buf + len, 0, err, errlen);
    if (rc != CCHC_OK)
        return rc;
    s_budget_t budget = {0, len * CCHC_WIRE_BUDGET_FACTOR + 4096};
    ProtobufCAllocator alloc = {s_budget_alloc, s_budget_free, &budget};
    *out = protobuf_c_message_unpack(d, &alloc, len, buf);
    if (!*out) {
        snprintf(err, errlen, "not a valid %s (or over the decoding budget)", d->short_name);
        return CCHC_EMALFORMED;
    }
    return CCHC_OK;
}

/* ---- public API --------------------------------------------------------------- */

int cchc_wire_decode(const uint8_t *buf, size_t len, size_t max_len, cchc_envelope_t **env_p,
                     char *err, size_t errlen)
{
    ProtobufCMessage *m;
    int rc = s_unpack(&cchc__v1__envelope__descriptor, buf, len, max_len, &m, err, errlen);
    *env_p = (cchc_envelope_t *)m;
    if (rc != CCHC_OK)
        return rc;
    cchc_envelope_t *env = *env_p;
    if (env->protocol_version != CCHC_WIRE_PROTOCOL_VERSION) {
        if (err)
            snprintf(err, errlen, "unsupported protocol version %u (this build speaks %d)",
                     env->protocol_version, CCHC_WIRE_PROTOCOL_VERSION);
        return CCHC_EUNSUPPORTED;
    }
    switch (env->body_case) {
    case CCHC__V1__ENVELOPE__BODY_HELLO:
    case CCHC__V1__ENVELOPE__BODY_REPORT:
    case CCHC__V1__ENVELOPE__BODY_ACK:
    case CCHC__V1__ENVELOPE__BODY_NACK:
    case CCHC__V1__ENVELOPE__BODY_META_REQUEST:
    case CCHC__V1__ENVELOPE__BODY_META:
    case CCHC__V1__ENVELOPE__BODY_META_CHANGED:
    case CCHC__V1__ENVELOPE__BODY_NOTIFICATION:
    case CCHC__V1__ENVELOPE__BODY_NOTIFICATION_ACK:
    case CCHC__V1__ENVELOPE__BODY_REPLAY:
    case CCHC__V1__ENVELOPE__BODY_REPLAY_END:
        break;
    default:
        if (err)
            snprintf(err, errlen, "unsupported message body (unknown to protocol version %d)",
                     CCHC_WIRE_PROTOCOL_VERSION);
        return CCHC_EUNSUPPORTED;
    }
    if (env->body_case == CCHC__V1__ENVELOPE__BODY_REPORT &&
        env->report->content_case == CCHC__V1__REPORT__CONTENT__NOT_SET &&
        env->report->base.n_unknown_fields > 0) {
        if (err)
            snprintf(err, errlen, "unsupported report content kind");
        return CCHC_EUNSUPPORTED;
    }
    return CCHC_OK;
}

void cchc_wire_free(cchc_envelope_t **env_p)
{
    if (!env_p || !*env_p)
        return;
    protobuf_c_message_free_unpacked(&(*env_p)->base, NULL);
    *env_p = NULL;
}

/* Every string reachable from m is valid UTF-8 (walks the unpacked tree). */
static int s_strings_ok(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        const char *base = (const char *)m;
        if (fd->type != PROTOBUF_C_TYPE_STRING && fd->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t qcase = *(const uint32_t *)(const void *)(base + fd->quantifier_offset);
            if (qcase != fd->id)
                continue;
        }
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(const void *)(base + fd->quantifier_offset);
            void *const *arr = *(void *const *const *)(const void *)(base + fd->offset);
            for (size_t k = 0; k < n; k++) {
                if (fd->type == PROTOBUF_C_TYPE_STRING) {
                    const char *s = arr[k];
                    if (s && !cchc_wire_text_ok(s, strlen(s)))
                        return 0;
                } else if (arr[k] && !s_strings_ok(arr[k])) {
                    return 0;
                }
            }
            continue;
        }
        const void *v = *(const void *const *)(const void *)(base + fd->offset);
        if (!v)
            continue;
        if (fd->type == PROTOBUF_C_TYPE_STRING) {
            if (!cchc_wire_text_ok(v, strlen(v)))
                return 0;
        } else if (!s_strings_ok(v)) {
            return 0;
        }
    }
    return 1;
}

static int s_pack(const ProtobufCMessage *m, uint8_t **buf_p, size_t *len_p)
{
    if (!s_strings_ok(m))
        return CCHC_EENCODING;
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = cchc_malloc(len);
    protobuf_c_message_pack(m, buf);
    *buf_p = buf;
    *len_p = len;
    return CCHC_OK;
}

int cchc_wire_encode(const cchc_envelope_t *env, uint8_t **buf_p, size_t *len_p)
{
    return s_pack(&env->base, buf_p, len_p);
}

int cchc_wire_pack_report(const Cchc__V1__Report *r, uint8_t **buf_p, size_t *len_p)
{
    return s_pack(&r->base, buf_p, len_p);
}

int cchc_wire_unpack_report(const uint8_t *buf, size_t len, size_t max_len, Cchc__V1__Report **out,
                            char *err, size_t errlen)
{
    ProtobufCMessage *m;
    int rc = s_unpack(&cchc__v1__report__descriptor, buf, len, max_len, &m, err, errlen);
    *out = (Cchc__V1__Report *)m;
    return rc;
}

/* Borrowed views of findings as protobuf messages, for packing only. */
static Cchc__V1__Finding **s_findings_view(const cchc_findings_t *f, Cchc__V1__Finding **store)
{
    if (!f || f->n == 0)
        return NULL;
    Cchc__V1__Finding *items = cchc_calloc(f->n, sizeof *items);
    Cchc__V1__Finding **ptrs = cchc_calloc(f->n, sizeof *ptrs);
    for (size_t i = 0; i < f->n; i++) {
        cchc__v1__finding__init(&items[i]);
        items[i].code = f->v[i].code;
        items[i].path = f->v[i].path;
        items[i].message_vi = f->v[i].msg_vi;
        items[i].message_en = f->v[i].msg_en;
        ptrs[i] = &items[i];
    }
    *store = items;
    return ptrs;
}

int cchc_wire_pack_ack(const char *unit, uint64_t epoch, uint64_t msg_id, int64_t report_id,
                       int duplicate, const cchc_findings_t *warnings, uint8_t **buf_p,
                       size_t *len_p)
{
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    Cchc__V1__Ack ack = CCHC__V1__ACK__INIT;
    Cchc__V1__Finding *store = NULL;
    env.protocol_version = CCHC_WIRE_PROTOCOL_VERSION;
    env.unit = (char *)(unit ? unit : "");
    env.agent_epoch = epoch;
    env.msg_id = msg_id;
    env.body_case = CCHC__V1__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    ack.agent_epoch = epoch;
    ack.msg_id = msg_id;
    ack.report_id = report_id;
    ack.duplicate = duplicate ? 1 : 0;
    ack.warnings = s_findings_view(warnings, &store);
    ack.n_warnings = ack.warnings ? warnings->n : 0;
    int rc = cchc_wire_encode(&env, buf_p, len_p);
    free(ack.warnings);
    free(store);
    return rc;
}

int cchc_wire_pack_nack(const char *unit, uint64_t epoch, uint64_t msg_id,
                        Cchc__V1__NackReason reason, const char *detail,
                        const cchc_findings_t *findings, uint8_t **buf_p, size_t *len_p)
{
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    Cchc__V1__Nack nack = CCHC__V1__NACK__INIT;
    Cchc__V1__Finding *store = NULL;
    env.protocol_version = CCHC_WIRE_PROTOCOL_VERSION;
    env.unit = (char *)(unit ? unit : "");
    env.agent_epoch = epoch;
    env.msg_id = msg_id;
    env.body_case = CCHC__V1__ENVELOPE__BODY_NACK;
    env.nack = &nack;
    nack.agent_epoch = epoch;
    nack.msg_id = msg_id;
    nack.reason = reason;
    nack.detail = (char *)(detail ? detail : "");
    nack.findings = s_findings_view(findings, &store);
    nack.n_findings = nack.findings ? findings->n : 0;
    int rc = cchc_wire_encode(&env, buf_p, len_p);
    free(nack.findings);
    free(store);
    return rc;
}

void cchc_wire_findings_append(cchc_findings_t *f, Cchc__V1__Finding *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i])
            cchc_findings_add(f, v[i]->code, v[i]->path, v[i]->message_vi, v[i]->message_en);
}

const char *cchc_wire_nack_reason_name(Cchc__V1__NackReason r)
{
    switch (r) {
    case CCHC__V1__NACK_REASON__NACK_UNIT_MISMATCH:
        return "UNIT_MISMATCH";
    case CCHC__V1__NACK_REASON__NACK_INVALID:
        return "INVALID";
    case CCHC__V1__NACK_REASON__NACK_UNSUPPORTED:
        return "UNSUPPORTED";
    case CCHC__V1__NACK_REASON__NACK_MALFORMED:
        return "MALFORMED";
    case CCHC__V1__NACK_REASON__NACK_BUSY:
        return "BUSY";
    case CCHC__V1__NACK_REASON__NACK_UNKNOWN_UNIT:
        return "UNKNOWN_UNIT";
    case CCHC__V1__NACK_REASON__NACK_KEY_REVOKED:
        return "KEY_REVOKED";
    default:
        return "UNSPECIFIED";
    }
}

int cchc_wire_nack_is_transient(Cchc__V1__NackReason r)
{
    return r == CCHC__V1__NACK_REASON__NACK_BUSY;
}

int cchc_wire_report_bytes(const uint8_t *frame, size_t len, size_t *off, size_t *n)
{
    const uint8_t *p = frame, *end = frame + len;
    size_t found = 0;
    while (p < end) {
        uint64_t tag, v;
        if (s_varint(&p, end, &tag) != 0)
            return CCHC_EINVAL;
        switch (tag & 7) {
        case 0:
            if (s_varint(&p, end, &v) != 0)
                return CCHC_EINVAL;
            break;
        case 1:
            if (end - p < 8)
                return CCHC_EINVAL;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return CCHC_EINVAL;
            p += 4;
            break;
        case 2:
            if (s_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p))
                return CCHC_EINVAL;
            if ((tag >> 3) == CCHC__V1__ENVELOPE__BODY_REPORT) {
                *off = (size_t)(p - frame);
                *n = (size_t)v;
                found++;
            }
            p += v;
            break;
        default:
            return CCHC_EINVAL;
        }
    }
    return found == 1 ? CCHC_OK : CCHC_EINVAL;
}
