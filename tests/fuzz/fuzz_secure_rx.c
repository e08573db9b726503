/* tests/fuzz/fuzz_secure_rx.c: libFuzzer target for the secure-mode receive
 * path: the real daemon/secure_rx.c, linked with the real daemon/peer.c,
 * daemon/secure_tx.c, daemon/session.c, daemon/log.c and the crypto/ and
 * tunnel/ modules they use.  Nothing of the receive logic is copied here.
 *
 * The world.  Three nodes, each a struct gresecd (a real libev loop, a
 * tx_pkt, key_owner = geteuid(), its receiver index table), a struct
 * tunnel with a secure tunnel_config, a struct secure_port without sockets
 * (fd -1) but with its ratelimiter, its sodium_malloc'd scratch handshake
 * and its tables (the real secure_port_add_peer()), and a peer made by
 * the real peer_create() from 0600 key files written to a temporary
 * directory at start-up (fixed keys, so every run is the same):
 *   R  the responder (no remote configured: it learns I's address);
 *   I  the initiator (remote = R), the same pre-shared key as R;
 *   S  a stranger that R does not know, whose (valid) initiation R gets.
 * Only I/O and what lives in files the receive path does not own are
 * stubbed (see "stubs" below): sends are captured instead of sent,
 * deliveries to the tunnel are captured instead of written, the clocks are
 * fake.  Randomness is deterministic (a seeded generator installed in
 * libsodium, reset before every input), so an input always replays the
 * same way and seeds stay valid as long as the code makes the same bytes.
 *
 * Start-up, through the real code (secure_start()'s steps, then datagrams
 * handed to secure_rx_datagram()): I sends an initiation, R answers, I
 * confirms with a keepalive, so both hold an established keypair; S's
 * initiation is refused.  Then authentic data messages are made, with the
 * real secure_seal() on real GRE packets (I -> R and R -> I) and with the
 * real secure_send_ip() for a keepalive, an echo request to R's gre_local
 * and inner packets R must drop and count by reason (GRE from a wrong
 * address, another protocol, a fragment, a bad header checksum).  Finally I
 * starts a rekey: its initiation INIT0 stays pending.  The state of R and
 * I is then snapshotted (each peer's ev_timer stopped first: libev keeps
 * active timers in its heap) and restored before every input by copying
 * into the same addresses (peer, secrets, session, port, ratelimiter,
 * scratch, tunnel, the index table's contents; packets held for a
 * handshake are freed), so internal pointers stay valid.  Two more runs from
 * the snapshot give R's cookie reply COOKIE0 to INIT0 under load and R's
 * response RESP0 to INIT0, with which I completes the handshake.
 *
 * Input: byte 0 chooses the mode (bits 0-2) and options (bits 3-7):
 *   bit 3 OPT_LOAD      the receiving port is under load (mac2 / cookie)
 *   bit 4 OPT_TO_I      raw: deliver to I; inner: R sends, I receives
 *   bit 5 OPT_V6        the datagram comes from an IPv6 address
 *   bit 6 OPT_SEGMENT   handed over as one datagram of a coalesced (UDP
 *                       GRO) buffer: secure_rx_segment(), opened out of place
 *                       from a heap block of exactly its size
 *   bit 7 OPT_INNER6    inner and script modes: gre_local / gre_remote are
 *                       IPv6 on both ends (set as a reload would, with the
 *                       real peer_set_inner())
 * Modes (the rest of the input is read by the mode):
 *   0 raw           the rest is one datagram; it is delivered twice (20 ms
 *                   apart); an initiation R accepted is taken through to a
 *                   working session
 *   1 initiation    (offset, xor) byte pairs applied to INIT0, mac1
 *                   recomputed by I's real cookie maker (pairs in the MAC
 *                   fields are applied after), so mutations reach Noise;
 *                   a cookie round trip under load; then the handshake is
 *                   completed as far as it goes
 *   2 data          byte 1 picks an authentic data message, byte 2 a
 *                   length change, then (offset, xor) pairs
 *   3 replay        3-byte records (op, 16-bit value) sealing data messages
 *                   from I to R with chosen counters (op bits 0-1: the
 *                   value / highest + int16 / highest - window + int8 /
 *                   REJECT_AFTER_MESSAGES - 64 + int8; bit 2: tamper; bit
 *                   3: a GRE packet instead of a keepalive), checked
 *                   against a model of the window
 *   4 inner         byte 1 bit 0: the rest is the payload of a GRE packet
 *                   sent with the real tx path (gre_encap, secure_seal), bits
 *                   1-2 its protocol; else the rest is an IP packet sealed
 *                   by secure_send_ip(); delivered to the other node
 *   5, 6 script     4-byte records (op, a, b, c): deliver any message seen
 *                   so far (possibly with one byte changed), let time pass
 *                   and run the timers, send data, initiate, ping, put a
 *                   port under load, send a keepalive (see mode_script())
 *   7 response      as initiation, for R's response RESP0: mac1 recomputed
 *                   by R's cookie maker, delivered to I (a forged response
 *                   must leave I's initiation pending)
 *
 * Invariants (abort on violation), checked on every datagram delivered, by
 * its real effects: captured sends, captured tunnel_gre_input()
 * deliveries, the tunnels' counters, the session, the secrets:
 *   - nothing is accepted unless authentic: an accepted initiation,
 *     response or cookie reply equals in its authenticated parts one a real
 *     node sent in this input or at start-up, from the other end of the
 *     tunnel; an accepted initiation carries that node's timestamp, newer
 *     than the last one taken and at least 20 ms after it; an accepted
 *     data message opens with the key of the keypair it names (opened here
 *     with libsodium, independently of crypto/keypair.c), a keypair in a
 *     session slot younger than REJECT_AFTER_TIME, at a counter below
 *     REJECT_AFTER_MESSAGES, and gives what was sealed;
 *   - an accepted datagram is never accepted a second time (bytes, data
 *     counter per keypair, initiation timestamp);
 *   - every datagram not accepted is counted in exactly one counter: the
 *     sum of all counters of R's and I's tunnels rises by exactly one (a
 *     problem with no peer is blamed on the port's first peer, port_count),
 *     and it changes no session, keypair, replay window, pending
 *     handshake, cookie, timestamp or endpoint; a cookie reply counts
 *     nothing and is one 64-byte message back to the source, only under
 *     load;
 *   - an accepted data message is counted once: delivered to the tunnel, a
 *     keepalive, an echo reply, or an inner drop by reason; only GRE from
 *     gre_remote to gre_local reaches tunnel_gre_input(), as exactly the
 *     GRE part of what was sealed; an echo request to gre_local gives
 *     exactly one echo reply, from gre_local back to the asker; the
 *     endpoint moves only with authenticated traffic;
 *   - unmodified authentic messages are accepted, with their expected
 *     effect; a failed open does not move the replay window; the window
 *     keeps to its model; GRE sent through the real tx path is delivered
 *     byte for byte;
 *   - a completed handshake yields keypairs that interoperate (GRE sealed
 *     by one through secure_seal() is delivered by the other) and, after a
 *     script, every pair of keypairs with matching indices holds mirrored
 *     keys.
 *
 * Messages made in other runs: RESP0 and COOKIE0 were made from the
 * snapshot in runs of their own, so they are genuine in every input; as
 * the randomness restarts with every input, the index R draws first in an
 * input is RESP0's sender index, whatever R draws it for.  The harness
 * never assumes indices of different handshakes differ.
 *
 * Seeds: GRESEC_FUZZ_WRITE_SEEDS=DIR ./fuzz_secure_rx -runs=0 writes seed
 * inputs for every mode to DIR (tests/fuzz/corpus/secure_rx/).  With
 * GRESEC_FUZZ_TRACE=1 every delivery and its outcome is printed, and the
 * daemon logs at debug level.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <ev.h>
#include <sodium.h>

#include "crypto/cookie.h"
#include "crypto/handshake.h"
#include "crypto/keypair.h"
#include "crypto/keys.h"
#include "crypto/ratelimiter.h"
#include "crypto/replay.h"
#include "daemon/daemon.h"
#include "daemon/hashtab.h"
#include "daemon/index.h"
#include "daemon/log.h"
#include "daemon/peer.h"
#include "daemon/secure_port.h"
#include "daemon/secure_rx.h"
#include "daemon/secure_tx.h"
#include "daemon/session.h"
#include "daemon/tunnel.h"
#include "tunnel/gre.h"
#include "tunnel/inet.h"
#include "tunnel/inner.h"
#include "tunnel/pkt.h"
#include "tunnel/sock.h"
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
	MODE_RAW = 0, MODE_INITIATION = 1, MODE_DATA = 2, MODE_REPLAY = 3, MODE_INNER = 4,
	MODE_SCRIPT = 5, MODE_SCRIPT2 = 6, MODE_RESPONSE = 7,
	OPT_LOAD = 0x08, OPT_TO_I = 0x10, OPT_V6 = 0x20, OPT_SEGMENT = 0x40, OPT_INNER6 = 0x80,
	/* Message parts covered by Noise / AEAD (the rest is mac1-only). */
	INIT_BODY_OFF = 8, INIT_BODY_END = MSG_INITIATION_LEN - 2 * MAC_LEN,
	RESP_BODY_OFF = 8, RESP_BODY_END = MSG_RESPONSE_LEN - 2 * MAC_LEN,
	COOKIE_BODY_OFF = 8,
	DATA_BODY_OFF = 8,
	MAX_MSGS = 8192,
	ARENA_SIZE = 32 << 20,
	MAX_ACCEPTED = 8192,
	REPLAY_MAX_RECS = 1024,
	SCRIPT_MAX_OPS = 64,
	FUZZ_PORT = 51947,
	UNDER_LOAD_NS = 1000000000,
};

#define NOW0 (UINT64_C(1000) * 1000000000u)             /* monotonic clock: 1000 s */
#define T_START (NOW0 - UINT64_C(60) * 1000000000u)     /* the first handshake */
#define REALTIME0 (UINT64_C(1700000000) * 1000000000u)  /* wall clock at T_START */
#define MS (UINT64_C(1000000))

/* ---- deterministic randomness for libsodium ---- */

static uint64_t rng_state;
enum { RNG_INIT = 1, RNG_INPUT = 2 };

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

enum { R = 0, I = 1, S = 2, N_NODES = 3 };
static const char *const node_names[N_NODES] = { "R", "I", "S" };

/* What secure_start() and secure_port_get() build for one tunnel, minus
 * the interface and the sockets; and its snapshot. */
struct node {
	struct gresecd d;
	struct tunnel t;
	struct secure_port port;
	struct secure_peer *peer;
	union sockaddr_inet addr4, addr6;   /* where its datagrams come from */
	struct {
		struct secure_peer peer;
		struct peer_secrets *sec;        /* sodium_malloc'd, like the original */
		struct secure_port port;
		struct handshake *scratch;
		struct ratelimiter *rl;
		struct tunnel t;
		struct hashtab index_tab;        /* the daemon's receiver indices */
		bool timer_active;
		ev_tstamp timer_left;
	} snap;
	bool rl_dirty;                      /* its ratelimiter may have been charged */
};

static struct node nodes[N_NODES];
static bool trace;                      /* GRESEC_FUZZ_TRACE set */
static bool inner6;                     /* this input uses IPv6 inner addresses */

static int other(int n) { return n == R ? I : R; }

/* ---- fake clocks ---- */

static uint64_t fake_now, fake_realtime;
static uint8_t last_ts[NOISE_TIMESTAMP_LEN];   /* the last timestamp handed out */
static bool last_ts_pending;

/* ---- messages seen: what real nodes produced ---- */

/* Expected effect of an authentic data message (>= 0: that drop reason). */
enum {
	EXP_NONE = -1, EXP_DELIVER = -2, EXP_KEEPALIVE = -3, EXP_ECHO = -4,
};

