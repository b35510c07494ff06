# shellcheck shell=bash disable=SC2153 # TREE, BUILD, STATE, PROFILE come from ci/lib.sh
# make patches: replays patches/series as commits on top of the pristine tree
# (subject, message and date from each mbox through git mailinfo, the diff
# through git apply, then the repo paths the patch lists) and writes git
# format-patch output, with a cover letter made from patches/cover-letter.txt,
# to .cache/patches (or OUT=). The commits are built in a private index of the
# work tree's repository: no checkout, the work tree is not touched. The result
# stays at branch "series" of .cache/linux.
#
# Author, committer and Signed-off-by are the exporter's: GIT_AUTHOR_NAME and
# GIT_AUTHOR_EMAIL, else git config user.name/user.email of this repo. An
# unset or placeholder-looking identity (a reserved domain such as *.example,
# or a noreply address) stops the export. Signed-off-by lines of such
# identities in the stored mboxes (the repo's own placeholder) are dropped.
# RIG_TEST_IDENTITY="Name <addr@host.invalid>" replaces the exporter for
# checks (make check): it must use a reserved domain, so that it can never
# pass for a real person.
#
# make checkpatch: scripts/checkpatch.pl --strict on those patches.

# True if e-mail address $1 cannot belong to a person who signs off patches.
rig_identity_placeholder() {
	local email=${1,,} domain
	case $email in *@*) ;; *) return 0 ;; esac
	case $email in *' '* | *noreply* | *no-reply* | *no_reply*) return 0 ;; esac
	domain=${email##*@}
	case $domain in
	example | *.example | invalid | *.invalid | test | *.test | localhost | *.localhost | \
		example.com | *.example.com | example.org | *.example.org | example.net | *.example.net | \
		localdomain | *.localdomain)
		return 0
		;;
	esac
	return 1
}

