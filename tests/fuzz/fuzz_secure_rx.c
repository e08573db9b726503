/* tests/fuzz/fuzz_secure_rx.c: libFuzzer target for the secure-mode receive
 * path, built from the pure crypto modules with REAL keys.
 *
 * daemon/secure.c is tied to libev and sockets, so this harness rebuilds
 * its receive logic (dispatch() below mirrors port_read_cb and the
 * handle_* functions, step by step) around two nodes that hold real
 * identities: a responder R and an initiator I that know each other's
 * static keys and share a pre-shared key.  At start-up a real handshake
 * runs between them, so every input starts from the same state:
 *   R: established keypair with I, no handshake pending;
 *   I: established keypair with R, and a pending initiation (INIT0) whose
 *      response RESP0 is known;
 * plus a stranger S whose initiation to R is valid but from an unknown key,
 * a cookie reply from R to INIT0, and data messages sealed both ways.
 * Randomness is deterministic (a seeded generator installed in libsodium,
 * reset before every input), so an input always replays the same way.
 *
 * Input: byte 0 chooses the mode (bits 0-1) and options:
 *   bit 2: R is under load (MAC2 / cookie required)
 *   bit 3: mode a: deliver to I instead of R
 *   bit 4: source is IPv6
 * and the rest is read by the mode:
 *   a  raw: the rest is one datagram, dispatched as secure.c does;
 *   b  initiation: (offset, xor) byte pairs applied to INIT0, mac1
 *      recomputed afterwards (offsets in the MAC fields are applied after
 *      it), so mutated messages pass MAC1 and reach Noise; then the
 *      handshake is completed as far as it goes;
 *   c  data: byte 1 picks an authentic data message, byte 2 a length
 *      change, then (offset, xor) pairs;
 *   d  replay: 3-byte records (op, 16-bit value) sealing data messages
 *      from I to R with chosen counters, optionally tampered, checked
 *      against a model of the replay window.  Op bits 0-1: the counter is
 *      the value / highest + int16 / highest - window + int8 /
 *      REJECT_AFTER_MESSAGES - 64 + int8; bit 2: tamper with the tag or
 *      ciphertext; bit 3: 16-byte payload instead of a keepalive.
 *
 * Invariants (abort on violation): nothing is accepted unless it is
 * authentic, i.e. byte-equal in its authenticated parts to a message a
 * real node produced; an accepted initiation yields I's static key and
 * timestamp; unmodified messages are accepted; a failed open does not
 * move the replay window; a completed handshake yields keypairs that
 * interoperate; every counter is accepted at most once.
 *
 * Seeds: GRESEC_FUZZ_WRITE_SEEDS=DIR ./fuzz_secure_rx -runs=0 writes seed
 * inputs for every mode to DIR (tests/fuzz/corpus/secure_rx/); they stay
 * valid as long as the crypto code produces the same bytes.  With
 * GRESEC_FUZZ_TRACE=1 every delivery and its outcome is printed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "crypto/cookie.h"
#include "crypto/handshake.h"
#include "crypto/keypair.h"
#include "crypto/ratelimiter.h"
#include "crypto/replay.h"
#include "tunnel/pkt.h"
#include "tunnel/wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond) do { if (!(cond)) fail_at(__LINE__, #cond); } while (0)

static void fail_at(int line, const char *what)
{
	fprintf(stderr, "fuzz_secure_rx.c:%d: invariant violated: %s\n", line, what);
	abort();
}

enum {
	MODE_RAW = 0, MODE_INITIATION = 1, MODE_DATA = 2, MODE_REPLAY = 3,
	OPT_UNDER_LOAD = 0x04, OPT_TO_INITIATOR = 0x08, OPT_IPV6 = 0x10,
	/* Message parts covered by Noise / AEAD (the rest is mac1-only). */
	INIT_BODY_OFF = 8, INIT_BODY_END = MSG_INITIATION_LEN - 2 * MAC_LEN,
	RESP_BODY_OFF = 8, RESP_BODY_END = MSG_RESPONSE_LEN - 2 * MAC_LEN,
	COOKIE_BODY_OFF = 8,
	DATA_BODY_OFF = 8,
	MAX_KNOWN = 600,
	KNOWN_MAX_LEN = 256,
	REPLAY_MAX_RECS = 512,
};

#define NOW0 (UINT64_C(1000) * 1000000000u)  /* monotonic clock: 1000 s */
#define INITIATIONS_MIN_INTERVAL_NS (UINT64_C(20) * 1000000u)  /* as secure.c */

/* ---- deterministic randomness for libsodium ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* splitmix64: plenty for reproducible keys and indices in a test */
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static const char *det_name(void) { return "gresec-fuzz-deterministic"; }
static uint32_t det_random(void) { return (uint32_t)rng_next(); }

static void det_buf(void *const buf, const size_t size)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)rng_next();
}

static randombytes_implementation det_rng = {
	.implementation_name = det_name,
	.random = det_random,
	.buf = det_buf,
};

/* ---- the nodes ---- */

/* What a secure_peer + secure_port hold in secure.c, for one peer. */
struct node {
	struct handshake_identity id;
	uint8_t peer_public[NOISE_PUBLIC_KEY_LEN];
	struct cookie_checker checker;   /* our mac1 key: checks what arrives */
	struct cookie_maker maker;       /* peer's mac1 key: macs on what we send */
	struct ratelimiter *rl;
	struct handshake hs;             /* pending handshake with the peer */
	struct handshake scratch;        /* responder, before the peer is known */
	uint8_t last_timestamp[NOISE_TIMESTAMP_LEN];
	uint64_t last_initiation_consumed;
	struct keypair kp[2];            /* [0] established at start-up, [1] new */
	bool kp_used[2];
};