struct msg {
	int from, to;                       /* nodes; to is -1 when unknown */
	const uint8_t *bytes;
	size_t len;
	const uint8_t *plain;               /* data: the padded plaintext (NULL: unknown) */
	size_t plain_len;
	uint8_t ts[NOISE_TIMESTAMP_LEN];    /* initiation: its timestamp */
	bool has_ts;
	int expect;
	const char *name;
};

static struct msg msgs[MAX_MSGS];
static size_t n_msgs, n_msgs_startup;
static uint8_t *arena;
static size_t arena_used, arena_startup;

static const uint8_t *arena_put(const void *p, size_t len)
{
	uint8_t *dst;

	/* Every input stays far below: running out is a harness bug. */
	check(ARENA_SIZE - arena_used >= len);
	dst = arena + arena_used;
	if (len)
		memcpy(dst, p, len);
	arena_used += (len + 15) & ~(size_t)15;
	return dst;
}

/* sodium_memcmp is not instrumented: libFuzzer would otherwise lift the
 * operands of comparisons with authentic messages into its dictionary and
 * carry messages made in one input over to others, where they are genuine
 * but not in that input's list. */
static bool same(const void *a, const void *b, size_t len)
{
	return len == 0 || sodium_memcmp(a, b, len) == 0;
}

/* The keypair of sec with this local index (a node's own indices are unique). */
static const struct keypair *kp_by_local(const struct peer_secrets *sec, uint32_t idx)
{
	for (int i = 0; i < PEER_KEYPAIRS; i++)
		if (sec->kp_used[i] && sec->kp[i].local_index == idx)
			return &sec->kp[i];
	return NULL;
}

/* Open a data message with libsodium directly (not crypto/keypair.c): the
 * padded plaintext, len - 32 bytes, goes to plain. */
static bool open_with(const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], const uint8_t *m, size_t len,
		      uint8_t *plain)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = { 0 };

	if (len < MSG_DATA_MIN_LEN)
		return false;
	memcpy(nonce + 4, m + 8, 8);        /* the counter, little-endian, as on the wire */
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(plain, NULL, m + DATA_HDR_LEN,
								  len - MSG_DATA_MIN_LEN,
								  m + len - NOISE_AUTHTAG_LEN, NULL, 0,
								  nonce, key) == 0;
}

static bool is_data(const uint8_t *m, size_t len)
{
	return msg_classify(m, len) == MSG_DATA;
}

static uint8_t plain_buf[PKT_BUF_SIZE];

/* Record a message a node produced; a data message's plaintext is opened
 * with the sender's key. */
static struct msg *record_msg(int from, int to, const uint8_t *bytes, size_t len, const char *name)
{
	struct msg *m;

	check(n_msgs < MAX_MSGS);
	m = &msgs[n_msgs++];
	memset(m, 0, sizeof(*m));
	m->from = from;
	m->to = to;
	m->bytes = arena_put(bytes, len);
	m->len = len;
	m->expect = EXP_NONE;
	m->name = name;
	if (is_data(bytes, len) && from >= 0 && from != S) {
		const struct peer_secrets *sec = nodes[from].peer->sec;
		bool opened = false;

		/* Sealed just now with a keypair naming that receiver.  Two may
		 * name it: RESP0, genuine but made by R in another run, can carry
		 * the index R draws for something else in this one. */
		for (int i = 0; i < PEER_KEYPAIRS && !opened; i++)
			opened = sec->kp_used[i] && sec->kp[i].remote_index == load_le32(bytes + 4) &&
				 open_with(sec->kp[i].send_key, bytes, len, plain_buf);
		check(opened);
		m->plain_len = len - MSG_DATA_MIN_LEN;
		m->plain = arena_put(plain_buf, m->plain_len);
	}
	return m;
}

static void auth_range(const uint8_t *m, size_t len, size_t *from, size_t *to)
{
	*from = 0;
	*to = len;
	switch (msg_classify(m, len)) {
	case MSG_INITIATION: *from = INIT_BODY_OFF; *to = INIT_BODY_END; break;
	case MSG_RESPONSE:   *from = RESP_BODY_OFF; *to = RESP_BODY_END; break;
	case MSG_COOKIE:     *from = COOKIE_BODY_OFF; break;
	case MSG_DATA:       *from = DATA_BODY_OFF; break;
	default: break;
	}
}

/* A message a real node produced whose authenticated part (the Noise body
 * of handshake messages, the sealed part of cookie replies, all but the
 * receiver index of data) and header equal m's. */
static const struct msg *known_find(const uint8_t *m, size_t len)
{
	size_t from, to;

	if (len < 4)
		return NULL;
	auth_range(m, len, &from, &to);
	for (size_t i = 0; i < n_msgs; i++)
		if (msgs[i].len == len && same(msgs[i].bytes, m, 4) &&
		    same(msgs[i].bytes + from, m + from, to - from))
			return &msgs[i];
	return NULL;
}

/* ---- datagrams accepted (never twice) ---- */

struct accepted {
	int node;
	uint8_t key[24];
};

static struct accepted accepted[MAX_ACCEPTED];
static size_t n_accepted, n_accepted_startup;

static void accept_once(int node, int kind, const void *key, size_t key_len)
{
	struct accepted a = { .node = node };

	check(key_len + 1 <= sizeof(a.key));
	a.key[0] = (uint8_t)kind;
	memcpy(a.key + 1, key, key_len);
	for (size_t i = 0; i < n_accepted; i++)
		check(!(accepted[i].node == node && memcmp(accepted[i].key, a.key, sizeof(a.key)) == 0));
	check(n_accepted < MAX_ACCEPTED);
	accepted[n_accepted++] = a;
}

/* ---- stubs: I/O, and what lives in files the receive path does not own ---- */

/* What was sent, per node and message type (recorded in msgs as well). */
static unsigned sent_count[N_NODES][5];
static unsigned sent_total;

static int node_of_port(const struct secure_port *sp)
{
	for (int n = 0; n < N_NODES; n++)
		if (sp == &nodes[n].port)
			return n;
	return -1;
}

static int node_of_addr(const union sockaddr_inet *a)
{
	for (int n = 0; n < N_NODES; n++)
		if (sockaddr_equal(a, &nodes[n].addr4) || sockaddr_equal(a, &nodes[n].addr6))
			return n;
	return -1;
}

/* daemon/secure_port.c is linked for its tables (identities, peer keys);
 * its socket I/O is replaced (ld --wrap, see run.sh).  The datagram is
 * captured instead of sent. */
int __wrap_secure_port_send(struct secure_port *sp, const uint8_t *buf, size_t len,
			    const union sockaddr_inet *dst);
int __wrap_secure_port_send(struct secure_port *sp, const uint8_t *buf, size_t len,
			    const union sockaddr_inet *dst)
{
	int from = node_of_port(sp);
	struct msg *m;

	check(from >= 0);
	sent_total++;
	sent_count[from][len && buf[0] <= MSG_DATA ? buf[0] : 0]++;
	m = record_msg(from, node_of_addr(dst), buf, len, "sent");
	if (msg_classify(buf, len) == MSG_INITIATION) {
		/* peer_send_initiation() took a timestamp just before. */
		check(last_ts_pending);
		memcpy(m->ts, last_ts, sizeof(m->ts));
		m->has_ts = true;
		last_ts_pending = false;
	}
	if (trace)
		fprintf(stderr, "  %s sends %zu bytes type %d to %s\n", node_names[from], len,
			len ? buf[0] : -1, m->to >= 0 ? node_names[m->to] : "?");
	return 0;
}

/* daemon/secure_port.c: no sockets here. */
int __wrap_secure_port_fd(const struct secure_port *sp, int family);
int __wrap_secure_port_fd(const struct secure_port *sp, int family)
{
	(void)sp; (void)family;
	return -1;
}

/* daemon/tunnel.c: the end of a receive batch (secure_port.c's receive
 * callback, never run here: datagrams are handed to secure_rx directly). */
void tunnel_rx_flush(struct gresecd *d)
{
	(void)d;
	fprintf(stderr, "fuzz_secure_rx: tunnel_rx_flush reached\n");
	abort();
}

struct pkt *tunnel_rx_seg_buffer(struct gresecd *d)
{
	(void)d;
	fprintf(stderr, "fuzz_secure_rx: tunnel_rx_seg_buffer reached\n");
	abort();
}

void tunnel_rx_seg_done(struct gresecd *d, const struct pkt *s)
{
	(void)d; (void)s;
}

/* daemon/tunnel.c: the write to the interface.  Captured. */
static struct {
	unsigned count;
	int node;
	size_t len;
	uint8_t bytes[PKT_BUF_SIZE];
} gre_in;

static int node_of_tunnel(const struct tunnel *t)
{
	for (int n = 0; n < N_NODES; n++)
		if (t == &nodes[n].t)
			return n;
	return -1;
}

void tunnel_gre_input(struct tunnel *t, struct pkt *p)
{
	gre_in.count++;
	gre_in.node = node_of_tunnel(t);
	check(gre_in.node >= 0 && p->len <= sizeof(gre_in.bytes));
	gre_in.len = p->len;
	memcpy(gre_in.bytes, pkt_data(p), p->len);
	if (trace)
		fprintf(stderr, "  %s: tunnel_gre_input %zu bytes\n", node_names[gre_in.node], p->len);
}

/* daemon/tunnel.c: an ioctl on the TUN device; the state is kept. */
void tunnel_set_carrier(struct tunnel *t, bool on)
{
	t->carrier = on;
}

/* daemon/tunnel.c: transmit statistics; sends are observed as captures. */
void tunnel_count_tx(struct tunnel *t, struct pkt **pkts, unsigned n)
{
	(void)t; (void)pkts; (void)n;
}

/* daemon/tunnel.c: the TTL of the inner header of what we send. */
int tunnel_outer_ttl(const struct tunnel *t, const struct pkt *p)
{
	(void)p;
	return t->cfg.ttl ? t->cfg.ttl : 64;
}

/* daemon/tunnel.c: only used in log messages. */
const char *drop_reason_name(enum drop_reason r)
{
	(void)r;
	return "drop";
}

/* daemon/daemon.c: the monotonic clock. */
uint64_t gresecd_now_ns(void)
{
	return fake_now;
}

/* daemon/tunnel.c: sendmmsg; secure_transmit() never gets there without a
 * socket, and the receive path never transmits bursts. */
unsigned tunnel_sendmmsg(struct tunnel *t, int fd, struct pkt **pkts, unsigned n,
			 const union sockaddr_inet *dst, const int *ttl, const int *tos)
{
	(void)t; (void)fd; (void)pkts; (void)n; (void)dst; (void)ttl; (void)tos;
	fprintf(stderr, "fuzz_secure_rx: tunnel_sendmmsg reached (the receive path never sends bursts)\n");
	abort();
}

/* tunnel/sock.c is linked for its address helpers; its UDP GSO send is
 * replaced (ld --wrap, see run.sh) as it is never reached either. */
int __wrap_sock_send_gso(int fd, struct pkt **pkts, unsigned n, uint16_t seg,
			 const union sockaddr_inet *dst);
int __wrap_sock_send_gso(int fd, struct pkt **pkts, unsigned n, uint16_t seg,
			 const union sockaddr_inet *dst)
{
	(void)fd; (void)pkts; (void)n; (void)seg; (void)dst;
	fprintf(stderr, "fuzz_secure_rx: sock_send_gso reached (the receive path never sends bursts)\n");
	abort();
}

/* The wall clock of initiations' TAI64N timestamps (daemon/daemon.c, read
 * only by peer_send_initiation()): a fake clock that moves 1 ms per
 * initiation, so initiations are reproducible and always newer; the
 * timestamp it makes is noted for the invariants. */
uint64_t gresecd_realtime_ns(void)
{
	fake_realtime += MS;
	handshake_tai64n_now(last_ts, fake_realtime);
	last_ts_pending = true;
	return fake_realtime;
}

/* ---- delivering a datagram, with the invariants ---- */