# Sets RIG_ID_NAME and RIG_ID_EMAIL to the exporter's identity, or stops with
# one line saying what to set.
rig_patches_identity() {
	local name email
	if [ -n "${RIG_TEST_IDENTITY:-}" ]; then
		name=${RIG_TEST_IDENTITY%% <*}
		email=${RIG_TEST_IDENTITY##*<}
		email=${email%>}
		if [ "$name" = "$RIG_TEST_IDENTITY" ] || [ -z "$name" ] || [ "$email$name" = "$RIG_TEST_IDENTITY" ] ||
			! rig_identity_placeholder "$email" || [[ ${email,,} == *noreply* ]]; then
			rig_die "RIG_TEST_IDENTITY='$RIG_TEST_IDENTITY' must be 'Name <address>' with a reserved domain such as .invalid (it is for checks only; unset it to export as yourself)"
		fi
		RIG_ID_NAME=$name RIG_ID_EMAIL=$email
		return 0
	fi
	name=${GIT_AUTHOR_NAME:-$(git -C "$RIG_ROOT" config user.name 2>/dev/null || true)}
	email=${GIT_AUTHOR_EMAIL:-$(git -C "$RIG_ROOT" config user.email 2>/dev/null || true)}
	if [ -z "$name" ] || [ -z "$email" ]; then
		rig_die "make patches signs the patches as you, but your git identity is not set: run git config user.name 'Your Name' and git config user.email 'you@your.domain' (or set GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL)"
	fi
	if rig_identity_placeholder "$email"; then
		rig_die "make patches refuses the placeholder identity '$name <$email>' (a reserved or noreply address cannot sign off a patch): set yours with git config user.name/user.email in $RIG_ROOT or GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL"
	fi
	RIG_ID_NAME=$name RIG_ID_EMAIL=$email
}

# Message of a stored mbox ($2, from git mailinfo) with the exporter's
# Signed-off-by in place of the placeholder's, written to $3.
rig_patches_message() {
	local p=$1 msg=$2 out=$3 line who
	local sob="Signed-off-by: $RIG_ID_NAME <$RIG_ID_EMAIL>"
	: >"$out.body"
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		Signed-off-by:*)
			who=${line#Signed-off-by:}
			who=${who#"${who%%[! ]*}"}
			if [ "$line" = "$sob" ]; then
				continue
			fi
			if [[ $who =~ \<([^>]*)\> ]] && rig_identity_placeholder "${BASH_REMATCH[1]}"; then
				continue
			fi
			;;
		esac
		if [[ $line =~ ^[A-Za-z-]+-by:.*\<([^>]*)\> ]] && rig_identity_placeholder "${BASH_REMATCH[1]}"; then
			rig_die "patches/$p has the placeholder-looking trailer '$line': replace it with a real identity or remove it"
		fi
		printf '%s\n' "$line" >>"$out.body"
	done <"$msg"
	git interpret-trailers --trailer "$sob" <"$out.body" >"$out"
	rm -f "$out.body"
}

rig_patches_replay() {
	local tmp=$1 parent commit p path f n=0 mode blob
	local info subject date
	export GIT_DIR=$TREE/.git GIT_INDEX_FILE=$tmp/index
	# Commits and the cover letter are the exporter's, whatever git config says
	export GIT_AUTHOR_NAME=$RIG_ID_NAME GIT_AUTHOR_EMAIL=$RIG_ID_EMAIL
	export GIT_COMMITTER_NAME=$RIG_ID_NAME GIT_COMMITTER_EMAIL=$RIG_ID_EMAIL
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
		date=$(sed -n 's/^Date: //p' <<<"$info")
		[ -n "$subject" ] || rig_die "patches/$p has no Subject header: write it with git format-patch"
		[ -n "$date" ] || date=$(date -R)
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
			rig_patches_message "$p" "$tmp/msg" "$tmp/trailered"
			cat "$tmp/trailered"
		} >"$tmp/commitmsg"
		commit=$(GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
			git commit-tree "$(git write-tree)" -p "$parent" -F "$tmp/commitmsg")
		parent=$commit
		echo "rig: $n $p -> $(git log -1 --format='%h %s' "$commit")"
	done <"$RIG_ROOT/patches/series"
	git update-ref refs/heads/series "$parent"
	rm -f "$OUT"/*.patch
	mkdir -p "$OUT"
	rig_patches_cover "$tmp/cover" "$n"
	git format-patch -q --cover-letter --subject-prefix="$RIG_COVER_PREFIX" -o "$OUT" pristine..series
	rig_patches_fill_cover "$OUT/0000-cover-letter.patch" "$tmp/cover"
	rig_patches_verify "$OUT"
}

# Reads patches/cover-letter.txt into $1.subject and $1.body (lines starting
# with '#' dropped, @BASE@ replaced by the kernel the series applies to) and
# sets RIG_COVER_PREFIX from its "Version:" line.
rig_patches_cover() {
	local out=$1 file=$RIG_ROOT/patches/cover-letter.txt version subject base
	[ -f "$file" ] || rig_die "patches/cover-letter.txt does not exist: make patches needs the cover text"
	version=$(sed -n 's/^Version: *//p' "$file" | head -n 1)
	subject=$(sed -n 's/^Subject: *//p' "$file" | head -n 1)
	case $version in '' | *[!0-9]*) rig_die "patches/cover-letter.txt needs a 'Version: <number>' line" ;; esac
	[ -n "$subject" ] || rig_die "patches/cover-letter.txt needs a 'Subject: <text>' line"
	RIG_COVER_PREFIX="PATCH v$version"
	base=$(awk -F' *= *' '$1 ~ /^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)$/ { v[$1] = $2 }
		END { s = v["VERSION"] "." v["PATCHLEVEL"]; if (v["SUBLEVEL"] != "") s = s "." v["SUBLEVEL"]; print s v["EXTRAVERSION"] }' "$TREE/Makefile")
	base="Linux $base ($(cut -d: -f2- "$TREE/.git/rig/source" 2>/dev/null || echo "source unknown"))"
	printf '%s\n' "$subject" >"$out.subject"
	grep -v '^#' "$file" | sed '1,/^$/d' | sed "s|@BASE@|$base|g" >"$out.body"
}

# Puts the subject and body of $2 into the cover letter $1 from format-patch.
rig_patches_fill_cover() {
	local letter=$1 cover=$2
	grep -q '^\*\*\* BLURB HERE \*\*\*$' "$letter" ||
		rig_die "$(rig_rel "$letter") has no blurb to fill: is git format-patch --cover-letter output different?"
	awk -v subjfile="$cover.subject" -v bodyfile="$cover.body" '
	BEGIN { getline subject <subjfile }
	/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, subject) }
	/^\*\*\* BLURB HERE \*\*\*$/ {
		while ((getline l <bodyfile) > 0) print l
		next
	}
	{ print }' "$letter" >"$letter.new"
	mv "$letter.new" "$letter"
}

