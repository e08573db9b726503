/* crypto/cookie.c: MAC1/MAC2 and cookie replies (see cookie.h). */
#include "crypto/cookie.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>

#include "crypto/hash.h"

static const char LABEL_MAC1[8] = "mac1----";
static const char LABEL_COOKIE[8] = "cookie--";

enum { MACS_LEN = 2 * MAC_LEN };

static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == COOKIE_NONCE_LEN, "nonce");
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == COOKIE_KEY_LEN, "key");
static_assert((int)MAC_LEN == (int)HASH_MAC_LEN && (int)COOKIE_KEY_LEN == (int)HASH_LEN, "WireGuard sizes");
static_assert((int)COOKIE_SECRET_LEN <= (int)HASH_KEY_MAX && (int)COOKIE_LEN <= (int)HASH_KEY_MAX, "MAC keys");

/* key = HASH(label || pub) */
static void derive_key(uint8_t key[COOKIE_KEY_LEN], const char label[8],
		       const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	hash_blake2s(key, (const uint8_t *)label, 8, pub, NOISE_PUBLIC_KEY_LEN);
}

/* Only whole initiation or response messages carry macs. */
static bool macs_message(const uint8_t *msg, size_t len)
{
	return (len == MSG_INITIATION_LEN && msg[0] == MSG_INITIATION) ||
	       (len == MSG_RESPONSE_LEN && msg[0] == MSG_RESPONSE);
}

/* mac1 covers everything before the macs, mac2 everything before mac2. */
static void compute_mac1(uint8_t mac[MAC_LEN], const uint8_t *msg, size_t len,
			 const uint8_t key[COOKIE_KEY_LEN])
{
	hash_mac(mac, key, COOKIE_KEY_LEN, msg, len - MACS_LEN);
}

static void compute_mac2(uint8_t mac[MAC_LEN], const uint8_t *msg, size_t len,
			 const uint8_t cookie[COOKIE_LEN])
{
	hash_mac(mac, cookie, COOKIE_LEN, msg, len - MAC_LEN);
}

/* cookie = MAC(secret, address bytes || port (network order)), as the
 * WireGuard kernel module does; only its maker ever checks it. */
static int make_cookie(struct cookie_checker *cc, uint8_t cookie[COOKIE_LEN],
		       const struct sockaddr *src, uint64_t now_ns)
{
	uint8_t id[16 + 2];
	size_t id_len;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	switch (src->sa_family) {
	case AF_INET:
		memcpy(&sin, src, sizeof(sin));
		memcpy(id, &sin.sin_addr, 4);
		memcpy(id + 4, &sin.sin_port, 2);
		id_len = 6;
		break;
	case AF_INET6:
		memcpy(&sin6, src, sizeof(sin6));
		memcpy(id, &sin6.sin6_addr, 16);
		memcpy(id + 16, &sin6.sin6_port, 2);
		id_len = 18;
		break;
	default:
		return -EINVAL;
	}
	if (!cc->has_secret || now_ns - cc->secret_birth_ns >= COOKIE_SECRET_MAX_AGE_NS ||
	    now_ns < cc->secret_birth_ns) {
		randombytes_buf(cc->secret, sizeof(cc->secret));
		cc->secret_birth_ns = now_ns;
		cc->has_secret = true;
	}
	hash_mac(cookie, cc->secret, sizeof(cc->secret), id, id_len);
	return 0;
}

void cookie_checker_init(struct cookie_checker *cc, const uint8_t our_pub[NOISE_PUBLIC_KEY_LEN])
{
	memset(cc, 0, sizeof(*cc));
	derive_key(cc->mac1_key, LABEL_MAC1, our_pub);
	derive_key(cc->cookie_key, LABEL_COOKIE, our_pub);
}

void cookie_checker_wipe(struct cookie_checker *cc)
{
	sodium_memzero(cc, sizeof(*cc));
}

