/* crypto/keypair.h: a transport keypair and sealing/opening of data messages.
 *
 * Data message (tunnel/wire.h struct msg_data), as in WireGuard:
 *   type 4 | 3 zero bytes | receiver index (le32) | counter (le64)
 *   | ChaCha20-Poly1305(IP packet padded with zeros to 16) | tag (16)
 * The AEAD nonce is 4 zero bytes || counter (le64).  The 16-byte header is
 * not additional data (AD is empty, like WireGuard): the receiver index
 * only selects the key, and the counter is bound through the nonce.
 *
 * Both directions work in place on a struct pkt: sealing pads and appends
 * the tag in the tailroom and pushes the header into the headroom, opening
 * does the reverse.  The send counter is never reused and sealing stops at
 * REJECT_AFTER_MESSAGES; age limits (REKEY/REJECT_AFTER_TIME) are the
 * caller's, from created_ns.
 */
#ifndef GRESEC_CRYPTO_KEYPAIR_H
#define GRESEC_CRYPTO_KEYPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/replay.h"
#include "tunnel/pkt.h"
#include "tunnel/wire.h"


enum keypair_err {
	KEYPAIR_OK          = 0,
	KEYPAIR_ERR_SHORT   = -1,  /* shorter than MSG_DATA_MIN_LEN */
	KEYPAIR_ERR_TYPE    = -2,  /* not a data message (type/reserved bytes) */
	KEYPAIR_ERR_INDEX   = -3,  /* receiver index is not this keypair's */
	KEYPAIR_ERR_REPLAY  = -4,  /* counter already seen or behind the window */
	KEYPAIR_ERR_DECRYPT = -5,  /* authentication failed */
	KEYPAIR_ERR_EXPIRED = -6,  /* counter at REJECT_AFTER_MESSAGES: need a new keypair */
	KEYPAIR_ERR_NOROOM  = -7,  /* packet buffer lacks headroom or tailroom */
};

struct keypair {
	uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t recv_key[NOISE_SYMMETRIC_KEY_LEN];
	uint64_t send_counter;          /* next counter to send */
	struct replay_window replay;
	uint32_t local_index;           /* what the peer puts in the receiver field */
	uint32_t remote_index;          /* what we put in the receiver field */
	uint64_t created_ns;            /* monotonic, set by the caller */
	bool is_initiator;
};

/* Set up a fresh keypair (counter 0, empty window) from the handshake's
 * transport keys. */
void keypair_init(struct keypair *kp, const uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN],
		  const uint8_t recv_key[NOISE_SYMMETRIC_KEY_LEN], uint32_t local_index,
		  uint32_t remote_index, bool is_initiator, uint64_t created_ns);

/* Wipe keys and state; the keypair is unusable until keypair_init. */
void keypair_wipe(struct keypair *kp);

/* Bytes a sealed message adds to a packet of len bytes (header, padding,
 * tag) for keypair_seal() with the same mtu. */
size_t keypair_overhead(size_t len, size_t mtu);

/* Seal the packet in p (empty = keepalive) into a data message, in place,
 * using and advancing kp->send_counter.  The plaintext is padded with zeros
 * to a multiple of 16 but not past mtu (0: no limit), as WireGuard pads to
 * its interface MTU.  Returns KEYPAIR_OK, KEYPAIR_ERR_EXPIRED or
 * KEYPAIR_ERR_NOROOM; on error p is unchanged. */
int keypair_seal(struct keypair *kp, struct pkt *p, size_t mtu);

/* Open the data message in p in place: on KEYPAIR_OK p holds the padded
 * packet and *counter_out (may be NULL) its counter, and the counter is
 * recorded in the replay window.  On error the window is unchanged and p
 * must be dropped (after a failed tag check its ciphertext is zeroed). */
int keypair_open(struct keypair *kp, struct pkt *p, uint64_t *counter_out);

/* keypair_open() from a message of len bytes at msg into plain (room for
 * len - 32 bytes; plain == msg + 16 opens in place): the plaintext is
 * len - 32 bytes at plain.  On error plain holds nothing to use. */
int keypair_open_to(struct keypair *kp, const uint8_t *msg, size_t len, uint8_t *plain,
		    uint64_t *counter_out);

/* Receiver index of a data message, to find its keypair: KEYPAIR_OK, or
 * KEYPAIR_ERR_SHORT / KEYPAIR_ERR_TYPE. */
int keypair_peek_receiver(const uint8_t *msg, size_t len, uint32_t *receiver);

#endif
