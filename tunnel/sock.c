/* tunnel/sock.c: underlay sockets, batched I/O, socket address helpers. */
/* recvmmsg/sendmmsg */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <netinet/udp.h>
#include <linux/filter.h>

#include "tunnel/sock.h"
#include "tunnel/wire.h"

int sockaddr_from_ip(union sockaddr_inet *sa, const struct ip_addr *ip,
		     uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	switch (ip->family) {
	case AF_INET:
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons(port);
		sa->in.sin_addr = ip->u.v4;
		return 0;
	case AF_INET6:
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons(port);
		sa->in6.sin6_addr = ip->u.v6;
		return 0;
	default:
		return -EAFNOSUPPORT;
	}
}

int sockaddr_to_ip(const union sockaddr_inet *sa, struct ip_addr *ip,
		   uint16_t *port)
{
	memset(ip, 0, sizeof(*ip));
	switch (sa->sa.sa_family) {
	case AF_INET:
		ip->family = AF_INET;
		ip->u.v4 = sa->in.sin_addr;
		if (port)
			*port = ntohs(sa->in.sin_port);
		return 0;
	case AF_INET6:
		ip->family = AF_INET6;
		ip->u.v6 = sa->in6.sin6_addr;
		if (port)
			*port = ntohs(sa->in6.sin6_port);
		return 0;
	default:
		ip->family = AF_UNSPEC;
		return -EAFNOSUPPORT;
	}
}

bool sockaddr_equal_addr(const union sockaddr_inet *a,
			 const union sockaddr_inet *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	switch (a->sa.sa_family) {
	case AF_INET:
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	case AF_INET6:
		return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr,
			      sizeof(struct in6_addr)) == 0 &&
		       a->in6.sin6_scope_id == b->in6.sin6_scope_id;
	default:
		return false;
	}
}

bool sockaddr_equal(const union sockaddr_inet *a, const union sockaddr_inet *b)
{
	if (!sockaddr_equal_addr(a, b))
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port;
	return a->in6.sin6_port == b->in6.sin6_port;
}

socklen_t sockaddr_len(const union sockaddr_inet *sa)
{
	switch (sa->sa.sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

const char *sockaddr_format(const union sockaddr_inet *sa, char *buf,
			    size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!len)
		return buf;
	switch (sa->sa.sa_family) {
	case AF_INET:
		if (!inet_ntop(AF_INET, &sa->in.sin_addr, ip, sizeof(ip)))
			break;
		snprintf(buf, len, "%s:%u", ip, ntohs(sa->in.sin_port));
		return buf;
	case AF_INET6:
		if (!inet_ntop(AF_INET6, &sa->in6.sin6_addr, ip, sizeof(ip)))
			break;
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sa->in6.sin6_port));
		return buf;
	default:
		break;
	}
	snprintf(buf, len, "?");
	return buf;
}

static int setopt_int(int fd, int level, int name, int val)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) < 0)
		return -errno;
	return 0;
}

/* Big buffers absorb bursts between event loop turns.  The FORCE variants
 * pass net.core.*mem_max when privileged; otherwise take what is allowed. */
static int set_buffers(int fd)
{
	int err;

	if (setopt_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, SOCK_BUF_BYTES) < 0) {
		err = setopt_int(fd, SOL_SOCKET, SO_RCVBUF, SOCK_BUF_BYTES);
		if (err)
			return err;
	}
	if (setopt_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, SOCK_BUF_BYTES) < 0) {
		err = setopt_int(fd, SOL_SOCKET, SO_SNDBUF, SOCK_BUF_BYTES);
		if (err)
			return err;
	}
	return 0;
}

/* Path MTU handling of the underlay (docs/security.md, "Forged ICMP
 * shrinks the tunnel"), WireGuard's choice: no DF, and no send is ever
 * refused as too big, so no ICMP error, forged or real, can make the
 * tunnel drop packets or shrink.
 *
 * IPv4: IP_PMTUDISC_OMIT.  DF is clear; the kernel fragments a datagram
 * above the outgoing device's MTU itself, and a router on a narrower path
 * fragments it (DF clear).  "Fragmentation needed" for the socket is
 * ignored (ip_sk_accept_pmtu()) and a path MTU learned through other
 * sockets is not used (ip_sk_use_pmtu()): a forged one changes nothing.
 * Kernels before 3.16 refuse OMIT with EINVAL; IP_PMTUDISC_DONT clears DF
 * too, but fragments to any path MTU the kernel takes from an ICMP error,
 * down to net.ipv4.route.min_pmtu (552), until it expires (600 s).
 *
 * IPv6: IPV6_PMTUDISC_DONT.  Routers do not fragment IPv6, so the source
 * must: the kernel takes "packet too big" (never below 1280, expiring
 * after net.ipv6.route.mtu_expires, 600 s) and fragments our datagrams to
 * that path MTU; sends never fail with EMSGSIZE.  A forged one can at worst
 * have the kernel fragment at 1280 until it expires.  (OMIT would ignore a
 * real one too and lose every datagram above a narrower hop.)  A raw IPv6
 * socket takes "packet too big" only when connected or with IPV6_RECVERR
 * (rawv6_err(); UDP takes it either way), so the raw GRE socket gets
 * IPV6_RECVERR and its owner drains the errors (sock_drain_errors). */
