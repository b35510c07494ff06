#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel log into the LAVA log and report what it says about the
# tests, as two LAVA test cases (measurement: number of lines):
#   dmesg-crit   lines at emerg/alert/crit level
#   dmesg-oops   BUG/WARNING/Oops/KASAN/UBSAN/KFENCE/lockdep/hung task/... reports
# Only the part of the log from the last SINCE marker on is judged (default:
# the "kselftest: Running tests in" line that run_kselftest.sh writes), so
# boot-time noise of the board does not fail the tests; without a marker the
# whole log is judged.
#
# usage: collect-dmesg.sh [-s MARKER] [-o FILE]
#   -s MARKER  judge the log from the last line containing MARKER ("" = all;
#              same as SINCE)
#   -o FILE    also keep the raw log in FILE
# Environment: SINCE (see -s), DMESG (the dmesg command, dmesg).
#
# LAVA markers that lava-signal: kmsg left in the log are defused before
# printing, so the dispatcher does not count those test cases twice.
# Exit status: 0 nothing found, 1 findings (see the cases), 2 no log readable.
# POSIX sh only (busybox boards).

set -u

me=collect-dmesg
SINCE=${SINCE-kselftest: Running tests in}
DMESG=${DMESG:-dmesg}
OUT=

while getopts s:o:h opt; do
	case $opt in
	s) SINCE=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*)
		echo "usage: $me [-s MARKER] [-o FILE]" >&2
		exit 2
		;;
	esac
done

tmp=$(mktemp "${TMPDIR:-/tmp}/dmesg.XXXXXX") || exit 2
trap 'rm -f "$tmp"' EXIT

# -r keeps the <priority> prefixes (busybox and util-linux both have it).
if ! "$DMESG" -r >"$tmp" 2>/dev/null || [ ! -s "$tmp" ]; then
	echo "$me: cannot read the kernel log (dmesg -r failed or printed nothing)" >&2
	exit 2
fi
[ -z "$OUT" ] || cp "$tmp" "$OUT" || echo "$me: cannot write $OUT" >&2

report() {
	if command -v lava-test-case >/dev/null 2>&1; then
		lava-test-case "$1" --result "$2" --measurement "$3" --units lines
	else
		echo "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$1 RESULT=$2 MEASUREMENT=$3 UNITS=lines>"
	fi
}

start=0
if [ -n "$SINCE" ]; then
	start=$(awk -v m="$SINCE" 'index($0, m) { n = NR } END { print n + 0 }' "$tmp")
	if [ "$start" -eq 0 ]; then
		echo "$me: no '$SINCE' line in the log: judging all of it" >&2
	fi
fi

echo "---- $me: kernel log begin ----"
awk '{ gsub(/<LAVA_SIGNAL_/, "[lava-signal "); print }' "$tmp"
echo "---- $me: kernel log end ----"

counts=$(awk -v start="$start" '
	NR < start || index($0, "LAVA_SIGNAL_") { next }
	{
		if (match($0, /^<[0-9]+>/) && substr($0, 2, RLENGTH - 2) % 8 <= 2)
			crit++
		if ($0 ~ /(BUG:|WARNING:|Oops|general protection fault|Kernel panic|KASAN:|UBSAN:|KFENCE:|kmemleak:|DMA-API:|possible (recursive|circular) locking|blocked for more than|detected stall|Unable to handle kernel)/)
			oops++
	}
	END { print crit + 0, oops + 0 }
' "$tmp")
crit=${counts% *}
oops=${counts#* }
echo "$me: $crit emerg/alert/crit lines, $oops kernel error reports since '${SINCE:-boot}'"

rc=0
if [ "$crit" -eq 0 ]; then r=pass; else r=fail rc=1; fi
report dmesg-crit "$r" "$crit"
if [ "$oops" -eq 0 ]; then r=pass; else r=fail rc=1; fi
report dmesg-oops "$r" "$oops"
exit "$rc"
