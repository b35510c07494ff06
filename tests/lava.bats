#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# lava-jobs/: the board scripts (lava-jobs/scripts/*.sh) under both dash and
# busybox sh, with fake LAVA helpers, ktap, modprobe and dmesg that record
# their calls, and fake configfs/sysfs trees; the job validator; and the
# reading of a LAVA server's results (lavaresults.py) against the real ktap.

bats_load_library bats-support
bats_load_library bats-assert

SHELLS=(dash "busybox sh")

setup_file() {
	local src
	src=$(cd "$BATS_TEST_DIRNAME/.." && pwd)/tools/testing/ktap
	if [ ! -x "$src/ktap" ]; then
		env -u MAKEFLAGS -u MAKELEVEL make -s -C "$src" >&2
	fi
}

setup() {
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	SCRIPTS=$REPO/lava-jobs/scripts
	DATA=$BATS_TEST_DIRNAME/data/lava
	T=$BATS_TEST_TMPDIR
	CALLS=$T/calls
	mkdir -p "$T/bin" "$T/ks/mhi"
	export CALLS T

	# Helpers that record "name args..." in $CALLS.
	# shellcheck disable=SC2016 # expanded by the helper, not here
	for h in lava-test-case lava-test-set lava-send lava-wait modprobe; do
		printf '#!/bin/sh\necho "%s $*" >>"$CALLS"\nexit "${FAKE_RC_%s:-0}"\n' \
			"$h" "$(echo "$h" | tr a-z- A-Z_)" >"$T/bin/$h"
	done
	# ktap: records its arguments, keeps its input, exits $FAKE_KTAP_RC;
	# "--mode summary" prints $FAKE_SUMMARY as the last line.
	cat >"$T/bin/ktap" <<-'EOF'
		#!/bin/sh
		echo "ktap $*" >>"$CALLS"
		if [ "$1 $2" = "--mode summary" ]; then
			echo "${FAKE_SUMMARY:-1 passed, 0 failed, 0 skipped}"
			exit 0
		fi
		cat >"$T/ktap.stdin"
		exit "${FAKE_KTAP_RC:-0}"
	EOF
	# ktap-stamp: the time each line of its input arrives, in $T/arrivals.
	cat >"$T/bin/ktap-stamp" <<-'EOF'
		#!/bin/sh
		[ "$1 $2" = "--mode lava" ] || exit 0
		while IFS= read -r l; do
			printf '%s %s\n' "$(date +%s.%N)" "$l" >>"$T/arrivals"
		done
	EOF
	# dmesg -r: prints $FAKE_DMESG, fails when it is empty.
	cat >"$T/bin/dmesg" <<-'EOF'
		#!/bin/sh
		[ "$1" = -r ] || exit 9
		[ -n "${FAKE_DMESG:-}" ] || exit 1
		cat "$FAKE_DMESG"
	EOF
	chmod +x "$T"/bin/*
	export PATH="$T/bin:$PATH"
	# absolute: busybox sh runs its own applets before anything on PATH
	export MODPROBE=$T/bin/modprobe DMESG=$T/bin/dmesg

	# A kselftest install whose runner prints fixed KTAP, records its
	# arguments and the device selection variable, exits $FAKE_RUNNER_RC.
	cat >"$T/ks/run_kselftest.sh" <<-'EOF'
		#!/bin/sh
		echo "runner $* args=${KSELFTEST_MHI_LOOPBACK_TEST_ARGS:-}" >>"$CALLS"
		echo "runner-env hardware=${MHI_LT_HARDWARE:-} vlink=${MHI_LT_VLINK:-}" >>"$CALLS"
		echo "TAP version 13"
		echo "1..1"
		echo "# ok 1 loopback.default"
		[ -z "${FAKE_RUNNER_SLEEP:-}" ] || sleep "$FAKE_RUNNER_SLEEP"
		echo "ok 1 selftests: mhi: mhi_loopback_test"
		exit "${FAKE_RUNNER_RC:-0}"
	EOF
	chmod +x "$T/ks/run_kselftest.sh"
	export KSELFTEST_DIR=$T/ks KTAP_LOG=$T/ktap.log ECHO_KTAP=0 RUNNER=kselftest
	KTAP_BIN=$REPO/tools/testing/ktap/ktap
}

# Fresh state between two shells of one test.
reset_calls() {
	rm -f "$CALLS" "$T/ktap.stdin" "$T/ktap.log"
}

calls() {
	cat "$CALLS" 2>/dev/null || true
}

# ---- run-suite.sh ------------------------------------------------------------

@test "run-suite: streams the runner's KTAP into ktap --mode lava and reports both exit codes" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		run $sh "$SCRIPTS/run-suite.sh"
		assert_success
		run calls
		assert_line "runner -c mhi args="
		assert_line "ktap --mode lava"
		assert_line "lava-test-case mhi-runner --result pass --measurement 0 --units exit"
		assert_line "lava-test-case mhi-ktap --result pass --measurement 0 --units exit"
		run cat "$T/ktap.stdin"
		assert_line --index 0 "TAP version 13"
		assert_line "ok 1 selftests: mhi: mhi_loopback_test"
		cmp "$T/ktap.stdin" "$T/ktap.log"
	done
}

@test "run-suite: -c picks the collection, KSELFTEST_*_ARGS reach the runner" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		KSELFTEST_MHI_LOOPBACK_TEST_ARGS="-d mhi1_LOOPBACK" run $sh "$SCRIPTS/run-suite.sh" -c net
		assert_success
		run calls
		assert_line "runner -c net args=-d mhi1_LOOPBACK"
		assert_line "lava-test-case net-runner --result pass --measurement 0 --units exit"
	done
}

@test "run-suite: a failing runner makes the script fail with the runner's status" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		FAKE_RUNNER_RC=1 FAKE_KTAP_RC=1 run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 1
		run calls
		assert_line "lava-test-case mhi-runner --result fail --measurement 1 --units exit"
		# ktap read the stream fine: failures are not an input error
		assert_line "lava-test-case mhi-ktap --result pass --measurement 1 --units exit"
		# a runner failure the KTAP does not show still fails the script
		reset_calls
		FAKE_RUNNER_RC=1 run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 1
	done
}

@test "run-suite: unreadable KTAP (ktap exit 2) fails although the runner passed" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		FAKE_KTAP_RC=2 run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 2
		run calls
		assert_line "lava-test-case mhi-runner --result pass --measurement 0 --units exit"
		assert_line "lava-test-case mhi-ktap --result fail --measurement 2 --units exit"
	done
}

@test "run-suite: without ktap the raw KTAP is printed and the runner's status kept" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		KTAP=no-such-ktap FAKE_RUNNER_RC=1 run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 1
		assert_line "run-suite: 'no-such-ktap' not found: printing the raw KTAP, no per-test LAVA results"
		assert_line "TAP version 13"
		assert_line "# ok 1 loopback.default"
		assert_line "ok 1 selftests: mhi: mhi_loopback_test"
		run calls
		refute_line --partial "ktap"
		assert_line "lava-test-case mhi-runner --result fail --measurement 1 --units exit"
		refute_line --partial "mhi-ktap"
	done
}

@test "run-suite: without the LAVA helpers its own cases become raw LAVA signals" {
	rm "$T/bin/lava-test-case"
	for sh in "${SHELLS[@]}"; do
		reset_calls
		KTAP=no-such-ktap run $sh "$SCRIPTS/run-suite.sh"
		assert_success
		assert_line "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=mhi-runner RESULT=pass MEASUREMENT=0 UNITS=exit>"
	done
}

@test "run-suite: SUITE_TIMEOUT stops a hung run, dumps blocked tasks and returns 124" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		: >"$T/sysrq"
		SECONDS=0
		FAKE_RUNNER_SLEEP=5737 SUITE_TIMEOUT=2 SYSRQ_TRIGGER=$T/sysrq run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 124
		[ "$SECONDS" -lt 15 ]
		assert_line --partial "still running after 2s"
		run cat "$T/sysrq"
		assert_output "w"
		run calls
		assert_line "lava-test-case mhi-runner --result fail --measurement 124 --units exit"
		# the hung test was killed, not left behind
		run pgrep -f "sleep 5737"
		assert_failure
	done
}

@test "run-suite: no kselftest install and bad options are setup errors (exit 3)" {
	for sh in "${SHELLS[@]}"; do
		KSELFTEST_DIR=$T/nowhere run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 3
		assert_output --partial "no executable $T/nowhere/run_kselftest.sh"
		run $sh "$SCRIPTS/run-suite.sh" -t soon
		assert_failure 3
		assert_output --partial "SUITE_TIMEOUT must be a whole number of seconds"
		run $sh "$SCRIPTS/run-suite.sh" extra
		assert_failure 3
		assert_output --partial "usage:"
	done
}

# A sysfs with MHI controllers: "vlink" (mhi0 under the faux device
# mhi-vlink.0, as mhi_vlink makes it) and/or "modem" (mhi1 under a PCI device).
make_mhi_tree() {
	rm -rf "$T/sys"
	mkdir -p "$T/sys/bus/mhi/devices" "$T/sys/bus/faux/drivers/faux_driver" \
		"$T/sys/bus/pci/drivers/mhi-pci-generic"
	for kind in "$@"; do
		case $kind in
		vlink) c=mhi0 dev=devices/faux/mhi-vlink.0 bus=faux drv=faux_driver ;;
		modem) c=mhi1 dev=devices/pci0000:00/0000:01:00.0 bus=pci drv=mhi-pci-generic ;;
		esac
		mkdir -p "$T/sys/$dev/$c/${c}_LOOPBACK"
		ln -s "../../../bus/$bus/drivers/$drv" "$T/sys/$dev/driver"
		ln -s "../../../bus/$bus" "$T/sys/$dev/subsystem"
		ln -s "../../../$dev/$c" "$T/sys/bus/mhi/devices/$c"
		ln -s "../../../$dev/$c/${c}_LOOPBACK" "$T/sys/bus/mhi/devices/${c}_LOOPBACK"
	done
	export SYSFS=$T/sys
}

@test "run-suite: a hardware job refuses to run when the only MHI controller is the virtual link" {
	make_mhi_tree vlink
	for sh in "${SHELLS[@]}"; do
		reset_calls
		MHI_LT_HARDWARE=1 run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 3
		assert_output "run-suite: hardware job (MHI_LT_HARDWARE=1), but the only MHI controller is the virtual link (mhi0 on mhi_vlink): refusing to run"
		run calls
		refute_line --partial "runner -c"
		assert_line "lava-test-case mhi-runner --result fail --measurement 3 --units exit"
		assert_line "lava-test-case mhi-verdict --result fail --measurement 0 --units tests"
	done
}

@test "run-suite: a hardware job runs on a real controller and passes MHI_LT_HARDWARE on" {
	for tree in modem "modem vlink"; do
		# shellcheck disable=SC2086 # one kind per word
		make_mhi_tree $tree
		for sh in "${SHELLS[@]}"; do
			reset_calls
			MHI_LT_HARDWARE=1 run $sh "$SCRIPTS/run-suite.sh"
			assert_success
			run calls
			assert_line "runner -c mhi args="
			assert_line "runner-env hardware=1 vlink="
		done
	done
	# not a hardware job: the virtual link alone is fine (the QEMU job)
	make_mhi_tree vlink
	for sh in "${SHELLS[@]}"; do
		reset_calls
		MHI_LT_VLINK=1 run $sh "$SCRIPTS/run-suite.sh"
		assert_success
		run calls
		assert_line "runner-env hardware= vlink=1"
	done
}

@test "LAVA jobs: hardware jobs pass MHI_LT_HARDWARE=1, the QEMU job MHI_LT_VLINK=1" {
	cd "$REPO/lava-jobs"
	for f in modem-host.yaml modem-host-arm64.yaml multinode-host-endpoint.yaml \
		testdefs/mhi-loopback-host.yaml testdefs/mhi-ep-pair-host.yaml; do
		run grep -c 'MHI_LT_HARDWARE: "1"' "$f"
		assert_output 1
		refute grep -q MHI_LT_VLINK "$f"
	done
	grep -q 'export .*MHI_LT_HARDWARE' testdefs/mhi-loopback-host.yaml
	grep -q 'export .*MHI_LT_HARDWARE' testdefs/mhi-ep-pair-host.yaml
	grep -q 'MHI_LT_VLINK: "1"' qemu-mhi-vlink.yaml
	grep -q 'export .*MHI_LT_VLINK' qemu-mhi-vlink.yaml
	refute grep -q MHI_LT_HARDWARE qemu-mhi-vlink.yaml
}

@test "LAVA jobs: the arm64 board job fetches what the rig's arm64 build makes, nothing of x86_64" {
	cd "$REPO/lava-jobs"
	run grep -o 'https://ci.example.org/mhi-loopback/latest/[^ ]*' modem-host-arm64.yaml
	assert_output "$(printf 'https://ci.example.org/mhi-loopback/latest/arm64/%s\n' \
		Image board.dtb modules.tar.xz kselftest.tar.gz ktap.tar.gz)"
	refute grep -qE 'x86|amd64|bzImage|ipxe' modem-host-arm64.yaml
	# the rig's arm64 profile writes those (ci/initramfs.sh rig_artefacts)
	run bash -c ". '$REPO/ci/lib.sh'; PROFILE=arm64; rig_paths; echo \${KIMAGE##*/}"
	assert_output Image
	for a in modules.tar.xz kselftest.tar.gz ktap.tar.gz; do
		grep -q "rig_artefacts_tar \"\$a/$a\"" "$REPO/ci/initramfs.sh"
	done
}

