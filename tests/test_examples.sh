#!/bin/sh
# Every example configuration shipped with gresec must pass
# "gresec check-config --file-only" (the file alone: the examples name
# addresses, devices and key files of other hosts): docs/examples/**/*.conf
# and conf/examples/*.conf.
# BIRD configurations (bird*.conf) are checked with "bird -p" when BIRD is
# installed, and skipped otherwise.
#
# Run by "make check" with top_srcdir/top_builddir set; standalone it
# assumes an in-tree build.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
GRESEC=$top_builddir/gresec

if [ ! -x "$GRESEC" ]; then
	echo "SKIP: $GRESEC is not built (run make first)"
	exit 77
fi

passed=0
failed=0
skipped=0
out=$(mktemp) || exit 99
trap 'rm -f "$out"' EXIT

# Word splitting on newlines only: example paths have no newlines.
files=$(find "$top_srcdir/docs/examples" "$top_srcdir/conf/examples" \
	-type f -name '*.conf' 2>/dev/null | LC_ALL=C sort)
old_ifs=$IFS
IFS='
'
for f in $files; do
	IFS=$old_ifs
	rel=${f#"$top_srcdir"/}
	case $(basename "$f") in
	bird*.conf)
		if command -v bird >/dev/null 2>&1; then
			if bird -p -c "$f" >"$out" 2>&1; then
				echo "PASS: $rel (bird -p)"
				passed=$((passed + 1))
			else
				echo "FAIL: $rel (bird -p)"
				sed 's/^/    /' "$out"
				failed=$((failed + 1))
			fi
		else
			echo "SKIP: $rel (bird not installed)"
			skipped=$((skipped + 1))
		fi
		continue
		;;
	esac
	if "$GRESEC" check-config --file-only "$f" >"$out" 2>&1; then
		echo "PASS: $rel"
		passed=$((passed + 1))
	else
		echo "FAIL: $rel"
		sed 's/^/    /' "$out"
		failed=$((failed + 1))
	fi
done
IFS=$old_ifs

# The examples must be there: finding none means the paths are wrong.
if [ $((passed + failed)) -eq 0 ]; then
	echo "FAIL: no example configurations found under $top_srcdir"
	failed=1
fi

# A broken file must be refused, or the checks above prove nothing.
printf 'tunnels = ( { name = "x"; mode = "plain"; local = "192.0.2.1"; remote = "bogus"; } );\n' >"$out"
if "$GRESEC" check-config "$out" >/dev/null 2>&1; then
	echo "FAIL: gresec check-config accepted an invalid file"
	failed=$((failed + 1))
else
	echo "PASS: an invalid file is refused"
	passed=$((passed + 1))
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