enum cookie_result cookie_validate(struct cookie_checker *cc, const uint8_t *msg, size_t len,
				   const struct sockaddr *src, bool under_load, uint64_t now_ns)
{
	uint8_t mac[MAC_LEN], cookie[COOKIE_LEN];
	enum cookie_result ret = COOKIE_MAC1_BAD;

	if (!macs_message(msg, len))
		return COOKIE_MAC1_BAD;
	compute_mac1(mac, msg, len, cc->mac1_key);
	if (crypto_verify_16(mac, msg + len - MACS_LEN) != 0)
		goto out;
	ret = COOKIE_VALID;
	if (!under_load)
		goto out;
	ret = COOKIE_MAC1_OK_NEED_COOKIE;
	if (make_cookie(cc, cookie, src, now_ns) != 0)
		goto out;
	compute_mac2(mac, msg, len, cookie);
	if (crypto_verify_16(mac, msg + len - MAC_LEN) == 0)
		ret = COOKIE_VALID;
out:
	sodium_memzero(cookie, sizeof(cookie));
	return ret;
}

int cookie_create_reply(struct cookie_checker *cc, const uint8_t *msg, size_t len,
			uint32_t sender_index, const struct sockaddr *src,
			uint8_t out[MSG_COOKIE_LEN], uint64_t now_ns)
{
	uint8_t cookie[COOKIE_LEN];
	unsigned long long clen;
	int ret;

	if (!macs_message(msg, len))
		return -EINVAL;
	ret = make_cookie(cc, cookie, src, now_ns);
	if (ret != 0)
		return ret;
	out[0] = MSG_COOKIE;
	out[1] = out[2] = out[3] = 0;
	store_le32(out + 4, sender_index);
	randombytes_buf(out + 8, COOKIE_NONCE_LEN);
	ret = crypto_aead_xchacha20poly1305_ietf_encrypt(out + 8 + COOKIE_NONCE_LEN, &clen,
							 cookie, COOKIE_LEN,
							 msg + len - MACS_LEN, MAC_LEN, NULL,
							 out + 8, cc->cookie_key);
	sodium_memzero(cookie, sizeof(cookie));
	if (ret != 0 || clen != NOISE_ENCRYPTED_LEN(COOKIE_LEN)) {
		sodium_memzero(out, MSG_COOKIE_LEN);
		return -EINVAL;
	}
	return 0;
}

void cookie_maker_init(struct cookie_maker *cm, const uint8_t peer_pub[NOISE_PUBLIC_KEY_LEN])
{
	memset(cm, 0, sizeof(*cm));
	derive_key(cm->mac1_key, LABEL_MAC1, peer_pub);
	derive_key(cm->cookie_key, LABEL_COOKIE, peer_pub);
}

void cookie_maker_wipe(struct cookie_maker *cm)
{
	sodium_memzero(cm, sizeof(*cm));
}

int cookie_add_macs(struct cookie_maker *cm, uint8_t *msg, size_t len, uint64_t now_ns)
{
	uint8_t *mac1, *mac2;

	if (!macs_message(msg, len))
		return -EINVAL;
	mac1 = msg + len - MACS_LEN;
	mac2 = msg + len - MAC_LEN;
	compute_mac1(mac1, msg, len, cm->mac1_key);
	memcpy(cm->last_mac1, mac1, MAC_LEN);
	cm->has_last_mac1 = true;

	if (cm->has_cookie && now_ns >= cm->cookie_birth_ns &&
	    now_ns - cm->cookie_birth_ns < COOKIE_SECRET_MAX_AGE_NS - COOKIE_SECRET_LATENCY_NS)
		compute_mac2(mac2, msg, len, cm->cookie);
	else
		memset(mac2, 0, MAC_LEN);
	return 0;
}

int cookie_consume_reply(struct cookie_maker *cm, const uint8_t *reply, size_t len,
			 uint64_t now_ns)
{
	uint8_t cookie[COOKIE_LEN];
	unsigned long long clen;

	if (len != MSG_COOKIE_LEN || reply[0] != MSG_COOKIE || reply[1] || reply[2] || reply[3])
		return -EINVAL;
	if (!cm->has_last_mac1)
		return -ENOENT;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, &clen, NULL,
						       reply + 8 + COOKIE_NONCE_LEN,
						       NOISE_ENCRYPTED_LEN(COOKIE_LEN),
						       cm->last_mac1, MAC_LEN,
						       reply + 8, cm->cookie_key) != 0 ||
	    clen != COOKIE_LEN) {
		sodium_memzero(cookie, sizeof(cookie));
		return -EBADMSG;
	}
	memcpy(cm->cookie, cookie, COOKIE_LEN);
	sodium_memzero(cookie, sizeof(cookie));
	cm->cookie_birth_ns = now_ns;
	cm->has_cookie = true;
	cm->has_last_mac1 = false;
	return 0;
}
