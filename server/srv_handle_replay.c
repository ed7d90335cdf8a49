/* srv_handle_replay.c: Replay, a subscriber asking for the notifications
 * after a sequence number, within its topics, and to follow the new ones.
 *
 * The subscriber's grant is asked of the key cache every time (revocation
 * does not close a connection); srv_notify does the replay. A topic outside
 * the grant is refused and recorded (srv_refusals) for the operators. */
#include "cchc_err.h"
#include "srv_handle.h"
#include "srv_zap.h"

void srv_handle_replay(srv_handlers_t *h, const srv_peer_t *peer, const cchc_envelope_t *env)
{
    const char *const *own = NULL;
    size_t n_own = 0;
    if (!srv_zap_subscriber(h->zap, peer->principal, &own, &n_own)) {
        srv_router_counters(h->router)->refused_principal++;
        srv_router_nack(h->router, peer, env->agent_epoch, env->msg_id,
                        CCHC__V1__NACK_REASON__NACK_UNSUPPORTED, "not allowed for this principal",
                        NULL);
        return;
    }
    int rc = srv_notify_replay(h->notify, peer->rid, peer->rid_len, peer->principal, peer->key_id,
                               env->replay, own, n_own);
    if (rc == CCHC_EINVAL) {
        srv_router_nack(h->router, peer, env->agent_epoch, env->msg_id,
                        CCHC__V1__NACK_REASON__NACK_INVALID, "too many or too long topics", NULL);
    } else if (rc == CCHC_EPERM) {
        /* srv_notify logged which topic; the operators get it too. */
        int i = srv_notify_topic_outside((const char *const *)env->replay->topics,
                                         env->replay->n_topics, own, n_own);
        srv_refusals_record(h->refusals, SRV_REFUSAL_TOPIC_OUTSIDE, peer->principal, peer->key_id,
                            i >= 0 ? env->replay->topics[i] : NULL, "replay");
        srv_router_nack(h->router, peer, env->agent_epoch, env->msg_id,
                        CCHC__V1__NACK_REASON__NACK_INVALID,
                        "a topic outside this subscriber's topics: see `cchc subscriber list`",
                        NULL);
    } else if (rc != 0) {
        srv_router_nack(h->router, peer, env->agent_epoch, env->msg_id,
                        CCHC__V1__NACK_REASON__NACK_BUSY, "replay not possible now, retry later",
                        NULL);
    }
}
