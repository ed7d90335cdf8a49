/* srv_zap.c: ZAP handler and key cache (see srv_zap.h).
 *
 * Owns the ZMQ_REP socket bound at inproc://zeromq.zap.01, a sorted array
 * of (Z85 public key, principal, topics) looked up with bsearch (a handshake
 * costs O(log n) and no database round trip), and, per unit with a key, the
 * instant it closed. A request gets exactly one reply, whatever it holds,
 * since a REP socket that does not answer stops working.
 *
 * A key of a closed unit (DOMAIN.md section 1):
 *
 *   now                                        handshake   a message on an open connection
 *   before closes_ms + grace_ms                accepted    accepted (the agent flushes its queue)
 *   at or after closes_ms + grace_ms           refused     refused (srv_zap_key_state CLOSED) */
#include "srv_zap.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_keys.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_map.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_MAX_FRAMES 8

typedef struct {
    char key[CCHC_KEY_Z85_LEN + 1];
    char *unit;    /* the principal: a unit code or "sub:<name>" */
    char **topics; /* subscribers: topic prefixes */
    size_t ntopics;
    int subscriber;
    char id[24];        /* SRV_ZAP_KEY_ID_PROP: "a<id>" or "s<id>" */
    int64_t expires_ms; /* 0: never */
    int64_t closes_ms;  /* its unit closed at this instant; 0: open */
} s_entry_t;

struct srv_zap {
    void *sock;
    s_entry_t *keys;
    size_t nkeys;
    unsigned long long accepted, refused;
    uint64_t gen; /* loads so far */
    srv_zap_refused_fn *on_refused;
    void *on_refused_arg;
    int64_t grace_ms;  /* [units] closed_key_grace_days */
    srv_map_t *closes; /* unit code -> closes_ms, units with a key that closed */
    /* Index + 1 in keys, of the first key (in key order) with that id, and
     * of the first subscriber key of that principal: every message asks
     * whether its key is still valid (a linear search over 10,000 keys was
     * 6 % of the server during cchc-bench's backlog drain). */
    srv_map_t *by_id, *by_sub;
};

static int s_entry_cmp(const void *a, const void *b)
{
    return strcmp(((const s_entry_t *)a)->key, ((const s_entry_t *)b)->key);
}

static void s_entry_free(s_entry_t *e)
{
    free(e->unit);
    for (size_t k = 0; k < e->ntopics; k++)
        free(e->topics[k]);
    free(e->topics);
    e->unit = NULL;
    e->topics = NULL;
    e->ntopics = 0;
}

static void s_keys_free(s_entry_t *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s_entry_free(&keys[i]);
    free(keys);
}

/* Borrowed entry of a key, or NULL. */
static const s_entry_t *s_lookup(const srv_zap_t *zap, const char *z85)
{
    s_entry_t probe;
    snprintf(probe.key, sizeof probe.key, "%s", z85);
    return bsearch(&probe, zap->keys, zap->nkeys, sizeof *zap->keys, s_entry_cmp);
}

/* Topic prefixes from a JSON array of strings into e; a bad value leaves
 * none (the subscriber sees nothing rather than everything). */
static void s_topics_parse(s_entry_t *e, const char *text)
{
    json_error_t jerr;
    json_t *a = json_loads(text, 0, &jerr);
    if (!json_is_array(a)) {
        json_decref(a);
        return;
    }
    e->topics = cchc_calloc(json_array_size(a) + 1, sizeof *e->topics);
    for (size_t k = 0; k < json_array_size(a); k++) {
        const char *t = json_string_value(json_array_get(a, k));
        if (t)
            e->topics[e->ntopics++] = cchc_strdup(t);
    }
    json_decref(a);
}

