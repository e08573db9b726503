/* tests/unit/srcdir.h: a file of the source tree for a unit test, found
 * through top_srcdir, which make check puts in every test's environment
 * (AM_TESTS_ENVIRONMENT in Makefile.am): no path is compiled in, so a
 * moved or copied tree tests itself.  Run by hand from another directory,
 * set top_srcdir=PATH-TO-THE-TREE. */
#ifndef GRESEC_TESTS_UNIT_SRCDIR_H
#define GRESEC_TESTS_UNIT_SRCDIR_H

#include <stdio.h>
#include <stdlib.h>

/* top_srcdir + "/" + rel into buf (rel under the tree, e.g.
 * "tests/vectors"); "." when top_srcdir is not set. */
static inline const char *srcdir_path(char *buf, size_t len, const char *rel)
{
	const char *top = getenv("top_srcdir");
	int n = snprintf(buf, len, "%s/%s", top && *top ? top : ".", rel);

	return n > 0 && (size_t)n < len ? buf : NULL;
}

#endif
