# shellcheck shell=dash
# tests/vm/scenarios/serve.sh: sets nothing up; prints "VM: ready" and runs
# the host's vm_run commands until vm_stop (or ARG 1 seconds, 0 = no limit).
# For tests that do all their VM-side set-up with vm_run.
vm_ready
vm_serve "${1:-0}"
