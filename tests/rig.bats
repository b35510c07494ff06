#!/usr/bin/env bats
# The rig's own checks, without building or booting anything: argument
# checking, Kconfig fragment verification, patches/series application on a
# tiny fake tree, make patches, and the verdict drawn from canned logs.

bats_load_library bats-support
bats_load_library bats-assert

setup() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	CI=$ROOT/ci
	T=$BATS_TEST_TMPDIR
	# make exports T (make run T=...): keep this one out of the rig's sight
	export -n T
}

# Runs a bash snippet with the rig's library (and $2.. more ci files) sourced.
rig_bash() {
	local snippet=$1 src=". '$CI/lib.sh';"
	shift
	local f
	for f in "$@"; do src+=" . '$CI/$f';"; done
	run bash -c "set -euo pipefail; $src $snippet"
}

# --- argument checking -------------------------------------------------------

@test "make: unknown PROFILE stops with one line listing the profiles" {
	run make -s -C "$ROOT" run PROFILE=bogus
	assert_failure
	assert_output --partial "unknown PROFILE 'bogus' (valid profiles: default, debug, arm64)"
	assert_equal "${#lines[@]}" 1
}

@test "make: unknown LANE stops with one line listing the lanes" {
	run make -s -C "$ROOT" run LANE=fast
	assert_failure
	assert_output --partial "LANE must be sync or regimes joined by '-' in this order: sync|async, bounce, ctrl, intmod, split|coalesce (e.g. async-bounce, ctrl, bounce-split; got 'fast')"
	assert_equal "${#lines[@]}" 1
}

@test "rig.sh: unknown PROFILE stops with one error line" {
	PROFILE=fast run bash "$CI/rig.sh" run
	assert_failure
	assert_output "[rig] error: unknown PROFILE 'fast' (valid profiles: default, debug, arm64)"
}

@test "make: KSRC that does not exist stops with one line" {
	run make -s -C "$ROOT" run KSRC="$T/nope"
	assert_failure
	assert_output --partial "KSRC=$T/nope is not a directory"
	assert_equal "${#lines[@]}" 1
}

@test "KSRC without a kernel Makefile or drivers/bus/mhi is rejected" {
	mkdir -p "$T/src"
	KSRC=$T/src run bash "$CI/rig.sh" validate
	assert_failure
	assert_output --partial "is not a Linux source tree with drivers/bus/mhi/"
	printf 'VERSION = 7\nPATCHLEVEL = 2\n' >"$T/src/Makefile"
	KSRC=$T/src run bash "$CI/rig.sh" validate
	assert_failure
	assert_output --partial "drivers/bus/mhi/"
	mkdir -p "$T/src/drivers/bus/mhi"
	KSRC=$T/src run bash "$CI/rig.sh" validate
	assert_success
	assert_output ""
}

@test "KSRC built in place is rejected (O= builds need a clean tree)" {
	mkdir -p "$T/src/drivers/bus/mhi"
	printf 'VERSION = 7\nPATCHLEVEL = 2\n' >"$T/src/Makefile"
	touch "$T/src/.config"
	KSRC=$T/src run bash "$CI/rig.sh" validate
	assert_failure
	assert_output --partial "make mrproper"
}

@test "rig.sh: unknown step is refused" {
	run bash "$CI/rig.sh" frobnicate
	assert_failure
	assert_output --partial "unknown step 'frobnicate'"
}

@test "RUN_ARGS and RUN_ENV reach the kernel command line, quotes are refused" {
	RUN_ARGS="-t mhi:mhi_loopback_test" RUN_ENV="KSELFTEST_X_ARGS=-v -n;FOO=1" \
		rig_bash 'rig_cmdline test' boot.sh
	assert_success
	assert_output --partial 'rig.mode=test'
	assert_output --partial 'rig.args="-t mhi:mhi_loopback_test"'
	assert_output --partial '"rig.env=KSELFTEST_X_ARGS=-v -n" "rig.env=FOO=1"'
	RUN_ARGS='-o "5"' rig_bash 'rig_cmdline test' boot.sh
	assert_failure
	assert_output --partial "RUN_ARGS must not contain double quotes"
	RUN_ENV='=x' rig_bash 'rig_cmdline test' boot.sh
	assert_failure
	assert_output --partial "NAME=VALUE"
}

@test "PROFILE=arm64: cross make arguments, Image, virt's console and KTAP device, sweep stride 61" {
	PROFILE=arm64 rig_bash 'rig_paths; echo "${KMAKE[*]} | $KIMAGE | $CROSS | $TRIPLET | ${SYSROOT#"$RIG_CACHE"/}"'
	assert_success
	assert_output "ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- | arch/arm64/boot/Image | aarch64-linux-gnu- | aarch64-linux-gnu | sysroot/arm64"
	PROFILE=default rig_bash 'rig_paths; echo "${#KMAKE[@]} | $KIMAGE | $CROSS | $SYSROOT"'
	assert_output "0 | arch/x86/boot/bzImage |  | "
	rig_bash 'for p in default debug arm64; do echo "$p $(rig_profile_arch $p) $(rig_profile_fragments $p | xargs -n1 basename | paste -sd+)"; done'
	assert_output "$(printf '%s\n' 'default x86_64 base.config+x86_64.config' \
		'debug x86_64 base.config+x86_64.config+debug.config' 'arm64 arm64 base.config+arm64.config')"
	PROFILE=arm64 rig_bash 'rig_cmdline test' boot.sh
	assert_success
	assert_output --regexp '^console=ttyAMA0 rig.ktap=/dev/hvc0 '
	assert_output --partial '"rig.env=MHI_LT_SWEEP_STEP=61"'
	refute_output --partial 'tsc'
	PROFILE=default rig_bash 'rig_cmdline test' boot.sh
	assert_output --regexp '^console=ttyS0 tsc=reliable '
	refute_output --partial 'rig.ktap='
	# QEMU: the KTAP stream leaves through a virtio console on virt, the
	# second UART on q35
	PROFILE=arm64 rig_bash 'rig_paths; rig_qemu_base; rig_qemu_streams file:c stdio; echo "${QEMU[*]} ${QEMU_CONSOLE[*]} ${QEMU_KTAP[*]}"' boot.sh
	assert_output --regexp '^qemu-system-aarch64 -machine virt -cpu max,pauth-impdef=on .*-kernel .*/build/arm64/arch/arm64/boot/Image .*-serial file:c -device virtio-serial-device -chardev stdio,id=ktap -device virtconsole,chardev=ktap$'
	PROFILE=default rig_bash 'rig_paths; rig_qemu_base; rig_qemu_streams file:c stdio; echo "${QEMU[*]} ${QEMU_CONSOLE[*]} ${QEMU_KTAP[*]}"' boot.sh
	assert_output --regexp '^qemu-system-x86_64 -machine q35 .*/build/default/arch/x86/boot/bzImage .*-serial file:c -serial stdio$'
}