# The exported files carry the exporter's identity and nothing that looks
# like a placeholder in From: or in a -by: trailer.
rig_patches_verify() {
	local out=$1 bad addr
	bad=$(grep -HnE '^(From: |[A-Za-z-]+-by: )' "$out"/*.patch |
		while IFS= read -r l; do
			addr=$(sed -n 's/.*<\([^>]*\)>.*/\1/p' <<<"$l")
			if [ -n "$addr" ] && rig_identity_placeholder "$addr" && [ "$addr" != "$RIG_ID_EMAIL" ]; then
				echo "$l"
			fi
		done)
	[ -z "$bad" ] || rig_die "exported patches still carry a placeholder identity: $bad"
	grep -L "^From: .*<$RIG_ID_EMAIL>" "$out"/*.patch | grep -q . &&
		rig_die "some exported patches are not from $RIG_ID_EMAIL: $(grep -L "^From: .*<$RIG_ID_EMAIL>" "$out"/*.patch | xargs -n1 basename | paste -sd' ')"
	return 0
}

rig_patches() {
	OUT=${OUT:-$RIG_CACHE/patches}
	case $OUT in /*) ;; *) OUT=$RIG_ROOT/$OUT ;; esac
	[ -f "$RIG_ROOT/patches/series" ] || rig_die "patches/series does not exist: nothing to replay"
	rig_patches_identity
	local tmp
	tmp=$(mktemp -d)
	rig_step "replaying patches/series as commits" "$LOGDIR/patches.log" rig_patches_replay "$tmp"
	rm -rf "$tmp"
	sed -n 's/^rig: /[rig]   /p' "$LOGDIR/patches.log"
	[ -z "${RIG_TEST_IDENTITY:-}" ] ||
		rig_warn "signed by the test identity $RIG_TEST_IDENTITY: these patches are for checks, not for sending"
	rig_log "$(find "$OUT" -maxdepth 1 -name '*.patch' | wc -l) files (cover letter included) in $(rig_rel "$OUT"), from $RIG_ID_NAME <$RIG_ID_EMAIL> (commits: branch 'series' of $(rig_rel "$TREE"))"
}

rig_checkpatch() {
	local rc=0 log=$LOGDIR/checkpatch.log
	local -a files
	mapfile -t files < <(find "$OUT" -maxdepth 1 -name '*.patch' ! -name '0000-cover-letter.patch' | sort)
	[ ${#files[@]} -gt 0 ] || rig_die "no patch in $(rig_rel "$OUT") to check"
	rig_log "checkpatch --strict on ${#files[@]} patches ... log: $(rig_rel "$log")"
	(cd "$TREE" && ./scripts/checkpatch.pl --strict "${files[@]}") >"$log" 2>&1 || rc=$?
	cat "$log"
	[ $rc -eq 0 ] || rig_die "checkpatch found problems (above; log: $(rig_rel "$log"))"
	rig_log "checkpatch: clean"
}
