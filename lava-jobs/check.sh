#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check the LAVA jobs of this project in three steps:
#   1. validate every job and test definition with Debian's lava-common
#      (strict schema, inline definitions included) and with lava-server's
#      own submission schema (lavacheck.py validate); the jobs' timeouts
#      against the suite's (lavatimeouts.py)
#   2. shellcheck the board scripts and the run steps of every definition as
#      POSIX sh
#   3. on a local LAVA server (lava-jobs/server.sh: PostgreSQL, lava-server,
#      lava-scheduler, lava-coordinator, lava-worker from Debian), submit
#      qemu-mhi-vlink.yaml with lavacli, wait for it, read its results back
#      from the server, fail unless every case passed, and compare them case
#      by case with the KTAP of the same run (lavaresults.py); then submit
#      multinode-host-endpoint.yaml and check that the server schedules it on
#      its two board stand-ins.
# Step 3 boots the rig's kernel and initramfs (built by "make initramfs":
# .cache/build/default/arch/x86/boot/bzImage, .cache/rig/default/initramfs.cpio.gz),
# so the job runs the real mhi suite over the virtual link, its results
# streamed by the real tools/testing/ktap parser.
#
# usage: lava-jobs/check.sh [--kernel BZIMAGE] [--initramfs CPIO_GZ] [--no-run]
#        lava-jobs/check.sh --expectations   (print what step 3 requires)
# Environment: LAVA_KERNEL, LAVA_INITRAMFS (same as the options), LAVA_RUN=no
# (validation only), LAVA_CACHE (.cache/lava), LAVA_RUN_TIMEOUT (seconds,
# 3000), LAVA_ALLOW_SKIP=1 (skips count as passes), LAVA_RUNNER (the QEMU
# job's RUNNER: direct), LAVA_LOCK_WAIT (seconds to wait for another check's
# server, 3600). Missing Debian packages are installed with apt-get (root).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${LAVA_CACHE:-$repo/.cache/lava}
py=/usr/bin/python3
kernel=${LAVA_KERNEL:-$repo/.cache/build/default/arch/x86/boot/bzImage}
initramfs=${LAVA_INITRAMFS:-}
if [ -z "$initramfs" ]; then
	# ci/initramfs.sh writes the second one; the first is the older name.
	for initramfs in "$repo/.cache/initramfs/default.cpio.gz" "$repo/.cache/rig/default/initramfs.cpio.gz"; do
		[ -f "$initramfs" ] && break
	done
fi
run_mode=${LAVA_RUN:-auto}
run_timeout=${LAVA_RUN_TIMEOUT:-3000}

say() { printf 'lava-check: %s\n' "$*"; }
fail() {
	printf 'lava-check: FAIL: %s\n' "$*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2 && shift 2 ;;
	--initramfs) initramfs=$2 && shift 2 ;;
	--no-run) run_mode=no && shift ;;
	--expectations) run_mode=expectations && shift ;;
	-h | --help) sed -n '3,30s/^# \{0,1\}//p' "$0" && exit 0 ;;
	*) fail "unknown argument '$1' (see --help)" ;;
	esac
done

# What the QEMU job must report (step 3), from what ktap makes of the real
# suite's output (tests/data/ktap/suite-default.ktap, default profile; its
# 'ktap --mode list' has 377 cases): 76 harness tests and 246 canary
# results, the two programs' own results, 53 declared measurements
# ('<test>.<NAME>' cases), plus the job's own steps: mhi-runner, mhi-ktap and
# mhi-verdict (run-suite.sh), dmesg-crit and dmesg-oops (collect-dmesg.sh).
# Any case less means a test, a measurement or a step went missing
# (tests/lava.bats checks these numbers against the capture).
min_cases=382
expect=(
	# the default profile has no kmemleak: the suite skips that one check
	--expect mhi.mhi_loopback_test.leak.kmemleak=skip
	--expect mhi.mhi_loopback_test=pass
	--expect mhi.mhi_loopback_canary.sh=pass
	--expect mhi.mhi_loopback_test.race.held_start_vs_unbind=pass
	--expect mhi.mhi_loopback_canary.sh.canary.drop_echo.tre_4096_num_cap=pass
	--expect mhi.mhi_loopback_test.measure.throughput.throughput_tre_65535_num_cap=pass
	--expect mhi.mhi_loopback_test.measure.start_latency_1B.start_latency_1B_p99=pass
	--expect mhi-runner=pass
	--expect mhi-ktap=pass
	--expect mhi-verdict=pass
	--expect dmesg-oops=pass
)
if [ "$run_mode" = expectations ]; then
	echo "min-cases $min_cases"
	printf '%s\n' "${expect[@]}" | grep -v '^--expect$' | sed 's/^/expect /'
	exit 0
