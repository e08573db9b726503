/* bench/micro.c: packets per second per core of the per-packet data path.
 *
 * Times the pure functions a packet goes through, one thread, no system
 * calls: keypair_seal / keypair_open (ChaCha20-Poly1305 data messages) and
 * gre_encap / gre_decap with and without the GRE checksum, for 64, 512 and
 * 1420-byte packets, then the two combined paths of secure mode
 * (encap + seal, open + decap).  It prints numbers and never fails: an
 * unexpected error in a function under test is reported on its line.
 *
 * Build and run: bench/micro.sh (gcc -O2 against the sources).
 * MICRO_TIME=seconds per measurement (default 0.5); each line is the best
 * of MICRO_REPEAT measurements (default 3), to shed other load's noise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "crypto/keypair.h"
#include "tunnel/gre.h"
#include "tunnel/pkt.h"
#include "tunnel/wire.h"

enum {
	OPEN_BATCH = 64,      /* packets sealed ahead (untimed) for each timed open run */
	CHECK_EVERY = 256,    /* iterations between clock reads */
};

static const size_t sizes[] = { 64, 512, 1420 };
static double run_time = 0.5;
static int repeat = 3;

struct result {
	unsigned long long pkts;
	double secs;
	int err;               /* first unexpected return value, 0 if none */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double rate(const struct result *r)
{
	return r->secs > 0 ? (double)r->pkts / r->secs : 0;
}

/* The best of `repeat` runs of expr (an error wins: it is reported). */
#define BEST(expr) ({ \
	struct result best_ = (expr); \
	for (int k_ = 1; k_ < repeat && !best_.err; k_++) { \
		struct result r_ = (expr); \
		if (r_.err || rate(&r_) > rate(&best_)) \
			best_ = r_; \
	} \
	best_; })

static void print_result(const char *name, size_t len, const struct result *r)
{
	double pps = rate(r);

	if (r->err) {
		printf("%-28s %5zu  error %d after %llu packets\n", name, len, r->err, r->pkts);
		return;
	}
	printf("%-28s %5zu  %9.3f Mpps  %8.1f ns/pkt  %7.2f Gbit/s\n", name, len, pps / 1e6,
	       pps > 0 ? 1e9 / pps : 0, pps * (double)len * 8 / 1e9);
}

/* A packet of len bytes at the default headroom, filled with a pattern. */
static void fill(struct pkt *p, size_t len)
{
	pkt_reset(p);
	p->len = len;
	for (size_t i = 0; i < len; i++)
		p->buf[p->off + i] = (uint8_t)(i * 7 + 1);
}

static void keypairs(struct keypair *tx, struct keypair *rx)
{
	uint8_t k1[NOISE_SYMMETRIC_KEY_LEN], k2[NOISE_SYMMETRIC_KEY_LEN];

	randombytes_buf(k1, sizeof(k1));
	randombytes_buf(k2, sizeof(k2));
	/* tx sends with k1 to index 2; rx is index 2 and receives with k1 */
	keypair_init(tx, k1, k2, 1, 2, true, 0);
	keypair_init(rx, k2, k1, 2, 1, false, 0);
}

static struct result bench_seal(struct pkt *p, size_t len)
{
	struct keypair tx, rx;
	struct result r = { 0 };
	double t0, t;

	keypairs(&tx, &rx);
	fill(p, len);
	t0 = now();
	do {
		for (int i = 0; i < CHECK_EVERY; i++) {
			int ret;

			pkt_reset(p);
			p->len = len;
			ret = keypair_seal(&tx, p, 0);
			if (ret != KEYPAIR_OK && !r.err)
				r.err = ret;
		}
		r.pkts += CHECK_EVERY;
		t = now();
	} while (t - t0 < run_time);
	r.secs = t - t0;
	return r;
}

/* Open in place: OPEN_BATCH packets are sealed with consecutive counters
 * (untimed), then opened (timed), and again until the time is up.  With
 * decap, gre_decap follows each open: secure mode's receive path. */
static struct result bench_open(struct pkt **ps, size_t len, bool decap, bool csum)
{
	struct keypair tx, rx;
	struct gre_tx gtx = { .csum = csum };
	struct gre_rx grx = { .csum_required = csum };
	struct result r = { 0 };
	double timed = 0;

	keypairs(&tx, &rx);
	for (int i = 0; i < OPEN_BATCH; i++)
		fill(ps[i], len);
	while (timed < run_time) {
		double t0;

		for (int i = 0; i < OPEN_BATCH; i++) {
			int ret;

			pkt_reset(ps[i]);
			ps[i]->len = len;
			if (decap && (ret = gre_encap(ps[i], &gtx, GRE_PROTO_IPV4)) != 0 && !r.err)
				r.err = ret;
			if ((ret = keypair_seal(&tx, ps[i], 0)) != KEYPAIR_OK && !r.err)
				r.err = ret;
		}
		t0 = now();
		for (int i = 0; i < OPEN_BATCH; i++) {
			uint16_t proto;
			int ret = keypair_open(&rx, ps[i], NULL);

			if (ret != KEYPAIR_OK && !r.err)
				r.err = ret;
			if (decap) {
				/* the opened packet keeps its zero padding to 16, which
				 * a checksum would not notice (zeros add nothing) */
				ret = (int)gre_decap(ps[i], &grx, &proto);
				if (ret != GRE_OK && !r.err)
					r.err = ret;
			}
		}
		timed += now() - t0;
		r.pkts += OPEN_BATCH;
		if (r.err)
			break;
	}
	r.secs = timed;
	return r;
}

