#!/bin/bash
# tests/test_deb.sh: the Debian package from build to purge (root, Debian).
#
#   ns A: the packaged gresecd, run by /etc/init.d/gresecd and by the
#         maintainer scripts, as user gresec, two tunnels:
#         gsd0 plain GRE 10.203.0.1/30, gsd1 secure 10.203.1.1/30
#   ns B: /usr/sbin/gresecd -f with the two ends (private paths, as root)
#
# 1. Builds the .deb (and -dbgsym) with dpkg-buildpackage from a clean copy
#    of the tree (DEB_BUILD_OPTIONS="nocheck parallel=2": the unit tests
#    run in this same suite already; the machine has two cores), and runs
#    lintian: no errors, every warning explained in debian/README.source.
# 2. dpkg -i: files, conffiles, /etc/gresec root:gresec 0750, the system
#    user and group, the unit and rc links enabled, the daemon not started
#    without a configuration.
# 3. The daemon through /etc/init.d/gresecd: start, status, traffic over
#    both tunnels, a reload that rereads the file and key as gresec.
# 4. dpkg -i again while running: restarted (new pid); after stop, dpkg -i
#    leaves it stopped.  dpkg -r stops it.  Purge: nothing left.
# 5. A first install with a valid configuration starts the daemon; a purge
#    keeps the administrator's /etc/gresec and the user that owns it.
#
# Everything the package does happens on this machine for real, so the test
# skips unless none of it is there before (package, user, group,
# /etc/gresec, /run/gresec ...), holds a lock against a second run, and
# purges and removes what it made on any exit.  dpkg runs inside ns A (the
# maintainer scripts start daemons, whose tunnels belong there) and in a
# private mount namespace whose /usr/sbin/policy-rc.d, if the machine has
# one (containers deny every start), allows the start: the machine's own
# file is untouched.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/netns/lib.sh"

GRESECD=/usr/sbin/gresecd
GRESEC=/usr/bin/gresec
ME=$(basename "$0")
LOCK=/run/lock/gresec-test_deb.lock

# ---- may this run here? ----
[ "$(id -u)" = 0 ] || skip "$ME needs root (it installs and purges the package)"
[ -r /etc/debian_version ] && command -v dpkg >/dev/null 2>&1 || skip "$ME needs Debian"
for t in dpkg-buildpackage dh dpkg-checkbuilddeps fakeroot unshare ip; do
	command -v "$t" >/dev/null 2>&1 ||
		skip "$ME needs $t (scripts/setup.sh installs the package tools)"
done
[ -c /dev/net/tun ] || skip "$ME needs /dev/net/tun"
ip netns add "gsd$$probe" 2>/dev/null || skip "$ME needs network namespaces"
ip netns del "gsd$$probe"

exec 9>>"$LOCK" || skip "$ME cannot open $LOCK"
flock -n 9 || skip "another $ME holds $LOCK"
OWN_LOCK=1
trap 'rm -f "$LOCK"' EXIT

# What the package creates must not be there: someone's install, not ours.
st=$(dpkg-query -W -f='${db:Status-Status}' gresec 2>/dev/null)
[ -z "$st" ] || [ "$st" = not-installed ] ||
	skip "$ME: the gresec package is on this machine ($st); it would be clobbered"
getent passwd gresec >/dev/null && skip "$ME: a user gresec exists already"
getent group gresec >/dev/null && skip "$ME: a group gresec exists already"
for p in /etc/gresec /etc/init.d/gresecd /etc/default/gresecd /run/gresec \
	/lib/systemd/system/gresecd.service /etc/systemd/system/multi-user.target.wants/gresecd.service \
	/usr/sbin/gresecd /usr/bin/gresec; do
	[ -e "$p" ] || [ -L "$p" ] && skip "$ME: $p exists already; it would be clobbered"
done
dpkg-statoverride --list /etc/gresec >/dev/null 2>&1 &&
	skip "$ME: a dpkg-statoverride for /etc/gresec exists already"

