#!/bin/sh
# bench/micro.sh: build bench/micro.c with -O2 against the sources it times
# and run it.  Prints numbers, never fails the build.
#   MICRO_TIME=0.5   seconds per measurement
#   CC=gcc CFLAGS=-O2 as usual; MICRO_BIN=path to keep the binary elsewhere
top=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-gcc}
CFLAGS=${CFLAGS:--O2}
bin=${MICRO_BIN:-${TMPDIR:-/tmp}/gresec-micro.$$}

if ! $CC -std=gnu11 $CFLAGS -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -I"$top" -o "$bin" "$top/bench/micro.c" \
	"$top/crypto/keypair.c" "$top/crypto/replay.c" "$top/tunnel/gre.c" \
	"$top/tunnel/inet.c" $(pkg-config --cflags --libs libsodium 2>/dev/null || echo -lsodium)
then
	echo "micro: build failed, nothing measured"
	exit 0
fi
"$bin"
[ -n "$MICRO_BIN" ] || rm -f "$bin"
exit 0