enum outcome {
	OUT_DROPPED, OUT_COOKIE_SENT, OUT_INIT_OK, OUT_RESP_OK, OUT_COOKIE_OK, OUT_DATA_OK,
};
static const char *const outcome_names[] = {
	"dropped", "cookie_sent", "initiation_ok", "response_ok", "cookie_ok", "data_ok",
};

enum { DLV_V6 = 1, DLV_SEGMENT = 2, DLV_LOAD = 4 };

struct rx {
	enum outcome out;
	struct tunnel_counters delta;       /* the receiver's counters, after - before */
	unsigned gre;                       /* tunnel_gre_input() calls */
	size_t first_sent, n_sent;          /* msgs the receiver sent while receiving */
	const struct msg *reply;            /* INIT_OK: the response; COOKIE_SENT: the reply */
};

static struct pkt *rx_pk, *seg_pk, *tx_pk;
static struct peer_secrets *pre_sec;    /* the receiver's secrets before (sodium_malloc) */
static uint8_t rx_plain[PKT_BUF_SIZE];

static uint64_t counters_sum(const struct tunnel_counters *c)
{
	uint64_t v[sizeof(*c) / sizeof(uint64_t)], sum = 0;

	static_assert(sizeof(*c) % sizeof(uint64_t) == 0, "counters are all uint64_t");
	memcpy(v, c, sizeof(v));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		sum += v[i];
	return sum;
}

static void counters_delta(struct tunnel_counters *d, const struct tunnel_counters *before,
			   const struct tunnel_counters *after)
{
	uint64_t a[sizeof(*d) / sizeof(uint64_t)], b[sizeof(a) / sizeof(a[0])];

	memcpy(a, after, sizeof(a));
	memcpy(b, before, sizeof(b));
	for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
		a[i] -= b[i];
	memcpy(d, a, sizeof(a));
}

static bool windows_equal(const struct peer_secrets *a, const struct peer_secrets *b)
{
	for (int i = 0; i < PEER_KEYPAIRS; i++) {
		if (a->kp_used[i] != b->kp_used[i])
			return false;
		if (a->kp_used[i] && (a->kp[i].local_index != b->kp[i].local_index ||
				      memcmp(&a->kp[i].replay, &b->kp[i].replay, sizeof(a->kp[i].replay)) != 0))
			return false;
	}
	return true;
}

static bool addr_is(const uint8_t *bytes, const struct ip_addr *a, int family)
{
	return a->family == family && same(bytes, a->u.bytes, family == AF_INET ? 4 : 16);
}

/* Only GRE from gre_remote to gre_local reaches the tunnel, and exactly
 * its GRE part (read here from the IP header, not with tunnel/inner.c). */
static void check_gre_delivery(const struct node *x, const uint8_t *p, size_t plen)
{
	const struct ip_addr *lo = &x->peer->gre_local, *re = &x->peer->gre_remote;
	const uint8_t *g = gre_in.bytes;
	size_t glen = gre_in.len, total;

	check(plen >= 1);
	if ((p[0] >> 4) == 4) {
		size_t ihl = (size_t)(p[0] & 0x0f) * 4;

		check(plen >= IPV4_HDR_LEN && ihl >= IPV4_HDR_LEN);
		total = load_be16(p + 2);
		check(total <= plen && total >= ihl && p[9] == IPPROTO_GRE_NUM);
		check((load_be16(p + 6) & 0x3fff) == 0);              /* no fragment */
		check(inet_checksum(p, ihl) == 0);
		check(addr_is(p + 12, re, AF_INET) && addr_is(p + 16, lo, AF_INET));
		check(glen == total - ihl && same(g, p + ihl, glen));
	} else {
		check((p[0] >> 4) == 6 && plen >= IPV6_HDR_LEN);
		total = IPV6_HDR_LEN + (size_t)load_be16(p + 4);
		check(total <= plen && glen <= total - IPV6_HDR_LEN);
		check(addr_is(p + 8, re, AF_INET6) && addr_is(p + 24, lo, AF_INET6));
		/* GRE right away, or behind hop-by-hop / destination options */
		check(p[6] == IPPROTO_GRE_NUM ? glen == total - IPV6_HDR_LEN : (p[6] == 0 || p[6] == 60));
		check(same(g, p + total - glen, glen));
	}
}

/* An ICMP(v6) echo reply (plaintext p) from x's gre_local. */
static bool is_echo_reply_from(const struct node *x, const uint8_t *p, size_t plen)
{
	if (plen >= IPV4_HDR_LEN + 8 && (p[0] >> 4) == 4) {
		size_t ihl = (size_t)(p[0] & 0x0f) * 4;

		return ihl + 8 <= plen && p[9] == IPPROTO_ICMP_NUM && p[ihl] == 0 &&
		       addr_is(p + 12, &x->peer->gre_local, AF_INET);
	}
	return plen >= IPV6_HDR_LEN + 8 && (p[0] >> 4) == 6 && p[6] == IPPROTO_ICMPV6_NUM &&
	       p[IPV6_HDR_LEN] == 129 && addr_is(p + 8, &x->peer->gre_local, AF_INET6);
}

/* Echo replies among the data messages x sent since msgs[first] (their
 * plaintext was opened with x's send key when they were captured: the
 * other end may no longer hold that keypair). */
static unsigned echo_replies_sent(int x, size_t first, const uint8_t *src_of_request, size_t src_len)
{
	unsigned n = 0;

	for (size_t i = first; i < n_msgs; i++) {
		const struct msg *m = &msgs[i];

		if (m->from != x || !m->plain || !is_echo_reply_from(&nodes[x], m->plain, m->plain_len))
			continue;
		n++;
		/* back to whoever asked */
		if (src_len)
			check(same(m->plain + ((m->plain[0] >> 4) == 4 ? 16 : 24), src_of_request, src_len));
	}
	return n;
}

static enum outcome deliver(int to, int from, const uint8_t *m, size_t len, unsigned flags,
			    struct rx *res)
{
	struct node *x = &nodes[to];
	struct secure_peer *peer = x->peer;
	union sockaddr_inet src = flags & DLV_V6 ? nodes[from].addr6 : nodes[from].addr4;
	struct tunnel_counters before[2], delta_other;
	struct session pre_session;
	uint8_t pre_ts[NOISE_TIMESTAMP_LEN];
	uint64_t pre_consumed = peer->last_initiation_consumed;
	union sockaddr_inet pre_remote = x->t.remote;
	bool pre_has_remote = x->t.has_remote, crypto_ok = false;
	unsigned pre_gre = gre_in.count, pre_sent_total = sent_total, pre_sent[5];
	const struct keypair *kp = NULL;
	const struct msg *k;
	uint64_t dsum;
	uint32_t idx = 0;
	struct rx r;
	int cls = msg_classify(m, len);

	check(to == R || to == I);
	memset(&r, 0, sizeof(r));
	if (flags & DLV_LOAD)
		x->port.under_load_until = fake_now + UNDER_LOAD_NS;
	if (x->port.under_load_until > fake_now)
		x->rl_dirty = true;
	memcpy(pre_sec, peer->sec, sizeof(*pre_sec));
	memcpy(&pre_session, &peer->session, sizeof(pre_session));
	memcpy(pre_ts, peer->last_timestamp, sizeof(pre_ts));
	memcpy(pre_sent, sent_count[to], sizeof(pre_sent));
	before[R] = nodes[R].t.ctr;
	before[I] = nodes[I].t.ctr;
	r.first_sent = n_msgs;
	/* The key the message names, if any: opened here independently. */
	if (cls == MSG_DATA) {
		idx = load_le32(m + 4);
		kp = kp_by_local(pre_sec, idx);
		crypto_ok = kp && open_with(kp->recv_key, m, len, rx_plain);
	}

	if (flags & DLV_SEGMENT) {
		/* One datagram of a coalesced buffer: a heap block of exactly its
		 * size, so that ASan sees every read past it. */
		uint8_t *buf = malloc(len ? len : 1);

		check(buf != NULL);
		if (len)
			memcpy(buf, m, len);
		pkt_reset(seg_pk);
		secure_rx_segment(&x->port, buf, len, seg_pk, &src, fake_now);
		free(buf);
	} else {
		check(len <= PKT_MAX_PAYLOAD);
		pkt_reset(rx_pk);
		if (len)
			memcpy(pkt_data(rx_pk), m, len);
		rx_pk->len = len;
		secure_rx_datagram(&x->port, rx_pk, &src, fake_now);
	}

	counters_delta(&r.delta, &before[to], &x->t.ctr);
	counters_delta(&delta_other, &before[other(to)], &nodes[other(to)].t.ctr);
	dsum = counters_sum(&r.delta) + counters_sum(&delta_other);
	r.gre = gre_in.count - pre_gre;
	check(r.gre == 0 || (r.gre == 1 && gre_in.node == to));
	r.n_sent = n_msgs - r.first_sent;
	check(sent_total - pre_sent_total == r.n_sent);    /* only the receiver sends */
	for (size_t i = r.first_sent; i < n_msgs; i++)
		check(msgs[i].from == to);

	/* What happened, told by the real effects. */
	r.out = OUT_DROPPED;
	switch (cls) {
	case MSG_INITIATION:
		if (sent_count[to][MSG_RESPONSE] != pre_sent[MSG_RESPONSE])
			r.out = OUT_INIT_OK;
		else if (sent_count[to][MSG_COOKIE] != pre_sent[MSG_COOKIE])
			r.out = OUT_COOKIE_SENT;
		break;
	case MSG_RESPONSE:
		if (pre_sec->hs.state == HANDSHAKE_CREATED_INITIATION && peer->session.current.valid &&
		    peer->session.current.local_index == pre_sec->hs.local_index &&
		    !(pre_session.current.valid && pre_session.current.local_index == pre_sec->hs.local_index))
			r.out = OUT_RESP_OK;
		else if (sent_count[to][MSG_COOKIE] != pre_sent[MSG_COOKIE])
			r.out = OUT_COOKIE_SENT;
		break;
	case MSG_COOKIE:
		if (pre_sec->maker.has_last_mac1 && !peer->sec->maker.has_last_mac1)
			r.out = OUT_COOKIE_OK;
		break;
	case MSG_DATA:
		if (!windows_equal(pre_sec, peer->sec))
			r.out = OUT_DATA_OK;
		break;
	default:
		break;
	}
	if (trace)
		fprintf(stderr, "deliver to %s from %s%s%s%s: %zu bytes type %d -> %s (counted %llu, gre %u, sent %zu)\n",
			node_names[to], node_names[from], flags & DLV_V6 ? " v6" : "",
			flags & DLV_SEGMENT ? " segment" : "",
			x->port.under_load_until > fake_now ? " under load" : "", len, len ? m[0] : -1,
			outcome_names[r.out], (unsigned long long)dsum, r.gre, r.n_sent);

	/* Nothing accepted: exactly one counter, and no state of the peer moved. */
	if (r.out == OUT_DROPPED || r.out == OUT_COOKIE_SENT) {
		check(r.gre == 0);
		check(same(&pre_session, &peer->session, sizeof(pre_session)));
		check(same(pre_ts, peer->last_timestamp, sizeof(pre_ts)));
		check(windows_equal(pre_sec, peer->sec));
		check(same(&pre_sec->hs, &peer->sec->hs, sizeof(pre_sec->hs)));
		check(same(&pre_sec->maker, &peer->sec->maker, sizeof(pre_sec->maker)));
		check(x->t.has_remote == pre_has_remote);
		check(!pre_has_remote || sockaddr_equal(&x->t.remote, &pre_remote));
	}
	if (r.out == OUT_DROPPED) {
		check(dsum == 1);
		check(r.n_sent == 0);
	}
	if (r.out == OUT_COOKIE_SENT) {
		const struct msg *c = &msgs[r.first_sent];

		/* only under load, one reply back to the source, nothing counted */
		check(dsum == 0 && r.n_sent == 1);
		check(x->port.under_load_until > fake_now);
		check(c->len == MSG_COOKIE_LEN && c->bytes[0] == MSG_COOKIE && c->to == from);
		check(load_le32(c->bytes + 4) == load_le32(m + 4));
		r.reply = c;
	}

