/* crypto/noise.c: Noise IK / IKpsk2 with 25519, ChaChaPoly and BLAKE2s. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "crypto/hash.h"
#include "crypto/noise.h"

static_assert((int)NOISE_HASH_LEN == (int)HASH_LEN, "Noise HASHLEN is BLAKE2s-256");
static_assert(NOISE_SYMMETRIC_KEY_LEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES, "key size");
static_assert(NOISE_AUTHTAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES, "tag size");
static_assert(NOISE_PUBLIC_KEY_LEN == crypto_scalarmult_BYTES, "DH size");

static const char proto_ik[] = "Noise_IK_25519_ChaChaPoly_BLAKE2s";
static const char proto_ikpsk2[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";

/* ---- CipherState ---- */

static void cipher_nonce(uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES], uint64_t n)
{
	memset(nonce, 0, 4);
	store_le64(nonce + 4, n);
}

static void cipher_init_key(struct noise_cipher *c, const uint8_t k[NOISE_SYMMETRIC_KEY_LEN])
{
	memcpy(c->k, k, NOISE_SYMMETRIC_KEY_LEN);
	c->n = 0;
	c->has_key = true;
}

int noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	unsigned long long clen;

	if (!c->has_key) {
		if (len && in != out)
			memmove(out, in, len);
		return 0;
	}
	if (c->n == UINT64_MAX || len > NOISE_MAX_MESSAGE_LEN)
		return -1;
	cipher_nonce(nonce, c->n);
	if (crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, in, len, ad, ad_len, NULL,
						      nonce, c->k) != 0)
		return -1;
	c->n++;
	return 0;
}

int noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint8_t none[1];
	unsigned long long mlen;

	if (!c->has_key) {
		if (len && in != out)
			memmove(out, in, len);
		return 0;
	}
	if (c->n == UINT64_MAX || len < NOISE_AUTHTAG_LEN || len > NOISE_MAX_MESSAGE_LEN)
		return -1;
	if (!out) {
		/* An empty plaintext may have nowhere to go. */
		if (len != NOISE_AUTHTAG_LEN)
			return -1;
		out = none; /* receives 0 bytes */
	}
	cipher_nonce(nonce, c->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, in, len, ad, ad_len,
						      nonce, c->k) != 0) {
		/* libsodium zeroes out on failure; keep that promise explicit */
		sodium_memzero(out, len - NOISE_AUTHTAG_LEN);
		return -1;
	}
	c->n++;
	return 0;
}

void noise_cipher_wipe(struct noise_cipher *c)
{
	sodium_memzero(c, sizeof(*c));
}

/* ---- SymmetricState ---- */

static void mix_hash(struct noise_handshake *hs, const uint8_t *data, size_t len)
{
	hash_blake2s(hs->h, hs->h, sizeof(hs->h), data, len);
}

static void mix_key(struct noise_handshake *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[NOISE_HASH_LEN];

	hash_hkdf(hs->ck, temp_k, NULL, hs->ck, ikm, len);
	cipher_init_key(&hs->cs, temp_k);
	sodium_memzero(temp_k, sizeof(temp_k));
}

static void mix_key_and_hash(struct noise_handshake *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_h[NOISE_HASH_LEN], temp_k[NOISE_HASH_LEN];

	hash_hkdf(hs->ck, temp_h, temp_k, hs->ck, ikm, len);
	mix_hash(hs, temp_h, sizeof(temp_h));
	cipher_init_key(&hs->cs, temp_k);
	sodium_memzero(temp_h, sizeof(temp_h));
	sodium_memzero(temp_k, sizeof(temp_k));
}

/* out must hold len (+16 once keyed) bytes and must not overlap in. */
static int encrypt_and_hash(struct noise_handshake *hs, const uint8_t *in, size_t len,
			    uint8_t *out, size_t *out_len)
{
	size_t clen = hs->cs.has_key ? len + NOISE_AUTHTAG_LEN : len;

	if (noise_cipher_encrypt(&hs->cs, hs->h, sizeof(hs->h), in, len, out) != 0)
		return -1;
	mix_hash(hs, out, clen);
	*out_len = clen;
	return 0;
}

