#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Tests for tools/testing/ktap (the Python-free KTAP parser).
#   bats tests/ktap.bats                      (builds ./ktap if missing)
#   KTAP=/path/to/ktap bats tests/ktap.bats   (test another binary)
# Inputs live in tests/data/ktap; see the README there for their origin.
# The kernel's own logs (KUnit test_data, harness-selftest.expected) are read
# from the kernel tree or source tarball: tests/data/ktap/kernel-data.sh.

bats_require_minimum_version 1.5.0

setup_file() {
	SRC="$BATS_TEST_DIRNAME/../tools/testing/ktap"
	if [ -z "${KTAP:-}" ] && [ ! -x "$SRC/ktap" ]; then
		env -u MAKEFLAGS -u MAKELEVEL make -s -C "$SRC" >&2
	fi
	# Where the kernel's logs are; on failure, why (tests that need them
	# fail with it, the others still run).
	KERNEL_DATA_ERR=
	if ! KERNEL_DATA=$("$BATS_TEST_DIRNAME/data/ktap/kernel-data.sh" 2>"$BATS_FILE_TMPDIR/kdata.err"); then
		KERNEL_DATA_ERR=$(tail -n 1 "$BATS_FILE_TMPDIR/kdata.err")
	fi
	export KERNEL_DATA KERNEL_DATA_ERR
}

setup() {
	bats_load_library bats-support
	bats_load_library bats-assert
	SRC="$BATS_TEST_DIRNAME/../tools/testing/ktap"
	KTAP="${KTAP:-$SRC/ktap}"
	DATA="$BATS_TEST_DIRNAME/data/ktap"
	KDATA="$KERNEL_DATA/tools/testing/kunit/test_data"
	HARNESS="$KERNEL_DATA/tools/testing/selftests/kselftest_harness/harness-selftest.expected"
	T="$BATS_TEST_TMPDIR"
}

# The kernel's logs must be there: a missing source is a failure, not a skip.
need_kernel_data() {
	if [ -n "$KERNEL_DATA_ERR" ]; then
		fail "the kernel's test logs are not available: $KERNEL_DATA_ERR"
	fi
}

# The run ended by itself: an exit code of ours, never a signal.
no_crash() {
	if [ "$status" -gt 2 ]; then
		fail "ktap exited with $status (signal or crash?)"
	fi
}

# summary FILE 'N passed, N failed, N skipped' STATUS
summary_is() {
	run --separate-stderr "$KTAP" "$1"
	no_crash
	assert_equal "${lines[${#lines[@]}-1]}" "$2"
	assert_equal "$status" "$3"
}

# Write fake LAVA helpers that record their argv in $T/calls.
fake_helpers() {
	mkdir -p "$T/bin"
	for h in lava-test-case lava-test-set; do
		cat > "$T/bin/$h" <<-EOF
		#!/bin/sh
		{ printf '%s' "$h"; for a in "\$@"; do printf ' [%s]' "\$a"; done; echo; } >> "$T/calls"
		EOF
		chmod +x "$T/bin/$h"
	done
}

# ---- kunit.py agreement: tools/testing/kunit/test_data/*.log ------------
# Expected counts are kunit.py's ("Ran N tests: ...", crashed counted as
# failed) except where README.rst documents a deliberate difference.