	/* Accepted: authentic, once, from the other end of the tunnel. */
	if (r.out != OUT_DROPPED && r.out != OUT_COOKIE_SENT) {
		uint8_t hash[16];

		crypto_generichash(hash, sizeof(hash), m, len, NULL, 0);
		accept_once(to, 0, hash, sizeof(hash));
	}
	if (r.out == OUT_INIT_OK || r.out == OUT_RESP_OK || r.out == OUT_DATA_OK) {
		/* the endpoint follows authenticated traffic (roaming), and the
		 * peer is alive (a cookie reply proves neither) */
		check(x->t.has_remote && sockaddr_equal(&x->t.remote, &src));
		check(x->t.carrier);
	}
	if (x->port.under_load_until > fake_now)
		x->rl_dirty = true;
	switch (r.out) {
	case OUT_INIT_OK:
		k = known_find(m, len);
		check(k != NULL && k->from == other(to) && k->has_ts);
		check(same(peer->last_timestamp, k->ts, NOISE_TIMESTAMP_LEN));
		accept_once(to, MSG_INITIATION, k->ts, NOISE_TIMESTAMP_LEN);
		/* newer than the last one taken (TAI64N compares as big-endian
		 * bytes), and not within 20 ms of it */
		check(memcmp(k->ts, pre_ts, NOISE_TIMESTAMP_LEN) > 0);
		check(!pre_consumed || fake_now - pre_consumed >= PEER_INITIATION_MIN_INTERVAL_NS);
		check(dsum == 0 && r.gre == 0 && r.n_sent == 1);
		r.reply = &msgs[r.first_sent];
		check(r.reply->len == MSG_RESPONSE_LEN && r.reply->bytes[0] == MSG_RESPONSE &&
		      r.reply->to == from);
		/* the response answers the initiation's sender, and its own
		 * sender index is the new keypair's, waiting in next */
		check(load_le32(r.reply->bytes + 8) == load_le32(m + 4));
		check(peer->session.next.valid &&
		      peer->session.next.local_index == load_le32(r.reply->bytes + 4));
		break;
	case OUT_RESP_OK:
		k = known_find(m, len);
		check(k != NULL && k->from == other(to));
		check(dsum == 0 && r.gre == 0);
		check(sent_count[to][MSG_INITIATION] == pre_sent[MSG_INITIATION] &&
		      sent_count[to][MSG_RESPONSE] == pre_sent[MSG_RESPONSE] &&
		      sent_count[to][MSG_COOKIE] == pre_sent[MSG_COOKIE]);
		check(peer->session.current.valid && peer->session.current.initiator);
		break;
	case OUT_COOKIE_OK:
		k = known_find(m, len);
		check(k != NULL && k->from == other(to));
		check(dsum == 0 && r.gre == 0 && r.n_sent == 0);
		check(peer->sec->maker.has_cookie && peer->sec->maker.cookie_birth_ns == fake_now);
		break;
	case OUT_DATA_OK: {
		uint64_t counter = load_le64(m + 8);
		size_t plen = len - MSG_DATA_MIN_LEN;
		uint8_t key[12];
		unsigned echoes;

		/* it opens with the key of the keypair it names, which is in a
		 * slot and younger than REJECT_AFTER_TIME; the counter is below
		 * REJECT_AFTER_MESSAGES */
		check(crypto_ok);
		{
			const struct session_slot *slot = session_slot_by_index(&pre_session, idx);

			check(slot != NULL && slot->keypair != NULL);
			check(fake_now - slot->birth_ns < pre_session.t.reject_after_time);
			check(counter < REJECT_AFTER_MESSAGES);
		}
		memcpy(key, m + 4, 12);
		accept_once(to, MSG_DATA, key, sizeof(key));
		k = known_find(m, len);
		if (k && k->plain)
			check(k->plain_len == plen && same(k->plain, rx_plain, plen));
		/* counted exactly once: delivered, keepalive, echo or inner drop */
		check(dsum + r.gre == 1);
		if (plen == 0)
			check(r.delta.keepalives_received == 1);
		if (r.gre)
			check_gre_delivery(x, rx_plain, plen);
		if ((rx_plain[0] >> 4) == 4 && plen >= IPV4_HDR_LEN)
			echoes = echo_replies_sent(to, r.first_sent, rx_plain + 12, 4);
		else if (plen >= IPV6_HDR_LEN)
			echoes = echo_replies_sent(to, r.first_sent, rx_plain + 8, 16);
		else
			echoes = echo_replies_sent(to, r.first_sent, NULL, 0);
		check(echoes == r.delta.echo_replies);
		check(r.delta.echo_replies <= 1);
		/* (the expected effects hold for the start-up inner addresses) */
		if (k && !inner6) {
			switch (k->expect) {
			case EXP_NONE: break;
			case EXP_DELIVER: check(r.gre == 1); break;
			case EXP_KEEPALIVE: check(r.delta.keepalives_received == 1); break;
			case EXP_ECHO: check(r.delta.echo_replies == 1); break;
			default: check(r.delta.drops[k->expect] == 1); break;
			}
		}
		break;
	}
	default:
		break;
	}

	/* The end of the receive batch: the timers of the peers that saw traffic. */
	peer_run_scheduled(&x->port);
	if (res)
		*res = r;
	return r.out;
}

/* ---- sending through the real tx path ---- */

/* A GRE packet from node n (gre_encap, then secure_seal: the inner IP
 * header and the seal), taken as it would go to secure_transmit(). */
static const struct msg *send_gre(int n, uint16_t proto, const uint8_t *payload, size_t len,
				  const uint8_t **gre_out, size_t *gre_len)
{
	struct node *x = &nodes[n];
	const uint8_t *gre;
	size_t glen;

	check(len <= PKT_MAX_PAYLOAD - GRE_MAX_LEN - IPV6_HDR_LEN);
	pkt_reset(tx_pk);
	if (len)
		memcpy(pkt_data(tx_pk), payload, len);
	tx_pk->len = len;
	tx_pk->inner_len = len;
	check(gre_encap(tx_pk, &x->t.gre_tx, proto) == 0);
	gre = arena_put(pkt_data(tx_pk), tx_pk->len);
	glen = tx_pk->len;
	if (gre_out) {
		*gre_out = gre;
		*gre_len = glen;
	}
	if (secure_seal(&x->t, tx_pk, fake_now) != 0)
		return NULL;                         /* held for a handshake, or dropped */
	return record_msg(n, other(n), pkt_data(tx_pk), tx_pk->len, "gre");
}

/* An IP packet (empty: a keepalive) from node n through secure_send_ip(),
 * which sends it: the capture is the message. */
static const struct msg *send_ip(int n, const uint8_t *ip, size_t len)
{
	size_t first = n_msgs;

	pkt_reset(tx_pk);
	if (len)
		memcpy(pkt_data(tx_pk), ip, len);
	tx_pk->len = len;
	tx_pk->inner_len = len;
	if (secure_send_ip(nodes[n].peer, tx_pk) != 0)
		return NULL;
	/* the message is the data message sent first (a timer may follow) */
	for (size_t i = first; i < n_msgs; i++)
		if (msgs[i].from == n && is_data(msgs[i].bytes, msgs[i].len))
			return &msgs[i];
	check(0);
	return NULL;
}

/* An ICMP(v6) echo request from the sender's gre_local to dst, in buf. */
static size_t make_echo(uint8_t *buf, const struct ip_addr *src, const struct ip_addr *dst,
			uint16_t id, uint16_t seq, size_t payload)
{
	struct pkt *p = tx_pk;
	uint8_t *icmp;
	size_t n;

	pkt_reset(p);
	icmp = pkt_data(p);
	memset(icmp, 0, 8 + payload);
	for (size_t i = 0; i < payload; i++)
		icmp[8 + i] = (uint8_t)(0x20 + i);
	icmp[0] = src->family == AF_INET ? 8 : 128;
	store_be16(icmp + 4, id);
	store_be16(icmp + 6, seq);
	p->len = 8 + payload;
	check(inner_push(p, src, dst, 64, 0x1234) == 0);
	n = p->len;
	memcpy(buf, pkt_data(p), n);
	/* inner_push made a GRE header; make it ICMP(v6) */
	if (src->family == AF_INET) {
		buf[9] = IPPROTO_ICMP_NUM;
		store_be16(buf + 10, 0);
		store_be16(buf + 10, inet_checksum(buf, IPV4_HDR_LEN));
		store_be16(buf + IPV4_HDR_LEN + 2, inet_checksum(buf + IPV4_HDR_LEN, n - IPV4_HDR_LEN));
	} else {
		buf[6] = IPPROTO_ICMPV6_NUM;   /* the checksum does not matter to the classifier */
	}
	return n;
}

/* Data both ways through the real code: GRE sealed by one end with
 * secure_seal() is delivered by the other, byte for byte. */
static void check_interop(void)
{
	static const uint8_t payload[] = {
		0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00,
		0x0a, 0x0b, 0x01, 0x01, 0x0a, 0x0b, 0x01, 0x02, 0x08, 0x00, 0xf7, 0xfe, 0x00, 0x01, 0x00, 0x00,
	};

	for (int dir = 0; dir < 2; dir++) {
		int a = dir ? R : I, b = other(a);
		const uint8_t *gre;
		size_t glen;
		const struct msg *m = send_gre(a, GRE_PROTO_IPV4, payload, sizeof(payload), &gre, &glen);
		struct rx r;

		check(m != NULL);
		check(deliver(b, a, m->bytes, m->len, 0, &r) == OUT_DATA_OK);
		check(r.gre == 1 && gre_in.len == glen && same(gre_in.bytes, gre, glen));
	}
}

/* After a response was accepted by I: I confirmed it with a keepalive
 * (sent by its timers at the end of the batch); R takes it, then the new
 * keypairs carry data both ways. */
static void complete_handshake(size_t first_sent_by_i)
{
	const struct msg *ka = NULL;

	for (size_t i = first_sent_by_i; i < n_msgs && !ka; i++)
		if (msgs[i].from == I && is_data(msgs[i].bytes, msgs[i].len))
			ka = &msgs[i];
	check(ka != NULL);
	check(deliver(R, I, ka->bytes, ka->len, 0, NULL) == OUT_DATA_OK);
	check_interop();
}

/* Key agreement: any two keypairs of R and I that name each other hold
 * mirrored keys (the handshake that made them completed on both ends). */
static void check_keys_agree(void)
{
	const struct peer_secrets *a = nodes[R].peer->sec, *b = nodes[I].peer->sec;

	for (int i = 0; i < PEER_KEYPAIRS; i++)
		for (int j = 0; j < PEER_KEYPAIRS; j++) {
			const struct keypair *ka = &a->kp[i], *kb = &b->kp[j];

			if (!a->kp_used[i] || !b->kp_used[j] || ka->local_index != kb->remote_index ||
			    ka->remote_index != kb->local_index)
				continue;
			check(same(ka->send_key, kb->recv_key, NOISE_SYMMETRIC_KEY_LEN));
			check(same(ka->recv_key, kb->send_key, NOISE_SYMMETRIC_KEY_LEN));
			check(ka->is_initiator != kb->is_initiator);
		}
}

/* ---- snapshot and restore ---- */

static void timer_park(struct node *x, bool *active, ev_tstamp *left)
{
	*active = ev_is_active(&x->peer->timer);
	*left = *active ? ev_timer_remaining(x->d.loop, &x->peer->timer) : 0.;
	ev_timer_stop(x->d.loop, &x->peer->timer);
}

static void timer_rearm(struct node *x, bool active, ev_tstamp left)
{
	if (!active)
		return;
	ev_timer_set(&x->peer->timer, left > 0. ? left : 0., 0.);
	ev_timer_start(x->d.loop, &x->peer->timer);
}

