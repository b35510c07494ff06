#!/usr/bin/env bash
# Verdict of one boot from its logs, without booting anything:
#
#   ci/analyze.sh --ktap KTAP.log --console CONSOLE.log [--profile P]
#                 [--lane L] [--seconds N] [--timed-out N]
#
# Prints one line per reason to fail, then the summary line
#   mhi: P passed, F failed, S skipped (profile P, N s)
# and exits 0 only when the run is clean: the guest reported "rig: exit=0",
# the KTAP stream is complete with at least one pass and no failure, and the
# console has no kernel error report (panic, Oops, BUG, WARNING, KASAN, UBSAN,
# lockdep, DMA-API, kmemleak, hung task, lockups, RCU stalls). With --lane,
# the console must also show that the boot ran that lane (rig_lane_evidence).

# Kernel error reports on the console (extended regexps).
RIG_CONSOLE_BAD='Kernel panic|(^|[^A-Za-z])Oops[: ]|BUG: |kernel BUG at|WARNING:|general protection fault|Unable to handle kernel|KASAN:|UBSAN:|INFO: (possible|inconsistent|trying to register non-static key)|possible (circular|recursive) locking|inconsistent lock state|suspicious RCU usage|turning off the locking correctness validator|DEBUG_LOCKS_WARN_ON|DMA-API: |suspected memory leak|unreferenced object 0x|blocked for more than [0-9]+ seconds|soft lockup|hard LOCKUP|workqueue lockup|detected stalls? on CPU|self-detected stall|rcu_.* detected stall|list_(add|del) corruption|stack-protector|Kernel stack is corrupted|\] +not ok [0-9]+ |EXPECTATION FAILED at|ASSERTION FAILED at'
# Lines that match the above but are not reports.
RIG_CONSOLE_OK='Kernel command line:|DMA-API: preallocated [0-9]+ debug entries|DMA-API: debugging enabled by kernel config|rig: kmemleak: no leak'

# rig_console_scan CONSOLE.log: prints the report lines (at most 50, with line
# numbers) and fails if there is any.
rig_console_scan() {
	local hits
	hits=$(tr -d '\r' <"$1" | grep -nE "$RIG_CONSOLE_BAD" | grep -vE "$RIG_CONSOLE_OK" || true)
	[ -n "$hits" ] || return 0
	printf '%s\n' "$hits" | head -n 50
	return 1
}

