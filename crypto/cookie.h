/* crypto/cookie.h: MAC1/MAC2 and cookie replies, exactly as WireGuard
 * (whitepaper 5.4.4 and 5.4.7, the kernel module's cookie.c).
 *
 * Handshake messages (initiation, 148 bytes; response, 92 bytes) end with
 * mac1 || mac2, 16 bytes each:
 *   mac1 = MAC(HASH("mac1----" || receiver's static pub), msg up to mac1)
 *   mac2 = MAC(cookie, msg up to mac2), or zeros without a cookie
 * (HASH = BLAKE2s-256, MAC = keyed BLAKE2s-128: crypto/hash.h).  The
 * receiver's cookie for a source is
 *   cookie = MAC(secret, source address bytes || source port)
 * with a random secret replaced every COOKIE_SECRET_MAX_AGE.  Under load it
 * answers messages without a valid mac2 by a cookie reply (struct
 * msg_cookie): the cookie sealed with XChaCha20-Poly1305 under
 * HASH("cookie--" || its own static pub), random 24-byte nonce, and the
 * mac1 of the triggering message as additional data, so only the sender of
 * that message can use the reply.  Both roles answer both handshake
 * messages: an initiator under load sends a cookie reply to a response.
 *
 * struct cookie_checker and struct cookie_maker hold secrets (the cookie
 * secret, a received cookie): keep them in sodium_malloc'd memory and wipe
 * them when done.  Times are monotonic nanoseconds passed in by the caller.
 */
#ifndef GRESEC_CRYPTO_COOKIE_H
#define GRESEC_CRYPTO_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tunnel/wire.h"

#define COOKIE_SECRET_MAX_AGE_NS (UINT64_C(120) * 1000000000u)
/* The initiator stops using a cookie a little before the responder's
 * secret can have rotated (WireGuard's COOKIE_SECRET_LATENCY). */
#define COOKIE_SECRET_LATENCY_NS (UINT64_C(5) * 1000000000u)

enum { COOKIE_KEY_LEN = 32, COOKIE_SECRET_LEN = 32 };

enum cookie_result {
	COOKIE_MAC1_BAD = 0,          /* drop: bad mac1, wrong length or type */
	COOKIE_MAC1_OK_NEED_COOKIE,   /* under load without a valid mac2: send a cookie reply */
	COOKIE_VALID,                 /* process (mac1 ok; under load, mac2 ok too) */
};

/* Responder side: one per local static key. */
struct cookie_checker {
	uint8_t mac1_key[COOKIE_KEY_LEN];
	uint8_t cookie_key[COOKIE_KEY_LEN];
	uint8_t secret[COOKIE_SECRET_LEN];
	uint64_t secret_birth_ns;
	bool has_secret;
};

/* Initiator side: one per peer. */
struct cookie_maker {
	uint8_t mac1_key[COOKIE_KEY_LEN];
	uint8_t cookie_key[COOKIE_KEY_LEN];
	uint8_t cookie[COOKIE_LEN];
	uint64_t cookie_birth_ns;
	bool has_cookie;
	uint8_t last_mac1[MAC_LEN];   /* of the last message sent, for the reply's AD */
	bool has_last_mac1;
};

void cookie_checker_init(struct cookie_checker *cc, const uint8_t our_pub[NOISE_PUBLIC_KEY_LEN]);
void cookie_checker_wipe(struct cookie_checker *cc);

/* Check a received handshake message (msg, len: the whole UDP payload) from
 * src (AF_INET or AF_INET6).  mac2 is only looked at when under_load. */
enum cookie_result cookie_validate(struct cookie_checker *cc, const uint8_t *msg, size_t len,
				   const struct sockaddr *src, bool under_load, uint64_t now_ns);

/* Build the cookie reply to msg (which cookie_validate accepted as
 * COOKIE_MAC1_OK_NEED_COOKIE) into out.  sender_index is the sender field of
 * msg; it goes into the reply's receiver field (le32).  0, or -EINVAL for a
 * wrong length or an unsupported address family. */
int cookie_create_reply(struct cookie_checker *cc, const uint8_t *msg, size_t len,
			uint32_t sender_index, const struct sockaddr *src,
			uint8_t out[MSG_COOKIE_LEN], uint64_t now_ns);

void cookie_maker_init(struct cookie_maker *cm, const uint8_t peer_pub[NOISE_PUBLIC_KEY_LEN]);
void cookie_maker_wipe(struct cookie_maker *cm);

/* Fill in mac1 and mac2 (zeros unless a cookie younger than
 * COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY is held) of an outgoing
 * initiation or response.  0, or -EINVAL for a wrong length or type. */
int cookie_add_macs(struct cookie_maker *cm, uint8_t *msg, size_t len, uint64_t now_ns);

/* Take the cookie from a cookie reply to the last message we sent.  A reply
 * is used at most once.  0; -EINVAL wrong length or type; -ENOENT no message
 * sent that it could answer; -EBADMSG authentication failed. */
int cookie_consume_reply(struct cookie_maker *cm, const uint8_t *reply, size_t len,
			 uint64_t now_ns);

#endif
