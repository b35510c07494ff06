# shellcheck shell=bash disable=SC2153 # TREE, BUILD, STATE, PROFILE come from ci/lib.sh
# make patches: replays patches/series as commits on top of the pristine tree
# (message and author from each mbox through git mailinfo, the diff through
# git apply, then the repo paths the patch lists) and writes git format-patch
# output to .cache/patches (or OUT=). The commits are built in a private index
# of the work tree's repository: no checkout, the work tree is not touched.
# The result stays at branch "series" of .cache/linux.
# make checkpatch: scripts/checkpatch.pl --strict on those patches.

rig_patches_replay() {
	local tmp=$1 parent commit p path f n=0 mode blob
	local info subject author email date
	export GIT_DIR=$TREE/.git GIT_INDEX_FILE=$tmp/index
	git read-tree pristine
	parent=$(git rev-parse pristine)
	rig_read_series "$RIG_ROOT"
	local -a words
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		read -r -a words <<<"$line"
		[ ${#words[@]} -gt 0 ] || continue
		p=${words[0]}
		n=$((n + 1))
		info=$(git mailinfo "$tmp/msg" "$tmp/patch" <"$RIG_ROOT/patches/$p") ||
			rig_die "git mailinfo cannot read patches/$p: is it an mbox from git format-patch?"
		subject=$(sed -n 's/^Subject: //p' <<<"$info")
		author=$(sed -n 's/^Author: //p' <<<"$info")
		email=$(sed -n 's/^Email: //p' <<<"$info")
		date=$(sed -n 's/^Date: //p' <<<"$info")
		if [ -z "$subject" ] || [ -z "$author" ] || [ -z "$email" ]; then
			rig_die "patches/$p has no Subject/From header: write it with git format-patch"
		fi
		if rig_has_diff "$RIG_ROOT/patches/$p"; then
			git apply --cached --whitespace=nowarn "$RIG_ROOT/patches/$p" ||
				rig_die "patches/$p does not apply on top of the patches before it"
		fi
		for path in "${words[@]:1}"; do
			while IFS= read -r f; do
				mode=100644
				[ -x "$RIG_ROOT/$f" ] && mode=100755
				blob=$(git hash-object -w "$RIG_ROOT/$f")
				git update-index --add --cacheinfo "$mode,$blob,$f"
			done < <(rig_series_files "$RIG_ROOT" "${path%/}")
		done
		{
			printf '%s\n\n' "$subject"
			cat "$tmp/msg"
		} >"$tmp/commitmsg"
		commit=$(GIT_AUTHOR_NAME=$author GIT_AUTHOR_EMAIL=$email GIT_AUTHOR_DATE=$date \
			GIT_COMMITTER_NAME=$author GIT_COMMITTER_EMAIL=$email GIT_COMMITTER_DATE=$date \
			git commit-tree "$(git write-tree)" -p "$parent" -F "$tmp/commitmsg")
		parent=$commit
		echo "rig: $n $p -> $(git log -1 --format='%h %s' "$commit")"
	done <"$RIG_ROOT/patches/series"
	git update-ref refs/heads/series "$parent"
	rm -f "$OUT"/*.patch
	mkdir -p "$OUT"
	git format-patch -q -o "$OUT" pristine..series
}

rig_patches() {
	OUT=${OUT:-$RIG_CACHE/patches}
	case $OUT in /*) ;; *) OUT=$RIG_ROOT/$OUT ;; esac
	[ -f "$RIG_ROOT/patches/series" ] || rig_die "patches/series does not exist: nothing to replay"
	local tmp
	tmp=$(mktemp -d)
	rig_step "replaying patches/series as commits" "$LOGDIR/patches.log" rig_patches_replay "$tmp"
	rm -rf "$tmp"
	sed -n 's/^rig: /[rig]   /p' "$LOGDIR/patches.log"
	rig_log "$(find "$OUT" -maxdepth 1 -name '*.patch' | wc -l) patches in $(rig_rel "$OUT") (commits: branch 'series' of $(rig_rel "$TREE"))"
}

rig_checkpatch() {
	local rc=0 log=$LOGDIR/checkpatch.log
	local -a files
	mapfile -t files < <(find "$OUT" -maxdepth 1 -name '*.patch' | sort)
	[ ${#files[@]} -gt 0 ] || rig_die "no patch in $(rig_rel "$OUT") to check"
	rig_log "checkpatch --strict on ${#files[@]} patches ... log: $(rig_rel "$log")"
	(cd "$TREE" && ./scripts/checkpatch.pl --strict "${files[@]}") >"$log" 2>&1 || rc=$?
	cat "$log"
	[ $rc -eq 0 ] || rig_die "checkpatch found problems (above; log: $(rig_rel "$log"))"
	rig_log "checkpatch: clean"
}