/* Secure mode's transmit path: GRE header, then seal. */
static struct result bench_encap_seal(struct pkt *p, size_t len, bool csum)
{
	struct keypair tx, rx;
	struct gre_tx gtx = { .csum = csum };
	struct result r = { 0 };
	double t0, t;

	keypairs(&tx, &rx);
	fill(p, len);
	t0 = now();
	do {
		for (int i = 0; i < CHECK_EVERY; i++) {
			int ret;

			pkt_reset(p);
			p->len = len;
			if ((ret = gre_encap(p, &gtx, GRE_PROTO_IPV4)) != 0 && !r.err)
				r.err = ret;
			if ((ret = keypair_seal(&tx, p, 0)) != KEYPAIR_OK && !r.err)
				r.err = ret;
		}
		r.pkts += CHECK_EVERY;
		t = now();
	} while (t - t0 < run_time);
	r.secs = t - t0;
	return r;
}

static struct result bench_encap(struct pkt *p, size_t len, bool csum)
{
	struct gre_tx gtx = { .csum = csum, .has_key = true, .key = 42 };
	struct result r = { 0 };
	double t0, t;

	fill(p, len);
	t0 = now();
	do {
		for (int i = 0; i < CHECK_EVERY; i++) {
			int ret;

			pkt_reset(p);
			p->len = len;
			if ((ret = gre_encap(p, &gtx, GRE_PROTO_IPV4)) != 0 && !r.err)
				r.err = ret;
		}
		r.pkts += CHECK_EVERY;
		t = now();
	} while (t - t0 < run_time);
	r.secs = t - t0;
	return r;
}

/* gre_decap only moves off/len on success, so the same encapsulated packet
 * is decapsulated again after restoring them. */
static struct result bench_decap(struct pkt *p, size_t len, bool csum)
{
	struct gre_tx gtx = { .csum = csum, .has_key = true, .key = 42 };
	struct gre_rx grx = { .csum_required = csum, .has_key = true, .key = 42 };
	struct result r = { 0 };
	size_t off, plen;
	double t0, t;
	int ret;

	fill(p, len);
	if ((ret = gre_encap(p, &gtx, GRE_PROTO_IPV4)) != 0) {
		r.err = ret;
		return r;
	}
	off = p->off;
	plen = p->len;
	t0 = now();
	do {
		for (int i = 0; i < CHECK_EVERY; i++) {
			uint16_t proto;

			p->off = off;
			p->len = plen;
			ret = (int)gre_decap(p, &grx, &proto);
			if (ret != GRE_OK && !r.err)
				r.err = ret;
		}
		r.pkts += CHECK_EVERY;
		t = now();
	} while (t - t0 < run_time);
	r.secs = t - t0;
	return r;
}

int main(void)
{
	struct pkt *ps[OPEN_BATCH];
	const char *env = getenv("MICRO_TIME");
	struct result r;

	if (env && atof(env) > 0)
		run_time = atof(env);
	env = getenv("MICRO_REPEAT");
	if (env && atoi(env) > 0)
		repeat = atoi(env);
	if (sodium_init() < 0) {
		printf("micro: sodium_init failed, nothing measured\n");
		return 0;
	}
	for (int i = 0; i < OPEN_BATCH; i++) {
		ps[i] = malloc(sizeof(*ps[i]));
		if (!ps[i]) {
			printf("micro: out of memory, nothing measured\n");
			return 0;
		}
	}

	printf("# gresec per-packet micro-benchmark, one thread, best of %d x %.2f s per line\n",
	       repeat, run_time);
	printf("# libsodium %s; Gbit/s counts the inner packet bytes\n", sodium_version_string());
	printf("%-28s %5s  %14s  %15s  %14s\n", "function", "bytes", "rate", "time", "throughput");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len = sizes[s];

		r = BEST(bench_seal(ps[0], len));
		print_result("keypair_seal", len, &r);
		r = BEST(bench_open(ps, len, false, false));
		print_result("keypair_open", len, &r);
		r = BEST(bench_encap(ps[0], len, false));
		print_result("gre_encap (key)", len, &r);
		r = BEST(bench_decap(ps[0], len, false));
		print_result("gre_decap (key)", len, &r);
		r = BEST(bench_encap(ps[0], len, true));
		print_result("gre_encap (key, csum)", len, &r);
		r = BEST(bench_decap(ps[0], len, true));
		print_result("gre_decap (key, csum)", len, &r);
		r = BEST(bench_encap_seal(ps[0], len, false));
		print_result("secure tx: encap+seal", len, &r);
		r = BEST(bench_open(ps, len, true, false));
		print_result("secure rx: open+decap", len, &r);
	}
	for (int i = 0; i < OPEN_BATCH; i++)
		free(ps[i]);
	return 0;
}
