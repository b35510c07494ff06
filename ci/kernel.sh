# shellcheck shell=bash disable=SC2153 # TREE, BUILD, STATE, PROFILE come from ci/lib.sh
# Kernel configuration and build, out of tree in .cache/build/<profile>.
#
# The .config is tinyconfig + the profile's fragments (ci/config/*.config)
# merged by the kernel's scripts/kconfig/merge_config.sh, then olddefconfig.
# It is generated aside and copied over .cache/build/<profile>/.config only
# when it differs, so an unchanged configuration never triggers a rebuild.

rig_config_generate() {
	local new=$1
	shift
	rm -f "$new"
	KCONFIG_CONFIG=$new make -C "$TREE" O="$BUILD" "${KMAKE[@]}" tinyconfig
	(cd "$(dirname "$new")" && KCONFIG_CONFIG=$new "$TREE/scripts/kconfig/merge_config.sh" -m "$new" "$@")
	KCONFIG_CONFIG=$new make -C "$TREE" O="$BUILD" "${KMAKE[@]}" olddefconfig
}

# A cross profile needs Debian's cross toolchain (ci/setup.sh installs it).
rig_cross_check() {
	[ -z "$CROSS" ] || command -v "${CROSS}gcc" >/dev/null ||
		rig_die "${CROSS}gcc not found: PROFILE=$PROFILE cross-builds with Debian's gcc-${CROSS%-} (run 'make setup')"
}

rig_config() {
	local frags new bad
	read -r -a frags <<<"$(rig_profile_fragments "$PROFILE")"
	mkdir -p "$BUILD" "$STATE"
	new=$STATE/config.new
	rig_step "configuring ($PROFILE: tinyconfig + $(for f in "${frags[@]}"; do basename "$f"; done | paste -sd+))" \
		"$LOGDIR/config.log" rig_config_generate "$new" "${frags[@]}" "$RIG_OPTIONAL_FRAGMENT"
	rig_kconfig_symbols "$TREE" >"$STATE/kconfig-symbols"
	if ! bad=$(rig_verify_config "$new" "${frags[@]}" -- "$RIG_OPTIONAL_FRAGMENT" "$STATE/kconfig-symbols"); then
		printf '%s\n' "$bad" | sed 's/^/[rig]   /' >&2
		rig_die "$(printf '%s\n' "$bad" | wc -l) requested Kconfig symbols did not get their value (listed above; a missing dependency or a typo in ci/config/): generated config: $(rig_rel "$new"), log: $(rig_rel "$LOGDIR/config.log")"
	fi
	if cmp -s "$new" "$BUILD/.config"; then
		rig_log "config unchanged"
	else
		cp "$new" "$BUILD/.config"
		rig_log "config written to $(rig_rel "$BUILD/.config")"
	fi
}

rig_kernel() {
	rig_cross_check
	rig_config
	rig_step "building kernel ($PROFILE, ${KMAKE[*]:+${KMAKE[*]}, }-j$JOBS)" "$LOGDIR/kernel.log" \
		make -C "$TREE" O="$BUILD" "${KMAKE[@]}" -j"$JOBS" "${KIMAGE##*/}" modules
	if grep -qE '^  (CC|LD|AR|AS|CC \[M\]|LD \[M\]) ' "$LOGDIR/kernel.log"; then
		rig_log "kernel built in ${RIG_STEP_SECS} s: $(rig_rel "$BUILD/$KIMAGE")"
	else
		rig_log "kernel up to date (checked in ${RIG_STEP_SECS} s)"
	fi
}