static int set_pmtu_mode(int fd, int family, int type)
{
	int err;

	if (family == AF_INET6) {
		err = setopt_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT);
		if (!err && type == SOCK_RAW)
			err = setopt_int(fd, IPPROTO_IPV6, IPV6_RECVERR, 1);
		return err;
	}
	err = setopt_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT);
	if (err == -EINVAL)
		err = setopt_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT);
	return err;
}

/* local: NULL/AF_UNSPEC means the wildcard of family. */
static int bind_addr(union sockaddr_inet *sa, int family,
		     const struct ip_addr *local, uint16_t port)
{
	struct ip_addr any;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (!local || local->family == AF_UNSPEC) {
		memset(&any, 0, sizeof(any));
		any.family = family;
		local = &any;
	}
	if (local->family != family)
		return -EINVAL;
	return sockaddr_from_ip(sa, local, port);
}

/* filter (may be NULL) is attached before anything can be queued. */
static int open_bound_filtered(int family, int type, int proto,
			       const struct ip_addr *local, uint16_t port,
			       const char *device, const struct sock_fprog *filter)
{
	union sockaddr_inet sa;
	int fd, err;

	err = bind_addr(&sa, family, local, port);
	if (err)
		return err;
	if (device && strlen(device) >= IFNAMSIZ)
		return -EINVAL;

	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	if (filter && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, filter, sizeof(*filter)) < 0) {
		err = -errno;
		goto fail;
	}
	if (type == SOCK_DGRAM) {
		err = setopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
		if (!err && family == AF_INET6)
			err = setopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
		if (err)
			goto fail;
	}
	if (device && device[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device,
		       (socklen_t)strlen(device) + 1) < 0) {
		err = -errno;
		goto fail;
	}
	err = set_pmtu_mode(fd, family, type);
	if (!err)
		err = set_buffers(fd);
	if (err)
		goto fail;
	if (bind(fd, &sa.sa, sockaddr_len(&sa)) < 0) {
		err = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

static int open_bound(int family, int type, int proto,
		      const struct ip_addr *local, uint16_t port,
		      const char *device)
{
	return open_bound_filtered(family, type, proto, local, port, device, NULL);
}

int sock_open_gre(int family, const struct ip_addr *local, const char *device)
{
	return open_bound(family, SOCK_RAW, IPPROTO_GRE_NUM, local, 0, device);
}

/* Classic BPF over what an IPv4 raw socket receives (the outer IPv4 header
 * first): accept GRE of protocol 0 (our keepalive coming back), and GRE of
 * protocol 0x0800 whose inner packet is a short IPv4 packet of protocol 47
 * (the peer's keepalive, to be sent back); drop everything else, above all
 * the tunnel's traffic, which the kernel's GRE device takes. */
#define KA_STMT(c, k) { (uint16_t)(c), 0, 0, (uint32_t)(k) }
#define KA_JUMP(c, k, t, f) { (uint16_t)(c), (uint8_t)(t), (uint8_t)(f), (uint32_t)(k) }
static const struct sock_filter keepalive_filter[] = {
	/*  0 */ KA_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),            /* X = outer header length */
	/*  1 */ KA_STMT(BPF_LD | BPF_H | BPF_IND, 2),             /* A = GRE protocol */
	/*  2 */ KA_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 29, 0),     /* 0: accept (32) */
	/*  3 */ KA_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 29),/* else not IPv4: drop (33) */
	/*  4 */ KA_STMT(BPF_LD | BPF_B | BPF_IND, 0),             /* A = GRE flags, C K S bits */
	/*  5 */ KA_STMT(BPF_ST, 0),                               /* M0 = flags */
	/*  6 */ KA_STMT(BPF_MISC | BPF_TXA, 0),
	/*  7 */ KA_STMT(BPF_ALU | BPF_ADD | BPF_K, 4),            /* A = GRE base header end */
	/*  8 */ KA_STMT(BPF_ST, 1),                               /* M1 = inner offset so far */
	/*  9 */ KA_STMT(BPF_LD | BPF_MEM, 0),
	/* 10 */ KA_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80, 0, 3),  /* checksum present */
	/* 11 */ KA_STMT(BPF_LD | BPF_MEM, 1),
	/* 12 */ KA_STMT(BPF_ALU | BPF_ADD | BPF_K, 4),
	/* 13 */ KA_STMT(BPF_ST, 1),
	/* 14 */ KA_STMT(BPF_LD | BPF_MEM, 0),
	/* 15 */ KA_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x20, 0, 3),  /* key present */
	/* 16 */ KA_STMT(BPF_LD | BPF_MEM, 1),
	/* 17 */ KA_STMT(BPF_ALU | BPF_ADD | BPF_K, 4),
	/* 18 */ KA_STMT(BPF_ST, 1),
	/* 19 */ KA_STMT(BPF_LD | BPF_MEM, 0),
	/* 20 */ KA_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x10, 0, 3),  /* sequence present */
	/* 21 */ KA_STMT(BPF_LD | BPF_MEM, 1),
	/* 22 */ KA_STMT(BPF_ALU | BPF_ADD | BPF_K, 4),
	/* 23 */ KA_STMT(BPF_ST, 1),
	/* 24 */ KA_STMT(BPF_LDX | BPF_MEM, 1),                    /* X = inner IPv4 header */
	/* 25 */ KA_STMT(BPF_LD | BPF_B | BPF_IND, 0),
	/* 26 */ KA_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf0),
	/* 27 */ KA_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x40, 0, 5),   /* version 4, else drop */
	/* 28 */ KA_STMT(BPF_LD | BPF_B | BPF_IND, 9),
	/* 29 */ KA_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_GRE_NUM, 0, 3), /* GRE, else drop */
	/* 30 */ KA_STMT(BPF_LD | BPF_H | BPF_IND, 2),             /* inner total length */
	/* 31 */ KA_JUMP(BPF_JMP | BPF_JGT | BPF_K, 64, 1, 0),     /* a keepalive is short */
	/* 32 */ KA_STMT(BPF_RET | BPF_K, 0xffff),                 /* accept */
	/* 33 */ KA_STMT(BPF_RET | BPF_K, 0),                      /* drop */
};

