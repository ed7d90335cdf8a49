/* tclient_fuzz.c: `cchc-tclient --fuzz N --seed S`: N random and mutated
 * frames from an authenticated agent, deterministic from the seed, with a
 * bounded window of unanswered frames; see tc_fuzz_run. Tests only. */
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_keys.h"
#include "cchc_report.h"
#include "cchc_wire.h"
#include "tclient.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* Frames sent and not yet answered, at most: far below the server's
 * per-connection cap (peer_max_inflight, 1000 by default), so that the
 * server judges every frame instead of answering BUSY. */
#define S_FUZZ_WINDOW 200
/* Largest purely random frame. */
#define S_FUZZ_RANDOM_MAX 4096

/* ---- fuzz: generator ---------------------------------------------------------------- */

typedef struct {
    uint64_t s;
} s_rng_t;

/* xorshift64*, seeded through splitmix64 so that any seed (0 too) works:
 * the same seed makes the same frames on every machine. */
static void s_rng_seed(s_rng_t *r, uint64_t seed)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    r->s = z ? z : 0x2545f4914f6cdd1dULL;
}

static uint64_t s_rng_next(s_rng_t *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dULL;
}

/* Uniform enough in [0, n), n > 0. */
static uint64_t s_rng_below(s_rng_t *r, uint64_t n)
{
    return s_rng_next(r) % n;
}

typedef struct {
    uint8_t *p;
    size_t len, cap;
} s_buf_t;

static void s_buf_reserve(s_buf_t *b, size_t need)
{
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    b->cap = cap;
}

static void s_buf_set(s_buf_t *b, const uint8_t *p, size_t len)
{
    s_buf_reserve(b, len);
    if (len)
        memcpy(b->p, p, len);
    b->len = len;
}

/* Replaces b[at, at+del) with ins[0..n). */
static void s_buf_splice(s_buf_t *b, size_t at, size_t del, const uint8_t *ins, size_t n)
{
    s_buf_reserve(b, b->len - del + n);
    memmove(b->p + at + n, b->p + at + del, b->len - at - del);
    if (n)
        memcpy(b->p + at, ins, n);
    b->len = b->len - del + n;
}

/* Where the length prefixes of length-delimited fields are in a frame, as
 * far as it can be walked (a broken frame stops the walk, not the fuzz). */
typedef struct {
    size_t at, width;
    uint64_t len;
} s_lenfield_t;

#define S_MAX_LENFIELDS 512

static int s_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static void s_walk(const ProtobufCMessageDescriptor *d, const uint8_t *base, const uint8_t *p,
                   const uint8_t *end, s_lenfield_t *out, size_t *n, int depth)
{
    while (p < end && *n < S_MAX_LENFIELDS && depth < 16) {
        uint64_t key, v;
        if (s_varint_get(&p, end, &key) != 0)
            return;
        switch (key & 7) {
        case 0:
            if (s_varint_get(&p, end, &v) != 0)
                return;
            break;
        case 1:
        case 5: {
            size_t w = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < w)
                return;
            p += w;
            break;
        }
        case 2: {
            const uint8_t *at = p;
            if (s_varint_get(&p, end, &v) != 0 || v > (uint64_t)(end - p))
                return;
            out[(*n)++] = (s_lenfield_t){(size_t)(at - base), (size_t)(p - at), v};
            const ProtobufCFieldDescriptor *fd =
                d ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3)) : NULL;
            if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE)
                s_walk(fd->descriptor, base, p, p + v, out, n, depth + 1);
            p += v;
            break;
        }
        default:
            return;
        }
    }
}

/* One random change to a frame: a bit, a byte, its length, a run of bytes,
 * or a length prefix set to a value the bytes cannot hold. */
