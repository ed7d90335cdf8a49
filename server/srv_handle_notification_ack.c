/* srv_handle_notification_ack.c: NotificationAck, by which an agent or a
 * subscriber says it has every notification up to a sequence number.
 *
 * An agent's ack moves its unit's last_seq (written by srv_notify, coalesced);
 * a subscriber's frees room under its max_pending. */
#include "srv_handle.h"

void srv_handle_notification_ack(srv_handlers_t *h, const srv_peer_t *peer,
                                 const cchc_envelope_t *env)
{
    if (!peer->principal[0])
        return;
    if (srv_notify_is_subscriber(peer->principal)) {
        srv_notify_sub_ack(h->notify, peer->rid, peer->rid_len, env->notification_ack->seq);
        return;
    }
    srv_notify_ack(h->notify, peer->rid, peer->rid_len, peer->principal,
                   env->notification_ack->seq);
}
