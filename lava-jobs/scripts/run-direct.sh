#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the programs of one kselftest collection the way run_kselftest.sh -c
# does, with the same KTAP on stdout (so the same test names), but pass each
# line on as soon as the program prints it. Without perl, run_kselftest.sh
# prefixes the programs' output with sed, whose output is block-buffered into
# a pipe: on such a board every result of a program reached LAVA only when the
# program ended. Here a shell read loop does the prefixing (read(2) and one
# write per line), so busybox sh or dash is all it needs.
#
# usage: run-direct.sh [-c COLLECTION] [-d KSELFTEST_DIR]
#   -c COLLECTION     the collection (kselftest-list.txt "COLLECTION:..." lines; mhi)
#   -d KSELFTEST_DIR  the kselftest install (/opt/kselftests)
# Environment: COLLECTION, KSELFTEST_DIR (see the options),
#   KSELFTEST_<PROGRAM>_ARGS  arguments of a program, named as run_kselftest.sh
#                     names them (upper case, other characters "_").
# Each program gets the "timeout" of its directory's "settings" file (45 s
# without one, as run_kselftest.sh): then it and its children are stopped
# (TERM, then KILL, through /proc: busybox's timeout would leave the children
# holding the output pipe open).
# Output per program: "# timeout set to S", "# selftests: COLLECTION: PROG", its
# lines prefixed "# ", then "ok N ..." (exit 0), "ok N ... # SKIP" (4),
# "ok N ... # XFAIL" (2), "not ok N ... # TIMEOUT S seconds" or "not ok N ...
# # exit=RC".
# Exit status: 0 when every program passed or skipped, 1 otherwise, 3 on a
# setup error (no list, unknown collection). POSIX sh only (busybox boards).

set -u

me=run-direct
COLLECTION=${COLLECTION:-mhi}
KSELFTEST_DIR=${KSELFTEST_DIR:-/opt/kselftests}
here=$(cd "$(dirname "$0")" && pwd)
# children PID, kill_tree PID
# shellcheck disable=SC1091 # beside this script
. "$here/proc-tree.sh"

die() {
	echo "$me: $*" >&2
	exit 3
}

while getopts c:d:h opt; do
	case $opt in
	c) COLLECTION=$OPTARG ;;
	d) KSELFTEST_DIR=$OPTARG ;;
	*)
		echo "usage: $me [-c COLLECTION] [-d KSELFTEST_DIR]" >&2
		exit 3
		;;
	esac
done

list=$KSELFTEST_DIR/kselftest-list.txt
[ -r "$list" ] || die "no $list (kselftests not installed? set KSELFTEST_DIR)"
tests=$(grep "^$COLLECTION:" "$list" | cut -d: -f2-)
[ -n "$tests" ] || die "collection '$COLLECTION' is not in $list"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-direct.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT

# watch PID SECONDS: stop the tree of PID after SECONDS unless $tmp/done.
watch() {
	w=0
	while [ "$w" -lt "$2" ]; do
		[ -e "$tmp/done" ] && return 0
		sleep 1
		w=$((w + 1))
	done
	[ -e "$tmp/done" ] && return 0
	: >"$tmp/timedout"
	kill_tree "$1"
}

# The "settings" timeout of a collection directory (run_kselftest.sh's 45 s
# default when there is none).
settings_timeout() {
	t=45
	if [ -r "$1/settings" ]; then
		v=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' "$1/settings" | tail -n 1)
		[ -z "$v" ] || t=$v
	fi
	echo "$t"
}

# Line-buffered stdout for C programs, as run_kselftest.sh does, when the
# board has GNU stdbuf.
stdbuf=
[ ! -x /usr/bin/stdbuf ] || stdbuf="/usr/bin/stdbuf --output=L"

n=$(echo "$tests" | wc -l)
echo "TAP version 13"
echo "1..$n"
i=0
failed=0
for t in $tests; do
	i=$((i + 1))
	dir=$KSELFTEST_DIR/$COLLECTION/$(dirname "$t")
	prog=$(basename "$t")
	hdr="selftests: $COLLECTION: $prog"
	secs=$(settings_timeout "$dir")
	# the order run_kselftest.sh prints them in
	echo "# timeout set to $secs"
	echo "# $hdr"
	if [ ! -x "$dir/$prog" ]; then
		echo "# $me: $dir/$prog is missing or not executable"
		echo "not ok $i $hdr # exit=127"
		failed=1
		continue
	fi
	var=KSELFTEST_$(echo "$prog" | tr -d '[:blank:][:cntrl:]' | tr -c '[:alnum:]_' '_' | tr '[:lower:]' '[:upper:]')_ARGS
	args=
	eval "args=\${$var:-}"
	rm -f "$tmp/rc" "$tmp/done" "$tmp/timedout"
	{
		# shellcheck disable=SC2086 # the arguments are split on purpose, as the runner does
		(cd "$dir" && exec $stdbuf "./$prog" $args 2>&1) </dev/null &
		pid=$!
		watch "$pid" "$secs" >/dev/null 2>&1 </dev/null &
		wpid=$!
		wait "$pid"
		echo $? >"$tmp/rc"
		: >"$tmp/done"
		wait "$wpid"
	} | while IFS= read -r l || [ -n "$l" ]; do
		printf '# %s\n' "$l"
	done
	rc=$(cat "$tmp/rc" 2>/dev/null || echo 1)
	if [ -e "$tmp/timedout" ]; then
		echo "not ok $i $hdr # TIMEOUT $secs seconds"
		failed=1
		continue
	fi
	case $rc in
	0) echo "ok $i $hdr" ;;
	4) echo "ok $i $hdr # SKIP" ;;
	2) echo "ok $i $hdr # XFAIL" ;;
	*) echo "not ok $i $hdr # exit=$rc" && failed=1 ;;
	esac
done
exit "$failed"
