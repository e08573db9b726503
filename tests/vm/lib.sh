# shellcheck shell=bash disable=SC2154,SC2034
# (SC2154: top_srcdir, TMPD... come from tests/netns/lib.sh; SC2034: VM_* are set for the tests)
# tests/vm/lib.sh: run Debian's own Linux kernel in qemu, linked to a test
# namespace by a tap device, so tests can talk to the real kernel's ip_gre,
# gretap, ip6_gre and wireguard (bash; source it after tests/netns/lib.sh).
#
# A test looks like this (tests/vm/test_vm_wg_gre.sh is a full one;
# tests/vm/README.md has the outline of a gresec secure-mode test against
# the kernel's WireGuard with scenarios/wg_gre.sh as the far end):
#
#   . "$top_srcdir/tests/netns/lib.sh"
#   . "$top_srcdir/tests/vm/lib.sh"
#   require_root_netns
#   require_vm ip_gre wireguard          # exit 77 with the reason if no VM
#   vm_setup_test                        # setup_test + the VM's cleanup
#   H=$(ns_name h); vm_ns_add "$H"
#   vm_env WG_KEY "$key"                 # variables for the scenario
#   vm_start "$H" wg_gre                 # tests/vm/scenarios/wg_gre.sh
#   vm_wait_ready "$VM_BOOT_TIMEOUT" || fail "VM not ready"
#   check "ping the VM" pings "$H" "$UL4_VM"
#   check "VM pings us" vm_run_quiet ping -c 3 -W 2 "$UL4_HOST"  # our result
#   vm_run "vm_check 'VM pings us' ping -c 3 -W 2 $UL4_HOST"     # the VM's
#   hs=$(vm_run wg_handshake)            # output of a command (or a function
#                                        # of the scenario)
#   vm_stop 60                           # the scenario ends, the VM powers off
#   vm_results                           # VM lines not seen yet, "VM: done"
#   finish
#
# Requirements and set-up
#   require_vm [MODULE...]    skip (exit 77, reason on stdout) unless qemu,
#                             cpio, busybox-static, iproute2, wg, dash, a tap
#                             in a namespace and Debian's kernel package all
#                             work, the kernel has every MODULE (module or
#                             built in), and a probe boot succeeds (KVM when
#                             it works, else TCG).  Fetches and caches the
#                             kernel and the initramfs base (below).
#   vm_setup_test             setup_test, plus the VM's own exit actions in
#                             the same EXIT trap (call instead of setup_test)
#   vm_at_exit CMD            run CMD (eval'ed) at exit, before the namespaces
#                             go (e.g. remove a wireguard-go socket)
#   vm_ns_add NS              create namespace NS (deleted at exit), lo up
#
# Running a VM (one per test run)
#   vm_env NAME VALUE         set shell variable NAME for the VM's /init and
#                             scenario (before vm_start)
#   vm_add_file SRC DEST [MODE]   copy a host file into the VM at DEST
#   vm_add_binary PATH [DEST]     a host program and the shared libraries
#                             ldd lists (e.g. "$GRESECD")
#   vm_start NS SCENARIO [ARG...] boot the VM with its eth0 on a tap (VM_TAP,
#                             default vmtap0) in NS: host side UL4_HOST/UL6_HOST
#                             (10.0.0.1/24, fd00::1/64), VM side UL4_VM/UL6_VM
#                             (10.0.0.2/24, fd00::2/64, nodad).  SCENARIO is a
#                             file (or a name in tests/vm/scenarios/) sourced
#                             by the VM's /init with ARGs as "$@" and
#                             vmlib.sh's functions.  Returns at once; qemu
#                             runs at most VM_TIMEOUT s (default 300).
#                             Sets VM_LOG (serial console), VM_PID.
#   vm_wait_ready [TIMEOUT]   wait for "VM: ready" (default VM_BOOT_TIMEOUT,
#                             120 s); prints the boot time; 1 on failure
#   vm_wait_line ERE [TIMEOUT]    wait for a console line matching ERE
#                             (carriage returns stripped); 1 on timeout or
#                             when the VM has stopped
#   vm_run [-t SECONDS] CMD...    run CMD in the VM (a shell command line,
#                             eval'ed inside the scenario, which must be in
#                             vm_serve); prints its output, returns its
#                             status (124: no answer within SECONDS, default
#                             VM_RUN_TIMEOUT, 60).  VM result lines that CMD
#                             printed (vm_run "vm_check 'DESC' CMD") are
#                             turned into ours right away (vm_results)
#   vm_run_quiet CMD...       vm_run, output shown only when CMD fails; for
#                             check "DESC" vm_run_quiet CMD...
#   vm_stop [TIMEOUT]         end vm_serve ("quit"), wait for the VM to power
#                             off (default 60 s), kill it otherwise; one
#                             "not ok" line if it did not end cleanly
#   vm_wait_exit [TIMEOUT]    wait for the VM to power off by itself
#   vm_results                each new "VM: ok - X" / "VM: not ok - X"
#                             console line becomes "ok - VM: X" / "not ok -
#                             VM: X" here; after the VM has ended, also
#                             checks its "VM: done" line (status 0, result
#                             count)
#   vm_running                the VM's qemu is still running
#   vm_log_tail [N]           last N lines of the console, "# "-prefixed
#
# Settings for the VM, with vm_env: anything the scenario reads, and
# VM_DMESG (tail: the last 40 lines of dmesg at the end, all, 0), VM_WATCHDOG
# (seconds until the VM powers itself off, default VM_TIMEOUT - 10; 0: none).
#
# Settings (environment): VM_CACHE (default $top_builddir/tests/vm/cache),
# VM_KERNEL_PKG (default: what linux-image-amd64 depends on), VM_ACCEL (kvm
# or tcg: no probe), VM_MEM (MB, 256), VM_TIMEOUT, VM_BOOT_TIMEOUT,
# VM_RUN_TIMEOUT, VM_APPEND (more kernel command line), VM_EXTRA_MODULES
# (more modules in the initramfs base), VM_TAP.

