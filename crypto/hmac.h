/* crypto/hmac.h: HMAC-BLAKE2b (RFC 2104) and the Noise HKDF built on it.
 *
 * libsodium's keyed BLAKE2b is not HMAC; Noise (rev 34, section 4.3)
 * requires real HMAC over the unkeyed hash, so it is built here from
 * crypto_generichash_blake2b with a 128-byte block and 64-byte output.
 */
#ifndef GRESEC_CRYPTO_HMAC_H
#define GRESEC_CRYPTO_HMAC_H

#include <stddef.h>
#include <stdint.h>

enum {
	HMAC_BLAKE2B_LEN   = 64,  /* BLAKE2b-512 output, Noise HASHLEN */
	HMAC_BLAKE2B_BLOCK = 128, /* BLAKE2b block length, RFC 2104 "B" */
};

/* out = HMAC-BLAKE2b-512(key, msg).  Keys longer than the block are hashed
 * first (RFC 2104).  key and msg may be NULL when their length is 0. */
void hmac_blake2b(uint8_t out[HMAC_BLAKE2B_LEN], const uint8_t *key, size_t key_len,
		  const uint8_t *msg, size_t msg_len);

/* Noise HKDF(chaining_key, input_key_material, num_outputs):
 *   temp_key = HMAC(ck, ikm)
 *   out1 = HMAC(temp_key, 0x01)
 *   out2 = HMAC(temp_key, out1 || 0x02)
 *   out3 = HMAC(temp_key, out2 || 0x03)      (only when out3 != NULL)
 * Each output is 64 bytes.  out1/out2/out3 may alias ck (ck is consumed
 * before any output is written).  ikm may be NULL when ikm_len is 0. */
void noise_hkdf(uint8_t *out1, uint8_t *out2, uint8_t *out3, const uint8_t ck[HMAC_BLAKE2B_LEN],
		const uint8_t *ikm, size_t ikm_len);

#endif