srv_zap_t *srv_zap_new(void *ctx, char *err, size_t errlen)
{
    srv_zap_t *zap = cchc_calloc(1, sizeof *zap);
    zap->closes = srv_map_new();
    zap->by_id = srv_map_new();
    zap->by_sub = srv_map_new();
    zap->sock = zmq_socket(ctx, ZMQ_REP);
    int linger = 0;
    if (!zap->sock || zmq_setsockopt(zap->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(zap->sock, S_ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "could not bind ZAP handler at %s: %s", S_ZAP_ENDPOINT,
                 zmq_strerror(zmq_errno()));
        srv_zap_destroy(&zap);
        return NULL;
    }
    return zap;
}

void srv_zap_destroy(srv_zap_t **self_p)
{
    assert(self_p);
    srv_zap_t *zap = *self_p;
    if (!zap)
        return;
    if (zap->sock)
        zmq_close(zap->sock);
    s_keys_free(zap->keys, zap->nkeys);
    srv_map_destroy(&zap->closes);
    srv_map_destroy(&zap->by_id);
    srv_map_destroy(&zap->by_sub);
    free(zap);
    *self_p = NULL;
}

void *srv_zap_socket(srv_zap_t *zap)
{
    return zap->sock;
}

int srv_zap_load(srv_zap_t *zap, const PGresult *res)
{
    if (PQresultStatus(res) != PGRES_TUPLES_OK || (PQnfields(res) != 5 && PQnfields(res) != 6))
        return CCHC_EINVAL;
    int with_closes = PQnfields(res) == 6;
    int rows = PQntuples(res);
    s_entry_t *keys = cchc_calloc((size_t)rows + 1, sizeof *keys);
    size_t n = 0;
    for (int i = 0; i < rows; i++) {
        const char *key = PQgetvalue(res, i, 0);
        if (PQgetisnull(res, i, 0) || PQgetisnull(res, i, 1) || !cchc_keys_valid_z85(key)) {
            CCHC_LOG(CCHC_LOG_WARN, "key_skipped", "key=%.8s... reason=\"not a Z85 key\"", key);
            continue;
        }
        memcpy(keys[n].key, key, CCHC_KEY_Z85_LEN);
        keys[n].key[CCHC_KEY_Z85_LEN] = '\0';
        keys[n].unit = cchc_strdup(PQgetvalue(res, i, 1));
        if (!PQgetisnull(res, i, 2)) {
            keys[n].subscriber = 1;
            s_topics_parse(&keys[n], PQgetvalue(res, i, 2));
        }
        snprintf(keys[n].id, sizeof keys[n].id, "%s", PQgetvalue(res, i, 3));
        keys[n].expires_ms =
            PQgetisnull(res, i, 4) ? 0 : (int64_t)strtoll(PQgetvalue(res, i, 4), NULL, 10);
        keys[n].closes_ms = !with_closes || PQgetisnull(res, i, 5)
                                ? 0
                                : (int64_t)strtoll(PQgetvalue(res, i, 5), NULL, 10);
        n++;
    }
    qsort(keys, n, sizeof *keys, s_entry_cmp);
    /* A key registered twice (an agent's and a subscriber's) would make the
     * principal depend on the sort: refuse it altogether. */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        int dup = (i > 0 && strcmp(keys[i].key, keys[i - 1].key) == 0) ||
                  (i + 1 < n && strcmp(keys[i].key, keys[i + 1].key) == 0);
        if (dup) {
            CCHC_LOG(CCHC_LOG_WARN, "key_skipped", "key=%.8s... reason=\"registered twice\"",
                     keys[i].key);
            s_entry_free(&keys[i]);
            continue;
        }
        keys[kept++] = keys[i];
    }
    n = kept;
    srv_map_t *closes = srv_map_new();
    for (size_t i = 0; i < n; i++)
        if (keys[i].closes_ms && !keys[i].subscriber)
            srv_map_set(closes, keys[i].unit, strlen(keys[i].unit), keys[i].closes_ms);
    srv_map_destroy(&zap->closes);
    zap->closes = closes;
    srv_map_t *by_id = srv_map_new(), *by_sub = srv_map_new();
    for (size_t i = 0; i < n; i++) {
        if (!srv_map_get(by_id, keys[i].id, strlen(keys[i].id), 0))
            srv_map_set(by_id, keys[i].id, strlen(keys[i].id), (int64_t)i + 1);
        if (keys[i].subscriber && !srv_map_get(by_sub, keys[i].unit, strlen(keys[i].unit), 0))
            srv_map_set(by_sub, keys[i].unit, strlen(keys[i].unit), (int64_t)i + 1);
    }
    srv_map_destroy(&zap->by_id);
    zap->by_id = by_id;
    srv_map_destroy(&zap->by_sub);
    zap->by_sub = by_sub;
    s_keys_free(zap->keys, zap->nkeys);
    zap->keys = keys;
    zap->nkeys = n;
    zap->gen++;
    CCHC_LOG(CCHC_LOG_INFO, "keys_loaded", "count=%zu", n);
    return CCHC_OK;
}