: "${VM_CACHE:=$top_builddir/tests/vm/cache}"
VM_DIR="$top_srcdir/tests/vm"
VM_MEM=${VM_MEM:-256}
VM_TIMEOUT=${VM_TIMEOUT:-300}
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-120}
VM_RUN_TIMEOUT=${VM_RUN_TIMEOUT:-60}
VM_TAP=${VM_TAP:-vmtap0}
VM_APPEND=${VM_APPEND:-}
# In every initramfs base; a test's require_vm modules are added.
VM_BASE_MODULES="virtio_pci virtio_net virtio_rng tun ip_gre ip6_gre wireguard bridge veth dummy"
VM_EXTRA_MODULES=${VM_EXTRA_MODULES:-}
# Host programs copied into the VM, with their libraries.  busybox's own
# ip cannot make gretap or wireguard links, and its ping has no -M.
VM_PROGRAMS="/usr/sbin/ip /usr/bin/wg /usr/bin/dash /usr/bin/ping"
UL4_HOST=10.0.0.1 UL4_VM=10.0.0.2 UL6_HOST=fd00::1 UL6_VM=fd00::2
VM_MAC=52:54:00:00:00:02

VM_WHY=""            # why the last vm_* preparation step failed
VM_KVER=""           # kernel version, e.g. 6.1.0-57-amd64
VM_KPKG=""           # its Debian package
VM_KROOT=""          # the extracted package
VM_KERNEL=""         # the kernel image qemu boots
VM_BASE_CPIO=""      # the cached initramfs base
VM_QEMU_ACCEL=()     # qemu options for the accelerator that works
VM_ACCEL_NAME=""
VM_PID=""
VM_LOG=""
VM_CTL=""            # control channel: $VM_CTL.in / $VM_CTL.out (FIFOs)
VM_CTL_LOG=""
VM_CTL_FD=""
VM_RESULTS_SEEN=0
VM_STARTED_AT=0
VM_ENV_LINES=()
VM_FILES=()          # "SRC|DEST|MODE"
VM_AT_EXIT=()
VM_REQUIRED_MODULES=()
VM_DONE_CHECKED=""
VM_OUT_FD=""
# Set for the test: VM_NS (the VM's namespace), VM_READY_SECONDS (qemu
# start to "VM: ready"), VM_EXIT_STATUS (qemu's, after vm_wait_exit/vm_stop).
VM_NS="" VM_READY_SECONDS="" VM_EXIT_STATUS=""

vm_msg() { echo "# vm: $*"; }

# ---- the kernel: Debian's package, downloaded and unpacked in the cache ----

# _vm_lock / _vm_unlock: one process at a time fills the cache.
_vm_lock()
{
	mkdir -p "$VM_CACHE" || { VM_WHY="cannot create the cache $VM_CACHE"; return 1; }
	exec {VM_LOCK_FD}>"$VM_CACHE/.lock" || { VM_WHY="cannot open $VM_CACHE/.lock"; return 1; }
	flock -w 900 "$VM_LOCK_FD" || {
		VM_WHY="cache $VM_CACHE locked for 900 s by another run"
		_vm_unlock
		return 1
	}
}

_vm_unlock()
{
	[ -n "${VM_LOCK_FD:-}" ] && exec {VM_LOCK_FD}>&-
	VM_LOCK_FD=""
}

# _vm_kernel_pkg: the linux-image-*-amd64 package to use, on stdout.
_vm_kernel_pkg()
{
	local pkg dir

	if [ -n "${VM_KERNEL_PKG:-}" ]; then
		echo "$VM_KERNEL_PKG"
		return 0
	fi
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ <>]*-amd64\)$/\1/p' | head -n 1)
	if [ -n "$pkg" ]; then
		echo "$pkg"
		return 0
	fi
	# No apt lists (offline?): the newest kernel already in the cache.
	dir=$(for dir in "$VM_CACHE"/kernel/linux-image-*/.complete; do
		[ -e "$dir" ] && basename "$(dirname "$dir")"
	done | sort -V -r | head -n 1)
	[ -n "$dir" ] && echo "$dir"
}

# _vm_download PKG DIR: apt-get download PKG into DIR (once more after an
# apt-get update when the lists are stale).
_vm_download()
{
	local pkg=$1 dir=$2

	(cd "$dir" && timeout 600 apt-get download -q -o APT::Sandbox::User=root "$pkg") \
		>"$dir/download.log" 2>&1 && return 0
	[ "$(id -u)" = 0 ] || return 1
	vm_msg "apt-get download $pkg failed; apt-get update and again"
	timeout 600 apt-get -o DPkg::Lock::Timeout=300 update -qq >>"$dir/download.log" 2>&1
	(cd "$dir" && timeout 600 apt-get download -q -o APT::Sandbox::User=root "$pkg") \
		>>"$dir/download.log" 2>&1
}