setup_test
INSTALLED=""   # set once dpkg has been run: the EXIT trap purges then

# Everything with gresec in its name where the package leaves traces, plus
# the user, group and statoverride: equal before and after.
snapshot()
{
	find /etc /lib/systemd /usr/lib/systemd /usr/sbin /usr/bin /usr/share/man /usr/share/doc \
		/var/lib/dpkg/info /var/lib/systemd -xdev -name '*gresec*' 2>/dev/null | LC_ALL=C sort
	[ -e /run/gresec ] && echo /run/gresec
	getent passwd gresec
	getent group gresec
	grep -h '^gresec:' /etc/shadow /etc/gshadow 2>/dev/null
	dpkg-statoverride --list 2>/dev/null | grep gresec
	dpkg-query -W -f='${db:Status-Status}\n' gresec 2>/dev/null | grep -v '^not-installed$'
	true
}

deb_cleanup()
{
	local rc=$?
	trap - EXIT
	if [ -n "$INSTALLED" ]; then
		echo "# cleanup: purging the package and what the test made"
		# In ns A, so that a daemon the scripts stop is the one there.
		[ -n "${A:-}" ] && pkg dpkg --purge gresec >"$TMPD/cleanup.log" 2>&1
		dpkg --purge gresec >>"$TMPD/cleanup.log" 2>&1
		rm -rf /etc/gresec
		rmdir /run/gresec 2>/dev/null
		getent passwd gresec >/dev/null && deluser --system --quiet gresec >/dev/null 2>&1
		getent group gresec >/dev/null && delgroup --system --quiet gresec >/dev/null 2>&1
	fi
	[ -n "${OWN_LOCK:-}" ] && rm -f "$LOCK"
	(exit "$rc")
	cleanup
}
trap deb_cleanup EXIT

BEFORE=$(snapshot)

# ---- 1. build ----
SRC="$TMPD/src/gresec"
mkdir -p "$SRC" || fail "mkdir $SRC"
# A clean tree: the files git knows (tracked, or new and not ignored) when
# this is a checkout, else (a release tarball) everything but build output.
if [ "$(git -C "$top_srcdir" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$top_srcdir" && pwd -P)" ]; then
	(cd "$top_srcdir" && git ls-files -z -c -o --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done; true' sh |
		tar --null -T - -cf -) | tar -x -C "$SRC" || fail "copying the tree"
else
	tar -C "$top_srcdir" --exclude='./build*' --exclude='./debian/gresec' --exclude='./debian/.debhelper' \
		-cf - . | tar -x -C "$SRC" || fail "copying the tree"
fi
(cd "$SRC" && dpkg-checkbuilddeps) >"$TMPD/builddeps.log" 2>&1 ||
	skip "$ME: build dependencies missing: $(tail -1 "$TMPD/builddeps.log") (scripts/setup.sh installs them)"

VERSION=$(cd "$SRC" && dpkg-parsechangelog -S Version)
ARCH=$(dpkg --print-architecture)
DEB="$TMPD/src/gresec_${VERSION}_${ARCH}.deb"
t0=$SECONDS
# Not the outer make's jobserver or test environment; niced, next to the
# other tests of a parallel make check.
if (cd "$SRC" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u top_srcdir -u top_builddir \
	DEB_BUILD_OPTIONS="nocheck parallel=2" nice -n 10 dpkg-buildpackage -us -uc -b) \
	>"$TMPD/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b builds gresec $VERSION ($((SECONDS - t0)) s)"
else
	tail -n 30 "$TMPD/build.log" | sed 's/^/# /'
	fail "dpkg-buildpackage failed"
fi
check "gresec_${VERSION}_${ARCH}.deb built" test -s "$DEB"
check "gresec-dbgsym_${VERSION}_${ARCH}.deb built" test -s "$TMPD/src/gresec-dbgsym_${VERSION}_${ARCH}.deb"

