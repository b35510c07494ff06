#!/usr/bin/env bash
# Installs what the rig needs from Debian's archive and fetches the kernel
# source (Debian's linux-source-$SERIES) into .cache/src.
#
#   ci/setup.sh [all|packages|source|sysroot]      (default: all)
#
# Packages already installed are not touched (a second run takes a second).
# The kernel source comes through a private apt configuration under
# .cache/apt: the machine's apt sources, lists and caches are never touched.
# REFRESH=1 looks for a newer linux-source-$SERIES even when one is present.
# "sysroot" unpacks the arm64 guest's userspace (Debian bookworm arm64
# packages, downloaded through a second private apt configuration in
# .cache/apt-arm64) into .cache/sysroot/arm64: nothing is installed.
set -euo pipefail
# shellcheck source=ci/lib.sh
. "$(dirname "$0")/lib.sh"

# RIG_EXTRA_PACKAGES: more packages (space separated), e.g. for a sub-check.
RIG_PACKAGES=(
	make gcc libc6-dev binutils flex bison bc libelf-dev libssl-dev pkg-config
	cpio kmod libkmod-dev xz-utils gzip rsync coreutils findutils util-linux
	busybox-static qemu-system-x86 git perl python3 debian-archive-keyring
	bats bats-support bats-assert shellcheck lava-common gnuplot-nox
	# make -C tools/testing/ktap check fuzzes with libFuzzer
	clang libclang-rt-dev
	# tests/ktap.bats reads ktap --mode json with jq and checks --mode junit
	# against its schema with xmllint
	jq libxml2-utils
	# make static: coccicheck (some of its scripts are OCaml), checkpatch's
	# SPDX check (scripts/spdxcheck.py); sparse is built by ci/static.sh,
	# bookworm's cannot parse Linux 7.2
	coccinelle ocaml-nox python3-ply python3-git
	# lava-jobs/check.sh runs a LAVA instance (lava-jobs/server.sh)
	postgresql lava-server lava-dispatcher lava-coordinator lavacli
	# compiler cache shared by every clone of the rig (see ci/lib.sh)
	ccache
	# PROFILE=arm64: Debian's cross toolchain and qemu-system-aarch64
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu qemu-system-arm
)
read -r -a extra <<<"${RIG_EXTRA_PACKAGES:-}"
RIG_PACKAGES+=("${extra[@]}")

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		rig_die "installing packages needs root: run 'make setup' as root (or install: $*)"
	fi
}

missing_packages() {
	local p status
	for p in "${RIG_PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		case $status in
		ii*) ;;
		*) echo "$p" ;;
		esac
	done
}

