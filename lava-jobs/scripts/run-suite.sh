#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run one kselftest collection on the board and stream every KTAP result into
# LAVA while the tests run (ktap --mode lava calls lava-test-case per result).
#
# usage: run-suite.sh [-c COLLECTION] [-d KSELFTEST_DIR] [-l KTAP_LOG] [-t SECONDS]
#                     [-r auto|kselftest|direct] [-s]
#
# Environment (the options win):
#   COLLECTION      kselftest collection to run                    (mhi)
#   KSELFTEST_DIR   where run_kselftest.sh is installed            (/opt/kselftests)
#   KTAP_LOG        copy of the raw KTAP stream                    (/tmp/kselftest-COLLECTION.ktap)
#   SUITE_TIMEOUT   seconds before the whole run is stopped, 0=off (0)
#   RUNNER          -r: what runs the collection                   (auto)
#                   kselftest: run_kselftest.sh; direct: run-direct.sh beside
#                   this script (same KTAP, streamed line by line without
#                   perl); auto: kselftest if /usr/bin/perl exists (the runner
#                   then prefixes with perl, unbuffered), else direct
#   SKIPS_EXPECTED  -s: 1 = a run in which every test skipped (or none ran)
#                   passes the verdict                             (0)
#   KTAP            the KTAP to LAVA converter                     (ktap)
#   SYSRQ_TRIGGER   written with "w" (blocked tasks) on a timeout  (/proc/sysrq-trigger)
#   ECHO_KTAP       1: also copy the stream to stderr for the log  (1)
#   MHI_LT_HARDWARE 1: a hardware job. It reaches mhi_loopback_test (never
#                   load the virtual link, skip the tests that need it), and
#                   the run is refused when the only MHI controller is the
#                   virtual link (mhi_vlink)                       (0)
#   SYSFS           where sysfs is mounted                         (/sys)
#   KSELFTEST_<TEST>_ARGS  passed to the test by the runner, e.g.
#                   KSELFTEST_MHI_LOOPBACK_TEST_ARGS to pick a device.
#
# Besides the per-test results it reports three cases of its own:
#   <collection>-runner   pass when the runner exited 0 (measurement: its exit code)
#   <collection>-ktap     pass when ktap could read the stream (exit 0 or 1)
#   <collection>-verdict  the run as a whole: pass when the runner and ktap
#                         passed and at least one test ran (passed or failed;
#                         unless SKIPS_EXPECTED=1); measurement: tests that ran
# Without ktap on PATH the raw KTAP is printed instead (the verdict then counts
# the result lines itself), and without the LAVA helpers the cases are printed
# as raw <LAVA_SIGNAL_TESTCASE ...> lines.
#
# Exit status: the runner's when it failed (124 after SUITE_TIMEOUT), else
# ktap's (1: failures, 2: unreadable KTAP), else 4 when no test ran and
# SKIPS_EXPECTED is not 1, 0 when all passed, 3 on a setup error (a refused
# hardware run included: <collection>-runner fails with 3). A setup error
# fails <collection>-verdict too.
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
RUNNER=${RUNNER:-auto}
SKIPS_EXPECTED=${SKIPS_EXPECTED:-0}
MHI_LT_HARDWARE=${MHI_LT_HARDWARE:-0}
SYSFS=${SYSFS:-/sys}
here=$(cd "$(dirname "$0")" && pwd)

# report NAME RESULT MEASUREMENT UNITS
report() {
	if command -v lava-test-case >/dev/null 2>&1; then
		lava-test-case "$1" --result "$2" --measurement "$3" --units "$4"
	else
		echo "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$1 RESULT=$2 MEASUREMENT=$3 UNITS=$4>"
	fi
}

# A setup error: nothing ran, and the verdict says so.
die() {
	echo "$me: $*" >&2
	report "$COLLECTION-verdict" fail 0 tests
	exit 3
}

usage() {
	die "usage: $me [-c COLLECTION] [-d KSELFTEST_DIR] [-l KTAP_LOG] [-t SECONDS] [-r auto|kselftest|direct] [-s]"
}

while getopts c:d:l:t:r:sh opt; do
	case $opt in
	c) COLLECTION=$OPTARG ;;
	d) KSELFTEST_DIR=$OPTARG ;;
	l) KTAP_LOG=$OPTARG ;;
	t) SUITE_TIMEOUT=$OPTARG ;;
	r) RUNNER=$OPTARG ;;
	s) SKIPS_EXPECTED=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

KTAP_LOG=${KTAP_LOG:-/tmp/kselftest-$COLLECTION.ktap}
case $SUITE_TIMEOUT in
'' | *[!0-9]*) die "SUITE_TIMEOUT must be a whole number of seconds, not '$SUITE_TIMEOUT'" ;;
esac
if [ "$RUNNER" = auto ]; then
	if [ -x /usr/bin/perl ]; then RUNNER=kselftest; else RUNNER=direct; fi