uint64_t srv_zap_generation(const srv_zap_t *zap)
{
    return zap->gen;
}

int srv_zap_subscriber(const srv_zap_t *zap, const char *principal, const char *const **topics,
                       size_t *n)
{
    int64_t i = principal ? srv_map_get(zap->by_sub, principal, strlen(principal), 0) : 0;
    if (i > 0) {
        *topics = (const char *const *)zap->keys[i - 1].topics;
        *n = zap->keys[i - 1].ntopics;
        return 1;
    }
    *topics = NULL;
    *n = 0;
    return 0;
}

static int s_expired(const s_entry_t *e, int64_t now_ms)
{
    return e->expires_ms != 0 && now_ms >= e->expires_ms;
}

/* The unit's grace after its closing is over. */
static int s_closed(const srv_zap_t *zap, const s_entry_t *e, int64_t now_ms)
{
    return e->closes_ms != 0 && now_ms >= e->closes_ms + zap->grace_ms;
}

static srv_zap_key_state_t s_state(const srv_zap_t *zap, const s_entry_t *e, int64_t now_ms)
{
    return s_closed(zap, e, now_ms) ? SRV_ZAP_KEY_CLOSED
           : s_expired(e, now_ms)   ? SRV_ZAP_KEY_EXPIRED
                                    : SRV_ZAP_KEY_VALID;
}

srv_zap_key_state_t srv_zap_key_state(const srv_zap_t *zap, const char *key_id, int64_t now_ms)
{
    if (!key_id || !key_id[0])
        return SRV_ZAP_KEY_GONE;
    int64_t i = srv_map_get(zap->by_id, key_id, strlen(key_id), 0);
    return i > 0 ? s_state(zap, &zap->keys[i - 1], now_ms) : SRV_ZAP_KEY_GONE;
}

void srv_zap_set_closed_grace(srv_zap_t *zap, int64_t grace_ms)
{
    zap->grace_ms = grace_ms < 0 ? 0 : grace_ms;
}

int srv_zap_unit_closed(const srv_zap_t *zap, const char *unit, int64_t now_ms)
{
    int64_t closes = unit ? srv_map_get(zap->closes, unit, strlen(unit), 0) : 0;
    return closes != 0 && now_ms >= closes;
}

int srv_zap_key_valid(const srv_zap_t *zap, const char *key_id, int64_t now_ms)
{
    return srv_zap_key_state(zap, key_id, now_ms) == SRV_ZAP_KEY_VALID;
}

void srv_zap_on_refused(srv_zap_t *zap, srv_zap_refused_fn *fn, void *arg)
{
    zap->on_refused = fn;
    zap->on_refused_arg = arg;
}

