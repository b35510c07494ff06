#!/usr/bin/env bash
# make check: every test of the project; fails if any fails. In order:
#   ci/rig.sh tree                     (the kernel tree; tests/selftest.bats
#                                       builds against it and runs its kunit.py)
#   ci/rig.sh kselftest-config         (x86_64_defconfig + make kselftest-merge
#                                       satisfy tools/testing/selftests/mhi/config)
#   bats tests/                        (every tests/*.bats)
#   make -C tools/testing/ktap check   (if that directory exists)
#   the mhi kselftests in QEMU, one boot per lane (ci/lib.sh rig_lane_args):
#     profile default: lanes sync, async-coalesce and bounce-split (the
#                      echo shapes ride on the DMA and bounce lanes: no
#                      boot of their own)
#     profile debug:   lane async-bounce (sanitizers see late device writes)
#     profile arm64:   lane ctrl-intmod (cross-built, qemu-system-aarch64 virt,
#                      TCG; LOOPBACK on the control event ring, moderated)
#   ci/static.sh                       (make static, on the default build)
#   lava-jobs/check.sh                 (if it exists; boots the default image)
# Every part runs even when an earlier one failed; the last line counts the
# tests of all parts (a sub-check without its own count counts as one test).
set -euo pipefail
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$RIG_ROOT"

LOG=$RIG_CACHE/logs/check
mkdir -p "$LOG"
P=0 F=0 S=0
SUMMARY=()

record() { # name pass fail skip
	P=$((P + $2)) F=$((F + $3)) S=$((S + $4))
	local verdict=ok
	[ "$3" -eq 0 ] || verdict=FAILED
	SUMMARY+=("$(printf '%-36s %-6s %s passed, %s failed, %s skipped' "$1" "$verdict" "$2" "$3" "$4")")
}

# A sub-check that reports only an exit code.
run_one() { # name log cmd...
	local name=$1 log=$2 rc=0
	shift 2
	rig_log "check: $name ... log: $(rig_rel "$log")"
	"$@" 2>&1 </dev/null | tee "$log" || rc=$?
	if [ "$rc" -eq 0 ]; then record "$name" 1 0 0; else record "$name" 0 1 0; fi
}

run_one "kernel tree" "$LOG/tree.log" bash ci/rig.sh tree
run_one "kselftest-merge config" "$LOG/kselftest-config.log" bash ci/rig.sh kselftest-config

shopt -s nullglob
bats_files=(tests/*.bats)
shopt -u nullglob
if [ ${#bats_files[@]} -gt 0 ]; then
	rig_log "check: bats tests/ (${#bats_files[@]} files) ... log: $(rig_rel "$LOG/bats.log")"
	rc=0
	bats --tap tests/ 2>&1 </dev/null | tee "$LOG/bats.log" || rc=$?
	pass=$(grep -cE '^ok [0-9]+' "$LOG/bats.log" || true)
	skip=$(grep -ciE '^ok [0-9]+ .*# skip' "$LOG/bats.log" || true)
	fail=$(grep -cE '^not ok [0-9]+' "$LOG/bats.log" || true)
	pass=$((pass - skip))
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
	record "bats tests/" "$pass" "$fail" "$skip"
else
	rig_log "check: no tests/*.bats"
fi

if [ -d tools/testing/ktap ]; then
	run_one "ktap check" "$LOG/ktap.log" make -C tools/testing/ktap check
fi

for run in default:sync default:async-coalesce default:bounce-split debug:async-bounce arm64:ctrl-intmod; do
	profile=${run%%:*} lane=${run#*:}
	rig_log "check: make run PROFILE=$profile LANE=$lane"
	# Not logs/<profile>/latest: other rig commands may run meanwhile.
	result=$LOG/result-$profile-$lane
	rm -f "$result"
	PROFILE=$profile LANE=$lane RIG_RESULT_FILE=$result bash ci/rig.sh run || true
	if [ -f "$result" ]; then
		read -r pass fail skip status <"$result"
		if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
		record "mhi kselftests ($profile, $lane)" "$pass" "$fail" "$skip"
	else
		record "mhi kselftests ($profile, $lane)" 0 1 0
	fi
done

# The static checks reuse the default profile's tree and build. CI's git
# identity is the repo's placeholder, so they export with a test identity.
run_one "make static" "$LOG/static.log" env PROFILE=default \
	RIG_TEST_IDENTITY="MHI rig static check <static-check@mhi-rig.invalid>" bash ci/static.sh

# The LAVA QEMU job boots the default profile's kernel and initramfs, so it
# runs after make run has built them.
if [ -f lava-jobs/check.sh ]; then
	run_one "lava-jobs/check.sh" "$LOG/lava.log" bash lava-jobs/check.sh
fi

rig_log "check summary:"
printf '[rig]   %s\n' "${SUMMARY[@]}"
echo "check: $P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
