#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Direct-run KTAP check of tools/testing/selftests/mhi/mhi_loopback_test: the
# program is built for this machine (plain userspace, against the kselftest
# headers of the rig's kernel tree) and run, without any MHI hardware, in
# every situation where it exits before or instead of running tests: not
# root, no MHI bus, no controller, a controller without LOOPBACK, contradicting
# or bad options, --vlink without a link, the listings, and --hardware on a
# fake virtual link. Each output must be a KTAP document that both kunit.py
# (from the rig's tree) and our parser (tools/testing/ktap) read.
#
# kunit.py has no notion of TAP's skip-all plan "1..0 # SKIP reason": it reads
# such a document as one with no tests ("0 tests run!") and exits 1. That is
# accepted only together with "SKIP" on the plan, exit 4 from the program and
# a skip note from our parser; a document kunit.py cannot find at all
# ("Could not find any KTAP output", the header-less skip) always fails.
#
# The tree is .cache/linux (ci/lib.sh: RIG_CACHE); make check lays it first.

bats_require_minimum_version 1.5.0

setup_file() {
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	# shellcheck source=ci/lib.sh
	. "$REPO/ci/lib.sh"
	rig_paths
	export TREE
	if [ ! -f "$TREE/tools/testing/selftests/kselftest_harness.h" ] ||
		[ ! -f "$TREE/tools/testing/kunit/kunit.py" ]; then
		echo "no kernel tree at $TREE: run 'make tree' (make check lays it first)" >&2
		return 1
	fi
	local st=$REPO/tools/testing/selftests/mhi kmod=()
	if pkg-config --exists libkmod 2>/dev/null; then
		read -r -a kmod <<<"-DHAVE_LIBKMOD $(pkg-config --cflags --libs libkmod)"
	fi
	gcc -Wall -Wextra -Werror -O2 -pthread -I"$TREE/tools/testing/selftests" \
		-o "$BATS_FILE_TMPDIR/mhi_loopback_test" "$st"/mhi_loopback_test.c "$st"/mhi_lt_*.c \
		"${kmod[@]}" >&2
	mkdir -p "$BATS_FILE_TMPDIR/ktap"
	env -u MAKEFLAGS -u MAKELEVEL make -s -C "$REPO/tools/testing/ktap" \
		OUTPUT="$BATS_FILE_TMPDIR/ktap/" >&2
}

setup() {
	bats_load_library bats-support
	bats_load_library bats-assert
	LT=$BATS_FILE_TMPDIR/mhi_loopback_test
	KTAP=$BATS_FILE_TMPDIR/ktap/ktap
	KUNIT=$TREE/tools/testing/kunit/kunit.py
	T=$BATS_TEST_TMPDIR
	# never load a module of this machine, whatever the test does
	export MHI_LT_NO_LOAD=1
	unset MHI_LT_VLINK MHI_LT_HARDWARE MHI_LT_DEVICE MHI_LT_SYSFS_ROOT
}

# run_lt ARGS...: the program's stdout in $T/out, its exit code in $rc
run_lt() {
	rc=0
	"$LT" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
}