static void s_mutate(s_rng_t *r, s_buf_t *b)
{
    static const uint8_t specials[] = {0x00, 0xff, 0x80, 0x7f, 0x01};
    uint8_t run[256];
    switch (s_rng_below(r, 8)) {
    case 0: /* bit flip */
        if (b->len)
            b->p[s_rng_below(r, b->len)] ^= (uint8_t)(1u << s_rng_below(r, 8));
        break;
    case 1: /* byte overwrite */
        if (b->len)
            b->p[s_rng_below(r, b->len)] = specials[s_rng_below(r, sizeof specials)];
        break;
    case 2: /* truncation */
        b->len = b->len ? (size_t)s_rng_below(r, b->len) : 0;
        break;
    case 3: { /* insertion of a run, random or one byte repeated */
        size_t n = 1 + (size_t)s_rng_below(r, sizeof run);
        uint8_t fill = specials[s_rng_below(r, sizeof specials)];
        int random = s_rng_below(r, 2) == 0;
        for (size_t i = 0; i < n; i++)
            run[i] = random ? (uint8_t)s_rng_next(r) : fill;
        s_buf_splice(b, (size_t)s_rng_below(r, b->len + 1), 0, run, n);
        break;
    }
    case 4: { /* deletion of a run */
        if (!b->len)
            break;
        size_t at = (size_t)s_rng_below(r, b->len);
        size_t n = 1 + (size_t)s_rng_below(r, b->len - at < 512 ? b->len - at : 512);
        s_buf_splice(b, at, n, NULL, 0);
        break;
    }
    case 5: { /* a chunk of the frame duplicated elsewhere in it */
        if (!b->len)
            break;
        size_t from = (size_t)s_rng_below(r, b->len);
        size_t n = 1 + (size_t)s_rng_below(r, b->len - from < 1024 ? b->len - from : 1024);
        uint8_t *copy = malloc(n);
        memcpy(copy, b->p + from, n);
        s_buf_splice(b, (size_t)s_rng_below(r, b->len + 1), 0, copy, n);
        free(copy);
        break;
    }
    case 6:
    case 7: { /* a length prefix set huge, zero or off by one */
        s_lenfield_t f[S_MAX_LENFIELDS];
        size_t n = 0;
        s_walk(&cchc__v1__envelope__descriptor, b->p, b->p, b->p + b->len, f, &n, 0);
        if (!n)
            break;
        const s_lenfield_t *x = &f[s_rng_below(r, n)];
        uint64_t values[] = {UINT64_MAX,
                             (uint64_t)INT64_MAX + 1,
                             0xffffffffULL,
                             0x7fffffffULL,
                             0x100000000ULL,
                             x->len + 1,
                             x->len ? x->len - 1 : 1,
                             0,
                             x->len * 2 + 1000};
        uint8_t v[10];
        size_t w = tc_varint_put(v, values[s_rng_below(r, sizeof values / sizeof values[0])]);
        s_buf_splice(b, x->at, x->width, v, w);
        break;
    }
    }
}

/* Valid UTF-8 text without NUL, made of pieces an attacker likes. */
static void s_rand_text(s_rng_t *r, char *out, size_t cap)
{
    static const char *const pieces[] = {"a",
                                         "Z",
                                         "0",
                                         "9",
                                         " ",
                                         "-",
                                         "'",
                                         "\"",
                                         "\\",
                                         ";",
                                         "$(",
                                         ")",
                                         "`",
                                         "%s",
                                         "%n",
                                         "%x",
                                         "\n",
                                         "\t",
                                         "\r",
                                         "\x01",
                                         "\x7f",
                                         "ệ",
                                         "Đ",
                                         "ữ",
                                         "\xe2\x80\x8b",
                                         "\xef\xbb\xbf",
                                         "\xf0\x9f\x99\x82",
                                         "'); DROP TABLE reports; --",
                                         "' OR '1'='1",
                                         "$$",
                                         "../",
                                         "{}",
                                         "[]",
                                         "xa-an-ba",
                                         "CCHC_DK",
                                         "2024S1",
                                         "\\u0000",
                                         "<script>"};
    size_t want = (size_t)s_rng_below(r, cap < 64 ? cap : 64);
    size_t o = 0;
    out[0] = '\0';
    while (o < want) {
        const char *p = pieces[s_rng_below(r, sizeof pieces / sizeof pieces[0])];
        size_t n = strlen(p);
        if (o + n + 1 > cap)
            break;
        memcpy(out + o, p, n + 1);
        o += n;
    }
}

