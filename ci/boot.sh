# shellcheck shell=bash disable=SC2153 # PROFILE, BUILD, STATE come from ci/lib.sh
# Boots the kernel and initramfs of a profile in QEMU (TCG).
# Test mode: the console (ttyS0) goes to console.log, the KTAP stream (ttyS1)
# to the terminal and ktap.log; a wall-time limit ends a hung guest.

# Kernel command line. Watchdogs are sized for TCG, which is 10-50 times
# slower than hardware (the guest raises hung_task_timeout_secs itself).
rig_cmdline() {
	local mode=$1 kv c
	case $(rig_profile_arch "$PROFILE") in
	arm64)
		# virt: the PL011 is the console, the KTAP stream goes to the
		# virtio console (rig_qemu_base); the arch timer needs no help.
		c="console=ttyAMA0 rig.ktap=/dev/hvc0"
		;;
	*)
		# tsc=reliable: under TCG the clocksource watchdog often gives up
		# on the TSC and the kernel falls back to jiffies, which quantises
		# every time measurement of the suite to 4 ms.
		c="console=ttyS0 tsc=reliable"
		# On a loaded host the guest's PIT calibration of the TSC fails,
		# and with no HPET or ACPI PM timer to fall back on it runs on
		# jiffies. TCG's TSC ticks at the host's rate: pass it when the
		# host knows it exactly.
		local khz
		if grep -qw tsc_known_freq /proc/cpuinfo 2>/dev/null; then
			khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
			[ -z "$khz" ] || [ "$khz" -eq 0 ] || c+=" tsc_early_khz=$khz"
		fi
		;;
	esac
	c+=" panic=-1 watchdog_thresh=30 workqueue.watchdog_thresh=120"
	c+=" rcupdate.rcu_cpu_stall_timeout=120 rig.mode=$mode"
	# Stride of the full tre_size sweep: every size on the default profile's
	# sync lane, a sample on its other lanes and under the debug profile's
	# sanitizers (RUN_ENV overrides it).
	case ";${RUN_ENV:-};" in
	*";MHI_LT_SWEEP_STEP="*) ;;
	*) c+=" \"rig.env=MHI_LT_SWEEP_STEP=$(rig_profile_sweep_step "$PROFILE" "${LANE:-sync}")\"" ;;
	esac
	# Iterations of each race, held or not: 200 by default, fewer under the
	# debug profile's sanitizers (the test prints how many it ran).
	case ";${RUN_ENV:-};" in
	*";MHI_LT_HELD_ITERS="*) ;;
	*) c+=" \"rig.env=MHI_LT_HELD_ITERS=$(rig_profile_held_iters "$PROFILE")\"" ;;
	esac
	case ";${RUN_ENV:-};" in
	*";MHI_LT_RACE_ITERS="*) ;;
	*) c+=" \"rig.env=MHI_LT_RACE_ITERS=$(rig_profile_race_iters "$PROFILE")\"" ;;
	esac
	rig_test_selection
	case ${RUN_ARGS:-} in *'"'*) rig_die "RUN_ARGS must not contain double quotes" ;; esac
	[ -z "${RUN_ARGS:-}" ] || c+=" rig.args=\"$RUN_ARGS\""
	if [ -n "${RUN_ENV:-}" ]; then
		local IFS=';'
		for kv in $RUN_ENV; do
			case $kv in
			*'"'*) rig_die "RUN_ENV must not contain double quotes" ;;
			[A-Za-z_]*=*) c+=" \"rig.env=$kv\"" ;;
			'') ;;
			*) rig_die "RUN_ENV entries are NAME=VALUE separated by ';' (got '$kv')" ;;
			esac
		done
	fi
	c+=" rig.lane=${LANE:-sync}"
	local lane_args
	lane_args=$(rig_lane_args "${LANE:-sync}")
	[ -z "$lane_args" ] || c+=" $lane_args"
	[ -z "${APPEND:-}" ] || c+=" $APPEND"
	printf '%s\n' "$c"
}

