#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check the LAVA jobs of this project, offline, in three steps:
#   1. validate every job and test definition with Debian's lava-common
#      (strict schema, inline definitions included; lavacheck.py validate)
#   2. shellcheck the board scripts and the run steps of every definition as
#      POSIX sh
#   3. run qemu-mhi-vlink.yaml under lava-run (no LAVA server) and fail unless
#      every test case of the job passed.
# Step 3 boots the rig's kernel and initramfs (built by "make initramfs":
# .cache/build/default/arch/x86/boot/bzImage, .cache/rig/default/initramfs.cpio.gz),
# so the job runs the real mhi suite over the virtual link, its results
# streamed by the real tools/testing/ktap parser.
#
# usage: lava-jobs/check.sh [--kernel BZIMAGE] [--initramfs CPIO_GZ] [--no-run]
#        lava-jobs/check.sh --expectations   (print what step 3 requires)
# Environment: LAVA_KERNEL, LAVA_INITRAMFS (same as the options), LAVA_RUN=no
# (validation only), LAVA_CACHE (.cache/lava), LAVA_RUN_TIMEOUT (seconds,
# 3000), LAVA_ALLOW_SKIP=1 (skips count as passes).
# Missing Debian packages are installed with apt-get (needs root).

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
	-h | --help) sed -n '3,23s/^# \{0,1\}//p' "$0" && exit 0 ;;
	*) fail "unknown argument '$1' (see --help)" ;;
	esac
done