int sock_open_gre_keepalive(const struct ip_addr *local, const struct ip_addr *remote,
			    const char *device)
{
	struct sock_fprog prog = {
		.len = sizeof(keepalive_filter) / sizeof(keepalive_filter[0]),
		.filter = (struct sock_filter *)keepalive_filter,
	};
	union sockaddr_inet peer;
	int fd;

	if (!local || local->family != AF_INET || !remote || remote->family != AF_INET)
		return -EAFNOSUPPORT;
	fd = open_bound_filtered(AF_INET, SOCK_RAW, IPPROTO_GRE_NUM, local, 0, device, &prog);
	if (fd < 0)
		return fd;
	/* A connected raw socket only takes packets from the peer. */
	sockaddr_from_ip(&peer, remote, 0);
	if (connect(fd, &peer.sa, sockaddr_len(&peer)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int sock_open_udp(int family, const struct ip_addr *local, uint16_t port,
		  const char *device)
{
	return open_bound(family, SOCK_DGRAM, IPPROTO_UDP, local, port, device);
}

int sock_set_ttl(int fd, int family, int ttl)
{
	if (ttl != -1 && (ttl < 1 || ttl > 255))
		return -EINVAL;
	if (family == AF_INET)
		return setopt_int(fd, IPPROTO_IP, IP_TTL, ttl);
	if (family == AF_INET6)
		return setopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl);
	return -EAFNOSUPPORT;
}

int sock_local_addr(int fd, union sockaddr_inet *out)
{
	socklen_t len = sizeof(*out);

	memset(out, 0, sizeof(*out));
	if (getsockname(fd, &out->sa, &len) < 0)
		return -errno;
	return 0;
}

int sock_strip_ipv4_header(struct pkt *p)
{
	const uint8_t *h;
	size_t ihl, total;

	if (p->len < IPV4_HDR_LEN)
		return -EBADMSG;
	h = pkt_data(p);
	if ((h[0] >> 4) != 4)
		return -EBADMSG;
	ihl = (size_t)(h[0] & 0x0f) * 4;
	total = load_be16(h + 2);
	if (ihl < IPV4_HDR_LEN || total < ihl || total > p->len)
		return -EBADMSG;
	p->len = total;
	pkt_pull(p, ihl);
	return 0;
}

int sock_enable_udp_gro(int fd)
{
#ifdef UDP_GRO
	return setopt_int(fd, SOL_UDP, UDP_GRO, 1);
#else
	(void)fd;
	return -ENOPROTOOPT;
#endif
}

int sock_recv_batch(int fd, struct pkt **pkts, union sockaddr_inet *src,
		    unsigned n)
{
	return sock_recv_segments(fd, pkts, src, NULL, n);
}

/* Room for the UDP_GRO control message (an int) of one datagram. */
union sock_seg_cmsg {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

/* The segment size the kernel reports for a coalesced datagram; 0 when it
 * was received as it was sent. */
static uint16_t recv_seg_size(struct msghdr *mh)
{
#ifdef UDP_GRO
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		int v;

		if (cm->cmsg_level != SOL_UDP || cm->cmsg_type != UDP_GRO ||
		    cm->cmsg_len < CMSG_LEN(sizeof(v)))
			continue;
		memcpy(&v, CMSG_DATA(cm), sizeof(v));
		return v > 0 && v <= UINT16_MAX ? (uint16_t)v : 0;
	}
#else
	(void)mh;
#endif
	return 0;
}

int sock_recv_segments(int fd, struct pkt **pkts, union sockaddr_inet *src,
		       uint16_t *seg, unsigned n)
{
	struct mmsghdr msgs[SOCK_BATCH_MAX];
	struct iovec iov[SOCK_BATCH_MAX];
	union sock_seg_cmsg ctl[SOCK_BATCH_MAX];
	unsigned i;
	int r;

	if (n > SOCK_BATCH_MAX)
		n = SOCK_BATCH_MAX;
	if (!n)
		return 0;
	memset(msgs, 0, sizeof(msgs[0]) * n);
	for (i = 0; i < n; i++) {
		pkt_reset(pkts[i]);
		iov[i].iov_base = pkts[i]->buf + PKT_HEADROOM;
		iov[i].iov_len = PKT_MAX_PAYLOAD;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		if (src) {
			msgs[i].msg_hdr.msg_name = &src[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(src[i]);
		}
		if (seg) {
			msgs[i].msg_hdr.msg_control = ctl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
	}
	do {
		r = recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	for (i = 0; i < (unsigned)r; i++) {
		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
			pkts[i]->len = 0;
		else
			pkts[i]->len = msgs[i].msg_len;
		if (seg)
			seg[i] = recv_seg_size(&msgs[i].msg_hdr);
	}
	return r;
}

int sock_send_batch(int fd, struct pkt **pkts, const union sockaddr_inet *dst,
		    unsigned n, int *first_errno)
{
	struct mmsghdr msgs[SOCK_BATCH_MAX];
	struct iovec iov[SOCK_BATCH_MAX];
	unsigned done = 0, i, chunk;
	int r, first = 0;

	while (done < n) {
		chunk = n - done;
		if (chunk > SOCK_BATCH_MAX)
			chunk = SOCK_BATCH_MAX;
		memset(msgs, 0, sizeof(msgs[0]) * chunk);
		for (i = 0; i < chunk; i++) {
			struct pkt *p = pkts[done + i];

			iov[i].iov_base = pkt_data(p);
			iov[i].iov_len = p->len;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			if (dst) {
				msgs[i].msg_hdr.msg_name = (void *)&dst[done + i];
				msgs[i].msg_hdr.msg_namelen = sockaddr_len(&dst[done + i]);
			}
		}
		r = sendmmsg(fd, msgs, chunk, MSG_DONTWAIT);
		if (r > 0) {
			done += (unsigned)r;
			continue;
		}
		/* r <= 0: msgs[0] of this chunk failed (sendmmsg reports a
		 * failure only when it is the first message). */
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
			if (!first)
				first = EAGAIN;
			break;
		}
		if (!first)
			first = errno;
		done++;     /* this packet is refused: drop it, go on */
	}
	if (first_errno)
		*first_errno = first;
	return (int)done;
}

int sock_drain_errors(int fd)
{
	uint8_t quote[64];              /* the packet the error is about: not needed */
	struct iovec iov = { .iov_base = quote, .iov_len = sizeof(quote) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int n = 0;

	while (n < SOCK_BATCH_MAX) {
		if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0)
			n++;
		else if (errno != EINTR)
			break;
	}
	if (n == 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	return n;
}

int sock_send_gso(int fd, struct pkt **pkts, unsigned n, uint16_t seg,
		  const union sockaddr_inet *dst)
{
	struct iovec iov[SOCK_GSO_MAX_SEGS];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = {
		.msg_name = (void *)&dst->sa,
		.msg_namelen = sockaddr_len(dst),
		.msg_iov = iov,
		.msg_iovlen = n,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;

	if (n == 0 || n > SOCK_GSO_MAX_SEGS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		iov[i].iov_base = pkts[i]->buf + pkts[i]->off;
		iov[i].iov_len = pkts[i]->len;
	}
	memset(ctl.buf, 0, sizeof(ctl.buf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	if (sendmsg(fd, &msg, MSG_DONTWAIT) < 0)
		return -errno;
	return 0;
}
