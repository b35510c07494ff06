# shellcheck shell=bash
# Common helpers of the rig scripts. Sourced, never run.
#
# Every script of the rig prints its progress as "[rig] ..." lines and stops
# with exactly one "[rig] error: ..." line that says what failed, where the log
# is and what to do.

RIG_ROOT=${RIG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
RIG_CACHE=${RIG_CACHE:-$RIG_ROOT/.cache}
RIG_PROFILES="default debug arm64"
SERIES=${SERIES:-7.2}
JOBS=${JOBS:-2}
PROFILE=${PROFILE:-default}
KSRC=${KSRC:-}

# Compilers through Debian's ccache (its gcc symlinks in /usr/lib/ccache),
# with one cache outside the clone: a fresh clone, a second profile or a
# helper's clone rebuilds from the cache. Paths under the clone are hashed
# relative to the build directory, so clones at different places share
# hits. RIG_CCACHE=0 builds without it.
if [ "${RIG_CCACHE:-1}" != 0 ] && [ -x /usr/lib/ccache/gcc ]; then
	case :$PATH: in
	*:/usr/lib/ccache:*) ;;
	*) PATH=/usr/lib/ccache:$PATH ;;
	esac
	export PATH
	export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mhi-loopback-rig/ccache}
	export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$RIG_ROOT}
	export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
	export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
fi

rig_log() { printf '[rig] %s\n' "$*"; }
rig_warn() { printf '[rig] warning: %s\n' "$*" >&2; }
rig_die() {
	printf '[rig] error: %s\n' "$*" >&2
	exit 1
}