fi
mkdir -p "$cache"

# need PACKAGE...: apt-get install the ones that are missing.
need() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || fail "missing Debian packages ${missing[*]} (run as root or install them)"
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$cache/apt.log" 2>&1; then
		apt-get update >>"$cache/apt.log" 2>&1 || true
		apt-get install -y --no-install-recommends "${missing[@]}" >>"$cache/apt.log" 2>&1 ||
			fail "apt-get install ${missing[*]} failed (see $cache/apt.log)"
	fi
}

jobs=("$here"/*.yaml)
testdefs=("$here"/testdefs/*.yaml)
scripts=("$here"/scripts/*.sh)

# ---- 1. schema validation
need lava-common python3-yaml python3-voluptuous lava-server
say "validating ${#jobs[@]} jobs and ${#testdefs[@]} test definitions (lava-common $(dpkg-query -W -f='${Version}' lava-common), strict, and lava-server's submission schema)"
"$py" "$here/lavacheck.py" validate --repo "$repo" "${jobs[@]}" "${testdefs[@]}" ||
	fail "LAVA schema validation (see the INVALID lines above)"
# The timeouts follow from the suite's: its settings give the runner's limit.
"$py" "$here/lavatimeouts.py" --settings "$repo/tools/testing/selftests/mhi/settings" "${jobs[@]}" ||
	fail "the jobs' timeouts (see the TIMEOUTS lines above; lava-jobs/README.md, \"Timeouts\")"

# ---- 2. shell
need shellcheck dash busybox-static
steps_dir=$(mktemp -d)
trap 'rm -rf "$steps_dir"' EXIT
for f in "${jobs[@]}" "${testdefs[@]}"; do
	"$py" "$here/lavacheck.py" steps "$f" "$steps_dir" >/dev/null ||
		fail "cannot extract the run steps of $f"
done
say "shellcheck -s sh: ${#scripts[@]} scripts and the run steps of every definition"
shellcheck -s sh "${scripts[@]}" || fail "shellcheck of lava-jobs/scripts"
shellcheck -s sh "$steps_dir"/*.sh || fail "shellcheck of the definitions' run steps (files named after the definitions)"
shellcheck -s bash "$0" "$here/server.sh" || fail "shellcheck of lava-jobs/check.sh, server.sh"
for f in "${scripts[@]}"; do
	[ -x "$f" ] || fail "$f is not executable (the steps and run-suite.sh run it directly)"
	dash -n "$f" || fail "dash cannot parse $f"
	busybox sh -n "$f" || fail "busybox sh cannot parse $f"
done

# ---- 3. the QEMU job, and the multinode job, through a LAVA server
if [ "$run_mode" = no ]; then
	say "server run skipped (--no-run / LAVA_RUN=no)"
	say "PASS (validation and shellcheck only)"
	exit 0
fi
[ "$run_mode" = auto ] || fail "LAVA_RUN must be auto or no, not '$run_mode'"
[ -f "$kernel" ] || fail "no kernel at $kernel: run 'make initramfs' first, or pass --kernel"
[ -f "$initramfs" ] || fail "no initramfs at ${initramfs:-.cache/rig/default/initramfs.cpio.gz}: run 'make initramfs' first, or pass --initramfs"

need qemu-system-x86 cpio file git postgresql lava-server lava-dispatcher lava-coordinator lavacli

work=$cache/run
server_state=$cache/server
ktap_host=$cache/ktap-host
lavacli=(lavacli)

# One server per machine: another checkout's check waits here.
lock=/run/lock/mhi-loopback-lava-check.lock
exec 9>"$lock"
if ! flock -n 9; then
	say "waiting for the LAVA server of another check (lock $lock) ..."
	flock -w "${LAVA_LOCK_WAIT:-3600}" 9 || fail "another check holds $lock for more than ${LAVA_LOCK_WAIT:-3600}s"
fi
rm -rf "$work" && mkdir -p "$work"

# The project's ktap reads the job's KTAP back here (the host's build).
mkdir -p "$ktap_host"
make -C "$repo/tools/testing/ktap" OUTPUT="$ktap_host/" >"$work/ktap-host-build.log" 2>&1 ||
	fail "cannot build tools/testing/ktap (see $work/ktap-host-build.log)"

# get_ktap: builds tools/testing/ktap static, out of tree, into ktap_bin.
get_ktap() {
	local kb=$work/ktap-build
	mkdir -p "$kb"
	# OUTPUT= keeps the tree's own (maybe dynamic) objects out of it.
	make -C "$repo/tools/testing/ktap" STATIC=1 OUTPUT="$kb/" >"$work/ktap-build.log" 2>&1 ||
		fail "cannot build tools/testing/ktap static (see $work/ktap-build.log)"
	ktap_bin=$kb/ktap
	file -b "$ktap_bin" | grep -q 'statically linked' ||
		fail "$ktap_bin is not statically linked (see $work/ktap-build.log)"
}
# The board scripts go in as a ramdisk overlay, as the job's header says.
tar -C "$here" -czf "$work/lava-jobs-scripts.tar.gz" scripts
overlays=()
allow_skip=()
say "kernel $kernel, initramfs $initramfs"
# LAVA unpacks the ramdisk with cpio to add its overlay: a concatenation of
# archives would lose all but the first, and the job needs these files.
members=$(gzip -dc "$initramfs" | cpio -t --quiet 2>/dev/null) ||
	fail "$initramfs is not a gzip-compressed cpio archive"
for f in init opt/kselftests/run_kselftest.sh opt/kselftests/kselftest-list.txt; do
	grep -qx "\(\./\)\?$f" <<<"$members" || fail "the initramfs has no /$f (LAVA cannot run the job without it)"
done
if ! grep -qx '\(\./\)\?usr/bin/ktap' <<<"$members"; then
	# Add it the way the hardware jobs do: as a tar overlay.
	get_ktap
	mkdir -p "$work/ktap-overlay/usr/bin"
	install -m 0755 "$ktap_bin" "$work/ktap-overlay/usr/bin/ktap"
	tar -C "$work/ktap-overlay" -czf "$work/ktap.tar.gz" usr
	overlays+=(--overlay "ktap=file://$work/ktap.tar.gz:/")
	say "the initramfs has no /usr/bin/ktap: adding tools/testing/ktap as a LAVA overlay"
fi
[ "${LAVA_ALLOW_SKIP:-0}" = 1 ] && allow_skip=(--allow-skip)

# The rig's initramfs has perl, so "auto" would pick run_kselftest.sh, which
# the rig's own runs use already: run the board path without perl here.
# The worker's TSC rate, as ci/boot.sh passes it (see the job's header).
kernel_args=()
if grep -qw tsc_known_freq /proc/cpuinfo 2>/dev/null; then
	khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
	[ -z "$khz" ] || [ "$khz" -eq 0 ] || kernel_args=(--kernel-arg "tsc_early_khz=$khz")
fi
"$py" "$here/lavacheck.py" localize "${overlays[@]}" "${kernel_args[@]}" --set "RUNNER=${LAVA_RUNNER:-direct}" \
	--map "file:///srv/lava/mhi-loopback/lava-jobs-scripts.tar.gz=file://$work/lava-jobs-scripts.tar.gz" \
	"$here/qemu-mhi-vlink.yaml" "$work/job.yaml" \
	"kernel=file://$(realpath "$kernel")" "ramdisk=file://$(realpath "$initramfs")" ||
	fail "cannot point the QEMU job at the local artefacts"
# The multinode job's artefacts and test definitions, all local: stand-in
# files, and this repository's commit for the "from: git" definitions.
"$py" "$here/lavacheck.py" localize --map "https://ci.example.org/=file://$work/boards/" --standins \
	--git "file://$repo@$(git -C "$repo" rev-parse HEAD)" \
	"$here/multinode-host-endpoint.yaml" "$work/multinode.yaml" ||
	fail "cannot point the multinode job at local stand-ins"

t_server=$(date +%s)
stop_server() {
	LAVA_SERVER_STATE=$server_state bash "$here/server.sh" stop >>"$server_state/stop.log" 2>&1 ||
		say "warning: server.sh stop failed (see $server_state/stop.log)"
}
trap 'stop_server; rm -rf "$steps_dir"' EXIT
# 9>&-: the daemons must not hold the lock if they outlive this check.
LAVA_SERVER_STATE=$server_state bash "$here/server.sh" start 9>&- ||
	fail "the LAVA server did not start (logs in $server_state)"
# shellcheck source=/dev/null
. "$server_state/env"
lavacli+=(--uri "$LAVA_URI")
t_up=$(date +%s)

# job_field ID FIELD: a field of "lavacli jobs show ID --yaml".
job_field() {
	"${lavacli[@]}" jobs show "$1" --yaml 2>/dev/null | "$py" -c '
import sys, yaml
print((yaml.safe_load(sys.stdin) or {}).get(sys.argv[1]) or "")' "$2"
}
# wait_job ID SECONDS LABEL: poll until Finished; a progress line a minute.
wait_job() {
	local id=$1 limit=$2 label=$3 t0 now state last=0
	t0=$(date +%s)
	while :; do
		state=$(job_field "$id" state)
		now=$(date +%s)
		[ "$state" = Finished ] && return 0
		if [ $((now - t0)) -ge "$limit" ]; then
			say "$label: job $id still ${state:-unknown} after ${limit}s"
			return 1
		fi
		if [ $((now - last)) -ge 60 ]; then
			say "$label: job $id ${state:-?} ($((now - t0))s; device $(job_field "$id" device))"
			last=$now
		fi
		sleep 5
	done
}

say "submitting qemu-mhi-vlink.yaml to ${LAVA_URL} with lavacli (server logs: $server_state)"
job=$("${lavacli[@]}" jobs submit "$work/job.yaml" 2>"$work/submit.log") ||
	fail "lavacli jobs submit refused the QEMU job: $(head -c 400 "$work/submit.log")"
t_submit=$(date +%s)
wait_job "$job" "$run_timeout" "QEMU job" || {
	"${lavacli[@]}" jobs cancel "$job" >/dev/null 2>&1 || true
	fail "the QEMU job $job did not finish within ${run_timeout}s (worker log: $server_state/worker.log)"
}
secs=$(($(date +%s) - t_submit))
"${lavacli[@]}" results "$job" --yaml >"$work/results.yaml" || fail "lavacli results $job failed"
"${lavacli[@]}" jobs logs "$job" --raw >"$work/job-log.yaml" || fail "lavacli jobs logs $job failed"
say "QEMU job $job: $(job_field "$job" health) after ${secs}s (log: $work/job-log.yaml, results: $work/results.yaml)"
"$py" "$here/lavaresults.py" verdict --results "$work/results.yaml" --min-cases "$min_cases" \
	"${expect[@]}" "${allow_skip[@]}" ||
	fail "the QEMU job's results on the server (see $work/results.yaml and $work/job-log.yaml; a skip counts as a failure unless LAVA_ALLOW_SKIP=1)"
"$py" "$here/lavaresults.py" compare --results "$work/results.yaml" --log "$work/job-log.yaml" \
	--ktap "$ktap_host/ktap" --suite mhi-vlink --own mhi-runner mhi-ktap mhi-verdict dmesg-crit dmesg-oops ||
	fail "the server's results differ from the KTAP of the same run (DIFF lines above; $work/)"

# The multinode job: scheduled as a pair on the stand-ins; it then stops at
# the first board-specific step (README.md, "The multinode job here").
say "submitting multinode-host-endpoint.yaml"
t_mn=$(date +%s)
ids=$("${lavacli[@]}" jobs submit "$work/multinode.yaml" 2>"$work/submit-multinode.log") ||
	fail "lavacli jobs submit refused the multinode job: $(head -c 400 "$work/submit-multinode.log")"
read -r -a sub_jobs <<<"$(echo "$ids" | tr '\n' ' ')"
[ "${#sub_jobs[@]}" -eq 2 ] || fail "the multinode job gave ${#sub_jobs[@]} sub-jobs (${ids//$'\n'/ }), not 2"
mn_fail=
for id in "${sub_jobs[@]}"; do
	if ! wait_job "$id" 300 "multinode"; then
		"${lavacli[@]}" jobs cancel "$id" >/dev/null 2>&1 || true
		mn_fail="sub-job $id did not finish within 300s"
	fi
	"${lavacli[@]}" jobs logs "$id" --raw >"$work/multinode-$id.yaml" 2>/dev/null || true
	"${lavacli[@]}" jobs show "$id" --yaml >"$work/multinode-$id.show" 2>/dev/null || true
	"$py" "$here/lavaresults.py" stopped --show "$work/multinode-$id.show" --log "$work/multinode-$id.yaml" ||
		mn_fail="sub-job $id was not scheduled on a stand-in (see $work/multinode-$id.show)"
done
[ -z "$mn_fail" ] || fail "multinode: $mn_fail"

trap 'rm -rf "$steps_dir"' EXIT
stop_server
say "PASS (server start $((t_up - t_server))s, QEMU job ${secs}s, multinode $(($(date +%s) - t_mn))s)"