# vm_kernel_fetch: make sure Debian's kernel package is unpacked in the
# cache (downloading it once); sets VM_KPKG, VM_KVER, VM_KROOT, VM_KERNEL.
vm_kernel_fetch()
{
	local pkg dir tmp deb m

	pkg=$(_vm_kernel_pkg) || {
		VM_WHY="apt knows no linux-image-*-amd64 package (no apt lists: apt-get update) and none is cached in $VM_CACHE/kernel"
		return 1
	}
	dir="$VM_CACHE/kernel/$pkg"
	if [ ! -e "$dir/.complete" ]; then
		_vm_lock || return 1
		if [ ! -e "$dir/.complete" ]; then
			vm_msg "fetching Debian's kernel package $pkg into $VM_CACHE/kernel (once)"
			rm -rf "$dir"
			tmp=$(mktemp -d "$VM_CACHE/kernel.XXXXXX") || { _vm_unlock; VM_WHY="mktemp in $VM_CACHE"; return 1; }
			if ! _vm_download "$pkg" "$tmp"; then
				VM_WHY="apt-get download $pkg failed: $(tail -n 1 "$tmp/download.log")"
				rm -rf "$tmp"
				_vm_unlock
				return 1
			fi
			deb=""
			for m in "$tmp"/*.deb; do
				[ -f "$m" ] && deb=$m
			done
			mkdir -p "$tmp/root"
			if [ -z "$deb" ] || ! dpkg-deb -x "$deb" "$tmp/root"; then
				VM_WHY="dpkg-deb -x of $pkg failed"
				rm -rf "$tmp"
				_vm_unlock
				return 1
			fi
			basename "$deb" >"$tmp/root/.deb"
			rm -f "$deb"
			mkdir -p "$VM_CACHE/kernel"
			mv "$tmp/root" "$dir" && rm -rf "$tmp"
			touch "$dir/.complete"
			# A kernel that linux-image-amd64 no longer names is of no use.
			for m in "$VM_CACHE"/kernel/linux-image-*; do
				[ "$m" = "$dir" ] || rm -rf "$m"
			done
		fi
		_vm_unlock
	fi
	VM_KPKG=$pkg
	VM_KROOT=$dir
	# Modules under lib/modules/ or usr/lib/modules/ (merged /usr).
	VM_KMODDIR=""
	for m in "$dir"/lib/modules/* "$dir"/usr/lib/modules/*; do
		[ -d "$m/kernel" ] && VM_KMODDIR=$m
	done
	VM_KVER=$(basename "$VM_KMODDIR")
	VM_KERNEL="$dir/boot/vmlinuz-$VM_KVER"
	if [ -z "$VM_KVER" ] || [ ! -f "$VM_KERNEL" ]; then
		VM_WHY="package $pkg has no boot/vmlinuz-* or no lib/modules/* (in $dir)"
		return 1
	fi
	# Under TCG, decompressing the bzImage takes 3 of the 5.5 s of a boot;
	# qemu boots the uncompressed ELF vmlinux directly through its PVH entry.
	if [ "${VM_KERNEL_IMAGE:-vmlinux}" = vmlinux ] &&
		grep -qx 'CONFIG_PVH=y' "$dir/boot/config-$VM_KVER" 2>/dev/null; then
		if [ ! -e "$dir/vmlinux" ] && [ ! -e "$dir/vmlinux.none" ]; then
			_vm_lock || return 1
			[ -e "$dir/vmlinux" ] || [ -e "$dir/vmlinux.none" ] || _vm_extract_vmlinux "$VM_KERNEL" "$dir/vmlinux" ||
				touch "$dir/vmlinux.none"
			_vm_unlock
		fi
		[ -e "$dir/vmlinux" ] && VM_KERNEL="$dir/vmlinux"
	fi
	if [ ! -e "$VM_KMODDIR/modules.dep" ]; then
		_vm_lock || return 1
		[ -e "$VM_KMODDIR/modules.dep" ] ||
			depmod -b "${VM_KMODDIR%/lib/modules/*}" "$VM_KVER" 2>/dev/null
		_vm_unlock
		[ -e "$VM_KMODDIR/modules.dep" ] || { VM_WHY="depmod -b on $VM_KROOT failed"; return 1; }
	fi
	return 0
}

# _vm_extract_vmlinux BZIMAGE OUT: the ELF kernel inside an xz-, gzip- or
# zstd-compressed bzImage (the way the kernel's scripts/extract-vmlinux
# does it: try each compressed-stream signature until an ELF comes out).
_vm_extract_vmlinux()
{
	local img=$1 out=$2 sig cmd off

	for sig in '\3757zXZ|xz -dc' '\037\213\010|gzip -dc' '\050\265\057\375|zstd -qdc'; do
		cmd=${sig#*|}
		command -v "${cmd%% *}" >/dev/null 2>&1 || continue
		# shellcheck disable=SC2059 # the signature's octal escapes
		for off in $(LC_ALL=C grep -aboF "$(printf "${sig%%|*}")" "$img" | cut -d: -f1 | head -n 5); do
			tail -c +"$((off + 1))" "$img" | $cmd >"$out.tmp" 2>/dev/null
			if [ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
				mv "$out.tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$out.tmp"
	return 1
}

# vm_kernel_has MODULE: MODULE is a module of the cached kernel or built in.
vm_kernel_has()
{
	awk -F: -v want="$1" '
		BEGIN { gsub(/-/, "_", want) }
		{ n = $1; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n)
		  if (n == want) { found = 1; exit } }
		END { exit !found }
	' "$VM_KMODDIR/modules.dep" "$VM_KMODDIR/modules.builtin" 2>/dev/null
}

# _vm_mod_closure MODULE...: the module files (paths in modules.dep) needed
# for MODULEs, dependencies included, on stdout.  Built-in ones are skipped.
_vm_mod_closure()
{
	awk -v want="$*" '
	function name(f,   n) { n = f; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n); return n }
	BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) { x = w[i]; gsub(/-/, "_", x); wanted[x] = 1 } }
	{
		f = $1; sub(/:$/, "", f)
		path[name(f)] = f
		deps[f] = ""
		for (i = 2; i <= NF; i++) deps[f] = deps[f] " " $i
	}
	function add(f,   k, d, m) {
		if (f in have) return
		have[f] = 1
		print f
		m = split(deps[f], d, " ")
		for (k = 1; k <= m; k++) add(d[k])
	}
	END { for (x in wanted) if (x in path) add(path[x]) }
	' "$VM_KMODDIR/modules.dep"
}

# _vm_copy_module SRC DEST: copy a module, decompressing .ko.xz / .ko.zst / .ko.gz.
_vm_copy_module()
{
	local src=$1 dst=$2
	mkdir -p "$(dirname "$dst")"
	case $src in
	*.ko.xz) xz -dc "$src" >"${dst%.xz}" ;;
	*.ko.zst) zstd -qdc "$src" >"${dst%.zst}" ;;
	*.ko.gz) gzip -dc "$src" >"${dst%.gz}" ;;
	*) cp "$src" "$dst" ;;
	esac
}

# _vm_stage_program ROOT PATH [DEST]: PATH and the libraries ldd lists.
_vm_stage_program()
{
	local root=$1 prog=$2 dest=${3:-$2} lib

	mkdir -p "$root$(dirname "$dest")" || return 1
	cp -L "$prog" "$root$dest" || return 1
	chmod 755 "$root$dest"
	for lib in $(ldd "$prog" 2>/dev/null | awk '/=> \// { print $3 } /^[ \t]*\// { print $1 }'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib" || return 1
	done
}

# _vm_base_key: what the cached initramfs base depends on.
_vm_base_key()
{
	{
		echo "$VM_KPKG $VM_KVER"
		# shellcheck disable=SC2086 # lists of names
		printf '%s\n' $VM_BASE_MODULES $VM_EXTRA_MODULES "${VM_REQUIRED_MODULES[@]}" | sort -u
		cat "$VM_DIR/init" "$VM_DIR/vmlib.sh"
		# shellcheck disable=SC2086
		sha256sum "$(command -v busybox)" $VM_PROGRAMS
		echo 3   # bump when the layout changes
	} | sha256sum | cut -c1-16
}

# vm_initramfs_base: build (once per kernel, module set, init and host
# programs) the initramfs base: busybox-static with its applets, the real
# ip, wg, ping and dash with their libraries, the modules with their
# dependencies (decompressed, depmod run), /init and /lib/vm/vmlib.sh.
# Uncompressed: under TCG that boots faster than gzip.  Sets VM_BASE_CPIO.
vm_initramfs_base()
{
	local key out stage prog f app mods bb

	key=$(_vm_base_key)
	out="$VM_CACHE/initramfs-$VM_KVER-$key.cpio"
	VM_BASE_CPIO=$out
	if [ -s "$out" ]; then
		touch "$out"
		return 0
	fi
	_vm_lock || return 1
	if [ -s "$out" ]; then _vm_unlock; return 0; fi
	vm_msg "building the initramfs base $(basename "$out")"
	stage=$(mktemp -d "$VM_CACHE/stage.XXXXXX") || { _vm_unlock; VM_WHY="mktemp in $VM_CACHE"; return 1; }
	if ! (
		set -e
		cd "$stage"
		mkdir -p bin sbin usr/bin usr/sbin lib lib64 etc/vm lib/vm dev proc sys run tmp root \
			"lib/modules/$VM_KVER"
		mknod -m 600 dev/console c 5 1
		mknod -m 666 dev/null c 1 3
		for prog in $VM_PROGRAMS; do
			_vm_stage_program "$stage" "$prog"
		done
		ln -s /usr/bin/dash bin/sh
		bb=$(command -v busybox)
		cp "$bb" bin/busybox
		# Every applet as a link, unless a real program has its name.
		for app in $(bin/busybox --list-full); do
			f=${app##*/}
			[ -e "$app" ] || [ -L "$app" ] && continue
			for prog in $VM_PROGRAMS sh init linuxrc; do
				[ "${prog##*/}" = "$f" ] && continue 2
			done
			mkdir -p "$(dirname "$app")"
			ln -s /bin/busybox "$app"
		done
		# shellcheck disable=SC2086 # lists of names
		mods=$(_vm_mod_closure $VM_BASE_MODULES $VM_EXTRA_MODULES "${VM_REQUIRED_MODULES[@]}")
		for f in $mods; do
			_vm_copy_module "$VM_KMODDIR/$f" "lib/modules/$VM_KVER/$f"
		done
		for f in modules.order modules.builtin modules.builtin.modinfo; do
			[ -e "$VM_KMODDIR/$f" ] && cp "$VM_KMODDIR/$f" "lib/modules/$VM_KVER/"
		done
		depmod -b "$stage" "$VM_KVER"
		cp "$VM_DIR/init" init
		chmod 755 init
		cp "$VM_DIR/vmlib.sh" lib/vm/vmlib.sh
		find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet >"$out.tmp"
	) >"$VM_CACHE/stage.log" 2>&1; then
		VM_WHY="building the initramfs failed (see $VM_CACHE/stage.log)"
		rm -rf "$stage" "$out.tmp"
		_vm_unlock
		return 1
	fi
	rm -rf "$stage"
	# Bases no test has used for two days (another kernel, an older init)
	# go; other module sets of current tests stay.
	find "$VM_CACHE" -maxdepth 1 -name 'initramfs-*.cpio' -mtime +2 -delete 2>/dev/null
	mv "$out.tmp" "$out"
	_vm_unlock
}

