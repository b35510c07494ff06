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
	if rig_tree_carries_series "$tree"; then
		return 0
	fi
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

# A KSRC that already carries the series (the output of make patches applied
# with git am, say) is tested as it is: nothing is applied or laid over it.
# It carries the series when every file the series lays is in its pristine
# commit and every patch diff of the series can be reversed from it, last
# first (checked in a scratch index, the tree is not touched). Returns 1 when
# the tree carries none of the series' files; stops when it carries a part.
rig_tree_carries_series() {
	local tree=$1 state=$1/.git/rig f have=0 missing=() differ=0 idx i p
	[ -n "$KSRC" ] || return 1
	while IFS= read -r f; do
		if git -C "$tree" cat-file -e "pristine:$f" 2>/dev/null; then
			have=$((have + 1))
			git -C "$tree" show "pristine:$f" | cmp -s - "$RIG_ROOT/$f" || differ=$((differ + 1))
		else
			missing+=("$f")
		fi
	done < <(rig_series_files "$RIG_ROOT" "${SERIES_PATHS[@]}")
	[ "$have" -gt 0 ] || return 1
	[ ${#missing[@]} -eq 0 ] ||
		rig_die "KSRC carries part of the series: ${missing[0]} (and $((${#missing[@]} - 1)) more of the files the series adds) is missing: apply the whole series (make patches, git am) or use a tree without it"
	if [ "$(cat "$state/patches" 2>/dev/null)" = carried ]; then
		return 0
	fi
	idx=$(mktemp)
	GIT_INDEX_FILE=$idx git -C "$tree" read-tree pristine
	for ((i = ${#SERIES_PATCHES[@]} - 1; i >= 0; i--)); do
		p=${SERIES_PATCHES[i]}
		rig_has_diff "$RIG_ROOT/patches/$p" || continue
		if ! GIT_INDEX_FILE=$idx git -C "$tree" apply --cached -R "$RIG_ROOT/patches/$p" 2>/dev/null; then
			rm -f "$idx"
			rig_die "KSRC carries the series' files but not patches/$p (its diff does not reverse from KSRC): apply the series as make patches exports it"
		fi
	done
	rm -f "$idx"
	git -C "$tree" reset -q --hard pristine
	rm -f "$state/overlay"
	echo carried >"$state/patches"
	rig_log "series: KSRC already carries it ($have files; $differ differ from this repo's copies): tested as it is, nothing applied or laid"
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
