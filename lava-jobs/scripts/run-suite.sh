#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run one kselftest collection on the board and stream every KTAP result into
# LAVA while the tests run (ktap --mode lava calls lava-test-case per result).
#
# usage: run-suite.sh [-c COLLECTION] [-d KSELFTEST_DIR] [-l KTAP_LOG] [-t SECONDS]
#
# Environment (the options win):
#   COLLECTION      kselftest collection to run                    (mhi)
#   KSELFTEST_DIR   where run_kselftest.sh is installed            (/opt/kselftests)
#   KTAP_LOG        copy of the raw KTAP stream                    (/tmp/kselftest-COLLECTION.ktap)
#   SUITE_TIMEOUT   seconds before the whole run is stopped, 0=off (0)
#   KTAP            the KTAP to LAVA converter                     (ktap)
#   SYSRQ_TRIGGER   written with "w" (blocked tasks) on a timeout  (/proc/sysrq-trigger)
#   ECHO_KTAP       1: also copy the stream to stderr for the log  (1)
#   MHI_LT_HARDWARE 1: a hardware job. It reaches mhi_loopback_test (never
#                   load the virtual link, skip the tests that need it), and
#                   the run is refused when the only MHI controller is the
#                   virtual link (mhi_vlink)                       (0)
#   SYSFS           where sysfs is mounted                         (/sys)
#   KSELFTEST_<TEST>_ARGS  passed to the test by run_kselftest.sh itself, e.g.
#                   KSELFTEST_MHI_LOOPBACK_TEST_ARGS to pick a device.
#
# Besides the per-test results it reports two cases of its own:
#   <collection>-runner  pass when run_kselftest.sh exited 0 (measurement: its exit code)
#   <collection>-ktap    pass when ktap could read the stream (exit 0 or 1)
# Without ktap on PATH the raw KTAP is printed instead, and without the LAVA
# helpers the two cases are printed as raw <LAVA_SIGNAL_TESTCASE ...> lines.
#
# Exit status: the runner's when it failed (124 after SUITE_TIMEOUT), else
# ktap's (1: failures, 2: unreadable KTAP), 0 when both passed, 3 on a setup error
# (a refused hardware run included: <collection>-runner fails with 3).
# POSIX sh only: this runs on busybox boards.

set -u

me=run-suite

COLLECTION=${COLLECTION:-mhi}
KSELFTEST_DIR=${KSELFTEST_DIR:-/opt/kselftests}
KTAP_LOG=${KTAP_LOG:-}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-0}
KTAP=${KTAP:-ktap}
SYSRQ_TRIGGER=${SYSRQ_TRIGGER:-/proc/sysrq-trigger}
ECHO_KTAP=${ECHO_KTAP:-1}
MHI_LT_HARDWARE=${MHI_LT_HARDWARE:-0}
SYSFS=${SYSFS:-/sys}

die() {
	echo "$me: $*" >&2
	exit 3
}

usage() {
	echo "usage: $me [-c COLLECTION] [-d KSELFTEST_DIR] [-l KTAP_LOG] [-t SECONDS]" >&2
	exit 3
}

while getopts c:d:l:t:h opt; do
	case $opt in
	c) COLLECTION=$OPTARG ;;
	d) KSELFTEST_DIR=$OPTARG ;;
	l) KTAP_LOG=$OPTARG ;;
	t) SUITE_TIMEOUT=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

KTAP_LOG=${KTAP_LOG:-/tmp/kselftest-$COLLECTION.ktap}
case $SUITE_TIMEOUT in
'' | *[!0-9]*) die "SUITE_TIMEOUT must be a whole number of seconds, not '$SUITE_TIMEOUT'" ;;
esac
[ -x "$KSELFTEST_DIR/run_kselftest.sh" ] ||
	die "no executable $KSELFTEST_DIR/run_kselftest.sh (kselftests not installed? set KSELFTEST_DIR)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-suite.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT

# report NAME RESULT MEASUREMENT UNITS
report() {
	if command -v lava-test-case >/dev/null 2>&1; then
		lava-test-case "$1" --result "$2" --measurement "$3" --units "$4"
	else
		echo "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$1 RESULT=$2 MEASUREMENT=$3 UNITS=$4>"
	fi
}

# Counts the MHI controllers (mhi<N>) into nv (the virtual link: their
# parent device is bound to the mhi-vlink platform driver) and no (others);
# vl lists the names of the first kind.
count_controllers() {
	nv=0
	no=0
	vl=
	for c in "$SYSFS"/bus/mhi/devices/mhi*; do
		name=${c##*/}
		case ${name#mhi} in
		'' | *[!0-9]*) continue ;;
		esac
		[ -e "$c" ] || continue
		drv=$(readlink "$c/../driver" 2>/dev/null) || drv=
		if [ "${drv##*/}" = mhi-vlink ]; then
			nv=$((nv + 1))
			vl="${vl:+$vl, }$name"
		else
			no=$((no + 1))
		fi
	done
}

case $MHI_LT_HARDWARE in
0 | '') ;;
*)
	export MHI_LT_HARDWARE
	count_controllers
	if [ "$nv" -gt 0 ] && [ "$no" -eq 0 ]; then
		echo "$me: hardware job (MHI_LT_HARDWARE=$MHI_LT_HARDWARE), but the only MHI controller is the virtual link ($vl on mhi_vlink): refusing to run" >&2
		report "$COLLECTION-runner" fail 3 exit
		exit 3
	fi
	;;
