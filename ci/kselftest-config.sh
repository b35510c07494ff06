# shellcheck shell=bash disable=SC2153 # TREE, RIG_CACHE, LOGDIR come from ci/lib.sh
# The kselftest users' configuration: x86_64_defconfig, then the kernel's
# "make kselftest-merge" (it merges every tools/testing/selftests/*/config
# with merge_config.sh -y, then runs olddefconfig), in a scratch O= directory
# of the rig's tree, laid with the series. Configuration only, no build.
#
# Two checks:
#   - every line of tools/testing/selftests/mhi/config holds in the result
#     (=y: y; =m: m or y, since -y lets another fragment's y win; "is not
#     set": off; other values exactly), so that such a kernel runs the suite
#     instead of skipping it;
#   - that file asks for everything the suite needs: each CONFIG_MHI_* symbol
#     the rig's profiles request (ci/config/base.config and optional.config)
#     and RIG_KSELFTEST_NEEDS below, so that dropping a line fails.

# debugfs (the evidence and the link's knobs), loading and unloading modules,
# KUnit (the link's register model tests, which the rig's verdict requires),
# runtime PM (the link's suspend to M3, the pm group)
RIG_KSELFTEST_NEEDS="CONFIG_DEBUG_FS CONFIG_MODULES CONFIG_MODULE_UNLOAD CONFIG_KUNIT CONFIG_PM"

# rig_kselftest_unmet FRAGMENT CONFIG: one line per line of FRAGMENT that
# CONFIG does not satisfy; fails if there is any.
rig_kselftest_unmet() {
	awk -v frag="$1" '
	{ sub(/\r$/, "") }
	FILENAME == frag {
		if ($0 ~ /^CONFIG_[A-Za-z0-9_]+=/) {
			s = $0; sub(/=.*/, "", s); v = $0; sub(/^[^=]*=/, "", v)
		} else if ($0 ~ /^# CONFIG_[A-Za-z0-9_]+ is not set/) {
			s = $2; v = "n"
		} else
			next
		want[s] = v; order[++n] = s
		next
	}
	/^CONFIG_[A-Za-z0-9_]+=/ { s = $0; sub(/=.*/, "", s); v = $0; sub(/^[^=]*=/, "", v); have[s] = v }
	END {
		bad = 0
		for (i = 1; i <= n; i++) {
			s = order[i]; w = want[s]; g = (s in have) ? have[s] : "n"
			ok = (g == w) || (w == "m" && g == "y")
			if (!ok) {
				printf "%s=%s asked by tools/testing/selftests/mhi/config, got %s\n", s, w, g
				bad = 1
			}
		}
		exit bad
	}' "$1" "$2"
}

# rig_kselftest_uncovered FRAGMENT: the symbols the suite needs that FRAGMENT
# does not ask for; fails if there is any.
rig_kselftest_uncovered() {
	local s bad=0
	for s in $RIG_KSELFTEST_NEEDS $(sed -n -E 's/^(CONFIG_MHI_[A-Za-z0-9_]+)=.*/\1/p' \
		"$RIG_ROOT/ci/config/base.config" "$RIG_OPTIONAL_FRAGMENT" | sort -u); do
		if ! grep -q -E "^$s=" "$1"; then
			echo "$s: the suite needs it, tools/testing/selftests/mhi/config does not ask for it"
			bad=1
		fi
	done
	return $bad
}

rig_kselftest_merge() {
	make -C "$TREE" O="$1" x86_64_defconfig && make -C "$TREE" O="$1" kselftest-merge
}

rig_kselftest_config() {
	local out=$RIG_CACHE/build/kselftest-merge frag=$TREE/tools/testing/selftests/mhi/config
	local log=$LOGDIR/kselftest-merge.log bad
	[ -f "$frag" ] ||
		rig_die "no tools/testing/selftests/mhi/config in the tree $(rig_rel "$TREE"): is the selftest listed in patches/series?"
	if ! bad=$(rig_kselftest_uncovered "$frag"); then
		printf '%s\n' "$bad" | sed 's/^/[rig]   /' >&2
		rig_die "tools/testing/selftests/mhi/config misses what the suite needs (listed above): add the lines"
	fi
	rm -rf "$out"
	mkdir -p "$out"
	rig_step "x86_64_defconfig + make kselftest-merge (scratch O=$(rig_rel "$out"))" "$log" \
		rig_kselftest_merge "$out"
	if ! bad=$(rig_kselftest_unmet "$frag" "$out/.config"); then
		printf '%s\n' "$bad" | sed 's/^/[rig]   /' >&2
		rig_die "a kernel made with make kselftest-merge would skip the mhi suite: $(printf '%s\n' "$bad" | wc -l) line(s) of tools/testing/selftests/mhi/config do not hold (listed above; add the missing dependency to that file); config: $(rig_rel "$out/.config"), log: $(rig_rel "$log")"
	fi
	rig_log "kselftest-merge: the $(grep -c -E '^CONFIG_|^# CONFIG_.* is not set' "$frag") lines of tools/testing/selftests/mhi/config hold in $(rig_rel "$out/.config") (${RIG_STEP_SECS} s)"
}
