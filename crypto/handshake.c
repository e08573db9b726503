/* crypto/handshake.c: initiation/response messages over Noise IKpsk2. */
#include <string.h>
#include <sodium.h>

#include "crypto/handshake.h"

static const uint8_t prologue[] = HANDSHAKE_PROLOGUE;
#define PROLOGUE_LEN (sizeof(prologue) - 1) /* without the NUL */

/* Offsets inside the messages (tunnel/wire.h layouts). */
enum {
	INIT_OFF_SENDER = offsetof(struct msg_initiation, sender),
	INIT_OFF_NOISE  = offsetof(struct msg_initiation, ephemeral),
	INIT_NOISE_LEN  = offsetof(struct msg_initiation, macs) - INIT_OFF_NOISE,
	RESP_OFF_SENDER = offsetof(struct msg_response, sender),
	RESP_OFF_RECV   = offsetof(struct msg_response, receiver),
	RESP_OFF_NOISE  = offsetof(struct msg_response, ephemeral),
	RESP_NOISE_LEN  = offsetof(struct msg_response, macs) - RESP_OFF_NOISE,
};

/* The Noise message bodies are contiguous and end where the MACs start. */
static_assert(INIT_NOISE_LEN == NOISE_IK_MSG1_OVERHEAD + NOISE_TIMESTAMP_LEN, "initiation body");
static_assert(offsetof(struct msg_initiation, static_enc) == INIT_OFF_NOISE + NOISE_PUBLIC_KEY_LEN,
	      "initiation static");
static_assert((int)RESP_NOISE_LEN == (int)NOISE_IK_MSG2_OVERHEAD, "response body");

int handshake_identity_init(struct handshake_identity *id,
			    const uint8_t static_private[NOISE_PUBLIC_KEY_LEN],
			    const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
	memcpy(id->static_private, static_private, sizeof(id->static_private));
	if (psk)
		memcpy(id->psk, psk, sizeof(id->psk));
	else
		memset(id->psk, 0, sizeof(id->psk));
	if (crypto_scalarmult_base(id->static_public, id->static_private) != 0) {
		sodium_memzero(id, sizeof(*id));
		return -1;
	}
	return 0;
}

static void write_header(uint8_t *out, enum msg_type type)
{
	out[0] = (uint8_t)type;
	out[1] = out[2] = out[3] = 0;
}

static bool header_ok(const uint8_t *msg, enum msg_type type)
{
	return msg[0] == type && msg[1] == 0 && msg[2] == 0 && msg[3] == 0;
}

static int noise_start(struct handshake *hs, const struct handshake_identity *id,
		       bool initiator, const uint8_t *peer_static)
{
	return noise_handshake_init(&hs->noise, HANDSHAKE_PROTOCOL_NAME, initiator, prologue,
				    PROLOGUE_LEN, id->static_private, peer_static, id->psk);
}

int handshake_create_initiation(struct handshake *hs, const struct handshake_identity *id,
				const uint8_t peer_static[NOISE_PUBLIC_KEY_LEN],
				uint32_t sender_index,
				const uint8_t timestamp[NOISE_TIMESTAMP_LEN],
				uint8_t out[MSG_INITIATION_LEN])
{
	int n;

	handshake_wipe(hs);
	memset(out, 0, MSG_INITIATION_LEN);
	if (noise_start(hs, id, true, peer_static) != 0)
		goto fail;
	write_header(out, MSG_INITIATION);
	store_le32(out + INIT_OFF_SENDER, sender_index);
	n = noise_write_message1(&hs->noise, timestamp, NOISE_TIMESTAMP_LEN, out + INIT_OFF_NOISE,
				 INIT_NOISE_LEN);
	if (n != INIT_NOISE_LEN)
		goto fail;
	hs->local_index = sender_index;
	hs->state = HANDSHAKE_CREATED_INITIATION;
	return 0;
fail:
	handshake_wipe(hs);
	memset(out, 0, MSG_INITIATION_LEN);
	return -1;
}

