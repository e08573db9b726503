/* conf/prepass.h: the pass over a configuration's text before libconfig
 * parses it.
 *
 * libconfig 1.5 truncates an integer literal outside 32 bits unless it
 * carries the L suffix, and wraps one outside 64 bits silently.  The pass
 * appends L to the first kind and replaces the second with the nearest
 * 64-bit value (which every range check then refuses), remembering what
 * was written so the error can quote it.  Comments and strings are copied
 * untouched and the line structure never changes, so libconfig's line
 * numbers stay the file's.  Pure: no I/O, no logging.
 */
#ifndef GRESEC_CONF_PREPASS_H
#define GRESEC_CONF_PREPASS_H

#include <stdbool.h>
#include <stddef.h>

enum { PREPASS_BIG_MAX = 16, PREPASS_BIG_TEXT = 48 };

/* A literal outside 64 bits as written (shortened with "..."), by line. */
struct prepass_big {
	int line;
	bool used;                       /* quoted in a message already */
	char text[PREPASS_BIG_TEXT];
};

struct prepass_bigs {
	struct prepass_big big[PREPASS_BIG_MAX];   /* the first ones only */
	size_t n;
};

/* The widened copy of text (malloc'd, NUL-terminated), with the clamped
 * literals noted in bigs; NULL when out of memory. */
char *prepass_widen(const char *text, struct prepass_bigs *bigs);

/* The line of the first "@include" in text (libconfig would read another
 * file; gresec keeps a configuration in one), or 0 when there is none. */
int prepass_include_line(const char *text);

#endif