# A fake sysfs: "modem" (mhi0 under a PCI device), "vlink" (mhi0 under the
# faux device mhi-vlink.0, with the link's debugfs and module); with
# "loopback" the controller has a LOOPBACK device bound to mhi_loopback.
fake_tree() { # dir kind [loopback]
	local r=$1 dev bus drv L
	case $2 in
	modem) dev=devices/pci0000:00/0000:01:00.0 bus=pci drv=mhi-pci-generic ;;
	vlink) dev=devices/faux/mhi-vlink.0 bus=faux drv=faux_driver ;;
	esac
	mkdir -p "$r/sys/$dev/mhi0/mhi0_DIAG" "$r/sys/bus/mhi/devices" "$r/sys/bus/$bus/drivers/$drv" \
		"$r/sys/bus/mhi/drivers/mhi_loopback"
	ln -s "../../../bus/$bus/drivers/$drv" "$r/sys/$dev/driver"
	ln -s "../../../bus/$bus" "$r/sys/$dev/subsystem"
	ln -s "../../../$dev/mhi0" "$r/sys/bus/mhi/devices/mhi0"
	ln -s "../../../$dev/mhi0/mhi0_DIAG" "$r/sys/bus/mhi/devices/mhi0_DIAG"
	if [ "${3:-}" = loopback ]; then
		L=$r/sys/$dev/mhi0/mhi0_LOOPBACK
		mkdir -p "$L"
		ln -s "../../../$dev/mhi0/mhi0_LOOPBACK" "$r/sys/bus/mhi/devices/mhi0_LOOPBACK"
		ln -s "../../../../../../bus/mhi/drivers/mhi_loopback" "$L/driver"
		printf '32\n' >"$L/tre_size"
		printf '65535\n' >"$L/max_tre_size"
		printf '1\n' >"$L/num_tre"
		printf 'not started\n' >"$L/status"
		: >"$L/start"
	fi
	if [ "$2" = vlink ]; then
		local k=$r/sys/kernel/debug/mhi_vlink/link0 knob
		mkdir -p "$k" "$r/sys/module/mhi_vlink"
		echo live >"$r/sys/module/mhi_vlink/initstate"
		echo mhi0 >"$k/host"
		echo mhi_ep0 >"$k/endpoint"
		for knob in drop_echo corrupt_echo corrupt_skip corrupt_offset corrupt_len \
			delay_echo_ms fail_dma; do
			echo 7 >"$k/$knob"
		done
	fi
}

# kunit.py's reading of $T/out, and ours
parse_both() {
	run python3 "$KUNIT" parse "$T/out"
	kunit_out=$output
	kunit_rc=$status
	run --separate-stderr "$KTAP" --strict "$T/out"
	ktap_out=$output
	ktap_err=$stderr
	ktap_rc=$status
	if [[ $kunit_out == *"Could not find any KTAP output"* ]]; then
		fail "kunit.py finds no KTAP document in: $(cat "$T/out")"
	fi
	[ "$ktap_rc" -ne 2 ] || fail "ktap cannot read: $ktap_err"
}

# The whole output is "TAP version 13" then a "1..0 # SKIP <reason>" plan.
expect_skip_doc() { # reason [exit code]
	parse_both
	assert_equal "$rc" "${2:-4}"
	run sed -n '1p' "$T/out"
	assert_output "TAP version 13"
	run sed -n '2p' "$T/out"
	assert_output "1..0 # SKIP $1"
	# kunit.py: a document with a zero plan; it ignores the SKIP directive
	[[ $kunit_out == *"Test: main: 0 tests run!"* ]] || fail "kunit.py: $kunit_out"
	assert_equal "$kunit_rc" 1
	# ours: the skip-all plan, nothing failed
	assert_equal "$ktap_rc" 0
	[[ $ktap_err == *"note: all tests skipped: $1"* ]] || fail "ktap: $ktap_err"
	assert_equal "$ktap_out" "0 passed, 0 failed, 0 skipped"
}

# "TAP version 13", then "Bail out! <reason>", exit 1.
expect_fail_doc() { # reason
	parse_both
	assert_equal "$rc" 1
	run sed -n '1p' "$T/out"
	assert_output "TAP version 13"
	run sed -n '2p' "$T/out"
	assert_output "Bail out! $1"
	[[ $kunit_out == *"Bail out! $1"* ]] || fail "kunit.py: $kunit_out"
	[[ $kunit_out == *"0 tests run!"* ]] || fail "kunit.py: $kunit_out"
	assert_equal "$kunit_rc" 1
	assert_equal "$ktap_rc" 1
	[[ $ktap_out == *"FAIL bail_out # $1"* ]] || fail "ktap: $ktap_out"
}