int handshake_consume_initiation(struct handshake *hs, const struct handshake_identity *id,
				 const uint8_t *msg, size_t len,
				 uint8_t peer_static_out[NOISE_PUBLIC_KEY_LEN],
				 uint8_t timestamp_out[NOISE_TIMESTAMP_LEN],
				 uint32_t *sender_index_out)
{
	uint8_t ts[NOISE_TIMESTAMP_LEN];
	const uint8_t *rs;

	handshake_wipe(hs);
	if (len != MSG_INITIATION_LEN || !header_ok(msg, MSG_INITIATION))
		return -1;
	if (noise_start(hs, id, false, NULL) != 0)
		goto fail;
	if (noise_read_message1(&hs->noise, msg + INIT_OFF_NOISE, INIT_NOISE_LEN, ts,
				sizeof(ts)) != NOISE_TIMESTAMP_LEN)
		goto fail;
	rs = noise_handshake_remote_static(&hs->noise);
	if (!rs)
		goto fail;
	hs->remote_index = load_le32(msg + INIT_OFF_SENDER);
	hs->state = HANDSHAKE_CONSUMED_INITIATION;
	memcpy(peer_static_out, rs, NOISE_PUBLIC_KEY_LEN);
	memcpy(timestamp_out, ts, NOISE_TIMESTAMP_LEN);
	*sender_index_out = hs->remote_index;
	return 0;
fail:
	handshake_wipe(hs);
	sodium_memzero(ts, sizeof(ts));
	return -1;
}

int handshake_create_response(struct handshake *hs, const struct handshake_identity *id,
			      uint32_t sender_index, uint8_t out[MSG_RESPONSE_LEN])
{
	memset(out, 0, MSG_RESPONSE_LEN);
	if (hs->state != HANDSHAKE_CONSUMED_INITIATION)
		return -1;
	if (noise_handshake_set_psk(&hs->noise, id->psk) != 0)
		goto fail;
	write_header(out, MSG_RESPONSE);
	store_le32(out + RESP_OFF_SENDER, sender_index);
	store_le32(out + RESP_OFF_RECV, hs->remote_index);
	if (noise_write_message2(&hs->noise, NULL, 0, out + RESP_OFF_NOISE, RESP_NOISE_LEN) !=
	    RESP_NOISE_LEN)
		goto fail;
	hs->local_index = sender_index;
	hs->state = HANDSHAKE_CREATED_RESPONSE;
	return 0;
fail:
	handshake_wipe(hs);
	memset(out, 0, MSG_RESPONSE_LEN);
	return -1;
}

int handshake_consume_response(struct handshake *hs, const uint8_t *msg, size_t len,
			       uint32_t *sender_index_out)
{
	struct noise_handshake trial;
	int ret = -1;

	if (hs->state != HANDSHAKE_CREATED_INITIATION || len != MSG_RESPONSE_LEN ||
	    !header_ok(msg, MSG_RESPONSE) || load_le32(msg + RESP_OFF_RECV) != hs->local_index)
		return -1;
	/* Work on a copy: a forged response that fails authentication must
	 * not destroy the pending handshake (the real response may follow). */
	trial = hs->noise;
	if (noise_read_message2(&trial, msg + RESP_OFF_NOISE, RESP_NOISE_LEN, NULL, 0) == 0) {
		hs->noise = trial;
		hs->remote_index = load_le32(msg + RESP_OFF_SENDER);
		hs->state = HANDSHAKE_CONSUMED_RESPONSE;
		*sender_index_out = hs->remote_index;
		ret = 0;
	}
	sodium_memzero(&trial, sizeof(trial));
	return ret;
}

int handshake_derive_keys(struct handshake *hs, uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN],
			  uint8_t recv_key[NOISE_SYMMETRIC_KEY_LEN])
{
	struct noise_cipher send, recv;
	int ret = -1;

	if (hs->state == HANDSHAKE_CREATED_RESPONSE || hs->state == HANDSHAKE_CONSUMED_RESPONSE) {
		ret = noise_handshake_split(&hs->noise, &send, &recv);
		if (ret == 0) {
			memcpy(send_key, send.k, NOISE_SYMMETRIC_KEY_LEN);
			memcpy(recv_key, recv.k, NOISE_SYMMETRIC_KEY_LEN);
		}
		noise_cipher_wipe(&send);
		noise_cipher_wipe(&recv);
	}
	handshake_wipe(hs);
	return ret;
}

void handshake_wipe(struct handshake *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}

void handshake_tai64n_now(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t realtime_ns)
{
	uint64_t secs = (1ull << 62) + realtime_ns / 1000000000u;

	store_be32(out, (uint32_t)(secs >> 32));
	store_be32(out + 4, (uint32_t)secs);
	store_be32(out + 8, (uint32_t)(realtime_ns % 1000000000u));
}

bool handshake_timestamp_is_newer(const uint8_t a[NOISE_TIMESTAMP_LEN],
				  const uint8_t b[NOISE_TIMESTAMP_LEN])
{
	/* Big-endian fields: byte order is numeric order. */
	return memcmp(a, b, NOISE_TIMESTAMP_LEN) > 0;
}
