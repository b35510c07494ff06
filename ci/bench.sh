# shellcheck shell=bash disable=SC2153 # PROFILE, LOGDIR, RIG_CACHE come from ci/lib.sh
# make bench: boots the rig once in bench mode and turns what the guest
# measured into a table, a CSV and a plot.
#
# The guest runs the selftest's measurement code (mhi_loopback_test --bench:
# throughput per tre_size x num_tre {1, capacity}, wall-clock and in the
# host client's own time, doorbells per start, 1-byte start latency over at
# least 200 starts) and then the memory-copy ceiling of the same guest for
# the byte count of each measured start: the kernel's memcpy() through
# debugfs mhi_loopback/memcpy, or memcpy-bench (glibc) without it.

# Boots in bench mode; the guest's output goes to $1.
rig_bench_boot() {
	local out=$1 limit=${TIMEOUT:-$(rig_profile_timeout "$PROFILE")}
	rig_qemu_base
	rig_qemu_streams "file:$LOGDIR/console.log" stdio
	rig_log "booting in bench mode ($PROFILE, limit $limit s); output: $(rig_rel "$out")"
	exec 9>&-
	set +e
	timeout --foreground -k 10 "$limit" "${QEMU[@]}" "${QEMU_CONSOLE[@]}" "${QEMU_KTAP[@]}" \
		-append "$(rig_cmdline bench)" </dev/null 2>"$LOGDIR/qemu.log" | tr -d '\r' | tee "$out"
	set -e
	grep -q '^rig: exit=0$' "$out" ||
		rig_die "the benchmark did not finish cleanly (output: $(rig_rel "$out"), console: $(rig_rel "$LOGDIR/console.log"))"
}

# results.csv from the guest's "# bench:" and "# memcpy:" lines.
rig_bench_csv() {
	local in=$1 csv=$2
	awk -F'[,=]' '
	/# memcpy: bytes=/ { sub(/.*# memcpy: /, ""); split($0, f, /[,=]/); ceil[f[2]] = f[6]; next }
	/# bench: tre_size=/ {
		sub(/.*# bench: /, ""); split($0, f, /[,=]/)
		n++; ts[n] = f[2]; nt[n] = f[4]; by[n] = f[6]; sec[n] = f[8]; mb[n] = f[10]
		ksec[n] = f[12]; kmb[n] = f[14]; db[n] = f[16]; qus[n] = f[18]; fus[n] = f[20]
		if (nt[n] > cap) cap = nt[n]
	}
	END {
		print "tre_size,num_tre_label,num_tre,bytes,seconds,mbps,memcpy_mbps,ratio," \
		      "kernel_seconds,kernel_mbps,kernel_ratio,doorbells,queue_us,first_echo_us"
		for (i = 1; i <= n; i++) {
			c = ceil[ts[i] * nt[i]]
			label = (nt[i] == cap && cap > 1) ? "cap" : nt[i]
			ratio = (c > 0) ? mb[i] / c : 0
			kratio = (c > 0) ? kmb[i] / c : 0
			printf "%s,%s,%s,%s,%s,%s,%s,%.4f,%s,%s,%.4f,%s,%s,%s\n", ts[i], label, nt[i],
			       by[i], sec[i], mb[i], c, ratio, ksec[i], kmb[i], kratio, db[i], qus[i], fus[i]
		}
	}' "$in" >"$csv"
	[ "$(wc -l <"$csv")" -gt 1 ] || rig_die "no measurement in $(rig_rel "$in")"
}

rig_bench() {
	local dir out csv png lat
	dir=$RIG_CACHE/bench/$(date +%Y%m%d-%H%M%S)
	mkdir -p "$dir"
	out=$dir/guest.log csv=$dir/results.csv png=$dir/loopback.png
	rig_bench_boot "$out"
	rig_bench_csv "$out" "$csv"
	gnuplot -e "csv='$csv'; out='$png'" "$RIG_ROOT/ci/bench/plot.gp" ||
		rig_die "gnuplot could not render $(rig_rel "$png")"
	ln -sfn "$(basename "$dir")" "$RIG_CACHE/bench/latest"
	rig_log "throughput (MB/s; ratio = loopback / memcpy of the same bytes; kernel_* = the host"
	rig_log "client's own time, first buffer queued to last completion; us = mean per start):"
	awk -F, "{ printf \"[rig]   %-9s %-6s %-7s %-10s %-9s %-10s %-7s %-11s %-7s %-9s %-8s %s\\n\", \$1, \$2, \$3, \$4, \$6, \$7, \$8, \$10, \$11, \$12, \$13, \$14 }" "$csv"
	lat=$(sed -n 's/.*# bench: latency,//p' "$out")
	rig_log "1-byte start latency: ${lat:-not measured}"
	rig_log "CSV:  $(rig_rel "$csv")"
	rig_log "plot: $(rig_rel "$png")"
}
