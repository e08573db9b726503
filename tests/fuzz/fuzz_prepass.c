/* tests/fuzz/fuzz_prepass.c: libFuzzer target for the pass over a
 * configuration's text before libconfig (conf/prepass.c).
 *
 * The input is a configuration file's text (up to its first NUL).
 * Invariants:
 *   - the copy keeps the line structure: as many newlines, in the same
 *     order relative to what surrounds them (line numbers stay the file's);
 *   - without a literal outside 64 bits it only inserts L suffixes:
 *     with every L taken out of both, the copy is the input;
 *   - a literal outside 64 bits is replaced by a clamp with L, which
 *     every range check refuses;
 *   - the pass runs on its own output too (not a fixed point: an L put
 *     before a '-' makes one word of them for the next pass, in text that
 *     is not valid libconfig anyway);
 *   - every note names a line of the input and holds a NUL-terminated text
 *     that is a piece of the input (or its start and "...").
 * Build and run: tests/fuzz/run.sh (compiles with clang -fsanitize=fuzzer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/prepass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* s without its 'L' characters, in place. */
static void strip_l(char *s)
{
	char *w = s;

	for (; *s; s++)
		if (*s != 'L')
			*w++ = *s;
	*w = '\0';
}

static void check_note(const struct prepass_big *b, const char *text, size_t lines)
{
	size_t len = strnlen(b->text, sizeof(b->text));
	char piece[PREPASS_BIG_TEXT];

	check(len < sizeof(b->text));
	check(b->line >= 1 && (size_t)b->line <= lines + 1);
	check(len > 0);
	memcpy(piece, b->text, len + 1);
	if (len >= 3 && strcmp(piece + len - 3, "...") == 0)
		piece[len - 3] = '\0';
	check(strstr(text, piece) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prepass_bigs bigs, again_bigs;
	char *text, *wide, *again;
	size_t lines;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	lines = count_lines(text);
	check((prepass_include_line(text) > 0) == (strstr(text, "@include") != NULL));

	wide = prepass_widen(text, &bigs);
	check(wide != NULL);
	check(count_lines(wide) == lines);
	check(bigs.n <= PREPASS_BIG_MAX);
	for (size_t i = 0; i < bigs.n; i++)
		check_note(&bigs.big[i], text, lines);
	if (bigs.n > 0)
		check(strstr(wide, "9223372036854775807L") || strstr(wide, "-9223372036854775808L"));
	again = prepass_widen(wide, &again_bigs);
	check(again != NULL);
	check(count_lines(again) == lines);
	if (bigs.n == 0) {
		strip_l(wide);
		strip_l(text);
		check(strcmp(wide, text) == 0);
	}

	free(again);
	free(wide);
	free(text);
	return 0;
}