@test "guest init: rig.ktap= moves the KTAP stream, only to a /dev node" {
	grep -q '^	rig.ktap=/dev/\*) out=${tok#rig.ktap=} ;;$' "$CI/guest/init"
	grep -q '^out=/dev/ttyS1$' "$CI/guest/init"
}

# A fake cross sysroot made of the build machine's own libraries: dash needs
# libc and the program interpreter, nothing else.
@test "sysroot libraries: interpreter and NEEDED copied transitively; a missing one stops with its name" {
	local libc interp
	libc=$(ldd /bin/dash | sed -n 's/.*libc.so.6 => \([^ ]*\).*/\1/p')
	interp=$(readelf -l /bin/dash | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
	mkdir -p "$T/sys/lib/x86_64-linux-gnu" "$T/sys$(dirname "$interp")" "$T/root/bin"
	cp -L "$libc" "$T/sys/lib/x86_64-linux-gnu/"
	cp -L "$interp" "$T/sys$interp"
	# libc names the interpreter by its soname, found in the triplet's dir
	cp -L "$interp" "$T/sys/lib/x86_64-linux-gnu/"
	cp /bin/dash "$T/root/bin/"
	rig_bash "SYSROOT='$T/sys' TRIPLET=x86_64-linux-gnu; rig_copy_libs_sysroot '$T/root'" initramfs.sh
	assert_success
	[ -f "$T/root/lib/x86_64-linux-gnu/libc.so.6" ]
	[ -f "$T/root$interp" ]
	run find "$T/root" -type f
	assert_equal "${#lines[@]}" 4
	# bash needs libtinfo too, which this sysroot lacks
	cp /bin/bash "$T/root/bin/"
	rig_bash "SYSROOT='$T/sys' TRIPLET=x86_64-linux-gnu PROFILE=arm64; rig_copy_libs_sysroot '$T/root'" initramfs.sh
	assert_failure
	assert_output "[rig] error: /bin/bash needs libtinfo.so.6, which the arm64 sysroot does not have: add its Debian package to RIG_SYSROOT_PACKAGES (ci/setup.sh)"
}

@test "board artefacts: tarballs are reproducible and hold what the jobs unpack" {
	mkdir -p "$T/ks/mhi" "$T/out"
	echo x >"$T/ks/mhi/mhi_loopback_test"
	echo 'mhi:mhi_loopback_test' >"$T/ks/kselftest-list.txt"
	rig_bash "rig_artefacts_tar '$T/out/kselftest.tar.gz' '$T/ks' ." initramfs.sh
	assert_success
	cp "$T/out/kselftest.tar.gz" "$T/first"
	touch "$T/ks/mhi/mhi_loopback_test"
	rig_bash "rig_artefacts_tar '$T/out/kselftest.tar.gz' '$T/ks' ." initramfs.sh
	cmp "$T/first" "$T/out/kselftest.tar.gz"
	run tar -tzvf "$T/out/kselftest.tar.gz"
	assert_line --regexp ' 0/0 .* \./mhi/mhi_loopback_test$'
	assert_line --regexp '\./kselftest-list.txt$'
}

@test "T= selects one test, a fixture or the canary; bad names and double selections are refused" {
	T=race.start_vs_unbind rig_bash 'rig_cmdline test' boot.sh
	assert_success
	assert_output --partial 'rig.args="-t mhi:mhi_loopback_test"'
	assert_output --partial '"rig.env=KSELFTEST_MHI_LOOPBACK_TEST_ARGS=-r race.start_vs_unbind"'
	T=loopback rig_bash 'rig_cmdline test' boot.sh
	assert_success
	assert_output --partial '"rig.env=KSELFTEST_MHI_LOOPBACK_TEST_ARGS=-f loopback"'
	T=canary rig_bash 'rig_cmdline test' boot.sh
	assert_success
	assert_output --partial 'rig.args="-t mhi:mhi_loopback_canary.sh"'
	refute_output --partial 'KSELFTEST_MHI_LOOPBACK_TEST_ARGS'
	T='a b' rig_bash 'rig_cmdline test' boot.sh
	assert_failure
	assert_output --partial "T must be a test name"
	T=abi RUN_ARGS="-c mhi" rig_bash 'rig_cmdline test' boot.sh
	assert_failure
	assert_output --partial "T and RUN_ARGS both select tests"
	T=abi RUN_ENV="KSELFTEST_MHI_LOOPBACK_TEST_ARGS=-v" rig_bash 'rig_cmdline test' boot.sh
	assert_failure
	assert_output --partial "T and KSELFTEST_MHI_LOOPBACK_TEST_ARGS"
}

@test "a refused T= stops the boot before QEMU starts, not with an empty command line" {
	local stubs="rig_qemu_base() { QEMU=(echo QEMU-STARTED); QEMU_CONSOLE=(); QEMU_KTAP=(); };"
	stubs+=" rig_qemu_check() { :; }; rig_qemu_streams() { :; }; LOGDIR='$T';"
	T=configfs,race rig_bash "$stubs rig_boot" boot.sh
	assert_failure
	assert_output --partial "T must be a test name"
	refute_output --partial QEMU-STARTED
	refute [ -e "$T/qemu.cmd" ]
}

# --- the lock ----------------------------------------------------------------

@test "rig_lock: a second rig command waits for the first and says so" {
	mkdir -p "$T/cache"
	flock "$T/cache/.lock" sleep 1 &
	sleep 0.3
	start=$(date +%s%N)
	RIG_CACHE=$T/cache rig_bash "rig_lock; echo locked"
	end=$(date +%s%N)
	wait
	assert_success
	assert_line --index 0 "[rig] waiting for another rig command to finish (lock: $T/cache/.lock)"
	assert_line --index 1 "locked"
	[ $(((end - start) / 1000000)) -ge 400 ]
}

# --- Kconfig fragment verification ----------------------------------------

@test "fragment verification: a dropped symbol is reported and fails" {
	printf 'CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_S="x y"\n' >"$T/frag"
	printf 'CONFIG_A=y\nCONFIG_S="x y"\n# CONFIG_B is not set\n' >"$T/config"
	rig_bash "rig_verify_config '$T/config' '$T/frag'"
	assert_failure
	assert_output "CONFIG_B: requested m (in frag), got n"
}

@test "fragment verification: all requested values present passes" {
	printf 'CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D=n\n' >"$T/frag"
	printf 'CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\n' >"$T/config"
	rig_bash "rig_verify_config '$T/config' '$T/frag'"
	assert_success
	assert_output ""
}

@test "fragment verification: a later fragment overrides an earlier one" {
	printf 'CONFIG_SLUB_TINY=y\nCONFIG_X=y\n' >"$T/base"
	printf '# CONFIG_SLUB_TINY is not set\n' >"$T/debug"
	printf 'CONFIG_X=y\n' >"$T/config"
	rig_bash "rig_verify_config '$T/config' '$T/base' '$T/debug'"
	assert_success
	printf 'CONFIG_X=y\nCONFIG_SLUB_TINY=y\n' >"$T/config"
	rig_bash "rig_verify_config '$T/config' '$T/base' '$T/debug'"
	assert_failure
	assert_output "CONFIG_SLUB_TINY: requested n (in debug), got y"
}

@test "fragment verification: optional symbols count only once Kconfig defines them" {
	printf 'CONFIG_A=y\n' >"$T/base"
	printf 'CONFIG_NEW_DRIVER=m\nCONFIG_OLD_DRIVER=m\n' >"$T/optional"
	printf 'CONFIG_A=y\n' >"$T/config"
	mkdir -p "$T/tree/drivers"
	printf 'config A\n\tbool "a"\nmenuconfig OLD_DRIVER\n\ttristate "old"\n' >"$T/tree/drivers/Kconfig"
	rig_bash "rig_kconfig_symbols '$T/tree' >'$T/known'; cat '$T/known'"
	assert_output "$(printf 'CONFIG_A\nCONFIG_OLD_DRIVER')"
	rig_bash "rig_verify_config '$T/config' '$T/base' -- '$T/optional' '$T/known'"
	assert_failure
	assert_output "CONFIG_OLD_DRIVER: requested m (in optional), got n"
	printf 'CONFIG_A=y\nCONFIG_OLD_DRIVER=m\n' >"$T/config"
	rig_bash "rig_verify_config '$T/config' '$T/base' -- '$T/optional' '$T/known'"
	assert_success
}

@test "kselftest-config: a line the merged config does not meet fails; y meets m" {
	printf 'CONFIG_A=y\nCONFIG_B=m\nCONFIG_C=m\n# CONFIG_D is not set\nCONFIG_S="x"\n' >"$T/frag"
	printf 'CONFIG_A=y\nCONFIG_B=y\nCONFIG_C=m\nCONFIG_S="x"\n' >"$T/config"
	rig_bash "rig_kselftest_unmet '$T/frag' '$T/config'" kselftest-config.sh
	assert_success
	assert_output ""
	printf 'CONFIG_A=m\nCONFIG_C=m\nCONFIG_D=y\nCONFIG_S="y"\n' >"$T/config"
	rig_bash "rig_kselftest_unmet '$T/frag' '$T/config'" kselftest-config.sh
	assert_failure
	assert_output "$(printf '%s\n' \
		'CONFIG_A=y asked by tools/testing/selftests/mhi/config, got m' \
		'CONFIG_B=m asked by tools/testing/selftests/mhi/config, got n' \
		'CONFIG_D=n asked by tools/testing/selftests/mhi/config, got y' \
		'CONFIG_S="x" asked by tools/testing/selftests/mhi/config, got "y"')"
}

@test "kselftest-config: selftests/mhi/config asks for all the suite needs; a dropped line fails" {
	frag=$ROOT/tools/testing/selftests/mhi/config
	rig_bash "rig_kselftest_uncovered '$frag'" kselftest-config.sh
	assert_success
	assert_output ""
	while IFS= read -r line; do
		grep -vxF "$line" "$frag" >"$T/frag"
		rig_bash "rig_kselftest_uncovered '$T/frag'" kselftest-config.sh
		assert_failure
		assert_output "${line%%=*}: the suite needs it, tools/testing/selftests/mhi/config does not ask for it"
	done < <(grep '^CONFIG_' "$frag")
}

@test "the profiles' fragments exist and request each symbol once" {
	for p in default debug arm64; do
		rig_bash "rig_profile_fragments $p"
		assert_success
		for f in $output; do
			[ -f "$f" ]
		done
	done
	[ -f "$CI/config/optional.config" ]
	run bash -c "cat '$CI'/config/*.config | sed -nE 's/^(# )?(CONFIG_[A-Za-z0-9_]+)[= ].*/\\2/p' | sort | uniq -d"
	assert_output ""
}

# --- patches/series on a tiny fake tree ------------------------------------

# Fake kernel source, repo (with patches/series) and work tree.
make_fake() {
	mkdir -p "$T/ksrc/drivers/bus/mhi" "$T/repo/patches" "$T/repo/drivers/bus/mhi/new"
	printf 'VERSION = 7\nPATCHLEVEL = 2\n' >"$T/ksrc/Makefile"
	printf 'line1\nline2\nline3\n' >"$T/ksrc/drivers/bus/mhi/core.c"
	printf 'obj-y += core.o\n' >"$T/ksrc/drivers/bus/mhi/Makefile"
	cat >"$T/repo/patches/0001-fix.patch" <<'EOF'
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: Ann Tester <ann@example.org>
Date: Sat, 21 Nov 2026 10:00:00 +0000
Subject: [PATCH] bus: mhi: fix the second line of the core

The second line was wrong.

Signed-off-by: Ann Tester <ann@example.org>
---
 drivers/bus/mhi/core.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/drivers/bus/mhi/core.c b/drivers/bus/mhi/core.c
--- a/drivers/bus/mhi/core.c
+++ b/drivers/bus/mhi/core.c
@@ -1,3 +1,3 @@
 line1
-line2
+line2 fixed
 line3
-- 
2.39.5
EOF
	cat >"$T/repo/patches/0002-new.patch" <<'EOF'
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: Bob Builder <bob@example.org>
Date: Sat, 21 Nov 2026 11:00:00 +0000
Subject: [PATCH] bus: mhi: add a new driver

It only adds files.

Signed-off-by: Bob Builder <bob@example.org>
---
EOF
	printf 'int new;\n' >"$T/repo/drivers/bus/mhi/new/new.c"
	printf 'obj-m += new.o\n' >"$T/repo/drivers/bus/mhi/new/Makefile"
	printf '#!/bin/sh\n' >"$T/repo/drivers/bus/mhi/new/tool.sh"
	chmod +x "$T/repo/drivers/bus/mhi/new/tool.sh"
	printf '*.o\n' >"$T/repo/.gitignore"
	printf 'junk' >"$T/repo/drivers/bus/mhi/new/new.o"
	printf '0001-fix.patch\n# comment\n\n0002-new.patch drivers/bus/mhi/new/\n' >"$T/repo/patches/series"
	git -C "$T/repo" init -q
	KSRC=$T/ksrc RIG_ROOT=$T/repo rig_bash "mkdir '$T/tree'; rig_tree_populate '$T/tree' test" tree.sh
	assert_success
}

series() {
	RIG_ROOT=$T/repo LOGDIR=$T rig_bash "rig_tree_series '$T/tree'" tree.sh
}

mtimes() {
	(cd "$T/tree" && stat -c '%n %y' drivers/bus/mhi/core.c drivers/bus/mhi/Makefile \
		drivers/bus/mhi/new/new.c drivers/bus/mhi/new/Makefile drivers/bus/mhi/new/tool.sh)
}

@test "series: patches applied, repo paths laid, ignored files left out" {
	make_fake
	series
	assert_success
	assert_output --partial "applied 1 patch diffs of 2 patches"
	assert_output --partial "3 repo files laid into the tree"
	assert_equal "$(sed -n 2p "$T/tree/drivers/bus/mhi/core.c")" "line2 fixed"
	cmp "$T/repo/drivers/bus/mhi/new/new.c" "$T/tree/drivers/bus/mhi/new/new.c"
	[ -x "$T/tree/drivers/bus/mhi/new/tool.sh" ]
	[ ! -e "$T/tree/drivers/bus/mhi/new/new.o" ]
	# the pristine commit is untouched
	assert_equal "$(git -C "$T/tree" show pristine:drivers/bus/mhi/core.c | sed -n 2p)" "line2"
}

@test "series: a second application changes nothing, not even an mtime" {
	make_fake
	series
	before=$(mtimes)
	sleep 0.05
	series
	assert_success
	assert_output ""
	assert_equal "$(mtimes)" "$before"
}

@test "series: editing one repo file re-lays only that file" {
	make_fake
	series
	before=$(mtimes)
	sleep 0.05
	printf 'int new = 1;\n' >"$T/repo/drivers/bus/mhi/new/new.c"
	series
	assert_success
	assert_output --partial "1 repo files laid"
	after=$(mtimes)
	diff <(echo "$before") <(echo "$after") | grep -c '^>' | grep -qx 1
	diff <(echo "$before") <(echo "$after") | grep '^>' | grep -q 'new/new.c'
	cmp "$T/repo/drivers/bus/mhi/new/new.c" "$T/tree/drivers/bus/mhi/new/new.c"
}

@test "series: a changed set of patches resets the tree and drops unlisted files" {
	make_fake
	series
	printf '0002-new.patch drivers/bus/mhi/new/new.c\n' >"$T/repo/patches/series"
	series
	assert_success
	assert_output --partial "tree reset to pristine"
	assert_output --partial "2 dropped"
	assert_equal "$(sed -n 2p "$T/tree/drivers/bus/mhi/core.c")" "line2"
	[ -f "$T/tree/drivers/bus/mhi/new/new.c" ]
	[ ! -e "$T/tree/drivers/bus/mhi/new/Makefile" ]
	[ ! -e "$T/tree/drivers/bus/mhi/new/tool.sh" ]
}

@test "series: a patch that does not apply and a missing repo path stop with one line" {
	make_fake
	sed -i 's/^-line2$/-line9/' "$T/repo/patches/0001-fix.patch"
	series
	assert_failure
	assert_line --partial "[rig] error: patches/0001-fix.patch does not apply"
	printf '0002-new.patch drivers/nothing.c\n' >"$T/repo/patches/series"
	series
	assert_failure
	assert_output "[rig] error: patches/series line 1: drivers/nothing.c (listed for 0002-new.patch) does not exist in the repo: fix the series"
}

# The fake KSRC with the fake series applied (as git am of make patches would),
# populated into a fresh work tree.
make_carried() {
	rm -rf "$T/ksrc" "$T/repo" "$T/tree"
	make_fake
	sed -i 's/^line2$/line2 fixed/' "$T/ksrc/drivers/bus/mhi/core.c"
	cp -a "$T/repo/drivers/bus/mhi/new" "$T/ksrc/drivers/bus/mhi/"
	rm -f "$T/ksrc/drivers/bus/mhi/new/new.o"
	rm -rf "$T/tree"
	KSRC=$T/ksrc RIG_ROOT=$T/repo rig_bash "mkdir '$T/tree'; rig_tree_populate '$T/tree' test" tree.sh
	assert_success
}

carried_series() {
	KSRC=$T/ksrc RIG_ROOT=$T/repo LOGDIR=$T rig_bash "rig_tree_series '$T/tree'" tree.sh
}

@test "series: a KSRC that already carries the series is tested as it is" {
	make_carried
	printf 'int new = 2;\n' >"$T/ksrc/drivers/bus/mhi/new/new.c"
	rm -rf "$T/tree"
	KSRC=$T/ksrc RIG_ROOT=$T/repo rig_bash "mkdir '$T/tree'; rig_tree_populate '$T/tree' test" tree.sh
	carried_series
	assert_success
	assert_output "[rig] series: KSRC already carries it (3 files; 1 differ from this repo's copies): tested as it is, nothing applied or laid"
	# KSRC's own version of the driver, not the repo's, and the fix once
	assert_equal "$(cat "$T/tree/drivers/bus/mhi/new/new.c")" "int new = 2;"
	assert_equal "$(sed -n 2p "$T/tree/drivers/bus/mhi/core.c")" "line2 fixed"
	[ -z "$(git -C "$T/tree" status --porcelain)" ]
	carried_series
	assert_success
	assert_output ""
}

@test "series: a KSRC with part of the series, or without one of its patches, stops with one line" {
	make_carried
	rm "$T/tree/drivers/bus/mhi/new/Makefile"
	git -C "$T/tree" -c user.name=t -c user.email=t@t commit -qam partial
	git -C "$T/tree" tag -f pristine >/dev/null
	carried_series
	assert_failure
	assert_output "[rig] error: KSRC carries part of the series: drivers/bus/mhi/new/Makefile (and 0 more of the files the series adds) is missing: apply the whole series (make patches, git am) or use a tree without it"
	make_carried
	sed -i 's/^line2 fixed$/line2/' "$T/tree/drivers/bus/mhi/core.c"
	git -C "$T/tree" -c user.name=t -c user.email=t@t commit -qam unfixed
	git -C "$T/tree" tag -f pristine >/dev/null
	carried_series
	assert_failure
	assert_output "[rig] error: KSRC carries the series' files but not patches/0001-fix.patch (its diff does not reverse from KSRC): apply the series as make patches exports it"
}

# make patches with the fake repo: a cover text, and the exporter $1 <$2>.
fake_patches() {
	cat >"$T/repo/patches/cover-letter.txt" <<'EOF'
# comment, dropped
Version: 3
Subject: bus: mhi: a fake series

It applies to @BASE@.
EOF
	GIT_AUTHOR_NAME=$1 GIT_AUTHOR_EMAIL=$2 RIG_ROOT=$T/repo TREE=$T/tree OUT=$T/out \
		rig_bash "rig_patches_identity; rig_patches_replay '$T'" tree.sh patches.sh
}

@test "make patches: replays the series as commits signed by the exporter" {
	make_fake
	fake_patches "Eve Exporter" "eve@patches.mhi-rig-exporter.net"
	assert_success
	run ls "$T/out"
	assert_output "$(printf '0000-cover-letter.patch\n0001-bus-mhi-fix-the-second-line-of-the-core.patch\n0002-bus-mhi-add-a-new-driver.patch')"
	run cat "$T/out/0002-bus-mhi-add-a-new-driver.patch"
	assert_output --partial "From: Eve Exporter <eve@patches.mhi-rig-exporter.net>"
	assert_output --partial "Signed-off-by: Eve Exporter <eve@patches.mhi-rig-exporter.net>"
	assert_output --partial "create mode 100755 drivers/bus/mhi/new/tool.sh"
	# the stored mbox's identity (a reserved domain) is gone
	refute_output --partial "bob@example.org"
	refute_output --partial "new/new.o"
	assert_equal "$(grep -c '^Signed-off-by:' "$T/out/0001-bus-mhi-fix-the-second-line-of-the-core.patch")" 1
	run git -C "$T/tree" log -1 --format='%an <%ae> %cn <%ce>' series
	assert_output "Eve Exporter <eve@patches.mhi-rig-exporter.net> Eve Exporter <eve@patches.mhi-rig-exporter.net>"
	run git -C "$T/tree" show series~1:drivers/bus/mhi/core.c
	assert_line --index 1 "line2 fixed"
	# the work tree itself is untouched
	assert_equal "$(sed -n 2p "$T/tree/drivers/bus/mhi/core.c")" "line2"
}

@test "make patches: the cover letter is filled in from patches/cover-letter.txt" {
	make_fake
	fake_patches "Eve Exporter" "eve@patches.mhi-rig-exporter.net"
	assert_success
	run cat "$T/out/0000-cover-letter.patch"
	assert_output --partial "From: Eve Exporter <eve@patches.mhi-rig-exporter.net>"
	assert_output --partial "Subject: [PATCH v3 0/2] bus: mhi: a fake series"
	assert_output --partial "It applies to Linux 7.2 (test)."
	assert_output --partial "bus: mhi: add a new driver"
	refute_output --partial "BLURB HERE"
	refute_output --partial "SUBJECT HERE"
	refute_output --partial "comment, dropped"
}

@test "make patches: a placeholder or unset identity stops with one line" {
	make_fake
	fake_patches "Seed maintainers" "maintainers@users.noreply.r-seed.example"
	assert_failure
	assert_output "[rig] error: make patches refuses the placeholder identity 'Seed maintainers <maintainers@users.noreply.r-seed.example>' (a reserved or noreply address cannot sign off a patch): set yours with git config user.name/user.email in $T/repo or GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL"
	fake_patches "Ann Tester" "ann@example.org"
	assert_failure
	assert_output --partial "refuses the placeholder identity"
	HOME=$T GIT_CONFIG_NOSYSTEM=1 fake_patches "" ""
	assert_failure
	assert_output --partial "[rig] error: make patches signs the patches as you, but your git identity is not set"
	[ ! -e "$T/out" ]
}

@test "make patches: RIG_TEST_IDENTITY must use a reserved domain" {
	make_fake
	RIG_TEST_IDENTITY="Rig Check <check@mhi-rig.invalid>" fake_patches "" ""
	assert_success
	run cat "$T/out/0001-bus-mhi-fix-the-second-line-of-the-core.patch"
	assert_output --partial "Signed-off-by: Rig Check <check@mhi-rig.invalid>"
	RIG_TEST_IDENTITY="Real Looking <someone@mhi-rig-exporter.net>" fake_patches "" ""
	assert_failure
	assert_output --partial "must be 'Name <address>' with a reserved domain"
}

# --- verdict from canned logs ------------------------------------------------

clean_ktap() {
	cat >"$T/ktap.log" <<'EOF'
TAP version 13
1..2
# timeout set to 45
# selftests: mhi: mhi_loopback_test
# TAP version 13
# 1..3
# # Starting 3 tests from 1 test cases.
# #  RUN           global.a ...
# #            OK  global.a
# ok 1 global.a
# ok 2 global.b
# ok 3 global.c # SKIP no fault injection
# # Totals: pass:2 fail:0 xfail:0 xpass:0 skip:1 error:0
ok 1 selftests: mhi: mhi_loopback_test
# timeout set to 45
# selftests: mhi: canary.sh
ok 2 selftests: mhi: canary.sh
rig: exit=0
EOF
}

clean_console() {
	cat >"$T/console.log" <<'EOF'
[    0.000000] Linux version 7.2.13 (root@rig) #1 SMP
[    0.000000] Kernel command line: console=ttyS0 panic=-1 APPEND=WARNING:
[    0.100000] kasan: KernelAddressSanitizer initialized (generic)
[    0.200000] DMA-API: preallocated 65536 debug entries
[    0.200001] DMA-API: debugging enabled by kernel config
[    0.300000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15000)
rig: running ./run_kselftest.sh -c mhi
[    3.000000] faux_driver mhi-vlink.0: Link up: mhi0 <-> mhi_ep0
rig: tests finished, exit=0
rig: kmemleak: no leak
rig: done
EOF
}

verdict() {
	run bash "$CI/analyze.sh" --ktap "$T/ktap.log" --console "$T/console.log" --profile debug --seconds 42 "$@"
}

@test "verdict: a clean run passes and counts leaves of the KTAP tree" {
	clean_ktap
	clean_console
	verdict
	assert_success
	assert_output "mhi: 3 passed, 0 failed, 1 skipped (profile debug, 42 s)"
}

@test "verdict: BUG: KASAN on the console fails and shows the line" {
	clean_ktap
	clean_console
	echo "[    5.000000] BUG: KASAN: slab-use-after-free in mhi_ep_queue_buf+0x42/0x100" >>"$T/console.log"
	verdict
	assert_failure
	assert_line --partial "FAIL: kernel error reports on the console"
	assert_line --partial "BUG: KASAN: slab-use-after-free in mhi_ep_queue_buf"
	assert_line "mhi: 3 passed, 0 failed, 1 skipped (profile debug, 42 s)"
}

@test "verdict: a WARNING, a lockdep splat, a kmemleak report or a hung task fails" {
	clean_ktap
	for report in \
		"[ 9.1] WARNING: CPU: 1 PID: 80 at drivers/bus/mhi/host/main.c:12 mhi_x+0x1/0x2" \
		"[ 9.1] WARNING: possible circular locking dependency detected" \
		"[ 9.1] UBSAN: array-index-out-of-bounds in drivers/bus/mhi/ep/ring.c:40:3" \
		"unreferenced object 0xffff888003f4c000 (size 64):" \
		"[ 99.0] INFO: task kworker/0:1:12 blocked for more than 300 seconds." \
		"[ 9.1] Oops: general protection fault, probably for non-canonical address" \
		"[ 9.1] Kernel panic - not syncing: Fatal exception" \
		"[ 9.1] DMA-API: mhi-vlink mhi-vlink.0: device driver frees DMA memory with wrong function" \
		"[ 2.5]     # vlink_kunit_ack_clears: EXPECTATION FAILED at drivers/bus/mhi/ep/vlink/regs_kunit.c:131" \
		"[ 2.5]     not ok 3 vlink_kunit_ack_clears"; do
		clean_console
		echo "$report" >>"$T/console.log"
		verdict
		assert_failure
		assert_line --partial "$report"
	done
}

@test "verdict: a failed test, a runner error or a truncated stream fails" {
	clean_console
	clean_ktap
	sed -i 's/^# ok 2 global.b/# not ok 2 global.b/' "$T/ktap.log"
	verdict
	assert_failure
	assert_line "[rig] FAIL: 1 test(s) failed:"
	assert_line "[rig]   # not ok 2 global.b   (rerun: make run T=global.b)"
	assert_line --partial "mhi: 2 passed, 1 failed, 1 skipped"

	clean_ktap
	sed -i 's/^rig: exit=0/rig: exit=1/' "$T/ktap.log"
	verdict
	assert_failure
	assert_line "[rig] FAIL: run_kselftest.sh exited with 1"

	clean_ktap
	sed -i '/^ok 2 /d' "$T/ktap.log"
	verdict
	assert_failure
	assert_line "[rig] FAIL: the KTAP stream stopped early: plan 1..2, 1 results"
}

@test "verdict: a failed parent with passing children still counts as a failure" {
	clean_console
	clean_ktap
	sed -i 's/^ok 1 selftests: mhi: mhi_loopback_test/not ok 1 selftests: mhi: mhi_loopback_test # TIMEOUT 45 seconds/' "$T/ktap.log"
	verdict
	assert_failure
	assert_line --partial "mhi: 3 passed, 1 failed, 1 skipped"
}

@test "verdict: no exit line, a timeout, nothing run or everything skipped fails" {
	clean_console
	clean_ktap
	sed -i '/^rig: exit=/d' "$T/ktap.log"
	verdict --timed-out 900
	assert_failure
	assert_line "[rig] FAIL: the time limit of 900 s passed (raise it with TIMEOUT=)"
	assert_line "[rig] FAIL: the guest never reported 'rig: exit=' (crash, hang or time limit)"

	: >"$T/ktap.log"
	verdict
	assert_failure
	assert_line "[rig] FAIL: no test result in the KTAP stream"
	assert_line "mhi: 0 passed, 0 failed, 0 skipped (profile debug, 42 s)"

	printf 'TAP version 13\n1..1\n# 1..0 # SKIP no device\nok 1 selftests: mhi: t # SKIP\nrig: exit=0\n' >"$T/ktap.log"
	verdict
	assert_failure
	assert_line "[rig] FAIL: every test skipped: the rig must provide what the tests need"
}

@test "verdict: a lane counts only when the kernel shows it ran" {
	clean_ktap
	clean_console
	# The link says which DMA mode each probe runs
	sed -i 's/Link up: mhi0 <-> mhi_ep0/Synchronous DMA, LOOPBACK rings of 32 elements, events on the data ring, moderated 0 ms, configured by module parameters/' "$T/console.log"
	verdict --lane sync
	assert_failure
	assert_line "[rig] FAIL: lane sync: the link's KUnit suite mhi_vlink_regs never passed"
	sed -i 's/^rig: done/[    3.100000] ok 1 mhi_vlink_regs\nrig: done/' "$T/console.log"
	verdict --lane sync
	assert_success
	# A console much longer than a pipe buffer after the suite's pass
	seq -f '[    4.000000] line %g of a long run' 200000 >>"$T/console.log"
	verdict --lane sync
	assert_success
	assert_output "mhi: 3 passed, 0 failed, 1 skipped (profile debug, lane sync, 42 s)"

	verdict --lane async
	assert_failure
	assert_line "[rig] FAIL: lane async: the link probed 0 times with asynchronous DMA, 1 times with synchronous DMA"

	sed -i 's/Synchronous DMA/Asynchronous DMA/' "$T/console.log"
	verdict --lane async
	assert_success
	# A link of the suite's own, made in configfs, runs its own mode
	sed -i 's/^rig: done/[    3.200000] faux_driver mhi-vlink.1: Synchronous DMA, LOOPBACK rings of 8 elements, events on the control ring, moderated 0 ms, configured by configfs lt-configfs\nrig: done/' "$T/console.log"
	verdict --lane async
	assert_success
	verdict --lane sync
	assert_failure
	assert_line --partial "lane sync: the link probed 0 times with synchronous DMA"

	# A bounce lane needs buffers that went through swiotlb
	verdict --lane async-bounce
	assert_failure
	assert_line "[rig] FAIL: lane async-bounce: no buffer went through swiotlb (hiwater 'none')"
	echo "rig: swiotlb_hiwater=0" >>"$T/console.log"
	verdict --lane async-bounce
	assert_failure
	assert_line "[rig] FAIL: lane async-bounce: no buffer went through swiotlb (hiwater '0')"
	echo "rig: swiotlb_hiwater=180" >>"$T/console.log"
	verdict --lane async-bounce
	assert_success

	# The event ring layouts: where the LOOPBACK completions go
	verdict --lane async-ctrl
	assert_failure
	assert_line "[rig] FAIL: lane async-ctrl: the link probed 0 times with LOOPBACK events on the control ring, 1 times with LOOPBACK events on a data ring"
	verdict --lane async-intmod
	assert_failure
	assert_line "[rig] FAIL: lane async-intmod: the link probed 0 times with a moderated event ring, 1 times unmoderated"
	sed -i 's/events on the data ring, moderated 0 ms/events on the control ring, moderated 5 ms/' "$T/console.log"
	verdict --lane async-ctrl-intmod
	assert_success
	verdict --lane async
	assert_failure
	assert_line "[rig] FAIL: lane async: the link probed 0 times with LOOPBACK events on a data ring, 1 times with LOOPBACK events on the control ring"
	assert_line "[rig] FAIL: lane async: the link probed 0 times unmoderated, 1 times with a moderated event ring"

	for lane in fast bounce-async ctrl-ctrl sync-async async- -ctrl intmod-ctrl split-coalesce \
		coalesce-split split-bounce coalesce-async split-split same; do
		verdict --lane "$lane"
		assert_failure
		assert_output --partial "--LANE must be sync or regimes joined by '-' in this order: sync|async, bounce, ctrl, intmod, split|coalesce (e.g. async-bounce, ctrl, bounce-split; got '$lane')"
	done
}

@test "verdict: an echo shape lane counts only when the echo client used the shape" {
	clean_ktap
	clean_console
	sed -i 's/Link up: mhi0 <-> mhi_ep0/Asynchronous DMA, LOOPBACK rings of 32 elements, events on the data ring, moderated 0 ms, configured by module parameters/' "$T/console.log"
	sed -i 's/^rig: done/[    3.100000] ok 1 mhi_vlink_regs\nrig: done/' "$T/console.log"
	cp "$T/console.log" "$T/console.base"
	# a lane without a shape has nothing to prove without the line
	verdict --lane async
	assert_success
	verdict --lane async-coalesce
	assert_failure
	assert_line "[rig] FAIL: lane async-coalesce: the echo client printed no shapes (no 'ep_loopback_shapes' line)"

	# the parameter says coalesce, but no echo was merged
	echo "rig: ep_loopback_shapes echo_shape=coalesce echoes=40 split_echoes=0 merged_echoes=0 " >>"$T/console.log"
	verdict --lane async-coalesce
	assert_failure
	assert_line "[rig] FAIL: lane async-coalesce: the echo client merged 0 of 40 echoes and split 0: shape coalesce not in effect"
	# summed over the lines: one per unload of the module and the guest's
	echo "[   20.000000] mhi_ep_loopback: ep_loopback_shapes echo_shape=coalesce echoes=40 split_echoes=0 merged_echoes=38" >>"$T/console.log"
	verdict --lane async-coalesce
	assert_success
	verdict --lane async
	assert_failure
	assert_line "[rig] FAIL: lane async: the echo client's echo_shape is 'coalesce', not same"
	assert_line "[rig] FAIL: lane async: the echo client split 0 and merged 38 of 80 echoes: shape same expected"

	cp "$T/console.base" "$T/console.log"
	echo "rig: ep_loopback_shapes echo_shape=split echoes=40 split_echoes=0 merged_echoes=0 " >>"$T/console.log"
	verdict --lane async-split
	assert_failure
	assert_line "[rig] FAIL: lane async-split: the echo client split 0 of 40 echoes and merged 0: shape split not in effect"
	echo "rig: ep_loopback_shapes echo_shape=split echoes=40 split_echoes=12 merged_echoes=0 " >>"$T/console.log"
	verdict --lane async-split
	assert_success
	echo "[   20.000000] mhi_ep_loopback: ep_loopback_shapes echo_shape=split echoes=9 split_echoes=0 merged_echoes=2" >>"$T/console.log"
	verdict --lane async-split
	assert_failure
	assert_line "[rig] FAIL: lane async-split: the echo client split 12 of 89 echoes and merged 2: shape split not in effect"
	verdict --lane async-coalesce
	assert_failure
	assert_line "[rig] FAIL: lane async-coalesce: the echo client's echo_shape is 'split', not coalesce"

	cp "$T/console.base" "$T/console.log"
	echo "rig: ep_loopback_shapes echo_shape=same echoes=40 split_echoes=0 merged_echoes=0 " >>"$T/console.log"
	verdict --lane async
	assert_success
	echo "rig: ep_loopback_shapes echo_shape=same echoes=" >>"$T/console.log"
	verdict --lane async
	assert_failure
	assert_line "[rig] FAIL: lane async: unreadable shapes line: rig: ep_loopback_shapes echo_shape=same echoes="
}

@test "lanes: each regime adds its kernel parameters, in the canonical order" {
	rig_bash 'for l in sync async bounce ctrl intmod async-bounce sync-ctrl bounce-intmod async-bounce-ctrl-intmod split coalesce async-coalesce bounce-split async-bounce-ctrl-intmod-split; do echo "$l=$(rig_lane_args $l)"; done'
	assert_success
	assert_output "$(printf '%s\n' 'sync=' 'async=mhi_vlink.async_dma=1' 'bounce=swiotlb=force' \
		'ctrl=mhi_vlink.loopback_er=0' 'intmod=mhi_vlink.intmod_ms=5' \
		'async-bounce=mhi_vlink.async_dma=1 swiotlb=force' 'sync-ctrl=mhi_vlink.loopback_er=0' \
		'bounce-intmod=swiotlb=force mhi_vlink.intmod_ms=5' \
		'async-bounce-ctrl-intmod=mhi_vlink.async_dma=1 swiotlb=force mhi_vlink.loopback_er=0 mhi_vlink.intmod_ms=5' \
		'split=mhi_ep_loopback.echo_shape=split' 'coalesce=mhi_ep_loopback.echo_shape=coalesce' \
		'async-coalesce=mhi_vlink.async_dma=1 mhi_ep_loopback.echo_shape=coalesce' \
		'bounce-split=swiotlb=force mhi_ep_loopback.echo_shape=split' \
		'async-bounce-ctrl-intmod-split=mhi_vlink.async_dma=1 swiotlb=force mhi_vlink.loopback_er=0 mhi_vlink.intmod_ms=5 mhi_ep_loopback.echo_shape=split')"
}

@test "verdict: serial CR line ends are tolerated" {
	clean_ktap
	clean_console
	sed -i 's/$/\r/' "$T/ktap.log" "$T/console.log"
	verdict
	assert_success
	assert_output "mhi: 3 passed, 0 failed, 1 skipped (profile debug, 42 s)"
}

# --- the scripts themselves -------------------------------------------------

@test "rig scripts are shellcheck-clean" {
	command -v shellcheck || fail "shellcheck is missing: run 'make setup'"
	cd "$ROOT"
	run shellcheck -x ci/*.sh .ci/run
	assert_success
	assert_output ""
	run shellcheck -s sh ci/guest/init
	assert_success
}

@test "guest init splits the kernel command line like the kernel does" {
	awk_prog=$(sed -n "/^awk '{/,/^}' \/proc\/cmdline/p" "$CI/guest/init" | sed '1s/^awk //; $s/ \/proc\/cmdline.*//')
	awk_prog=${awk_prog#\'}
	awk_prog=${awk_prog%\'}
	printf '%s\n' 'console=ttyS0 rig.args="-t mhi:a -o 5" "rig.env=K_ARGS=-v -x" rig.mode=test' >"$T/cmdline"
	run awk "$awk_prog" "$T/cmdline"
	assert_success
	assert_output "$(printf '%s\n' console=ttyS0 'rig.args=-t mhi:a -o 5' 'rig.env=K_ARGS=-v -x' rig.mode=test)"
}