if command -v lintian >/dev/null 2>&1; then
	lintian "$TMPD/src/gresec_${VERSION}_${ARCH}.changes" >"$TMPD/lintian.log" 2>&1
	sed 's/^/#   lintian: /' "$TMPD/lintian.log"
	check "lintian: no errors" eval '! grep -q "^E: " "$TMPD/lintian.log"'
	for tag in $(sed -n 's/^W: [^:]*: \([a-z0-9+.-]*\).*/\1/p' "$TMPD/lintian.log" | sort -u); do
		check "lintian warning $tag is explained in debian/README.source" \
			grep -q -- "$tag" "$top_srcdir/debian/README.source"
	done
else
	echo "# lintian not installed: not run"
fi

# ---- the namespaces, and how dpkg runs ----
A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"

printf '#!/bin/sh\nexit 0\n' >"$TMPD/policy-rc.d" && chmod 755 "$TMPD/policy-rc.d"

# pkg CMD...: CMD (dpkg) in ns A, with starts allowed by policy-rc.d.
pkg()
{
	if [ -e /usr/sbin/policy-rc.d ]; then
		unshare -m --propagation private sh -c \
			'mount --bind "$1" /usr/sbin/policy-rc.d && shift && exec ip netns exec "$@"' \
			sh "$TMPD/policy-rc.d" "$A" "$@"
	else
		ip netns exec "$A" "$@"
	fi
}

# dpkg_do LOG ARGS...: dpkg ARGS through pkg, waiting up to 5 minutes for
# the dpkg lock that another apt or dpkg may hold.
dpkg_do()
{
	local log=$1 i
	shift
	INSTALLED=1
	for ((i = 0; i < 150; i++)); do
		pkg dpkg "$@" >"$log" 2>&1 && return 0
		grep -q "lock" "$log" || break
		sleep 2
	done
	sed 's/^/#   dpkg: /' "$log"
	return 1
}

# init ACTION: the installed init script in ns A; prints its output.
init()
{
	ip netns exec "$A" /etc/init.d/gresecd "$@" 2>&1 | sed 's/^/#   init: /'
	return "${PIPESTATUS[0]}"
}

init_rc()
{
	local want=$1 rc
	shift
	init "$@"
	rc=$?
	check_eq "/etc/init.d/gresecd $* exits $want" "$rc" "$want"
}

PIDF=/run/gresec/gresecd.pid
SOCK=/run/gresec/control.sock
daemon_pid() { local p=""; read -r p <"$PIDF" 2>/dev/null; echo "$p"; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -qE '^[0-9]+ \(.*\) [ZX]' "/proc/$1/stat" 2>/dev/null; }
in_ns_a() { grep -qx "$1" <(ip netns pids "$A"); }
uid_of() { awk '/^Uid:/ { print $3 }' "/proc/$1/status" 2>/dev/null; }
# No gresecd of the package runs anywhere.
none_running()
{
	local p
	for p in $(pgrep -x gresecd); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = /usr/sbin/gresecd ] || continue
		in_ns_b_peer "$p" && continue
		return 1
	done
	return 0
}
in_ns_b_peer() { [ -n "${PEER_PID:-}" ] && [ "$1" = "$PEER_PID" ]; }

# ---- 2. install ----
dpkg_do "$TMPD/install1.log" -i "$DEB" || fail "dpkg -i $(basename "$DEB")"
sed 's/^/#   dpkg: /' "$TMPD/install1.log"
check_eq "dpkg: gresec is installed" "$(dpkg-query -W -f='${db:Status-Abbrev}' gresec)" "ii "
for f in /usr/sbin/gresecd /usr/bin/gresec /etc/init.d/gresecd; do
	check "$f is executable" test -x "$f"
