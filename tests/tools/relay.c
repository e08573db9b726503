/* tests/tools/relay.c: a fault-injecting underlay relay for the namespace
 * tests (libc only).
 *
 * It sits on a host R between two sites that cannot reach each other (R does
 * not forward by IP).  Each site's gresecd has R as its remote; the relay
 * receives what is addressed to R on side A and sends it on to the peer on
 * side B, and the other way round, changing nothing but the addresses.
 * On the way it drops, duplicates, reorders, delays, corrupts (bit flips)
 * and truncates datagrams at the given rates and counts what it did.
 *
 *   relay --mode udp --a LOCAL_A:PORT --a-peer PEER_A:PORT
 *                    --b LOCAL_B:PORT --b-peer PEER_B:PORT [faults]
 *   relay --mode gre --a LOCAL_A --a-peer PEER_A --b LOCAL_B --b-peer PEER_B [faults]
 *
 * udp: secure mode, UDP datagrams (IPv4 or IPv6, "[v6]:port").
 * gre: plain mode, IP protocol 47 over IPv4 through raw sockets; faults
 *      apply to the GRE packet (after the IP header), which is re-sent from
 *      R's own address.
 *
 * Faults (rates are probabilities 0..1, or "5%"):
 *   --drop P --dup P --reorder P --reorder-depth N (1..1024, default 64)
 *   --delay-ms N --corrupt P --truncate P --seed S
 *   --corrupt-offset N   flip bits only at byte N and beyond (default 0)
 *   --flip-bits N        bits flipped per corrupted datagram (default 1)
 *   --types LIST         fault only datagrams whose first byte is in LIST
 *                        (comma-separated numbers; udp mode; default all)
 *   --stats FILE         counters as JSON, written at exit (SIGTERM/SIGINT)
 *                        and on SIGUSR1; stdout without it
 *   --ready FILE         created once the sockets are bound
 *
 * A reordered datagram is held back until 1..depth later datagrams of the
 * same direction have passed (or 200 ms, so a quiet link flushes it).
 * Truncation cuts a datagram to a random length below its own; those cut
 * below 32 bytes (shorter than a minimal secure data message) are also
 * counted as truncated_short.  A datagram is either truncated or corrupted,
 * never both, so every damaged datagram is counted exactly once.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	MAX_DGRAM = 65535,
	MAX_PENDING = 4096,        /* held datagrams per direction */
	MAX_DEPTH = 1024,
	REORDER_FLUSH_MS = 200,
	SHORT_LEN = 32,
	IPPROTO_GRE_NUM = 47,
};

union addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

struct held {
	uint8_t *buf;
	size_t len;
	uint64_t deadline;         /* send at or after this time (ns) */
	int countdown;             /* > 0: send after that many later datagrams */
	uint64_t seq;              /* arrival order, for FIFO among equals */
};

struct side {
	const char *name;
	union addr local, peer;
	int fd;
};

struct dir {
	struct side *in, *out;
	struct held held[MAX_PENDING];
	unsigned n_held;
};

struct counters {
	uint64_t received[2], sent[2], exempt;
	uint64_t dropped, duplicated, reordered, delayed, corrupted, truncated, truncated_short;
	uint64_t send_errors, held_overflow;
};

struct opts {
	bool gre;
	double drop, dup, reorder, corrupt, truncate;
	unsigned depth, delay_ms, corrupt_offset, flip_bits;
	uint64_t seed;
	bool types[256], types_set;
	const char *stats, *ready;
};

static volatile sig_atomic_t stop_flag, dump_flag;
static uint64_t rng_state;
static struct counters ctr;
static struct opts opt = { .depth = 64, .flip_bits = 1, .seed = 1 };
static uint64_t arrivals;

static void on_stop(int sig) { (void)sig; stop_flag = 1; }
static void on_dump(int sig) { (void)sig; dump_flag = 1; }

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: reproducible from --seed, good enough for fault rolls. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static bool roll(double p)
{
	if (p <= 0)
		return false;
	return (double)(rnd() >> 11) / (double)(1ULL << 53) < p;
}

static unsigned rnd_below(unsigned n)
{
	return n ? (unsigned)(rnd() % n) : 0;
}

