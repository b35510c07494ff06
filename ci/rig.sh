#!/usr/bin/env bash
# The rig's steps; the top-level Makefile calls them.
#
#   ci/rig.sh validate     check PROFILE and KSRC (prints one line if bad)
#   ci/rig.sh tree         pristine kernel tree + patches/series in .cache/linux
#   ci/rig.sh kernel       + configure and build (bzImage or Image, modules)
#   ci/rig.sh initramfs    + mhi kselftests, ktap, busybox initramfs, board
#                          artefacts (kselftest and ktap tarballs, modules)
#   ci/rig.sh run          + boot QEMU, run the tests, judge the logs
#   ci/rig.sh shell        + boot QEMU with a root shell on the terminal
#   ci/rig.sh bench        + boot QEMU in bench mode: table, CSV and plot
#   ci/rig.sh patches      series as commits + git format-patch into OUT
#   ci/rig.sh checkpatch   + scripts/checkpatch.pl --strict on them
#   ci/rig.sh kselftest-config  tree + x86_64_defconfig + make kselftest-merge
#                          in a scratch O=: tools/testing/selftests/mhi/config holds
#
# Environment: PROFILE (default|debug|arm64), KSRC, SERIES, JOBS, TIMEOUT,
# RUN_ARGS, RUN_ENV, APPEND, OUT. Each step is skipped when up to date.
set -euo pipefail
RIG_START=${EPOCHREALTIME/,/.}
ci=$(dirname "$0")
# shellcheck source=ci/lib.sh
. "$ci/lib.sh"
# shellcheck source=ci/tree.sh
. "$ci/tree.sh"
# shellcheck source=ci/kernel.sh
. "$ci/kernel.sh"
# shellcheck source=ci/initramfs.sh
. "$ci/initramfs.sh"
# shellcheck source=ci/boot.sh
. "$ci/boot.sh"
# shellcheck source=ci/patches.sh
. "$ci/patches.sh"
# shellcheck source=ci/bench.sh
. "$ci/bench.sh"
# shellcheck source=ci/kselftest-config.sh
. "$ci/kselftest-config.sh"

cmd=${1:-run}
if ! msg=$(rig_validate); then
	[ "$cmd" = validate ] && {
		echo "$msg"
		exit 1
	}
	rig_die "$msg"
fi
[ "$cmd" = validate ] && exit 0

case $cmd in
tree | config | kernel | selftest | initramfs | run | shell | bench | patches | checkpatch | kselftest-config) ;;
*) rig_die "unknown step '$cmd' (steps: validate tree config kernel selftest initramfs run shell bench patches checkpatch kselftest-config)" ;;
esac

rig_paths
rig_lock
rig_logdir

guest() {
	rig_tree
	rig_kernel
	if [ "$cmd" = shell ] && [ ! -d "$TREE/tools/testing/selftests/mhi" ]; then
		rig_warn "no mhi kselftest in the tree: the shell has an empty /opt/kselftests"
		rm -rf "$STATE/kselftest"
		mkdir -p "$STATE/kselftest"
	else
		rig_selftest
	fi
	rig_ktap
	rig_initramfs
	rig_artefacts
}

case $cmd in
tree) rig_tree ;;
config) rig_tree && rig_config ;;
kernel) rig_tree && rig_kernel ;;
selftest) rig_tree && rig_kernel && rig_selftest ;;
initramfs) guest ;;
run)
	guest
	rig_boot
	;;
bench)
	guest
	rig_bench
	;;
shell)
	guest
	rig_shell
	;;
patches)
	rig_patches_identity
	rig_tree
	rig_patches
	;;
checkpatch)
	rig_patches_identity
	rig_tree
	rig_patches
	rig_checkpatch
	;;
kselftest-config)
	rig_tree
	rig_kselftest_config
	;;
esac