static void snapshot(struct node *x)
{
	timer_park(x, &x->snap.timer_active, &x->snap.timer_left);
	check(x->peer->n_staged == 0 && x->port.scheduled == NULL);
	x->snap.peer = *x->peer;
	memcpy(x->snap.sec, x->peer->sec, sizeof(*x->snap.sec));
	x->snap.port = x->port;
	memcpy(x->snap.scratch, x->port.scratch, sizeof(*x->snap.scratch));
	memcpy(x->snap.rl, x->port.rl, sizeof(*x->snap.rl));
	x->snap.t = x->t;
	check(x->d.index && hashtab_copy(&x->snap.index_tab, &x->d.index->tab) == 0);
	x->rl_dirty = false;
	timer_rearm(x, x->snap.timer_active, x->snap.timer_left);
}

static void restore(struct node *x)
{
	/* libev keeps the active timer in its heap: out of it before the copy */
	ev_timer_stop(x->d.loop, &x->peer->timer);
	peer_drop_staged(x->peer);          /* copies made in this input */
	*x->peer = x->snap.peer;
	check(hashtab_copy(&x->d.index->tab, &x->snap.index_tab) == 0);
	memcpy(x->peer->sec, x->snap.sec, sizeof(*x->snap.sec));
	x->port = x->snap.port;
	memcpy(x->port.scratch, x->snap.scratch, sizeof(*x->snap.scratch));
	/* 320 KiB: only after a message was taken under load */
	if (x->rl_dirty)
		memcpy(x->port.rl, x->snap.rl, sizeof(*x->snap.rl));
	x->rl_dirty = false;
	x->t = x->snap.t;
	timer_rearm(x, x->snap.timer_active, x->snap.timer_left);
}

static uint64_t snap_realtime;

static void restore_all(void)
{
	restore(&nodes[R]);
	restore(&nodes[I]);
	fake_now = NOW0;
	fake_realtime = snap_realtime;
	last_ts_pending = false;
	rng_state = RNG_INPUT;
	n_msgs = n_msgs_startup;
	arena_used = arena_startup;
	n_accepted = n_accepted_startup;
	inner6 = false;
}

/* Both ends with IPv6 inner addresses, as a reload would set them. */
static void use_inner6(void)
{
	for (int n = R; n <= I; n++) {
		struct tunnel_config *c = &nodes[n].t.cfg;

		c->gre_local.family = c->gre_remote.family = AF_INET6;
		check(inet_pton(AF_INET6, n == R ? "fd00::1" : "fd00::2", &c->gre_local.u.v6) == 1);
		check(inet_pton(AF_INET6, n == R ? "fd00::2" : "fd00::1", &c->gre_remote.u.v6) == 1);
		peer_set_inner(nodes[n].peer);
	}
	inner6 = true;
}

/* ---- start-up ---- */

static uint8_t psk[NOISE_SYMMETRIC_KEY_LEN] = { 'g', 'r', 'e', 's', 'e', 'c', '-', 'p', 's', 'k' };
static char key_dir[64];

static void fixed_key(uint8_t key[32], uint8_t base)
{
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(base + 7 * i);
}

static void write_key_file(char *path, size_t path_len, const char *name, const uint8_t key[32])
{
	char b64[KEYS_BASE64_LEN + 2];
	int fd;

	snprintf(path, path_len, "%s/%s", key_dir, name);
	keys_to_base64(b64, key);
	strcat(b64, "\n");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	check(fd >= 0);
	check(write(fd, b64, strlen(b64)) == (ssize_t)strlen(b64));
	check(close(fd) == 0);
}

static void set_addr(union sockaddr_inet *sa, int family, const char *text)
{
	struct ip_addr ip = { .family = family };

	check(inet_pton(family, text, ip.u.bytes) == 1);
	check(sockaddr_from_ip(sa, &ip, FUZZ_PORT) == 0);
}

/* A node as secure_start() makes it: peer_create() from the key files,
 * the port (secure_port_get() without sockets), carrier off, and an
 * initiation when the remote is known. */
static void node_init(int n, uint8_t key_base, uint8_t peer_key_base, bool with_psk, bool with_remote)
{
	static const char *const v4[N_NODES] = { "192.0.2.1", "192.0.2.2", "192.0.2.3" };
	static const char *const v6[N_NODES] = { "2001:db8::1", "2001:db8::2", "2001:db8::3" };
	struct node *x = &nodes[n];
	struct tunnel_config *c = &x->t.cfg;
	uint8_t priv[32], peer_priv[32];
	char name[16];

	set_addr(&x->addr4, AF_INET, v4[n]);
	set_addr(&x->addr6, AF_INET6, v6[n]);

	x->d.loop = ev_loop_new(EVFLAG_AUTO);
	check(x->d.loop != NULL);
	x->d.tx_pkt = malloc(sizeof(struct pkt));
	check(x->d.tx_pkt != NULL);
	x->d.key_owner = geteuid();

	snprintf(c->name, sizeof(c->name), "gs%s", node_names[n]);
	c->mode = TUNNEL_MODE_SECURE;
	c->type = TUNNEL_TYPE_GRE;
	c->mtu = 1396;                      /* conf_default_mtu(): 1420 - 20 - 4 */
	c->port = FUZZ_PORT;
	fixed_key(priv, key_base);
	snprintf(name, sizeof(name), "%s.key", node_names[n]);
	write_key_file(c->private_key_file, sizeof(c->private_key_file), name, priv);
	if (with_psk) {
		snprintf(name, sizeof(name), "%s.psk", node_names[n]);
		write_key_file(c->preshared_key_file, sizeof(c->preshared_key_file), name, psk);
	}
	fixed_key(peer_priv, peer_key_base);
	check(keys_public_from_private(c->peer_public_key, peer_priv) == 0);
	if (with_remote) {
		c->remote.family = AF_INET;
		check(inet_pton(AF_INET, v4[R], &c->remote.u.v4) == 1);
	}
	x->t.d = &x->d;
	x->t.tun_fd = -1;
	x->t.mtu = c->mtu;

	x->port.d = &x->d;
	x->port.port = c->port;
	x->port.fd[0] = x->port.fd[1] = -1;
	x->port.rl = malloc(sizeof(*x->port.rl));
	x->port.scratch = sodium_malloc(sizeof(*x->port.scratch));
	check(x->port.rl != NULL && x->port.scratch != NULL);
	ratelimiter_init(x->port.rl);
	memset(x->port.scratch, 0, sizeof(*x->port.scratch));
	x->port.refs = 1;
	x->d.secure_ports = &x->port;

	check(peer_create(&x->t, &x->peer) == 0);
	check(secure_port_add_peer(&x->port, x->peer) == 0);
	x->t.peer = x->peer;
	x->t.carrier = false;
	if (x->t.has_remote)
		peer_send_initiation(x->peer, fake_now);
	peer_schedule(x->peer);

	x->snap.sec = sodium_malloc(sizeof(*x->snap.sec));
	x->snap.scratch = sodium_malloc(sizeof(*x->snap.scratch));
	x->snap.rl = malloc(sizeof(*x->snap.rl));
	check(x->snap.sec && x->snap.scratch && x->snap.rl);
	sodium_memzero(priv, sizeof(priv));
}

/* Start-up data messages: what DATA mode mutates (indices into msgs). */
enum { MAX_DATA = 16 };
static size_t data_msgs[MAX_DATA], n_data;
static size_t init0_idx, init_s_idx, resp0_idx, cookie0_idx, init_a_idx;

static void add_data(const struct msg *m, int expect, const char *name)
{
	struct msg *w;

	check(m != NULL && n_data < MAX_DATA);
	w = &msgs[m - msgs];
	w->expect = expect;
	w->name = name;
	data_msgs[n_data++] = (size_t)(m - msgs);
}

/* An IPv4 packet from src to dst with protocol proto and a small payload,
 * made by inner_push (so a valid header); the caller may spoil it. */
static size_t make_ip4(uint8_t *buf, const struct ip_addr *src, const struct ip_addr *dst,
		       uint8_t proto, size_t payload)
{
	pkt_reset(tx_pk);
	for (size_t i = 0; i < payload; i++)
		pkt_data(tx_pk)[i] = (uint8_t)i;
	if (payload >= 4 && proto == IPPROTO_GRE_NUM)
		memcpy(pkt_data(tx_pk), "\x00\x00\x08\x00", 4);
	tx_pk->len = payload;
	check(inner_push(tx_pk, src, dst, 64, 7) == 0);
	memcpy(buf, pkt_data(tx_pk), tx_pk->len);
	if (proto != IPPROTO_GRE_NUM) {
		buf[9] = proto;
		store_be16(buf + 10, 0);
		store_be16(buf + 10, inet_checksum(buf, IPV4_HDR_LEN));
	}
	return tx_pk->len;
}

static void refresh_ip4_csum(uint8_t *buf)
{
	store_be16(buf + 10, 0);
	store_be16(buf + 10, inet_checksum(buf, IPV4_HDR_LEN));
}

static const struct msg *find_sent(size_t first, int from, int type)
{
	for (size_t i = first; i < n_msgs; i++)
		if (msgs[i].from == from && msgs[i].len && msgs[i].bytes[0] == type)
			return &msgs[i];
	check(0);
	return NULL;
}