@test "run-suite: the verdict fails a run in which nothing ran, unless skips are expected" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		run $sh "$SCRIPTS/run-suite.sh"
		assert_success
		assert_line "run-suite: verdict pass: 1 passed, 0 failed, 0 skipped"
		run calls
		assert_line "lava-test-case mhi-verdict --result pass --measurement 1 --units tests"

		reset_calls
		FAKE_SUMMARY="0 passed, 0 failed, 3 skipped" run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 4
		assert_line --partial "run-suite: verdict fail: 0 passed, 0 failed, 3 skipped; no test ran"
		run calls
		assert_line "lava-test-case mhi-verdict --result fail --measurement 0 --units tests"

		reset_calls
		FAKE_SUMMARY="0 passed, 0 failed, 0 skipped" run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 4

		reset_calls
		FAKE_SUMMARY="0 passed, 0 failed, 3 skipped" SKIPS_EXPECTED=1 run $sh "$SCRIPTS/run-suite.sh"
		assert_success
		run calls
		assert_line "lava-test-case mhi-verdict --result pass --measurement 0 --units tests"
		FAKE_SUMMARY="0 passed, 0 failed, 3 skipped" run $sh "$SCRIPTS/run-suite.sh" -s
		assert_success

		# failures fail the verdict too (and keep ktap's exit status)
		reset_calls
		FAKE_SUMMARY="3 passed, 1 failed, 0 skipped" FAKE_KTAP_RC=1 run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 1
		run calls
		assert_line "lava-test-case mhi-verdict --result fail --measurement 4 --units tests"
	done
}

