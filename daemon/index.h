/* daemon/index.h: receiver indices of secure mode -> peer, for the whole
 * daemon (WireGuard's index hashtable).
 *
 * A peer holds its indices in struct peer_index entries of its own
 * (peer.h: peer->indices); the table points at those entries, so a lookup
 * is one hash and no allocation.  Owner: daemon/peer.c (peer_new_index()
 * adds, peer_indices_gc() and peer_free() remove).
 *
 * Invariant: every index a peer uses, for its pending initiation
 * (sec->hs) or for a keypair it holds (sec->kp), is in the table, mapping
 * to an entry of that peer; indices are unique in the daemon.  An index
 * the peer no longer uses may stay until the peer's next clean-up (at most
 * PEER_INDICES per peer), so a lookup must still check what the peer holds
 * (session_slot_by_index(), the pending handshake).
 */
#ifndef GRESEC_DAEMON_INDEX_H
#define GRESEC_DAEMON_INDEX_H

#include <stdint.h>

#include "daemon/hashtab.h"

struct gresecd;
struct secure_peer;

struct peer_index {
	uint32_t idx;                 /* 0: unused entry */
	struct secure_peer *peer;
};

struct secure_index {
	struct hashtab tab;           /* of struct peer_index, by idx */
};

/* A fresh random index (nonzero, not in the table) into e, added for
 * e->peer.  0 or -ENOMEM. */
int secure_index_add(struct gresecd *d, struct peer_index *e);
/* Remove e (e->idx becomes 0). */
void secure_index_del(struct gresecd *d, struct peer_index *e);
/* The peer that has idx in the table, or NULL. */
struct secure_peer *secure_index_peer(const struct gresecd *d, uint32_t idx);
void secure_index_free(struct gresecd *d);

#endif