done
check_eq "gresecd -V is the package's version" "$("$GRESECD" -V 2>&1 | grep -c "${VERSION%-*}")" 1
for f in /usr/share/man/man8/gresecd.8.gz /usr/share/man/man8/gresec.8.gz /usr/share/man/man5/gresec.conf.5.gz \
	/etc/default/gresecd /etc/gresec/gresec.conf.example /lib/systemd/system/gresecd.service \
	/usr/share/doc/gresec/copyright /usr/share/doc/gresec/README.md.gz \
	/usr/share/doc/gresec/examples/gresec.conf /usr/share/doc/gresec/examples/opnsense-wireguard.md \
	/usr/share/doc/gresec/examples/two-sites-secure-ospf/site-a.conf /usr/share/doc/gresec/nftables/plain-gre.nft \
	/usr/share/doc/gresec/nftables/secure-udp.nft; do
	check "$f installed" test -s "$f"
done
check "the man pages name /etc/gresec/gresec.conf" zgrep -q '^\.I /etc/gresec/gresec\.conf$' /usr/share/man/man8/gresecd.8.gz
check "the man pages name no /usr/local path" eval '! zgrep -q /usr/local /usr/share/man/man8/gresecd.8.gz /usr/share/man/man8/gresec.8.gz /usr/share/man/man5/gresec.conf.5.gz'
conffiles=$(dpkg-query -W -f='${Conffiles}' gresec | awk '{ print $1 }' | sort | xargs)
check_eq "conffiles" "$conffiles" "/etc/default/gresecd /etc/gresec/gresec.conf.example /etc/init.d/gresecd"
check_eq "/etc/gresec is root:gresec 0750" "$(stat -c '%U:%G %a' /etc/gresec)" "root:gresec 750"
check "the example passes gresec check-config --file-only (it names keys of another host)" \
	eval '"$GRESEC" check-config --file-only /etc/gresec/gresec.conf.example >/dev/null'

IFS=: read -r _ _ GUID GGID GGECOS GHOME GSHELL < <(getent passwd gresec)
check "user gresec exists" test -n "$GUID"
check "user gresec is a system user (uid $GUID < 1000)" test "${GUID:-1000}" -lt 1000
check_eq "user gresec's group is gresec" "$(getent group "$GGID" | cut -d: -f1)" gresec
check_eq "user gresec's shell" "$GSHELL" /usr/sbin/nologin
check_eq "user gresec's home" "$GHOME" /nonexistent
check "no home directory made" test ! -e /nonexistent

check "the unit starts gresecd -f from /usr/sbin" grep -qx 'ExecStart=/usr/sbin/gresecd -f -c /etc/gresec/gresec.conf' /lib/systemd/system/gresecd.service
check "the unit waits for a configuration" grep -qx 'ConditionPathExists=/etc/gresec/gresec.conf' /lib/systemd/system/gresecd.service
check_eq "the unit is enabled (multi-user.target.wants)" \
	"$(readlink /etc/systemd/system/multi-user.target.wants/gresecd.service)" /lib/systemd/system/gresecd.service
if command -v systemd-analyze >/dev/null 2>&1; then
	check "systemd-analyze verify gresecd.service" \
		eval 'systemd-analyze verify /lib/systemd/system/gresecd.service >"$TMPD/verify.log" 2>&1 || { sed "s/^/#   /" "$TMPD/verify.log"; false; }'
fi
for rl in 2 3 4 5; do
	check "the init script starts in runlevel $rl" eval 'ls /etc/rc'"$rl"'.d/S[0-9][0-9]gresecd >/dev/null 2>&1'
done
for rl in 0 1 6; do
	check "the init script stops in runlevel $rl" eval 'ls /etc/rc'"$rl"'.d/K[0-9][0-9]gresecd >/dev/null 2>&1'
done
check "postinst said why gresecd was not started" grep -q "enabled but not started: there is no /etc/gresec/gresec.conf" "$TMPD/install1.log"
check "no pid file: gresecd not started without a configuration" test ! -e "$PIDF"
check "no gresecd of the package running" none_running
init_rc 3 status
init_rc 6 start