@test "run-suite: without ktap the verdict counts the raw KTAP's results itself" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		KTAP=no-such-ktap run $sh "$SCRIPTS/run-suite.sh"
		assert_success
		assert_line "run-suite: verdict pass: 1 passed, 0 failed, 0 skipped"
	done
	# every nested result skipped: the program's own "ok" line does not count
	cat >"$T/ks/run_kselftest.sh" <<-'EOS'
		#!/bin/sh
		echo "TAP version 13"
		echo "1..2"
		echo "# selftests: mhi: t"
		echo "# 1..2"
		echo "# ok 1 a # SKIP no device"
		echo "# ok 2 b # skip no device"
		echo "ok 1 selftests: mhi: t"
		echo "# selftests: mhi: u"
		echo "ok 2 selftests: mhi: u # SKIP"
	EOS
	for sh in "${SHELLS[@]}"; do
		reset_calls
		KTAP=no-such-ktap run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 4
		assert_line --partial "run-suite: verdict fail: 0 passed, 0 failed, 3 skipped; no test ran"
	done
}

@test "run-suite: a setup error still reports a failed verdict" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		KSELFTEST_DIR=$T/nowhere run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 3
		run calls
		assert_line "lava-test-case mhi-verdict --result fail --measurement 0 --units tests"
		RUNNER=perl run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 3
		assert_output --partial "RUNNER must be auto, kselftest or direct, not 'perl'"
	done
}

@test "run-suite: with the real ktap, the real suite's run passes the verdict, an all-skip run fails it" {
	# the runner replays a file: the real suite's capture, then that capture
	# with every harness and canary result turned into a skip
	cat >"$T/ks/run_kselftest.sh" <<-'EOS'
		#!/bin/sh
		cat "$REPLAY"
	EOS
	capture=$REPO/tests/data/ktap/suite-default.ktap
	sed '/^rig: /d' "$capture" >"$T/ok.ktap"
	sed -E '/^rig: /d; s/^((# )+)not ok ([0-9]+ [^#]*).*/\1ok \3 # SKIP forced/; s/^((# )+)ok ([0-9]+ [^#]*).*/\1ok \3 # SKIP forced/' \
		"$capture" >"$T/skip.ktap"
	for sh in "${SHELLS[@]}"; do
		reset_calls
		REPLAY=$T/ok.ktap KTAP=$KTAP_BIN run $sh "$SCRIPTS/run-suite.sh"
		assert_success
		assert_line --regexp '^run-suite: verdict pass: [1-9][0-9]* passed, 0 failed, 1 skipped$'
		run calls
		assert_line --regexp '^lava-test-case mhi-verdict --result pass --measurement [1-9][0-9]* --units tests$'

		reset_calls
		REPLAY=$T/skip.ktap KTAP=$KTAP_BIN run $sh "$SCRIPTS/run-suite.sh"
		assert_failure 4
		assert_line --regexp '^run-suite: verdict fail: 0 passed, 0 failed, [1-9][0-9]* skipped; no test ran'
		run calls
		assert_line "lava-test-case mhi-verdict --result fail --measurement 0 --units tests"
	done
}

# A kselftest install for run-direct.sh: kselftest-list.txt and programs.
make_direct_tree() {
	rm -rf "$T/ks/mhi"
	mkdir -p "$T/ks/mhi"
	printf 'mhi:prog_pass\nmhi:prog_skip.sh\nmhi:prog_missing\nnet:other\n' >"$T/ks/kselftest-list.txt"
	cat >"$T/ks/mhi/prog_pass" <<-'EOS'
		#!/bin/sh
		echo "TAP version 13"
		echo "1..1"
		echo "ok 1 loopback.default # args=$*"
	EOS
	cat >"$T/ks/mhi/prog_skip.sh" <<-'EOS'
		#!/bin/sh
		echo "1..0 # SKIP no LOOPBACK device; args=$*"
		exit 4
	EOS
	chmod +x "$T/ks/mhi/prog_pass" "$T/ks/mhi/prog_skip.sh"
}

@test "run-direct: the runner's KTAP, each program's args, skips and a missing program" {
	for sh in "${SHELLS[@]}"; do
		make_direct_tree
		KSELFTEST_PROG_PASS_ARGS="-d mhi1_LOOPBACK" KSELFTEST_PROG_SKIP_SH_ARGS="-x" \
			run $sh "$SCRIPTS/run-direct.sh" -c mhi -d "$T/ks"
		assert_failure 1
		assert_output "$(
			cat <<-'EOS'
				TAP version 13
				1..3
				# timeout set to 45
				# selftests: mhi: prog_pass
				# TAP version 13
				# 1..1
				# ok 1 loopback.default # args=-d mhi1_LOOPBACK
				ok 1 selftests: mhi: prog_pass
				# timeout set to 45
				# selftests: mhi: prog_skip.sh
				# 1..0 # SKIP no LOOPBACK device; args=-x
				ok 2 selftests: mhi: prog_skip.sh # SKIP
				# timeout set to 45
				# selftests: mhi: prog_missing
			EOS
			echo "# run-direct: $T/ks/mhi/./prog_missing is missing or not executable"
			echo "not ok 3 selftests: mhi: prog_missing # exit=127"
		)"
		# the real parser reads it with the names run_kselftest.sh gives
		"$SCRIPTS/run-direct.sh" -c mhi -d "$T/ks" | "$KTAP_BIN" --mode list >"$T/list" || true
		run cat "$T/list"
		assert_line --regexp '^mhi\.prog_pass\.loopback\.default pass'
		assert_line --regexp '^mhi\.prog_missing fail'
	done
}