enum rx_result {
	RX_BAD_LENGTH, RX_BAD_TYPE, RX_BAD_MAC, RX_COOKIE_SENT, RX_RATE_LIMITED,
	RX_HANDSHAKE, RX_UNKNOWN_PEER, RX_REPLAY, RX_NO_SESSION, RX_DECRYPT,
	RX_INITIATION_OK, RX_RESPONSE_OK, RX_COOKIE_OK, RX_DATA_OK,
};

static const char *const rx_names[] = {
	"bad_length", "bad_type", "bad_mac", "cookie_sent", "rate_limited", "handshake",
	"unknown_peer", "replay", "no_session", "decrypt", "initiation_ok", "response_ok",
	"cookie_ok", "data_ok",
};
static bool trace;   /* GRESEC_FUZZ_TRACE set: print each delivery */

/* What dispatch() would have sent back, and what it accepted. */
struct rx_out {
	uint8_t reply[MSG_RESPONSE_LEN];   /* response or cookie reply */
	size_t reply_len;
	uint8_t peer_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t timestamp[NOISE_TIMESTAMP_LEN];
	struct keypair *kp;                /* installed, or the one that opened */
	uint64_t counter;
};

static bool rl_dirty;   /* a ratelimiter was charged in this input */

static bool rate_ok(struct node *n, const struct sockaddr *src, uint64_t now)
{
	rl_dirty = true;
	return ratelimiter_allow(n->rl, src, now);
}

static uint32_t new_index(const struct node *n)
{
	uint32_t idx;

	do
		idx = randombytes_random();
	while (idx == 0 || (n->hs.state != HANDSHAKE_EMPTY && n->hs.local_index == idx) ||
	       (n->kp_used[0] && n->kp[0].local_index == idx) ||
	       (n->kp_used[1] && n->kp[1].local_index == idx));
	return idx;
}

/* peer_install_keys: the new keypair goes to slot 1 (a session's "next"). */
static int install_keys(struct node *n, uint64_t now, bool we_initiated)
{
	uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN], recv_key[NOISE_SYMMETRIC_KEY_LEN];
	uint32_t local = n->hs.local_index, remote = n->hs.remote_index;

	if (handshake_derive_keys(&n->hs, send_key, recv_key) != 0)
		return -EINVAL;
	keypair_init(&n->kp[1], send_key, recv_key, local, remote, we_initiated, now);
	n->kp_used[1] = true;
	sodium_memzero(send_key, sizeof(send_key));
	sodium_memzero(recv_key, sizeof(recv_key));
	return 0;
}

static enum rx_result handle_initiation(struct node *n, const uint8_t *msg, size_t len,
					const struct sockaddr *src, bool under_load, uint64_t now,
					struct rx_out *out)
{
	uint8_t resp[MSG_RESPONSE_LEN];
	enum rx_result res;
	uint32_t sender;

	switch (cookie_validate(&n->checker, msg, len, src, under_load, now)) {
	case COOKIE_MAC1_BAD:
		return RX_BAD_MAC;
	case COOKIE_MAC1_OK_NEED_COOKIE:
		/* Valid mac1 and a known address family: the reply must be made. */
		check(cookie_create_reply(&n->checker, msg, len, load_le32(msg + 4), src,
					  out->reply, now) == 0);
		out->reply_len = MSG_COOKIE_LEN;
		return RX_COOKIE_SENT;
	case COOKIE_VALID:
		break;
	}
	if (!rate_ok(n, src, now))
		return RX_RATE_LIMITED;
	if (handshake_consume_initiation(&n->scratch, &n->id, msg, len, out->peer_static,
					 out->timestamp, &sender) != 0) {
		res = RX_HANDSHAKE;
		goto out;
	}
	check(n->scratch.state == HANDSHAKE_CONSUMED_INITIATION && n->scratch.remote_index == sender);
	if (sodium_memcmp(n->peer_public, out->peer_static, NOISE_PUBLIC_KEY_LEN) != 0) {
		res = RX_UNKNOWN_PEER;
		goto out;
	}
	if (!handshake_timestamp_is_newer(out->timestamp, n->last_timestamp)) {
		res = RX_REPLAY;
		goto out;
	}
	if (n->last_initiation_consumed && now - n->last_initiation_consumed < INITIATIONS_MIN_INTERVAL_NS) {
		res = RX_RATE_LIMITED;
		goto out;
	}
	memcpy(n->last_timestamp, out->timestamp, NOISE_TIMESTAMP_LEN);
	n->last_initiation_consumed = now;
	/* secure.c's crossing-initiations rule (keep our own pending
	 * initiation if our key is larger) is session timing, not parsing:
	 * R never has one pending here, so it would not apply. */
	handshake_wipe(&n->hs);
	n->hs = n->scratch;
	res = RX_HANDSHAKE;
	if (handshake_create_response(&n->hs, &n->id, new_index(n), resp) != 0)
		goto out;
	check(cookie_add_macs(&n->maker, resp, sizeof(resp), now) == 0);
	if (install_keys(n, now, false) != 0)
		goto out;
	memcpy(out->reply, resp, sizeof(resp));
	out->reply_len = sizeof(resp);
	out->kp = &n->kp[1];
	res = RX_INITIATION_OK;
out:
	handshake_wipe(&n->scratch);
	return res;
}

static enum rx_result handle_response(struct node *n, const uint8_t *msg, size_t len,
				      const struct sockaddr *src, bool under_load, uint64_t now,
				      struct rx_out *out)
{
	uint32_t sender;

