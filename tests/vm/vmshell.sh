#!/bin/bash
# tests/vm/vmshell.sh: boot the test VM by hand and type commands into it
# (for debugging; not a test).  As root, from the source tree:
#
#   top_builddir=build tests/vm/vmshell.sh [SCENARIO [ARG...]]
#
# SCENARIO defaults to "serve" (nothing set up).  The VM's eth0 is on a tap
# in a namespace of its own (10.0.0.2 in the VM, 10.0.0.1 in the namespace);
# this prints the namespace's name for `ip netns exec NS ...` in another
# terminal.  Each line typed runs in the VM through vm_run (with the
# scenario's functions); "!CMD" runs CMD in the namespace; an empty line or
# end of input stops the VM.  Everything is removed at the end; KEEP_TMP=1
# keeps the console log.  Environment as for tests/vm/lib.sh (VM_ENV_FILE:
# lines NAME=VALUE passed with vm_env).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"
. "$top_srcdir/tests/vm/lib.sh"

require_root_netns
require_vm ip_gre wireguard
vm_setup_test
H=$(ns_name h)
vm_ns_add "$H"
if [ -n "${VM_ENV_FILE:-}" ]; then
	while IFS='=' read -r name value; do
		[ -n "$name" ] && vm_env "$name" "$value"
	done <"$VM_ENV_FILE"
fi
vm_start "$H" "${1:-serve}" "${@:2}"
vm_wait_ready "$VM_BOOT_TIMEOUT" || fail "the VM did not get ready"
echo "# namespace $H; console $VM_LOG; empty line to stop"
while read -r -e -p "vm> " line && [ -n "$line" ]; do
	case $line in
	!*) ip netns exec "$H" bash -c "${line#!}" ;;
	*) vm_run "$line"; echo "# status $?" ;;
	esac
done
vm_stop 60
vm_results