@test "run-direct: the settings timeout stops a hung program (TIMEOUT), bad collection is exit 3" {
	for sh in "${SHELLS[@]}"; do
		make_direct_tree
		printf 'mhi:prog_hang\n' >"$T/ks/kselftest-list.txt"
		printf '#!/bin/sh\necho "1..1"\nsleep 5738\n' >"$T/ks/mhi/prog_hang"
		chmod +x "$T/ks/mhi/prog_hang"
		echo "timeout=1" >"$T/ks/mhi/settings"
		SECONDS=0
		run $sh "$SCRIPTS/run-direct.sh" -d "$T/ks"
		assert_failure 1
		[ "$SECONDS" -lt 10 ]
		assert_line "# timeout set to 1"
		assert_line "not ok 1 selftests: mhi: prog_hang # TIMEOUT 1 seconds"
		rm "$T/ks/mhi/settings"
		run $sh "$SCRIPTS/run-direct.sh" -c nosuch -d "$T/ks"
		assert_failure 3
		assert_output --partial "collection 'nosuch' is not in $T/ks/kselftest-list.txt"
	done
}

@test "run-suite: without perl (RUNNER=direct) results reach ktap as they happen, not at the end" {
	rm -rf "$T/ks/mhi"
	mkdir -p "$T/ks/mhi"
	echo "mhi:slow_test" >"$T/ks/kselftest-list.txt"
	# Three results one second apart, as a kselftest program prints them.
	cat >"$T/ks/mhi/slow_test" <<-'EOS'
		#!/bin/sh
		echo "TAP version 13"
		echo "1..3"
		echo "ok 1 first"
		sleep 1
		echo "ok 2 second"
		sleep 1
		echo "ok 3 third"
	EOS
	chmod +x "$T/ks/mhi/slow_test"
	for sh in "${SHELLS[@]}"; do
		rm -f "$T/arrivals"
		KTAP=$T/bin/ktap-stamp RUNNER=direct run $sh "$SCRIPTS/run-suite.sh"
		at() { awk -v l="$1" 'substr($0, index($0, " ") + 1) == l { print $1 }' "$T/arrivals"; }
		t1=$(at "# ok 1 first") t2=$(at "# ok 2 second") t3=$(at "# ok 3 third")
		echo "$sh: arrivals $t1 $t2 $t3" >&2
		[ -n "$t1" ] && [ -n "$t2" ] && [ -n "$t3" ]
		# spaced like the program printed them (1 s), not bunched at the end
		awk -v a="$t1" -v b="$t2" -v c="$t3" 'BEGIN { exit !(b - a > 0.7 && c - b > 0.7) }'
	done
}

# ---- ep-setup.sh -------------------------------------------------------------

# A configfs with the three pci-epf-mhi flavours and one controller, a sysfs
# with the mhi_ep_loopback driver, and an SM8450 devicetree.
make_ep_tree() {
	rm -rf "$T/cfs" "$T/sys"
	mkdir -p "$T/cfs/pci_ep/functions/pci_epf_mhi_sdx55" \
		"$T/cfs/pci_ep/functions/pci_epf_mhi_sm8450" \
		"$T/cfs/pci_ep/functions/pci_epf_mhi_sa8775p" \
		"$T/cfs/pci_ep/controllers/1c0c000.pcie-ep" \
		"$T/sys/bus/mhi_ep/drivers/mhi_ep_loopback" \
		"$T/sys/firmware/devicetree/base"
	echo 0 >"$T/cfs/pci_ep/controllers/1c0c000.pcie-ep/start"
	printf 'qcom,sm8450-hdk\0qcom,sm8450\0' >"$T/sys/firmware/devicetree/base/compatible"
	export CONFIGFS=$T/cfs SYSFS=$T/sys
}

@test "ep-setup: creates, configures, links and starts pci-epf-mhi, loads mhi_ep_loopback" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		make_ep_tree
		SUBSYS_VENDOR_ID=0x17cb SUBSYS_ID=0x010c run $sh "$SCRIPTS/ep-setup.sh"
		assert_success
		fn=$T/cfs/pci_ep/functions/pci_epf_mhi_sm8450/mhi0
		epc=$T/cfs/pci_ep/controllers/1c0c000.pcie-ep
		assert_output "ep-setup: pci_epf_mhi_sm8450/mhi0 started on 1c0c000.pcie-ep; subsys_vendor_id=0x17cb subsys_id=0x010c"
		[ -d "$fn" ]
		[ "$(cat "$fn/subsys_vendor_id")" = 0x17cb ]
		[ "$(cat "$fn/subsys_id")" = 0x010c ]
		[ ! -e "$fn/vendorid" ] # not overridden
		[ "$(readlink "$epc/mhi0")" = "$fn" ]
		[ "$(cat "$epc/start")" = 1 ]
		run calls
		assert_equal "$output" "$(printf 'modprobe pci_epf_mhi\nmodprobe mhi_ep_loopback')"
	done
}

@test "ep-setup: a second run on a started endpoint is harmless" {
	for sh in "${SHELLS[@]}"; do
		make_ep_tree
		run $sh "$SCRIPTS/ep-setup.sh"
		assert_success
		run $sh "$SCRIPTS/ep-setup.sh"
		assert_success
		[ "$(cat "$T/cfs/pci_ep/controllers/1c0c000.pcie-ep/start")" = 1 ]
	done
}

@test "ep-setup: EPF_FUNCTION, EPF_NAME, EPC and the IDs can be forced" {
	for sh in "${SHELLS[@]}"; do
		make_ep_tree
		mkdir "$T/cfs/pci_ep/controllers/other-ep"
		rm "$T/sys/firmware/devicetree/base/compatible"
		EPF_FUNCTION=pci_epf_mhi_sa8775p EPF_NAME=lava EPC=other-ep DEVICE_ID=0x0306 \
			run $sh "$SCRIPTS/ep-setup.sh"
		assert_success
		fn=$T/cfs/pci_ep/functions/pci_epf_mhi_sa8775p/lava
		[ "$(cat "$fn/deviceid")" = 0x0306 ]
		[ "$(readlink "$T/cfs/pci_ep/controllers/other-ep/lava")" = "$fn" ]
	done
}

@test "ep-setup: no configfs is a clear error" {
	for sh in "${SHELLS[@]}"; do
		CONFIGFS=$T/no-configfs SYSFS=$T/sys run $sh "$SCRIPTS/ep-setup.sh"
		assert_failure 1
		assert_output --partial "ep-setup: no $T/no-configfs/pci_ep: mount configfs and enable CONFIG_PCI_ENDPOINT_CONFIGFS"
	done
}