	/* peer_by_handshake_index */
	if (n->hs.state != HANDSHAKE_CREATED_INITIATION || n->hs.local_index != load_le32(msg + 8))
		return RX_NO_SESSION;
	switch (cookie_validate(&n->checker, msg, len, src, under_load, now)) {
	case COOKIE_MAC1_BAD:
		return RX_BAD_MAC;
	case COOKIE_MAC1_OK_NEED_COOKIE:
		check(cookie_create_reply(&n->checker, msg, len, load_le32(msg + 4), src,
					  out->reply, now) == 0);
		out->reply_len = MSG_COOKIE_LEN;
		return RX_COOKIE_SENT;
	case COOKIE_VALID:
		break;
	}
	if (!rate_ok(n, src, now))
		return RX_RATE_LIMITED;
	if (handshake_consume_response(&n->hs, msg, len, &sender) != 0) {
		/* A forged response must not cancel the pending handshake. */
		check(n->hs.state == HANDSHAKE_CREATED_INITIATION);
		return RX_HANDSHAKE;
	}
	check(n->hs.state == HANDSHAKE_CONSUMED_RESPONSE && n->hs.remote_index == sender);
	if (install_keys(n, now, true) != 0)
		return RX_HANDSHAKE;
	out->kp = &n->kp[1];
	return RX_RESPONSE_OK;
}

static enum rx_result handle_cookie(struct node *n, const uint8_t *msg, size_t len, uint64_t now)
{
	if (n->hs.state != HANDSHAKE_CREATED_INITIATION || n->hs.local_index != load_le32(msg + 4))
		return RX_NO_SESSION;
	if (cookie_consume_reply(&n->maker, msg, len, now) != 0)
		return RX_BAD_MAC;
	return RX_COOKIE_OK;
}

static enum rx_result handle_data(struct node *n, struct pkt *pk, struct rx_out *out)
{
	struct keypair *kp = NULL;
	uint32_t idx;

	if (keypair_peek_receiver(pkt_data(pk), pk->len, &idx) != KEYPAIR_OK)
		return RX_BAD_LENGTH;
	/* session_slot_by_index (the slot age check, session_slot_rx_ok, is
	 * the session's: all keypairs here are fresh). */
	for (int i = 0; i < 2 && !kp; i++)
		if (n->kp_used[i] && n->kp[i].local_index == idx)
			kp = &n->kp[i];
	if (!kp)
		return RX_NO_SESSION;
	switch (keypair_open(kp, pk, &out->counter)) {
	case KEYPAIR_OK:
		out->kp = kp;
		return RX_DATA_OK;
	case KEYPAIR_ERR_REPLAY:
		return RX_REPLAY;
	case KEYPAIR_ERR_DECRYPT:
		return RX_DECRYPT;
	case KEYPAIR_ERR_EXPIRED:
		return RX_NO_SESSION;
	default:
		return RX_BAD_LENGTH;
	}
}

/* port_read_cb: type and exact length first, nothing else is read before. */
static enum rx_result dispatch(struct node *n, struct pkt *pk, const struct sockaddr *src,
			       bool under_load, uint64_t now, struct rx_out *out)
{
	const uint8_t *m = pkt_data(pk);

	memset(out, 0, sizeof(*out));
	switch (msg_classify(m, pk->len)) {
	case MSG_INITIATION:
		return handle_initiation(n, m, pk->len, src, under_load, now, out);
	case MSG_RESPONSE:
		return handle_response(n, m, pk->len, src, under_load, now, out);
	case MSG_COOKIE:
		return handle_cookie(n, m, pk->len, now);
	case MSG_DATA:
		return handle_data(n, pk, out);
	case MSG_CLASS_BAD_LENGTH:
		return RX_BAD_LENGTH;
	default:
		return RX_BAD_TYPE;
	}
}

/* ---- authentic messages: what real nodes produced ---- */

struct known {
	uint8_t bytes[KNOWN_MAX_LEN];
	size_t len;
	uint8_t plain[KNOWN_MAX_LEN];    /* data: the padded plaintext */
	size_t plain_len;
};

static struct known known[MAX_KNOWN];
static size_t n_known, n_known_startup;

static void known_add(const uint8_t *msg, size_t len, const uint8_t *plain, size_t plain_len)
{
	struct known *k;

	check(len <= KNOWN_MAX_LEN && plain_len <= KNOWN_MAX_LEN);
	if (n_known == MAX_KNOWN)
		return;   /* callers never rely on a message being in the list */
	k = &known[n_known++];
	memcpy(k->bytes, msg, len);
	k->len = len;
	if (plain_len)
		memcpy(k->plain, plain, plain_len);
	k->plain_len = plain_len;
}

/* The authenticated part of a message: for handshake messages the Noise
 * body, for cookie replies the sealed part, for data everything but the
 * receiver index (which only selects the key). */
static void auth_range(const uint8_t *msg, size_t len, size_t *from, size_t *to)
{
	*from = 0;
	*to = len;
	switch (msg[0]) {
	case MSG_INITIATION: *from = INIT_BODY_OFF; *to = INIT_BODY_END; break;
	case MSG_RESPONSE:   *from = RESP_BODY_OFF; *to = RESP_BODY_END; break;
	case MSG_COOKIE:     *from = COOKIE_BODY_OFF; break;
	case MSG_DATA:       *from = DATA_BODY_OFF; break;
	}
}

/* Compared with libsodium, which is not instrumented: libFuzzer lifts the
 * operands of memcmp into its dictionary, and would carry authentic
 * messages made in one input (deterministic, so real) over to others,
 * where they are genuine but not in this input's list. */