static int64_t s_rand_i64(s_rng_t *r)
{
    static const int64_t special[] = {
        0, -1, 1, INT64_MIN, INT64_MAX, INT32_MAX, INT32_MIN, 253402300800000LL, 1718848800000LL};
    uint64_t k = s_rng_below(r, 3);
    if (k == 0)
        return special[s_rng_below(r, sizeof special / sizeof special[0])];
    if (k == 1)
        return (int64_t)s_rng_below(r, 1000) - 10;
    return (int64_t)s_rng_next(r);
}

static uint64_t s_rand_u64(s_rng_t *r)
{
    static const uint64_t special[] = {
        0, 1, 2, UINT64_MAX, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, 0xffffffffULL};
    uint64_t k = s_rng_below(r, 3);
    if (k == 0)
        return special[s_rng_below(r, sizeof special / sizeof special[0])];
    if (k == 1)
        return s_rng_below(r, 1000);
    return s_rng_next(r);
}

/* Storage for everything one generated envelope points to. */
typedef struct {
    char text[16][600];
    char *strv[4];
    Cchc__V1__Report report;
    Cchc__V1__Hello hello;
    Cchc__V1__Ack ack;
    Cchc__V1__Nack nack;
    Cchc__V1__Finding finding;
    Cchc__V1__Finding *findings[1];
    Cchc__V1__MetaRequest meta_request;
    Cchc__V1__Meta meta;
    Cchc__V1__MetaChanged meta_changed;
    Cchc__V1__Notification notification;
    Cchc__V1__NotificationAck notification_ack;
    Cchc__V1__Replay replay;
    Cchc__V1__ReplayEnd replay_end;
    Cchc__V1__Periodic periodic;
    Cchc__V1__Remediation remediation;
    Cchc__V1__RemediationItem item;
    Cchc__V1__RemediationItem *items[1];
    Cchc__V1__TaskProgress task;
} s_parts_t;

typedef struct {
    s_rng_t rng;
    const cchc_report_t *report; /* borrowed */
    const char *unit;            /* the key's unit, borrowed */
    uint64_t epoch;
    uint64_t next_msg_id;
    uint64_t recent_msg_id; /* a msg_id already used, for duplicates */
} s_gen_t;

static const char *s_rand_unit(s_gen_t *g, char *buf, size_t cap)
{
    static const char *const units[] = {
        "", "xa-van-son", "xa-an-ba", "xa-yen-dinh", "huyen-son-dong", "no-such-unit", "XA-AN-BA"};
    switch (s_rng_below(&g->rng, 4)) {
    case 0:
        return units[s_rng_below(&g->rng, sizeof units / sizeof units[0])];
    case 1:
        snprintf(buf, cap, "%s%s", g->unit,
                 s_rng_below(&g->rng, 2) ? " " : "'; DROP TABLE units; --");
        return buf;
    case 2: /* longer than any unit code may be */
        memset(buf, 'x', cap - 1);
        buf[cap - 1] = '\0';
        return buf;
    default:
        s_rand_text(&g->rng, buf, cap);
        return buf;
    }
}

/* A valid envelope of a report: the right unit, a fresh msg_id. */
static void s_env_base(s_gen_t *g, cchc_envelope_t *env, s_parts_t *x)
{
    x->report = *g->report; /* shallow: only pointers to fields are replaced */
    env->protocol_version = CCHC_WIRE_PROTOCOL_VERSION;
    env->unit = (char *)g->unit;
    env->agent_epoch = g->epoch;
    env->msg_id = g->next_msg_id++;
    env->sent_at_ms = cchc_clock_now_ms();
    env->body_case = CCHC__V1__ENVELOPE__BODY_REPORT;
    env->report = &x->report;
}