@test "ep-setup: ambiguous flavour or controller, missing driver: clear errors" {
	for sh in "${SHELLS[@]}"; do
		make_ep_tree
		rm "$T/sys/firmware/devicetree/base/compatible"
		run $sh "$SCRIPTS/ep-setup.sh"
		assert_failure 1
		assert_output --partial "set EPF_FUNCTION to one of: pci_epf_mhi_sa8775p pci_epf_mhi_sdx55 pci_epf_mhi_sm8450"

		make_ep_tree
		rm -r "$T/cfs/pci_ep/functions"/*
		run $sh "$SCRIPTS/ep-setup.sh"
		assert_failure 1
		assert_output --partial "no $T/cfs/pci_ep/functions/pci_epf_mhi_sm8450: is pci-epf-mhi (CONFIG_PCI_EPF_MHI) available?"

		make_ep_tree
		mkdir "$T/cfs/pci_ep/controllers/second-ep"
		run $sh "$SCRIPTS/ep-setup.sh"
		assert_failure 1
		assert_output --partial "several endpoint controllers: set EPC to one of: 1c0c000.pcie-ep second-ep"

		make_ep_tree
		rmdir "$T/cfs/pci_ep/controllers/1c0c000.pcie-ep" 2>/dev/null ||
			rm -r "$T/cfs/pci_ep/controllers/1c0c000.pcie-ep"
		run $sh "$SCRIPTS/ep-setup.sh"
		assert_failure 1
		assert_output --partial "no endpoint controller under $T/cfs/pci_ep/controllers"

		make_ep_tree
		rmdir "$T/sys/bus/mhi_ep/drivers/mhi_ep_loopback"
		FAKE_RC_MODPROBE=1 run $sh "$SCRIPTS/ep-setup.sh"
		assert_failure 1
		assert_output --partial "the mhi_ep_loopback driver is not registered (CONFIG_MHI_BUS_EP_LOOPBACK)"
		# nothing was started
		[ "$(cat "$T/cfs/pci_ep/controllers/1c0c000.pcie-ep/start")" = 0 ]
	done
}

# ---- host-attach.sh ----------------------------------------------------------

make_host_tree() {
	rm -rf "$T/sys"
	mkdir -p "$T/sys/bus/pci" "$T/sys/bus/mhi/devices" "$T/sys/bus/mhi/drivers/mhi_loopback"
	: >"$T/sys/bus/pci/rescan"
	export SYSFS=$T/sys
}

add_loopback() { # NAME
	mkdir -p "$T/sys/bus/mhi/devices/$1"
	echo 65535 >"$T/sys/bus/mhi/devices/$1/max_tre_size"
	ln -s ../../drivers/mhi_loopback "$T/sys/bus/mhi/devices/$1/driver"
}

@test "host-attach: loads the host modules and finds the LOOPBACK device" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		make_host_tree
		add_loopback mhi0_LOOPBACK
		run $sh "$SCRIPTS/host-attach.sh"
		assert_success
		assert_output "host-attach: mhi0_LOOPBACK driver=mhi_loopback max_tre_size=65535"
		run calls
		assert_equal "$output" "$(printf 'modprobe mhi_pci_generic\nmodprobe mhi_loopback')"
		[ ! -s "$T/sys/bus/pci/rescan" ]
	done
}

@test "host-attach: -r rescans PCI and waits for a device that shows up later" {
	for sh in "${SHELLS[@]}"; do
		make_host_tree
		(sleep 2 && add_loopback mhi1_LOOPBACK) 3>&- &
		run $sh "$SCRIPTS/host-attach.sh" -r -t 20
		assert_success
		assert_output --partial "host-attach: mhi1_LOOPBACK"
		[ "$(cat "$T/sys/bus/pci/rescan")" = 1 ]
		wait
	done
}

@test "host-attach: MHI up without LOOPBACK points at the host channel table" {
	for sh in "${SHELLS[@]}"; do
		make_host_tree
		mkdir "$T/sys/bus/mhi/devices/mhi0_DIAG" "$T/sys/bus/mhi/devices/mhi0_IP_SW0"
		ATTACH_TIMEOUT=0 run $sh "$SCRIPTS/host-attach.sh"
		assert_failure 1
		assert_output --partial "no MHI LOOPBACK device after 0s, although MHI is up: mhi0_DIAG mhi0_IP_SW0;"
		assert_output --partial "channel table for this device has no LOOPBACK"
	done
}

@test "host-attach: no MHI device, unwritable rescan, bad timeout: clear errors" {
	for sh in "${SHELLS[@]}"; do
		make_host_tree
		run $sh "$SCRIPTS/host-attach.sh" -t 1
		assert_failure 1
		assert_output --partial "no MHI device at all after 1s"
		rm "$T/sys/bus/pci/rescan"
		run $sh "$SCRIPTS/host-attach.sh" -r
		assert_failure 1
		assert_output --partial "cannot write $T/sys/bus/pci/rescan"
		run $sh "$SCRIPTS/host-attach.sh" -t soon
		assert_failure 1
		assert_output --partial "the timeout must be a whole number of seconds"
	done
}

# ---- collect-dmesg.sh --------------------------------------------------------

@test "collect-dmesg: a clean log passes both cases" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		FAKE_DMESG=$DATA/dmesg-clean.txt run $sh "$SCRIPTS/collect-dmesg.sh"
		assert_success
		assert_line "<6>[    2.200000] mhi mhi0: LOOPBACK test done"
		run calls
		assert_line "lava-test-case dmesg-crit --result pass --measurement 0 --units lines"
		assert_line "lava-test-case dmesg-oops --result pass --measurement 0 --units lines"
	done
}

@test "collect-dmesg: counts findings after the kselftest marker only, ignores LAVA signals" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		FAKE_DMESG=$DATA/dmesg-findings.txt run $sh "$SCRIPTS/collect-dmesg.sh" -o "$T/raw.txt"
		assert_failure 1
		# printed, but defused: the dispatcher must not count it again
		refute_output --partial "<LAVA_SIGNAL_"
		assert_line "<8>[    2.100000] [lava-signal TESTCASE TEST_CASE_ID=mhi.x RESULT=pass>"
		assert_line "collect-dmesg: 1 emerg/alert/crit lines, 2 kernel error reports since 'kselftest: Running tests in'"
		cmp "$T/raw.txt" "$DATA/dmesg-findings.txt"
		run calls
		assert_line "lava-test-case dmesg-crit --result fail --measurement 1 --units lines"
		assert_line "lava-test-case dmesg-oops --result fail --measurement 2 --units lines"
	done
}

@test "collect-dmesg: without the marker (or with -s '') the whole log is judged" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		FAKE_DMESG=$DATA/dmesg-findings.txt run $sh "$SCRIPTS/collect-dmesg.sh" -s ""
		assert_failure 1
		assert_line "collect-dmesg: 2 emerg/alert/crit lines, 3 kernel error reports since 'boot'"
		FAKE_DMESG=$DATA/dmesg-findings.txt SINCE="no such marker" run $sh "$SCRIPTS/collect-dmesg.sh"
		assert_failure 1
		assert_line "collect-dmesg: no 'no such marker' line in the log: judging all of it"
	done
}

@test "collect-dmesg: an unreadable kernel log is exit 2 with a reason" {
	for sh in "${SHELLS[@]}"; do
		reset_calls
		FAKE_DMESG='' run $sh "$SCRIPTS/collect-dmesg.sh"
		assert_failure 2
		assert_output --partial "cannot read the kernel log"
		run calls
		assert_output ""
	done
}

# ---- jobs and test definitions -----------------------------------------------

@test "validator: every job and test definition of lava-jobs/ is valid" {
	run /usr/bin/python3 "$REPO/lava-jobs/lavacheck.py" validate "$REPO"/lava-jobs/*.yaml "$REPO"/lava-jobs/testdefs/*.yaml
	assert_success
	refute_output --partial INVALID
	assert_line --partial "multinode-host-endpoint.yaml (job)"
	assert_line --partial "mhi-ep-setup.yaml (testdef)"
}

@test "validator: a multinode action without role is rejected" {
	run /usr/bin/python3 "$REPO/lava-jobs/lavacheck.py" validate "$DATA/broken-multinode-no-role.yaml"
	assert_failure 1
	assert_output --partial "Every action of a multinode job should have roles"
}

@test "validator: template markers, brace steps, parse patterns and missing scripts are rejected" {
	run /usr/bin/python3 "$REPO/lava-jobs/lavacheck.py" validate "$DATA/template-marker.yaml"
	assert_failure 1
	assert_output --partial "contains template markers"
	run /usr/bin/python3 "$REPO/lava-jobs/lavacheck.py" validate "$DATA/inline-brace-step.yaml"
	assert_failure 1
	assert_output --partial "expected str"
	run /usr/bin/python3 "$REPO/lava-jobs/lavacheck.py" validate "$DATA/testdef-parse-pattern.yaml"
	assert_failure 1
	assert_output --partial "extra keys not allowed @ data['parse']['pattern']"
	run /usr/bin/python3 "$REPO/lava-jobs/lavacheck.py" validate "$DATA/testdef-missing-script.yaml"
	assert_failure 1
	assert_output --partial "lava-jobs/scripts/no-such-script.sh, which does not exist"
}

@test "validator: what lava-server itself refuses (params inside an inline definition) is rejected" {
	run /usr/bin/python3 "$REPO/lava-jobs/lavacheck.py" validate "$DATA/inline-params.yaml"
	assert_failure 1
	assert_output --partial "lava-server refuses it: extra keys not allowed @ data['actions'][1]['test']['definitions'][0]['repository']['params']"
}

# ---- lavaresults.py: a server's results against the KTAP ---------------------

# server_data KTAP_FILE: $T/results.yaml and $T/log.yaml as lavacli prints
# them, for a job whose KTAP is KTAP_FILE and whose results are what the real
# ktap reports for it (raw signals, no LAVA helper on PATH), plus the
# scripts' own cases ($OWN: mhi-runner); the log has console noise around
# the KTAP.
server_data() {
	mkdir -p "$T/nohelpers"
	PATH=$T/nohelpers "$KTAP_BIN" --mode lava "$1" >"$T/signals" || true
	/usr/bin/python3 - "$T/signals" "$1" "$T/results.yaml" "$T/log.yaml" <<-'EOF'
		import os, re, sys, yaml
		signals, ktap, out, log = sys.argv[1:]
		rows, cur = [], None
		for line in open(signals):
		    for kind, body in re.findall(r"<LAVA_SIGNAL_(TESTCASE|TESTSET) ([^>]*)>", line):
		        if kind == "TESTSET":
		            w = body.split()
		            cur = w[1] if w[0] == "START" else None
		            continue
		        f = dict(x.split("=", 1) for x in body.split())
		        meta = {"case": f["TEST_CASE_ID"], "definition": "0_mhi-vlink", "result": f["RESULT"]}
		        if cur:
		            meta["set"] = cur
		        rows.append({"name": f["TEST_CASE_ID"], "result": f["RESULT"], "suite": "0_mhi-vlink",
		                     "measurement": f.get("MEASUREMENT", "None"), "unit": f.get("UNITS", ""), "metadata": meta})
		for own in os.environ.get("OWN", "mhi-runner").split():
		    rows.append({"name": own, "result": "pass", "suite": "0_mhi-vlink", "measurement": "0",
		                 "unit": "exit", "metadata": {}})
		rows.append({"name": "job", "result": "pass", "suite": "lava", "measurement": "None", "unit": "", "metadata": {}})
		yaml.safe_dump(rows, open(out, "w"))
		recs = [{"lvl": "target", "msg": m} for m in ["+ echo ---- KTAP begin ----", "[   3.1] mhi mhi0: noise"]]
		recs.append({"lvl": "target", "msg": "---- KTAP begin ----"})
		recs += [{"lvl": "target", "msg": l.rstrip("\n")} for l in open(ktap)]
		recs.append({"lvl": "target", "msg": "---- KTAP end ----"})
		recs.append({"lvl": "results", "msg": {"case": "job", "definition": "lava", "result": "pass"}})
		yaml.safe_dump(recs, open(log, "w"))
	EOF
}

compare() {
	/usr/bin/python3 "$REPO/lava-jobs/lavaresults.py" compare --results "$T/results.yaml" \
		--log "$T/log.yaml" --ktap "$KTAP_BIN" --suite mhi-vlink --own mhi-runner "$@"
}

# edit PYTHON: change the server's results ("rows", a list of dicts).
edit() {
	/usr/bin/python3 -c "
import yaml
rows = yaml.safe_load(open('$T/results.yaml'))
suite = [r for r in rows if r['suite'] == '0_mhi-vlink' and r['name'] != 'mhi-runner']
$1
yaml.safe_dump(rows, open('$T/results.yaml', 'w'))"
}

@test "lavaresults compare: the server's results equal the KTAP of the run" {
	for k in runner-mhi.ktap suite-default.ktap; do
		server_data "$BATS_TEST_DIRNAME/data/ktap/$k"
		run compare
		assert_success
		assert_line "compare: the server's results equal the KTAP, case by case"
		refute_line --partial DIFF
	done
	# the real suite: every case, its 53 declared measurements among them
	assert_line --regexp '-> 377 cases, 53 with a measurement; server suite 0_mhi-vlink: 378 cases \(1 of the scripts. own\)$'
}

@test "lavaresults compare: every kind of difference is printed and fails" {
	server_data "$BATS_TEST_DIRNAME/data/ktap/runner-mhi.ktap"
	edit "suite[0]['result'] = 'skip' if suite[0]['result'] != 'skip' else 'pass'"
	run compare
	assert_failure 1
	assert_line --regexp "^DIFF [^ ]+: result ktap '[a-z]+', server '[a-z]+'$"

	server_data "$BATS_TEST_DIRNAME/data/ktap/runner-mhi.ktap"
	edit "rows.remove(suite[1])"
	run compare
	assert_failure 1
	assert_line --regexp "^DIFF [^ ]+: ktap [a-z]+, not on the server$"

	server_data "$BATS_TEST_DIRNAME/data/ktap/runner-mhi.ktap"
	edit "rows.append(dict(suite[0], name='mhi.extra'))"
	run compare
	assert_failure 1
	assert_line --regexp "^DIFF mhi.extra: on the server \([a-z]+\), not in the KTAP$"

	server_data "$BATS_TEST_DIRNAME/data/ktap/runner-mhi.ktap"
	edit "r = next(r for r in suite if r['measurement'] == 'None'); r['measurement'], r['unit'] = '5', 'MB/s'"
	run compare
	assert_failure 1
	assert_line --regexp "^DIFF [^ ]+: measurement ktap None, server '5'$"
	assert_line --regexp "^DIFF [^ ]+: units ktap None, server 'MB/s'$"

	server_data "$BATS_TEST_DIRNAME/data/ktap/runner-mhi.ktap"
	edit "suite[0]['metadata']['set'] = 'elsewhere'"
	run compare
	assert_failure 1
	assert_line --regexp "^DIFF [^ ]+: set ktap '[^']+', server 'elsewhere'$"

	# a case of the scripts' own that is missing
	server_data "$BATS_TEST_DIRNAME/data/ktap/runner-mhi.ktap"
	run compare mhi-ktap
	assert_failure 1
	assert_line "DIFF mhi-ktap: the scripts' own case is not on the server"
}

@test "lavaresults compare: measurements compare as the floats the dispatcher sends" {
	run /usr/bin/python3 -B -c "
import sys; sys.path.insert(0, '$REPO/lava-jobs')
from lavaresults import same_measurement as same
assert same('4000.2', '4000.19999999999981810105964541')
assert same('18.3', '18.3000000000000007105427357601')
assert not same('4000.2', '4000.3')
assert same(None, None) and not same(None, '0') and not same('0', None)
print('ok')"
	assert_success
	assert_output ok
}

@test "lavaresults compare: no KTAP markers in the log, or no ktap, is a clear error" {
	server_data "$BATS_TEST_DIRNAME/data/ktap/runner-mhi.ktap"
	sed -i '/KTAP end/d' "$T/log.yaml"
	run compare
	assert_failure 1
	assert_output --partial "compare: no KTAP between '---- KTAP begin ----' and '---- KTAP end ----' lines"
	server_data "$BATS_TEST_DIRNAME/data/ktap/runner-mhi.ktap"
	run /usr/bin/python3 "$REPO/lava-jobs/lavaresults.py" compare --results "$T/results.yaml" \
		--log "$T/log.yaml" --ktap "$T/no-ktap" --suite mhi-vlink
	assert_failure 1
	assert_output --partial "is not an executable ktap"
}

@test "lavaresults verdict: passes only when the job completed and every case passed" {
	cat >"$T/r.yaml" <<-'EOF'
		- {name: validate, suite: lava, result: pass}
		- {name: mhi.t.a, suite: 0_mhi, result: pass, measurement: 'None', unit: ''}
		- {name: mhi-runner, suite: 0_mhi, result: pass, measurement: '0', unit: exit}
		- {name: job, suite: lava, result: pass}
	EOF
	run /usr/bin/python3 "$REPO/lava-jobs/lavaresults.py" verdict --results "$T/r.yaml" --min-cases 2 --expect mhi-runner=pass
	assert_success
	assert_line "server: 2 pass"
	sed -i 's/{name: mhi.t.a, suite: 0_mhi, result: pass/{name: mhi.t.a, suite: 0_mhi, result: skip/' "$T/r.yaml"
	run /usr/bin/python3 "$REPO/lava-jobs/lavaresults.py" verdict --results "$T/r.yaml"
	assert_failure 1
	assert_line "FAIL: 1 test case(s) did not pass: 0_mhi.mhi.t.a"
	run /usr/bin/python3 "$REPO/lava-jobs/lavaresults.py" verdict --results "$T/r.yaml" --allow-skip
	assert_success
	run /usr/bin/python3 "$REPO/lava-jobs/lavaresults.py" verdict --results "$T/r.yaml" --expect mhi.t.a=skip --min-cases 3
	assert_failure 1
	assert_line "FAIL: only 2 test case(s), expected at least 3"
	sed -i '/name: job/d' "$T/r.yaml"
	run /usr/bin/python3 "$REPO/lava-jobs/lavaresults.py" verdict --results "$T/r.yaml" --allow-skip
	assert_failure 1
	assert_line "FAIL: the job did not complete (lava.job: missing)"
}

@test "check.sh: the QEMU job's case count and expected names are what ktap makes of the real suite" {
	capture=$REPO/tests/data/ktap/suite-default.ktap
	"$KTAP_BIN" --mode list "$capture" >"$T/list"
	run bash "$REPO/lava-jobs/check.sh" --expectations
	assert_success
	printf '%s\n' "$output" >"$T/exp"
	# the cases the job's own steps add to ktap's: run-suite.sh's three and
	# collect-dmesg.sh's two
	own="mhi-runner mhi-ktap mhi-verdict dmesg-crit dmesg-oops"
	steps=$(sed 's/^  *//' "$REPO/lava-jobs/qemu-mhi-vlink.yaml")
	grep -q '^- /opt/lava-jobs/scripts/run-suite.sh ' <<<"$steps"
	grep -q '^- /opt/lava-jobs/scripts/collect-dmesg.sh ' <<<"$steps"
	for c in runner ktap verdict; do
		grep -q "report \"\$COLLECTION-$c\" " "$SCRIPTS/run-suite.sh"
	done
	grep -q '^report dmesg-crit ' "$SCRIPTS/collect-dmesg.sh"
	grep -q '^report dmesg-oops ' "$SCRIPTS/collect-dmesg.sh"
	assert_equal "$(sed -n 's/^min-cases //p' "$T/exp")" "$(($(wc -l <"$T/list") + 5))"
	# every expected name is a case of the capture with that result, or one of our own
	n=0
	while read -r kind spec; do
		[ "$kind" = expect ] || continue
		name=${spec%=*} want=${spec#*=}
		case " $own " in
		*" $name "*) assert_equal "$want" pass ;;
		*) grep -qE "^${name//./\\.} ${want}( |\$)" "$T/list" || fail "$name=$want is not what ktap reports: $(grep "^${name//./\\.} " "$T/list")" ;;
		esac
		n=$((n + 1))
	done <"$T/exp"
	[ "$n" -ge 5 ] || fail "only $n expected names"
}

