/* tunnel/pkt.h: packet buffers with headroom, allocated once in a pool.
 *
 * A packet's bytes live at buf[off .. off+len).  Encapsulation prepends by
 * moving off back into the headroom, so every step works in place and no
 * packet is copied or allocated on the data path.
 */
#ifndef GRESEC_TUNNEL_PKT_H
#define GRESEC_TUNNEL_PKT_H

#include <stddef.h>
#include <stdint.h>

enum {
	PKT_HEADROOM = 128,   /* outer IP + UDP + data header + GRE options, with room to spare */
	PKT_TAILROOM = 64,    /* padding to 16 and the AEAD tag */
	PKT_MAX_PAYLOAD = 65535,
	PKT_BUF_SIZE = PKT_HEADROOM + PKT_MAX_PAYLOAD + PKT_TAILROOM,
};

struct pkt {
	size_t off;
	size_t len;
	size_t inner_len;     /* the inner packet's length, for counters after encapsulation */
	uint8_t buf[PKT_BUF_SIZE];
};

static inline uint8_t *pkt_data(struct pkt *p) { return p->buf + p->off; }
static inline void pkt_reset(struct pkt *p) { p->off = PKT_HEADROOM; p->len = 0; }
static inline size_t pkt_tailroom(const struct pkt *p) { return sizeof(p->buf) - p->off - p->len; }

/* Grow the packet at the front by n bytes; NULL when the headroom is gone. */
static inline uint8_t *pkt_push(struct pkt *p, size_t n)
{
	if (n > p->off)
		return NULL;
	p->off -= n;
	p->len += n;
	return p->buf + p->off;
}

/* Drop n bytes from the front; NULL when the packet is shorter. */
static inline uint8_t *pkt_pull(struct pkt *p, size_t n)
{
	if (n > p->len)
		return NULL;
	p->off += n;
	p->len -= n;
	return p->buf + p->off;
}

#endif