# rig_ktap_summary KTAP.log: prints "pass fail skip plan results exit"
# - pass/fail/skip count the leaves of the KTAP tree at any nesting depth
#   (kselftest nests each program's own KTAP with "# "); a failed parent
#   whose children all passed counts as one more failure;
# - plan/results are the top-level plan and number of top-level results
#   (-1 when there is no plan);
# - exit is the number after "rig: exit=" (-1 if the line never came).
rig_ktap_summary() {
	awk '
	{ sub(/\r$/, "") }
	/^rig: exit=[0-9]+/ { rc = substr($0, 11) + 0; next }
	{
		line = $0; depth = 0
		while (1) {
			if (line ~ /^# /) { line = substr(line, 3); depth++ }
			else if (line ~ /^    /) { line = substr(line, 5); depth++ }
			else break
		}
		if (depth == 0 && line ~ /^1\.\.[0-9]+/) { plan = substr(line, 4) + 0; next }
		if (line !~ /^(not )?ok [0-9]+([ \t]|$)/) next
		ok = (line !~ /^not /)
		dir = ""
		if (match(line, /#[ \t]*[A-Za-z]+/)) {
			dir = toupper(substr(line, RSTART, RLENGTH)); sub(/^#[ \t]*/, "", dir)
		}
		if (depth == 0) top++
		if (children[depth]) {
			# a parent: its children were counted already
			if (!ok && !childfail[depth] && dir != "SKIP") { fail++; mark(depth) }
		} else if (dir == "SKIP") {
			skip++
		} else if (ok || dir == "TODO" || dir == "XFAIL") {
			pass++
		} else {
			fail++; mark(depth)
		}
		children[depth] = 0; childfail[depth] = 0
		for (d = 0; d < depth; d++) children[d] = 1
	}
	function mark(depth,   d) { for (d = 0; d < depth; d++) childfail[d] = 1 }
	BEGIN { rc = -1; plan = -1; pass = fail = skip = top = 0 }
	END { printf "%d %d %d %d %d %d\n", pass, fail, skip, plan, top, rc }
	' "$1"
}

# rig_verdict KTAP CONSOLE PROFILE SECONDS TIMED_OUT(0 or the limit)
# Failed result lines on stdin, each with the command that reruns it: a
# nested test by its name, the canary's results by the canary.
rig_rerun_hint() {
	local line name
	while IFS= read -r line; do
		name=${line#"${line%%not ok*}"}
		name=${name#not ok }
		name=${name#* }
		name=${name%% *}
		case $name in
		canary.*) printf '%s   (rerun: make run T=canary)\n' "$line" ;;
		*.*) printf '%s   (rerun: make run T=%s)\n' "$line" "$name" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done
}

# rig_lane_evidence CONSOLE.log LANE: prints why the boot did not run LANE,
# from what the kernel reported, not from the command line it was given:
# every probe of the link says which DMA mode it runs (async lanes: all
# asynchronous, others: all synchronous), and a bounce lane's guest reports
# the high-water mark of swiotlb slots used, which must not be zero. The
# link's KUnit suite (mhi_vlink_regs, run at each load) must have passed;
# a failure of it is a console report of its own.
# rig_lane_expect LANE REGIME LOG YES_RE YES_TEXT NO_RE NO_TEXT: every probe
# line of the link matches YES_RE when the lane has REGIME, NO_RE otherwise;
# prints the reason when not. Only the links the module parameters (the
# lane) configured count: the suite's configfs links run other modes.
rig_lane_expect() {
	local lane=$1 regime=$2 log=$3 nyes nno
	nyes=$(grep -cE "mhi-vlink[^ ]*: .*$4.*, configured by module parameters$" <<<"$log" || true)
	nno=$(grep -cE "mhi-vlink[^ ]*: .*$6.*, configured by module parameters$" <<<"$log" || true)
	if rig_lane_has "$lane" "$regime"; then
		[ "$nyes" -gt 0 ] && [ "$nno" -eq 0 ] ||
			echo "lane $lane: the link probed $nyes times $5, $nno times $7"
	else
		[ "$nno" -gt 0 ] && [ "$nyes" -eq 0 ] ||
			echo "lane $lane: the link probed $nno times $7, $nyes times $5"
	fi
}

# rig_lane_shape_evidence LANE LOG: what the echo client's shapes did, from
# the line it prints each time it is unloaded and the one the guest prints
# of its debugfs shapes file at the end ("ep_loopback_shapes echo_shape=...
# echoes=N split_echoes=S merged_echoes=M"), summed: a split lane split
# echoes and merged none, a coalesce lane merged echoes and split none, any
# other lane neither; every line names the lane's shape. A lane with a shape
# needs at least one line; a lane without one has nothing to prove without.
rig_lane_shape_evidence() {
	local lane=$1 log=$2 lines line shape=same param n=0 e s m echoes=0 split=0 merged=0
	rig_lane_has "$lane" split && shape="split"
	rig_lane_has "$lane" coalesce && shape="coalesce"
	lines=$(grep -E 'ep_loopback_shapes ' <<<"$log" || true)
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		param=$(sed -n 's/.* echo_shape=\([a-z]*\).*/\1/p' <<<"$line")
		e=$(sed -n 's/.* echoes=\([0-9][0-9]*\).*/\1/p' <<<"$line")
		s=$(sed -n 's/.* split_echoes=\([0-9][0-9]*\).*/\1/p' <<<"$line")
		m=$(sed -n 's/.* merged_echoes=\([0-9][0-9]*\).*/\1/p' <<<"$line")
		if [ -z "$e" ] || [ -z "$s" ] || [ -z "$m" ]; then
			echo "lane $lane: unreadable shapes line: $line"
			continue
		fi
		[ "$param" = "$shape" ] ||
			echo "lane $lane: the echo client's echo_shape is '${param:-none}', not $shape"
		n=$((n + 1)) echoes=$((echoes + e)) split=$((split + s)) merged=$((merged + m))
	done <<<"$lines"
	if [ "$n" -eq 0 ]; then
		[ "$shape" = same ] ||
			echo "lane $lane: the echo client printed no shapes (no 'ep_loopback_shapes' line)"
		return 0
	fi
	case $shape in
	split)
		[ "$split" -gt 0 ] && [ "$merged" -eq 0 ] ||
			echo "lane $lane: the echo client split $split of $echoes echoes and merged $merged: shape split not in effect"
		;;
	coalesce)
		[ "$merged" -gt 0 ] && [ "$split" -eq 0 ] ||
			echo "lane $lane: the echo client merged $merged of $echoes echoes and split $split: shape coalesce not in effect"
		;;
	*)
		[ "$split" -eq 0 ] && [ "$merged" -eq 0 ] ||
			echo "lane $lane: the echo client split $split and merged $merged of $echoes echoes: shape same expected"
		;;
	esac
}

rig_lane_evidence() {
	local console=$1 lane=$2 nkunit hiwater
	local log
	log=$(tr -d '\r' <"$console")
	# grep -c, not -q: grep -q stops at the first match, and the writer then
	# dies of SIGPIPE, which pipefail reports as a failed pipeline
	nkunit=$(grep -cE '(^|\] )ok [0-9]+ mhi_vlink_regs$' <<<"$log" || true)
	[ "$nkunit" -gt 0 ] ||
		echo "lane $lane: the link's KUnit suite mhi_vlink_regs never passed"
	# every probe of the link prints its DMA mode and event ring layout
	rig_lane_expect "$lane" async "$log" 'Asynchronous DMA' 'with asynchronous DMA' \
		'Synchronous DMA' 'with synchronous DMA'
	rig_lane_expect "$lane" ctrl "$log" 'DMA, .*events on the control ring' \
		'with LOOPBACK events on the control ring' 'DMA, .*events on the data ring' \
		'with LOOPBACK events on a data ring'
	rig_lane_expect "$lane" intmod "$log" "DMA, .*moderated $RIG_LANE_INTMOD_MS ms" \
		'with a moderated event ring' 'DMA, .*moderated 0 ms' 'unmoderated'
	rig_lane_shape_evidence "$lane" "$log"
	if rig_lane_has "$lane" bounce; then
		hiwater=$(sed -n 's/.*rig: swiotlb_hiwater=\([0-9][0-9]*\).*/\1/p' <<<"$log" | tail -n 1)
		[ -n "$hiwater" ] && [ "$hiwater" -gt 0 ] ||
			echo "lane $lane: no buffer went through swiotlb (hiwater '${hiwater:-none}')"
	fi
}

rig_verdict() {
	local ktap=$1 console=$2 profile=$3 secs=$4 timed_out=$5 lane=${6:-} bad=0 hits
	local pass fail skip plan top rc
	read -r pass fail skip plan top rc < <(rig_ktap_summary "$ktap")
	if [ "$timed_out" != 0 ]; then
		echo "[rig] FAIL: the time limit of $timed_out s passed (raise it with TIMEOUT=)"
		bad=1
	fi
	if [ "$rc" = -1 ]; then
		echo "[rig] FAIL: the guest never reported 'rig: exit=' (crash, hang or time limit)"
		bad=1
	elif [ "$rc" != 0 ]; then
		echo "[rig] FAIL: run_kselftest.sh exited with $rc"
		bad=1
	fi
	if [ "$fail" -gt 0 ]; then
		echo "[rig] FAIL: $fail test(s) failed:"
		tr -d '\r' <"$ktap" | grep -E '^(# )*not ok [0-9]+' | grep -vE '#[[:space:]]*(SKIP|TODO|XFAIL)' | head -n 30 |
			rig_rerun_hint | sed 's/^/[rig]   /'
		bad=1
	fi
	if [ "$plan" -ge 0 ] && [ "$top" -lt "$plan" ]; then
		echo "[rig] FAIL: the KTAP stream stopped early: plan 1..$plan, $top results"
		bad=1
	elif [ "$plan" -lt 0 ] && [ "$rc" != -1 ]; then
		echo "[rig] FAIL: no KTAP plan line in the stream"
		bad=1
	fi
	if [ $((pass + fail + skip)) -eq 0 ]; then
		echo "[rig] FAIL: no test result in the KTAP stream"
		bad=1
	elif [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then
		echo "[rig] FAIL: every test skipped: the rig must provide what the tests need"
		bad=1
	fi
	if ! hits=$(rig_console_scan "$console"); then
		echo "[rig] FAIL: kernel error reports on the console:"
		printf '%s\n' "$hits" | sed 's/^/[rig]   /'
		bad=1
	fi
	if [ -n "$lane" ] && hits=$(rig_lane_evidence "$console" "$lane") && [ -n "$hits" ]; then
		printf '%s\n' "$hits" | sed 's/^/[rig] FAIL: /'
		bad=1
	fi
	# shellcheck disable=SC2034 # read by ci/boot.sh
	RIG_RESULT="$pass $fail $skip"
	echo "mhi: $pass passed, $fail failed, $skip skipped (profile $profile${lane:+, lane $lane}, $secs s)"
	return $bad
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	# shellcheck source=ci/lib.sh
	. "$(dirname "$0")/lib.sh"
	ktap='' console='' profile=default lane='' secs=0 timed_out=0
	while [ $# -gt 0 ]; do
		case $1 in
		--ktap) ktap=$2 ;;
		--console) console=$2 ;;
		--profile) profile=$2 ;;
		--lane)
			lane=$2
			if ! msg=$(rig_check_lane "$lane"); then
				echo "[rig] error: --$msg" >&2
				exit 2
			fi
			;;
		--seconds) secs=$2 ;;
		--timed-out) timed_out=$2 ;;
		*)
			echo "usage: $0 --ktap FILE --console FILE [--profile P] [--lane L] [--seconds N] [--timed-out N]" >&2
			exit 2
			;;
		esac
		shift 2
	done
	if [ ! -r "$ktap" ] || [ ! -r "$console" ]; then
		echo "[rig] error: --ktap and --console must name readable files" >&2
		exit 2
	fi
	rig_verdict "$ktap" "$console" "$profile" "$secs" "$timed_out" "$lane"
fi
