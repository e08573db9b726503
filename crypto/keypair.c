/* crypto/keypair.c: transport keypairs, data message seal/open (see keypair.h). */
#include "crypto/keypair.h"

#include <sodium.h>
#include <string.h>

enum { NONCE_LEN = crypto_aead_chacha20poly1305_IETF_NPUBBYTES };

static_assert(NONCE_LEN == 12, "IETF nonce");
static_assert(crypto_aead_chacha20poly1305_IETF_ABYTES == NOISE_AUTHTAG_LEN, "tag length");
static_assert(crypto_aead_chacha20poly1305_IETF_KEYBYTES == NOISE_SYMMETRIC_KEY_LEN, "key length");

static void make_nonce(uint8_t nonce[NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, 4);
	store_le64(nonce + 4, counter);
}

/* WireGuard's calculate_skb_padding(): up to a multiple of 16, but never
 * past the MTU, so a packet of exactly MTU bytes is sent unpadded. */
static size_t pad_len(size_t len, size_t mtu)
{
	size_t padded = len + (DATA_PAD_MULTIPLE - len % DATA_PAD_MULTIPLE) % DATA_PAD_MULTIPLE;

	if (mtu && padded > mtu)
		padded = len > mtu ? len : mtu;
	return padded - len;
}

void keypair_init(struct keypair *kp, const uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN],
		  const uint8_t recv_key[NOISE_SYMMETRIC_KEY_LEN], uint32_t local_index,
		  uint32_t remote_index, bool is_initiator, uint64_t created_ns)
{
	memset(kp, 0, sizeof(*kp));
	memcpy(kp->send_key, send_key, sizeof(kp->send_key));
	memcpy(kp->recv_key, recv_key, sizeof(kp->recv_key));
	replay_init(&kp->replay);
	kp->local_index = local_index;
	kp->remote_index = remote_index;
	kp->is_initiator = is_initiator;
	kp->created_ns = created_ns;
}

void keypair_wipe(struct keypair *kp)
{
	sodium_memzero(kp, sizeof(*kp));
}

size_t keypair_overhead(size_t len, size_t mtu)
{
	return DATA_HDR_LEN + pad_len(len, mtu) + NOISE_AUTHTAG_LEN;
}

int keypair_seal(struct keypair *kp, struct pkt *p, size_t mtu)
{
	uint8_t nonce[NONCE_LEN];
	unsigned long long tag_len;
	size_t pad = pad_len(p->len, mtu);
	uint64_t counter = kp->send_counter;
	uint8_t *data, *hdr;

	if (counter >= REJECT_AFTER_MESSAGES)
		return KEYPAIR_ERR_EXPIRED;
	if (pkt_tailroom(p) < pad + NOISE_AUTHTAG_LEN || p->off < DATA_HDR_LEN)
		return KEYPAIR_ERR_NOROOM;

	/* Reserve the counter first: a nonce is never used twice. */
	kp->send_counter = counter + 1;

	data = pkt_data(p);
	memset(data + p->len, 0, pad);
	p->len += pad;
	make_nonce(nonce, counter);
	if (crypto_aead_chacha20poly1305_ietf_encrypt_detached(data, data + p->len, &tag_len,
							      data, p->len, NULL, 0, NULL,
							      nonce, kp->send_key) != 0 ||
	    tag_len != NOISE_AUTHTAG_LEN) {
		/* Cannot happen with valid lengths; never send what we have. */
		sodium_memzero(data, p->len);
		return KEYPAIR_ERR_NOROOM;
	}
	p->len += NOISE_AUTHTAG_LEN;

	hdr = pkt_push(p, DATA_HDR_LEN);
	hdr[0] = MSG_DATA;
	hdr[1] = hdr[2] = hdr[3] = 0;
	store_le32(hdr + 4, kp->remote_index);
	store_le64(hdr + 8, counter);
	return KEYPAIR_OK;
}

int keypair_peek_receiver(const uint8_t *msg, size_t len, uint32_t *receiver)
{
	if (len < MSG_DATA_MIN_LEN)
		return KEYPAIR_ERR_SHORT;
	if (msg[0] != MSG_DATA || msg[1] || msg[2] || msg[3])
		return KEYPAIR_ERR_TYPE;
	*receiver = load_le32(msg + 4);
	return KEYPAIR_OK;
}

int keypair_open_to(struct keypair *kp, const uint8_t *msg, size_t len, uint8_t *plain,
		    uint64_t *counter_out)
{
	uint8_t nonce[NONCE_LEN];
	uint32_t receiver;
	uint64_t counter;
	size_t ct_len;
	int ret;

	ret = keypair_peek_receiver(msg, len, &receiver);
	if (ret != KEYPAIR_OK)
		return ret;
	if (receiver != kp->local_index)
		return KEYPAIR_ERR_INDEX;
	counter = load_le64(msg + 8);
	if (counter >= REJECT_AFTER_MESSAGES)
		return KEYPAIR_ERR_EXPIRED;
	if (!replay_check(&kp->replay, counter))
		return KEYPAIR_ERR_REPLAY;

	ct_len = len - DATA_HDR_LEN - NOISE_AUTHTAG_LEN;
	make_nonce(nonce, counter);
	/* Detached decryption verifies the tag before writing any plaintext. */
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(plain, NULL,
							      msg + DATA_HDR_LEN, ct_len,
							      msg + DATA_HDR_LEN + ct_len,
							      NULL, 0, nonce, kp->recv_key) != 0)
		return KEYPAIR_ERR_DECRYPT;

	replay_commit(&kp->replay, counter);
	if (counter_out)
		*counter_out = counter;
	return KEYPAIR_OK;
}

int keypair_open(struct keypair *kp, struct pkt *p, uint64_t *counter_out)
{
	uint8_t *msg = pkt_data(p);
	int ret = keypair_open_to(kp, msg, p->len, msg + DATA_HDR_LEN, counter_out);

	if (ret != KEYPAIR_OK)
		return ret;
	pkt_pull(p, DATA_HDR_LEN);
	p->len -= NOISE_AUTHTAG_LEN;
	return KEYPAIR_OK;
}