# ---- 3. the init script ----
secure_keys_deb()
{
	(umask 077 && "$GRESEC" genkey >/etc/gresec/test_deb.key && "$GRESEC" genkey >"$TMPD/b.key") || fail "gresec genkey"
	chown gresec:gresec /etc/gresec/test_deb.key || fail "chown the key"
	PUB_A=$("$GRESEC" pubkey </etc/gresec/test_deb.key) && PUB_B=$("$GRESEC" pubkey <"$TMPD/b.key") ||
		fail "gresec pubkey"
}
secure_keys_deb

# write_deb_conf FILE SIDE [plain-only]: the two tunnels from side a or b.
write_deb_conf()
{
	local file=$1 side=$2 only=${3:-} me peer key pub
	if [ "$side" = a ]; then
		me=1 peer=2 key=/etc/gresec/test_deb.key pub=$PUB_B
	else
		me=2 peer=1 key=$TMPD/b.key pub=$PUB_A
	fi
	{
		if [ "$side" = a ]; then
			echo 'daemon: { user = "gresec"; group = "gresec"; log_level = "debug"; };'
		else
			conf_daemon "$file"
		fi
		echo 'tunnels = ('
		echo "  { name = \"gsd0\"; mode = \"plain\"; type = \"gre\"; local = \"10.0.0.$me\"; remote = \"10.0.0.$peer\";"
		echo "    address = \"10.203.0.$me/30\"; peer_address = \"10.203.0.$peer\"; }"
		if [ -z "$only" ]; then
			echo "  , { name = \"gsd1\"; mode = \"secure\"; local = \"10.0.0.$me\"; remote = \"10.0.0.$peer\";"
			echo "    address = \"10.203.1.$me/30\"; peer_address = \"10.203.1.$peer\";"
			echo "    private_key_file = \"$key\"; peer_public_key = \"$pub\"; persistent_keepalive = 1; }"
		fi
		echo ');'
	} >"$file"
}

CONF=/etc/gresec/gresec.conf
write_deb_conf "$CONF" a
chown root:gresec "$CONF" && chmod 640 "$CONF" || fail "chmod $CONF"
check "gresecd -t passes the test configuration" eval '"$GRESECD" -t -c "$CONF" >/dev/null'
write_deb_conf "$TMPD/b.conf" b
start_gresecd "$B" "$TMPD/b.conf"
PEER_PID=$GRESECD_PID

init_rc 0 start
PID1=$(daemon_pid)
check "the daemon runs (pid $PID1)" alive "$PID1"
check "the daemon runs in ns A" in_ns_a "$PID1"
check_eq "the daemon runs as user gresec" "$(uid_of "$PID1")" "$GUID"
check_eq "/run/gresec is root's" "$(stat -c %U /run/gresec)" root
init_rc 0 status
check "gsd0 (plain) and gsd1 (secure) exist in ns A" eval 'link_exists "$A" gsd0 && link_exists "$A" gsd1'
check "ping over the plain tunnel" pings "$A" 10.203.0.2
check "ping over the secure tunnel" wait_for pings "$A" 10.203.1.2 1
check "gresec show on the default socket lists both tunnels" \
	eval 'ip netns exec "$A" "$GRESEC" show | grep -q gsd0 && ip netns exec "$A" "$GRESEC" show | grep -q gsd1'
# After the drop the daemon reads the file and key as gresec: the
# directory's group must let it.
check "gresec reload: the daemon rereads $CONF and the key as gresec" eval 'ip netns exec "$A" "$GRESEC" reload >/dev/null'
init_rc 0 reload
check "still running after the reloads" alive "$PID1"