# T=NAME runs one test of mhi_loopback_test (fixture.variant.test, or
# fixture.test without variants), T=FIXTURE a group of them, T=canary the
# canary: it becomes RUN_ARGS and the harness's own selection (-r or -f).
rig_test_selection() {
	[ -n "${T:-}" ] || return 0
	case $T in
	*[!A-Za-z0-9_.]* | .* | *. | *..*)
		rig_die "T must be a test name (fixture.variant.test), a fixture or canary (got '$T')" ;;
	esac
	[ -z "${RUN_ARGS:-}" ] || rig_die "T and RUN_ARGS both select tests: give one of them"
	case ";${RUN_ENV:-};" in
	*";KSELFTEST_MHI_LOOPBACK_TEST_ARGS="*)
		rig_die "T and KSELFTEST_MHI_LOOPBACK_TEST_ARGS in RUN_ENV both select tests" ;;
	esac
	case $T in
	canary | canary.*) RUN_ARGS="-t mhi:mhi_loopback_canary.sh" ;;
	*.*)
		RUN_ARGS="-t mhi:mhi_loopback_test"
		c+=" \"rig.env=KSELFTEST_MHI_LOOPBACK_TEST_ARGS=-r $T\""
		;;
	*)
		RUN_ARGS="-t mhi:mhi_loopback_test"
		c+=" \"rig.env=KSELFTEST_MHI_LOOPBACK_TEST_ARGS=-f $T\""
		;;
	esac
}

# QEMU of the profile's architecture, and how its two streams leave it:
# QEMU_CONSOLE=(args for a console to $1), QEMU_KTAP=(args for the KTAP
# stream to stdio, or to nowhere with "null").
# x86_64: -smp 2 as two sockets: without ACPI the kernel finds CPUs in
# SeaBIOS's MP table, which lists one CPU per socket (plain -smp 2 boots with
# one CPU); ttyS0 the console, ttyS1 the KTAP stream.
# arm64: virt with -cpu max (pauth-impdef: TCG's cheap pointer
# authentication, the architected one costs a QARMA per signed return); one
# PL011, so the KTAP stream goes to a virtio console (hvc0).
rig_qemu_base() {
	case $(rig_profile_arch "$PROFILE") in
	arm64)
		QEMU=(qemu-system-aarch64 -machine virt -cpu 'max,pauth-impdef=on' -smp 2 -m 2G
			-accel 'tcg,thread=multi' -nographic -no-reboot -nodefaults
			-kernel "$BUILD/$KIMAGE" -initrd "$STATE/initramfs.cpio.gz")
		rig_qemu_streams() {
			QEMU_CONSOLE=(-serial "$1")
			QEMU_KTAP=(-device virtio-serial-device -chardev "$2,id=ktap" -device 'virtconsole,chardev=ktap')
		}
		;;
	*)
		QEMU=(qemu-system-x86_64 -machine q35 -cpu max -smp '2,sockets=2,cores=1,threads=1' -m 2G
			-accel 'tcg,thread=multi' -nographic -no-reboot -nodefaults
			-kernel "$BUILD/$KIMAGE" -initrd "$STATE/initramfs.cpio.gz")
		rig_qemu_streams() {
			QEMU_CONSOLE=(-serial "$1")
			QEMU_KTAP=(-serial "$2")
		}
		;;
	esac
}

rig_qemu_check() {
	command -v "${QEMU[0]}" >/dev/null ||
		rig_die "${QEMU[0]} not found: run 'make setup' (PROFILE=$PROFILE boots on it)"
}