static void die(const char *what)
{
	fprintf(stderr, "relay: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(const char *msg)
{
	fprintf(stderr, "relay: %s\n"
		"usage: relay --mode udp|gre --a ADDR[:PORT] --a-peer ADDR[:PORT] --b ADDR[:PORT] --b-peer ADDR[:PORT]\n"
		"  [--drop P] [--dup P] [--reorder P] [--reorder-depth N] [--delay-ms N] [--corrupt P]\n"
		"  [--truncate P] [--corrupt-offset N] [--flip-bits N] [--types LIST] [--seed S]\n"
		"  [--stats FILE] [--ready FILE]\n", msg);
	exit(2);
}

static double parse_rate(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		usage("bad rate");
	if (*end == '%') {
		v /= 100;
		end++;
	}
	if (*end || v < 0 || v > 1)
		usage("rate must be within 0..1 (or 0%..100%)");
	return v;
}

static unsigned long parse_num(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max)
		usage("bad number");
	return v;
}

/* "1.2.3.4:5", "[fd00::1]:5", or without ":port" in gre mode. */
static void parse_addr(const char *s, union addr *a, bool want_port)
{
	char host[128];
	const char *port = NULL;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (size_t)(close - s - 1) >= sizeof(host))
			usage("bad address");
		n = (size_t)(close - s - 1);
		memcpy(host, s + 1, n);
		host[n] = 0;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			usage("bad address");
	} else {
		const char *colon = strrchr(s, ':');

		if (colon && strchr(s, ':') == colon) {
			n = (size_t)(colon - s);
			port = colon + 1;
		} else {
			n = strlen(s);
		}
		if (n >= sizeof(host))
			usage("bad address");
		memcpy(host, s, n);
		host[n] = 0;
	}
	if (want_port != (port != NULL))
		usage(want_port ? "udp mode needs ADDR:PORT" : "gre mode takes addresses without ports");
	if (inet_pton(AF_INET, host, &a->in.sin_addr) == 1) {
		a->in.sin_family = AF_INET;
		if (port)
			a->in.sin_port = htons((uint16_t)parse_num(port, 65535));
	} else if (inet_pton(AF_INET6, host, &a->in6.sin6_addr) == 1) {
		a->in6.sin6_family = AF_INET6;
		if (port)
			a->in6.sin6_port = htons((uint16_t)parse_num(port, 65535));
	} else {
		usage("bad address");
	}
}