@test "kunit log: test_config_printk_time" {
	need_kernel_data
	summary_is "$KDATA/test_config_printk_time.log" "10 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_insufficient_memory (empty: no KTAP)" {
	need_kernel_data
	summary_is "$KDATA/test_insufficient_memory.log" "0 passed, 0 failed, 0 skipped" 2
	assert_equal "$stderr" "ktap: $KDATA/test_insufficient_memory.log: no KTAP found: no 'KTAP version 1' or 'TAP version 13/14' line (empty input)"
}

@test "kunit log: test_interrupted_tap_output" {
	need_kernel_data
	summary_is "$KDATA/test_interrupted_tap_output.log" "10 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_is_test_passed-all_passed" {
	need_kernel_data
	summary_is "$KDATA/test_is_test_passed-all_passed.log" "10 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_is_test_passed-all_passed_nested" {
	need_kernel_data
	summary_is "$KDATA/test_is_test_passed-all_passed_nested.log" "7 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_is_test_passed-failure-nested" {
	need_kernel_data
	summary_is "$KDATA/test_is_test_passed-failure-nested.log" "1 passed, 2 failed, 0 skipped" 1
}

@test "kunit log: test_is_test_passed-failure" {
	need_kernel_data
	summary_is "$KDATA/test_is_test_passed-failure.log" "9 passed, 1 failed, 0 skipped" 1
	assert_line --index 0 "FAIL example.example_simple_test"
}

@test "kunit log: test_is_test_passed-kselftest (kunit: 2/0/1, top level only)" {
	need_kernel_data
	summary_is "$KDATA/test_is_test_passed-kselftest.log" "4 passed, 0 failed, 1 skipped" 0
}

@test "kunit log: test_is_test_passed-missing_plan" {
	need_kernel_data
	summary_is "$KDATA/test_is_test_passed-missing_plan.log" "10 passed, 0 failed, 0 skipped" 0
	assert_regex "$stderr" "warning: document opened at line 1 has no plan line"
}

@test "kunit log: test_is_test_passed-no_tests_no_plan" {
	need_kernel_data
	summary_is "$KDATA/test_is_test_passed-no_tests_no_plan.log" "1 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_is_test_passed-no_tests_run_no_header (no KTAP)" {
	need_kernel_data
	summary_is "$KDATA/test_is_test_passed-no_tests_run_no_header.log" "0 passed, 0 failed, 0 skipped" 2
	assert_regex "$stderr" "no KTAP found"
}

@test "kunit log: test_is_test_passed-no_tests_run_with_header (1..0)" {
	need_kernel_data
	summary_is "$KDATA/test_is_test_passed-no_tests_run_with_header.log" "0 passed, 0 failed, 0 skipped" 0
	assert_regex "$stderr" "plan 1..0 without SKIP: no tests run"
}

@test "kunit log: test_kernel_panic_interrupt (crashed: the group fails, 2 missing)" {
	need_kernel_data
	summary_is "$KDATA/test_kernel_panic_interrupt.log" "8 passed, 1 failed, 0 skipped, 2 missing" 1
	assert_line "MISS string-stream-test.missing # missing: 2 planned result(s) never reported"
	assert_line "  | 	Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(98,0)"
	assert_regex "$stderr" "'string-stream-test': plan 1..3 but 1 result\(s\): 2 missing"
	assert_regex "$stderr" "ended without its result line \(input ends at line 21: 'Kernel panic - not syncing'\)"
}

@test "kunit log: test_multiple_prefixes" {
	need_kernel_data
	summary_is "$KDATA/test_multiple_prefixes.log" "10 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_output_isolated_correctly" {
	need_kernel_data
	summary_is "$KDATA/test_output_isolated_correctly.log" "2 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_output_with_prefix_isolated_correctly" {
	need_kernel_data
	summary_is "$KDATA/test_output_with_prefix_isolated_correctly.log" "10 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_parse_attributes" {
	need_kernel_data
	summary_is "$KDATA/test_parse_attributes.log" "1 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_parse_ktap_output" {
	need_kernel_data
	summary_is "$KDATA/test_parse_ktap_output.log" "3 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_parse_subtest_header" {
	need_kernel_data
	summary_is "$KDATA/test_parse_subtest_header.log" "1 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_pound_no_prefix" {
	need_kernel_data
	summary_is "$KDATA/test_pound_no_prefix.log" "10 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_pound_sign" {
	need_kernel_data
	summary_is "$KDATA/test_pound_sign.log" "10 passed, 0 failed, 0 skipped" 0
}

@test "kunit log: test_skip_all_tests" {
	need_kernel_data
	summary_is "$KDATA/test_skip_all_tests.log" "0 passed, 0 failed, 5 skipped" 0
}

@test "kunit log: test_skip_tests" {
	need_kernel_data
	summary_is "$KDATA/test_skip_tests.log" "4 passed, 0 failed, 1 skipped" 0
	assert_line --index 0 "SKIP example.example_skip_test # this test should be skipped"
}

@test "kunit log: test_strip_hyphen" {
	need_kernel_data
	summary_is "$KDATA/test_strip_hyphen.log" "2 passed, 0 failed, 0 skipped" 0
}

@test "kunit logs: list mode names (golden)" {
	need_kernel_data
	for f in test_is_test_passed-all_passed_nested test_is_test_passed-failure-nested \
		 test_kernel_panic_interrupt test_is_test_passed-kselftest; do
		run --separate-stderr "$KTAP" --mode list "$KDATA/$f.log"
		no_crash
		assert_output "$(cat "$DATA/$f.list")"
	done
}

# ---- kselftest harness and runner output --------------------------------

@test "harness-selftest.expected: counts, names, plan overflow" {
	need_kernel_data
	summary_is "$HARNESS" "11 passed, 8 failed, 1 skipped" 1
	assert_regex "$stderr" "harness-selftest.expected:95: more results than the plan 1..19"
	assert_regex "$stderr" "warning: expected test number 12, found 1"
	run --separate-stderr "$KTAP" --mode list "$HARNESS"
	assert_output "$(cat "$DATA/harness-selftest.list")"
}

@test "runner capture: summary of nested results, excerpts, skip, timeout" {
	summary_is "$DATA/runner-mhi.ktap" "5 passed, 2 failed, 2 skipped, 1 missing" 1
	assert_output "$(cat "$DATA/runner-mhi.summary")"
	assert_equal "$stderr" "$(printf '%s\n' \
		"ktap: $DATA/runner-mhi.ktap:48: 'selftests: mhi: x': plan 1..3 but 1 result(s): 2 missing" \
		"ktap: $DATA/runner-mhi.ktap:48: 'selftests: mhi: x': 'stress.second' was running: hang or crash: stream ended while running (program result: TIMEOUT 45 seconds)")"
}

@test "runner capture: list mode (golden)" {
	run --separate-stderr "$KTAP" --mode list "$DATA/runner-mhi.ktap"
	assert_equal "$status" 1
	assert_output "$(cat "$DATA/runner-mhi.list")"
}

@test "runner capture: 'selftests: mhi: x' names and the TIMEOUT directive" {
	run --separate-stderr "$KTAP" --mode list "$DATA/runner-mhi.ktap"
	assert_line "mhi.x fail"
	assert_line "mhi.mhi_loopback_test.sweep.tre_size_all skip"
	refute_output --partial "vlink_debugfs"
	refute_output --partial "selftests"
}

@test "runner capture: kernel panic mid-run fails the running test, the rest are missing" {
	summary_is "$DATA/runner-panic.ktap" "2 passed, 1 failed, 0 skipped, 2 missing" 1
	assert_output "$(cat "$DATA/runner-panic.summary")"
	assert_line "FAIL mhi.mhi_loopback_test.loopback.tre_32_num_cap.start # hang or crash: stream ended while running (input ends at line 20: 'Kernel panic - not syncing')"
	assert_regex "$stderr" "'selftests: mhi: mhi_loopback_test': plan 1..4 but 2 result\(s\): 2 missing"
	assert_regex "$stderr" "input ends at line 20: 'Kernel panic - not syncing'"
	assert_regex "$stderr" "top level: plan 1..2 but 1 result\(s\): 1 missing"
}

@test "runner capture: truncated input (EOF in a nested document)" {
	summary_is "$DATA/runner-truncated.ktap" "3 passed, 1 failed, 0 skipped, 2 missing" 1
	assert_line "FAIL mhi.mhi_loopback_test # no result line: input truncated or crashed"
	assert_regex "$stderr" "'selftests: mhi: mhi_loopback_test' ended without its result line \(input ends at line 9\)"
}

@test "runner: two runner levels nest by '# ' depth" {
	printf '%s\n' 'TAP version 13' '1..1' '# selftests: outer: run.sh' \
		'# TAP version 13' '# 1..1' '# # selftests: inner: prog' \
		'# # TAP version 13' '# # 1..2' '# # ok 1 t1' '# # not ok 2 t2' \
		'# not ok 1 selftests: inner: prog # exit=1' \
		'not ok 1 selftests: outer: run.sh # exit=1' > "$T/in"
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_equal "$status" 1
	assert_output "$(printf '%s\n' 'outer.run.sh.inner.prog.t1 pass' \
		'outer.run.sh.inner.prog.t2 fail' 'outer.run.sh.inner.prog fail' \
		'outer.run.sh fail')"
}

@test "runner: program that printed no KTAP is a leaf result" {
	printf '%s\n' 'TAP version 13' '1..2' '# selftests: mhi: a' '# ./a: not found' \
		'not ok 1 selftests: mhi: a # exit=127' '# selftests: mhi: b' \
		'ok 2 selftests: mhi: b # XFAIL' > "$T/in"
	run --separate-stderr "$KTAP" "$T/in"
	assert_equal "$status" 1
	assert_output "$(printf '%s\n' 'FAIL mhi.a # exit=127' '  | # selftests: mhi: a' \
		'  | # ./a: not found' '  | not ok 1 selftests: mhi: a # exit=127' \
		'1 passed, 1 failed, 0 skipped')"
}

# ---- KTAP / TAP dialects ------------------------------------------------

@test "KUnit KTAP: 4-space nesting, params, directives; TAP14 2-space nesting" {
	summary_is "$DATA/kunit-modern.ktap" "3 passed, 1 failed, 4 skipped" 1
	run --separate-stderr "$KTAP" --mode list "$DATA/kunit-modern.ktap"
	assert_output "$(cat "$DATA/kunit-modern.list")"
}

@test "directives: SKIP in any case, XFAIL pass, TODO not a failure, TIMEOUT/ERROR fail" {
	printf '%s\n' 'TAP version 13' '1..10' 'ok 1 a # SKIP r' 'ok 2 b # skip r' \
		'not ok 3 c # Skipped r' 'ok 4 d # SKIPPED' 'not ok 5 e # XFAIL' \
		'not ok 6 f # TODO later' 'ok 7 g # todo' 'ok 8 h # TIMEOUT 45 seconds' \
		'not ok 9 # error bad' 'ok 10 j # XPASS' > "$T/in"
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_equal "$status" 1
	assert_output "$(printf '%s\n' 'a skip' 'b skip' 'c skip' 'd skip' 'e pass' \
		'f skip' 'g pass' 'h fail' 'test_9 fail' 'j pass')"
	summary_is "$T/in" "3 passed, 2 failed, 5 skipped" 1
}

@test "plan after the results, and a short trailing plan" {
	printf '%s\n' 'TAP version 14' 'ok 1 a' 'ok 2 b' '1..2' > "$T/in"
	summary_is "$T/in" "2 passed, 0 failed, 0 skipped" 0
	assert_equal "$stderr" ""
	printf '%s\n' 'TAP version 14' 'ok 1 a' '1..2' > "$T/in"
	summary_is "$T/in" "1 passed, 0 failed, 0 skipped, 1 missing" 1
	assert_line --index 0 "MISS missing # missing: 1 planned result(s) never reported"
}

@test "1..0 # SKIP at the top: nothing run, exit 0, reason on stderr" {
	printf '%s\n' 'TAP version 13' '1..0 # SKIP no MHI controller' > "$T/in"
	summary_is "$T/in" "0 passed, 0 failed, 0 skipped" 0
	assert_equal "$stderr" "ktap: $T/in:2: note: all tests skipped: no MHI controller"
}

@test "Bail out! at the top stops: later lines are ignored" {
	printf '%s\n' 'TAP version 13' '1..3' 'ok 1 a' 'Bail out! no device' 'ok 2 b' > "$T/in"
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_equal "$status" 1
	assert_output "$(printf '%s\n' 'a pass' 'bail_out fail')"
	assert_equal "$stderr" "ktap: $T/in:4: Bail out! no device"
}

@test "Bail out! in a runner program fails that program only" {
	printf '%s\n' 'TAP version 13' '1..2' '# selftests: d: p' '# TAP version 13' \
		'# 1..3' '# ok 1 a' '# Bail out! lost it' '# ok 2 late' \
		'not ok 1 selftests: d: p # exit=1' 'ok 2 selftests: d: q' > "$T/in"
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_equal "$status" 1
	assert_output "$(printf '%s\n' 'd.p.a pass' 'd.p.bail_out fail' 'd.p fail' 'd.q pass')"
}

@test "CRLF line ends and dmesg timestamps are stripped" {
	printf '[    1.000000] TAP version 13\r\n[    1.000001] 1..2\r\n[   12.345678] ok 1 alpha\r\n[  123.456789] not ok 2 beta # TIMEOUT 5 s\r\n' > "$T/in"
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_equal "$status" 1
	assert_output "$(printf '%s\n' 'alpha pass' 'beta fail')"
	printf '%s\n' '[    0.000000][    T1] KTAP version 1' '[    5.100000][  T101] 1..1' \
		'[    5.200000][  T101]     KTAP version 1' '[    5.200000][  T101]     # Subtest: s' \
		'[    5.300000][  T101]     1..1' '[    5.300000][  T101]     ok 1 c' \
		'[    6.000000][  T101] ok 1 s' > "$T/in"
	summary_is "$T/in" "1 passed, 0 failed, 0 skipped" 0
}

@test "console noise between results is ignored" {
	printf '%s\n' 'random: crng init done' 'TAP version 13' '1..2' 'ok 1 a' \
		'mhi mhi0: Requested to power ON' '' '  ok this is not a result' 'ok 2 b' > "$T/in"
	summary_is "$T/in" "2 passed, 0 failed, 0 skipped" 0
}

# ---- names --------------------------------------------------------------

@test "names: description not number, SKIP reason never, '.' joins levels" {
	printf '%s\n' 'TAP version 13' '1..3' 'ok 1 # SKIP selftests: a: b' \
		'  KTAP version 1' '  # Subtest: grp' '  1..1' '  ok 1 leaf # SKIP why not' \
		'ok 2 grp' 'ok 3 - dashed name' > "$T/in"
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_output "$(printf '%s\n' 'test_1 skip' 'grp.leaf skip' 'grp pass' 'dashed_name pass')"
}

@test "names: unsafe characters replaced, runs collapsed, unique with _dupN" {
	printf '%s\n' 'TAP version 13' '1..5' 'ok 1 a  b//c: d' 'ok 2 same' 'ok 3 same' \
		'ok 4 (x)' 'ok 5 same' > "$T/in"
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_output "$(printf '%s\n' 'a_b_c_d pass' 'same pass' 'same_dup2 pass' 'x pass' 'same_dup3 pass')"
}

@test "names: capped at 120 characters with a hash suffix, still unique" {
	long=$(printf 'x%.0s' $(seq 1 200))
	printf '%s\n' 'TAP version 13' '1..3' "ok 1 ${long}a" "ok 2 ${long}b" "ok 3 ${long}a" > "$T/in"
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_equal "${#lines[@]}" 3
	for l in "${lines[@]}"; do
		name=${l% pass}
		[ "${#name}" -le 120 ] || fail "name too long: ${#name}"
	done
	assert_regex "${lines[0]}" '^x{111}-[0-9a-f]{8} pass$'
	assert_regex "${lines[1]}" '^x{111}-[0-9a-f]{8} pass$'
	[ "${lines[0]}" != "${lines[1]}" ] || fail "cut names collide"
	# the suffix fits in the cap too; same hash as the first one
	assert_equal "${lines[2]}" "$(echo "${lines[0]}" | sed 's/^x\{5\}//; s/ pass$/_dup2 pass/')"
}

@test "names: --prefix is the first component" {
	run --separate-stderr "$KTAP" --mode list --prefix "mhi suite" "$DATA/runner-truncated.ktap"
	assert_line --index 0 "mhi_suite.mhi.mhi_loopback_test.abi.discovery pass"
	assert_line --index 5 "mhi_suite.missing unknown"
}

@test "names: concatenated documents keep the prefix and stay unique" {
	printf '%s\n' 'TAP version 13' '1..1' 'ok 1 a' 'TAP version 13' '1..2' 'ok 1 a' 'ok 2 b' > "$T/in"
	run --separate-stderr "$KTAP" --mode list --prefix lab "$T/in"
	assert_success
	assert_output "$(printf '%s\n' 'lab.a pass' 'lab.a_dup2 pass' 'lab.b pass')"
}

@test "names: shell metacharacters never reach a shell" {
	fake_helpers
	printf '%s\n' 'TAP version 13' '1..1' "ok 1 \$(touch $T/PWNED); \`touch $T/PWNED\` | x > y" > "$T/in"
	cd "$T"
	run --separate-stderr env PATH="$T/bin:$PATH" "$KTAP" --mode lava "$T/in"
	assert_success
	[ ! -e "$T/PWNED" ] || fail "a shell ran"
	assert_regex "$(cat "$T/calls")" '^lava-test-case \[[A-Za-z0-9._-]+\] \[--result\] \[pass\]$'
}

# ---- measurements -------------------------------------------------------

@test "measurements: only '# measure:' lines, one case each right after its test" {
	run --separate-stderr "$KTAP" --mode list "$DATA/runner-measure.ktap"
	assert_equal "$status" 1
	assert_output "$(cat "$DATA/runner-measure.list")"
	# "# key=value" lines are information: never a measurement or a case
	refute_output --partial "enoent"
	refute_output --partial "seed"
	refute_output --partial "deadline"
	refute_output --partial "failing_sizes"
	# the measurement carries its test's result (race.start_vs_unbind failed)
	assert_line "mhi.mhi_loopback_test.race.start_vs_unbind.cycles fail 100 count"
	assert_line "mhi.mhi_loopback_test.measure.latency.rtt skip -0.5 us"
	assert_equal "$stderr" "ktap: $DATA/runner-measure.ktap:30: warning: malformed measurement, ignored (the form is '# measure: NAME=VALUE UNIT')"
}

@test "measurements: the real suite's declared ones are cases, its key=value lines are not" {
	run --separate-stderr "$KTAP" --mode list "$DATA/suite-default.ktap"
	assert_success
	assert_equal "$stderr" ""
	# one case per result line at any depth and one per "# measure:" line
	assert_equal "$(awk 'NF == 2' <<<"$output" | wc -l)" \
		"$(grep -cE '^(# )*(not )?ok [0-9]+' "$DATA/suite-default.ktap")"
	assert_equal "$(awk 'NF == 2' <<<"$output" | wc -l)" 324
	assert_equal "${#lines[@]}" 377
	assert_equal "$(awk 'NF == 4' <<<"$output" | wc -l)" \
		"$(grep -cE '^(# )+measure: ' "$DATA/suite-default.ktap")"
	assert_equal "$(awk 'NF == 4' <<<"$output" | wc -l)" 53
	# the measurement cases are the declared ones, value and unit as printed
	assert_equal "$(awk 'NF == 4 { sub(/.*\./, "", $1); print $1 "=" $3 " " $4 }' <<<"$output")" \
		"$(sed -nE 's/^(# )+measure: //p' "$DATA/suite-default.ktap")"
	assert_line "mhi.mhi_loopback_test.loopback.tre_1_num_1.start.start_time pass 501.129 us"
	assert_line --regexp '^mhi\.mhi_loopback_test\.measure\.throughput\.throughput_tre_65535_num_cap pass [0-9.]+ MB/s$'
	assert_line --regexp '^mhi\.mhi_loopback_test\.measure\.start_latency_1B\.start_latency_1B_p99 pass [0-9.]+ us$'
	# information lines ("# bytes=32 B", seeds, progress) are no case
	grep -qE '^# # bytes=[0-9]+ B$' "$DATA/suite-default.ktap"
	grep -qE '^# # seed=[0-9]+ ' "$DATA/suite-default.ktap"
	refute_output --regexp '\.(bytes|seed|sweep_progress|iterations) '
	assert_line "mhi.mhi_loopback_test.race.start_vs_unbind pass"
}

@test "measurements: the form is exact; values are normalised" {
	printf '%s\n' 'TAP version 13' '1..1' '# measure: a=+007.50 us' '# measure: b=.5 B' \
		'# measure: c=-0 count' '# measure: d=1. %' '# measure: e=12' '# measure:f=1 us' \
		'# measure: g=1 us x' '# measure: h=0x10 B' '# measure: i = 1 us' '# measure: j=1  us' \
		'# measure: k=1 m/s^2' '# measure: l=- us' 'ok 1 t' > "$T/in"
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_success
	assert_output "$(printf '%s\n' 't pass' 't.a pass 7.50 us' 't.b pass 0.5 B' \
		't.c pass -0 count' 't.d pass 1 %')"
	assert_equal "$(grep -c 'malformed measurement' <<<"$stderr")" 8
	run --separate-stderr "$KTAP" --strict "$T/in"
	assert_equal "$status" 1
}

@test "measurements attach to the next result at the same level" {
	printf '%s\n' 'TAP version 13' '1..3' '# measure: rate=12.5 MB/s' '# lat = 3 us' \
		'# measure: lat=3 us' 'ok 1 one' '  KTAP version 1' '  1..1' \
		'  # measure: inner=-1 us' '  ok 1 deep' '# measure: size=4096 B' 'ok 2 grp' \
		'ok 3 none' > "$T/in"
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_success
	assert_output "$(printf '%s\n' 'one pass' 'one.rate pass 12.5 MB/s' 'one.lat pass 3 us' \
		'grp.deep pass' 'grp.deep.inner pass -1 us' 'grp pass' 'grp.size pass 4096 B' 'none pass')"
}

@test "measurements: a measurement name that clashes with a test stays unique" {
	printf '%s\n' 'TAP version 13' '1..2' '# measure: b=1 us' '# measure: b=2 us' 'ok 1 a' 'ok 2 a.b' > "$T/in"
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_success
	assert_output "$(printf '%s\n' 'a pass' 'a.b pass 1 us' 'a.b_dup2 pass 2 us' 'a.b_dup3 pass')"
}

# ---- hang or crash, missing tests ---------------------------------------

# The real suite's capture cut right after "RUN fault.fail_dma": a hang there.
hang_capture() {
	sed '/^# #  RUN           fault.fail_dma \.\.\.$/q' "$DATA/suite-default.ktap" > "$T/hang.ktap"
	# the names the program plans, from the complete capture
	sed -n '/^# selftests: mhi: mhi_loopback_test$/,/^ok 1 \|^not ok 1 /p' "$DATA/suite-default.ktap" |
		sed -nE 's/^# (not )?ok [0-9]+ ([^ ]+).*/\2/p' > "$T/expect"
	[ "$(wc -l < "$T/expect")" -eq 76 ] || fail "expected 76 names, got $(wc -l < "$T/expect")"
}

@test "hang: reported under the running test; without --expect only the count" {
	hang_capture
	run --separate-stderr "$KTAP" "$T/hang.ktap"
	assert_equal "$status" 1
	assert_line "FAIL mhi.mhi_loopback_test.fault.fail_dma # hang or crash: stream ended while running (input ends at line 321)"
	assert_line --index 1 "  | #  RUN           fault.fail_dma ..."
	assert_line "MISS mhi.mhi_loopback_test.missing # missing: 18 planned result(s) never reported"
	assert_line "FAIL mhi.mhi_loopback_test # no result line: input truncated or crashed"
	assert_line "MISS missing # missing: 1 planned result(s) never reported"
	assert_line "57 passed, 1 failed, 0 skipped, 19 missing"
	refute_output --partial "missing_"
	assert_regex "$stderr" "'selftests: mhi: mhi_loopback_test': 'fault.fail_dma' was running: hang or crash"
}

@test "hang: --expect names the tests never reached, LAVA gets unknown" {
	hang_capture
	run --separate-stderr "$KTAP" --mode list --expect "$T/expect" "$T/hang.ktap"
	assert_equal "$status" 1
	assert_line "mhi.mhi_loopback_test.fault.fail_dma fail"
	# the 18 after fault.fail_dma, by their names, in plan order
	assert_equal "$(grep ' unknown$' <<<"$output" | grep -v '^missing ' | sed 's/^mhi\.mhi_loopback_test\.//; s/ unknown$//')" \
		"$(sed '1,/^fault.fail_dma$/d' "$T/expect")"
	assert_line "missing unknown"
	run --separate-stderr env PATH=/usr/bin:/bin "$KTAP" --mode lava --expect "$T/expect" "$T/hang.ktap"
	assert_line "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=mhi.mhi_loopback_test.race.vlink_cycles RESULT=unknown>"
	assert_line "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=mhi.mhi_loopback_test.fault.fail_dma RESULT=fail>"
}

@test "hang: the harness selftest cut mid-test, with and without --expect" {
	need_kernel_data
	sed '/^#  RUN           global.exit_fail \.\.\.$/q' "$HARNESS" > "$T/in"
	# what the binary would list: the tests it runs (19, as planned)
	sed -n 's/^#  RUN  *\(.*\) \.\.\.$/\1/p' "$HARNESS" > "$T/expect"
	assert_equal "$(wc -l < "$T/expect")" 19
	run --separate-stderr "$KTAP" --mode list "$T/in"
	assert_equal "$status" 1
	assert_output "$(sed -nE 's/^ok [0-9]+ ([^ ]+) # SKIP.*/\1 skip/p; t; s/^ok [0-9]+ ([^ ]+).*/\1 pass/p; s/^not ok [0-9]+ ([^ ]+).*/\1 fail/p' "$T/in"
		printf '%s\n' 'global.exit_fail fail' 'missing unknown')"
	run --separate-stderr "$KTAP" --expect "$T/expect" "$T/in"
	assert_line "FAIL global.exit_fail # hang or crash: stream ended while running (input ends at line 33)"
	assert_line "MISS global.exit_xfail # missing: never reached"
	assert_line "MISS fixture_setup_failure.pass # missing: never reached"
	assert_line "4 passed, 3 failed, 0 skipped, 12 missing"
	# a list that is not the program's (another length) names nothing
	head -n 5 "$T/expect" > "$T/short"
	run --separate-stderr "$KTAP" --expect "$T/short" "$T/in"
	assert_line "MISS missing # missing: 12 planned result(s) never reported"
}

@test "hang: --expect takes the first word of a line; headers, plans, comments do not count" {
	printf '%s\n' 'TAP version 13' '1..3' 'ok 1 a' '#  RUN           b ...' > "$T/in"
	printf '%s\n' 'TAP version 13' '1..0 # SKIP test names only' '# a listing' \
		'a link' '' '  b hardware' 'c	link' > "$T/e"
	run --separate-stderr "$KTAP" --mode list --expect "$T/e" "$T/in"
	assert_equal "$status" 1
	assert_output "$(printf '%s\n' 'a pass' 'b fail' 'c unknown')"
	# a list with a name too many does not fit: one count, no names
	printf 'd\n' >> "$T/e"
	run --separate-stderr "$KTAP" --mode list --expect "$T/e" "$T/in"
	assert_output "$(printf '%s\n' 'a pass' 'b fail' 'missing unknown')"
}

@test "hang: --expect errors are clear" {
	run --separate-stderr "$KTAP" --expect "$T/nope" "$DATA/runner-mhi.ktap"
	assert_equal "$status" 2
	assert_equal "$stderr" "ktap: --expect $T/nope: No such file or directory"
	printf 'a\n' > "$T/e"
	run --separate-stderr "$KTAP" --expect "$T/e" --expect "$T/e" "$DATA/runner-mhi.ktap"
	assert_equal "$status" 2
	assert_equal "$stderr" "ktap: --expect given twice"
}

# ---- failure excerpts ---------------------------------------------------

@test "excerpt: the last 40 lines of the test, each cut at 512 bytes" {
	{ echo 'TAP version 13'; echo '1..2'; echo '# RUN  before'; echo 'ok 1 a'
	  for i in $(seq 1 60); do echo "# line $i"; done
	  printf '# %0600d\n' 7; echo 'not ok 2 b # went wrong'; } > "$T/in"
	run --separate-stderr "$KTAP" "$T/in"
	assert_equal "$status" 1
	assert_line --index 0 "FAIL b # went wrong"
	assert_line --index 1 "  | # line 23"
	assert_line --index 38 "  | # line 60"
	assert_line --index 39 "  | # $(printf '%0510d' 0) ..."
	assert_line --index 40 "  | not ok 2 b # went wrong"
	assert_line --index 41 "1 passed, 1 failed, 0 skipped"
	refute_output --partial "before"
}

@test "excerpt: LAVA markers around it, signals in it defused, KMSG honoured" {
	printf '%s\n' 'TAP version 13' '1..1' '# <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=x RESULT=pass>' \
		'# measure: m=1 us' 'not ok 1 t' > "$T/in"
	run --separate-stderr env PATH=/usr/bin:/bin "$KTAP" --mode lava "$T/in"
	assert_equal "$status" 1
	assert_output "$(printf '%s\n' '<LAVA_SIGNAL_STARTTC t>' '<LAVA_SIGNAL_STARTTC t.m>' \
		'  | # [lava-signal TESTCASE TEST_CASE_ID=x RESULT=pass>' '  | # measure: m=1 us' \
		'  | not ok 1 t' '<LAVA_SIGNAL_ENDTC t>' '<LAVA_SIGNAL_ENDTC t.m>' \
		'<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=t RESULT=fail>' \
		'<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=t.m RESULT=fail UNITS=us MEASUREMENT=1>' \
		'0 passed, 1 failed, 0 skipped')"
	# lava-signal: kmsg exports KMSG: the signals go to /dev/kmsg at <0>
	: > "$T/kmsg"
	run --separate-stderr env PATH=/usr/bin:/bin KMSG=true KTAP_KMSG_DEVICE="$T/kmsg" "$KTAP" --mode lava "$T/in"
	assert_output "$(printf '%s\n' '  | # [lava-signal TESTCASE TEST_CASE_ID=x RESULT=pass>' \
		'  | # measure: m=1 us' '  | not ok 1 t' '0 passed, 1 failed, 0 skipped')"
	assert_equal "$(head -n 1 "$T/kmsg")" "<0><LAVA_SIGNAL_STARTTC t>"
	assert_equal "$(tail -n 1 "$T/kmsg")" "<0><LAVA_SIGNAL_TESTCASE TEST_CASE_ID=t.m RESULT=fail UNITS=us MEASUREMENT=1>"
	assert_equal "$(wc -l < "$T/kmsg")" 6
}

@test "excerpt: helpers run after the markers that frame the failure" {
	fake_helpers
	sed -i 's|; } >> |; } \| tee -a /dev/stderr >> |' "$T/bin/lava-test-case"
	grep -q 'tee -a /dev/stderr' "$T/bin/lava-test-case" || fail "fake helper not patched"
	run env PATH="$T/bin:$PATH" "$KTAP" --mode lava "$DATA/runner-mhi.ktap"
	assert_equal "$status" 1
	grep -n '' <<<"$output" > "$T/out"
	start=$(grep -F '<LAVA_SIGNAL_STARTTC mhi.mhi_loopback_test.loopback.tre_65535_num_cap.start>' "$T/out" | cut -d: -f1)
	end=$(grep -F '<LAVA_SIGNAL_ENDTC mhi.mhi_loopback_test.loopback.tre_65535_num_cap.start>' "$T/out" | cut -d: -f1)
	call=$(grep -F 'lava-test-case [mhi.mhi_loopback_test.loopback.tre_65535_num_cap.start] [--result] [fail]' "$T/out" | cut -d: -f1)
	[ -n "$start" ] && [ -n "$end" ] && [ -n "$call" ] || fail "markers or call missing: $output"
	[ "$start" -lt "$end" ] && [ "$end" -lt "$call" ] || fail "order: start $start end $end call $call"
	assert_equal "$(sed -n "$((start + 1)),$((end - 1))p" "$T/out" | cut -d: -f2-)" \
		"$(printf '%s\n' '  | #  RUN           loopback.tre_65535_num_cap.start ...' \
		'  | [   61.402117] mhi mhi0: Requested to power ON' \
		'  | # mhi_loopback_test.c:584:start:Expected 0 (0) == ret (-110)' \
		'  | # start: start returned -110 (ETIMEDOUT) for tre_size=65535 num_tre=31' \
		'  | #          FAIL  loopback.tre_65535_num_cap.start' \
		'  | not ok 4 loopback.tre_65535_num_cap.start')"
}

# ---- LAVA ---------------------------------------------------------------

@test "lava mode: fake helpers get one call per result, sets around groups" {
	fake_helpers
	run --separate-stderr env PATH="$T/bin:$PATH" "$KTAP" --mode lava "$DATA/runner-mhi.ktap"
	assert_equal "$status" 1
	assert_line "5 passed, 2 failed, 2 skipped, 1 missing"
	assert_equal "$(cat "$T/calls")" "$(cat "$DATA/runner-mhi.lava-calls")"
	run --separate-stderr env PATH="$T/bin:$PATH" "$KTAP" --mode lava "$DATA/runner-measure.ktap"
	assert_equal "$(cat "$T/calls")" "$(cat "$DATA/runner-mhi.lava-calls" "$DATA/runner-measure.lava-calls")"
}

@test "lava mode: without helpers prints raw LAVA signal lines" {
	run --separate-stderr env PATH=/usr/bin:/bin "$KTAP" --mode lava "$DATA/runner-mhi.ktap"
	assert_equal "$status" 1
	assert_output "$(cat "$DATA/runner-mhi.lava")"
}

@test "lava mode: a result is reported while the input is still open" {
	fake_helpers
	mkfifo "$T/fifo"
	env PATH="$T/bin:$PATH" "$KTAP" --mode lava "$T/fifo" > "$T/out" 2> "$T/err" 3>&- &
	pid=$!
	exec 4> "$T/fifo"
	printf '%s\n' 'TAP version 13' '1..2' '# selftests: mhi: t' '# TAP version 13' \
		'# 1..2' '# ok 1 first' >&4
	for i in $(seq 1 100); do
		grep -q 'mhi.t.first' "$T/calls" 2>/dev/null && break
		sleep 0.1
	done
	run cat "$T/calls"
	assert_output "$(printf '%s\n' 'lava-test-set [start] [mhi.t]' \
		'lava-test-case [mhi.t.first] [--result] [pass]')"
	printf '%s\n' '# ok 2 second' 'ok 1 selftests: mhi: t' >&4
	exec 4>&-
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 1
	run cat "$T/calls"
	assert_line --index 2 'lava-test-case [mhi.t.second] [--result] [pass]'
	assert_line --index 3 'lava-test-set [stop]'
	assert_line --index 4 'lava-test-case [mhi.t] [--result] [pass]'
	assert_line --index 5 'lava-test-case [missing] [--result] [unknown]'
}

@test "lava mode: a measurement is its own case with --measurement/--units" {
	fake_helpers
	printf '%s\n' 'TAP version 13' '1..1' '# bw=212.50 MB/s' '# measure: bw=212.50 MB/s' 'ok 1 tput' > "$T/in"
	run --separate-stderr env PATH="$T/bin:$PATH" "$KTAP" --mode lava "$T/in"
	assert_success
	assert_equal "$(cat "$T/calls")" "$(printf '%s\n' 'lava-test-case [tput] [--result] [pass]' \
		'lava-test-case [tput.bw] [--result] [pass] [--measurement] [212.50] [--units] [MB/s]')"
}

# ---- JSON and JUnit -----------------------------------------------------

# junit_ok FILE: the XML is well-formed, has the schema's shape, and each
# testsuite's counts are those of its elements.
junit_ok() {
	run xmllint --noout --schema "$DATA/junit.xsd" "$1"
	assert_success
	local x
	for x in failure:failures error:errors skipped:skipped; do
		assert_equal "$(xmllint --xpath "count(//testcase/${x%:*})" "$1")" \
			"$(xmllint --xpath "sum(//testsuite/@${x#*:})" "$1")"
		assert_equal "$(xmllint --xpath "count(//testcase/${x%:*})" "$1")" \
			"$(xmllint --xpath "string(/testsuites/@${x#*:})" "$1")"
	done
	assert_equal "$(xmllint --xpath 'count(//testcase)' "$1")" "$(xmllint --xpath 'sum(//testsuite/@tests)' "$1")"
	assert_equal "$(xmllint --xpath 'count(//testcase)' "$1")" "$(xmllint --xpath 'string(/testsuites/@tests)' "$1")"
}

@test "junit: the real suite's capture and the runner capture fit the schema" {
	for f in suite-default runner-mhi runner-measure runner-panic runner-truncated; do
		run --separate-stderr "$KTAP" --mode junit "$DATA/$f.ktap"
		no_crash
		printf '%s\n' "$output" > "$T/$f.xml"
		junit_ok "$T/$f.xml"
		# one testcase per result, one testsuite per group
		assert_equal "$(xmllint --xpath 'count(//testcase)' "$T/$f.xml")" \
			"$("$KTAP" --mode list "$DATA/$f.ktap" 2>/dev/null | awk 'NF == 2' | wc -l)"
	done
	assert_equal "$(xmllint --xpath 'count(//testsuite)' "$T/suite-default.xml")" 3
	assert_equal "$(xmllint --xpath 'string(/testsuites/@tests)' "$T/suite-default.xml")" 324
	assert_equal "$(xmllint --xpath 'count(//testcase/properties/property)' "$T/suite-default.xml")" 53
}

@test "junit: failures carry the excerpt, skips the reason, missing tests are errors" {
	"$KTAP" --mode junit "$DATA/runner-mhi.ktap" > "$T/o.xml" 2>/dev/null || true
	junit_ok "$T/o.xml"
	tc='//testcase[@name="mhi.mhi_loopback_test.loopback.tre_65535_num_cap.start"]'
	assert_equal "$(xmllint --xpath "string($tc/@classname)" "$T/o.xml")" "mhi.mhi_loopback_test"
	assert_equal "$(xmllint --xpath "string($tc/failure)" "$T/o.xml")" \
		"$(printf '%s\n' '#  RUN           loopback.tre_65535_num_cap.start ...' \
		'[   61.402117] mhi mhi0: Requested to power ON' \
		'# mhi_loopback_test.c:584:start:Expected 0 (0) == ret (-110)' \
		'# start: start returned -110 (ETIMEDOUT) for tre_size=65535 num_tre=31' \
		'#          FAIL  loopback.tre_65535_num_cap.start' 'not ok 4 loopback.tre_65535_num_cap.start')"
	assert_equal "$(xmllint --xpath 'string(//testcase[@name="mhi.x.stress.second"]/failure/@message)' "$T/o.xml")" \
		"hang or crash: stream ended while running (program result: TIMEOUT 45 seconds)"
	assert_equal "$(xmllint --xpath 'string(//testcase[@name="mhi.x.missing"]/error/@type)' "$T/o.xml")" missing
	assert_equal "$(xmllint --xpath 'string(//testcase[@name="mhi.mhi_ep_check.sh"]/skipped/@message)' "$T/o.xml")" \
		"no MHI endpoint controller"
	"$KTAP" --mode junit "$DATA/runner-measure.ktap" > "$T/m.xml" 2>/dev/null || true
	assert_equal "$(xmllint --xpath 'string(//testcase[@name="mhi.mhi_loopback_test.measure.throughput"]/properties/property[@name="tput_tre_4096"]/@value)' "$T/m.xml")" \
		"212.50 MB/s"
}

@test "json: real suite output; statuses, paths, measurements, excerpts" {
	run --separate-stderr "$KTAP" --mode json "$DATA/suite-default.ktap"
	assert_success
	printf '%s\n' "$output" > "$T/s.json"
	jq -e '.format == "ktap-json" and .version == 1 and .exit == 0 and
		.counts == {"pass": 321, "fail": 0, "skip": 1, "miss": 0} and (.tests | length) == 324 and
		([.tests[] | select(.status == "SKIP")] | map(.path)) == ["mhi.mhi_loopback_test.leak.kmemleak"] and
		([.tests[].measurements[]] | length) == 53 and
		all(.tests[]; .log_excerpt == "" and
		    (if .group == "" then .path == .name else .path == .group + "." + .name end) and
		    (.path as $p | all(.measurements[]; .path == $p + "." + .name and
			(.value | type) == "number" and (.unit | IN("us", "MB/s")))))' "$T/s.json"
	# the measurements of one test, in the order it printed them
	jq -e '[.tests[] | select(.name == "measure.start_latency_1B") | .measurements[] | .name + " " + .unit] ==
		["start_latency_1B_p50 us", "start_latency_1B_p99 us"] and
		([.tests[] | select(.name == "measure.throughput") | .measurements[]] | length) == 12' "$T/s.json"
	run --separate-stderr "$KTAP" --mode json "$DATA/runner-measure.ktap"
	assert_equal "$status" 1
	printf '%s\n' "$output" > "$T/m.json"
	jq -e '(.tests[] | select(.name == "measure.throughput") | .measurements) ==
		[{"path": "mhi.mhi_loopback_test.measure.throughput.tput_tre_4096", "name": "tput_tre_4096", "value": 212.5, "unit": "MB/s"},
		 {"path": "mhi.mhi_loopback_test.measure.throughput.tput_tre_32", "name": "tput_tre_32", "value": 41.07, "unit": "MB/s"},
		 {"path": "mhi.mhi_loopback_test.measure.throughput.latency_p50", "name": "latency_p50", "value": 31.5, "unit": "us"}]' "$T/m.json"
	jq -e '(.tests[] | select(.name == "race.start_vs_unbind")) as $t | $t.status == "FAIL" and
		$t.lava_result == "fail" and ($t.log_excerpt | endswith("not ok 3 race.start_vs_unbind\n")) and
		($t.log_excerpt | split("\n") | length) == 8' "$T/m.json"
	jq -e '.messages == [{"severity": "warning", "line": 30, "text": "malformed measurement, ignored (the form is '"'"'# measure: NAME=VALUE UNIT'"'"')"}]' "$T/m.json"
}

@test "json: hang, missing, error and skip statuses; names match list mode" {
	run --separate-stderr "$KTAP" --mode json "$DATA/runner-panic.ktap"
	printf '%s\n' "$output" > "$T/p.json"
	assert_equal "$(jq -r '.tests[] | "\(.path) \(.status) \(.lava_result)"' "$T/p.json")" \
		"$(printf '%s\n' 'mhi.mhi_loopback_test.abi.discovery PASS pass' \
		'mhi.mhi_loopback_test.abi.attributes PASS pass' \
		'mhi.mhi_loopback_test.loopback.tre_32_num_cap.start FAIL fail' \
		'mhi.mhi_loopback_test.missing MISS unknown' 'mhi.mhi_loopback_test ERROR fail' \
		'missing MISS unknown')"
	jq -e '.counts == {"pass": 2, "fail": 1, "skip": 0, "miss": 2} and .exit == 1 and
		(.tests[2].log_excerpt | contains("Kernel panic - not syncing: Oops: Fatal exception\n"))' "$T/p.json"
	for f in runner-mhi runner-measure suite-default; do
		assert_equal "$("$KTAP" --mode json "$DATA/$f.ktap" 2>/dev/null |
			jq -r '.tests[] | "\(.path) \(.lava_result)", (.lava_result as $r | .measurements[] | "\(.path) \($r)")')" \
			"$("$KTAP" --mode list "$DATA/$f.ktap" 2>/dev/null | cut -d' ' -f1-2)"
	done
}

@test "json, junit: quotes, <&>, control characters and bytes that are not UTF-8" {
	printf 'TAP version 13\n1..2\n# measure: m=1 us\nnot ok 1 t # it'"'"'s "bad" <&> \303\251 \377 \033[31m tab\there cr\rmid\nok 2 u # SKIP \\ "\n' > "$T/in"
	run --separate-stderr "$KTAP" --mode json "$T/in"
	assert_equal "$status" 1
	printf '%s\n' "$output" > "$T/o.json"
	assert_equal "$(jq -r '.tests[0].detail' "$T/o.json")" \
		"$(printf 'it'"'"'s "bad" <&> \303\251 \357\277\275 \033[31m tab\there cr\rmid')"
	assert_equal "$(jq -r '.tests[1].reason' "$T/o.json")" '\ "'
	jq -e '.tests[0].log_excerpt | contains("not ok 1 t # it'"'"'s \"bad\"")' "$T/o.json"
	run --separate-stderr "$KTAP" --mode junit "$T/in"
	printf '%s\n' "$output" > "$T/o.xml"
	junit_ok "$T/o.xml"
	# ESC is not allowed in XML 1.0 at all: it becomes U+FFFD like bad bytes
	assert_equal "$(xmllint --xpath 'string(//failure/@message)' "$T/o.xml")" \
		"$(printf 'it'"'"'s "bad" <&> \303\251 \357\277\275 \357\277\275[31m tab\there cr\rmid')"
	assert_equal "$(xmllint --xpath 'string(//skipped/@message)' "$T/o.xml")" '\ "'
}

@test "json, junit: bad input still gives a valid document and exit 2" {
	run --separate-stderr "$KTAP" --mode json - < /dev/null
	assert_equal "$status" 2
	jq -e '.exit == 2 and .tests == [] and .messages[0].severity == "bad_input"' <<<"$output"
	run --separate-stderr "$KTAP" --mode junit - < /dev/null
	assert_equal "$status" 2
	run xmllint --noout --schema "$DATA/junit.xsd" - <<<"$output"
	assert_success
}

# ---- bad input: clear error, non-zero exit, never a crash ---------------

@test "bad input: empty stream" {
	run --separate-stderr "$KTAP" - < /dev/null
	no_crash
	assert_equal "$status" 2
	assert_equal "$stderr" "ktap: <stdin>: no KTAP found: no 'KTAP version 1' or 'TAP version 13/14' line (empty input)"
}

@test "bad input: binary garbage with no KTAP" {
	head -c 65536 /dev/urandom > "$T/in"
	run --separate-stderr "$KTAP" "$T/in"
	no_crash
	assert_equal "$status" 2
	assert_regex "$stderr" "no KTAP found"
}

@test "bad input: NUL bytes inside the KTAP stream" {
	printf 'TAP version 13\n1..2\nok 1 a\nok 2 b\000\001\377junk\n' > "$T/in"
	run --separate-stderr "$KTAP" "$T/in"
	no_crash
	assert_equal "$status" 2
	assert_regex "$stderr" "in:4: binary data \(byte 0x00 at column 7\), line ignored"
	assert_regex "$stderr" "top level: plan 1..2 but 1 result\(s\): 1 missing"
}

@test "bad input: a 10 MB line ends with a clear error in bounded memory" {
	{ echo 'TAP version 13'; echo '1..2'; echo 'ok 1 a'; printf 'ok 2 '
	  head -c 10485760 /dev/zero | tr '\0' x; echo; } > "$T/in"
	run --separate-stderr bash -c "ulimit -v 16384; exec '$KTAP' '$T/in'"
	no_crash
	assert_equal "$status" 2
	assert_regex "$stderr" "in:4: line longer than 65536 bytes, ignored"
	run --separate-stderr bash -c "ulimit -v 16384; cat '$T/in' | '$KTAP'"
	assert_equal "$status" 2
	assert_regex "$stderr" "<stdin>:4: line longer than 65536 bytes, ignored"
}

@test "bad input: unterminated plan" {
	printf 'TAP version 13\nok 1 a\n1..' > "$T/in"
	run --separate-stderr "$KTAP" "$T/in"
	no_crash
	assert_equal "$status" 2
	assert_regex "$stderr" "in:3: unterminated plan '1..': no test count"
}

@test "bad input: a version line and nothing else" {
	printf 'KTAP version 1\n' > "$T/in"
	run --separate-stderr "$KTAP" "$T/in"
	no_crash
	assert_equal "$status" 1
	assert_regex "$stderr" "has no plan and no results"
}

@test "bad input: absurd plan and deep nesting" {
	{ echo 'KTAP version 1'; echo '1..99999999999'
	  for i in $(seq 1 100); do echo 'KTAP version 1'; done; } > "$T/in"
	run --separate-stderr "$KTAP" "$T/in"
	no_crash
	assert_equal "$status" 2
	assert_regex "$stderr" "plan 1..999999999 is larger than 1000000, ignored"
	assert_regex "$stderr" "nesting deeper than 64 levels"
}

# ---- CLI ----------------------------------------------------------------

@test "cli: summary line format, stdin, options" {
	printf '%s\n' 'TAP version 13' '1..2' 'ok 1 a' 'ok 2 b # SKIP r' > "$T/in"
	run --separate-stderr "$KTAP" --mode summary - < "$T/in"
	assert_success
	assert_regex "${lines[${#lines[@]}-1]}" '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'
	run "$KTAP" --help
	assert_success
	run --separate-stderr "$KTAP" --mode nope
	assert_equal "$status" 2
	run --separate-stderr "$KTAP" a b
	assert_equal "$status" 2
	run --separate-stderr "$KTAP" --bogus
	assert_equal "$status" 2
	run --separate-stderr "$KTAP" "$T/does-not-exist"
	assert_equal "$status" 2
	assert_regex "$stderr" "does-not-exist: No such file or directory"
}

@test "cli: --strict turns warnings into a failure" {
	need_kernel_data
	run --separate-stderr "$KTAP" "$KDATA/test_is_test_passed-missing_plan.log"
	assert_success
	run --separate-stderr "$KTAP" --strict "$KDATA/test_is_test_passed-missing_plan.log"
	assert_equal "$status" 1
}

@test "build: STATIC=1 gives a static binary that works" {
	mkdir -p "$T/static"
	run env -u MAKEFLAGS -u MAKELEVEL make -s -C "$SRC" STATIC=1 OUTPUT="$T/static/"
	assert_success
	run readelf -l "$T/static/ktap"
	assert_success
	refute_output --partial "INTERP"
	refute_output --partial "Requesting program interpreter"
	run --separate-stderr "$T/static/ktap" --mode list "$DATA/runner-mhi.ktap"
	assert_equal "$status" 1
	assert_output "$(cat "$DATA/runner-mhi.list")"
	fake_helpers
	run --separate-stderr env PATH="$T/bin:$PATH" "$T/static/ktap" --mode lava "$DATA/runner-mhi.ktap"
	assert_equal "$(cat "$T/calls")" "$(cat "$DATA/runner-mhi.lava-calls")"
}