@test "check.sh: its expectations pass on the real suite's server results, not without a measurement or a test" {
	capture=$REPO/tests/data/ktap/suite-default.ktap
	mapfile -t args < <(bash "$REPO/lava-jobs/check.sh" --expectations |
		sed -E 's/^min-cases (.*)/--min-cases\n\1/; s/^expect (.*)/--expect\n\1/')
	verdict() {
		/usr/bin/python3 "$REPO/lava-jobs/lavaresults.py" verdict --results "$T/results.yaml" "${args[@]}"
	}
	export OWN="mhi-runner mhi-ktap mhi-verdict dmesg-crit dmesg-oops"
	server_data "$capture"
	run verdict
	assert_success
	assert_line "server: 381 pass, 1 skip"
	# one declared measurement fewer
	sed '/# measure: throughput_tre_65535_num_cap=/d' "$capture" >"$T/nomeas.ktap"
	server_data "$T/nomeas.ktap"
	run verdict
	assert_failure 1
	assert_line "FAIL: only 381 test case(s), expected at least 382"
	assert_line "FAIL: expected mhi.mhi_loopback_test.measure.throughput.throughput_tre_65535_num_cap=pass, got nothing"
	# the suite stopped in its last race: the test that hung fails, the rest are unknown
	sed '/^# #  RUN           race.vlink_cycles \.\.\.$/q' "$capture" >"$T/hang.ktap"
	server_data "$T/hang.ktap"
	run verdict
	assert_failure 1
	assert_line --partial "0_mhi-vlink.mhi.mhi_loopback_test.race.vlink_cycles"
	assert_line --regexp '^FAIL: only [0-9]+ test case\(s\), expected at least 382$'
}

