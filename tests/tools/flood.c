/* tests/tools/flood.c: a UDP datagram flooder for the hostile-traffic tests
 * (libc only).
 *
 * Sends datagrams taken in turn from a template file to one address as fast
 * as the machine allows (sendmmsg batches), for a given time, and counts
 * what comes back by secure-mode message type (cookie replies are type 3).
 *
 *   flood --dst ADDR:PORT --templates FILE --duration SECONDS
 *         [--spoof A.B.C.D/N] [--pps N] [--stats FILE]
 *
 * The template file holds records of a 2-byte big-endian length and that
 * many bytes (tests/netns/hostile_msgs.py writes it).  With --spoof the
 * datagrams leave through a raw IPv4 socket with a random source address
 * from the prefix and a random source port (replies then go to those
 * addresses, so none are counted); without it from one UDP socket, whose
 * replies are read between batches.  Counters are printed as JSON.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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
	BATCH = 64,
	MAX_TEMPLATES = 65536,
	MAX_LEN = 65507,
	HDRS = 28,                 /* IPv4 + UDP headers in spoof mode */
};

struct tmpl {
	uint8_t *buf;
	size_t len;
};

static volatile sig_atomic_t stop_flag;
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static void on_stop(int sig) { (void)sig; stop_flag = 1; }

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(const char *msg)
{
	fprintf(stderr, "flood: %s\nusage: flood --dst ADDR:PORT --templates FILE --duration SECONDS "
		"[--spoof A.B.C.D/N] [--pps N] [--stats FILE]\n", msg);
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "flood: %s: %s\n", what, strerror(errno));
	exit(1);
}

static size_t load_templates(const char *path, struct tmpl *t)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0;
	uint8_t hdr[2];

	if (!f)
		die(path);
	while (n < MAX_TEMPLATES && fread(hdr, 1, 2, f) == 2) {
		size_t len = (size_t)hdr[0] << 8 | hdr[1];

		if (len > MAX_LEN)
			usage("template too long");
		t[n].buf = malloc(HDRS + len + 1);
		if (!t[n].buf)
			die("malloc");
		if (fread(t[n].buf + HDRS, 1, len, f) != len)
			usage("template file truncated");
		t[n].len = len;
		n++;
	}
	fclose(f);
	if (!n)
		usage("no templates");
	return n;
}