# Path as the user typed it from the repo root: shorter and clickable.
rig_rel() {
	case $1 in
	"$RIG_ROOT"/*) printf '%s\n' "${1#"$RIG_ROOT"/}" ;;
	*) printf '%s\n' "$1" ;;
	esac
}

rig_now() { printf '%s\n' "${EPOCHREALTIME/,/.}"; }
# Whole seconds between two rig_now values.
rig_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d\n", b - a + 0.5 }'; }

# --- argument checking ------------------------------------------------------

rig_check_profile() {
	local p
	for p in $RIG_PROFILES; do
		[ "$p" = "$1" ] && return 0
	done
	echo "unknown PROFILE '$1' (valid profiles: ${RIG_PROFILES// /, })"
	return 1
}

# Prints why $1 is not a usable kernel source tree; silent and 0 if it is.
rig_check_ksrc() {
	local d=$1
	if [ ! -d "$d" ]; then
		echo "KSRC=$d is not a directory: point KSRC at a Linux source tree or leave it unset to use Debian's linux-source-$SERIES"
		return 1
	fi
	if [ ! -f "$d/Makefile" ] || ! grep -q '^VERSION = [0-9]' "$d/Makefile" ||
		! grep -q '^PATCHLEVEL = [0-9]' "$d/Makefile" || [ ! -d "$d/drivers/bus/mhi" ]; then
		echo "KSRC=$d is not a Linux source tree with drivers/bus/mhi/ (need its top Makefile with VERSION/PATCHLEVEL): fix KSRC or leave it unset"
		return 1
	fi
	if [ -e "$d/.config" ] || [ -d "$d/include/config" ]; then
		echo "KSRC=$d has been built in place (.config or include/config present): run 'make mrproper' in it first"
		return 1
	fi
	return 0
}

# Validates PROFILE and KSRC; prints the single error line and fails.
rig_validate() {
	local msg
	msg=$(rig_check_profile "$PROFILE") || {
		echo "$msg"
		return 1
	}
	msg=$(rig_check_lane "${LANE:-sync}") || {
		echo "$msg"
		return 1
	}
	if [ -n "$KSRC" ]; then
		msg=$(rig_check_ksrc "$KSRC") || {
			echo "$msg"
			return 1
		}
	fi
	return 0
}

# --- profile layout ---------------------------------------------------------

# Kconfig fragments of a profile, in merge order. The symbols they request
# must all end up in the final .config.
rig_profile_fragments() {
	local c=$RIG_ROOT/ci/config
	case $1 in
	default) echo "$c/base.config $c/x86_64.config" ;;
	debug) echo "$c/base.config $c/x86_64.config $c/debug.config" ;;
	arm64) echo "$c/base.config $c/arm64.config" ;;
	*) return 1 ;;
	esac
}

# Architecture of a profile's kernel and guest: arm64 is cross-built with
# Debian's aarch64-linux-gnu toolchain and boots on qemu-system-aarch64.
rig_profile_arch() {
	case $1 in
	arm64) echo arm64 ;;
	*) echo x86_64 ;;
	esac
}
# Fragment merged into every profile whose symbols are checked only when the
# tree's Kconfig defines them (drivers of the series that do not exist yet).
# shellcheck disable=SC2034 # used by ci/kernel.sh
RIG_OPTIONAL_FRAGMENT=$RIG_ROOT/ci/config/optional.config

# Stride of sweep.tre_size_all (MHI_LT_SWEEP_STEP) on a profile and lane.
rig_profile_sweep_step() { # PROFILE [LANE]
	case $1:${2:-sync} in
	debug:*) echo 4099 ;;
	# arm64 runs under TCG's slower cross-architecture translation: a
	# sample of the sizes, like the other lanes
	arm64:*) echo 61 ;;
	# Every size is swept on the sync lane; the other lanes change how the
	# bytes move, not which sizes the rings take: a prime stride of them
	*:sync) echo 1 ;;
	*) echo 61 ;;
	esac
}

rig_profile_held_iters() {
	case $1 in
	# each held iteration waits for a release: 50 show the overlap, the
	# default x86 lanes run the long series
	debug | arm64) echo 50 ;;
	*) echo 200 ;;
	esac
}

# Lanes: boots of a profile's kernel with other link parameters, each
# running the whole suite (LANE=, ci/check.sh runs a set of them). A lane is
# "sync" or regimes joined by "-", in this order, each at most once:
#   sync | async  payload copied inside the endpoint's transfer call, or
#                 mhi_vlink.async_dma=1: completions from a DMA worker
#   bounce        swiotlb=force: host buffers bounced, CPU and device see
#                 different memory until map and unmap
#   ctrl          mhi_vlink.loopback_er=0: LOOPBACK completions on the
#                 control event ring (Foxconn, Cinterion)
#   intmod        mhi_vlink.intmod_ms=5: a moderated event ring (QDU100)
#   split | coalesce
#                 mhi_ep_loopback.echo_shape=: the endpoint echoes each
#                 chunk in pieces of 4 KiB at most (more DL completions than
#                 UL TREs: the host queues DL buffers again), or merges
#                 consecutive chunks into buffers of 128 KiB at most (one
#                 echo over several host DL TREs: OVERFLOW completions);
#                 without either, each chunk is one DL buffer (same)
RIG_LANE_REGIMES="sync async bounce ctrl intmod split coalesce"
RIG_LANE_INTMOD_MS=5

# The regimes of lane $1, one per line ("sync" when the lane is not async);
# fails on a lane that is not one.
rig_lane_regimes() {
	local lane=$1 tok rest=$RIG_LANE_REGIMES seen="" dma=sync
	[[ $lane =~ ^[a-z]+(-[a-z]+)*$ ]] || return 1
	local IFS=-
	for tok in $lane; do
		case " $rest " in
		*" $tok "*) ;;
		*) return 1 ;;
		esac
		# what follows $tok in the canonical order (sync and async are one slot)
		case $tok in
		sync | async) rest="bounce ctrl intmod split coalesce" dma=$tok ;;
		split | coalesce) rest="" ;;
		*) rest=${rest#*"$tok"} ;;
		esac
		seen+=" $tok"
	done
	unset IFS
	[ -n "$seen" ] || return 1
	echo "$dma"
	for tok in $seen; do
		case $tok in sync | async) ;; *) echo "$tok" ;; esac
	done
}

rig_lane_args() {
	local regimes r args=()
	regimes=$(rig_lane_regimes "$1") || return 1
	for r in $regimes; do
		case $r in
		async) args+=(mhi_vlink.async_dma=1) ;;
		bounce) args+=(swiotlb=force) ;;
		ctrl) args+=(mhi_vlink.loopback_er=0) ;;
		intmod) args+=("mhi_vlink.intmod_ms=$RIG_LANE_INTMOD_MS") ;;
		split | coalesce) args+=("mhi_ep_loopback.echo_shape=$r") ;;
		esac
	done
	echo "${args[*]}"
}

rig_lane_has() { rig_lane_regimes "$1" 2>/dev/null | grep -qx "$2"; }

rig_check_lane() {
	rig_lane_args "$1" >/dev/null ||
		{ echo "LANE must be sync or regimes joined by '-' in this order: sync|async, bounce, ctrl, intmod, split|coalesce (e.g. async-bounce, ctrl, bounce-split; got '$1')"; return 1; }
}

# Iterations of each unheld race (starts against unbind and rmmod).
rig_profile_race_iters() {
	case $1 in
	debug) echo 50 ;;
	*) echo 200 ;;
	esac
}

# Wall-time limit of one boot, in seconds.
rig_profile_timeout() {
	case $1 in
	debug) echo 3600 ;;
	*) echo 1800 ;;
	esac
}

# shellcheck disable=SC2034 # used by the other ci/*.sh
rig_paths() {
	TREE=$RIG_CACHE/linux
	BUILD=$RIG_CACHE/build/$PROFILE
	STATE=$RIG_CACHE/rig/$PROFILE
	SRCDIR=$RIG_CACHE/src
	rig_arch_vars "$(rig_profile_arch "$PROFILE")"
}

# rig_arch_vars ARCH: what building for and booting ARCH takes.
#   KMAKE     make arguments of every kernel-tree make (ARCH=, CROSS_COMPILE=)
#   CROSS     the cross toolchain's prefix ("" for the build machine's)
#   KIMAGE    the kernel image target, relative to the build directory
#   SYSROOT   the guest's userspace (Debian arm64 packages), "" for x86_64
#   TRIPLET   Debian's multiarch triplet of the guest's libraries
# shellcheck disable=SC2034 # used by the other ci/*.sh
rig_arch_vars() {
	case $1 in
	arm64)
		CROSS=aarch64-linux-gnu-
		KMAKE=(ARCH=arm64 "CROSS_COMPILE=$CROSS")
		KIMAGE=arch/arm64/boot/Image
		SYSROOT=$RIG_CACHE/sysroot/arm64
		TRIPLET=aarch64-linux-gnu
		;;
	*)
		CROSS=
		KMAKE=()
		KIMAGE=arch/x86/boot/bzImage
		SYSROOT=
		TRIPLET=x86_64-linux-gnu
		;;
	esac
}

# One rig command per clone at a time (they share the work tree, the builds
# and the logs): takes the lock on fd 9, saying so when it has to wait.
rig_lock() {
	mkdir -p "$RIG_CACHE"
	exec 9>"$RIG_CACHE/.lock"
	if ! flock -n 9; then
		rig_log "waiting for another rig command to finish (lock: $(rig_rel "$RIG_CACHE/.lock"))"
		flock 9
	fi
}

# --- logs -------------------------------------------------------------------

# Creates .cache/logs/<profile>/<timestamp>/ and points "latest" at it.
rig_logdir() {
	local base=$RIG_CACHE/logs/$PROFILE ts n=0
	ts=$(date +%Y%m%d-%H%M%S)
	[ "${LANE:-sync}" = sync ] || ts+=-$LANE
	mkdir -p "$base"
	LOGDIR=$base/$ts
	while ! mkdir "$LOGDIR" 2>/dev/null; do
		n=$((n + 1))
		LOGDIR=$base/$ts-$n
	done
	ln -sfn "$(basename "$LOGDIR")" "$base/latest"
}

# rig_step LABEL LOG CMD...: runs CMD with its output in LOG, prints a
# heartbeat every minute, and on failure the tail of LOG plus one error line.
rig_step() {
	local label=$1 log=$2 pid rc t=0 start
	shift 2
	start=$(rig_now)
	rig_log "$label ... log: $(rig_rel "$log")"
	"$@" >"$log" 2>&1 </dev/null &
	pid=$!
	trap 'kill "$pid" 2>/dev/null; exit 130' INT TERM
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		t=$((t + 1))
		if [ $((t % 60)) -eq 0 ]; then
			rig_log "  ... $label: $((t / 60)) min, $(wc -l <"$log") log lines"
		fi
	done
	rc=0
	wait "$pid" || rc=$?
	trap - INT TERM
	RIG_STEP_SECS=$(rig_secs "$start" "$(rig_now)")
	if [ "$rc" -ne 0 ]; then
		echo "----- last lines of $(rig_rel "$log") -----" >&2
		tail -n 40 "$log" >&2
		echo "-----" >&2
		rig_die "$label failed (exit $rc) after ${RIG_STEP_SECS} s; full log: $(rig_rel "$log")"
	fi
	return 0
}

# --- kernel configuration checks -------------------------------------------

# Prints the CONFIG_ symbols a set of Kconfig files defines, one per line.
rig_kconfig_symbols() {
	find "$1" -name 'Kconfig*' -type f -not -path '*/.git/*' -print0 |
		xargs -0 sed -n -E 's/^[[:space:]]*(menu)?config[[:space:]]+([A-Za-z0-9_]+).*/CONFIG_\2/p' |
		sort -u
}