@test "lavaresults stopped: where a board job stopped, and whether it was scheduled" {
	cat >"$T/show.yaml" <<-'EOF'
		{id: 6.0, device: x86-01, device_type: x86, state: Finished, health: Incomplete}
	EOF
	cat >"$T/log.yaml" <<-'EOF'
		- {lvl: info, msg: "start: 0 validate"}
		- {lvl: error, msg: "InfrastructureError: The Infrastructure is not working correctly."}
		- {lvl: results, msg: {case: job, definition: lava, error_msg: "Unable to identify tftpd directory", error_type: Infrastructure, result: fail}}
	EOF
	run /usr/bin/python3 "$REPO/lava-jobs/lavaresults.py" stopped --show "$T/show.yaml" --log "$T/log.yaml"
	assert_success
	assert_line "job 6.0 (x86): device x86-01, Finished, Incomplete"
	assert_line "  stopped in '0 validate': Infrastructure error: Unable to identify tftpd directory"
	sed -i 's/device: x86-01, //' "$T/show.yaml"
	run /usr/bin/python3 "$REPO/lava-jobs/lavaresults.py" stopped --show "$T/show.yaml" --log "$T/log.yaml"
	assert_failure 1
	assert_line "FAIL: job 6.0 was never scheduled on a device"
}