/* One to three of the envelope's (and report's) header fields changed. */
static void s_env_mutate(s_gen_t *g, cchc_envelope_t *env, s_parts_t *x)
{
    s_rng_t *r = &g->rng;
    for (uint64_t k = 1 + s_rng_below(r, 3); k > 0; k--) {
        switch (s_rng_below(r, 10)) {
        case 0:
        case 1:
            env->msg_id = s_rng_below(r, 3) == 0 ? g->recent_msg_id : s_rand_u64(r);
            break;
        case 2:
            env->unit = (char *)s_rand_unit(g, x->text[0], sizeof x->text[0]);
            break;
        case 3:
            x->report.unit = (char *)s_rand_unit(g, x->text[1], sizeof x->text[1]);
            break;
        case 4:
            env->agent_epoch = s_rand_u64(r);
            break;
        case 5:
            env->protocol_version = (uint32_t)s_rand_u64(r);
            break;
        case 6:
            env->sent_at_ms = s_rand_i64(r);
            x->report.sealed_at_ms = s_rand_i64(r);
            break;
        case 7:
            x->report.revision = s_rand_i64(r);
            break;
        case 8:
            if (s_rng_below(r, 2)) {
                s_rand_text(r, x->text[2], sizeof x->text[2]);
            } else {
                memset(x->text[2], 'T', 65); /* over the column's 64 */
                x->text[2][65] = '\0';
            }
            x->report.type = x->text[2];
            break;
        default:
            s_rand_text(r, x->text[3], sizeof x->text[3]);
            x->report.period = x->text[3];
            break;
        }
    }
}

/* The report with a random content: none, empty, or another kind. */
static void s_report_content(s_gen_t *g, s_parts_t *x)
{
    s_rng_t *r = &g->rng;
    Cchc__V1__Report *rep = &x->report;
    switch (s_rng_below(r, 5)) {
    case 0:
        rep->content_case = CCHC__V1__REPORT__CONTENT__NOT_SET;
        break;
    case 1:
        cchc__v1__periodic__init(&x->periodic);
        rep->content_case = CCHC__V1__REPORT__CONTENT_PERIODIC;
        rep->periodic = &x->periodic;
        break;
    case 2:
        cchc__v1__remediation__init(&x->remediation);
        cchc__v1__remediation_item__init(&x->item);
        s_rand_text(r, x->text[4], sizeof x->text[4]);
        x->remediation.inspection = s_rng_below(r, 2) ? "KT-2024-05" : x->text[4];
        x->item.finding = s_rand_i64(r);
        s_rand_text(r, x->text[5], sizeof x->text[5]);
        x->item.status = s_rng_below(r, 2) ? "remedied" : x->text[5];
        s_rand_text(r, x->text[6], sizeof x->text[6]);
        x->item.actions = x->text[6];
        x->strv[0] = x->text[7];
        s_rand_text(r, x->text[7], sizeof x->text[7]);
        x->item.n_evidence = 1;
        x->item.evidence = x->strv;
        x->items[0] = &x->item;
        x->remediation.n_items = s_rng_below(r, 2);
        x->remediation.items = x->items;
        rep->content_case = CCHC__V1__REPORT__CONTENT_REMEDIATION;
        rep->remediation = &x->remediation;
        break;
    case 3:
        cchc__v1__task_progress__init(&x->task);
        s_rand_text(r, x->text[4], sizeof x->text[4]);
        x->task.task = s_rng_below(r, 2) ? "KH87-07" : x->text[4];
        x->task.status = s_rng_below(r, 2) ? "done" : "exploded";
        x->task.percent = s_rand_i64(r);
        s_rand_text(r, x->text[5], sizeof x->text[5]);
        x->task.result = x->text[5];
        rep->content_case = CCHC__V1__REPORT__CONTENT_TASK_PROGRESS;
        rep->task_progress = &x->task;
        break;
    default:
        break; /* the fixture's own content */
    }
}