# What the QEMU job must report (step 3), from what ktap makes of the real
# suite's output (tests/data/ktap/suite-default.ktap, default profile; its
# 'ktap --mode list' has 377 cases): 76 harness tests and 246 canary
# results, the two programs' own results, 53 declared measurements
# ('<test>.<NAME>' cases), plus mhi-runner and mhi-ktap from the job's steps
# and dmesg-crit and dmesg-oops from local/board-scripts.yaml. Any case less
# means a test, a measurement or a step went missing (tests/lava.bats checks
# these numbers against the capture).
min_cases=381
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
testdefs=("$here"/testdefs/*.yaml "$here"/local/board-scripts.yaml)
scripts=("$here"/scripts/*.sh)

# ---- 1. schema validation
need lava-common python3-yaml python3-voluptuous
say "validating ${#jobs[@]} jobs and ${#testdefs[@]} test definitions (lava-common $(dpkg-query -W -f='${Version}' lava-common), strict)"
"$py" "$here/lavacheck.py" validate --repo "$repo" "${jobs[@]}" "${testdefs[@]}" ||
	fail "LAVA schema validation (see the INVALID lines above)"

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
shellcheck -s bash "$0" || fail "shellcheck of lava-jobs/check.sh"
for f in "${scripts[@]}"; do
	dash -n "$f" || fail "dash cannot parse $f"
	busybox sh -n "$f" || fail "busybox sh cannot parse $f"
done

# ---- 3. lava-run of the QEMU job
if [ "$run_mode" = no ]; then
	say "lava-run skipped (--no-run / LAVA_RUN=no)"
	say "PASS (validation and shellcheck only)"
	exit 0
fi
[ "$run_mode" = auto ] || fail "LAVA_RUN must be auto or no, not '$run_mode'"
[ -f "$kernel" ] || fail "no kernel at $kernel: run 'make initramfs' first, or pass --kernel"
[ -f "$initramfs" ] || fail "no initramfs at ${initramfs:-.cache/rig/default/initramfs.cpio.gz}: run 'make initramfs' first, or pass --initramfs"

need qemu-system-x86 cpio file python3-setproctitle python3-jinja2 python3-pexpect python3-requests \
	python3-configobj python3-pyudev python3-tz python3-magic python3-netifaces

# The dispatcher, its helper and the device-type templates, unpacked (their
# Debian packages would pull in libguestfs, supermin and systemd-sysv).
debs=$cache/debs
root=$cache/root
mkdir -p "$debs"
download() { # PACKAGE...: fetch the .deb of each package into $debs once
	local p
	for p in "$@"; do
		compgen -G "$debs/${p}_*.deb" >/dev/null && continue
		(cd "$debs" && apt-get download "$p" >>"$cache/apt.log" 2>&1) ||
			(apt-get update >>"$cache/apt.log" 2>&1 && cd "$debs" && apt-get download "$p" >>"$cache/apt.log" 2>&1) ||
			fail "apt-get download $p failed (see $cache/apt.log)"
	done
}
download lava-dispatcher lava-dispatcher-host lava-server
stamp=$(printf '%s ' "$debs"/lava-*.deb)
if [ ! -f "$root/.stamp" ] || [ "$(cat "$root/.stamp")" != "$stamp" ]; then
	rm -rf "$root" && mkdir -p "$root"
	for d in "$debs"/lava-*.deb; do
		dpkg-deb -x "$d" "$root" || fail "cannot unpack $d"
	done
	printf '%s' "$stamp" >"$root/.stamp"
fi
# apply_overlay.py imports guestfs unconditionally; a ramdisk job never uses it.
mkdir -p "$cache/stubs"
echo '# stand-in: tmpfs jobs with cpio ramdisks do not use libguestfs' >"$cache/stubs/guestfs.py"

work=$cache/run
rm -rf "$work" && mkdir -p "$work"

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
# The local copy of the job also runs the board scripts from a ramdisk overlay
# (lava-jobs/local/board-scripts.yaml): they meet the real LAVA helpers,
# busybox and kmsg signals there.
tar -C "$here" -czf "$work/scripts.tar.gz" scripts
overlays=(--overlay "scripts=file://$work/scripts.tar.gz:/opt/lava-jobs")
allow_skip=()
say "kernel $kernel, initramfs $initramfs"
# LAVA unpacks the ramdisk with cpio to add its overlay: a concatenation of
# archives would lose all but the first, and the job needs these files.
members=$(gzip -dc "$initramfs" | cpio -t --quiet 2>/dev/null) ||
	fail "$initramfs is not a gzip-compressed cpio archive"
for f in init opt/kselftests/run_kselftest.sh; do
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

"$py" "$here/lavacheck.py" localize "${overlays[@]}" \
	--inline "$here/local/board-scripts.yaml" --param "RUN_SUITE=0" \
	"$here/qemu-mhi-vlink.yaml" "$work/job.yaml" \
	"kernel=file://$(realpath "$kernel")" "ramdisk=file://$(realpath "$initramfs")" ||
	fail "cannot point the QEMU job at the local artefacts"
"$py" "$here/lavacheck.py" device --job "$work/job.yaml" \
	"$root/usr/share/lava-server/device-types" "$work/device.yaml" no_kvm=True netdevice=user mac_addr=52:54:00:12:34:59 ||
	fail "cannot render the qemu device dictionary"

say "lava-run of qemu-mhi-vlink.yaml (TCG, log: $work/lava-run.log)"
start=$(date +%s)
rc=0
PYTHONPATH="$cache/stubs:$root/usr/lib/python3/dist-packages" \
	timeout --kill-after=30 "$run_timeout" \
	"$py" "$root/usr/bin/lava-run" --job-id 1 --output-dir "$work/out" \
	--device "$work/device.yaml" "$work/job.yaml" >"$work/lava-run.log" 2>&1 || rc=$?
secs=$(($(date +%s) - start))
say "lava-run exit $rc after ${secs}s"
[ "$rc" -ne 124 ] || fail "lava-run did not finish within ${run_timeout}s (see $work/lava-run.log)"
"$py" "$here/lavacheck.py" results "$work/lava-run.log" --min-cases "$min_cases" \
	"${expect[@]}" "${allow_skip[@]}" ||
	fail "the QEMU job's results (see $work/lava-run.log; a skip counts as a failure unless LAVA_ALLOW_SKIP=1)"
[ "$rc" -eq 0 ] || fail "lava-run exited $rc (see $work/lava-run.log)"
say "PASS (lava-run ${secs}s)"