# rig_verify_config CONFIG FRAGMENT... [-- OPTIONAL-FRAGMENT SYMBOL-LIST]
# Checks that every symbol the fragments request has the requested value in
# CONFIG (the last fragment that mentions a symbol wins; "is not set" and =n
# both mean off). Symbols of the optional fragment are checked only if they
# appear in SYMBOL-LIST (the symbols the tree's Kconfig defines). Prints one
# line per mismatch and fails if there is any.
rig_verify_config() {
	local config=$1 optional="" known=/dev/null
	shift
	local frags=()
	while [ $# -gt 0 ]; do
		if [ "$1" = "--" ]; then
			optional=$2
			known=$3
			break
		fi
		frags+=("$1")
		shift
	done
	awk -v known="$known" -v cfg="$config" -v optional="$optional" '
	function req(line, file,   sym, val) {
		if (line ~ /^CONFIG_[A-Za-z0-9_]+=/) {
			sym = line; sub(/=.*/, "", sym)
			val = line; sub(/^[^=]*=/, "", val)
		} else if (line ~ /^# CONFIG_[A-Za-z0-9_]+ is not set/) {
			sym = line; sub(/^# /, "", sym); sub(/ .*/, "", sym)
			val = "n"
		} else
			return
		want[sym] = val; from[sym] = file; isopt[sym] = (file == optional)
		if (!(sym in seen)) { order[++n] = sym; seen[sym] = 1 }
	}
	{ sub(/\r$/, "") }
	FILENAME == known { defined[$0] = 1; next }
	FILENAME == cfg {
		if ($0 ~ /^CONFIG_[A-Za-z0-9_]+=/) {
			s = $0; sub(/=.*/, "", s)
			v = $0; sub(/^[^=]*=/, "", v)
			have[s] = v
		}
		next
	}
	{ req($0, FILENAME) }
	END {
		bad = 0
		for (i = 1; i <= n; i++) {
			s = order[i]
			if (isopt[s] && !(s in defined))
				continue
			got = (s in have) ? have[s] : "n"
			if (got != want[s]) {
				f = from[s]; sub(/.*\//, "", f)
				printf "%s: requested %s (in %s), got %s\n", s, want[s], f, got
				bad = 1
			}
		}
		exit bad
	}' "$known" "${frags[@]}" ${optional:+"$optional"} "$config"
}

# --- patches/series ---------------------------------------------------------

# Parses patches/series of repo $1 into SERIES_PATCHES (patch files) and
# SERIES_PATHS (repo paths the series adds), checking that everything exists.
rig_read_series() {
	local repo=$1 file=$1/patches/series line n=0 patch path
	SERIES_PATCHES=()
	SERIES_PATHS=()
	[ -f "$file" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%%#*}
		read -r -a words <<<"$line"
		[ ${#words[@]} -gt 0 ] || continue
		patch=${words[0]}
		[ -f "$repo/patches/$patch" ] ||
			rig_die "patches/series line $n: patches/$patch does not exist: fix the series"
		SERIES_PATCHES+=("$patch")
		for path in "${words[@]:1}"; do
			case $path in
			/* | ../* | */../* | ..) rig_die "patches/series line $n: '$path' must be a path inside the repo" ;;
			esac
			[ -e "$repo/$path" ] ||
				rig_die "patches/series line $n: $path (listed for $patch) does not exist in the repo: fix the series"
			SERIES_PATHS+=("${path%/}")
		done
	done <"$file"
}

# Files of the repo under the series paths, relative to the repo: tracked and
# untracked files that git does not ignore (build products stay out), or all
# files when the repo is not a git work tree.
rig_series_files() {
	local repo=$1
	shift
	[ $# -gt 0 ] || return 0
	if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$repo" && git ls-files -z --cached --others --exclude-standard -- "$@") |
			while IFS= read -r -d '' f; do
				if [ -f "$repo/$f" ]; then printf '%s\n' "$f"; fi
			done | sort -u
	else
		(cd "$repo" && find "$@" -type f -print) | sort -u
	fi
}

rig_has_diff() { grep -q '^diff --git ' "$1"; }