/* A valid envelope with a random body case, filled with random values. */
static void s_env_body(s_gen_t *g, cchc_envelope_t *env, s_parts_t *x)
{
    s_rng_t *r = &g->rng;
    switch (s_rng_below(r, 13)) {
    case 0:
        cchc__v1__hello__init(&x->hello);
        s_rand_text(r, x->text[8], sizeof x->text[8]);
        x->hello.agent_version = x->text[8];
        x->hello.queue_depth = s_rand_u64(r);
        /* A small last_seq replays the unit's notifications to us: keep
         * those rare, they cost the server a query and us the reading. */
        x->hello.last_seq = s_rng_below(r, 10) ? UINT64_MAX - s_rng_below(r, 1000) : 0;
        env->body_case = CCHC__V1__ENVELOPE__BODY_HELLO;
        env->hello = &x->hello;
        break;
    case 1:
    case 2:
        s_report_content(g, x);
        break;
    case 3:
        cchc__v1__ack__init(&x->ack);
        x->ack.agent_epoch = s_rand_u64(r);
        x->ack.msg_id = s_rand_u64(r);
        x->ack.report_id = s_rand_i64(r);
        x->ack.duplicate = (protobuf_c_boolean)s_rng_below(r, 2);
        env->body_case = CCHC__V1__ENVELOPE__BODY_ACK;
        env->ack = &x->ack;
        break;
    case 4:
        cchc__v1__nack__init(&x->nack);
        cchc__v1__finding__init(&x->finding);
        x->nack.msg_id = s_rand_u64(r);
        x->nack.reason = (Cchc__V1__NackReason)s_rng_below(r, 100);
        s_rand_text(r, x->text[8], sizeof x->text[8]);
        x->nack.detail = x->text[8];
        s_rand_text(r, x->text[9], sizeof x->text[9]);
        x->finding.code = x->text[9];
        x->findings[0] = &x->finding;
        x->nack.n_findings = s_rng_below(r, 2);
        x->nack.findings = x->findings;
        env->body_case = CCHC__V1__ENVELOPE__BODY_NACK;
        env->nack = &x->nack;
        break;
    case 5:
        cchc__v1__meta_request__init(&x->meta_request);
        x->meta_request.version = s_rand_u64(r);
        env->body_case = CCHC__V1__ENVELOPE__BODY_META_REQUEST;
        env->meta_request = &x->meta_request;
        break;
    case 6:
        cchc__v1__meta__init(&x->meta);
        s_rand_text(r, x->text[8], sizeof x->text[8]);
        x->meta.document = x->text[8];
        x->meta.version = s_rand_u64(r);
        env->body_case = CCHC__V1__ENVELOPE__BODY_META;
        env->meta = &x->meta;
        break;
    case 7:
        cchc__v1__meta_changed__init(&x->meta_changed);
        x->meta_changed.version = s_rand_u64(r);
        env->body_case = CCHC__V1__ENVELOPE__BODY_META_CHANGED;
        env->meta_changed = &x->meta_changed;
        break;
    case 8:
        cchc__v1__notification__init(&x->notification);
        x->notification.seq = s_rand_u64(r);
        s_rand_text(r, x->text[8], sizeof x->text[8]);
        x->notification.kind = x->text[8];
        s_rand_text(r, x->text[9], sizeof x->text[9]);
        x->notification.facts = x->text[9];
        env->body_case = CCHC__V1__ENVELOPE__BODY_NOTIFICATION;
        env->notification = &x->notification;
        break;
    case 9:
        cchc__v1__notification_ack__init(&x->notification_ack);
        x->notification_ack.seq = s_rand_u64(r);
        env->body_case = CCHC__V1__ENVELOPE__BODY_NOTIFICATION_ACK;
        env->notification_ack = &x->notification_ack;
        break;
    case 10:
        cchc__v1__replay__init(&x->replay);
        x->replay.since_seq = s_rand_u64(r);
        s_rand_text(r, x->text[8], sizeof x->text[8]);
        x->strv[0] = x->text[8];
        x->strv[1] = "";
        x->replay.n_topics = s_rng_below(r, 3);
        x->replay.topics = x->strv;
        env->body_case = CCHC__V1__ENVELOPE__BODY_REPLAY;
        env->replay = &x->replay;
        break;
    case 11:
        cchc__v1__replay_end__init(&x->replay_end);
        x->replay_end.last_seq = s_rand_u64(r);
        env->body_case = CCHC__V1__ENVELOPE__BODY_REPLAY_END;
        env->replay_end = &x->replay_end;
        break;
    default:
        env->body_case = CCHC__V1__ENVELOPE__BODY__NOT_SET; /* a body of no known kind */
        break;
    }
}

/* Frame number i: (a) random bytes, (b) a mutated valid report, (c) a valid
 * envelope with changed header fields, (d) a valid envelope with a random
 * body (sometimes also with changed header fields). */
