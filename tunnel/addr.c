/* tunnel/addr.c: IPv4 and IPv6 addresses (see addr.h). */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tunnel/addr.h"

int ip_addr_parse(const char *s, struct ip_addr *out)
{
	struct ip_addr a;

	memset(&a, 0, sizeof(a));
	memset(out, 0, sizeof(*out));
	if (!s || !*s || strlen(s) >= INET6_ADDRSTRLEN)
		return -1;
	if (inet_pton(AF_INET, s, &a.u.v4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.u.v6) == 1)
		a.family = AF_INET6;
	else
		return -1;
	*out = a;
	return 0;
}

int ip_prefix_parse(const char *s, struct ip_prefix *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash, *p;
	struct ip_prefix pf;
	unsigned len = 0, max;
	size_t alen;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	slash = strchr(s, '/');
	if (!slash)
		return -1;
	alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(&pf, 0, sizeof(pf));
	if (ip_addr_parse(addr, &pf.addr) < 0)
		return -1;
	/* 1..3 plain digits: no sign, no blanks, nothing after them */
	p = slash + 1;
	if (*p == '\0' || strlen(p) > 3)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		len = len * 10 + (unsigned)(*p - '0');
	}
	max = pf.addr.family == AF_INET ? 32 : 128;
	if (len > max)
		return -1;
	pf.len = (uint8_t)len;
	*out = pf;
	return 0;
}

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return false;
	switch (a->family) {
	case AF_INET:
		return memcmp(&a->u.v4, &b->u.v4, sizeof(a->u.v4)) == 0;
	case AF_INET6:
		return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
	default:
		return true;
	}
}

const char *ip_addr_str(const struct ip_addr *a, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (a->family == AF_UNSPEC || !inet_ntop(a->family, &a->u, buf, (socklen_t)len))
		snprintf(buf, len, "%s", a->family == AF_UNSPEC ? "any" : "?");
	return buf;
}

const char *ip_prefix_str(const struct ip_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", ip_addr_str(&p->addr, a, sizeof(a)), p->len);
	return buf;
}