/* h is updated with the ciphertext before it is decrypted so that in and
 * out may be the same buffer; the old h is the associated data. */
static int decrypt_and_hash(struct noise_handshake *hs, const uint8_t *in, size_t len,
			    uint8_t *out)
{
	uint8_t new_h[NOISE_HASH_LEN];
	int ret;

	hash_blake2s(new_h, hs->h, sizeof(hs->h), in, len);
	ret = noise_cipher_decrypt(&hs->cs, hs->h, sizeof(hs->h), in, len, out);
	if (ret == 0)
		memcpy(hs->h, new_h, sizeof(hs->h));
	sodium_memzero(new_h, sizeof(new_h));
	return ret;
}

/* ---- DH ---- */

static int dh(uint8_t out[NOISE_PUBLIC_KEY_LEN], const uint8_t priv[NOISE_PUBLIC_KEY_LEN],
	      const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	if (crypto_scalarmult(out, priv, pub) != 0 || sodium_is_zero(out, NOISE_PUBLIC_KEY_LEN)) {
		sodium_memzero(out, NOISE_PUBLIC_KEY_LEN);
		return -1;
	}
	return 0;
}

/* MixKey(DH(priv, pub)), wiping the shared secret. */
static int mix_dh(struct noise_handshake *hs, const uint8_t *priv, const uint8_t *pub)
{
	uint8_t shared[NOISE_PUBLIC_KEY_LEN];

	if (dh(shared, priv, pub) != 0)
		return -1;
	mix_key(hs, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return 0;
}

/* ---- HandshakeState ---- */

int noise_handshake_init(struct noise_handshake *hs, const char *protocol_name, bool is_initiator,
			 const uint8_t *prologue, size_t prologue_len,
			 const uint8_t s_priv[NOISE_PUBLIC_KEY_LEN],
			 const uint8_t rs[NOISE_PUBLIC_KEY_LEN],
			 const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
	size_t name_len;

	sodium_memzero(hs, sizeof(*hs));
	if (!protocol_name || !s_priv || (is_initiator != (rs != NULL)))
		return -1;
	if (strcmp(protocol_name, psk ? proto_ikpsk2 : proto_ik) != 0)
		return -1;
	if (prologue_len && !prologue)
		return -1;

	/* InitializeSymmetric: a name longer than HASHLEN (both of ours are)
	 * is hashed, a shorter one zero-padded. */
	name_len = strlen(protocol_name);
	if (name_len <= NOISE_HASH_LEN)
		memcpy(hs->h, protocol_name, name_len);
	else
		hash_blake2s(hs->h, (const uint8_t *)protocol_name, name_len, NULL, 0);
	memcpy(hs->ck, hs->h, sizeof(hs->ck));
	mix_hash(hs, prologue, prologue_len);

	memcpy(hs->s_priv, s_priv, sizeof(hs->s_priv));
	if (crypto_scalarmult_base(hs->s_pub, hs->s_priv) != 0)
		goto fail;
	hs->is_initiator = is_initiator;
	hs->psk_mode = psk != NULL;
	if (psk)
		memcpy(hs->psk, psk, sizeof(hs->psk));

	/* Pre-message "<- s": both sides hash the responder's static key. */
	if (is_initiator) {
		memcpy(hs->rs, rs, sizeof(hs->rs));
		mix_hash(hs, hs->rs, sizeof(hs->rs));
	} else {
		mix_hash(hs, hs->s_pub, sizeof(hs->s_pub));
	}
	hs->state = NOISE_HS_MSG1;
	return 0;
fail:
	noise_handshake_wipe(hs);
	return -1;
}

int noise_handshake_set_psk(struct noise_handshake *hs, const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
	if (!hs->psk_mode || !psk || hs->state == NOISE_HS_EMPTY || hs->state == NOISE_HS_DONE)
		return -1;
	memcpy(hs->psk, psk, sizeof(hs->psk));
	return 0;
}

int noise_handshake_set_ephemeral(struct noise_handshake *hs,
				  const uint8_t e_priv[NOISE_PUBLIC_KEY_LEN])
{
	/* Our "e" is in message 1 for the initiator, message 2 for the responder. */
	enum noise_hs_state before = hs->is_initiator ? NOISE_HS_MSG1 : NOISE_HS_MSG2;

	if (hs->state == NOISE_HS_EMPTY || hs->state > before)
		return -1;
	memcpy(hs->e_priv, e_priv, sizeof(hs->e_priv));
	if (crypto_scalarmult_base(hs->e_pub, hs->e_priv) != 0) {
		sodium_memzero(hs->e_priv, sizeof(hs->e_priv));
		return -1;
	}
	hs->e_set = true;
	return 0;
}

/* "e" token, writing side. */
static int write_e(struct noise_handshake *hs, uint8_t *out)
{
	if (!hs->e_set) {
		randombytes_buf(hs->e_priv, sizeof(hs->e_priv));
		if (crypto_scalarmult_base(hs->e_pub, hs->e_priv) != 0)
			return -1;
	}
	memcpy(out, hs->e_pub, NOISE_PUBLIC_KEY_LEN);
	mix_hash(hs, hs->e_pub, sizeof(hs->e_pub));
	if (hs->psk_mode)
		mix_key(hs, hs->e_pub, sizeof(hs->e_pub));
	return 0;
}

/* "e" token, reading side. */
static void read_e(struct noise_handshake *hs, const uint8_t *in)
{
	memcpy(hs->re, in, NOISE_PUBLIC_KEY_LEN);
	mix_hash(hs, hs->re, sizeof(hs->re));
	if (hs->psk_mode)
		mix_key(hs, hs->re, sizeof(hs->re));
}

static int check_payload(size_t payload_len, size_t overhead, size_t out_cap)
{
	if (payload_len > NOISE_MAX_MESSAGE_LEN - overhead || out_cap < overhead + payload_len)
		return -1;
	return 0;
}

int noise_write_message1(struct noise_handshake *hs, const uint8_t *payload, size_t payload_len,
			 uint8_t *out, size_t out_cap)
{
	size_t off = 0, n;

	if (hs->state != NOISE_HS_MSG1 || !hs->is_initiator ||
	    check_payload(payload_len, NOISE_IK_MSG1_OVERHEAD, out_cap) != 0)
		return -1;
	if (write_e(hs, out) != 0)                                   /* e */
		goto fail;
	off += NOISE_PUBLIC_KEY_LEN;
	if (mix_dh(hs, hs->e_priv, hs->rs) != 0)                     /* es */
		goto fail;
	if (encrypt_and_hash(hs, hs->s_pub, sizeof(hs->s_pub), out + off, &n) != 0) /* s */
		goto fail;
	off += n;
	if (mix_dh(hs, hs->s_priv, hs->rs) != 0)                     /* ss */
		goto fail;
	if (encrypt_and_hash(hs, payload, payload_len, out + off, &n) != 0)
		goto fail;
	off += n;
	hs->state = NOISE_HS_MSG2;
	return (int)off;
fail:
	noise_handshake_wipe(hs);
	return -1;
}

int noise_read_message1(struct noise_handshake *hs, const uint8_t *msg, size_t len,
			uint8_t *payload_out, size_t payload_cap)
{
	size_t off = 0, payload_len;

	if (hs->state != NOISE_HS_MSG1 || hs->is_initiator)
		return -1;
	if (len < NOISE_IK_MSG1_OVERHEAD || len > NOISE_MAX_MESSAGE_LEN)
		goto fail;
	payload_len = len - NOISE_IK_MSG1_OVERHEAD;
	if (payload_cap < payload_len)
		goto fail;
	read_e(hs, msg);                                             /* e */
	off += NOISE_PUBLIC_KEY_LEN;
	if (mix_dh(hs, hs->s_priv, hs->re) != 0)                     /* es */
		goto fail;
	if (decrypt_and_hash(hs, msg + off, NOISE_ENCRYPTED_LEN(NOISE_PUBLIC_KEY_LEN), hs->rs) != 0)
		goto fail;                                           /* s */
	off += NOISE_ENCRYPTED_LEN(NOISE_PUBLIC_KEY_LEN);
	if (mix_dh(hs, hs->s_priv, hs->rs) != 0)                     /* ss */
		goto fail;
	if (decrypt_and_hash(hs, msg + off, payload_len + NOISE_AUTHTAG_LEN, payload_out) != 0)
		goto fail;
	hs->state = NOISE_HS_MSG2;
	return (int)payload_len;
fail:
	noise_handshake_wipe(hs);
	return -1;
}

/* The "psk" token closes message 2 in IKpsk2. */
static void mix_psk(struct noise_handshake *hs)
{
	if (hs->psk_mode)
		mix_key_and_hash(hs, hs->psk, sizeof(hs->psk));
}

int noise_write_message2(struct noise_handshake *hs, const uint8_t *payload, size_t payload_len,
			 uint8_t *out, size_t out_cap)
{
	size_t off = 0, n;

	if (hs->state != NOISE_HS_MSG2 || hs->is_initiator ||
	    check_payload(payload_len, NOISE_IK_MSG2_OVERHEAD, out_cap) != 0)
		return -1;
	if (write_e(hs, out) != 0)                                   /* e */
		goto fail;
	off += NOISE_PUBLIC_KEY_LEN;
	if (mix_dh(hs, hs->e_priv, hs->re) != 0)                     /* ee */
		goto fail;
	if (mix_dh(hs, hs->e_priv, hs->rs) != 0)                     /* se */
		goto fail;
	mix_psk(hs);                                                 /* psk */
	if (encrypt_and_hash(hs, payload, payload_len, out + off, &n) != 0)
		goto fail;
	off += n;
	hs->state = NOISE_HS_DONE;
	return (int)off;
fail:
	noise_handshake_wipe(hs);
	return -1;
}

int noise_read_message2(struct noise_handshake *hs, const uint8_t *msg, size_t len,
			uint8_t *payload_out, size_t payload_cap)
{
	size_t payload_len;

	if (hs->state != NOISE_HS_MSG2 || !hs->is_initiator)
		return -1;
	if (len < NOISE_IK_MSG2_OVERHEAD || len > NOISE_MAX_MESSAGE_LEN)
		goto fail;
	payload_len = len - NOISE_IK_MSG2_OVERHEAD;
	if (payload_cap < payload_len)
		goto fail;
	read_e(hs, msg);                                             /* e */
	if (mix_dh(hs, hs->e_priv, hs->re) != 0)                     /* ee */
		goto fail;
	if (mix_dh(hs, hs->s_priv, hs->re) != 0)                     /* se */
		goto fail;
	mix_psk(hs);                                                 /* psk */
	if (decrypt_and_hash(hs, msg + NOISE_PUBLIC_KEY_LEN, payload_len + NOISE_AUTHTAG_LEN,
			     payload_out) != 0)
		goto fail;
	hs->state = NOISE_HS_DONE;
	return (int)payload_len;
fail:
	noise_handshake_wipe(hs);
	return -1;
}

int noise_handshake_split(struct noise_handshake *hs, struct noise_cipher *send,
			  struct noise_cipher *recv)
{
	uint8_t k1[NOISE_HASH_LEN], k2[NOISE_HASH_LEN];

	if (hs->state != NOISE_HS_DONE)
		return -1;
	hash_hkdf(k1, k2, NULL, hs->ck, NULL, 0);
	cipher_init_key(hs->is_initiator ? send : recv, k1);
	cipher_init_key(hs->is_initiator ? recv : send, k2);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	return 0;
}

const uint8_t *noise_handshake_hash(const struct noise_handshake *hs)
{
	return hs->state == NOISE_HS_DONE ? hs->h : NULL;
}

const uint8_t *noise_handshake_remote_static(const struct noise_handshake *hs)
{
	if (hs->state == NOISE_HS_EMPTY || (!hs->is_initiator && hs->state == NOISE_HS_MSG1))
		return NULL;
	return hs->rs;
}

void noise_handshake_wipe(struct noise_handshake *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}