static void startup(void)
{
	/* an IPv4 ICMP echo inside GRE, and an IPv6 one */
	static const uint8_t in4[] = {
		0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00,
		0x0b, 0x0b, 0x01, 0x01, 0x0b, 0x0b, 0x01, 0x02, 0x08, 0x00, 0xf7, 0xfe, 0x00, 0x01, 0x00, 0x00,
	};
	static const uint8_t in6[48] = {
		0x60, 0, 0, 0, 0x00, 0x08, 58, 64,
		0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		128, 0, 0, 0, 0, 1, 0, 1,
	};
	struct ip_addr wrong = { .family = AF_INET };
	uint8_t buf[256];
	size_t first, n;
	const struct msg *m;
	struct node *r = &nodes[R], *ii = &nodes[I];

	arena = malloc(ARENA_SIZE);
	rx_pk = malloc(sizeof(*rx_pk));
	seg_pk = malloc(sizeof(*seg_pk));
	tx_pk = malloc(sizeof(*tx_pk));
	pre_sec = sodium_malloc(sizeof(*pre_sec));
	check(arena && rx_pk && seg_pk && tx_pk && pre_sec);
	snprintf(key_dir, sizeof(key_dir), "/tmp/gresec-fuzz-XXXXXX");
	check(mkdtemp(key_dir) != NULL);

	/* The first handshake, a minute before the inputs' time. */
	fake_now = T_START;
	fake_realtime = REALTIME0;
	node_init(R, 0x11, 0x22, true, false);
	node_init(I, 0x22, 0x11, true, true);       /* sends its initiation */
	node_init(S, 0x33, 0x11, false, true);      /* so does the stranger */
	/* The keys are loaded: the files can go. */
	for (int n = 0; n < N_NODES; n++) {
		unlink(nodes[n].t.cfg.private_key_file);
		if (nodes[n].t.cfg.preshared_key_file[0])
			unlink(nodes[n].t.cfg.preshared_key_file);
	}
	rmdir(key_dir);
	check(r->peer->gre_local.family == AF_INET &&
	      same(&r->peer->gre_local, &ii->peer->gre_remote, sizeof(struct ip_addr)) &&
	      same(&r->peer->gre_remote, &ii->peer->gre_local, sizeof(struct ip_addr)));

	init_a_idx = (size_t)(find_sent(0, I, MSG_INITIATION) - msgs);
	init_s_idx = (size_t)(find_sent(0, S, MSG_INITIATION) - msgs);
	msgs[init_a_idx].name = "INIT_A";
	msgs[init_s_idx].name = "INIT_S";
	first = n_msgs;
	check(deliver(R, I, msgs[init_a_idx].bytes, MSG_INITIATION_LEN, 0, NULL) == OUT_INIT_OK);
	m = find_sent(first, R, MSG_RESPONSE);
	first = n_msgs;
	check(deliver(I, R, m->bytes, m->len, 0, NULL) == OUT_RESP_OK);
	m = find_sent(first, I, MSG_DATA);          /* I's keepalive confirms the keypair */
	check(deliver(R, I, m->bytes, m->len, 0, NULL) == OUT_DATA_OK);
	check(deliver(R, S, msgs[init_s_idx].bytes, MSG_INITIATION_LEN, 0, NULL) == OUT_DROPPED);
	check(r->t.ctr.drops[DROP_HANDSHAKE] == 1);

	/* Authentic data messages, a second before the inputs' time (their
	 * timers are not due yet then). */
	fake_now = NOW0 - 1000 * MS;
	add_data(send_ip(I, NULL, 0), EXP_KEEPALIVE, "I->R keepalive");
	add_data(send_gre(I, GRE_PROTO_IPV4, in4, sizeof(in4), NULL, NULL), EXP_DELIVER, "I->R gre ipv4");
	add_data(send_gre(I, GRE_PROTO_IPV6, in6, sizeof(in6), NULL, NULL), EXP_DELIVER, "I->R gre ipv6");
	((struct keypair *)ii->peer->session.current.keypair)->send_counter += 100000;
	add_data(send_gre(I, GRE_PROTO_IPV4, in4, 4, NULL, NULL), EXP_DELIVER, "I->R jump ahead");
	n = make_echo(buf, &ii->peer->gre_local, &r->peer->gre_local, 0x4242, 1, 24);
	add_data(send_ip(I, buf, n), EXP_ECHO, "I->R echo request");
	check(inet_pton(AF_INET, "169.254.200.9", &wrong.u.v4) == 1);
	n = make_ip4(buf, &wrong, &r->peer->gre_local, IPPROTO_GRE_NUM, 32);
	add_data(send_ip(I, buf, n), DROP_IP_ADDRESS, "I->R gre from a wrong address");
	n = make_ip4(buf, &ii->peer->gre_local, &r->peer->gre_local, 17, 16);
	add_data(send_ip(I, buf, n), DROP_IP_NOT_GRE, "I->R udp");
	n = make_ip4(buf, &ii->peer->gre_local, &r->peer->gre_local, IPPROTO_GRE_NUM, 32);
	store_be16(buf + 6, 0x2000);                 /* MF: a first fragment */
	refresh_ip4_csum(buf);
	add_data(send_ip(I, buf, n), DROP_IP_FRAGMENT, "I->R fragment");
	n = make_ip4(buf, &ii->peer->gre_local, &r->peer->gre_local, IPPROTO_GRE_NUM, 32);
	buf[10] ^= 0x01;                            /* a wrong header checksum */
	add_data(send_ip(I, buf, n), DROP_IP_MALFORMED, "I->R bad checksum");
	add_data(send_gre(R, GRE_PROTO_IPV4, in4, sizeof(in4), NULL, NULL), EXP_DELIVER, "R->I gre ipv4");
	add_data(send_ip(R, NULL, 0), EXP_KEEPALIVE, "R->I keepalive");
	n = make_echo(buf, &r->peer->gre_local, &ii->peer->gre_local, 0x4343, 1, 8);
	add_data(send_ip(R, buf, n), EXP_ECHO, "R->I echo request");

	/* A minute after the first handshake: I starts a rekey, INIT0. */
	fake_now = NOW0;
	first = n_msgs;
	peer_send_initiation(ii->peer, fake_now);
	peer_schedule(ii->peer);
	init0_idx = (size_t)(find_sent(first, I, MSG_INITIATION) - msgs);
	msgs[init0_idx].name = "INIT0";
	/* The start-up messages are authentic in every input; nothing else is. */
	n_msgs_startup = n_msgs;
	arena_startup = arena_used;
	n_accepted_startup = n_accepted;
	snap_realtime = fake_realtime;
	snapshot(r);
	snapshot(ii);

	/* COOKIE0: R's answer to INIT0 under load, as in an input. */
	restore_all();
	first = n_msgs;
	check(deliver(R, I, msgs[init0_idx].bytes, MSG_INITIATION_LEN, DLV_LOAD, NULL) == OUT_COOKIE_SENT);
	m = find_sent(first, R, MSG_COOKIE);
	check(deliver(I, R, m->bytes, m->len, 0, NULL) == OUT_COOKIE_OK);
	msgs[n_msgs_startup] = *m;
	msgs[n_msgs_startup].name = "COOKIE0";
	cookie0_idx = n_msgs_startup;
	n_msgs_startup++;
	arena_startup = arena_used;
	/* RESP0: R's answer to INIT0, as the first thing of an input. */
	restore_all();
	first = n_msgs;
	check(deliver(R, I, msgs[init0_idx].bytes, MSG_INITIATION_LEN, 0, NULL) == OUT_INIT_OK);
	m = find_sent(first, R, MSG_RESPONSE);
	first = n_msgs;
	check(deliver(I, R, m->bytes, m->len, 0, NULL) == OUT_RESP_OK);
	complete_handshake(first);
	check_keys_agree();
	msgs[n_msgs_startup] = msgs[m - msgs];
	msgs[n_msgs_startup].name = "RESP0";
	resp0_idx = n_msgs_startup;
	n_msgs_startup++;
	arena_startup = arena_used;
	restore_all();
}

/* ---- modes ---- */

static unsigned dlv_flags(uint8_t opt)
{
	return (opt & OPT_V6 ? DLV_V6 : 0) | (opt & OPT_SEGMENT ? DLV_SEGMENT : 0) |
	       (opt & OPT_LOAD ? DLV_LOAD : 0);
}

static void mode_raw(uint8_t opt, const uint8_t *data, size_t size)
{
	int to = opt & OPT_TO_I ? I : R;
	unsigned flags = dlv_flags(opt);
	enum outcome out, again;
	struct rx r;
	size_t first;

	if (size > PKT_MAX_PAYLOAD)
		return;
	out = deliver(to, other(to), data, size, flags, &r);
	/* Whatever got accepted cannot be accepted a second time (deliver()
	 * checks that too); past the 20 ms limit of initiations. */
	fake_now += PEER_INITIATION_MIN_INTERVAL_NS;
	again = deliver(to, other(to), data, size, flags & ~(unsigned)DLV_LOAD, NULL);
	if (out != OUT_DROPPED && out != OUT_COOKIE_SENT)
		check(again == OUT_DROPPED);
	/* A handshake R accepted goes through to a working session.  (A
	 * response I accepted, RESP0, was made by R in another run: R holds
	 * no keypair for it here.) */
	if (out == OUT_INIT_OK && to == R) {
		first = n_msgs;
		if (deliver(I, R, r.reply->bytes, r.reply->len, 0, NULL) == OUT_RESP_OK)
			complete_handshake(first);
	}
}

static void mode_initiation(uint8_t opt, const uint8_t *data, size_t size)
{
	uint8_t msg[MSG_INITIATION_LEN], mac1[MAC_LEN];
	const uint8_t *init0 = msgs[init0_idx].bytes;
	bool header_changed, sender_changed, body_changed, macs_ok;
	unsigned flags = dlv_flags(opt) & ~(unsigned)DLV_LOAD;
	bool load = opt & OPT_LOAD;
	struct node *ii = &nodes[I];
	enum outcome out;
	struct rx r;
	size_t i, first;

	memcpy(msg, init0, sizeof(msg));
	for (i = 0; i + 1 < size; i += 2)
		if (data[i] % MSG_INITIATION_LEN < INIT_BODY_END)
			msg[data[i] % MSG_INITIATION_LEN] ^= data[i + 1];
	/* I's cookie maker recomputes mac1 (and mac2 if it holds a cookie). */
	macs_ok = cookie_add_macs(&ii->peer->sec->maker, msg, sizeof(msg), fake_now) == 0;
	memcpy(mac1, msg + INIT_BODY_END, MAC_LEN);
	for (i = 0; i + 1 < size; i += 2)
		if (data[i] % MSG_INITIATION_LEN >= INIT_BODY_END)
			msg[data[i] % MSG_INITIATION_LEN] ^= data[i + 1];
	/* a changed mac1 is certainly wrong; mac2 only matters under load */
	macs_ok = macs_ok && same(mac1, msg + INIT_BODY_END, MAC_LEN);
	header_changed = !same(msg, init0, 4);
	sender_changed = !same(msg + 4, init0 + 4, 4);
	body_changed = !same(msg + INIT_BODY_OFF, init0 + INIT_BODY_OFF, INIT_BODY_END - INIT_BODY_OFF);

	out = deliver(R, I, msg, sizeof(msg), flags | (load ? DLV_LOAD : 0), &r);
	if (out == OUT_COOKIE_SENT) {
		/* I takes the cookie and sends again with mac2: no cookie needed
		 * now.  The reply goes to the sender index, which I knows only
		 * unchanged. */
		check(!header_changed && macs_ok && load);
		out = deliver(I, R, r.reply->bytes, r.reply->len, flags, &r);
		/* (a changed sender index may name one of I's keypairs, which a
		 * cookie reply may answer as well) */
		if (sender_changed && out != OUT_COOKIE_OK) {
			check(out == OUT_DROPPED && r.delta.drops[DROP_NO_SESSION] == 1);
			return;
		}
		check(out == OUT_COOKIE_OK);
		check(!sender_changed || session_slot_by_index(&ii->peer->session, load_le32(msg + 4)));
		check(cookie_add_macs(&ii->peer->sec->maker, msg, sizeof(msg), fake_now) == 0);
		out = deliver(R, I, msg, sizeof(msg), flags, &r);
		check(out != OUT_COOKIE_SENT);
		check(r.delta.drops[DROP_BAD_MAC] == 0);
	}
	if (!header_changed && !macs_ok)
		check(out == OUT_DROPPED && r.delta.drops[DROP_BAD_MAC] == 1); /* before any DH */
	if (out == OUT_INIT_OK)
		check(!header_changed && !body_changed);
	if (!header_changed && !body_changed && macs_ok)
		check(out == OUT_INIT_OK);
	if (!header_changed && macs_ok && body_changed)
		check(out == OUT_DROPPED && r.delta.drops[DROP_HANDSHAKE] == 1); /* Noise refused it */
	if (out != OUT_INIT_OK)
		return;

	/* Replaying it is refused, now and later; R's response completes I's
	 * handshake unless the (mac1-only) sender index was changed. */
	{
		const struct msg *resp = r.reply;

		check(deliver(R, I, msg, sizeof(msg), flags, &r) == OUT_DROPPED && r.delta.drops[DROP_REPLAY] == 1);
		fake_now += PEER_INITIATION_MIN_INTERVAL_NS;
		check(deliver(R, I, msg, sizeof(msg), flags, &r) == OUT_DROPPED && r.delta.drops[DROP_REPLAY] == 1);
		first = n_msgs;
		out = deliver(I, R, resp->bytes, resp->len, flags, &r);
		if (sender_changed) {
			check(out == OUT_DROPPED && r.delta.drops[DROP_NO_SESSION] == 1);
			return;
		}
		check(out == OUT_RESP_OK);
		complete_handshake(first);
	}
}

/* The same for RESP0 (R's answer to INIT0, pending at I): (offset, xor)
 * pairs, mac1 recomputed by R's cookie maker, delivered to I. */