setup_packages() {
	local missing log p
	mapfile -t missing < <(missing_packages)
	if [ ${#missing[@]} -eq 0 ]; then
		rig_log "packages: all ${#RIG_PACKAGES[@]} present"
	else
		mkdir -p "$RIG_CACHE/logs/setup"
		log=$RIG_CACHE/logs/setup/apt.log
		: >"$log"
		rig_log "installing ${#missing[@]} packages from Debian's archive: ${missing[*]} ... log: $(rig_rel "$log")"
		if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update >>"$log" 2>&1 ||
			grep -qE '^(W: Failed to fetch|E: |W: Some index files failed)' "$log"; then
			rig_die "cannot reach Debian's archive (apt-get update failed): check the network or the apt sources; log: $(rig_rel "$log")"
		fi
		for p in "${missing[@]}"; do
			if ! apt-cache show "$p" >/dev/null 2>&1; then
				rig_die "package '$p' is not available from Debian's archive: add a bookworm (or newer) main source to apt, or install it by hand"
			fi
		done
		if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			"${missing[@]}" >>"$log" 2>&1; then
			rig_die "could not install ${missing[*]} (apt-get install failed): see $(rig_rel "$log"), fix it and run 'make setup' again"
		fi
		mapfile -t missing < <(missing_packages)
		[ ${#missing[@]} -eq 0 ] ||
			rig_die "still missing after apt-get install: ${missing[*]}; log: $(rig_rel "$log")"
		rig_log "packages installed"
	fi
	mkdir -p "$RIG_CACHE/stamps"
	touch "$RIG_CACHE/stamps/setup"
}

# --- kernel source -----------------------------------------------------------

APT_DIR=$RIG_CACHE/apt
APT_OPTS=(
	-o "Dir::Etc::sourcelist=$APT_DIR/sources.list"
	-o "Dir::Etc::sourceparts=/dev/null"
	-o "Dir::State::Lists=$APT_DIR/lists"
	-o "Dir::Cache::archives=$APT_DIR/archives"
	-o "Dir::Cache::pkgcache=$APT_DIR/pkgcache.bin"
	-o "Dir::Cache::srcpkgcache=$APT_DIR/srcpkgcache.bin"
	-o "Acquire::Languages=none"
	-o "Acquire::Retries=2"
	-o "Acquire::http::Timeout=30"
	-o "APT::Sandbox::User=root"
)

private_apt_init() {
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/archives/partial"
	local key=/usr/share/keyrings/debian-archive-keyring.gpg
	cat >"$APT_DIR/sources.list" <<EOF
# Private to the rig: where Debian's linux-source-$SERIES comes from.
deb [signed-by=$key] http://deb.debian.org/debian trixie-backports main
deb [signed-by=$key] http://deb.debian.org/debian sid main
EOF
}

# Newest version of linux-source-$SERIES in the private lists.
newest_version() {
	local v best=""
	while read -r v; do
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v
		fi
	done < <(apt-cache "${APT_OPTS[@]}" madison "linux-source-$SERIES" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }')
	printf '%s\n' "$best"
}

setup_source() {
	local pkg=linux-source-$SERIES log ver have="" tarball
	mkdir -p "$SRCDIR" "$RIG_CACHE/logs/setup"
	tarball=$SRCDIR/$pkg.tar.xz
	[ -f "$SRCDIR/$pkg.version" ] && have=$(cat "$SRCDIR/$pkg.version")
	if [ -f "$tarball" ] && [ -n "$have" ] && [ "${REFRESH:-0}" != 1 ]; then
		rig_log "kernel source: $pkg $have present (REFRESH=1 looks for a newer one)"
		return 0
	fi
	log=$RIG_CACHE/logs/setup/source.log
	: >"$log"
	private_apt_init
	rig_log "looking up $pkg in Debian's archive (private apt config in $(rig_rel "$APT_DIR")) ... log: $(rig_rel "$log")"
	if ! apt-get "${APT_OPTS[@]}" update >>"$log" 2>&1 ||
		grep -qE '^(W: Failed to fetch|E: |W: Some index files failed)' "$log"; then
		rig_die "cannot reach Debian's archive to fetch $pkg: check the network, or use an existing tree with KSRC=/path/to/linux; log: $(rig_rel "$log")"
	fi
	ver=$(newest_version)
	[ -n "$ver" ] ||
		rig_die "Debian's archive (sid, trixie-backports) has no $pkg: pick another SERIES= or use KSRC=/path/to/linux"
	if [ -f "$tarball" ] && [ "$ver" = "$have" ]; then
		rig_log "kernel source: $pkg $have is the newest"
		return 0
	fi
	rig_log "downloading $pkg $ver (~160 MB) ..."
	rm -f "$SRCDIR"/*.deb
	if ! (cd "$SRCDIR" && apt-get "${APT_OPTS[@]}" download "$pkg=$ver") >>"$log" 2>&1; then
		rig_die "downloading $pkg $ver failed: check the network and run 'make setup' again; log: $(rig_rel "$log")"
	fi
	local deb
	deb=$(ls "$SRCDIR"/"${pkg}"_*.deb)
	if ! dpkg-deb --fsys-tarfile "$deb" | tar -xO -f - "./usr/src/$pkg.tar.xz" >"$tarball.tmp" 2>>"$log"; then
		rm -f "$tarball.tmp"
		rig_die "$deb does not contain usr/src/$pkg.tar.xz; log: $(rig_rel "$log")"
	fi
	mv "$tarball.tmp" "$tarball"
	echo "$ver" >"$SRCDIR/$pkg.version"
	rm -f "$deb"
	rig_log "kernel source: $pkg $ver in $(rig_rel "$tarball")"
}

# --- the arm64 guest's userspace ----------------------------------------------

# Debian bookworm arm64 packages of what the x86_64 guest takes from the build
# machine (ci/initramfs.sh): busybox-static, dash, bash, GNU timeout and
# stdbuf, kmod, perl-base, libkmod (with its headers and pkg-config file, for
# the selftest's HAVE_LIBKMOD build) and the libraries they need. Same release
# as the cross toolchain's glibc (libc6-dev-arm64-cross is bookworm's 2.36).
RIG_SYSROOT_PACKAGES=(
	busybox-static dash bash libtinfo6 coreutils kmod libkmod2 libkmod-dev
	liblzma5 libzstd1 libssl3 libc6 libcrypt1 perl-base
)
APT_ARM64_DIR=$RIG_CACHE/apt-arm64
APT_ARM64_OPTS=(
	-o "Dir::Etc::sourcelist=$APT_ARM64_DIR/sources.list"
	-o "Dir::Etc::sourceparts=/dev/null"
	-o "Dir::State::Lists=$APT_ARM64_DIR/lists"
	-o "Dir::State::status=$APT_ARM64_DIR/status"
	-o "Dir::Cache::archives=$APT_ARM64_DIR/archives"
	-o "Dir::Cache::pkgcache=$APT_ARM64_DIR/pkgcache.bin"
	-o "Dir::Cache::srcpkgcache=$APT_ARM64_DIR/srcpkgcache.bin"
	-o "APT::Architecture=arm64"
	-o "APT::Architectures=arm64"
	-o "Acquire::Languages=none"
	-o "Acquire::Retries=2"
	-o "Acquire::http::Timeout=30"
	-o "APT::Sandbox::User=root"
)

setup_sysroot() {
	local dir=$RIG_CACHE/sysroot/arm64 log=$RIG_CACHE/logs/setup/sysroot-arm64.log
	local key=/usr/share/keyrings/debian-archive-keyring.gpg want deb l t
	want=$(printf '%s\n' "${RIG_SYSROOT_PACKAGES[@]}" | sort | paste -sd' ')
	if [ -f "$dir/.packages" ] && [ "$(cat "$dir/.packages")" = "$want" ] && [ "${REFRESH:-0}" != 1 ]; then
		rig_log "arm64 sysroot: present ($(rig_rel "$dir"))"
		return 0
	fi
	mkdir -p "$APT_ARM64_DIR/lists/partial" "$APT_ARM64_DIR/archives/partial" "$RIG_CACHE/logs/setup"
	: >"$APT_ARM64_DIR/status"
	cat >"$APT_ARM64_DIR/sources.list" <<EOF
# Private to the rig: the arm64 guest's userspace (ci/setup.sh sysroot).
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian bookworm main
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian bookworm-updates main
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian-security bookworm-security main
EOF
	: >"$log"
	rig_log "downloading the arm64 guest's packages (${#RIG_SYSROOT_PACKAGES[@]}, private apt config in $(rig_rel "$APT_ARM64_DIR")) ... log: $(rig_rel "$log")"
	if ! apt-get "${APT_ARM64_OPTS[@]}" update >>"$log" 2>&1 ||
		grep -qE '^(W: Failed to fetch|E: |W: Some index files failed)' "$log"; then
		rig_die "cannot reach Debian's archive for the arm64 packages: check the network; log: $(rig_rel "$log")"
	fi
	rm -rf "$APT_ARM64_DIR/debs" "$dir"
	mkdir -p "$APT_ARM64_DIR/debs" "$dir"
	if ! (cd "$APT_ARM64_DIR/debs" && apt-get "${APT_ARM64_OPTS[@]}" download "${RIG_SYSROOT_PACKAGES[@]/%/:arm64}") >>"$log" 2>&1; then
		rig_die "downloading the arm64 packages failed: see $(rig_rel "$log")"
	fi
	for deb in "$APT_ARM64_DIR"/debs/*.deb; do
		dpkg-deb -x "$deb" "$dir" >>"$log" 2>&1 || rig_die "cannot unpack $deb; log: $(rig_rel "$log")"
		basename "$deb" >>"$dir/.debs"
	done
	# Absolute symlinks (libkmod.so -> /lib/...) point into the sysroot.
	while IFS= read -r -d '' l; do
		t=$(readlink "$l")
		case $t in /*) ln -sfn "$dir$t" "$l" ;; esac
	done < <(find "$dir" -type l -print0)
	printf '%s\n' "$want" >"$dir/.packages"
	rig_log "arm64 sysroot: $(wc -l <"$dir/.debs") packages in $(rig_rel "$dir")"
}

main() {
	rig_paths
	case ${1:-all} in
	packages) setup_packages ;;
	source) setup_source ;;
	sysroot) setup_sysroot ;;
	all)
		setup_packages
		setup_sysroot
		if [ -n "$KSRC" ]; then
			local msg
			msg=$(rig_check_ksrc "$KSRC") || rig_die "$msg"
			rig_log "kernel source: KSRC=$KSRC (nothing to fetch)"
		else
			setup_source
		fi
		;;
	*) rig_die "usage: ci/setup.sh [all|packages|source|sysroot]" ;;
	esac
}

main "$@"