# ---- qemu ----

# _vm_cpio DIR OUT: DIR as a newc archive (owned by root).
_vm_cpio()
{
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2"
}

# _vm_quote STRING: STRING single-quoted for dash.
_vm_quote()
{
	printf "'%s'" "${1//\'/\'\\\'\'}"
}

# _vm_qemu_cmd INITRD LOG CTL NET...: the qemu command line into VM_QEMU_CMD.
_vm_qemu_cmd()
{
	local initrd=$1 log=$2 ctl=$3
	shift 3
	VM_QEMU_CMD=(qemu-system-x86_64 "${VM_QEMU_ACCEL[@]}" -m "$VM_MEM" -smp 1
		-nodefaults -no-user-config -nographic -monitor none -no-reboot
		-kernel "$VM_KERNEL" -initrd "$initrd"
		-append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init mitigations=off $VM_APPEND"
		-serial "file:$log")
	if [ -n "$ctl" ]; then
		VM_QEMU_CMD+=(-serial "pipe:$ctl")
	fi
	VM_QEMU_CMD+=("$@")
}

# _vm_probe ACCEL...: boot once with no network and an empty scenario;
# 0 when "VM: done" appeared within the time limit.
_vm_probe()
{
	local dir log initrd limit rc

	dir=$(mktemp -d "/tmp/gresec-vmprobe.$$.XXXXXX") || return 1
	log="$dir/console.log"
	mkdir -p "$dir/run/etc/vm"
	printf 'VM_NET=0\nVM_SCENARIO=probe\nVM_DMESG=0\n' >"$dir/run/etc/vm/env"
	_vm_cpio "$dir/run" "$dir/run.cpio"
	initrd="$dir/initrd"
	cat "$VM_BASE_CPIO" "$dir/run.cpio" >"$initrd"
	VM_QEMU_ACCEL=("$@")
	_vm_qemu_cmd "$initrd" "$log" "" -nic none
	# A KVM that cannot run this kernel may hang at once (nested, para-
	# virtualised): a KVM boot takes about a second, so 15 s is plenty.
	limit=15
	[ "$1" = "-accel" ] && [ "$2" = tcg ] && limit=120
	# In a subshell: bash's "Aborted" for a qemu that dies goes to the log.
	(timeout -k 2 "$limit" "${VM_QEMU_CMD[@]}" </dev/null >"$dir/qemu.out" 2>&1) 2>>"$dir/qemu.out"
	rc=$?
	if grep -q '^VM: done' "$log" 2>/dev/null; then
		rm -rf "$dir"
		return 0
	fi
	VM_WHY="qemu $* did not boot the kernel (status $rc): $(tail -n 2 "$dir/qemu.out" | tr '\n' ' ')$(tr -d '\r' <"$log" 2>/dev/null | tail -n 2 | tr '\n' ' ')"
	rm -rf "$dir"
	return 1
}