static const struct known *known_find(const uint8_t *msg, size_t len)
{
	size_t from, to;

	auth_range(msg, len, &from, &to);
	for (size_t i = 0; i < n_known; i++)
		if (known[i].len == len && sodium_memcmp(known[i].bytes, msg, 4) == 0 &&
		    sodium_memcmp(known[i].bytes + from, msg + from, to - from) == 0)
			return &known[i];
	return NULL;
}

/* ---- start-up state ---- */

static struct node node_r, node_i, snap_r, snap_i;
static struct ratelimiter rl_r, rl_i, rl_fresh;
static uint8_t init0[MSG_INITIATION_LEN], init_s[MSG_INITIATION_LEN];
static uint8_t resp0[MSG_RESPONSE_LEN], cookie0[MSG_COOKIE_LEN];
static uint8_t ts_a[NOISE_TIMESTAMP_LEN], ts0[NOISE_TIMESTAMP_LEN];
static uint8_t pub_r[NOISE_PUBLIC_KEY_LEN], pub_i[NOISE_PUBLIC_KEY_LEN];
static struct pkt pk, pk2;          /* too large for the stack */

/* Data messages sealed at start-up: I -> R (to R), R -> I (to I). */
enum { N_DATA = 4 };
static struct { bool to_initiator; size_t known_idx; } data_msgs[N_DATA];

static const struct sockaddr_in src4 = {
	.sin_family = AF_INET, .sin_port = 0xaf0c, .sin_addr = { .s_addr = 0x0200000a },
};
static struct sockaddr_in6 src6 = { .sin6_family = AF_INET6, .sin6_port = 0xaf0c };

static void fixed_key(uint8_t key[32], uint8_t base)
{
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(base + 7 * i);
}

static void node_init(struct node *n, struct ratelimiter *rl, uint8_t key_base,
		      const uint8_t peer_pub[NOISE_PUBLIC_KEY_LEN], const uint8_t *psk)
{
	uint8_t priv[NOISE_PUBLIC_KEY_LEN];

	memset(n, 0, sizeof(*n));
	fixed_key(priv, key_base);
	check(handshake_identity_init(&n->id, priv, psk) == 0);
	memcpy(n->peer_public, peer_pub, NOISE_PUBLIC_KEY_LEN);
	cookie_checker_init(&n->checker, n->id.static_public);
	cookie_maker_init(&n->maker, peer_pub);
	n->rl = rl;
}

static void pub_of(uint8_t pub[NOISE_PUBLIC_KEY_LEN], uint8_t key_base)
{
	uint8_t priv[NOISE_PUBLIC_KEY_LEN];

	fixed_key(priv, key_base);
	check(crypto_scalarmult_base(pub, priv) == 0);
}

/* Seal plain (len bytes) with kp, record it as authentic; returns its length. */
static size_t seal_known(struct keypair *kp, const uint8_t *plain, size_t len, uint8_t *out)
{
	pkt_reset(&pk);
	if (len)
		memcpy(pkt_data(&pk), plain, len);
	pk.len = len;
	check(keypair_seal(kp, &pk) == KEYPAIR_OK);
	check(pk.len <= KNOWN_MAX_LEN);
	memcpy(out, pkt_data(&pk), pk.len);
	/* the padded plaintext, as keypair_open leaves it */
	{
		uint8_t padded[KNOWN_MAX_LEN] = { 0 };
		size_t plen = pk.len - DATA_HDR_LEN - NOISE_AUTHTAG_LEN;

		if (len)
			memcpy(padded, plain, len);
		known_add(out, pk.len, padded, plen);
	}
	return pk.len;
}

static void promote_keypair(struct node *n)
{
	check(n->kp_used[1]);
	n->kp[0] = n->kp[1];
	n->kp_used[0] = true;
	keypair_wipe(&n->kp[1]);
	n->kp_used[1] = false;
}

static void load_pkt(struct pkt *p, const uint8_t *msg, size_t len)
{
	pkt_reset(p);
	memcpy(pkt_data(p), msg, len);
	p->len = len;
}

static enum rx_result deliver(struct node *n, const uint8_t *msg, size_t len, bool v6,
			      bool under_load, uint64_t now, struct rx_out *out);
static void check_new_session(void);