static socklen_t addr_len(const union addr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

static void open_side(struct side *s)
{
	int one = 1, bufsz = 4 << 20;

	if (opt.gre) {
		if (s->local.sa.sa_family != AF_INET)
			usage("gre mode is IPv4 only");
		s->fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_GRE_NUM);
	} else {
		s->fd = socket(s->local.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (s->fd < 0)
		die("socket");
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (s->local.sa.sa_family == AF_INET6)
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* A raw socket bound to an address receives only what is sent to it. */
	if (bind(s->fd, &s->local.sa, addr_len(&s->local)) != 0)
		die("bind");
}

static void transmit(struct dir *d, const uint8_t *buf, size_t len)
{
	int i = d->in->name[0] == 'a' ? 0 : 1;

	if (sendto(d->out->fd, buf, len, MSG_DONTWAIT, &d->out->peer.sa, addr_len(&d->out->peer)) < 0)
		ctr.send_errors++;
	else
		ctr.sent[i]++;
}

static void hold(struct dir *d, const uint8_t *buf, size_t len, uint64_t deadline, int countdown)
{
	struct held *h;

	if (d->n_held == MAX_PENDING) {
		/* Full: let the oldest go now rather than lose anything. */
		unsigned oldest = 0;

		for (unsigned i = 1; i < d->n_held; i++)
			if (d->held[i].seq < d->held[oldest].seq)
				oldest = i;
		transmit(d, d->held[oldest].buf, d->held[oldest].len);
		free(d->held[oldest].buf);
		d->held[oldest] = d->held[--d->n_held];
		ctr.held_overflow++;
	}
	h = &d->held[d->n_held];
	h->buf = malloc(len ? len : 1);
	if (!h->buf)
		die("malloc");
	memcpy(h->buf, buf, len);
	h->len = len;
	h->deadline = deadline;
	h->countdown = countdown;
	h->seq = arrivals;
	d->n_held++;
}

/* Send what is due, in arrival order. */
static void release_due(struct dir *d, uint64_t now)
{
	for (;;) {
		int best = -1;

		for (unsigned i = 0; i < d->n_held; i++) {
			struct held *h = &d->held[i];

			if ((h->countdown == 0 || h->deadline <= now) &&
			    (best < 0 || h->seq < d->held[best].seq))
				best = (int)i;
		}
		if (best < 0)
			return;
		transmit(d, d->held[best].buf, d->held[best].len);
		free(d->held[best].buf);
		d->held[best] = d->held[--d->n_held];
	}
}

static uint64_t next_deadline(const struct dir *d)
{
	uint64_t t = UINT64_MAX;

	for (unsigned i = 0; i < d->n_held; i++)
		if (d->held[i].deadline < t)
			t = d->held[i].deadline;
	return t;
}

static void corrupt(uint8_t *buf, size_t len)
{
	size_t span = len - opt.corrupt_offset;

	for (unsigned i = 0; i < opt.flip_bits; i++) {
		size_t bit = (size_t)(rnd() % (span * 8));

		buf[opt.corrupt_offset + bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

static void handle(struct dir *d, uint8_t *buf, size_t len, uint64_t now)
{
	uint64_t delay = (uint64_t)opt.delay_ms * 1000000ULL;
	int copies = 1;

	arrivals++;
	/* Every arrival moves the held ones of this direction along. */
	for (unsigned i = 0; i < d->n_held; i++)
		if (d->held[i].countdown > 0)
			d->held[i].countdown--;

	if (opt.types_set && (len == 0 || !opt.types[buf[0]])) {
		ctr.exempt++;
		if (delay)
			hold(d, buf, len, now + delay, -1);
		else
			transmit(d, buf, len);
		release_due(d, now);
		return;
	}
	if (roll(opt.drop)) {
		ctr.dropped++;
		release_due(d, now);
		return;
	}
	if (roll(opt.truncate) && len > 0) {
		len = rnd_below((unsigned)len);
		ctr.truncated++;
		if (len < SHORT_LEN)
			ctr.truncated_short++;
	} else if (len > opt.corrupt_offset && opt.flip_bits && roll(opt.corrupt)) {
		corrupt(buf, len);
		ctr.corrupted++;
	}
	if (roll(opt.dup)) {
		ctr.duplicated++;
		copies = 2;
	}
	for (int c = 0; c < copies; c++) {
		if (roll(opt.reorder)) {
			ctr.reordered++;
			hold(d, buf, len, now + delay + REORDER_FLUSH_MS * 1000000ULL,
			     1 + (int)rnd_below(opt.depth));
		} else if (delay) {
			ctr.delayed++;
			hold(d, buf, len, now + delay, -1);
		} else {
			transmit(d, buf, len);
		}
	}
	release_due(d, now);
}

/* Receive one datagram; in gre mode strip the IPv4 header. */
static ssize_t receive(struct side *s, uint8_t *buf)
{
	ssize_t n = recv(s->fd, buf, MAX_DGRAM, MSG_DONTWAIT);
	size_t ihl;

	if (n <= 0 || !opt.gre)
		return n;
	ihl = n < 20 ? 0 : (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > (size_t)n) {
		errno = EINVAL;
		return -1;
	}
	memmove(buf, buf + ihl, (size_t)n - ihl);
	return n - (ssize_t)ihl;
}

static void dump(void)
{
	FILE *f = opt.stats ? fopen(opt.stats, "w") : stdout;

	if (!f) {
		fprintf(stderr, "relay: %s: %s\n", opt.stats, strerror(errno));
		return;
	}
	fprintf(f, "{\"received_a\":%llu,\"received_b\":%llu,\"sent_to_b\":%llu,\"sent_to_a\":%llu,"
		"\"exempt\":%llu,\"dropped\":%llu,\"duplicated\":%llu,\"reordered\":%llu,\"delayed\":%llu,"
		"\"corrupted\":%llu,\"truncated\":%llu,\"truncated_short\":%llu,"
		"\"send_errors\":%llu,\"held_overflow\":%llu,\"seed\":%llu}\n",
		(unsigned long long)ctr.received[0], (unsigned long long)ctr.received[1],
		(unsigned long long)ctr.sent[0], (unsigned long long)ctr.sent[1],
		(unsigned long long)ctr.exempt, (unsigned long long)ctr.dropped,
		(unsigned long long)ctr.duplicated, (unsigned long long)ctr.reordered,
		(unsigned long long)ctr.delayed, (unsigned long long)ctr.corrupted,
		(unsigned long long)ctr.truncated, (unsigned long long)ctr.truncated_short,
		(unsigned long long)ctr.send_errors, (unsigned long long)ctr.held_overflow,
		(unsigned long long)opt.seed);
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

static void parse_types(char *list)
{
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
		opt.types[parse_num(tok, 255)] = true;
	opt.types_set = true;
}

int main(int argc, char **argv)
{
	static uint8_t buf[MAX_DGRAM];
	struct side a = { .name = "a", .fd = -1 }, b = { .name = "b", .fd = -1 };
	static struct dir ab, ba;
	const char *mode = NULL, *sa = NULL, *sap = NULL, *sb = NULL, *sbp = NULL;
	struct sigaction act;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage("option without a value");
		i++;
		if (!strcmp(o, "--mode")) mode = v;
		else if (!strcmp(o, "--a")) sa = v;
		else if (!strcmp(o, "--a-peer")) sap = v;
		else if (!strcmp(o, "--b")) sb = v;
		else if (!strcmp(o, "--b-peer")) sbp = v;
		else if (!strcmp(o, "--drop")) opt.drop = parse_rate(v);
		else if (!strcmp(o, "--dup")) opt.dup = parse_rate(v);
		else if (!strcmp(o, "--reorder")) opt.reorder = parse_rate(v);
		else if (!strcmp(o, "--reorder-depth")) opt.depth = (unsigned)parse_num(v, MAX_DEPTH);
		else if (!strcmp(o, "--delay-ms")) opt.delay_ms = (unsigned)parse_num(v, 60000);
		else if (!strcmp(o, "--corrupt")) opt.corrupt = parse_rate(v);
		else if (!strcmp(o, "--truncate")) opt.truncate = parse_rate(v);
		else if (!strcmp(o, "--corrupt-offset")) opt.corrupt_offset = (unsigned)parse_num(v, MAX_DGRAM);
		else if (!strcmp(o, "--flip-bits")) opt.flip_bits = (unsigned)parse_num(v, 64);
		else if (!strcmp(o, "--types")) parse_types(argv[i]);
		else if (!strcmp(o, "--seed")) opt.seed = parse_num(v, UINT64_MAX);
		else if (!strcmp(o, "--stats")) opt.stats = v;
		else if (!strcmp(o, "--ready")) opt.ready = v;
		else usage("unknown option");
	}
	if (!mode || !sa || !sap || !sb || !sbp)
		usage("--mode, --a, --a-peer, --b and --b-peer are required");
	if (!strcmp(mode, "gre"))
		opt.gre = true;
	else if (strcmp(mode, "udp"))
		usage("--mode is udp or gre");
	if (opt.depth < 1)
		usage("--reorder-depth must be at least 1");
	parse_addr(sa, &a.local, !opt.gre);
	parse_addr(sap, &a.peer, !opt.gre);
	parse_addr(sb, &b.local, !opt.gre);
	parse_addr(sbp, &b.peer, !opt.gre);
	rng_state = opt.seed ? opt.seed : 0x9e3779b97f4a7c15ULL;

	memset(&act, 0, sizeof(act));
	act.sa_handler = on_stop;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	act.sa_handler = on_dump;
	sigaction(SIGUSR1, &act, NULL);

	open_side(&a);
	open_side(&b);
	ab.in = &a; ab.out = &b;
	ba.in = &b; ba.out = &a;
	if (opt.ready) {
		int fd = open(opt.ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0)
			die("ready file");
		close(fd);
	}

	while (!stop_flag) {
		struct pollfd pfd[2] = { { .fd = a.fd, .events = POLLIN }, { .fd = b.fd, .events = POLLIN } };
		uint64_t now = now_ns(), next = next_deadline(&ab);
		int timeout = 1000;

		if (next_deadline(&ba) < next)
			next = next_deadline(&ba);
		if (next != UINT64_MAX)
			timeout = next <= now ? 0 : (int)((next - now) / 1000000ULL) + 1;
		if (timeout > 1000)
			timeout = 1000;
		if (dump_flag) {
			dump_flag = 0;
			dump();
		}
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			die("poll");
		now = now_ns();
		for (int s = 0; s < 2; s++) {
			struct dir *d = s ? &ba : &ab;

			if (!(pfd[s].revents & POLLIN))
				continue;
			/* A bounded batch per wakeup keeps both directions moving. */
			for (int k = 0; k < 64; k++) {
				ssize_t n = receive(d->in, buf);

				if (n < 0) {
					if (errno == EAGAIN || errno == EWOULDBLOCK)
						break;
					continue;
				}
				ctr.received[s]++;
				handle(d, buf, (size_t)n, now);
			}
		}
		release_due(&ab, now);
		release_due(&ba, now);
	}
	/* Whatever is still held goes out before the counters are final. */
	release_due(&ab, UINT64_MAX);
	release_due(&ba, UINT64_MAX);
	dump();
	return 0;
}
