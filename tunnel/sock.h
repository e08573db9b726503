/* tunnel/sock.h: underlay sockets (raw IP protocol 47 and UDP), batched
 * I/O and socket address helpers.
 *
 * All sockets are nonblocking and close-on-exec.  They never send with DF:
 * what does not fit is fragmented (IPv4: by the kernel to the device MTU,
 * by routers to a narrower hop; IPv6: by the kernel to the path MTU it
 * learns from "packet too big"), and no send is refused as too big;
 * set_pmtu_mode() in sock.c says why.  Functions return >= 0 or -errno;
 * nothing here logs.
 */
#ifndef GRESEC_TUNNEL_SOCK_H
#define GRESEC_TUNNEL_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "tunnel/addr.h"
#include "tunnel/pkt.h"

union sockaddr_inet {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

enum {
	SOCK_BATCH_MAX = 64,            /* packets per recvmmsg/sendmmsg */
	SOCK_BUF_BYTES = 4 << 20,       /* SO_RCVBUF/SO_SNDBUF wish */
	SOCKADDR_STRLEN = 56,           /* "[" INET6_ADDRSTRLEN "]:65535" */
};

/* ---- address helpers (pure) ---- */

/* Fill sa (zeroed first) from an AF_INET/AF_INET6 address and a port in
 * host order.  Returns 0, or -EAFNOSUPPORT for any other family. */
int sockaddr_from_ip(union sockaddr_inet *sa, const struct ip_addr *ip,
		     uint16_t port);

/* Address and port (host order, port may be NULL) out of sa.  0 or
 * -EAFNOSUPPORT. */
int sockaddr_to_ip(const union sockaddr_inet *sa, struct ip_addr *ip,
		   uint16_t *port);

/* Same family and address (ports ignored). */
bool sockaddr_equal_addr(const union sockaddr_inet *a,
			 const union sockaddr_inet *b);

/* Same family, address and port. */
bool sockaddr_equal(const union sockaddr_inet *a, const union sockaddr_inet *b);

/* sizeof the family's sockaddr, 0 for another family. */
socklen_t sockaddr_len(const union sockaddr_inet *sa);

/* "1.2.3.4:5", "[::1]:5" ("?" for another family); always terminated when
 * len > 0, truncated to fit.  Returns buf. */
const char *sockaddr_format(const union sockaddr_inet *sa, char *buf,
			    size_t len);

/* ---- sockets ---- */

/* Raw socket for IP protocol 47 of `family`, bound to local (NULL or
 * AF_UNSPEC: any) and to `device` ("" or NULL: none).  No DF, big buffers
 * (SO_*BUFFORCE when privileged).  Note: an AF_INET raw socket receives the
 * outer IPv4 header in front of GRE (see sock_strip_ipv4_header); an
 * AF_INET6 one does not, and has IPV6_RECVERR: ICMP errors about its
 * packets queue up on it, and a receive may fail with the errno of one
 * (EMSGSIZE, EHOSTUNREACH, ...); call sock_drain_errors() then.  Returns
 * the fd or -errno. */
int sock_open_gre(int family, const struct ip_addr *local, const char *device);

/* The keepalive socket of a tunnel whose traffic the kernel's own GRE
 * device carries: an IPv4 raw IP-47 socket bound to local (and device,
 * "" or NULL: none), connected to remote, with a classic BPF filter that
 * lets through only keepalive packets: GRE of protocol 0 (our keepalive
 * coming back) and GRE of protocol 0x0800 around a short IPv4 GRE packet
 * (the peer's keepalive).  The tunnel's data never reaches user space.
 * Returns the fd or -errno (-EAFNOSUPPORT unless both are IPv4). */
int sock_open_gre_keepalive(const struct ip_addr *local, const struct ip_addr *remote,
			    const char *device);

/* UDP socket bound to local (NULL/AF_UNSPEC: any) and port (host order, 0:
 * ephemeral), SO_REUSEADDR, no DF, IPV6_V6ONLY for AF_INET6 so an IPv4
 * and an IPv6 socket can share the port.  Returns the fd or -errno. */
int sock_open_udp(int family, const struct ip_addr *local, uint16_t port,
		  const char *device);

/* Unicast TTL / hop limit 1..255, or -1 for the system default.  0 or -errno. */
int sock_set_ttl(int fd, int family, int ttl);

/* The local address and port the socket is bound to. 0 or -errno. */
int sock_local_addr(int fd, union sockaddr_inet *out);

/* Validate the outer IPv4 header at the front of p (version 4, IHL >= 5,
 * IHL*4 <= total length <= p->len), trim p to the total length and pull
 * the header so p starts at the payload.  0, or -EBADMSG leaving p as it
 * was. */
int sock_strip_ipv4_header(struct pkt *p);

/* Receive up to n (at most SOCK_BATCH_MAX per call) datagrams, each into
 * pkts[i] at PKT_HEADROOM with len set, and its source into src[i] (src
 * may be NULL).  A datagram that did not fit gets len 0.  Returns the
 * count (0 when nothing is waiting) or -errno. */
int sock_recv_batch(int fd, struct pkt **pkts, union sockaddr_inet *src,
		    unsigned n);

/* UDP generic receive offload (UDP_GRO): the kernel may hand over a run of
 * datagrams of one flow as one buffer, seg bytes per datagram (the last may
 * be shorter), after one trip through the stack.  0 or -errno (an old
 * kernel: datagrams keep coming one by one). */
int sock_enable_udp_gro(int fd);

/* sock_recv_batch() that also reports, for each buffer, the segment size
 * of a coalesced run in seg[i] (0: one datagram as sent).  A buffer of len
 * bytes with 0 < seg[i] < len holds ceil(len / seg[i]) datagrams. */
int sock_recv_segments(int fd, struct pkt **pkts, union sockaddr_inet *src,
		       uint16_t *seg, unsigned n);

/* Send pkts[i] to dst[i] (dst NULL: the connected peer), in order.
 * Returns the number of packets done from the front: each was sent, or
 * refused by the kernel with a per-packet error (ENETUNREACH, EMSGSIZE
 * above 64 KB, ...) and dropped.  The return is < n only when the socket
 * would block: pkts[ret..n) were not tried, retry them when writable.  *first_errno
 * (may be NULL) is the first error met, EAGAIN included, or 0. */
int sock_send_batch(int fd, struct pkt **pkts, const union sockaddr_inet *dst,
		    unsigned n, int *first_errno);

/* Empty the socket's error queue (IPV6_RECVERR: the ICMP errors the kernel
 * received about our packets, which it has already acted on), at most
 * SOCK_BATCH_MAX entries a call.  Returns the number dropped or -errno. */
int sock_drain_errors(int fd);

/* UDP generic segmentation offload: one sendmsg carries n datagrams of
 * seg bytes each (the last may be shorter); the kernel splits them late,
 * after one trip through the stack.  seg plus the headers must fit the
 * kernel's fragment size for dst (IPv4: the device MTU; IPv6: the path
 * MTU).  0 or -errno: -EMSGSIZE (-EINVAL on older kernels) when seg does
 * not fit, -EIO/-EOPNOTSUPP when the path cannot do GSO; either way the
 * datagrams can go with sock_send_batch. */
enum { SOCK_GSO_MAX_SEGS = 64, SOCK_GSO_MAX_BYTES = 65000 };
int sock_send_gso(int fd, struct pkt **pkts, unsigned n, uint16_t seg,
		  const union sockaddr_inet *dst);

#endif