static void startup(void)
{
	static const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN] = { 'g', 'r', 'e', 's', 'e', 'c', '-', 'p', 's', 'k' };
	/* an IPv4-in-GRE packet: GRE header, then a small IPv4/ICMP echo */
	static const uint8_t gre_pkt[] = {
		0x00, 0x00, 0x08, 0x00, 0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01,
		0x00, 0x00, 0x0b, 0x0b, 0x01, 0x01, 0x0b, 0x0b, 0x01, 0x02, 0x08, 0x00, 0xf7, 0xfe,
		0x00, 0x01, 0x00, 0x00,
	};
	struct node stranger;
	struct rx_out out;
	uint8_t msg[KNOWN_MAX_LEN];
	size_t len;

	pub_of(pub_r, 0x11);
	pub_of(pub_i, 0x22);
	ratelimiter_init(&rl_fresh);
	node_init(&node_r, &rl_r, 0x11, pub_i, psk);
	node_init(&node_i, &rl_i, 0x22, pub_r, psk);
	node_init(&stranger, &rl_i, 0x33, pub_r, NULL);
	rl_r = rl_fresh;
	rl_i = rl_fresh;
	handshake_tai64n_now(ts_a, UINT64_C(1700000000) * 1000000000u);
	handshake_tai64n_now(ts0, UINT64_C(1700000120) * 1000000000u);

	/* A first handshake gives both sides their established keypair. */
	check(handshake_create_initiation(&node_i.hs, &node_i.id, pub_r, new_index(&node_i), ts_a,
					  msg) == 0);
	check(cookie_add_macs(&node_i.maker, msg, MSG_INITIATION_LEN, NOW0) == 0);
	known_add(msg, MSG_INITIATION_LEN, NULL, 0);
	check(deliver(&node_r, msg, MSG_INITIATION_LEN, false, false, NOW0, &out) == RX_INITIATION_OK);
	check(deliver(&node_i, out.reply, out.reply_len, false, false, NOW0, &out) == RX_RESPONSE_OK);
	promote_keypair(&node_r);
	promote_keypair(&node_i);
	len = seal_known(&node_i.kp[0], NULL, 0, msg);
	data_msgs[0].known_idx = n_known - 1;
	len = seal_known(&node_i.kp[0], gre_pkt, sizeof(gre_pkt), msg);
	data_msgs[1].known_idx = n_known - 1;
	node_i.kp[0].send_counter = 100000;   /* a jump ahead */
	len = seal_known(&node_i.kp[0], gre_pkt, 4, msg);
	data_msgs[2].known_idx = n_known - 1;
	len = seal_known(&node_r.kp[0], gre_pkt, sizeof(gre_pkt), msg);
	data_msgs[3].known_idx = n_known - 1;
	data_msgs[3].to_initiator = true;
	(void)len;
	/* R as every input finds it: it has not seen INIT0 yet, so that is fresh. */
	memset(node_r.last_timestamp, 0, sizeof(node_r.last_timestamp));
	node_r.last_initiation_consumed = 0;
	snap_r = node_r;

	/* I -> R: INIT0 (a rekey, new index), left pending in I's snapshot. */
	check(handshake_create_initiation(&node_i.hs, &node_i.id, pub_r, new_index(&node_i), ts0,
					  init0) == 0);
	check(cookie_add_macs(&node_i.maker, init0, sizeof(init0), NOW0) == 0);
	known_add(init0, sizeof(init0), NULL, 0);
	snap_i = node_i;

	/* S -> R: valid, but from a key R does not know. */
	check(handshake_create_initiation(&stranger.hs, &stranger.id, pub_r, 0x5555, ts0, init_s) == 0);
	check(cookie_add_macs(&stranger.maker, init_s, sizeof(init_s), NOW0) == 0);
	known_add(init_s, sizeof(init_s), NULL, 0);
	handshake_wipe(&stranger.hs);

	/* R answers INIT0, under load first (a cookie reply I can use);
	 * then R is put back as it was. */
	check(deliver(&node_r, init0, sizeof(init0), false, true, NOW0, &out) == RX_COOKIE_SENT);
	memcpy(cookie0, out.reply, sizeof(cookie0));
	check(deliver(&node_r, init0, sizeof(init0), false, false, NOW0, &out) == RX_INITIATION_OK);
	memcpy(resp0, out.reply, sizeof(resp0));
	check(deliver(&node_i, resp0, sizeof(resp0), false, false, NOW0, &out) == RX_RESPONSE_OK);
	check_new_session();

	n_known_startup = n_known;
	rl_r = rl_fresh;
	rl_i = rl_fresh;
	rl_dirty = false;
}

/* ---- delivery with the authenticity invariants ---- */

/* Seal plain at counter as the owner of kp's peer would, compare with msg. */
static bool reseal_matches(const struct keypair *kp, uint64_t counter, const uint8_t *plain,
			   size_t plain_len, const uint8_t *msg, size_t len)
{
	static struct pkt p;
	struct keypair peer;
	bool same;

	keypair_init(&peer, kp->recv_key, kp->send_key, kp->remote_index, kp->local_index,
		     !kp->is_initiator, 0);
	peer.send_counter = counter;
	pkt_reset(&p);
	if (plain_len)
		memcpy(pkt_data(&p), plain, plain_len);
	p.len = plain_len;
	same = keypair_seal(&peer, &p) == KEYPAIR_OK && p.len == len &&
	       sodium_memcmp(pkt_data(&p), msg, len) == 0;
	keypair_wipe(&peer);
	return same;
}

static enum rx_result deliver(struct node *n, const uint8_t *msg, size_t len, bool v6,
			      bool under_load, uint64_t now, struct rx_out *res)
{
	const struct sockaddr *src = v6 ? (const struct sockaddr *)&src6 : (const struct sockaddr *)&src4;
	const struct known *k = len >= 4 ? known_find(msg, len) : NULL;
	struct rx_out o, *out = &o;   /* msg may point into *res */
	enum rx_result r;

	load_pkt(&pk2, msg, len);
	r = dispatch(n, &pk2, src, under_load, now, out);
	if (trace)
		fprintf(stderr, "deliver to %s: %zu bytes type %d%s -> %s\n", n == &node_r ? "R" : "I",
			len, len ? msg[0] : -1, under_load ? " (under load)" : "", rx_names[r]);
	switch (r) {
	case RX_INITIATION_OK:
		/* only I's real initiations get through, with I's key and time */
		check(k != NULL);
		check(memcmp(out->peer_static, pub_i, sizeof(pub_i)) == 0 && n == &node_r);
		check(memcmp(out->timestamp, n->last_timestamp, NOISE_TIMESTAMP_LEN) == 0);
		check(memcmp(out->timestamp, ts0, NOISE_TIMESTAMP_LEN) == 0 ||
		      memcmp(out->timestamp, ts_a, NOISE_TIMESTAMP_LEN) == 0);
		check(out->reply_len == MSG_RESPONSE_LEN && out->kp == &n->kp[1]);
		known_add(out->reply, out->reply_len, NULL, 0);
		break;
	case RX_RESPONSE_OK:
		check(k != NULL && out->kp == &n->kp[1]);
		break;
	case RX_COOKIE_OK:
		check(k != NULL);
		break;
	case RX_COOKIE_SENT:
		check(under_load && out->reply_len == MSG_COOKIE_LEN);
		known_add(out->reply, out->reply_len, NULL, 0);
		break;
	case RX_DATA_OK:
		/* opened: the tag was right, so the sender sealing this plaintext
		 * at this counter makes exactly these bytes; and when we know
		 * what was sealed, that is what came out */
		check(out->counter == load_le64(msg + 8));
		check(reseal_matches(out->kp, out->counter, pkt_data(&pk2), pk2.len, msg, len));
		if (k)
			check(k->plain_len == pk2.len && memcmp(pkt_data(&pk2), k->plain, pk2.len) == 0);
		break;
	default:
		break;
	}
	*res = o;
	return r;
}