static void mode_response(uint8_t opt, const uint8_t *data, size_t size)
{
	uint8_t msg[MSG_RESPONSE_LEN], mac1[MAC_LEN];
	const uint8_t *resp0 = msgs[resp0_idx].bytes;
	bool header_changed, sender_changed, receiver_changed, body_changed, macs_ok;
	struct node *ii = &nodes[I];
	uint32_t pending = ii->peer->sec->hs.local_index;
	enum outcome out;
	struct rx r;
	size_t i;

	memcpy(msg, resp0, sizeof(msg));
	for (i = 0; i + 1 < size; i += 2)
		if (data[i] % MSG_RESPONSE_LEN < RESP_BODY_END)
			msg[data[i] % MSG_RESPONSE_LEN] ^= data[i + 1];
	macs_ok = cookie_add_macs(&nodes[R].peer->sec->maker, msg, sizeof(msg), fake_now) == 0;
	memcpy(mac1, msg + RESP_BODY_END, MAC_LEN);
	for (i = 0; i + 1 < size; i += 2)
		if (data[i] % MSG_RESPONSE_LEN >= RESP_BODY_END)
			msg[data[i] % MSG_RESPONSE_LEN] ^= data[i + 1];
	macs_ok = macs_ok && same(mac1, msg + RESP_BODY_END, MAC_LEN);
	header_changed = !same(msg, resp0, 4);
	sender_changed = !same(msg + 4, resp0 + 4, 4);
	receiver_changed = !same(msg + 8, resp0 + 8, 4);
	body_changed = !same(msg + 12, resp0 + 12, RESP_BODY_END - 12);

	out = deliver(I, R, msg, sizeof(msg), dlv_flags(opt), &r);
	if (out == OUT_COOKIE_SENT)
		check(!header_changed && !receiver_changed && macs_ok && (opt & OPT_LOAD));
	if (out == OUT_RESP_OK) {
		/* only the mac1-covered sender index may differ: it becomes the
		 * index I sends to */
		check(!header_changed && !receiver_changed && !body_changed);
		check(ii->peer->session.current.local_index == pending);
		check(((const struct keypair *)ii->peer->session.current.keypair)->remote_index ==
		      load_le32(msg + 4));
		(void)sender_changed;
		return;
	}
	/* Refused: I's initiation is still pending (deliver() checks the
	 * handshake did not change). */
	check(ii->peer->sec->hs.state == HANDSHAKE_CREATED_INITIATION && ii->peer->sec->hs.local_index == pending);
	if (header_changed || out == OUT_COOKIE_SENT)
		return;
	if (receiver_changed)
		check(r.delta.drops[DROP_NO_SESSION] == 1);            /* no such initiation */
	else if (!macs_ok)
		check(r.delta.drops[DROP_BAD_MAC] == 1);               /* before any DH */
	else if (body_changed)
		check(r.delta.drops[DROP_HANDSHAKE] == 1);             /* Noise refused it */
	else
		check(0);                                              /* authentic, must pass */
}

static void mode_data(uint8_t opt, const uint8_t *data, size_t size)
{
	uint8_t msg[1024];
	const struct msg *orig;
	unsigned flags = dlv_flags(opt);
	enum outcome out;
	size_t len, i;
	int delta;

	if (size < 2)
		return;
	orig = &msgs[data_msgs[data[0] % n_data]];
	check(orig->len + 64 <= sizeof(msg));
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

	out = deliver(orig->to, orig->from, msg, len, flags, NULL);
	if (len == orig->len && same(msg, orig->bytes, len)) {
		/* unmodified: accepted with its expected effect (deliver()
		 * checks it), once */
		check(out == OUT_DATA_OK);
		check(deliver(orig->to, orig->from, orig->bytes, orig->len, 0, NULL) == OUT_DROPPED);
		return;
	}
	/* Changed: refused, and the window did not move: the original opens. */
	check(out == OUT_DROPPED);
	check(deliver(orig->to, orig->from, orig->bytes, orig->len, flags & ~(unsigned)DLV_LOAD, NULL) ==
	      OUT_DATA_OK);
}

/* Model of R's window for I's start-up keypair: the counters committed
 * (the start-up keepalive took 0) and the highest. */
static uint64_t committed[REPLAY_MAX_RECS + 1];
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
	static const uint8_t payload[16] = { 0x45, 0, 0, 16, 0, 0, 0x40, 0, 64, 17 };
	struct keypair *tx = nodes[I].peer->session.current.keypair;
	unsigned flags = dlv_flags(opt) & ~(unsigned)DLV_LOAD;
	uint64_t highest = 0, c;

	n_committed = 0;
	committed[n_committed++] = 0;
	for (size_t i = 0; i + 3 <= size && n_committed <= REPLAY_MAX_RECS; i += 3) {
		uint8_t op = data[i];
		uint16_t v = (uint16_t)(data[i + 1] | data[i + 2] << 8);
		bool tamper = op & 0x04, expected;
		size_t mark_msgs = n_msgs, mark_arena = arena_used, len;
		const struct msg *m;
		uint8_t msg[256];
		struct rx r;
		enum outcome out;

		switch (op & 3) {
		case 0: c = v; break;
		case 1: c = highest + (uint64_t)(int64_t)(int16_t)v; break;
		case 2: c = highest - REPLAY_WINDOW_SIZE + (uint64_t)(int64_t)(int8_t)v; break;
		default: c = REJECT_AFTER_MESSAGES - 64 + (uint64_t)(int64_t)(int8_t)v; break;
		}
		/* keypair_seal refuses counters past the limit: seal at 0 and
		 * write the counter in (the tag then fails, if looked at). */
		tx->send_counter = c < REJECT_AFTER_MESSAGES ? c : 0;
		if (op & 0x08)
			m = send_gre(I, GRE_PROTO_IPV4, payload, sizeof(payload), NULL, NULL);
		else
			m = send_ip(I, NULL, 0);
		check(m != NULL && m->len <= sizeof(msg));
		len = m->len;
		memcpy(msg, m->bytes, len);
		store_le64(msg + 8, c);
		if (tamper)
			msg[len - 1 - (v % (len - DATA_HDR_LEN))] ^= 0x80;
		expected = c < REJECT_AFTER_MESSAGES && !tamper && !model_seen(c) &&
			   (c > highest || highest - c < REPLAY_WINDOW_SIZE);

		out = deliver(R, I, msg, len, flags, &r);
		if (expected) {
			check(out == OUT_DATA_OK);
			committed[n_committed++] = c;
			if (c > highest)
				highest = c;
		} else if (c >= REJECT_AFTER_MESSAGES) {
			check(out == OUT_DROPPED && r.delta.drops[DROP_NO_SESSION] == 1);
		} else if (model_seen(c) || (c <= highest && highest - c >= REPLAY_WINDOW_SIZE)) {
			check(out == OUT_DROPPED && r.delta.drops[DROP_REPLAY] == 1);
		} else {
			check(out == OUT_DROPPED && r.delta.drops[DROP_DECRYPT] == 1);
		}
		/* keep the list short: these messages are not needed again */
		n_msgs = mark_msgs;
		arena_used = mark_arena;
	}
}

/* The rest of the input as the payload of a GRE packet through the real tx
 * path, or as an IP packet through secure_send_ip(), to the other end. */
static void mode_inner(uint8_t opt, const uint8_t *data, size_t size)
{
	static const uint16_t protos[4] = { GRE_PROTO_IPV4, GRE_PROTO_IPV6, GRE_PROTO_TEB, 0 };
	int from = opt & OPT_TO_I ? R : I, to = other(from);
	unsigned flags = dlv_flags(opt);
	const struct msg *m;
	const uint8_t *gre = NULL;
	size_t glen = 0, first;
	enum outcome out;
	struct rx r;

	if (size < 1 || size - 1 > 4096)
		return;
	if (opt & OPT_INNER6)
		use_inner6();
	if (data[0] & 1)
		m = send_gre(from, protos[(data[0] >> 1) & 3], data + 1, size - 1, &gre, &glen);
	else
		m = send_ip(from, data + 1, size - 1);
	check(m != NULL);
	first = n_msgs;
	out = deliver(to, from, m->bytes, m->len, flags, &r);
	check(out == OUT_DATA_OK);
	if (gre) {
		/* what the tx path made, the rx path delivers, byte for byte */
		check(r.gre == 1 && gre_in.len == glen && same(gre_in.bytes, gre, glen));
	}
	/* An echo reply opens at the asker (and is counted there as not GRE). */
	if (r.delta.echo_replies) {
		const struct msg *reply = NULL;

		for (size_t i = first; i < n_msgs && !reply; i++)
			if (msgs[i].from == to && is_data(msgs[i].bytes, msgs[i].len) &&
			    msgs[i].len > MSG_DATA_MIN_LEN)
				reply = &msgs[i];
		check(reply != NULL);
		check(deliver(from, to, reply->bytes, reply->len, 0, &r) == OUT_DATA_OK);
		check(r.delta.drops[DROP_IP_NOT_GRE] == 1);
	}
}

/* Records of 4 bytes (op, a, b, c); op bits 0-2 the operation, bit 3 the
 * node it concerns (R, else I), bits 4-6 the delivery (IPv6 source,
 * segment, under load):
 *   0, 7  deliver message a % (messages so far) to its destination, with
 *         byte b % len xored with c
 *   1     time passes: (a + 1) << (b % 36) ns; both peers' timers run
 *   2     the node sends a GRE packet of c bytes (protocol a % 4)
 *   3     the node sends an initiation (peer_send_initiation)
 *   4     the node pings the other's gre_local (id a, c bytes)
 *   5     the node's port is under load for a second (a odd) or not
 *   6     the node sends a keepalive */
