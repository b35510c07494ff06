#!/usr/bin/env bash
# make static: static checks of the series, on the exported patches and on
# the files the series adds or changes (drivers and selftest), in that order:
#   checkpatch --strict   every exported patch: no error, warning or check
#   W=1                   every kernel C file of the directories the series
#                         adds or changes C files in: no compiler warning
#   sparse (C=2)          the same files: no sparse warning
#   coccicheck            the kernel C files and headers of the series,
#                         MODE=report: no finding
#   kernel-doc -Wall      every C file and header: no warning
#   get_abi.py validate   the ABI files the series adds: no warning
# All of them run; the script fails if any of them found something.
#
# Nothing is built but the checked objects: they are compiled as an external
# module build (M=<their directory>) against the rig's tree and the build
# directory of PROFILE (make kernel must have run), with MO= a scratch
# directory, so the rig's own objects are not touched.
#
# The patches are exported like make patches, but signed by the test identity
# RIG_TEST_IDENTITY (default: "MHI rig static check
# <static-check@mhi-rig.invalid>") and written to .cache/static/patches: they
# are for checking, not for sending.
#
# The sparse of Debian bookworm cannot parse Linux 7.2 (no __typeof_unqual__):
# if the tree's scripts/checker-valid.sh refuses the system's sparse, the
# sparse source package of Debian sid is built once into .cache/tools/sparse.
set -euo pipefail
ci=$(dirname "$0")
# shellcheck source=ci/lib.sh
. "$ci/lib.sh"
# shellcheck source=ci/tree.sh
. "$ci/tree.sh"
# shellcheck source=ci/patches.sh
. "$ci/patches.sh"

msg=$(rig_validate) || rig_die "$msg"
rig_paths
rig_lock
rig_logdir
START=$(rig_now)
STATIC=$RIG_CACHE/static
export RIG_TEST_IDENTITY=${RIG_TEST_IDENTITY:-MHI rig static check <static-check@mhi-rig.invalid>}
FAILED=()
SUMMARY=()

# --- the tools ---------------------------------------------------------------

rig_static_build_sparse() {
	local dest=$1 apt=$RIG_CACHE/apt-src src
	local key=/usr/share/keyrings/debian-archive-keyring.gpg
	local -a opts=(
		-o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=/dev/null"
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache::archives=$apt/archives"
		-o "Dir::Cache::pkgcache=$apt/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$apt/srcpkgcache.bin"
		-o "Acquire::Languages=none" -o "APT::Sandbox::User=root"
	)
	rm -rf "$apt/build"
	mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/build"
	echo "deb-src [signed-by=$key] http://deb.debian.org/debian sid main" >"$apt/sources.list"
	apt-get "${opts[@]}" update
	(cd "$apt/build" && apt-get "${opts[@]}" source --download-only sparse)
	tar -xzf "$apt"/build/sparse_*.orig.tar.gz -C "$apt/build"
	src=$(find "$apt/build" -mindepth 1 -maxdepth 1 -type d -name 'sparse*' | head -n 1)
	make -C "$src" -j"$JOBS" sparse HAVE_LIBXML=no HAVE_SQLITE=no HAVE_GTK=no HAVE_LLVM=no
	mkdir -p "$dest"
	cp "$src/sparse" "$dest/sparse"
}

# Sets SPARSE to a sparse that the tree's scripts/checker-valid.sh accepts.
rig_static_sparse() {
	local tools=$RIG_CACHE/tools/sparse cand
	for cand in sparse "$tools/sparse"; do
		command -v "$cand" >/dev/null 2>&1 || continue
		if [ "$(sh "$TREE/scripts/checker-valid.sh" "$cand" -m64 -mlittle-endian 2>/dev/null)" = 1 ]; then
			SPARSE=$(command -v "$cand")
			return 0
		fi
	done
	rig_step "building sparse from Debian sid's source (the system's cannot parse this kernel)" \
		"$LOGDIR/sparse-build.log" rig_static_build_sparse "$tools"
	[ "$(sh "$TREE/scripts/checker-valid.sh" "$tools/sparse" -m64 -mlittle-endian 2>/dev/null)" = 1 ] ||
		rig_die "the sparse built in $(rig_rel "$tools") cannot parse this kernel either (scripts/checker-valid.sh); log: $(rig_rel "$LOGDIR/sparse-build.log")"
	SPARSE=$tools/sparse
}

# --- reporting ---------------------------------------------------------------