static void s_gen_frame(s_gen_t *g, s_buf_t *out)
{
    s_rng_t *r = &g->rng;
    uint64_t kind = s_rng_below(r, 100);
    if (kind < 20) {
        size_t n = (size_t)s_rng_below(r, S_FUZZ_RANDOM_MAX + 1);
        s_buf_reserve(out, n);
        for (size_t i = 0; i < n; i++)
            out->p[i] = (uint8_t)s_rng_next(r);
        out->len = n;
        return;
    }
    s_parts_t *x = calloc(1, sizeof *x);
    cchc_envelope_t env = CCHC__V1__ENVELOPE__INIT;
    s_env_base(g, &env, x);
    if (kind >= 60 && kind < 80)
        s_env_mutate(g, &env, x);
    if (kind >= 80) {
        s_env_body(g, &env, x);
        if (s_rng_below(r, 4) == 0)
            s_env_mutate(g, &env, x);
    }
    uint8_t *frame = NULL;
    size_t flen = 0;
    if (cchc_wire_encode(&env, &frame, &flen) != CCHC_OK) {
        fprintf(stderr, "fuzz: could not encode a generated envelope\n");
        exit(2);
    }
    g->recent_msg_id = env.msg_id;
    s_buf_set(out, frame, flen);
    free(frame);
    free(x);
    if (kind >= 20 && kind < 60)
        for (uint64_t k = 1 + s_rng_below(r, 4); k > 0; k--)
            s_mutate(r, out);
    if (kind >= 80 && env.body_case == CCHC__V1__ENVELOPE__BODY__NOT_SET && s_rng_below(r, 2)) {
        /* A body field this build does not know (numbers 21 and up). */
        uint8_t field[16];
        size_t n = tc_varint_put(field, ((21 + s_rng_below(r, 1000)) << 3) | 2);
        field[n++] = 2;
        field[n++] = 0x08;
        field[n++] = 0x01;
        s_buf_splice(out, out->len, 0, field, n);
    }
}

/* ---- fuzz: the run ---------------------------------------------------------------- */

/* What the server answers a frame, found with the decoder it uses: one
 * Nack MALFORMED, one Nack UNSUPPORTED, one Ack or Nack for a report, or
 * nothing we wait for (Hello, NotificationAck and the answer kinds get no
 * answer; a MetaRequest is answered with Meta, or not at all when its unit
 * is not ours: counted, not waited for). */
enum { S_PRED_NONE, S_PRED_MALFORMED, S_PRED_UNSUPPORTED, S_PRED_REPORT };

static int s_predict(const uint8_t *frame, size_t len)
{
    cchc_envelope_t *env = NULL;
    int rc = cchc_wire_decode(frame, len, CCHC_WIRE_MAX_FRAME_DEFAULT, &env, NULL, 0);
    int pred;
    if (rc == CCHC_EUNSUPPORTED && env)
        pred = S_PRED_UNSUPPORTED;
    else if (rc != CCHC_OK)
        pred = S_PRED_MALFORMED;
    else if (env->body_case == CCHC__V1__ENVELOPE__BODY_REPORT)
        pred = S_PRED_REPORT;
    else if (env->body_case == CCHC__V1__ENVELOPE__BODY_REPLAY)
        pred = S_PRED_UNSUPPORTED; /* only subscribers may ask for a replay */
    else
        pred = S_PRED_NONE;
    cchc_wire_free(&env);
    return pred;
}

typedef struct {
    void *sock, *mon;
    unsigned long long sent, expected, pred_malformed, pred_unsupported, pred_report;
    unsigned long long acks, dup_acks, nacks, by_reason[8], metas, notifications, other;
    unsigned long long undecodable, stalls;
    int handshake_failed;
    /* the final round trip */
    uint64_t final_epoch, final_msg_id;
    int final_state; /* 0 waiting, 1 ACK, 2 NACK INVALID with findings, -1 another answer */
    char final_line[300];
} s_fuzz_t;

