/* daemon/plain.h: plain mode, GRE over IP protocol 47 (defined in
 * daemon/plain.c): the raw GRE sockets shared by tunnels, the user data
 * path's send and receive, the kernel path's keepalive socket, and
 * Cisco-compatible GRE keepalives. */
#ifndef GRESEC_DAEMON_PLAIN_H
#define GRESEC_DAEMON_PLAIN_H

#include <stdbool.h>
#include <stdint.h>

struct gresecd;
struct gre_socket;
struct ip_addr;
struct pkt;
struct tunnel;

/* plain_start: the user path (the shared raw socket); plain_kernel_start:
 * the kernel path (keepalives only). */
int plain_start(struct tunnel *t);
int plain_kernel_start(struct tunnel *t);
void plain_stop(struct tunnel *t);
int plain_send(struct tunnel *t, struct pkt *p);
void plain_transmit(struct tunnel *t, struct pkt **pkts, unsigned n);
/* Cisco-compatible GRE keepalives: (re)arm the timer after a config change,
 * note our keepalive coming back, and reflect the peer's. */
void plain_keepalive_reset(struct tunnel *t);
void plain_keepalive_reply(struct tunnel *t);
bool plain_reflect_keepalive(struct tunnel *t, struct pkt *p, uint16_t proto);

/* remote NULL: the shared socket of the user path; else the kernel path's
 * keepalive socket to remote (IPv4). */
struct gre_socket *gre_socket_get(struct gresecd *d, int family, const struct ip_addr *local,
				  const char *device, const struct ip_addr *remote, int *err);
void gre_socket_put(struct gresecd *d, struct gre_socket *gs);

#endif