int main(int argc, char **argv)
{
	static struct tmpl tmpl[MAX_TEMPLATES];
	static uint8_t rbuf[BATCH][2048];
	const char *dst = NULL, *tpath = NULL, *spoof = NULL, *stats = NULL;
	double duration = 0, pps = 0;
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint32_t spoof_net = 0, spoof_mask = 0;
	uint64_t sent = 0, send_errors = 0, cookies = 0, responses = 0, other = 0, batches = 0;
	size_t n_tmpl, next = 0;
	struct sigaction act;
	double start, elapsed;
	int fd;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--dst")) dst = argv[i + 1];
		else if (!strcmp(argv[i], "--templates")) tpath = argv[i + 1];
		else if (!strcmp(argv[i], "--duration")) duration = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--spoof")) spoof = argv[i + 1];
		else if (!strcmp(argv[i], "--pps")) pps = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--stats")) stats = argv[i + 1];
		else usage("unknown option");
	}
	if (argc % 2 == 0)
		usage("option without a value");
	if (!dst || !tpath || duration <= 0)
		usage("--dst, --templates and --duration are required");
	{
		char host[64];
		const char *colon = strchr(dst, ':');

		if (!colon || (size_t)(colon - dst) >= sizeof(host))
			usage("--dst is IPV4:PORT");
		memcpy(host, dst, (size_t)(colon - dst));
		host[colon - dst] = 0;
		if (inet_pton(AF_INET, host, &to.sin_addr) != 1)
			usage("--dst is IPV4:PORT");
		to.sin_port = htons((uint16_t)atoi(colon + 1));
	}
	if (spoof) {
		char net[64];
		const char *slash = strchr(spoof, '/');
		struct in_addr a;
		int plen;

		if (!slash || (size_t)(slash - spoof) >= sizeof(net))
			usage("--spoof is A.B.C.D/N");
		memcpy(net, spoof, (size_t)(slash - spoof));
		net[slash - spoof] = 0;
		plen = atoi(slash + 1);
		if (inet_pton(AF_INET, net, &a) != 1 || plen < 8 || plen > 32)
			usage("--spoof is A.B.C.D/N with N in 8..32");
		spoof_mask = plen == 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
		spoof_net = ntohl(a.s_addr) & spoof_mask;
	}
	n_tmpl = load_templates(tpath, tmpl);
	rng_state ^= (uint64_t)getpid() << 17 ^ (uint64_t)time(NULL);

	memset(&act, 0, sizeof(act));
	act.sa_handler = on_stop;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);

	if (spoof) {
		/* IPPROTO_RAW implies IP_HDRINCL: we write the IPv4 header. */
		fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	} else {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0)
			die("connect");
	}
	if (fd < 0)
		die("socket");

	start = now_s();
	while (!stop_flag && (elapsed = now_s() - start) < duration) {
		struct mmsghdr msgs[BATCH];
		struct iovec iov[BATCH];
		int r;

		if (pps > 0 && (double)sent > pps * elapsed) {
			usleep(1000);
			continue;
		}
		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < BATCH; i++) {
			struct tmpl *t = &tmpl[next];

			next = (next + 1) % n_tmpl;
			if (spoof) {
				uint8_t *h = t->buf;
				uint32_t src = spoof_net | ((uint32_t)rnd() & ~spoof_mask);
				uint16_t ulen = (uint16_t)(t->len + 8), sport;

				memset(h, 0, HDRS);
				h[0] = 0x45;                 /* version 4, IHL 5 */
				h[8] = 64;                   /* TTL */
				h[9] = IPPROTO_UDP;          /* length, id, checksum: kernel */
				src = htonl(src);
				memcpy(h + 12, &src, 4);
				memcpy(h + 16, &to.sin_addr, 4);
				sport = (uint16_t)(1024 + rnd() % 60000);
				h[20] = (uint8_t)(sport >> 8);
				h[21] = (uint8_t)sport;
				memcpy(h + 22, &to.sin_port, 2);
				h[24] = (uint8_t)(ulen >> 8);
				h[25] = (uint8_t)ulen;       /* UDP checksum 0: none (IPv4) */
				iov[i].iov_base = h;
				iov[i].iov_len = HDRS + t->len;
				msgs[i].msg_hdr.msg_name = &to;
				msgs[i].msg_hdr.msg_namelen = sizeof(to);
			} else {
				iov[i].iov_base = t->buf + HDRS;
				iov[i].iov_len = t->len;
			}
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		r = sendmmsg(fd, msgs, BATCH, 0);
		if (r < 0) {
			if (errno != EINTR)
				send_errors += BATCH;
		} else {
			sent += (uint64_t)r;
			send_errors += (uint64_t)(BATCH - r);
		}
		/* Replies come back to the one UDP socket. */
		if (!spoof && (++batches & 3) == 0) {
			for (;;) {
				struct mmsghdr rm[BATCH];
				struct iovec riov[BATCH];

				memset(rm, 0, sizeof(rm));
				for (int i = 0; i < BATCH; i++) {
					riov[i].iov_base = rbuf[i];
					riov[i].iov_len = sizeof(rbuf[i]);
					rm[i].msg_hdr.msg_iov = &riov[i];
					rm[i].msg_hdr.msg_iovlen = 1;
				}
				r = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL);
				if (r <= 0)
					break;
				for (int i = 0; i < r; i++) {
					if (rm[i].msg_len == 64 && rbuf[i][0] == 3)
						cookies++;
					else if (rm[i].msg_len == 92 && rbuf[i][0] == 2)
						responses++;
					else
						other++;
				}
			}
		}
	}
	elapsed = now_s() - start;
	{
		FILE *f = stats ? fopen(stats, "w") : stdout;

		if (!f)
			die(stats);
		fprintf(f, "{\"sent\":%llu,\"send_errors\":%llu,\"seconds\":%.3f,\"pps\":%.0f,"
			"\"cookie_replies\":%llu,\"responses\":%llu,\"other_replies\":%llu,\"spoofed\":%s}\n",
			(unsigned long long)sent, (unsigned long long)send_errors, elapsed,
			elapsed > 0 ? (double)sent / elapsed : 0.0, (unsigned long long)cookies,
			(unsigned long long)responses, (unsigned long long)other, spoof ? "true" : "false");
		if (f != stdout)
			fclose(f);
	}
	close(fd);
	return 0;
}
