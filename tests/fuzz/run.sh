#!/bin/sh
# tests/fuzz/run.sh [SECONDS] [TARGET...]: build every libFuzzer target with
# clang (ASan + UBSan + libFuzzer, from the library sources, not from the
# gcc-built libgresec.a), fuzz each for SECONDS (default 20) starting from
# its seed corpus, then replay the whole seed corpus as a regression test.
#
# Prints one line per target ("fuzz_x: N execs in S s, M corpus files
# replayed, no finding") and exits 1 if any target crashed, leaked, timed
# out or failed to build; 77 if no clang with libFuzzer is available.
# Binaries, the growing work corpora and crash artifacts go to
# $FUZZ_BUILD_DIR (default: build-fuzz/ at the top of the source tree),
# never into tests/fuzz.  Environment: FUZZ_CC (clang), FUZZ_BUILD_DIR,
# FUZZ_CFLAGS (extra compiler flags).  Targets run one after the other.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
fuzzdir="$top/tests/fuzz"
secs=${1:-20}
[ $# -gt 0 ] && shift
CC=${FUZZ_CC:-clang}
out=${FUZZ_BUILD_DIR:-$top/build-fuzz}
# Every tests/fuzz/fuzz_<name>.c is a target; sources() says what it links.
ALL_TARGETS=$(cd "$fuzzdir" && for f in fuzz_*.c; do f=${f#fuzz_}; echo "${f%.c}"; done)
targets=${*:-$ALL_TARGETS}

case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]   (targets: $ALL_TARGETS)" >&2; exit 2 ;;
esac

# Sources and libraries of each target: the modules it exercises, compiled
# with the fuzzer's instrumentation.
sources()
{
	case $1 in
	gre)       echo "tunnel/gre.c tunnel/inet.c" ;;
	replay)    echo "crypto/replay.c" ;;
	config)    echo "conf/conf.c conf/report.c conf/getters.c conf/settings.c conf/validate.c \
conf/prepass.c tunnel/addr.c" ;;
	prepass)   echo "conf/prepass.c" ;;
	ctl)       echo "daemon/ctl_proto.c" ;;
	offload)   echo "tunnel/offload.c tunnel/inet.c" ;;
	gro)       echo "tunnel/gro.c tunnel/offload.c tunnel/inet.c" ;;
	inner)     echo "tunnel/inner.c tunnel/inet.c" ;;
	# The real receive path and everything it calls, with the port's
	# tables (daemon/secure_port.c: its socket I/O is wrapped) and the
	# daemon's index table; the harness stubs only I/O and what
	# daemon/tunnel.c and daemon/daemon.c own (see fuzz_secure_rx.c).
	secure_rx) echo "daemon/secure_rx.c daemon/peer.c daemon/secure_tx.c daemon/session.c \
daemon/secure_port.c daemon/hashtab.c daemon/index.c daemon/secmem.c \
daemon/log.c crypto/cookie.c crypto/handshake.c crypto/hash.c crypto/noise.c crypto/keypair.c \
crypto/keys.c crypto/replay.c crypto/ratelimiter.c tunnel/inner.c tunnel/inet.c tunnel/gre.c \
tunnel/sock.c" ;;
	*)         return 1 ;;
	esac
}

libs()
{
	case $1 in
	config)    pkg-config --libs libconfig libsodium ;;
	# libev has no pkg-config file on Debian 12.  --wrap: the harness
	# replaces the never-reached UDP GSO send of tunnel/sock.c (linked
	# for its address helpers), and captures what daemon/secure_port.c
	# would send on its sockets.
	secure_rx) echo "$(pkg-config --libs libsodium libb2) -lev -Wl,--wrap=sock_send_gso \
-Wl,--wrap=secure_port_send -Wl,--wrap=secure_port_fd" ;;
	esac
}

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: SKIP: $CC not found (set FUZZ_CC to a clang with libFuzzer)"
	exit 77
fi
mkdir -p "$out/work" "$out/artifacts" "$out/logs"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
	> "$out/probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$out/probe.c" -o "$out/probe" 2>"$out/logs/probe.log"; then
	echo "fuzz: SKIP: $CC cannot build libFuzzer targets (see $out/logs/probe.log)"
	exit 77
fi
# Only daemon/ sources include the autoconf header; they need nothing from it.
[ -f "$out/config.h" ] || printf '/* fuzz build: nothing configured */\n' > "$out/config.h"

# The literal quotes make SYSCONFDIR a C string; they are meant to survive.
# shellcheck disable=SC2089
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
-fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
-DSYSCONFDIR=\"/etc\" -DRUNSTATEDIR=\"/run\" ${FUZZ_CFLAGS:-}"
INCS="-I$out -I$top $(pkg-config --cflags libsodium libb2 libconfig)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# libconfig 1.5 leaks a token on some syntax errors (tests/fuzz/lsan-libconfig.supp).
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$fuzzdir/lsan-libconfig.supp}"

status=0
for t in $targets; do
	bin="$out/fuzz_$t"
	log="$out/logs/fuzz_$t.log"
	srcs=$(sources "$t") || {
		echo "fuzz_$t: no source list in tests/fuzz/run.sh (add one to sources())"
		status=1
		continue
	}
	# shellcheck disable=SC2086,SC2046,SC2090  # the flag lists are split on purpose
	if ! (cd "$top" && $CC $CFLAGS $INCS "tests/fuzz/fuzz_$t.c" $srcs $(libs "$t") -o "$bin") \
		>"$out/logs/fuzz_$t.build.log" 2>&1; then
		echo "fuzz_$t: BUILD FAILED"
		cat "$out/logs/fuzz_$t.build.log"
		status=1
		continue
	fi
	seeds="$fuzzdir/corpus/$t"
	mkdir -p "$out/work/$t" "$out/empty"
	[ -d "$seeds" ] || seeds="$out/empty"

	# 1. Fuzz for a while; new inputs go to the work corpus, the seeds are
	#    read only.
	rc=0
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/fuzz_$t-" "$out/work/$t" "$seeds" \
		>"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ $rc -ne 0 ]; then
		echo "fuzz_$t: FINDING after ${execs:-?} execs (exit $rc)"
		grep -E 'ERROR|SUMMARY|invariant|runtime error|Test unit written' "$log" | head -n 20
		echo "  full log: $log"
		status=1
		continue
	fi

	# 2. Replay every seed (and earlier regression input) one by one.
	nfiles=$(find "$seeds" -type f | wc -l)
	if [ "$nfiles" -gt 0 ]; then
		rc=0
		find "$seeds" -type f -print0 | xargs -0 "$bin" -runs=1 \
			>"$out/logs/fuzz_$t.replay.log" 2>&1 || rc=$?
		if [ $rc -ne 0 ]; then
			echo "fuzz_$t: corpus replay FAILED (see $out/logs/fuzz_$t.replay.log)"
			grep -E 'Running:|ERROR|SUMMARY|invariant|runtime error' \
				"$out/logs/fuzz_$t.replay.log" | tail -n 10
			status=1
			continue
		fi
	fi
	echo "fuzz_$t: ${execs:-?} execs in $secs s, $nfiles corpus files replayed, no finding"
done
exit $status