# ---- lavatimeouts.py: timeouts that follow from the suite's own ---------------

timeouts() {
	/usr/bin/python3 "$REPO/lava-jobs/lavatimeouts.py" --settings "${SETTINGS:-$REPO/tools/testing/selftests/mhi/settings}" \
		--testdefs "${TESTDEFS:-$REPO/lava-jobs/testdefs}" "$@"
}

# broken NAME PYTHON: $T/NAME, a copy of the multinode job changed by PYTHON
# (the job is "j", its actions by kind and role in "act").
broken() {
	/usr/bin/python3 - "$REPO/lava-jobs/multinode-host-endpoint.yaml" "$T/$1" "$2" <<-'PY'
		import sys, yaml
		src, dst, code = sys.argv[1:]
		j = yaml.safe_load(open(src))
		def act(kind, role, n=0):
		    return [a[kind] for a in j["actions"] if kind in a and role in a[kind]["role"]][n]
		exec(code)
		yaml.safe_dump(j, open(dst, "w"))
	PY
}

@test "timeouts: every job's timeouts follow from the suite's settings" {
	run timeouts "$REPO"/lava-jobs/*.yaml
	assert_success
	assert_line --regexp '^timeouts ok modem-host.yaml: '
	assert_line --regexp '^timeouts ok qemu-mhi-vlink.yaml: '
	assert_line --regexp '^timeouts ok multinode-host-endpoint.yaml: .*host waits [0-9]+ s for ep-ready .*endpoint waits [0-9]+ s for host-done'
	# a slower suite (a larger runner limit) no longer fits
	printf 'timeout=2400\n' >"$T/settings"
	SETTINGS=$T/settings run timeouts "$REPO/lava-jobs/modem-host.yaml"
	assert_failure 1
	assert_line "TIMEOUTS modem-host.yaml: SUITE_TIMEOUT 1800 s of mhi-loopback is not above the runner's 2400 s for one program (the settings file)"
}

@test "timeouts: the multinode job's rules each fail when broken" {
	broken ok.yaml "pass"
	run timeouts "$T/ok.yaml"
	assert_success
	broken nomsg.yaml "del act('boot', 'host')['protocols']['lava-multinode'][0]['message']"
	run timeouts "$T/nomsg.yaml"
	assert_failure 1
	assert_line --partial "TIMEOUTS nomsg.yaml: host's boot waits for ep-ready in a way the dispatcher refuses: Unable to identify replaceable values"
	# the host boots without waiting for the endpoint: its boot no longer
	# absorbs the endpoint's start, and the endpoint's wait is too short
	broken noboot.yaml "del act('boot', 'host')['protocols']"
	run timeouts "$T/noboot.yaml"
	assert_output "TIMEOUTS noboot.yaml: endpoint's test waits 4200 s for host-done, but host may take 5700 s to send it"
	# the endpoint never says it is ready
	cp -r "$REPO/lava-jobs/testdefs" "$T/td"
	sed -i '/lava-send ep-ready/d' "$T/td/mhi-ep-setup.yaml"
	TESTDEFS=$T/td run timeouts "$T/ok.yaml"
	assert_output "TIMEOUTS ok.yaml: host waits for ep-ready, which no other role sends"
	broken ess.yaml "j['protocols']['lava-multinode']['roles']['endpoint']['essential'] = False"
	run timeouts "$T/ess.yaml"
	assert_output "TIMEOUTS ess.yaml: role endpoint is not essential"
	broken poll.yaml "j['protocols']['lava-multinode']['timeout'] = {'minutes': 10}"
	run timeouts "$T/poll.yaml"
	assert_output "TIMEOUTS poll.yaml: the lava-multinode timeout 600 s is shorter than endpoint's test action (4200 s) that waits for host-done"
	broken epwait.yaml "act('test', 'endpoint')['timeout'] = {'minutes': 60}; j['protocols']['lava-multinode']['timeout'] = {'minutes': 60}"
	run timeouts "$T/epwait.yaml"
	assert_output "TIMEOUTS epwait.yaml: endpoint's test waits 3600 s for host-done, but host may take 3900 s to send it"
	broken suite.yaml "act('test', 'host')['definitions'][0]['parameters']['SUITE_TIMEOUT'] = '2100'"
	run timeouts "$T/suite.yaml"
	assert_output "TIMEOUTS suite.yaml: SUITE_TIMEOUT 2100 s + ATTACH_TIMEOUT 120 s + 60 s of mhi-loopback do not fit in its test action's 2100 s"
	broken job.yaml "j['timeouts']['job'] = {'minutes': 90}"
	run timeouts "$T/job.yaml"
	assert_output "TIMEOUTS job.yaml: the actions of endpoint add up to 5700 s, more than the job's 5400 s"
}
