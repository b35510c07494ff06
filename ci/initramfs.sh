# shellcheck shell=bash disable=SC2153 # TREE, BUILD, STATE, PROFILE come from ci/lib.sh
# What the guest runs: the mhi kselftests (built by the kernel's own kselftest
# build), the ktap CLI, and a busybox initramfs that carries them with the
# modules, GNU timeout, kmod/libkmod and every shared library they need.

rig_selftest_build() {
	local -a cross=()
	make -C "$TREE" O="$BUILD" "${KMAKE[@]}" -j"$JOBS" headers
	rm -rf "$STATE/kselftest"
	if [ -n "$SYSROOT" ]; then
		# libkmod of the guest's architecture from the sysroot (Debian's
		# libkmod-dev:arm64, unpacked by ci/setup.sh sysroot); the linker
		# finds the libraries libkmod needs there too.
		cross=(PKG_CONFIG=pkg-config
			"LDFLAGS=-Wl,-rpath-link,$SYSROOT/lib/$TRIPLET:$SYSROOT/usr/lib/$TRIPLET")
		export PKG_CONFIG_LIBDIR=$SYSROOT/usr/lib/$TRIPLET/pkgconfig PKG_CONFIG_SYSROOT_DIR=$SYSROOT
	fi
	# The build does not see a change of libkmod's flags (HAVE_LIBKMOD or
	# not): the program is relinked when pkg-config answers differently.
	local flags out=$BUILD/kselftest/mhi pc=${CROSS}pkg-config
	[ -z "$SYSROOT" ] || pc=pkg-config
	flags=$("$pc" --cflags --libs libkmod 2>/dev/null || echo none)
	if [ "$(cat "$out/.rig-libkmod" 2>/dev/null)" != "$flags" ]; then
		rm -f "$out/mhi_loopback_test"
		mkdir -p "$out"
		printf '%s\n' "$flags" >"$out/.rig-libkmod"
	fi
	make -C "$TREE/tools/testing/selftests" "${KMAKE[@]}" "${cross[@]}" -j"$JOBS" TARGETS=mhi O="$BUILD" \
		FORCE_TARGETS=1 install INSTALL_PATH="$STATE/kselftest"
}

rig_selftest() {
	rig_sysroot
	[ -d "$TREE/tools/testing/selftests/mhi" ] ||
		rig_die "the kernel tree has no tools/testing/selftests/mhi: patches/series must list the mhi selftest (repo path tools/testing/selftests/mhi)"
	rig_step "building the mhi kselftests${CROSS:+ (${CROSS}gcc)}" "$LOGDIR/selftest.log" rig_selftest_build
	grep -q '^mhi:' "$STATE/kselftest/kselftest-list.txt" 2>/dev/null ||
		rig_die "the mhi kselftest build installed no test (no 'mhi:' line in $(rig_rel "$STATE/kselftest/kselftest-list.txt")): check TEST_GEN_PROGS/TEST_PROGS in tools/testing/selftests/mhi/Makefile; log: $(rig_rel "$LOGDIR/selftest.log")"
	# Built with libkmod (HAVE_LIBKMOD) like the build machine's: it links it.
	if [ -n "$SYSROOT" ] && ! readelf -d "$STATE/kselftest/mhi/mhi_loopback_test" | grep -q 'NEEDED.*\[libkmod\.so'; then
		rig_die "the $PROFILE selftest was built without libkmod (no HAVE_LIBKMOD): pkg-config found no libkmod in $(rig_rel "$SYSROOT"); log: $(rig_rel "$LOGDIR/selftest.log")"
	fi
}

# The guest's userspace of a cross profile: Debian packages of its
# architecture unpacked into SYSROOT (ci/setup.sh sysroot, once).
rig_sysroot() {
	[ -n "$SYSROOT" ] || return 0
	[ -f "$SYSROOT/.packages" ] || bash "$RIG_ROOT/ci/setup.sh" sysroot ||
		rig_die "no arm64 sysroot in $(rig_rel "$SYSROOT"): 'bash ci/setup.sh sysroot' failed"
}

