/* crypto/noise.h: Noise IK / IKpsk2 handshake, 25519 + ChaChaPoly + BLAKE2s.
 *
 * Implements the Noise Protocol Framework (rev 34) for exactly one pattern
 * family, parameterised by protocol name, prologue, payloads, role and an
 * optional pre-shared key:
 *
 *   IK:      <- s
 *            ...
 *            -> e, es, s, ss
 *            <- e, ee, se
 *   IKpsk2:  same, with "psk" at the end of message 2, and every "e" token
 *            also doing MixKey(e.public_key).
 *
 * HASHLEN is 32 (BLAKE2s); cipher keys are the HKDF outputs.  The AEAD
 * is IETF ChaCha20-Poly1305 with the nonce 4 zero bytes followed by the
 * 64-bit little-endian counter.  DH results that are
 * all-zero (low-order peer points) make the operation fail.
 *
 * All secret state lives in struct noise_handshake / struct noise_cipher,
 * which the caller may place in sodium_malloc'd memory; nothing here
 * allocates.  Any failed read or write wipes the handshake, which must then
 * be initialised again.  Functions return 0 or a length on success, -1 on
 * failure; nothing logs.
 */
#ifndef GRESEC_CRYPTO_NOISE_H
#define GRESEC_CRYPTO_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/wire.h"

enum {
	NOISE_MAX_MESSAGE_LEN = 65535, /* Noise spec section 3 */
	/* Handshake message overheads for IK (payload length excluded). */
	NOISE_IK_MSG1_OVERHEAD = NOISE_PUBLIC_KEY_LEN + NOISE_ENCRYPTED_LEN(NOISE_PUBLIC_KEY_LEN) +
				 NOISE_AUTHTAG_LEN,
	NOISE_IK_MSG2_OVERHEAD = NOISE_PUBLIC_KEY_LEN + NOISE_AUTHTAG_LEN,
};

/* A Noise CipherState.  n == UINT64_MAX is reserved: encrypt/decrypt refuse
 * it, so a cipher never reuses a nonce. */
struct noise_cipher {
	uint8_t k[NOISE_SYMMETRIC_KEY_LEN];
	uint64_t n;
	bool has_key;
};

/* EncryptWithAd: out receives len + 16 bytes (len bytes when there is no
 * key yet, per the spec).  in == out is allowed; otherwise they must not
 * overlap.  Increments n on success. */
int noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t len, uint8_t *out);

/* DecryptWithAd: len includes the 16-byte tag; out receives len - 16 bytes
 * (len bytes when there is no key).  in == out is allowed.  On failure n is
 * unchanged and out is zeroed. */
int noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t len, uint8_t *out);

void noise_cipher_wipe(struct noise_cipher *c);

enum noise_hs_state {
	NOISE_HS_EMPTY = 0,   /* zeroed, wiped or failed */
	NOISE_HS_MSG1,        /* initialised: message 1 is next */
	NOISE_HS_MSG2,        /* message 1 done: message 2 is next */
	NOISE_HS_DONE,        /* both messages done: split allowed */
};

struct noise_handshake {
	/* SymmetricState */
	uint8_t ck[NOISE_HASH_LEN];
	uint8_t h[NOISE_HASH_LEN];
	struct noise_cipher cs;
	/* HandshakeState */
	uint8_t s_priv[NOISE_PUBLIC_KEY_LEN], s_pub[NOISE_PUBLIC_KEY_LEN];
	uint8_t e_priv[NOISE_PUBLIC_KEY_LEN], e_pub[NOISE_PUBLIC_KEY_LEN];
	uint8_t rs[NOISE_PUBLIC_KEY_LEN], re[NOISE_PUBLIC_KEY_LEN];
	uint8_t psk[NOISE_SYMMETRIC_KEY_LEN];
	bool is_initiator;
	bool psk_mode;        /* IKpsk2: e tokens MixKey, psk token in msg 2 */
	bool e_set;           /* ephemeral injected by noise_handshake_set_ephemeral */
	enum noise_hs_state state;
};

/* Initialise for one handshake.  protocol_name must be
 * "Noise_IK_25519_ChaChaPoly_BLAKE2s" when psk is NULL and
 * "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s" when it is not (anything else is
 * refused: this code implements only those).  s_priv is our static private
 * key.  rs is the responder's static public key: required for the
 * initiator, must be NULL for the responder (which learns it from message 1).
 * prologue may be NULL when prologue_len is 0.  Returns 0 or -1. */
int noise_handshake_init(struct noise_handshake *hs, const char *protocol_name, bool is_initiator,
			 const uint8_t *prologue, size_t prologue_len,
			 const uint8_t s_priv[NOISE_PUBLIC_KEY_LEN],
			 const uint8_t rs[NOISE_PUBLIC_KEY_LEN],
			 const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN]);

/* Replace the psk (psk mode only) before message 2 is written/read, so a
 * responder can pick the psk of the peer it identified from message 1. */
int noise_handshake_set_psk(struct noise_handshake *hs, const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN]);

/* Use e_priv as the ephemeral key instead of a fresh random one (test
 * vectors).  Only before this side's "e" token.  Returns 0 or -1. */
int noise_handshake_set_ephemeral(struct noise_handshake *hs,
				  const uint8_t e_priv[NOISE_PUBLIC_KEY_LEN]);

/* Initiator: write message 1 (-> e, es, s, ss, payload) into out (capacity
 * out_cap, needs NOISE_IK_MSG1_OVERHEAD + payload_len).  Returns the message
 * length or -1.  payload may be NULL when payload_len is 0. */
int noise_write_message1(struct noise_handshake *hs, const uint8_t *payload, size_t payload_len,
			 uint8_t *out, size_t out_cap);

/* Responder: read message 1; the decrypted payload (len - overhead bytes)
 * goes to payload_out (capacity payload_cap; must not overlap msg).
 * Returns the payload length or -1. */
int noise_read_message1(struct noise_handshake *hs, const uint8_t *msg, size_t len,
			uint8_t *payload_out, size_t payload_cap);

/* Responder: write message 2 (<- e, ee, se [, psk], payload). */
int noise_write_message2(struct noise_handshake *hs, const uint8_t *payload, size_t payload_len,
			 uint8_t *out, size_t out_cap);

/* Initiator: read message 2. */
int noise_read_message2(struct noise_handshake *hs, const uint8_t *msg, size_t len,
			uint8_t *payload_out, size_t payload_cap);

/* Split() after message 2: send/recv get the CipherStates for this side
 * (initiator sends with the first, responder with the second).  The
 * handshake is left intact (for noise_handshake_hash); wipe it after.
 * Returns 0 or -1 (handshake not complete). */
int noise_handshake_split(struct noise_handshake *hs, struct noise_cipher *send,
			  struct noise_cipher *recv);

/* The handshake hash h (channel binding): valid after message 2. */
const uint8_t *noise_handshake_hash(const struct noise_handshake *hs);

/* The remote static public key: the responder learns it from message 1;
 * NULL before that. */
const uint8_t *noise_handshake_remote_static(const struct noise_handshake *hs);

void noise_handshake_wipe(struct noise_handshake *hs);

#endif