# vm_accel: KVM when /dev/kvm boots the kernel, else TCG.  The result is
# kept in the cache for this boot of the machine.  Sets VM_QEMU_ACCEL.
vm_accel()
{
	local boot f kvm_why=""

	case ${VM_ACCEL:-} in
	kvm) VM_QEMU_ACCEL=(-accel kvm -cpu host); VM_ACCEL_NAME=kvm; return 0 ;;
	tcg) VM_QEMU_ACCEL=(-accel tcg); VM_ACCEL_NAME=tcg; return 0 ;;
	esac
	boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
	f="$VM_CACHE/accel-$boot"
	if [ ! -s "$f" ]; then
		_vm_lock || return 1
		if [ ! -s "$f" ]; then
			rm -f "$VM_CACHE"/accel-*
			if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
				if _vm_probe -accel kvm -cpu host; then
					echo kvm >"$f"
				else
					kvm_why=$VM_WHY
					vm_msg "KVM does not boot the kernel here, using TCG ($kvm_why)"
				fi
			fi
			if [ ! -s "$f" ] && _vm_probe -accel tcg; then
				echo tcg >"$f"
			fi
		fi
		_vm_unlock
	fi
	if [ -s "$f" ]; then
		vm_accel_set "$(cat "$f")"
		return 0
	fi
	[ -n "$kvm_why" ] && VM_WHY="$kvm_why; $VM_WHY"
	return 1
}

vm_accel_set()
{
	VM_ACCEL_NAME=$1
	case $1 in
	kvm) VM_QEMU_ACCEL=(-accel kvm -cpu host) ;;
	*) VM_QEMU_ACCEL=(-accel tcg) ;;
	esac
}

