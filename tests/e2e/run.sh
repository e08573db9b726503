#!/bin/bash
# tests/e2e/run.sh: run every e2e scenario group and print a summary table
# (scenario, mode, result, convergence seconds, note).
#
#   sudo tests/e2e/run.sh                     # from the source tree, build in place
#   sudo top_builddir=/path/to/build tests/e2e/run.sh [test_ospf.sh ...]
#
# Each group also runs alone (and under `make check`); exit 77 = skipped.
# Exit status: 0 when every group passed or was skipped, 1 otherwise.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

dir=$top_srcdir/tests/e2e
groups=("$@")
[ ${#groups[@]} -gt 0 ] ||
	groups=(test_ospf.sh test_rip_bgp_eigrp.sh test_isis.sh test_multicast.sh test_liveness.sh test_hub.sh)

E2E_RESULTS=$(mktemp /tmp/gresec-e2e-results.XXXXXX) || exit 99
export E2E_RESULTS
trap 'rm -f "$E2E_RESULTS"' EXIT
logdir=${E2E_LOGDIR:-$(mktemp -d /tmp/gresec-e2e-logs.XXXXXX)}

status=0
summary=()
start=$SECONDS
for g in "${groups[@]}"; do
	g=$(basename "$g")
	t0=$SECONDS
	echo "### $g (log: $logdir/${g%.sh}.log)"
	bash "$dir/$g" >"$logdir/${g%.sh}.log" 2>&1
	rc=$?
	case $rc in
	0) res=PASS ;;
	77) res="SKIP ($(grep -m1 '^SKIP' "$logdir/${g%.sh}.log" | cut -c7-))" ;;
	*) res="FAIL (exit $rc)"; status=1
	   grep '^not ok' "$logdir/${g%.sh}.log" | sed 's/^/    /' ;;
	esac
	summary+=("$(printf '%-24s %-40s %4ss' "$g" "$res" $((SECONDS - t0)))")
done

echo
printf '%-44s %-42s %-6s %8s  %s\n' scenario mode result "conv (s)" note
printf '%s\n' "$(printf '%.0s-' {1..120})"
while IFS='|' read -r name mode res secs note; do
	printf '%-44s %-42s %-6s %8s  %s\n' "$name" "$mode" "$res" "$secs" "$note"
done <"$E2E_RESULTS"
echo
printf '%s\n' "${summary[@]}"
echo "total $((SECONDS - start)) s; logs in $logdir"
exit $status
