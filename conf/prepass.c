/* conf/prepass.c: the pass over a configuration's text before libconfig
 * (see prepass.h). */
#include "conf/prepass.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* A growing string; after a failed allocation it only remembers that. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_xdigit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_word(char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '*'; }

/* The rest of a float from t[i] (its integer digits read already): the
 * fraction and the exponent, so that their digits are not taken for
 * integers. */
static size_t skip_fraction(const char *t, size_t i)
{
	while (is_digit(t[i]))
		i++;
	if (t[i] == '.')
		i++;
	while (is_digit(t[i]))
		i++;
	if (t[i] == 'e' || t[i] == 'E') {
		i++;
		if (t[i] == '-' || t[i] == '+')
			i++;
		while (is_digit(t[i]))
			i++;
	}
	return i;
}

/* The end of the token at t[i] that is copied as it is (anything but an
 * integer literal), counting the newlines it holds into *line. */
static size_t skip_token(const char *t, size_t i, int *line)
{
	char c = t[i];

	if (c == '\n') {
		(*line)++;
		return i + 1;
	}
	if (c == '#' || (c == '/' && t[i + 1] == '/')) {
		while (t[i] && t[i] != '\n')
			i++;
		return i;
	}
	if (c == '/' && t[i + 1] == '*') {
		for (i += 2; t[i] && !(t[i] == '*' && t[i + 1] == '/'); i++)
			if (t[i] == '\n')
				(*line)++;
		return t[i] ? i + 2 : i;
	}
	if (c == '"') {
		for (i++; t[i] && t[i] != '"'; i++) {
			if (t[i] == '\\' && t[i + 1])
				i++;
			if (t[i] == '\n')
				(*line)++;
		}
		return t[i] ? i + 1 : i;
	}
	if (is_alpha(c) || c == '*' || c == '_') {
		while (is_word(t[i]))
			i++;
		return i;
	}
	if (c == '.' && is_digit(t[i + 1]))
		return skip_fraction(t, i);
	return i + 1;
}

static bool is_hex_literal(const char *t, size_t i)
{
	return t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'X') && is_xdigit(t[i + 2]);
}

static bool is_decimal_literal(const char *t, size_t i)
{
	return is_digit(t[i]) || ((t[i] == '-' || t[i] == '+') && is_digit(t[i + 1]));
}

/* 0x...: more than 8 significant digits need L (a value above 64 bits is
 * clamped by libconfig itself, and shows as out of range). */
static size_t widen_hex(struct sbuf *b, const char *t, size_t start)
{
	size_t i = start + 2, sig = 0;

	while (t[i] == '0')
		i++;
	for (; is_xdigit(t[i]); i++)
		sig++;
	sb_put(b, t + start, i - start);
	if (sig > 8 && t[i] != 'L')
		sb_put(b, "L", 1);
	return i;
}

static void note_big(struct prepass_bigs *bigs, const char *s, size_t len, int line)
{
	struct prepass_big *n;

	if (bigs->n >= PREPASS_BIG_MAX)
		return;
	n = &bigs->big[bigs->n++];
	n->line = line;
	n->used = false;
	if (len >= sizeof(n->text)) {
		memcpy(n->text, s, sizeof(n->text) - 4);
		memcpy(n->text + sizeof(n->text) - 4, "...", 4);
	} else {
		memcpy(n->text, s, len);
		n->text[len] = '\0';
	}
}

/* A decimal integer (or the integer part of a float): kept within 32
 * bits, L appended within 64, clamped (and noted) beyond. */
static size_t widen_decimal(struct sbuf *b, const char *t, size_t start, int line,
			    struct prepass_bigs *bigs)
{
	bool neg = t[start] == '-', over = false;
	unsigned long long v = 0;
	size_t i = start;

	if (t[i] == '-' || t[i] == '+')
		i++;
	for (; is_digit(t[i]); i++) {
		unsigned d = (unsigned)(t[i] - '0');

		if (v > (ULLONG_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (t[i] == '.' || t[i] == 'e' || t[i] == 'E') {
		i = skip_fraction(t, i);
		sb_put(b, t + start, i - start);
	} else if (t[i] == 'L' || (!over && (neg ? v <= (unsigned long long)INT_MAX + 1 : v <= INT_MAX))) {
		sb_put(b, t + start, i - start);
	} else if (!over && (neg ? v <= (unsigned long long)LLONG_MAX + 1 : v <= LLONG_MAX)) {
		sb_put(b, t + start, i - start);
		sb_put(b, "L", 1);
	} else {
		const char *clamp = neg ? "-9223372036854775808L" : "9223372036854775807L";

		note_big(bigs, t + start, i - start, line);
		sb_put(b, clamp, strlen(clamp));
	}
	return i;
}

char *prepass_widen(const char *text, struct prepass_bigs *bigs)
{
	struct sbuf b = { 0 };
	size_t i = 0;
	int line = 1;

	bigs->n = 0;
	sb_put(&b, "", 0);
	while (text[i] && !b.oom) {
		size_t start = i;

		if (is_hex_literal(text, i)) {
			i = widen_hex(&b, text, i);
		} else if (is_decimal_literal(text, i)) {
			i = widen_decimal(&b, text, i, line, bigs);
		} else {
			i = skip_token(text, i, &line);
			sb_put(&b, text + start, i - start);
		}
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

int prepass_include_line(const char *text)
{
	const char *at = strstr(text, "@include");
	int line = 1;

	if (!at)
		return 0;
	for (const char *p = text; p < at; p++)
		if (*p == '\n')
			line++;
	return line;
}