@test "direct run: not root skips with a KTAP document" {
	if [ "$(id -u)" -eq 0 ]; then
		command -v setpriv || fail "setpriv is missing (util-linux)"
		rc=0
		setpriv --reuid=65534 --regid=65534 --clear-groups "$LT" >"$T/out" 2>"$T/err" ||
			rc=$?
	else
		run_lt
	fi
	expect_skip_doc "not root"
}

@test "direct run: no MHI bus, no controller, a controller without LOOPBACK" {
	mkdir -p "$T/nobus"
	run_lt --sysfs-root "$T/nobus"
	expect_skip_doc "no MHI bus"

	mkdir -p "$T/nocntrl/sys/bus/mhi/devices"
	run_lt --sysfs-root "$T/nocntrl"
	expect_skip_doc "no MHI controller"

	fake_tree "$T/modem" modem
	run_lt --sysfs-root "$T/modem"
	expect_skip_doc "controller mhi0 has no LOOPBACK channel"
	# with --hardware too, and never "the virtual link instead"
	run_lt --sysfs-root "$T/modem" --hardware
	expect_skip_doc "controller mhi0 has no LOOPBACK channel"
	run_lt --sysfs-root "$T/modem" -D mhi0_LOOPBACK
	expect_skip_doc "controller mhi0 has no LOOPBACK channel"
}

@test "direct run: --vlink on a modem loads nothing and skips" {
	fake_tree "$T/modem" modem loopback
	run_lt --sysfs-root "$T/modem" --vlink --info
	expect_skip_doc "mhi_vlink is not loaded and module loading is off"
	MHI_LT_VLINK=1 run_lt --sysfs-root "$T/modem" --info
	expect_skip_doc "mhi_vlink is not loaded and module loading is off"
	# an option wins over the variable
	MHI_LT_VLINK=1 run_lt --sysfs-root "$T/modem" --hardware --info
	assert_equal "$rc" 0
	grep -qx "mode=hardware" "$T/out"
}

@test "direct run: contradicting modes and bad options fail as KTAP (Bail out!)" {
	run_lt --vlink --hardware
	expect_fail_doc "--vlink and --hardware exclude each other"
	MHI_LT_VLINK=1 MHI_LT_HARDWARE=1 run_lt
	expect_fail_doc "--vlink and --hardware exclude each other"
	run_lt --sysfs-root "$T" -x
	expect_fail_doc "bad option or missing argument: -x (see --help)"
	run_lt --sysfs-root "$T" -r
	expect_fail_doc "bad option or missing argument: -r (see --help)"
}

@test "direct run: -l, --help and --names are KTAP documents too" {
	run_lt -l
	expect_skip_doc "test list or usage only (on stderr)"
	grep -q "^# FIXTURE" "$T/err"
	run_lt --help
	expect_skip_doc "test list or usage only (on stderr)"
	grep -q -- "--hardware" "$T/err"
	run_lt --names
	expect_skip_doc "test names only" 0
	run_lt --names --hardware
	expect_skip_doc "test names only" 0
}

@test "--names: every test has a class; --names --hardware lists the hardware ones" {
	run_lt --names
	assert_equal "$rc" 0
	tail -n +3 "$T/out" >"$T/all"
	run grep -c . "$T/all"
	[ "$output" -gt 50 ] || fail "only $output tests listed"
	run grep -v -E '^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?\.[A-Za-z0-9_]+ (hardware|link)$' "$T/all"
	assert_output ""
	# the tests of the link's knobs, its EP side and the link itself
	for t in fault.drop_echo fault.corrupt_echo race.held_start_vs_unbind \
		race.ep_reload_no_lost_start race.vlink_cycles; do
		grep -qx "$t link" "$T/all" || fail "$t is not a link test"
	done
	for t in abi.discovery loopback.tre_65535_num_cap.start sweep.tre_size_all \
		race.start_vs_unbind race.module_reload_cycles; do
		grep -qx "$t hardware" "$T/all" || fail "$t is not a hardware test"
	done
	run_lt --names --hardware
	tail -n +3 "$T/out" >"$T/hw"
	run diff "$T/hw" <(grep ' hardware$' "$T/all")
	assert_success
}

