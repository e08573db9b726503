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
passed=0 failed=0 skipped=0
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

# A suite that is not an automake test suite counts as one test.
run_one() {
	run "$@"
	case $rc in
	0) passed=$((passed + 1)) ;;
	77) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
}

# Add an automake test-suite.log's counts to the totals.
count_suite() {
	[ -f "$1" ] || { failed=$((failed + 1)); return; }
	p=$(sed -n 's/^# PASS: *//p' "$1"); f=$(sed -n 's/^# FAIL: *//p' "$1")
	e=$(sed -n 's/^# ERROR: *//p' "$1"); s=$(sed -n 's/^# SKIP: *//p' "$1")
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0})); skipped=$((skipped + ${s:-0}))
}

run make -C "$top/build" -j2 check
count_suite "$top/build/test-suite.log"

"$top/scripts/setup.sh" "$top/build-san" --enable-asan --enable-ubsan
# Unit and namespace tests again under the sanitizers; the routing-daemon
# suite (tests/e2e) and the tests against a VM's kernel (tests/vm, which
# would fetch the kernel package a second time) exercise the same daemon
# code paths and run once above, and the package test (tests/test_deb.sh)
# builds its own, unsanitized.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run make -C "$top/build-san" -j2 check E2E_TESTS= VM_TESTS= PACKAGE_TESTS=
count_suite "$top/build-san/test-suite.log"

if [ -x "$top/tests/fuzz/run.sh" ]; then
	run_one "$top/tests/fuzz/run.sh" "${FUZZ_SECONDS:-20}"
fi
if [ -x "$top/tests/valgrind.sh" ]; then
	run_one "$top/tests/valgrind.sh" "$top/build"
fi

if [ $status -eq 0 ]; then
	echo "gresec: all test suites passed"
else
	echo "gresec: some tests FAILED (see the test-suite.log files above)"
	# What failed, at the end where a CI log's tail shows it: each failing
	# test's "not ok" lines and the end of its log.
	for b in "$top/build" "$top/build-san"; do
		[ -f "$b/test-suite.log" ] || continue
		grep -E '^(FAIL|ERROR):' "$b/test-suite.log" | while read -r _ t; do
			echo "---- ${b##*/}/$t.log: not ok lines, then its last 25 lines"
			grep -E '^not ok' "$b/$t.log" 2>/dev/null | head -n 20 || true
			tail -n 25 "$b/$t.log" 2>/dev/null || true
		done
	done
	for f in "$top"/build/test-suite.log "$top"/build-san/test-suite.log; do
		[ -f "$f" ] && grep -E '^(FAIL|ERROR):' "$f" || true
	done
fi
echo "gresec: $passed passed, $failed failed, $skipped skipped"
exit $status
