/* crypto/handshake.h: WireGuard's handshake messages (whitepaper 5.4.2-5.4.3).
 *
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s (crypto/noise.h) with WireGuard's
 * identifier "WireGuard v1 zx2c4 Jason@zx2c4.com" as the prologue, framed
 * as struct msg_initiation and struct msg_response (tunnel/wire.h):
 *
 *   initiation: type=1, 3 zero bytes, sender index, ephemeral, encrypted
 *               static ("s" token), encrypted TAI64N timestamp (message 1
 *               payload), mac1, mac2
 *   response:   type=2, 3 zero bytes, sender index, receiver index,
 *               ephemeral, encrypted empty payload, mac1, mac2
 *
 * Noise's InitializeSymmetric hashes the 37-byte protocol name and then
 * MixHash(prologue) and MixHash(responder's static key) follow: exactly
 * WireGuard's Ci = HASH(CONSTRUCTION), Hi = HASH(Ci || IDENTIFIER),
 * Hi = HASH(Hi || Spub_r), so any WireGuard implementation is a peer.
 *
 * Indices are opaque 32-bit values stored little-endian (as WireGuard).
 * mac1/mac2 belong to the cookie module: messages are created with them
 * zeroed, and consume functions assume they were already checked.  The
 * sender index fields are covered by mac1 only, not by Noise (as in
 * WireGuard); the response's receiver index is checked here.
 *
 * A peer without a pre-shared key uses an all-zero psk: the protocol is
 * IKpsk2 either way.  Functions return 0 or -1 and never log.  struct
 * handshake holds secrets: keep it in sodium_malloc'd memory, and
 * handshake_wipe() it when abandoned.  Failures wipe it, except that
 * handshake_consume_response keeps a pending initiation alive when handed
 * a response that does not authenticate.
 */
#ifndef GRESEC_CRYPTO_HANDSHAKE_H
#define GRESEC_CRYPTO_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/noise.h"
#include "tunnel/wire.h"

#define HANDSHAKE_PROTOCOL_NAME "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s" /* WireGuard CONSTRUCTION */
#define HANDSHAKE_PROLOGUE      "WireGuard v1 zx2c4 Jason@zx2c4.com"    /* WireGuard IDENTIFIER */

struct handshake_identity {
	uint8_t static_private[NOISE_PUBLIC_KEY_LEN];
	uint8_t static_public[NOISE_PUBLIC_KEY_LEN];
	uint8_t psk[NOISE_SYMMETRIC_KEY_LEN];   /* all zero when none */
};

enum handshake_state {
	HANDSHAKE_EMPTY = 0,
	HANDSHAKE_CREATED_INITIATION,   /* initiator, waiting for the response */
	HANDSHAKE_CONSUMED_INITIATION,  /* responder, response not yet sent */
	HANDSHAKE_CREATED_RESPONSE,     /* responder, keys ready */
	HANDSHAKE_CONSUMED_RESPONSE,    /* initiator, keys ready */
};

struct handshake {
	struct noise_handshake noise;
	enum handshake_state state;
	uint32_t local_index;   /* our sender index */
	uint32_t remote_index;  /* the peer's sender index */
};

/* Fill id from a static private key (public key derived) and an optional
 * psk (NULL = all zero).  Returns 0 or -1. */
int handshake_identity_init(struct handshake_identity *id,
			    const uint8_t static_private[NOISE_PUBLIC_KEY_LEN],
			    const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN]);

/* Initiator: start a handshake with the peer whose static public key is
 * peer_static and write the initiation (mac fields zero) to out. */
int handshake_create_initiation(struct handshake *hs, const struct handshake_identity *id,
				const uint8_t peer_static[NOISE_PUBLIC_KEY_LEN],
				uint32_t sender_index,
				const uint8_t timestamp[NOISE_TIMESTAMP_LEN],
				uint8_t out[MSG_INITIATION_LEN]);

/* Responder: process an initiation (len must be MSG_INITIATION_LEN) with
 * our static key from id.  On success returns 0 with the initiator's static
 * key, its timestamp and its sender index; the caller must then find the
 * peer by that key, and accept only a timestamp newer than the last one
 * accepted from it (handshake_timestamp_is_newer), else wipe hs. */
int handshake_consume_initiation(struct handshake *hs, const struct handshake_identity *id,
				 const uint8_t *msg, size_t len,
				 uint8_t peer_static_out[NOISE_PUBLIC_KEY_LEN],
				 uint8_t timestamp_out[NOISE_TIMESTAMP_LEN],
				 uint32_t *sender_index_out);

/* Responder: write the response (mac fields zero).  The psk mixed in is
 * id->psk, so pass the identity that belongs to the peer identified by
 * handshake_consume_initiation.  Afterwards keys can be derived. */
int handshake_create_response(struct handshake *hs, const struct handshake_identity *id,
			      uint32_t sender_index, uint8_t out[MSG_RESPONSE_LEN]);

/* Initiator: process a response (len must be MSG_RESPONSE_LEN) whose
 * receiver index must be our sender index; returns the responder's sender
 * index.  Afterwards keys can be derived.  On failure hs is left as it was
 * (still waiting), so a forged response cannot cancel the handshake. */
int handshake_consume_response(struct handshake *hs, const uint8_t *msg, size_t len,
			       uint32_t *sender_index_out);

/* After the handshake completed on this side: the transport keys from
 * Split() (initiator sends with the first), then hs is wiped. */
int handshake_derive_keys(struct handshake *hs, uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN],
			  uint8_t recv_key[NOISE_SYMMETRIC_KEY_LEN]);

void handshake_wipe(struct handshake *hs);

/* TAI64N label of a realtime clock value in nanoseconds since the Unix
 * epoch: 8-byte big-endian 2^62 + seconds, 4-byte big-endian nanoseconds. */
void handshake_tai64n_now(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t realtime_ns);

/* True when timestamp a is strictly later than b (not constant time:
 * timestamps are not secret once decrypted). */
bool handshake_timestamp_is_newer(const uint8_t a[NOISE_TIMESTAMP_LEN],
				  const uint8_t b[NOISE_TIMESTAMP_LEN]);

#endif
