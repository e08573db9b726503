#!/bin/sh
# Install what gresec needs to build and test on Debian 12 (as root), then
# build it.  Safe to run again: apt only installs what is missing.
#   scripts/setup.sh [--no-build] [BUILD_DIR] [configure options...]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

# The last line: what the Debian package's build and its test
# (tests/test_deb.sh) need; dpkg-buildpackage is in dpkg-dev.
PKGS="build-essential autoconf automake libtool pkg-config
libsodium-dev libb2-dev libmnl-dev libconfig-dev libev-dev libcmocka-dev libjson-c-dev
iproute2 iputils-ping procps psmisc python3 python3-scapy tshark tcpdump iperf3
bird2 frr clang llvm valgrind kmod ca-certificates
qemu-system-x86 busybox-static wireguard-tools wireguard-go dash cpio xz-utils ethtool
dpkg-dev debhelper fakeroot lintian adduser pkgconf"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "setup: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture; answer no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	# Another apt or dpkg (a second test run, unattended upgrades) may hold
	# the lock for a while: wait for it.
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
fi

[ "${1:-}" = "--no-build" ] && exit 0
build=${1:-$top/build}
[ $# -gt 0 ] && shift
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] || ./autogen.sh >/dev/null 2>&1
mkdir -p "$build"
cd "$build"
"$top/configure" -q "$@"
make -j"$(nproc)" >/dev/null
echo "setup: built gresec in $build"