/* ---- modes ---- */

static void mode_raw(uint8_t opt, const uint8_t *data, size_t size)
{
	struct node *n = opt & OPT_TO_INITIATOR ? &node_i : &node_r;
	struct rx_out out;
	enum rx_result r, again;

	if (size > PKT_MAX_PAYLOAD)
		return;
	r = deliver(n, data, size, opt & OPT_IPV6, opt & OPT_UNDER_LOAD, NOW0, &out);
	/* Whatever got accepted cannot be accepted a second time. */
	again = deliver(n, data, size, opt & OPT_IPV6, opt & OPT_UNDER_LOAD,
			NOW0 + INITIATIONS_MIN_INTERVAL_NS, &out);
	switch (r) {
	case RX_INITIATION_OK:
		check(again == RX_REPLAY);
		break;
	case RX_RESPONSE_OK:
	case RX_COOKIE_OK:
		/* the handshake is no longer pending / the reply is used up */
		check(again == RX_NO_SESSION || again == RX_BAD_MAC);
		break;
	case RX_DATA_OK:
		check(again == RX_REPLAY);
		break;
	default:
		break;
	}
}

/* Both sides hold a new keypair: it must carry data both ways. */
static void check_new_session(void)
{
	static const uint8_t hello[] = { 0x00, 0x00, 0x86, 0xdd, 'h', 'e', 'l', 'l', 'o' };
	struct node *from, *to;
	struct rx_out out;
	uint8_t msg[KNOWN_MAX_LEN];
	size_t len;

	for (int dir = 0; dir < 2; dir++) {
		from = dir ? &node_r : &node_i;
		to = dir ? &node_i : &node_r;
		check(from->kp_used[1] && to->kp_used[1]);
		check(from->kp[1].remote_index == to->kp[1].local_index);
		len = seal_known(&from->kp[1], hello, sizeof(hello), msg);
		check(deliver(to, msg, len, false, false, NOW0, &out) == RX_DATA_OK);
		check(out.kp == &to->kp[1]);
	}
}

static void mode_initiation(uint8_t opt, const uint8_t *data, size_t size)
{
	uint8_t msg[MSG_INITIATION_LEN], resp[MSG_RESPONSE_LEN], mac1[MAC_LEN];
	bool under_load = opt & OPT_UNDER_LOAD, v6 = opt & OPT_IPV6;
	bool body_changed, header_changed, sender_changed, macs_ok;
	struct rx_out out;
	enum rx_result r;
	size_t i;

	memcpy(msg, init0, sizeof(msg));
	for (i = 0; i + 1 < size; i += 2)
		if (data[i] % MSG_INITIATION_LEN < INIT_BODY_END)
			msg[data[i] % MSG_INITIATION_LEN] ^= data[i + 1];
	/* I's cookie maker recomputes mac1 (and mac2 if it holds a cookie). */
	macs_ok = cookie_add_macs(&node_i.maker, msg, sizeof(msg), NOW0) == 0;
	memcpy(mac1, msg + INIT_BODY_END, MAC_LEN);
	for (i = 0; i + 1 < size; i += 2)
		if (data[i] % MSG_INITIATION_LEN >= INIT_BODY_END)
			msg[data[i] % MSG_INITIATION_LEN] ^= data[i + 1];
	/* a changed mac1 is certainly wrong; mac2 only matters under load */
	macs_ok = macs_ok && memcmp(mac1, msg + INIT_BODY_END, MAC_LEN) == 0;
	header_changed = memcmp(msg, init0, 4) != 0;
	sender_changed = memcmp(msg + 4, init0 + 4, 4) != 0;
	body_changed = memcmp(msg + INIT_BODY_OFF, init0 + INIT_BODY_OFF,
			      INIT_BODY_END - INIT_BODY_OFF) != 0;

	r = deliver(&node_r, msg, sizeof(msg), v6, under_load, NOW0, &out);
	if (r == RX_COOKIE_SENT) {
		/* I takes the cookie, sends again with mac2: no cookie needed now.
		 * The reply goes to the sender index, which I knows only unchanged. */
		check(!header_changed && macs_ok);
		r = deliver(&node_i, out.reply, out.reply_len, v6, false, NOW0, &out);
		if (sender_changed) {
			check(r == RX_NO_SESSION);
			return;
		}
		check(r == RX_COOKIE_OK);
		check(cookie_add_macs(&node_i.maker, msg, sizeof(msg), NOW0) == 0);
		r = deliver(&node_r, msg, sizeof(msg), v6, under_load, NOW0, &out);
		check(r != RX_COOKIE_SENT && r != RX_BAD_MAC);
	}
	if (!header_changed && !macs_ok)
		check(r == RX_BAD_MAC);     /* the cheap check stops it before any DH */
	if (r == RX_INITIATION_OK)
		check(!header_changed && !body_changed);
	if (!header_changed && !body_changed && macs_ok)
		check(r == RX_INITIATION_OK);
	if (!header_changed && macs_ok && body_changed)
		check(r == RX_HANDSHAKE);   /* reached Noise and failed there */
	if (r != RX_INITIATION_OK)
		return;

	/* Replaying it is refused; R's response completes I's handshake
	 * unless the (mac1-only) sender index was changed. */
	memcpy(resp, out.reply, sizeof(resp));
	check(deliver(&node_r, msg, sizeof(msg), v6, false, NOW0 + INITIATIONS_MIN_INTERVAL_NS,
		      &out) == RX_REPLAY);
	check(deliver(&node_r, msg, sizeof(msg), v6, false, NOW0, &out) == RX_REPLAY);
	r = deliver(&node_i, resp, sizeof(resp), v6, false, NOW0, &out);
	if (sender_changed) {
		check(r == RX_NO_SESSION);
		return;
	}
	check(r == RX_RESPONSE_OK);
	check_new_session();
}