# rig_static_verdict NAME LOG RC FINDINGS: records one check; FINDINGS is the
# text of the findings (empty when clean).
rig_static_verdict() {
	local name=$1 log=$2 rc=$3 findings=$4 n=0
	[ -z "$findings" ] || n=$(printf '%s\n' "$findings" | wc -l)
	if [ "$rc" -eq 0 ] && [ "$n" -eq 0 ]; then
		rig_log "static: $name: clean"
		SUMMARY+=("$(printf '%-28s ok' "$name")")
		return 0
	fi
	[ "$n" -eq 0 ] || printf '%s\n' "$findings" | head -n 40 | sed 's/^/[rig]   /'
	rig_log "static: $name: FAILED ($n findings, exit $rc; log: $(rig_rel "$log"))"
	SUMMARY+=("$(printf '%-28s FAILED (%s findings)' "$name" "$n")")
	FAILED+=("$name")
}

# --- the checks --------------------------------------------------------------

# checkpatch cannot look up the commits of Fixes: tags in a tree without
# upstream history: UNKNOWN_COMMIT_ID is left to static_commit_refs. Its
# SPDX check runs scripts/spdxcheck.py, which needs Debian's python3 (with
# python3-ply and python3-git) ahead of any other python3 on PATH.
static_checkpatch() {
	local log=$LOGDIR/static-checkpatch.log rc=0 findings
	local -a files
	mapfile -t files < <(find "$OUT" -maxdepth 1 -name '*.patch' ! -name '0000-cover-letter.patch' | sort)
	[ ${#files[@]} -gt 0 ] || rig_die "no patch in $(rig_rel "$OUT") to check"
	(cd "$TREE" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --color=never \
		--ignore UNKNOWN_COMMIT_ID "${files[@]}") >"$log" 2>&1 || rc=$?
	findings=$(grep -E '^(ERROR|WARNING|CHECK):|Traceback|ModuleNotFoundError' "$log" || true)
	[ "$(grep -cE '^total: [0-9]+ errors' "$log")" -eq ${#files[@]} ] ||
		findings+="${findings:+$'\n'}checkpatch did not report on every patch"
	rig_static_verdict "checkpatch --strict (${#files[@]})" "$log" "$rc" "$findings"
	static_commit_refs "${files[@]}"
}

# Every Fixes: <id> ("<title>") and commit <id> ("<title>") of the patches
# names a commit of patches/upstream-commits.txt, with its exact subject.
static_commit_refs() {
	local log=$LOGDIR/static-commits.log list=$RIG_ROOT/patches/upstream-commits.txt findings
	[ -f "$list" ] || rig_die "patches/upstream-commits.txt is missing: it lists the upstream commits the series names"
	findings=$(awk -v list="$list" '
	BEGIN {
		while ((getline l <list) > 0) {
			if (l ~ /^#/ || l == "") continue
			id = substr(l, 1, 40); title[id] = substr(l, 42)
		}
	}
	FNR == 1 { inmsg = 1; file = FILENAME; sub(/.*\//, "", file) }
	/^---$/ { inmsg = 0 }
	inmsg && match($0, /(^[Ff]ixes:|[Cc]ommit) +[0-9a-f]+( +\("[^"]*"\))?/) {
		ref = substr($0, RSTART, RLENGTH); n++
		sub(/^[^ ]+ +/, "", ref); id = ref; sub(/ .*/, "", id)
		t = ref; if (!sub(/^[0-9a-f]+ +\("/, "", t)) t = ""; else sub(/"\)$/, "", t)
		ok = 0
		for (k in title) if (index(k, id) == 1 && length(id) >= 12 && title[k] == t) ok = 1
		if (!ok) printf "%s: %s: not a commit of patches/upstream-commits.txt with that exact title (12+ characters of its id)\n", file, $0
	}
	END { print "checked " n " references" >"/dev/stderr" }' "$@" 2>"$log")
	rig_static_verdict "Fixes:/commit references" "$log" 0 "$findings"
}

# Kernel C files: compiled with W=1, then checked by sparse (C=2 checks
# objects that are up to date), as an external module build of their
# common directory.
static_compile() {
	local dir=$1 obj=$STATIC/obj rc log findings
	shift
	local -a objs=()
	local f
	for f in "$@"; do objs+=("${f#"$dir"/}"); done
	objs=("${objs[@]/%.c/.o}")
	rm -rf "$obj"
	mkdir -p "$obj"
	local -a mk=(make -C "$TREE" O="$BUILD" M="$dir" MO="$obj" -j"$JOBS" W=1)

	log=$LOGDIR/static-w1.log rc=0
	"${mk[@]}" "${objs[@]}" >"$log" 2>&1 || rc=$?
	findings=$(grep -E '(warning|error):' "$log" || true)
	[ "$(grep -cE '^ +CC( \[M\])? ' "$log")" -eq ${#objs[@]} ] ||
		findings+="${findings:+$'\n'}not every file was compiled ($(grep -cE '^ +CC( \[M\])? ' "$log") of ${#objs[@]})"
	rig_static_verdict "W=1 (${#objs[@]} files)" "$log" "$rc" "$findings"

	log=$LOGDIR/static-sparse.log rc=0
	"${mk[@]}" C=2 CHECK="$SPARSE" "${objs[@]}" >"$log" 2>&1 || rc=$?
	findings=$(grep -E '(warning|error):|not available or not up to date' "$log" || true)
	[ "$(grep -cE '^ +CHECK ' "$log")" -eq ${#objs[@]} ] ||
		findings+="${findings:+$'\n'}sparse did not check every file ($(grep -cE '^ +CHECK ' "$log") of ${#objs[@]})"
	rig_static_verdict "sparse C=2 (${#objs[@]} files)" "$log" "$rc" "$findings"
}

# A file that upstream already has may carry findings of its own (host/pm.c
# does): as for kernel-doc, only the findings the series adds count, compared
# by file and message without positions, with the file as it is in the
# pristine tree.
static_coccicheck() {
	local dir=$STATIC/cocci log=$LOGDIR/static-cocci.log rc=0 findings f
	local old=$STATIC/cocci-pristine oldlog=$LOGDIR/static-cocci-pristine.log
	local -a upstream=()
	rm -rf "$dir" "$old"
	for f in "$@"; do
		mkdir -p "$dir/$(dirname "$f")"
		cp "$TREE/$f" "$dir/$f"
		git -C "$TREE" cat-file -e "pristine:$f" 2>/dev/null || continue
		mkdir -p "$old/$(dirname "$f")"
		git -C "$TREE" show "pristine:$f" >"$old/$f"
		upstream+=("$f")
	done
	make -C "$TREE" O="$BUILD" coccicheck MODE=report M="$dir" J="$JOBS" >"$log" 2>&1 || rc=$?
	: >"$oldlog"
	if [ ${#upstream[@]} -gt 0 ]; then
		make -C "$TREE" O="$BUILD" coccicheck MODE=report M="$old" J="$JOBS" >"$oldlog" 2>&1 || true
	fi
	findings=$(comm -13 <(static_cocci_findings <"$oldlog") <(static_cocci_findings <"$log"))
	rig_static_verdict "coccicheck ($# files, ${#upstream[@]} upstream)" "$log" "$rc" "$findings"
}

static_cocci_findings() {
	grep -E '^\./[^ ]+\.[ch]:[0-9]+' | sed -E 's/^([^ :]+\.[ch])(:[0-9]+(-[0-9]+)?)+:/\1:/' | sort || true
}

# kernel-doc -Wall on every file the series adds or changes. A file that
# upstream already has may carry warnings of its own (include/linux/mhi.h
# does): only the warnings the series adds count, compared by file and
# message, without line numbers, with the file as it is in the pristine tree.
static_kernel_doc() {
	local log=$LOGDIR/static-kernel-doc.log old=$LOGDIR/static-kernel-doc-pristine.log
	local dir=$STATIC/pristine rc=0 findings f
	local -a upstream=()
	(cd "$TREE" && ./scripts/kernel-doc -none -Wall "$@") >"$log" 2>&1 || rc=$?
	rm -rf "$dir"
	for f in "$@"; do
		git -C "$TREE" cat-file -e "pristine:$f" 2>/dev/null || continue
		mkdir -p "$dir/$(dirname "$f")"
		git -C "$TREE" show "pristine:$f" >"$dir/$f"
		upstream+=("$f")
	done
	: >"$old"
	if [ ${#upstream[@]} -gt 0 ]; then
		(cd "$dir" && "$TREE/scripts/kernel-doc" -none -Wall "${upstream[@]}") >"$old" 2>&1 || true
	fi
	findings=$(comm -13 <(static_doc_warnings <"$old") <(static_doc_warnings <"$log"))
	rig_static_verdict "kernel-doc -Wall ($# files, ${#upstream[@]} upstream)" "$log" "$rc" "$findings"
}

static_doc_warnings() {
	grep -iE 'warning|error' | sed -E 's/([A-Za-z0-9_./-]+\.[ch]):[0-9]+/\1/g' | sort || true
}

static_abi() {
	local dir=$STATIC/abi log=$LOGDIR/static-abi.log rc=0 findings f tool
	tool=$TREE/tools/docs/get_abi.py
	[ -f "$tool" ] || tool=$TREE/scripts/get_abi.py
	rm -rf "$dir"
	for f in "$@"; do
		mkdir -p "$dir/$(dirname "${f#Documentation/ABI/}")"
		cp "$TREE/$f" "$dir/${f#Documentation/ABI/}"
	done
	python3 "$tool" --dir "$dir" validate >"$log" 2>&1 || rc=$?
	findings=$(grep -E 'WARNING|ERROR|Traceback' "$log" || true)
	rig_static_verdict "get_abi.py validate ($# files)" "$log" "$rc" "$findings"
}

# --- main --------------------------------------------------------------------

rig_tree
if [ ! -f "$BUILD/include/generated/autoconf.h" ] || [ ! -x "$BUILD/scripts/basic/fixdep" ]; then
	rig_die "no built $PROFILE kernel in $(rig_rel "$BUILD"): the static checks reuse it, run 'make kernel' first"
fi
command -v spatch >/dev/null 2>&1 ||
	rig_die "spatch (coccinelle) is not installed: run 'make setup'"
rig_static_sparse

OUT=$STATIC/patches rig_patches
OUT=$STATIC/patches

mapfile -t CHANGED < <(git -C "$TREE" diff --name-only --diff-filter=AM pristine series)
KC=() HDR=() ABI=() DOC=()
for f in "${CHANGED[@]}"; do
	case $f in
	tools/*.c | tools/*.h) DOC+=("$f") ;;
	*.c) KC+=("$f") DOC+=("$f") ;;
	*.h) HDR+=("$f") DOC+=("$f") ;;
	Documentation/ABI/*) ABI+=("$f") ;;
	esac
done
[ ${#KC[@]} -gt 0 ] || rig_die "the series changes no kernel C file: nothing for W=1 and sparse"
# The common directory of the kernel C files is the external module built.
KDIR=$(printf '%s\n' "${KC[@]}" | sed 's|/[^/]*$||' |
	awk 'NR == 1 { p = $0 } { while (index($0 "/", p "/") != 1) sub(/\/[^\/]*$/, "", p) } END { print p }')
# W=1 and sparse cover every C file of the directories the series touches
# (not their subdirectories), so that a warning in an unchanged file next
# to a changed one counts too.
# A C file that another C file of its directory includes (as a KUnit test
# of static functions can be) is compiled as part of that file, not on its
# own. The link's KUnit tests (ep/vlink/regs_kunit.c) are an object of
# their own, compiled and checked like the others.
rig_static_included() { # file.c
	local f=$1
	grep -lsE "^#include \"${f##*/}\"" "$TREE/${f%/*}"/*.c | grep -qv "/${f##*/}\$"
}
# A neighbour that this configuration does not build (host/pci_generic.c:
# no CONFIG_PCI) cannot be compiled against it and is left out; a changed
# file is always compiled.
rig_static_neighbour() { # file.c
	local f=$1 c
	for c in "${KC[@]}"; do [ "$c" = "$f" ] && return 0; done
	[ -f "$BUILD/${f%.c}.o" ]
}
mapfile -t KDIRC < <(printf '%s\n' "${KC[@]}" | sed 's|/[^/]*$||' | sort -u |
	while IFS= read -r d; do (cd "$TREE" && find "$d" -maxdepth 1 -name '*.c'); done | sort -u |
	while IFS= read -r f; do rig_static_included "$f" || ! rig_static_neighbour "$f" || echo "$f"; done)
rig_log "static: ${#KC[@]} kernel C files changed (${#KDIRC[@]} in their directories, under $KDIR/), ${#HDR[@]} headers, ${#DOC[@]} files for kernel-doc, ${#ABI[@]} ABI files"

static_checkpatch
static_compile "$KDIR" "${KDIRC[@]}"
static_coccicheck "${KC[@]}" "${HDR[@]}"
static_kernel_doc "${DOC[@]}"
if [ ${#ABI[@]} -gt 0 ]; then
	static_abi "${ABI[@]}"
else
	rig_log "static: the series adds no ABI file: get_abi.py not run"
fi

rig_log "static summary ($(rig_secs "$START" "$(rig_now)") s; logs: $(rig_rel "$LOGDIR")):"
printf '[rig]   %s\n' "${SUMMARY[@]}"
[ ${#FAILED[@]} -eq 0 ] || rig_die "static checks failed: ${FAILED[*]}"