# ---- 4. upgrade, stop, remove, purge ----
dpkg_do "$TMPD/upgrade1.log" -i "$DEB" || fail "dpkg -i over a running daemon"
PID2=$(daemon_pid)
check "an upgrade restarts a running daemon (pid $PID1 -> $PID2)" test -n "$PID2" -a "$PID2" != "$PID1"
check "the old daemon is gone" eval '! alive "$PID1"'
check "the new daemon runs in ns A as gresec" eval 'alive "$PID2" && in_ns_a "$PID2" && [ "$(uid_of "$PID2")" = "$GUID" ]'
check "ping over the secure tunnel after the upgrade" wait_for pings "$A" 10.203.1.2 1

init_rc 0 stop
check "the daemon is gone after stop" eval '! alive "$PID2"'
check "stop removed the pid file and the socket" eval '[ ! -e "$PIDF" ] && [ ! -e "$SOCK" ]'
check "stop removed gsd0 and gsd1" eval 'link_gone "$A" gsd0 && link_gone "$A" gsd1'
dpkg_do "$TMPD/upgrade2.log" -i "$DEB" || fail "dpkg -i over a stopped daemon"
check "an upgrade leaves a stopped daemon stopped" eval '[ ! -e "$PIDF" ] && none_running'

init_rc 0 start
PID3=$(daemon_pid)
dpkg_do "$TMPD/remove.log" -r gresec || fail "dpkg -r gresec"
check "dpkg -r stops the daemon" eval '! alive "$PID3" && link_gone "$A" gsd0'
check "dpkg -r removes the programs" eval '[ ! -e /usr/sbin/gresecd ] && [ ! -e /usr/bin/gresec ]'
check "dpkg -r keeps the conffiles and the user" eval '[ -e /etc/default/gresecd ] && getent passwd gresec >/dev/null'
check "dpkg -r leaves no /run/gresec" test ! -e /run/gresec

# The administrator removes the configuration and key, then purges.
rm -f "$CONF" /etc/gresec/test_deb.key
dpkg_do "$TMPD/purge1.log" --purge gresec || fail "dpkg --purge gresec"
sed 's/^/#   dpkg: /' "$TMPD/purge1.log"
AFTER=$(snapshot)
check_eq "purge leaves nothing behind" "$AFTER" "$BEFORE"
[ "$AFTER" = "$BEFORE" ] || diff <(echo "$BEFORE") <(echo "$AFTER") | sed 's/^/#   /'

# ---- 5. a first install with a configuration, a purge that keeps it ----
mkdir /etc/gresec || fail "mkdir /etc/gresec"
write_deb_conf "$CONF" a plain-only
dpkg_do "$TMPD/install2.log" -i "$DEB" || fail "dpkg -i with a configuration"
PID4=$(daemon_pid)
check "a first install with a valid configuration starts gresecd" eval 'alive "$PID4" && in_ns_a "$PID4"'
check "it runs as gresec with gsd0 up" eval '[ "$(uid_of "$PID4")" = "$(id -u gresec)" ] && pings "$A" 10.203.0.2'
dpkg_do "$TMPD/purge2.log" --purge gresec || fail "dpkg --purge gresec with a configuration"
sed 's/^/#   dpkg: /' "$TMPD/purge2.log"
check "purge stops the daemon" eval '! alive "$PID4"'
check "purge keeps the administrator's $CONF" test -s "$CONF"
check "purge keeps the user gresec while /etc/gresec is there" eval 'getent passwd gresec >/dev/null'
check "purge says what it kept" grep -q "kept /etc/gresec" "$TMPD/purge2.log"
# What purge said to run:
rm -r /etc/gresec && deluser --system --quiet gresec 2>/dev/null &&
	{ ! getent group gresec >/dev/null || delgroup --system --quiet gresec; }
AFTER=$(snapshot)
check_eq "after the commands purge gave, nothing is left" "$AFTER" "$BEFORE"
[ "$AFTER" = "$BEFORE" ] || diff <(echo "$BEFORE") <(echo "$AFTER") | sed 's/^/#   /'
INSTALLED=""

stop_gresecd "$PEER_PID"
finish