static void s_fuzz_count(s_fuzz_t *z, const cchc_envelope_t *env)
{
    if (env->body_case == CCHC__V1__ENVELOPE__BODY_ACK) {
        const Cchc__V1__Ack *a = env->ack;
        if (a->agent_epoch == z->final_epoch && a->msg_id == z->final_msg_id) {
            z->final_state = 1;
            snprintf(z->final_line, sizeof z->final_line,
                     "FINAL ACK epoch=%" PRId64 " msg_id=%" PRIu64 " report_id=%" PRId64
                     " duplicate=%d",
                     (int64_t)a->agent_epoch, a->msg_id, a->report_id, a->duplicate ? 1 : 0);
            return;
        }
        z->acks++;
        z->dup_acks += a->duplicate ? 1 : 0;
    } else if (env->body_case == CCHC__V1__ENVELOPE__BODY_NACK) {
        const Cchc__V1__Nack *n = env->nack;
        if (n->agent_epoch == z->final_epoch && n->msg_id == z->final_msg_id) {
            int ok = n->reason == CCHC__V1__NACK_REASON__NACK_INVALID && n->n_findings > 0;
            z->final_state = ok ? 2 : -1;
            int o =
                snprintf(z->final_line, sizeof z->final_line,
                         "FINAL NACK epoch=%" PRId64 " msg_id=%" PRIu64 " reason=%s codes=",
                         (int64_t)n->agent_epoch, n->msg_id, cchc_wire_nack_reason_name(n->reason));
            for (size_t i = 0; i < n->n_findings && o > 0 && (size_t)o < sizeof z->final_line; i++)
                o += snprintf(z->final_line + o, sizeof z->final_line - (size_t)o, "%s%s",
                              i ? "," : "", n->findings[i]->code);
            return;
        }
        z->nacks++;
        z->by_reason[(unsigned)n->reason < 8 ? (unsigned)n->reason : 0]++;
    } else if (env->body_case == CCHC__V1__ENVELOPE__BODY_META) {
        z->metas++;
    } else if (env->body_case == CCHC__V1__ENVELOPE__BODY_NOTIFICATION) {
        z->notifications++;
    } else {
        z->other++;
    }
}

/* Reads whatever has arrived, waiting up to wait_ms for the first message.
 * Returns how many messages were read. */
static int s_fuzz_pump(s_fuzz_t *z, long wait_ms)
{
    int got = 0;
    for (;;) {
        zmq_pollitem_t items[2] = {{z->sock, 0, ZMQ_POLLIN, 0}, {z->mon, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, got ? 0 : wait_ms) <= 0)
            return got;
        if (items[1].revents & ZMQ_POLLIN) {
            zmq_msg_t ev, addr;
            zmq_msg_init(&ev);
            zmq_msg_init(&addr);
            zmq_msg_recv(&ev, z->mon, 0);
            zmq_msg_recv(&addr, z->mon, 0);
            uint16_t id = 0;
            if (zmq_msg_size(&ev) >= 2)
                memcpy(&id, zmq_msg_data(&ev), 2);
            zmq_msg_close(&ev);
            zmq_msg_close(&addr);
            if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
                id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
                z->handshake_failed = 1;
        }
        if (!(items[0].revents & ZMQ_POLLIN)) {
            if (z->handshake_failed)
                return got;
            continue;
        }
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, z->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return got;
        }
        got++;
        cchc_envelope_t *env = NULL;
        if (cchc_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), 1 << 20, &env, NULL, 0) == CCHC_OK)
            s_fuzz_count(z, env);
        else
            z->undecodable++;
        cchc_wire_free(&env);
        zmq_msg_close(&m);
    }
}

static unsigned long long s_fuzz_answers(const s_fuzz_t *z)
{
    return z->acks + z->nacks;
}

/* Sends n frames from seed, then one valid report; prints the summary.
 * 0 when every frame the server should answer was answered with the answer
 * its kind calls for, and the valid report after them got its verdict. */