void srv_zap_enforce_domain(void *sock)
{
#ifdef ZMQ_ZAP_ENFORCE_DOMAIN
    const int opt = ZMQ_ZAP_ENFORCE_DOMAIN;
#else
    const int opt = 93; /* ZMQ_ZAP_ENFORCE_DOMAIN, declared with the draft API only */
#endif
    int one = 1;
    if (zmq_setsockopt(sock, opt, &one, sizeof one) != 0) {
        if (zmq_errno() == EINVAL)
            CCHC_LOG(CCHC_LOG_WARN, "zap_enforce_domain_unsupported", "err=\"%s\"",
                     zmq_strerror(zmq_errno()));
        else
            CCHC_LOG(CCHC_LOG_WARN, "zap_enforce_domain", "err=\"%s\"", zmq_strerror(zmq_errno()));
    }
}

size_t srv_zap_count(const srv_zap_t *zap)
{
    return zap->nkeys;
}

void srv_zap_stats(const srv_zap_t *zap, unsigned long long *accepted, unsigned long long *refused)
{
    *accepted = zap->accepted;
    *refused = zap->refused;
}

/* Answers a request; key_id (or NULL) goes into the metadata frame as the
 * ZMTP property SRV_ZAP_KEY_ID_PROP: name length (1 byte), name, value
 * length (4 bytes, big-endian), value. */
static void s_reply(srv_zap_t *zap, zmq_msg_t *request_id, const char *code, const char *text,
                    const char *user, const char *key_id)
{
    const char *vals[] = {"1.0", NULL, code, text, user, ""};
    unsigned char meta[64];
    size_t mlen = 0;
    if (key_id && key_id[0]) {
        size_t nlen = strlen(SRV_ZAP_KEY_ID_PROP), vlen = strlen(key_id);
        if (1 + nlen + 4 + vlen <= sizeof meta) {
            meta[mlen++] = (unsigned char)nlen;
            memcpy(meta + mlen, SRV_ZAP_KEY_ID_PROP, nlen);
            mlen += nlen;
            for (int b = 3; b >= 0; b--)
                meta[mlen++] = (unsigned char)((vlen >> (8 * b)) & 0xff);
            memcpy(meta + mlen, key_id, vlen);
            mlen += vlen;
        }
    }
    for (int i = 0; i < 6; i++) {
        int more = i < 5 ? ZMQ_SNDMORE : 0;
        int rc;
        if (i == 1)
            rc = zmq_send(zap->sock, request_id ? zmq_msg_data(request_id) : "",
                          request_id ? zmq_msg_size(request_id) : 0, more);
        else if (i == 5)
            rc = zmq_send(zap->sock, meta, mlen, more);
        else
            rc = zmq_send(zap->sock, vals[i], strlen(vals[i]), more);
        if (rc < 0) {
            CCHC_LOG(CCHC_LOG_ERROR, "zap_reply", "err=\"%s\"", zmq_strerror(zmq_errno()));
            return;
        }
    }
}

/* Copies frame f into buf as text (cut to fit, bytes that could break a log
 * line replaced), for comparison and logging. */
static void s_frame_text(zmq_msg_t *f, char *buf, size_t len)
{
    size_t n = zmq_msg_size(f);
    if (n > len - 1)
        n = len - 1;
    memcpy(buf, zmq_msg_data(f), n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == '"' || buf[i] == ' ' ||
            (unsigned char)buf[i] >= 0x7f)
            buf[i] = '?';
}

/* Decides one request (frames: version, request id, domain, address,
 * identity, mechanism, credentials...) and answers it. */
