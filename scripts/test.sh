#!/bin/sh
# Set up and run every test of gresec: unit tests, namespace integration
# tests, the same again under AddressSanitizer + UndefinedBehaviorSanitizer,
# bounded fuzzing runs with corpus replay, and a valgrind scenario.
# Needs root for the namespace tests (they skip with a message otherwise).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
export LC_ALL=C

"$top/scripts/setup.sh" "$top/build"

status=0
run() {
	echo "==== $*"
	rc=0
	"$@" || rc=$?
	case $rc in
	0) ;;
	77) echo "==== skipped: $*" ;;
	*) status=1 ;;
	esac
}

summary() {
	# Print the automake test-suite summary of a build directory.
	sed -n '/^# TOTAL/,/^# ERROR/p' "$1/test-suite.log" 2>/dev/null || true
}

run make -C "$top/build" -j2 check
summary "$top/build"

"$top/scripts/setup.sh" "$top/build-san" --enable-asan --enable-ubsan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run make -C "$top/build-san" -j2 check
summary "$top/build-san"

if [ -x "$top/tests/fuzz/run.sh" ]; then
	run "$top/tests/fuzz/run.sh" "${FUZZ_SECONDS:-20}"
fi
if [ -x "$top/tests/valgrind.sh" ]; then
	run "$top/tests/valgrind.sh" "$top/build"
fi

if [ $status -eq 0 ]; then
	echo "gresec: all test suites passed"
else
	echo "gresec: some tests FAILED (see the test-suite.log files above)"
	for f in "$top"/build/test-suite.log "$top"/build-san/test-suite.log; do
		[ -f "$f" ] && grep -E '^(FAIL|ERROR):' "$f" || true
	done
fi
exit $status
