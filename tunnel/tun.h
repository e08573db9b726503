/* tunnel/tun.h: the TUN (L3 GRE) or TAP (gretap) device of a tunnel.
 *
 * A device created here is not persistent: it lives as long as the fd, so
 * a crash leaves no interface behind (a persistent one pre-created by the
 * admin with `ip tuntap add` is attached to and left as it is).  Frames carry no packet-info header
 * (IFF_NO_PI): a TUN read is one IPv4/IPv6 packet, a TAP read one
 * Ethernet frame.  Functions return >= 0 or -errno and never log.
 */
#ifndef GRESEC_TUNNEL_TUN_H
#define GRESEC_TUNNEL_TUN_H

#include <stdbool.h>
#include <sys/types.h>
#include <net/if.h>

#include "tunnel/pkt.h"

/* Open /dev/net/tun and attach interface `name` ("" or NULL: the kernel
 * picks tunN/tapN).  The fd is O_NONBLOCK|O_CLOEXEC.  The chosen name is
 * written to ifname_out (may be NULL).  Returns the fd, or -EEXIST when
 * `name` is taken by an interface that is not a TUN/TAP of the same kind,
 * -EBUSY when it is a TUN/TAP already attached elsewhere, -EINVAL for a bad
 * name, else -errno. */
int tun_open(const char *name, bool tap, char ifname_out[IFNAMSIZ]);

/* Same with extra IFF_* flags for TUNSETIFF (room for IFF_MULTI_QUEUE). */
int tun_open_flags(const char *name, bool tap, short extra_flags,
		   char ifname_out[IFNAMSIZ]);

/* Carrier on/off (TUNSETCARRIER, Linux >= 4.12): 0 or -errno
 * (-EINVAL/-ENOTTY/-EOPNOTSUPP on kernels without it). */
int tun_set_carrier(int fd, bool on);

/* Read one packet into p at PKT_HEADROOM (p->off, p->len set).
 * Returns its length, -EAGAIN when none is waiting, or -errno. */
ssize_t tun_read(int fd, struct pkt *p);

/* Write the packet p (buf[off .. off+len)).  Returns the bytes written or
 * -errno (-EAGAIN when the device queue is full). */
ssize_t tun_write(int fd, const struct pkt *p);

/* Read up to n packets; stops at the first -EAGAIN.  Returns the number
 * read (0 when none is waiting) or -errno when the first read failed
 * otherwise.  A later error ends the burst and is returned by the next
 * call. */
int tun_read_burst(int fd, struct pkt **pkts, unsigned n);

/* On a TUN opened with IFF_VNET_HDR: accept checksum and TCP segmentation
 * offload (TSO for IPv4 and IPv6), little-endian virtio header.  0 or -errno. */
int tun_enable_offload(int fd);

#endif
