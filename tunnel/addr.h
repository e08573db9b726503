/* tunnel/addr.h: IPv4 and IPv6 addresses and prefixes, and the small
 * helpers to parse, compare and print them.  Below conf/ and tunnel/ both:
 * the configuration holds these types and the tunnel modules take them,
 * so neither depends on the other for them. */
#ifndef GRESEC_TUNNEL_ADDR_H
#define GRESEC_TUNNEL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* An IPv4 or IPv6 address; family is AF_INET, AF_INET6 or AF_UNSPEC (unset). */
struct ip_addr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	} u;
};

struct ip_prefix {
	struct ip_addr addr;
	uint8_t len;
};

/* "192.0.2.1" or "2001:db8::1" into out.  0, or -1 (out zeroed). */
int ip_addr_parse(const char *s, struct ip_addr *out);
/* "ADDRESS/LEN" (LEN 0-32 or 0-128, plain digits) into out.  0, or -1 (out zeroed). */
int ip_prefix_parse(const char *s, struct ip_prefix *out);
/* Same family and address (two AF_UNSPEC are equal). */
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
/* The address as text into buf ("any" for AF_UNSPEC); returns buf. */
const char *ip_addr_str(const struct ip_addr *a, char *buf, size_t len);
/* "ADDRESS/LEN" into buf; returns buf. */
const char *ip_prefix_str(const struct ip_prefix *p, char *buf, size_t len);

#endif
