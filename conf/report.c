/* conf/report.c: the problems a configuration has, as the operator reads
 * them: "FILE:LINE: tunnel \"NAME\": SETTING: ...", one message each, held
 * while the file is checked and reported in the order of its lines. */
#include "conf/loader.h"
#include "tunnel/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void conf_default_report(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

void conf_problem(struct loader *L, int line, const char *fmt, ...)
{
	char body[1024];
	char msg[PATH_MAX + sizeof(body) + 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	L->n_errors++;
	if (line > 0)
		snprintf(msg, sizeof(msg), "%s:%d: %s", L->name, line, body);
	else
		snprintf(msg, sizeof(msg), "%s: %s", L->name, body);
	if (L->hold) {
		if (L->n_held == L->cap_held) {
			size_t cap = L->cap_held ? 2 * L->cap_held : 16;
			struct held_problem *grown = realloc(L->held, cap * sizeof(*grown));

			if (!grown)
				goto now;
			L->held = grown;
			L->cap_held = cap;
		}
		L->held[L->n_held].line = line;
		L->held[L->n_held].msg = strdup(msg);
		if (L->held[L->n_held].msg) {
			L->n_held++;
			return;
		}
	}
now:
	L->report(L->report_ctx, msg);
}

static int held_cmp(const void *a, const void *b)
{
	const struct held_problem *x = a, *y = b;

	/* By line; problems of the file as a whole (line 0) first. */
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Report what was held, in the file's order; problems of one line keep
 * the order they were found in (the sort is made stable by hand). */
void conf_report_held(struct loader *L)
{
	size_t i, j;

	/* Insertion sort: stable, and the list is short and nearly sorted. */
	for (i = 1; i < L->n_held; i++) {
		struct held_problem h = L->held[i];

		for (j = i; j > 0 && held_cmp(&L->held[j - 1], &h) > 0; j--)
			L->held[j] = L->held[j - 1];
		L->held[j] = h;
	}
	for (i = 0; i < L->n_held; i++) {
		L->report(L->report_ctx, L->held[i].msg);
		free(L->held[i].msg);
	}
	free(L->held);
	L->held = NULL;
	L->n_held = L->cap_held = 0;
	L->hold = false;
}

const char *conf_quote(struct qbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	b->s[o++] = '"';
	for (i = 0; s[i] && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			b->s[o++] = '\\';
			b->s[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			b->s[o++] = '\\';
			b->s[o++] = 'x';
			b->s[o++] = hex[c >> 4];
			b->s[o++] = hex[c & 15];
		} else {
			b->s[o++] = (char)c;
		}
	}
	b->s[o++] = '"';
	if (s[i]) {
		memcpy(b->s + o, "...", 3);
		o += 3;
	}
	b->s[o] = '\0';
	return b->s;
}