@test "--hardware on a virtual link: link tests SKIP, knobs untouched; the canary skips" {
	fake_tree "$T/vl" vlink loopback
	knobs=$T/vl/sys/kernel/debug/mhi_vlink/link0
	run_lt --sysfs-root "$T/vl" --hardware -r fault.drop_echo -r race.vlink_cycles
	assert_equal "$rc" 0
	run grep -E '^(not )?ok ' "$T/out"
	assert_output "$(printf '%s\n' 'ok 1 fault.drop_echo # SKIP needs the virtual link' \
		'ok 2 race.vlink_cycles # SKIP needs the virtual link')"
	parse_both
	assert_equal "$ktap_rc" 0
	assert_equal "$ktap_out" "$(printf '%s\n' 'SKIP fault.drop_echo # needs the virtual link' \
		'SKIP race.vlink_cycles # needs the virtual link' '0 passed, 0 failed, 2 skipped')"
	[[ $kunit_out == *"[SKIPPED] fault.drop_echo"* ]] || fail "kunit.py: $kunit_out"
	[[ $kunit_out == *"skipped: 2"* ]] || fail "kunit.py: $kunit_out"
	# a hardware test runs (it fails on a fake tree), and no knob was written
	run_lt --sysfs-root "$T/vl" --hardware -r abi.max_tre_size -r fault.drop_echo
	grep -q '^not ok 1 abi.max_tre_size$' "$T/out"
	run cat "$knobs/drop_echo" "$knobs/delay_echo_ms" "$knobs/fail_dma"
	assert_output "$(printf '7\n7\n7')"
	run_lt --sysfs-root "$T/vl" --hardware --info
	grep -qx "vlink=none" "$T/out"
	grep -qx "mhi_controller=mhi0 virtual_link=1" "$T/out"
	# without --hardware the same fault test arms the link (so the check above can fail)
	run_lt --sysfs-root "$T/vl" -r fault.drop_echo
	run cat "$knobs/drop_echo"
	assert_output "0"

	run_lt --sysfs-root "$T/vl" --hardware --canary
	expect_skip_doc "needs the virtual link"
	fake_tree "$T/modem" modem loopback
	run_lt --sysfs-root "$T/modem" --canary
	expect_skip_doc "no fault knob"
}

@test "--names is an --expect list for ktap: a hang names every test never reached" {
	run_lt --names
	assert_equal "$rc" 0
	cp "$T/out" "$T/names"
	tail -n +3 "$T/names" | cut -d' ' -f1 >"$T/all"
	n=$(wc -l <"$T/all")
	# the program's document as a hang in its 6th test leaves it
	{
		printf 'TAP version 13\n1..%s\n' "$n"
		head -n 5 "$T/all" | awk '{ printf "ok %d %s\n", NR, $1 }'
		printf '#  RUN           %s ...\n' "$(sed -n 6p "$T/all")"
	} >"$T/hang"
	run --separate-stderr "$KTAP" --mode list --expect "$T/names" "$T/hang"
	assert_equal "$status" 1
	assert_equal "$output" "$(head -n 5 "$T/all" | sed 's/$/ pass/'
		sed -n 6p "$T/all" | sed 's/$/ fail/'
		tail -n +7 "$T/all" | sed 's/$/ unknown/')"
	# the same list without the header and the classes reads the same
	run --separate-stderr "$KTAP" --mode list --expect "$T/all" "$T/hang"
	assert_equal "$output" "$(head -n 5 "$T/all" | sed 's/$/ pass/'
		sed -n 6p "$T/all" | sed 's/$/ fail/'
		tail -n +7 "$T/all" | sed 's/$/ unknown/')"
}