static void mode_data(uint8_t opt, const uint8_t *data, size_t size)
{
	uint8_t msg[KNOWN_MAX_LEN + 64];
	const struct known *orig;
	struct node *to;
	struct rx_out out;
	enum rx_result r;
	size_t len, i;
	int delta;

	if (size < 2)
		return;
	i = data[0] % N_DATA;
	orig = &known[data_msgs[i].known_idx];
	to = data_msgs[i].to_initiator ? &node_i : &node_r;
	delta = (int8_t)data[1];
	if (delta < -(int)orig->len)
		delta = -(int)orig->len;
	if (delta > 64)
		delta = 64;
	len = (size_t)((int)orig->len + delta);
	memset(msg, 0, sizeof(msg));
	memcpy(msg, orig->bytes, len < orig->len ? len : orig->len);
	for (i = 2; len && i + 1 < size; i += 2)
		msg[data[i] % len] ^= data[i + 1];

	r = deliver(to, msg, len, opt & OPT_IPV6, opt & OPT_UNDER_LOAD, NOW0, &out);
	if (len == orig->len && memcmp(msg, orig->bytes, len) == 0) {
		check(r == RX_DATA_OK);
		check(deliver(to, orig->bytes, orig->len, false, false, NOW0, &out) == RX_REPLAY);
		return;
	}
	/* A failed open leaves the window alone: the original still opens. */
	if (r != RX_DATA_OK)
		check(deliver(to, orig->bytes, orig->len, false, false, NOW0, &out) == RX_DATA_OK);
}

/* Model of the window: committed counters (few per input) and the top. */
static uint64_t committed[REPLAY_MAX_RECS];
static size_t n_committed;

static bool model_seen(uint64_t c)
{
	for (size_t i = 0; i < n_committed; i++)
		if (committed[i] == c)
			return true;
	return false;
}

static void mode_replay(uint8_t opt, const uint8_t *data, size_t size)
{
	static const uint8_t payload[16] = { 0x00, 0x00, 0x65, 0x58, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct keypair *tx = &node_i.kp[0];
	uint64_t highest = 0, c;
	bool any = false;
	struct rx_out out;

	n_committed = 0;
	for (size_t i = 0; i + 3 <= size && n_committed < REPLAY_MAX_RECS; i += 3) {
		uint8_t op = data[i];
		uint16_t v = (uint16_t)(data[i + 1] | data[i + 2] << 8);
		bool tamper = op & 0x04, expected;
		uint8_t msg[KNOWN_MAX_LEN];
		size_t len;
		enum rx_result r;

		switch (op & 3) {
		case 0: c = v; break;
		case 1: c = highest + (uint64_t)(int64_t)(int16_t)v; break;
		case 2: c = highest - REPLAY_WINDOW_SIZE + (uint64_t)(int64_t)(int8_t)v; break;
		default: c = REJECT_AFTER_MESSAGES - 64 + (uint64_t)(int64_t)(int8_t)v; break;
		}
		/* keypair_seal refuses counters past the limit: seal at 0 and
		 * write the counter in (the tag then fails, if it is looked at). */
		tx->send_counter = c < REJECT_AFTER_MESSAGES ? c : 0;
		len = seal_known(tx, payload, op & 0x08 ? sizeof(payload) : 0, msg);
		store_le64(msg + 8, c);
		if (tamper)
			msg[len - 1 - (v % (len - DATA_HDR_LEN))] ^= 0x80;
		expected = c < REJECT_AFTER_MESSAGES && !tamper && !model_seen(c) &&
			   (!any || c > highest || highest - c < REPLAY_WINDOW_SIZE);

		r = deliver(&node_r, msg, len, opt & OPT_IPV6, false, NOW0, &out);
		if (expected) {
			check(r == RX_DATA_OK);
			committed[n_committed++] = c;
			if (!any || c > highest)
				highest = c;
			any = true;
		} else if (c >= REJECT_AFTER_MESSAGES) {
			check(r == RX_NO_SESSION);
		} else if (model_seen(c) || (any && c <= highest && highest - c >= REPLAY_WINDOW_SIZE)) {
			check(r == RX_REPLAY);
		} else {
			check(r == RX_DECRYPT);   /* tampered, window untouched */
		}
		/* seal_known records every message; keep the list for start-up ones */
		n_known = n_known_startup;
	}
}

/* ---- seeds ---- */

static void write_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *body,
		       size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	check(f != NULL);
	check(fwrite(&mode, 1, 1, f) == 1);
	check(len == 0 || fwrite(body, 1, len, f) == len);
	check(fclose(f) == 0);
}