# Builds the ktap CLI (tools/testing/ktap, static) when the kernel tree or
# the repo has it, with its objects in .cache/rig/<profile>/ktap; sets KTAP_BIN.
rig_ktap() {
	local src
	KTAP_BIN=
	for src in "$TREE/tools/testing/ktap" "$RIG_ROOT/tools/testing/ktap" ""; do
		[ -z "$src" ] || [ -f "$src/Makefile" ] && break
	done
	[ -n "$src" ] || return 0
	mkdir -p "$STATE/ktap"
	rig_step "building ktap (static${CROSS:+, ${CROSS}gcc})" "$LOGDIR/ktap-build.log" \
		make -C "$src" -j"$JOBS" STATIC=1 ${CROSS:+CC=${CROSS}gcc} OUTPUT="$STATE/ktap/"
	KTAP_BIN=$STATE/ktap/ktap
	[ -x "$KTAP_BIN" ] ||
		rig_die "make -C $(rig_rel "$src") STATIC=1 produced no ktap binary; log: $(rig_rel "$LOGDIR/ktap-build.log")"
}

rig_is_elf() {
	[ "$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')" = 7f454c46 ]
}

# Copies every shared library that ldd names for the ELF files of $1 into $1.
rig_copy_libs() {
	local root=$1 f line lib
	local -A libs=()
	while IFS= read -r -d '' f; do
		rig_is_elf "$f" || continue
		while IFS= read -r line; do
			case $line in
			*"not found"*) rig_die "${f#"$root"} needs ${line%% *}, which is not installed here: install the Debian package that has it" ;;
			*"=> /"*) lib=${line#*=> }; lib=${lib%% (*}; libs[$lib]=1 ;;
			/*) lib=${line%% (*}; libs[$lib]=1 ;;
			esac
		done < <(ldd "$f" 2>/dev/null | sed 's/^[[:space:]]*//' || true)
	done < <(find "$root" -path "$root/lib/modules" -prune -o -type f \( -perm -u+x -o -name '*.so*' \) -print0)
	for lib in "${!libs[@]}"; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# rig_copy_libs_sysroot ROOT: the same for a guest of another architecture,
# from SYSROOT: the program interpreter and every DT_NEEDED library of the
# ELF files of ROOT, transitively, found in the sysroot's library dirs.
rig_copy_libs_sysroot() {
	local root=$1 f lib d found n=-1
	local -A seen=()
	while [ "$n" != "${#seen[@]}" ]; do
		n=${#seen[@]}
		while IFS= read -r -d '' f; do
			rig_is_elf "$f" || continue
			while IFS= read -r lib; do
				if [ -z "$lib" ] || [ -n "${seen[$lib]:-}" ]; then continue; fi
				found=
				case $lib in
				/*) [ -e "$SYSROOT$lib" ] && found=$lib ;;
				*)
					for d in /lib/$TRIPLET /usr/lib/$TRIPLET /lib /usr/lib; do
						if [ -e "$SYSROOT$d/$lib" ]; then found=$d/$lib && break; fi
					done
					;;
				esac
				[ -n "$found" ] ||
					rig_die "${f#"$root"} needs $lib, which the $PROFILE sysroot does not have: add its Debian package to RIG_SYSROOT_PACKAGES (ci/setup.sh)"
				seen[$lib]=1
				mkdir -p "$root$(dirname "$found")"
				[ -e "$root$found" ] || cp -L "$SYSROOT$found" "$root$found"
			done < <({
				readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
				readelf -l "$f" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p'
			} || true)
		done < <(find "$root" -path "$root/lib/modules" -prune -o -type f \( -perm -u+x -o -name '*.so*' \) -print0)
	done
}

# Path of a program of the guest's userspace: the build machine's for an
# x86_64 guest, the sysroot's otherwise.
rig_guest_bin() {
	local d
	if [ -z "$SYSROOT" ]; then
		readlink -f "$(command -v "$1")"
		return
	fi
	for d in /usr/bin /bin /usr/sbin /sbin; do
		[ -e "$SYSROOT$d/$1" ] && { readlink -f "$SYSROOT$d/$1"; return; }
	done
	rig_die "the $PROFILE sysroot has no $1"
}

rig_rootfs_stage() {
	local root=$1 rel bb
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/libexec/coreutils,etc,proc,sys,dev,tmp,run,root,mnt,var/log,opt,lib/modules}
	install -m 755 "$RIG_ROOT/ci/guest/init" "$root/init"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\n' >"$root/etc/group"
	echo rig >"$root/etc/hostname"
	# GNU tools the kselftest runner relies on (busybox timeout lacks
	# --foreground), kmod for modprobe -n and libkmod.so.2.
	local u=${SYSROOT:-} pl
	install -m 755 "$(rig_guest_bin timeout)" "$(rig_guest_bin stdbuf)" "$root/usr/bin/"
	install -m 644 "$u/usr/libexec/coreutils/libstdbuf.so" "$root/usr/libexec/coreutils/"
	install -m 755 "$(rig_guest_bin kmod)" "$root/bin/kmod"
	for rel in modprobe insmod rmmod lsmod modinfo depmod; do
		ln -s /bin/kmod "$root/sbin/$rel"
	done
	# dash as /bin/sh (busybox's ash would run its own applets instead of
	# the GNU and kmod tools above, even for scripts), bash for #!/bin/bash.
	install -m 755 "$(rig_guest_bin dash)" "$root/bin/dash"
	install -m 755 "$(rig_guest_bin bash)" "$root/bin/bash"
	ln -s dash "$root/bin/sh"
	if [ -z "$SYSROOT" ]; then
		mkdir -p "$root/lib/$TRIPLET"
		cp -L "/lib/$TRIPLET/libkmod.so.2" "$root/lib/$TRIPLET/"
	fi
	# perl and the modules of the runner's prefix.pl: without perl the runner
	# prefixes nested output with sed, which holds back up to 4 KiB of
	# results (lost if the guest hangs) instead of streaming them.
	# The build machine's perl names them (its perl-base is the same
	# release as the sysroot's: the paths differ by the triplet only).
	install -m 755 "$u/usr/bin/perl" "$root/usr/bin/perl"
	while IFS= read -r rel; do
		pl=${rel//x86_64-linux-gnu/$TRIPLET}
		mkdir -p "$root/$(dirname "$pl")"
		cp -L "$u$pl" "$root/$pl"
	done < <(perl -MIO::Handle -e 'print "$_\n" for values %INC' &&
		find "$(dirname "$(perl -MIO -e 'print $INC{"IO.pm"}')")/auto/IO" -name 'IO.so')
	# The memory-copy ceiling of make bench
	"${CROSS}gcc" -O2 -Wall -Wextra -Werror -static -o "$root/usr/bin/memcpy-bench" "$RIG_ROOT/ci/bench/memcpy-bench.c"
	if [ -n "${KTAP_BIN:-}" ]; then
		install -m 755 "$KTAP_BIN" "$root/usr/bin/ktap"
	fi
	cp -a "$STATE/kselftest" "$root/opt/kselftests"
	make -C "$TREE" O="$BUILD" "${KMAKE[@]}" INSTALL_MOD_PATH="$root" INSTALL_MOD_STRIP=1 modules_install
	rm -f "$root"/lib/modules/*/build "$root"/lib/modules/*/source
	if [ -n "$SYSROOT" ]; then rig_copy_libs_sysroot "$root"; else rig_copy_libs "$root"; fi
	# busybox for everything else (applets never replace the tools above).
	bb=$(rig_guest_bin busybox)
	install -m 755 "$bb" "$root/bin/busybox"
	if readelf -d "$bb" 2>/dev/null | grep -q '(NEEDED)'; then
		rig_die "$bb is not a static binary: install busybox-static"
	fi
	# The applets: busybox --list-full of the build machine's busybox-static
	# (the same Debian version and configuration as the sysroot's, checked)
	if [ -n "$SYSROOT" ]; then
		local vh vg
		vh=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || true)
		vg=$(sed -n 's/^busybox-static_\(.*\)_[a-z0-9]*\.deb$/\1/p' "$SYSROOT/.debs" | sed 's/%3a/:/')
		[ "$vh" = "$vg" ] ||
			rig_die "the applet list comes from the build machine's busybox-static $vh, the $PROFILE guest's is $vg: install the same version (apt-get install busybox-static) or REFRESH=1 bash ci/setup.sh sysroot"
	fi
	while IFS= read -r rel; do
		[ -e "$root/$rel" ] || [ -L "$root/$rel" ] || ln -s /bin/busybox "$root/$rel"
	done < <(busybox --list-full)
	rig_check_interpreters "$root"
}

# Warns about test scripts whose interpreter the initramfs does not carry
# (not about the runner's own helpers: it uses prefix.pl only if perl exists).
rig_check_interpreters() {
	local root=$1 f first interp
	while IFS= read -r -d '' f; do
		IFS= read -r first <"$f" || true
		case $first in '#!'*) ;; *) continue ;; esac
		read -r -a interp <<<"${first#\#!}"
		[ ${#interp[@]} -gt 0 ] || continue
		if [ "${interp[0]}" = /usr/bin/env ] && [ ${#interp[@]} -gt 1 ]; then
			[ -e "$root/usr/bin/${interp[1]}" ] || [ -e "$root/bin/${interp[1]}" ] ||
				echo "rig: warning: ${f#"$root"/} needs ${interp[1]}, which the initramfs does not carry"
		elif [ ! -e "$root${interp[0]}" ] && [ ! -L "$root${interp[0]}" ]; then
			echo "rig: warning: ${f#"$root"/} needs ${interp[0]}, which the initramfs does not carry"
		fi
	done < <(find "$root/opt" -path "$root/opt/kselftests/kselftest" -prune -o -type f -perm -u+x -print0)
}

# gen_init_cpio list of a staged root; the console node is needed before init
# mounts devtmpfs.
rig_cpio_list() {
	local root=$1 type rel mode target
	echo "nod /dev/console 0600 0 0 c 5 1"
	while IFS=$'\t' read -r type rel mode target; do
		case $rel in *[[:space:]]*) rig_die "file names with spaces are not supported in the initramfs: $rel" ;; esac
		case $type in
		d) echo "dir /$rel $mode 0 0" ;;
		f) echo "file /$rel $root/$rel $mode 0 0" ;;
		l) echo "slink /$rel $target 0777 0 0" ;;
		esac
	done < <(find "$root" -mindepth 1 -printf '%y\t%P\t%m\t%l\n' | LC_ALL=C sort -t$'\t' -k2,2)
}

rig_initramfs_build() {
	local root=$STATE/rootfs out=$STATE/initramfs.cpio.gz sum
	rig_rootfs_stage "$root"
	rig_cpio_list "$root" >"$STATE/initramfs.list"
	sum=$({
		cat "$STATE/initramfs.list"
		find "$root" -type f -print0 | sort -z | xargs -0 sha256sum
	} | sha256sum | cut -d' ' -f1)
	if [ -f "$out" ] && [ "$(cat "$STATE/initramfs.sha256" 2>/dev/null)" = "$sum" ]; then
		echo "rig: initramfs unchanged"
		return 0
	fi
	"$BUILD/usr/gen_init_cpio" "$STATE/initramfs.list" | gzip -n -6 >"$out.tmp"
	mv "$out.tmp" "$out"
	echo "$sum" >"$STATE/initramfs.sha256"
	echo "rig: initramfs written"
}

rig_initramfs() {
	rig_step "assembling the initramfs" "$LOGDIR/initramfs.log" rig_initramfs_build
	sed -n 's/^rig: warning: /[rig] warning: /p' "$LOGDIR/initramfs.log" >&2
	if grep -q '^rig: initramfs unchanged' "$LOGDIR/initramfs.log"; then
		rig_log "initramfs up to date"
	else
		rig_log "initramfs: $(rig_rel "$STATE/initramfs.cpio.gz") ($(du -h "$STATE/initramfs.cpio.gz" | cut -f1))"
	fi
}

# What a board job fetches, for the profile's architecture, in
# .cache/rig/<profile>/artefacts/ (lava-jobs/README.md, "Adapting a job"):
#   kselftest.tar.gz  the installed mhi kselftests (unpacked at /opt/kselftests)
#   ktap.tar.gz       usr/bin/ktap (static, mode 0755): a tar overlay at /
#   modules.tar.xz    lib/modules/<release> of this kernel
# Reproducible (sorted, no times, no owners): rewritten only when a content
# changes.
rig_artefacts_tar() { # OUT DIR MEMBER... (compressed by OUT's suffix)
	local out=$1 dir=$2 z
	shift 2
	case $out in *.xz) z=(xz -T1 -6) ;; *) z=(gzip -n -9) ;; esac
	tar -C "$dir" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "$@" |
		"${z[@]}" >"$out.tmp"
	if cmp -s "$out.tmp" "$out"; then rm -f "$out.tmp"; else mv "$out.tmp" "$out"; fi
}

rig_artefacts_build() {
	local a=$STATE/artefacts
	mkdir -p "$a" "$STATE/ktap-overlay/usr/bin"
	rig_artefacts_tar "$a/kselftest.tar.gz" "$STATE/kselftest" .
	if [ -n "${KTAP_BIN:-}" ]; then
		install -m 755 "$KTAP_BIN" "$STATE/ktap-overlay/usr/bin/ktap"
		rig_artefacts_tar "$a/ktap.tar.gz" "$STATE/ktap-overlay" usr
	fi
	rig_artefacts_tar "$a/modules.tar.xz" "$STATE/rootfs" lib/modules
	(cd "$a" && ls -l)
}

rig_artefacts() {
	rig_step "board artefacts ($(rig_profile_arch "$PROFILE"))" "$LOGDIR/artefacts.log" rig_artefacts_build
	rig_log "board artefacts: $(rig_rel "$STATE/artefacts")/{kselftest.tar.gz,ktap.tar.gz,modules.tar.xz} and $(rig_rel "$BUILD/$KIMAGE")"
}