rig_shell() {
	rig_qemu_base
	rig_qemu_check
	rig_qemu_streams mon:stdio null
	# a refused setting stops here: "$(...)" in QEMU's arguments would not
	local cmdline
	cmdline=$(rig_cmdline shell)
	rig_log "booting a root shell ($PROFILE); Ctrl-A X quits QEMU"
	exec 9>&- # let other rig commands run meanwhile
	exec "${QEMU[@]}" "${QEMU_CONSOLE[@]}" "${QEMU_KTAP[@]}" -append "$cmdline"
}

# Reads the KTAP stream from stdin: terminal + $1, and the time of the first
# line (seconds since $2) into $3.
rig_ktap_tee() {
	local out=$1 start=$2 first=$3 line seen=0
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		if [ $seen = 0 ]; then
			seen=1
			awk -v a="$start" -v b="$(rig_now)" 'BEGIN { printf "%.1f\n", b - a }' >"$first"
		fi
		printf '%s\n' "$line" >>"$out"
		printf '%s\n' "$line"
	done
}

rig_boot() {
	local limit=${TIMEOUT:-$(rig_profile_timeout "$PROFILE")} start end rc secs first timed_out=0
	local console=$LOGDIR/console.log ktap=$LOGDIR/ktap.log cmdline
	case $limit in '' | *[!0-9]*) rig_die "TIMEOUT must be a number of seconds (got '$limit')" ;; esac
	# a refused setting (T=, RUN_ARGS=, ...) stops here, before QEMU starts
	cmdline=$(rig_cmdline test)
	rig_qemu_base
	rig_qemu_check
	rig_qemu_streams "file:$console" stdio
	: >"$console"
	: >"$ktap"
	rm -f "$LOGDIR/first-ktap"
	rig_log "booting ($PROFILE, lane ${LANE:-sync}, limit $limit s); console: $(rig_rel "$console")"
	printf '%s\n' "${QEMU[*]} ${QEMU_CONSOLE[*]} ${QEMU_KTAP[*]} -append '$cmdline'" >"$LOGDIR/qemu.cmd"
	# QEMU reads the kernel and initramfs at start: other rig commands
	# (another profile, make patches) need not wait for the tests.
	exec 9>&-
	start=$(rig_now)
	set +e
	# --foreground: Ctrl-C on the terminal reaches QEMU too.
	timeout --foreground -k 10 "$limit" "${QEMU[@]}" "${QEMU_CONSOLE[@]}" "${QEMU_KTAP[@]}" \
		-append "$cmdline" </dev/null 2>"$LOGDIR/qemu.log" |
		rig_ktap_tee "$ktap" "$start" "$LOGDIR/first-ktap"
	rc=${PIPESTATUS[0]}
	set -e
	end=$(rig_now)
	secs=$(rig_secs "$start" "$end")
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		timed_out=$limit
	elif [ "$rc" != 0 ]; then
		cat "$LOGDIR/qemu.log" >&2
		rig_warn "QEMU exited with $rc (log: $(rig_rel "$LOGDIR/qemu.log"))"
	fi
	first=$(cat "$LOGDIR/first-ktap" 2>/dev/null || echo "-")
	rc=0
	# shellcheck source=ci/analyze.sh
	. "$RIG_ROOT/ci/analyze.sh"
	rig_verdict "$ktap" "$console" "$PROFILE" "$(rig_secs "${RIG_START:-$start}" "$end")" "$timed_out" "${LANE:-sync}" \
		>"$LOGDIR/verdict" || rc=$?
	grep -v '^mhi: ' "$LOGDIR/verdict" || true
	echo "$RIG_RESULT $rc" >"$LOGDIR/result"
	[ -z "${RIG_RESULT_FILE:-}" ] || cp "$LOGDIR/result" "$RIG_RESULT_FILE"
	rig_log "console log: $(rig_rel "$console")"
	rig_log "KTAP log:    $(rig_rel "$ktap")"
	rig_log "boot to first KTAP line: $first s; QEMU ran $secs s"
	grep '^mhi: ' "$LOGDIR/verdict"
	return "$rc"
}