# require_vm [MODULE...]: see the top of this file.
require_vm()
{
	local me c m probe

	me=$(basename "$0")
	for c in qemu-system-x86_64 cpio busybox dpkg-deb apt-get depmod ldd flock timeout \
		base64 mkfifo sha256sum awk xz; do
		command -v "$c" >/dev/null 2>&1 || skip "$me needs $c (scripts/setup.sh installs it)"
	done
	for c in $VM_PROGRAMS; do
		[ -x "$c" ] || skip "$me needs $c in the VM (scripts/setup.sh installs it)"
	done
	busybox --list-full >/dev/null 2>&1 || skip "$me needs busybox with --list-full (busybox-static)"
	ldd "$(command -v busybox)" >/dev/null 2>&1 &&
		skip "$me needs a static busybox (busybox-static), $(command -v busybox) is dynamic"
	[ -c /dev/net/tun ] || skip "$me needs /dev/net/tun for the VM's tap"
	probe="${NS_PREFIX}vmprobe"
	ip netns add "$probe" 2>/dev/null || skip "$me: ip netns add failed"
	if ! ip -n "$probe" tuntap add "$VM_TAP" mode tap 2>/dev/null; then
		ip netns del "$probe" 2>/dev/null
		skip "$me needs tap devices (ip tuntap add mode tap failed)"
	fi
	ip netns del "$probe" 2>/dev/null
	VM_REQUIRED_MODULES=("$@")
	vm_kernel_fetch || skip "$me: no kernel for the VM: $VM_WHY"
	for m in $VM_BASE_MODULES "$@"; do
		vm_kernel_has "$m" || skip "$me: kernel $VM_KVER has no module $m"
	done
	vm_initramfs_base || skip "$me: $VM_WHY"
	vm_accel || skip "$me: qemu cannot boot kernel $VM_KVER: $VM_WHY"
	vm_msg "kernel $VM_KVER ($VM_KPKG) under $VM_ACCEL_NAME, cache $VM_CACHE"
}

# ---- one VM per test ----

vm_at_exit()
{
	VM_AT_EXIT+=("$1")
}

_vm_exit()
{
	local rc=$? c

	for c in "${VM_AT_EXIT[@]}"; do
		eval "$c" 2>/dev/null
	done
	if [ -n "$VM_PID" ] && kill -0 "$VM_PID" 2>/dev/null; then
		kill -TERM "$VM_PID" 2>/dev/null
	fi
	[ -n "$VM_CTL_FD" ] && exec {VM_CTL_FD}>&-
	if [ -n "$KEEP_TMP" ] && [ -n "$VM_LOG" ]; then
		echo "# VM console log: $VM_LOG"
	fi
	(exit "$rc")
	cleanup
}

vm_setup_test()
{
	setup_test
	trap _vm_exit EXIT
	# The test's own stdout, for result lines that vm_run imports while
	# its caller sends vm_run's output elsewhere (vm_run CMD >/dev/null).
	exec {VM_OUT_FD}>&1
}

vm_ns_add()
{
	ip netns add "$1" || fail "ip netns add $1"
	TEST_NAMESPACES+=("$1")
	ip -n "$1" link set lo up || fail "lo up in $1"
}

vm_env()
{
	VM_ENV_LINES+=("$1=$(_vm_quote "$2")")
}

vm_add_file()
{
	VM_FILES+=("$1|$2|${3:-644}")
}

vm_add_binary()
{
	VM_FILES+=("$1|${2:-$1}|program")
}

vm_running()
{
	[ -n "$VM_PID" ] && kill -0 "$VM_PID" 2>/dev/null
}

vm_log_tail()
{
	tr -d '\r' <"$VM_LOG" 2>/dev/null | tail -n "${1:-30}" | sed 's/^/# /'
}

