/* tunnel/tun.c: TUN/TAP device open, carrier and packet I/O. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

#include "tunnel/tun.h"

int tun_open_flags(const char *name, bool tap, short extra_flags,
		   char ifname_out[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd, err;

	if (!name)
		name = "";
	if (strlen(name) >= IFNAMSIZ || strchr(name, '/'))
		return -EINVAL;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI | extra_flags;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		/* The kernel refuses (EINVAL, touching nothing) a name held by
		 * another driver or by a TUN/TAP of the other kind.  Not sysfs:
		 * its view need not be our network namespace's. */
		if (err == -EINVAL && name[0] && if_nametoindex(name) != 0)
			err = -EEXIST;
		close(fd);
		return err;
	}
	/* Not made persistent: a fresh device goes away with the last fd.  A
	 * persistent device that an admin created for us (ip tuntap add ...
	 * user X) stays as it was: its lifetime is the admin's choice. */
	if (ifname_out) {
		memset(ifname_out, 0, IFNAMSIZ);
		memcpy(ifname_out, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ - 1));
	}
	return fd;
}

int tun_open(const char *name, bool tap, char ifname_out[IFNAMSIZ])
{
	return tun_open_flags(name, tap, 0, ifname_out);
}

int tun_set_carrier(int fd, bool on)
{
#ifdef TUNSETCARRIER
	int v = on ? 1 : 0;

	if (ioctl(fd, TUNSETCARRIER, &v) < 0)
		return -errno;
	return 0;
#else
	(void)fd;
	(void)on;
	return -EOPNOTSUPP;
#endif
}

ssize_t tun_read(int fd, struct pkt *p)
{
	ssize_t n;

	pkt_reset(p);
	do {
		n = read(fd, p->buf + PKT_HEADROOM, PKT_MAX_PAYLOAD);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	p->len = (size_t)n;
	return n;
}

ssize_t tun_write(int fd, const struct pkt *p)
{
	ssize_t n;

	if (p->off > sizeof(p->buf) || p->len > sizeof(p->buf) - p->off)
		return -EINVAL;
	do {
		n = write(fd, p->buf + p->off, p->len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n;
}

int tun_read_burst(int fd, struct pkt **pkts, unsigned n)
{
	unsigned i;
	ssize_t r;

	for (i = 0; i < n; i++) {
		r = tun_read(fd, pkts[i]);
		if (r < 0) {
			if (r == -EAGAIN || r == -EWOULDBLOCK || i > 0)
				break;
			return (int)r;
		}
	}
	return (int)i;
}

int tun_enable_offload(int fd)
{
	/* The kernel then hands over TCP segments of up to 64 KB with a virtio
	 * header; tunnel/offload.c splits them, which saves a read per segment. */
	unsigned int le = 1;
	unsigned long offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

	if (ioctl(fd, TUNSETVNETLE, &le) < 0 && errno != EINVAL && errno != ENOTTY)
		return -errno;
	if (ioctl(fd, TUNSETOFFLOAD, offload) < 0)
		return -errno;
	return 0;
}
