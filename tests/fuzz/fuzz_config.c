/* tests/fuzz/fuzz_config.c: libFuzzer target for the configuration parser.
 *
 * The input is a configuration text; it goes through conf_load_string
 * (pre-pass, libconfig, per-setting checks, cross-field rules) and, when
 * accepted, conf_free.  Build, e.g.:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -DSYSCONFDIR='"/etc"' \
 *     tests/fuzz/fuzz_config.c conf/*.c tunnel/addr.c -lconfig -lsodium -o fuzz_config
 *   LSAN_OPTIONS=suppressions=tests/fuzz/lsan-libconfig.supp \
 *     ./fuzz_config -max_total_time=60 corpus/ conf/examples/
 * (libconfig 1.5 itself leaks a token on some syntax errors; see the .supp.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void discard(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gresec_config cfg;
	char *text = malloc(size + 1);
	size_t i;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (conf_load_string("fuzz.conf", text, &cfg, discard, NULL) == 0) {
		/* an accepted config must be self-consistent */
		for (i = 0; i < cfg.n_tunnels; i++) {
			if (!conf_tunnel_equal(&cfg.tunnels[i], &cfg.tunnels[i]) ||
			    cfg.tunnels[i].mtu < 68 || cfg.tunnels[i].name[0] == '\0')
				abort();
		}
		conf_free(&cfg);
	} else if (cfg.tunnels || cfg.n_tunnels) {
		abort();        /* failure must leave *out zeroed */
	}
	free(text);
	return 0;
}