esac

# Print the pids of the children of process $1.
children() {
	want=$1
	for st in /proc/[0-9]*/stat; do
		line=
		read -r line 2>/dev/null <"$st" || continue
		# The ppid is the second field after the ")" that ends the command name.
		# shellcheck disable=SC2086 # split the fields on purpose
		set -- ${line##*) }
		if [ "${2:-}" = "$want" ]; then
			p=${st%/stat}
			echo "${p##*/}"
		fi
	done
}

# TERM, then KILL, process $1 and all its descendants. A task stuck in the
# kernel (D state) survives; its parent does not, so the run returns anyway.
kill_tree() {
	all=
	todo=$1
	while [ -n "$todo" ]; do
		next=
		for p in $todo; do
			all="$all $p"
			for c in $(children "$p"); do
				next="$next $c"
			done
		done
		todo=$next
	done
	# shellcheck disable=SC2086 # one argument per pid
	kill -TERM $all 2>/dev/null
	sleep 1
	# shellcheck disable=SC2086
	kill -KILL $all 2>/dev/null
	return 0
}

# Stop the run after SUITE_TIMEOUT seconds, unless $tmp/done shows up first.
watchdog() {
	n=0
	while [ "$n" -lt "$SUITE_TIMEOUT" ]; do
		[ -e "$tmp/done" ] && return 0
		sleep 1
		n=$((n + 1))
	done
	[ -e "$tmp/done" ] && return 0
	: >"$tmp/timedout"
	echo "$me: $COLLECTION still running after ${SUITE_TIMEOUT}s: dumping blocked tasks and stopping it" >&2
	if [ -w "$SYSRQ_TRIGGER" ]; then
		echo w >"$SYSRQ_TRIGGER" 2>/dev/null
	fi
	kill_tree "$1"
}

if command -v "$KTAP" >/dev/null 2>&1; then
	have_ktap=1
else
	have_ktap=0
	echo "$me: '$KTAP' not found: printing the raw KTAP, no per-test LAVA results" >&2
fi

# Copy stdin to stdout and to fd 3 (the KTAP log), and to stderr (the LAVA
# log) unless ECHO_KTAP=0. Reopening /dev/stderr or /proc/self/fd/2 instead
# would truncate a log file that stderr points to.
fanout() {
	while IFS= read -r l || [ -n "$l" ]; do
		printf '%s\n' "$l"
		printf '%s\n' "$l" >&3
		[ "$ECHO_KTAP" = 0 ] || printf '%s\n' "$l" >&2
	done
}

echo "$me: running collection '$COLLECTION' from $KSELFTEST_DIR (KTAP copy: $KTAP_LOG)" >&2
(
	cd "$KSELFTEST_DIR" || exit 3
	{
		./run_kselftest.sh -c "$COLLECTION" 2>&1
		echo $? >"$tmp/runner.rc"
	} |
		if [ "$have_ktap" = 1 ]; then
			fanout 3>"$KTAP_LOG" | {
				"$KTAP" --mode lava
				echo $? >"$tmp/ktap.rc"
			}
		else
			tee "$KTAP_LOG"
		fi
) &
pid=$!

wpid=
if [ "$SUITE_TIMEOUT" -gt 0 ]; then
	watchdog "$pid" </dev/null &
	wpid=$!
fi
wait "$pid"
if [ -n "$wpid" ]; then
	: >"$tmp/done"
	wait "$wpid"
fi

if [ -e "$tmp/timedout" ]; then
	runner_rc=124
elif [ -s "$tmp/runner.rc" ]; then
	runner_rc=$(cat "$tmp/runner.rc")
else
	echo "$me: run_kselftest.sh left no exit status" >&2
	runner_rc=3
fi
if [ "$runner_rc" -eq 0 ]; then r=pass; else r=fail; fi
report "$COLLECTION-runner" "$r" "$runner_rc" exit

ktap_rc=0
if [ "$have_ktap" = 1 ] && [ ! -e "$tmp/timedout" ]; then
	if [ -s "$tmp/ktap.rc" ]; then
		ktap_rc=$(cat "$tmp/ktap.rc")
	else
		ktap_rc=2
	fi
	if [ "$ktap_rc" -le 1 ]; then r=pass; else r=fail; fi
	report "$COLLECTION-ktap" "$r" "$ktap_rc" exit
fi

echo "$me: run_kselftest.sh exit $runner_rc, ktap exit $ktap_rc" >&2
[ "$runner_rc" -ne 0 ] && exit "$runner_rc"
exit "$ktap_rc"