# vm_start NS SCENARIO [ARG...]: see the top of this file.
vm_start()
{
	local ns=$1 scen=$2 run line a args="" f src dst mode
	shift 2

	[ -n "$VM_BASE_CPIO" ] || fail "vm_start before require_vm"
	case $scen in
	*/*) ;;
	*) scen="$VM_DIR/scenarios/$scen.sh" ;;
	esac
	[ -r "$scen" ] || fail "no VM scenario $scen"
	run="$TMPD/vm-run"
	mkdir -p "$run/etc/vm"
	for a in "$@"; do
		args="$args $(_vm_quote "$a")"
	done
	{
		echo "VM_SCENARIO=$(_vm_quote "$(basename "$scen" .sh)")"
		echo "VM_MODULES=$(_vm_quote "${VM_REQUIRED_MODULES[*]}")"
		echo "VM_ADDR4=$UL4_VM/24 VM_ADDR6=$UL6_VM/64 VM_MAC=$VM_MAC"
		echo "VM_HOST4=$UL4_HOST VM_HOST6=$UL6_HOST"
		echo "VM_WATCHDOG=$((VM_TIMEOUT > 20 ? VM_TIMEOUT - 10 : VM_TIMEOUT))"
		for line in "${VM_ENV_LINES[@]}"; do
			echo "$line"
		done
		echo "set --$args"
	} >"$run/etc/vm/env"
	cp "$scen" "$run/etc/vm/scenario"
	for f in "${VM_FILES[@]}"; do
		src=${f%%|*} mode=${f##*|} dst=${f#*|}
		dst=${dst%|*}
		if [ "$mode" = program ]; then
			_vm_stage_program "$run" "$src" "$dst" || fail "cannot copy $src into the VM"
		else
			mkdir -p "$run$(dirname "$dst")"
			install -m "$mode" "$src" "$run$dst" || fail "cannot copy $src into the VM"
		fi
	done
	_vm_cpio "$run" "$TMPD/vm-run.cpio" || fail "cpio of the VM's run files"
	cat "$VM_BASE_CPIO" "$TMPD/vm-run.cpio" >"$TMPD/vm-initrd.cpio" || fail "initrd"

	ip -n "$ns" tuntap add "$VM_TAP" mode tap || fail "tap $VM_TAP in $ns"
	if ! { ip -n "$ns" addr add "$UL4_HOST/24" dev "$VM_TAP" &&
		ip -n "$ns" addr add "$UL6_HOST/64" dev "$VM_TAP" nodad &&
		ip -n "$ns" link set "$VM_TAP" up; }; then
		fail "addresses on $VM_TAP in $ns"
	fi

	VM_LOG="$TMPD/vm-console.log"
	VM_CTL="$TMPD/vm-ctl"
	VM_CTL_LOG="$TMPD/vm-ctl.log"
	mkfifo "$VM_CTL.in" "$VM_CTL.out" || fail "mkfifo $VM_CTL"
	: >"$VM_LOG"
	: >"$VM_CTL_LOG"
	DAEMON_LOGS+=("$VM_LOG" "$TMPD/vm-qemu.err")
	_vm_qemu_cmd "$TMPD/vm-initrd.cpio" "$VM_LOG" "$VM_CTL" \
		-netdev "tap,id=n0,ifname=$VM_TAP,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n0,mac=$VM_MAC,romfile=" -device virtio-rng-pci
	printf '%q ' ip netns exec "$ns" "${VM_QEMU_CMD[@]}" >"$TMPD/vm-qemu.cmd"
	VM_STARTED_AT=$(date +%s.%N)
	ip netns exec "$ns" timeout -k 5 "$VM_TIMEOUT" "${VM_QEMU_CMD[@]}" \
		</dev/null >"$TMPD/vm-qemu.err" 2>&1 &
	VM_PID=$!
	BG_PIDS+=("$VM_PID")
	# qemu opens both FIFOs read-write; opening ours read-write never blocks.
	exec {VM_CTL_FD}<>"$VM_CTL.in"
	cat "$VM_CTL.out" >>"$VM_CTL_LOG" 2>/dev/null &
	BG_PIDS+=("$!")
	VM_NS=$ns
	VM_RESULTS_SEEN=0
	vm_msg "started qemu ($VM_ACCEL_NAME, $VM_MEM MB, kernel $VM_KVER, scenario $(basename "$scen")) in $ns; console: $VM_LOG"
}

# _vm_console: the console log without carriage returns.
_vm_console()
{
	tr -d '\r' <"$VM_LOG" 2>/dev/null
}

vm_wait_line()
{
	local ere=$1 limit=${2:-$VM_BOOT_TIMEOUT} deadline

	deadline=$((SECONDS + limit))
	while :; do
		_vm_console | grep -Eq -- "$ere" && return 0
		if ! vm_running; then
			_vm_console | grep -Eq -- "$ere" && return 0
			return 1
		fi
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

vm_wait_ready()
{
	local limit=${1:-$VM_BOOT_TIMEOUT} t up

	if vm_wait_line '^VM: ready' "$limit"; then
		t=$(awk -v a="$VM_STARTED_AT" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
		up=$(_vm_console | sed -n 's/^VM: ready at \([0-9.]*\) s.*/\1/p' | head -n 1)
		vm_msg "VM ready ${t} s after qemu started (kernel uptime ${up:-?} s, $VM_ACCEL_NAME)"
		VM_READY_SECONDS=$t
		vm_results
		return 0
	fi
	if vm_running; then
		echo "# vm: no 'VM: ready' within $limit s; console:"
	else
		echo "# vm: qemu ended before 'VM: ready'; console:"
	fi
	vm_log_tail 40
	return 1
}

# _vm_ctl_answer ID: the output of request ID, once its "@@end ID" is in
# the control log; returns 2 while it is not.
_vm_ctl_answer()
{
	awk -v id="$1" '
		$0 == "@@begin " id { on = 1; next }
		on && $1 == "@@end" && $2 == id { found = 1; rc = $3; exit }
		on { print }
		END { if (!found) exit 2; exit rc }
	' "$VM_CTL_LOG"
}

# _vm_next_id: a request id, unique also when vm_run runs in a subshell
# ($(vm_run ...)), where a counter in a variable would not survive.
_vm_next_id()
{
	local n
	n=$(($(cat "$TMPD/vm-ctl.seq" 2>/dev/null || echo 0) + 1))
	echo "$n" >"$TMPD/vm-ctl.seq"
	echo "$n.$BASHPID"
}