fi
case $RUNNER in
kselftest)
	[ -x "$KSELFTEST_DIR/run_kselftest.sh" ] ||
		die "no executable $KSELFTEST_DIR/run_kselftest.sh (kselftests not installed? set KSELFTEST_DIR)"
	runner() { ./run_kselftest.sh -c "$COLLECTION"; }
	;;
direct)
	[ -r "$KSELFTEST_DIR/kselftest-list.txt" ] ||
		die "no $KSELFTEST_DIR/kselftest-list.txt (kselftests not installed? set KSELFTEST_DIR)"
	[ -x "$here/run-direct.sh" ] || die "no executable $here/run-direct.sh (install lava-jobs/scripts whole)"
	runner() { "$here/run-direct.sh" -c "$COLLECTION" -d "$KSELFTEST_DIR"; }
	;;
*) die "RUNNER must be auto, kselftest or direct, not '$RUNNER'" ;;
esac
case $SKIPS_EXPECTED in
0 | 1) ;;
*) die "SKIPS_EXPECTED must be 0 or 1, not '$SKIPS_EXPECTED'" ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-suite.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT

# Counts the MHI controllers (mhi<N>) into nv (the virtual link: their
# parent device is a faux device mhi-vlink.<id>) and no (others);
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
		bus=$(readlink "$c/../subsystem" 2>/dev/null) || bus=
		parent=$(readlink "$c" 2>/dev/null) || parent=
		parent=${parent%/*}
		case ${bus##*/}:${parent##*/} in
		faux:mhi-vlink.*) is_vlink=1 ;;
		*) is_vlink=0 ;;
		esac
		if [ "$is_vlink" = 1 ]; then
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
		report "$COLLECTION-runner" fail 3 exit
		die "hardware job (MHI_LT_HARDWARE=$MHI_LT_HARDWARE), but the only MHI controller is the virtual link ($vl on mhi_vlink): refusing to run"
	fi
	;;
esac

# children PID, kill_tree PID
# shellcheck disable=SC1091 # beside this script
. "$here/proc-tree.sh"

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

# count_results KTAP_FILE: "P passed, F failed, S skipped" without ktap.
# A program's own line counts only when the program printed no results of
# its own (the runner's "# " prefix marks the nested ones).
count_results() {
	awk '
	function leaf(line) {
		if (tolower(line) ~ / # *skip/) s++
		else if (line ~ /^(# )*not ok /) f++
		else p++
	}
	/^(# )+(not )?ok [0-9]/ { leaf($0); nested = 1; next }
	/^(not )?ok [0-9]/ { if (!nested) leaf($0); nested = 0 }
	END { printf "%d passed, %d failed, %d skipped\n", p, f, s }
	' "$1"
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

echo "$me: running collection '$COLLECTION' from $KSELFTEST_DIR with the $RUNNER runner (KTAP copy: $KTAP_LOG)" >&2
(
	cd "$KSELFTEST_DIR" || exit 3
	{
		runner 2>&1
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

# The verdict: "P passed, F failed, S skipped" from ktap, or counted here.
counts=
if [ "$have_ktap" = 1 ]; then
	counts=$("$KTAP" --mode summary "$KTAP_LOG" 2>/dev/null | tail -n 1)
fi
case $counts in
*" passed, "*" failed, "*" skipped"*) ;;
*) counts=$(count_results "$KTAP_LOG") ;;
esac
passed=$(echo "$counts" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
failed=$(echo "$counts" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
ran=$((${passed:-0} + ${failed:-0}))
why=
if [ "$runner_rc" -ne 0 ]; then
	why="the runner exited $runner_rc"
elif [ "$ktap_rc" -ne 0 ]; then
	why="ktap exited $ktap_rc"
elif [ "$ran" -eq 0 ] && [ "$SKIPS_EXPECTED" != 1 ]; then
	why="no test ran: every result was a skip, or there was none (set SKIPS_EXPECTED=1 if the job expects that)"
fi
if [ -z "$why" ]; then r=pass; else r=fail; fi
echo "$me: verdict $r: $counts${why:+; $why}" >&2
report "$COLLECTION-verdict" "$r" "$ran" tests

echo "$me: runner ($RUNNER) exit $runner_rc, ktap exit $ktap_rc" >&2
[ "$runner_rc" -ne 0 ] && exit "$runner_rc"
[ "$ktap_rc" -ne 0 ] && exit "$ktap_rc"
[ -n "$why" ] && exit 4
exit 0
