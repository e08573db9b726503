/* crypto/hash.h: the BLAKE2s primitives of the WireGuard protocol.
 *
 * WireGuard (whitepaper section 5.4) builds everything on BLAKE2s from
 * libb2, the BLAKE2 authors' library (libsodium has only BLAKE2b):
 *   HASH(x)       BLAKE2s-256 of x
 *   MAC(key, x)   keyed BLAKE2s with a 16-byte output
 *   HMAC(key, x)  HMAC-BLAKE2s per RFC 2104 (block 64, output 32): Noise
 *                 needs real HMAC over the unkeyed hash, not keyed BLAKE2s
 *   HKDF          Noise's HKDF (revision 34, section 4.3) over that HMAC
 * None of these can fail for the lengths used here; a failure of libb2 is a
 * programming error and aborts.
 */
#ifndef GRESEC_CRYPTO_HASH_H
#define GRESEC_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

enum {
	HASH_LEN       = 32, /* BLAKE2s-256: Noise HASHLEN */
	HASH_BLOCK_LEN = 64, /* BLAKE2s block: RFC 2104 "B" */
	HASH_MAC_LEN   = 16, /* WireGuard's MAC output */
	HASH_KEY_MAX   = 32, /* longest key keyed BLAKE2s takes */
};

/* out = HASH(a || b); b may be NULL when b_len is 0. */
void hash_blake2s(uint8_t out[HASH_LEN], const uint8_t *a, size_t a_len, const uint8_t *b,
		  size_t b_len);

/* out = MAC(key, msg): keyed BLAKE2s-128; 1 <= key_len <= HASH_KEY_MAX. */
void hash_mac(uint8_t out[HASH_MAC_LEN], const uint8_t *key, size_t key_len, const uint8_t *msg,
	      size_t msg_len);

/* out = HMAC-BLAKE2s(key, msg).  Keys longer than the block are hashed
 * first (RFC 2104).  key and msg may be NULL when their length is 0. */
void hash_hmac(uint8_t out[HASH_LEN], const uint8_t *key, size_t key_len, const uint8_t *msg,
	       size_t msg_len);

/* Noise HKDF(chaining_key, input_key_material, num_outputs):
 *   temp_key = HMAC(ck, ikm)
 *   out1 = HMAC(temp_key, 0x01)
 *   out2 = HMAC(temp_key, out1 || 0x02)
 *   out3 = HMAC(temp_key, out2 || 0x03)      (only when out3 != NULL)
 * Each output is HASH_LEN bytes.  out1/out2/out3 may alias ck (ck is
 * consumed before any output is written).  ikm may be NULL when ikm_len is 0. */
void hash_hkdf(uint8_t *out1, uint8_t *out2, uint8_t *out3, const uint8_t ck[HASH_LEN],
	       const uint8_t *ikm, size_t ikm_len);

#endif