vm_run()
{
	local limit=$VM_RUN_TIMEOUT id cmd b64 deadline rc

	if [ "$1" = -t ]; then
		limit=$2
		shift 2
	fi
	cmd="$*"
	[ -n "$VM_CTL_FD" ] || { echo "# vm_run: no VM" >&2; return 125; }
	deadline=$((SECONDS + limit))
	while ! grep -q '^@@serving' "$VM_CTL_LOG"; do
		if ! vm_running; then
			echo "# vm_run: the VM is not running" >&2
			return 124
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "# vm_run: the VM does not serve commands (no vm_serve?)" >&2
			return 124
		fi
		sleep 0.1
	done
	id=$(_vm_next_id)
	b64=$(printf '%s' "$cmd" | base64 -w 0)
	printf '%s %s\n' "$id" "$b64" >&"$VM_CTL_FD"
	until grep -qE "^@@end ${id//./[.]} [0-9]+" "$VM_CTL_LOG"; do
		if ! vm_running; then
			grep -qE "^@@end ${id//./[.]} [0-9]+" "$VM_CTL_LOG" && break
			echo "# vm_run: the VM stopped while running: $cmd" >&2
			return 124
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "# vm_run: no answer within $limit s to: $cmd" >&2
			return 124
		fi
		sleep 0.05
	done
	_vm_ctl_answer "$id"
	rc=$?
	# VM result lines the command printed (vm_check ...) become ours now,
	# in order, unless we are in a subshell ($(vm_run ...)) whose lines and
	# counts would be lost: then a later vm_results takes them.
	if [ "$BASHPID" = "$$" ]; then
		_vm_sync_results "$(awk -v id="$id" '$1 == "@@end" && $2 == id { print $4 }' "$VM_CTL_LOG")" \
			>&"${VM_OUT_FD:-1}"
	fi
	return "$rc"
}

# _vm_sync_results N: wait (up to 10 s) until the console shows N result
# lines, the console's port being slower than the control port, then
# vm_results.
_vm_sync_results()
{
	local want=${1:-0} deadline=$((SECONDS + 10))

	while [ "$(_vm_console | grep -cE '^VM: (ok|not ok) - ')" -lt "$want" ] &&
		[ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.05
	done
	vm_results
}

# vm_run_quiet CMD...: vm_run without the output, unless CMD fails (then
# its last lines as "# " comments); for check: check DESC vm_run_quiet CMD.
vm_run_quiet()
{
	local out rc

	out=$(vm_run "$@")
	rc=$?
	[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -n 10 | sed 's/^/#   /'
	return "$rc"
}

# vm_wait_exit [TIMEOUT]: 0 when qemu ended by itself within TIMEOUT
# (default 60 s) with status 0; sets VM_EXIT_STATUS.
vm_wait_exit()
{
	local limit=${1:-60} deadline

	deadline=$((SECONDS + limit))
	while vm_running && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	if vm_running; then
		VM_EXIT_STATUS=124
		return 1
	fi
	wait "$VM_PID" 2>/dev/null
	VM_EXIT_STATUS=$?
	VM_PID=""
	[ "$VM_EXIT_STATUS" = 0 ]
}

vm_stop()
{
	local limit=${1:-60} why

	if [ -z "$VM_PID" ]; then
		return 0
	fi
	if vm_running && grep -q '^@@serving' "$VM_CTL_LOG"; then
		printf '%s quit\n' "$(_vm_next_id)" >&"$VM_CTL_FD"
	fi
	if vm_wait_exit "$limit"; then
		return 0
	fi
	if [ "$VM_EXIT_STATUS" = 124 ] && [ -n "$VM_PID" ]; then
		why="the VM did not power off within $limit s; killed"
		kill -TERM "$VM_PID" 2>/dev/null
		sleep 1
		kill -KILL "$VM_PID" 2>/dev/null
		wait "$VM_PID" 2>/dev/null
		VM_PID=""
	elif [ "$VM_EXIT_STATUS" = 124 ] || [ "$VM_EXIT_STATUS" = 137 ]; then
		why="qemu killed after VM_TIMEOUT=$VM_TIMEOUT s"
	else
		why="qemu exited with status $VM_EXIT_STATUS: $(tail -n 3 "$TMPD/vm-qemu.err" | tr '\n' ' ')"
	fi
	not_ok "VM powers off cleanly ($why)"
	vm_log_tail 20
	return 1
}

vm_results()
{
	local n=0 line done_line st cnt got

	while IFS= read -r line; do
		n=$((n + 1))
		[ "$n" -le "$VM_RESULTS_SEEN" ] && continue
		VM_RESULTS_SEEN=$n
		case $line in
		"VM: ok - "*) ok "VM: ${line#VM: ok - }" ;;
		"VM: not ok - "*) not_ok "VM: ${line#VM: not ok - }" ;;
		esac
	done < <(_vm_console | grep -E '^VM: (ok|not ok) - ')
	vm_running && return 0
	[ -n "$VM_DONE_CHECKED" ] && return 0
	VM_DONE_CHECKED=1
	done_line=$(_vm_console | grep -E '^VM: done ' | tail -n 1)
	if [ -z "$done_line" ]; then
		not_ok "VM: ran its scenario to the end (no 'VM: done' line)"
		vm_log_tail 30
		return 1
	fi
	st=$(sed -n 's/.*status=\([0-9]*\).*/\1/p' <<<"$done_line")
	cnt=$(sed -n 's/.*results=\([0-9]*\).*/\1/p' <<<"$done_line")
	got=$(_vm_console | grep -cE '^VM: (ok|not ok) - ')
	check_eq "VM: scenario exit status" "$st" 0
	# A kernel message in the middle of a line would hide a result.
	check_eq "VM: every VM result line read (console intact)" "$got" "$cnt"
}