static void write_seeds(const char *dir)
{
	static const uint8_t b_sender[] = { 4, 0x01 }, b_body[] = { 60, 0x20, 100, 0x01 };
	static const uint8_t b_mac2[] = { (uint8_t)(INIT_BODY_END + MAC_LEN), 0x01 };
	static const uint8_t c_flip[] = { 1, 0, 20, 0x01 }, c_counter[] = { 0, 0, 9, 0x01 };
	static const uint8_t c_short[] = { 2, (uint8_t)-1 }, c_long[] = { 3, 16 };
	static const uint8_t d_seq[] = { 0, 0, 0, 0, 1, 0, 0, 2, 0, 0x08, 3, 0 };
	static const uint8_t d_replay[] = { 0, 5, 0, 0, 5, 0, 0x05, 6, 0, 0, 6, 0, 1, 0xff, 0xff };
	static const uint8_t d_edge[] = { 0, 0x00, 0x40, 2, 0xff, 0, 2, 0x00, 0, 2, 0x01, 0,
					  1, 0x01, 0 };
	static const uint8_t d_limit[] = { 3, 0x3f, 0, 3, 0x3e, 0, 3, 0x40, 0, 3, 0x7f, 0,
					   3, 0x80, 0, 3, 0x3f, 0 };
	uint8_t bad[MSG_INITIATION_LEN];
	char name[32];

	write_seed(dir, "raw_init0", MODE_RAW, init0, sizeof(init0));
	write_seed(dir, "raw_init0_load", MODE_RAW | OPT_UNDER_LOAD, init0, sizeof(init0));
	write_seed(dir, "raw_init0_v6_load", MODE_RAW | OPT_UNDER_LOAD | OPT_IPV6, init0, sizeof(init0));
	write_seed(dir, "raw_init_stranger", MODE_RAW, init_s, sizeof(init_s));
	write_seed(dir, "raw_resp0", MODE_RAW | OPT_TO_INITIATOR, resp0, sizeof(resp0));
	write_seed(dir, "raw_resp0_load", MODE_RAW | OPT_TO_INITIATOR | OPT_UNDER_LOAD, resp0,
		   sizeof(resp0));
	write_seed(dir, "raw_cookie0", MODE_RAW | OPT_TO_INITIATOR, cookie0, sizeof(cookie0));
	memcpy(bad, init0, sizeof(bad));
	bad[INIT_BODY_END] ^= 1;
	write_seed(dir, "raw_init_badmac", MODE_RAW, bad, sizeof(bad));
	write_seed(dir, "raw_short", MODE_RAW, init0, 3);
	write_seed(dir, "raw_type9", MODE_RAW, (const uint8_t *)"\x09\0\0\0abcdefgh", 12);
	for (int i = 0; i < N_DATA; i++) {
		const struct known *k = &known[data_msgs[i].known_idx];

		snprintf(name, sizeof(name), "raw_data%d", i);
		write_seed(dir, name, MODE_RAW | (data_msgs[i].to_initiator ? OPT_TO_INITIATOR : 0),
			   k->bytes, k->len);
	}
	write_seed(dir, "init_plain", MODE_INITIATION, NULL, 0);
	write_seed(dir, "init_load", MODE_INITIATION | OPT_UNDER_LOAD, NULL, 0);
	write_seed(dir, "init_sender", MODE_INITIATION, b_sender, sizeof(b_sender));
	write_seed(dir, "init_body", MODE_INITIATION, b_body, sizeof(b_body));
	write_seed(dir, "init_mac2_load", MODE_INITIATION | OPT_UNDER_LOAD, b_mac2, sizeof(b_mac2));
	write_seed(dir, "data_flip", MODE_DATA, c_flip, sizeof(c_flip));
	write_seed(dir, "data_counter", MODE_DATA, c_counter, sizeof(c_counter));
	write_seed(dir, "data_short", MODE_DATA, c_short, sizeof(c_short));
	write_seed(dir, "data_long", MODE_DATA, c_long, sizeof(c_long));
	write_seed(dir, "replay_seq", MODE_REPLAY, d_seq, sizeof(d_seq));
	write_seed(dir, "replay_dup", MODE_REPLAY, d_replay, sizeof(d_replay));
	write_seed(dir, "replay_edge", MODE_REPLAY, d_edge, sizeof(d_edge));
	write_seed(dir, "replay_limit", MODE_REPLAY, d_limit, sizeof(d_limit));
}

/* ---- libFuzzer entry points ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seed_dir = getenv("GRESEC_FUZZ_WRITE_SEEDS");

	(void)argc; (void)argv;
	rng_state = 1;
	check(randombytes_set_implementation(&det_rng) == 0);
	check(sodium_init() >= 0);
	src6.sin6_addr.s6_addr[0] = 0xfd;
	src6.sin6_addr.s6_addr[15] = 2;
	startup();
	trace = getenv("GRESEC_FUZZ_TRACE") != NULL;
	if (seed_dir)
		write_seeds(seed_dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t opt;

	if (size < 1)
		return 0;
	opt = data[0];
	node_r = snap_r;
	node_i = snap_i;
	n_known = n_known_startup;
	rng_state = 2;
	/* a fresh table is 320 KiB of copying: only after it was used */
	if (rl_dirty) {
		rl_r = rl_fresh;
		rl_i = rl_fresh;
		rl_dirty = false;
	}

	switch (opt & 3) {
	case MODE_RAW:
		mode_raw(opt, data + 1, size - 1);
		break;
	case MODE_INITIATION:
		mode_initiation(opt, data + 1, size - 1);
		break;
	case MODE_DATA:
		mode_data(opt, data + 1, size - 1);
		break;
	case MODE_REPLAY:
		mode_replay(opt, data + 1, size - 1);
		break;
	}
	return 0;
}