static void mode_script(uint8_t opt, const uint8_t *data, size_t size)
{
	static const uint16_t protos[4] = { GRE_PROTO_IPV4, GRE_PROTO_IPV6, GRE_PROTO_TEB, 0 };
	uint8_t buf[512];
	unsigned ops = 0;

	if (opt & OPT_INNER6)
		use_inner6();
	for (size_t i = 0; i + 4 <= size && ops < SCRIPT_MAX_OPS; i += 4, ops++) {
		uint8_t op = data[i], a = data[i + 1], b = data[i + 2], c = data[i + 3];
		int n = op & 0x08 ? R : I;
		struct node *x = &nodes[n];
		unsigned flags = (op & 0x10 ? DLV_V6 : 0) | (op & 0x20 ? DLV_SEGMENT : 0) |
				 (op & 0x40 ? DLV_LOAD : 0);
		size_t len;

		switch (op & 7) {
		case 0:
		case 7: {
			const struct msg *m = &msgs[a % n_msgs];

			if (m->to != R && m->to != I)
				break;
			len = m->len;
			if (c == 0) {
				deliver(m->to, m->from, m->bytes, len, flags, NULL);
				break;
			}
			if (len > sizeof(buf))
				break;
			memcpy(buf, m->bytes, len);
			if (len)
				buf[b % len] ^= c;
			deliver(m->to, m->from, buf, len, flags, NULL);
			break;
		}
		case 1: {
			uint64_t dt = (uint64_t)(a + 1) << (b % 36);

			fake_now += dt;
			fake_realtime += dt;
			if (trace)
				fprintf(stderr, "time +%.3f s\n", (double)dt / 1e9);
			/* the timers fire (early or late does not matter: the
			 * session acts on its deadlines) */
			peer_schedule(nodes[R].peer);
			peer_schedule(nodes[I].peer);
			break;
		}
		case 2:
			for (size_t k = 0; k < c; k++)
				buf[k] = (uint8_t)(a + k);
			send_gre(n, protos[a % 4], buf, c, NULL, NULL);
			break;
		case 3:
			peer_send_initiation(x->peer, fake_now);
			break;
		case 4:
			len = make_echo(buf, &x->peer->gre_local, &nodes[other(n)].peer->gre_local, a, b,
					c % 200);
			send_ip(n, buf, len);
			break;
		case 5:
			x->port.under_load_until = a & 1 ? fake_now + UNDER_LOAD_NS : 0;
			break;
		case 6:
			send_ip(n, NULL, 0);
			break;
		}
	}
	check_keys_agree();
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

static void write_msg_seed(const char *dir, const char *name, uint8_t mode, size_t idx)
{
	write_seed(dir, name, mode, msgs[idx].bytes, msgs[idx].len);
}

static void write_seeds(const char *dir)
{
	static const uint8_t b_sender[] = { 4, 0x01 }, b_body[] = { 60, 0x20, 100, 0x01 };
	static const uint8_t b_mac2[] = { (uint8_t)(INIT_BODY_END + MAC_LEN), 0x01 };
	static const uint8_t r_receiver[] = { 9, 0x10 }, r_body[] = { 20, 0x01 };
	static const uint8_t c_flip[] = { 1, 0, 20, 0x01 }, c_counter[] = { 0, 0, 9, 0x01 };
	static const uint8_t c_short[] = { 2, (uint8_t)-1 }, c_long[] = { 3, 16 };
	static const uint8_t d_seq[] = { 0, 1, 0, 0, 2, 0, 0x08, 3, 0, 1, 1, 0 };
	static const uint8_t d_replay[] = { 0, 5, 0, 0, 5, 0, 0x05, 6, 0, 0, 6, 0, 1, 0xff, 0xff };
	static const uint8_t d_edge[] = { 0, 0x00, 0x40, 2, 0xff, 0, 2, 0x00, 0, 2, 0x01, 0,
					  1, 0x01, 0 };
	static const uint8_t d_limit[] = { 3, 0x3f, 0, 3, 0x3e, 0, 3, 0x40, 0, 3, 0x7f, 0,
					   3, 0x80, 0, 3, 0x3f, 0 };
	uint8_t buf[512], bad[MSG_INITIATION_LEN];
	const struct node *r = &nodes[R], *ii = &nodes[I];
	char name[64];
	size_t n, s, k;

	/* raw */
	write_msg_seed(dir, "raw_init0", MODE_RAW, init0_idx);
	write_msg_seed(dir, "raw_init0_load", MODE_RAW | OPT_LOAD, init0_idx);
	write_msg_seed(dir, "raw_init0_segment", MODE_RAW | OPT_SEGMENT, init0_idx);
	write_msg_seed(dir, "raw_init_a_replayed", MODE_RAW, init_a_idx);
	write_msg_seed(dir, "raw_init_stranger", MODE_RAW, init_s_idx);
	write_msg_seed(dir, "raw_resp0", MODE_RAW | OPT_TO_I, resp0_idx);
	write_msg_seed(dir, "raw_cookie0", MODE_RAW | OPT_TO_I, cookie0_idx);
	memcpy(bad, msgs[init0_idx].bytes, sizeof(bad));
	bad[INIT_BODY_END] ^= 1;
	write_seed(dir, "raw_init_badmac", MODE_RAW, bad, sizeof(bad));
	write_seed(dir, "raw_short", MODE_RAW, msgs[init0_idx].bytes, 3);
	write_seed(dir, "raw_type9", MODE_RAW, (const uint8_t *)"\x09\0\0\0abcdefgh", 12);
	/* (the data mode has every start-up data message) */
	write_seed(dir, "raw_data_gre_segment", MODE_RAW | OPT_SEGMENT, msgs[data_msgs[1]].bytes,
		   msgs[data_msgs[1]].len);
	write_seed(dir, "raw_data_echo_to_i", MODE_RAW | OPT_TO_I, msgs[data_msgs[n_data - 1]].bytes,
		   msgs[data_msgs[n_data - 1]].len);
	/* initiation */
	write_seed(dir, "init_plain", MODE_INITIATION, NULL, 0);
	write_seed(dir, "init_load", MODE_INITIATION | OPT_LOAD, NULL, 0);
	write_seed(dir, "init_load_v6", MODE_INITIATION | OPT_LOAD | OPT_V6, NULL, 0);
	write_seed(dir, "init_sender", MODE_INITIATION, b_sender, sizeof(b_sender));
	write_seed(dir, "init_body", MODE_INITIATION, b_body, sizeof(b_body));
	write_seed(dir, "init_mac2_load", MODE_INITIATION | OPT_LOAD, b_mac2, sizeof(b_mac2));
	/* response */
	write_seed(dir, "resp_plain", MODE_RESPONSE, NULL, 0);
	write_seed(dir, "resp_load", MODE_RESPONSE | OPT_LOAD | OPT_V6, NULL, 0);
	write_seed(dir, "resp_sender", MODE_RESPONSE, b_sender, sizeof(b_sender));
	write_seed(dir, "resp_receiver", MODE_RESPONSE, r_receiver, sizeof(r_receiver));
	write_seed(dir, "resp_ephemeral", MODE_RESPONSE | OPT_SEGMENT, r_body, sizeof(r_body));
	/* data: every start-up message once, unmodified, and some changes */
	for (size_t i = 0; i < n_data; i++) {
		uint8_t pick[2] = { (uint8_t)i, 0 };

		snprintf(name, sizeof(name), "data%zu", i);
		write_seed(dir, name, MODE_DATA | (i % 3 == 0 ? OPT_SEGMENT : 0), pick, sizeof(pick));
	}
	write_seed(dir, "data_flip", MODE_DATA, c_flip, sizeof(c_flip));
	write_seed(dir, "data_counter", MODE_DATA, c_counter, sizeof(c_counter));
	write_seed(dir, "data_short", MODE_DATA, c_short, sizeof(c_short));
	write_seed(dir, "data_long", MODE_DATA | OPT_SEGMENT, c_long, sizeof(c_long));
	/* replay */
	write_seed(dir, "replay_seq", MODE_REPLAY, d_seq, sizeof(d_seq));
	write_seed(dir, "replay_dup", MODE_REPLAY, d_replay, sizeof(d_replay));
	write_seed(dir, "replay_edge", MODE_REPLAY | OPT_SEGMENT, d_edge, sizeof(d_edge));
	write_seed(dir, "replay_limit", MODE_REPLAY, d_limit, sizeof(d_limit));
	/* inner: an echo request to R (v4), to I with IPv6 inner addresses,
	 * GRE through the tx path, a v6 packet behind options headers */
	buf[0] = 0;
	n = make_echo(buf + 1, &ii->peer->gre_local, &r->peer->gre_local, 7, 7, 16);
	write_seed(dir, "inner_echo4", MODE_INNER, buf, n + 1);
	{
		struct ip_addr a6 = { .family = AF_INET6 }, b6 = { .family = AF_INET6 };

		check(inet_pton(AF_INET6, "fd00::1", &a6.u.v6) == 1);
		check(inet_pton(AF_INET6, "fd00::2", &b6.u.v6) == 1);
		n = make_echo(buf + 1, &a6, &b6, 8, 8, 16);
		write_seed(dir, "inner_echo6_to_i", MODE_INNER | OPT_INNER6 | OPT_TO_I, buf, n + 1);
		/* GRE to R behind a destination options header (as Linux ip6gre) */
		n = make_echo(buf + 1, &b6, &a6, 9, 9, 8);
		memmove(buf + 1 + 48, buf + 1 + 40, n - 40);
		memset(buf + 1 + 40, 0, 8);
		buf[1 + 40] = IPPROTO_GRE_NUM;           /* next header, length 0: 8 bytes */
		buf[1 + 42] = 4;                          /* tunnel encapsulation limit option */
		buf[1 + 43] = 1;
		buf[1 + 44] = 4;
		buf[1 + 45] = 1;                          /* PadN */
		buf[1 + 6] = 60;
		store_be16(buf + 1 + 4, (uint16_t)(n - 40 + 8));
		memcpy(buf + 1 + 48, "\x00\x00\x08\x00", 4);
		write_seed(dir, "inner_gre6_dstopts_to_r", MODE_INNER | OPT_INNER6, buf, n + 8 + 1);
	}
	buf[0] = 1;                                       /* GRE, IPv4 inside */
	for (k = 0; k < 40; k++)
		buf[1 + k] = (uint8_t)k;
	write_seed(dir, "inner_gre_tx", MODE_INNER, buf, 41);
	buf[0] = 3;                                       /* GRE, IPv6 inside */
	write_seed(dir, "inner_gre_tx6", MODE_INNER | OPT_INNER6 | OPT_TO_I | OPT_SEGMENT, buf, 41);
	/* script: the messages so far are msgs[0 .. n_msgs_startup); what the
	 * nodes send in the input follows */
	s = n_msgs_startup;
	{
		/* INIT0 to R, the response to I, I's confirmation to R, data,
		 * pings both ways, then a rekey by time */
		const uint8_t sc[] = {
			0x00, (uint8_t)init0_idx, 0, 0,
			0x00, (uint8_t)s, 0, 0,
			0x00, (uint8_t)(s + 1), 0, 0,
			0x02, 0, 0, 40,
			0x00, (uint8_t)(s + 2), 0, 0,
			0x0c, 1, 1, 16,
			0x00, (uint8_t)(s + 3), 0, 0,
			0x00, (uint8_t)(s + 4), 0, 0,
			0x01, 0, 30, 0,
			0x00, (uint8_t)(s + 5), 0, 0,
			0x00, (uint8_t)(s + 6), 0, 0,
			0x00, (uint8_t)(s + 7), 0, 0,
		};
		write_seed(dir, "script_handshake_data", MODE_SCRIPT, sc, sizeof(sc));
	}
	{
		/* R under load: cookie dance, then a retry by I's timer */
		const uint8_t sc[] = {
			0x0d, 1, 0, 0,
			0x00, (uint8_t)init0_idx, 0, 0,
			0x00, (uint8_t)s, 0, 0,
			0x01, 0, 33, 0,
			0x10, (uint8_t)(s + 1), 0, 0,
			0x00, (uint8_t)(s + 2), 0, 0,
			0x00, (uint8_t)(s + 3), 0, 0,
		};
		write_seed(dir, "script_cookie_retry", MODE_SCRIPT2, sc, sizeof(sc));
	}
	{
		/* crossing initiations after roaming to IPv6 */
		const uint8_t sc[] = {
			0x10, (uint8_t)data_msgs[1], 0, 0,
			0x0b, 0, 0, 0,
			0x00, (uint8_t)init0_idx, 0, 0,
			0x00, (uint8_t)s, 0, 0,
			0x00, (uint8_t)(s + 1), 0, 0,
			0x00, (uint8_t)(s + 2), 0, 0,
			0x0e, 0, 0, 0,
			0x00, (uint8_t)(s + 3), 0, 0,
		};
		write_seed(dir, "script_crossing_v6", MODE_SCRIPT | OPT_INNER6, sc, sizeof(sc));
	}
	{
		/* silence: keepalives, a new handshake, keys wiped after 540 s */
		const uint8_t sc[] = {
			0x02, 0, 0, 20,
			0x00, (uint8_t)data_msgs[1], 0, 0,
			0x01, 0, 33, 0,
			0x01, 0, 34, 0,
			0x00, (uint8_t)(s + 1), 0, 0,
			0x01, 255, 31, 0,
			0x01, 255, 33, 0,
			0x00, (uint8_t)(s + 2), 0, 0,
			0x06, 0, 0, 0,
		};
		write_seed(dir, "script_timers", MODE_SCRIPT2, sc, sizeof(sc));
	}
	{
		/* a changed message and a replayed start-up one */
		const uint8_t sc[] = {
			0x00, (uint8_t)data_msgs[4], 20, 0x01,
			0x00, (uint8_t)data_msgs[4], 0, 0,
			0x20, (uint8_t)data_msgs[4], 0, 0,
			0x00, (uint8_t)resp0_idx, 0, 0,
			0x00, (uint8_t)cookie0_idx, 0, 0,
		};
		write_seed(dir, "script_replays", MODE_SCRIPT, sc, sizeof(sc));
	}
	(void)n;
}

/* ---- libFuzzer entry points ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seed_dir = getenv("GRESEC_FUZZ_WRITE_SEEDS");

	(void)argc; (void)argv;
	rng_state = RNG_INIT;
	check(randombytes_set_implementation(&det_rng) == 0);
	check(sodium_init() >= 0);
	trace = getenv("GRESEC_FUZZ_TRACE") != NULL;
	log_set_level(trace ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERR);
	startup();
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
	restore_all();
	if (trace)
		fprintf(stderr, "---- input: mode %d options 0x%02x, %zu bytes\n", opt & 7, opt & 0xf8, size);

	switch (opt & 7) {
	case MODE_RAW:
		mode_raw(opt, data + 1, size - 1);
		break;
	case MODE_RESPONSE:
		mode_response(opt, data + 1, size - 1);
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
	case MODE_INNER:
		mode_inner(opt, data + 1, size - 1);
		break;
	case MODE_SCRIPT:
	case MODE_SCRIPT2:
		mode_script(opt, data + 1, size - 1);
		break;
	}
	return 0;
}