int tc_fuzz_run(void *sock, void *mon, const cchc_report_t *report, const char *unit,
                uint64_t epoch, long n, uint64_t seed, int timeout)
{
    s_fuzz_t z = {.sock = sock, .mon = mon};
    s_gen_t g = {.report = report, .unit = unit, .epoch = epoch, .next_msg_id = 1000000};
    s_buf_t frame = {0};
    s_rng_seed(&g.rng, seed);
    /* Far from anything the generator makes: the final report's id. */
    z.final_epoch = epoch ^ 0x00ff00ff00ff00ffULL;
    z.final_msg_id = 1;
    int64_t t0 = cchc_clock_mono_ms();

    for (long i = 0; i < n && !z.handshake_failed; i++) {
        s_gen_frame(&g, &frame);
        switch (s_predict(frame.p, frame.len)) {
        case S_PRED_MALFORMED:
            z.pred_malformed++;
            z.expected++;
            break;
        case S_PRED_UNSUPPORTED:
            z.pred_unsupported++;
            z.expected++;
            break;
        case S_PRED_REPORT:
            z.pred_report++;
            z.expected++;
            break;
        default:
            break;
        }
        while (z.expected - s_fuzz_answers(&z) >= S_FUZZ_WINDOW && !z.handshake_failed) {
            if (s_fuzz_pump(&z, timeout) == 0) {
                z.stalls++;
                break;
            }
        }
        if (z.stalls)
            break;
        if (zmq_send(sock, frame.len ? frame.p : (const void *)"", frame.len, 0) < 0) {
            fprintf(stderr, "fuzz: send: %s\n", zmq_strerror(zmq_errno()));
            break;
        }
        z.sent++;
        s_fuzz_pump(&z, 0);
    }
    /* Every answer owed. */
    while (s_fuzz_answers(&z) < z.expected && !z.handshake_failed)
        if (s_fuzz_pump(&z, timeout) == 0) {
            z.stalls++;
            break;
        }

    /* The connection still works: one valid report, answered with its verdict. */
    s_parts_t *x = calloc(1, sizeof *x);
    cchc_envelope_t env = CCHC__V1__ENVELOPE__INIT;
    s_env_base(&g, &env, x);
    env.agent_epoch = z.final_epoch;
    env.msg_id = z.final_msg_id;
    uint8_t *buf = NULL;
    size_t blen = 0;
    if (!z.handshake_failed && cchc_wire_encode(&env, &buf, &blen) == CCHC_OK &&
        zmq_send(sock, buf, blen, 0) >= 0) {
        int64_t deadline = cchc_clock_mono_ms() + timeout;
        while (z.final_state == 0 && cchc_clock_mono_ms() < deadline)
            s_fuzz_pump(&z, (long)(deadline - cchc_clock_mono_ms()));
    }
    free(buf);
    free(x);
    /* Late pushes and answers, so the counts are complete. */
    while (s_fuzz_pump(&z, 200) > 0)
        ;

    unsigned long long missing =
        z.expected > s_fuzz_answers(&z) ? z.expected - s_fuzz_answers(&z) : 0;
    unsigned long long *k = z.by_reason;
    printf("FUZZ seed=%" PRIu64 " sent=%llu expected=%llu answers=%llu acks=%llu "
           "dup_acks=%llu nacks=%llu malformed=%llu unsupported=%llu invalid=%llu busy=%llu "
           "unit_mismatch=%llu unknown_unit=%llu other_nack=%llu meta=%llu notifications=%llu "
           "other=%llu undecodable=%llu missing=%llu stalls=%llu ms=%lld\n",
           seed, z.sent, z.expected, s_fuzz_answers(&z), z.acks, z.dup_acks, z.nacks,
           k[CCHC__V1__NACK_REASON__NACK_MALFORMED], k[CCHC__V1__NACK_REASON__NACK_UNSUPPORTED],
           k[CCHC__V1__NACK_REASON__NACK_INVALID], k[CCHC__V1__NACK_REASON__NACK_BUSY],
           k[CCHC__V1__NACK_REASON__NACK_UNIT_MISMATCH],
           k[CCHC__V1__NACK_REASON__NACK_UNKNOWN_UNIT], k[0], z.metas, z.notifications, z.other,
           z.undecodable, missing, z.stalls, (long long)(cchc_clock_mono_ms() - t0));
    printf("PREDICTED malformed=%llu unsupported=%llu reports=%llu\n", z.pred_malformed,
           z.pred_unsupported, z.pred_report);
    printf("%s\n", z.final_state ? z.final_line : "FINAL TIMEOUT");
    if (z.handshake_failed)
        printf("HANDSHAKE_FAILED\n");
    fflush(stdout);
    free(frame.p);

    int ok = !z.handshake_failed && z.sent == (unsigned long long)n && missing == 0 &&
             z.stalls == 0 && z.undecodable == 0 &&
             k[CCHC__V1__NACK_REASON__NACK_MALFORMED] == z.pred_malformed &&
             k[CCHC__V1__NACK_REASON__NACK_UNSUPPORTED] == z.pred_unsupported &&
             s_fuzz_answers(&z) == z.expected && (z.final_state == 1 || z.final_state == 2);
    return ok ? 0 : 1;
}