static void s_answer(srv_zap_t *zap, zmq_msg_t *f, int nframes)
{
    char version[8], domain[64], addr[64], mech[16];
    if (nframes < 6) {
        CCHC_LOG(CCHC_LOG_ERROR, "zap_bad_request", "frames=%d", nframes);
        s_reply(zap, nframes >= 2 ? &f[1] : NULL, "500", "bad ZAP request", "", NULL);
        zap->refused++;
        return;
    }
    s_frame_text(&f[0], version, sizeof version);
    s_frame_text(&f[2], domain, sizeof domain);
    s_frame_text(&f[3], addr, sizeof addr);
    s_frame_text(&f[5], mech, sizeof mech);
    if (strcmp(version, "1.0") != 0) {
        CCHC_LOG(CCHC_LOG_ERROR, "zap_bad_request", "version=%s", version);
        s_reply(zap, &f[1], "500", "unsupported ZAP version", "", NULL);
        zap->refused++;
        return;
    }
    if (strcmp(domain, SRV_ZAP_DOMAIN) != 0 || strcmp(mech, "CURVE") != 0) {
        CCHC_LOG(CCHC_LOG_WARN, "zap_refused", "mechanism=%s domain=%s addr=%s", mech, domain,
                 addr);
        s_reply(zap, &f[1], "400", "CURVE required", "", NULL);
        zap->refused++;
        return;
    }
    char z85[CCHC_KEY_Z85_LEN + 1] = "";
    if (nframes != 7 || zmq_msg_size(&f[6]) != 32 ||
        !zmq_z85_encode(z85, (const uint8_t *)zmq_msg_data(&f[6]), 32)) {
        CCHC_LOG(CCHC_LOG_WARN, "zap_refused", "reason=bad_credentials addr=%s", addr);
        s_reply(zap, &f[1], "400", "bad credentials", "", NULL);
        zap->refused++;
        return;
    }
    const s_entry_t *e = s_lookup(zap, z85);
    srv_zap_key_state_t state = e ? s_state(zap, e, cchc_clock_now_ms()) : SRV_ZAP_KEY_GONE;
    if (e && state != SRV_ZAP_KEY_VALID) {
        int closed = state == SRV_ZAP_KEY_CLOSED;
        CCHC_LOG(CCHC_LOG_WARN, "zap_refused", "key=%.8s... addr=%s domain=%s reason=%s", z85, addr,
                 domain, closed ? "unit_closed" : "expired");
        s_reply(zap, &f[1], "400", closed ? "unit closed" : "key expired", "", NULL);
        zap->refused++;
        if (zap->on_refused)
            zap->on_refused(zap->on_refused_arg, state, e->unit, e->id);
        return;
    }
    if (!e) {
        CCHC_LOG(CCHC_LOG_WARN, "zap_refused", "key=%.8s... addr=%s domain=%s reason=unknown_key",
                 z85, addr, domain);
        s_reply(zap, &f[1], "400", "unknown key", "", NULL);
        zap->refused++;
        return;
    }
    const char *unit = e->unit;
    CCHC_LOG(CCHC_LOG_DEBUG, "zap_accepted", "unit=%s key=%.8s... addr=%s", unit, z85, addr);
    s_reply(zap, &f[1], "200", "OK", unit, e->id);
    zap->accepted++;
}

void srv_zap_handle(srv_zap_t *zap)
{
    for (;;) {
        zmq_msg_t f[S_MAX_FRAMES];
        int n = 0, more = 1;
        zmq_msg_init(&f[0]);
        if (zmq_msg_recv(&f[0], zap->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&f[0]);
            if (zmq_errno() != EAGAIN && zmq_errno() != EINTR)
                CCHC_LOG(CCHC_LOG_ERROR, "zap_recv", "err=\"%s\"", zmq_strerror(zmq_errno()));
            return;
        }
        n = 1;
        more = zmq_msg_more(&f[0]);
        /* The rest of a multipart message is already here: libzmq delivers
         * all parts or none. Parts past S_MAX_FRAMES are read and dropped. */
        while (more) {
            zmq_msg_t extra, *m = n < S_MAX_FRAMES ? &f[n] : &extra;
            zmq_msg_init(m);
            if (zmq_msg_recv(m, zap->sock, 0) < 0) {
                zmq_msg_close(m);
                break;
            }
            more = zmq_msg_more(m);
            if (m == &extra) {
                zmq_msg_close(m);
                n = S_MAX_FRAMES + 1;
            } else {
                n++;
            }
        }
        int kept = n > S_MAX_FRAMES ? S_MAX_FRAMES : n;
        s_answer(zap, f, n);
        for (int i = 0; i < kept; i++)
            zmq_msg_close(&f[i]);
    }
}
