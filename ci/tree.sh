# shellcheck shell=bash disable=SC2153 # TREE, BUILD, STATE, PROFILE come from ci/lib.sh
# The kernel work tree: .cache/linux, a git repository whose first commit
# (tag "pristine") is the untouched source, with the series laid on top:
# the diff of every patch in patches/series (git apply) plus the repo paths
# the series lists (copied only when their content differs, so an edit of one
# driver recompiles only that driver).
#
# State kept in .cache/linux/.git/rig/:
#   source    where the pristine tree came from (Debian version or KSRC path)
#   patches   fingerprint of the patches applied (reset + re-apply on change)
#   overlay   files laid from the repo (removed when the series drops them)

rig_source_id() {
	if [ -n "$KSRC" ]; then
		echo "ksrc:$(cd "$KSRC" && pwd -P)"
	else
		echo "debian:linux-source-$SERIES:$(cat "$SRCDIR/linux-source-$SERIES.version")"
	fi
}

# Fills $1 (an empty directory) with the pristine source.
rig_tree_populate() {
	local dst=$1
	if [ -n "$KSRC" ]; then
		rsync -a --exclude=/.git "$KSRC"/ "$dst"/
	else
		tar -xJf "$SRCDIR/linux-source-$SERIES.tar.xz" -C "$dst" --strip-components=1
	fi
	git -C "$dst" init -q
	git -C "$dst" config gc.auto 0
	git -C "$dst" config core.autocrlf false
	git -C "$dst" add -A -f .
	git -C "$dst" -c user.name=rig -c user.email=rig@localhost commit -q -m "pristine: $2"
	git -C "$dst" tag pristine
	mkdir -p "$dst/.git/rig"
	echo "$2" >"$dst/.git/rig/source"
}

rig_tree_source() {
	if [ -z "$KSRC" ] && { [ ! -f "$SRCDIR/linux-source-$SERIES.tar.xz" ] ||
		[ ! -f "$SRCDIR/linux-source-$SERIES.version" ]; }; then
		"$RIG_ROOT/ci/setup.sh" source
	fi
	local id
	id=$(rig_source_id)
	if [ "$(cat "$TREE/.git/rig/source" 2>/dev/null)" != "$id" ]; then
		# Builds of another source would not notice what changed (the
		# new files may be older than the objects): start them afresh.
		rm -rf "$TREE" "$TREE.new" "$RIG_CACHE/build" "$RIG_CACHE/rig"
		mkdir -p "$TREE.new"
		rig_step "preparing the pristine kernel tree (${id#*:})" "$LOGDIR/tree.log" \
			rig_tree_populate "$TREE.new" "$id"
		mv "$TREE.new" "$TREE"
	fi
}

rig_series_fingerprint() {
	local p
	for p in "${SERIES_PATCHES[@]}"; do
		printf '%s %s\n' "$p" "$(sha256sum <"$RIG_ROOT/patches/$p" | cut -d' ' -f1)"
	done | sha256sum | cut -d' ' -f1
}

# Applies the patches of the series to tree $1 (reset to pristine first when
# the set of patches changed) and lays the repo paths over it.
rig_tree_series() {
	local tree=$1 state=$1/.git/rig want p n=0 log=${LOGDIR:-/tmp}/series.log
	rig_read_series "$RIG_ROOT"
	mkdir -p "$state"
	want=$(rig_series_fingerprint)
	if [ "$(cat "$state/patches" 2>/dev/null)" != "$want" ]; then
		git -C "$tree" reset -q --hard pristine
		rm -f "$state/patches"
		: >"$log"
		for p in "${SERIES_PATCHES[@]}"; do
			rig_has_diff "$RIG_ROOT/patches/$p" || continue
			if ! git -C "$tree" apply --whitespace=nowarn "$RIG_ROOT/patches/$p" >>"$log" 2>&1; then
				cat "$log" >&2
				rig_die "patches/$p does not apply on top of the patches before it (pristine ${SERIES} tree): rebase it; log: $(rig_rel "$log")"
			fi
			n=$((n + 1))
		done
		echo "$want" >"$state/patches"
		rig_log "series: applied $n patch diffs of ${#SERIES_PATCHES[@]} patches (tree reset to pristine first)"
	fi
	rig_tree_overlay "$tree"
}

rig_tree_overlay() {
	local tree=$1 state=$1/.git/rig f src dst copied=0 removed=0
	rig_series_files "$RIG_ROOT" "${SERIES_PATHS[@]}" >"$state/overlay.new"
	while IFS= read -r f; do
		src=$RIG_ROOT/$f
		dst=$tree/$f
		if [ ! -f "$dst" ] || ! cmp -s "$src" "$dst"; then
			mkdir -p "$(dirname "$dst")"
			rm -f "$dst"
			cp "$src" "$dst"
			copied=$((copied + 1))
		fi
		if [ -x "$src" ] && [ ! -x "$dst" ]; then
			chmod 755 "$dst"
		elif [ ! -x "$src" ] && [ -x "$dst" ]; then
			chmod 644 "$dst"
		fi
	done <"$state/overlay.new"
	if [ -f "$state/overlay" ]; then
		while IFS= read -r f; do
			if git -C "$tree" cat-file -e "pristine:$f" 2>/dev/null; then
				git -C "$tree" checkout -q pristine -- "$f"
			else
				rm -f "$tree/$f"
				rmdir -p --ignore-fail-on-non-empty "$(dirname "$tree/$f")" 2>/dev/null || true
			fi
			removed=$((removed + 1))
		done < <(sort "$state/overlay" | comm -23 - "$state/overlay.new")
	fi
	mv "$state/overlay.new" "$state/overlay"
	if [ $copied -gt 0 ] || [ $removed -gt 0 ]; then
		rig_log "series: $copied repo files laid into the tree, $removed dropped ($(wc -l <"$state/overlay") listed)"
	fi
}

rig_tree() {
	rig_tree_source
	rig_tree_series "$TREE"
}
