#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Prints a directory laid out like a kernel tree that holds the kernel's own
# KTAP test inputs that tests/ktap.bats reads (they are not copied into the
# project):
#   tools/testing/kunit/test_data/*.log
#   tools/testing/selftests/kselftest_harness/harness-selftest.expected
#
# Looked for, in order:
#   1. $KTAP_KERNEL_TREE (a kernel source tree), when set;
#   2. the rig's kernel tree, .cache/linux (made by 'make tree');
#   3. a copy extracted earlier from the source tarball, .cache/ktap-data/;
#   4. the source tarball that 'make setup' downloads,
#      .cache/src/linux-source-$SERIES.tar.xz (extracted to 3., once).
# RIG_CACHE (default: .cache of the repo) and SERIES (default: the only
# tarball there) work as in ci/lib.sh. Exit 1 with a one-line reason when
# none has the files.
set -eu

ROOT=$(cd "$(dirname "$0")/../../.." && pwd -P)
CACHE=${RIG_CACHE:-$ROOT/.cache}
KUNIT=tools/testing/kunit/test_data
HARNESS=tools/testing/selftests/kselftest_harness/harness-selftest.expected

die() {
	echo "kernel-data.sh: $*" >&2
	exit 1
}

# has DIR: the files the tests read are there
has() {
	[ -f "$1/$KUNIT/test_is_test_passed-all_passed.log" ] && [ -f "$1/$HARNESS" ]
}

if [ -n "${KTAP_KERNEL_TREE:-}" ]; then
	has "$KTAP_KERNEL_TREE" ||
		die "KTAP_KERNEL_TREE=$KTAP_KERNEL_TREE has no $KUNIT/*.log or $HARNESS"
	echo "$KTAP_KERNEL_TREE"
	exit 0
fi
if has "$CACHE/linux"; then
	echo "$CACHE/linux"
	exit 0
fi

if [ -n "${SERIES:-}" ]; then
	tarball=$CACHE/src/linux-source-$SERIES.tar.xz
else
	tarball=
	for t in "$CACHE"/src/linux-source-*.tar.xz; do
		[ -f "$t" ] || continue
		[ -z "$tarball" ] || die "several kernel source tarballs in $CACHE/src: set SERIES"
		tarball=$t
	done
fi
if [ -z "$tarball" ] || [ ! -f "$tarball" ]; then
	die "no kernel tree in $CACHE/linux and no source tarball ${tarball:-$CACHE/src/linux-source-*.tar.xz}: run 'make setup' (it downloads the kernel source), or set KTAP_KERNEL_TREE=DIR"
fi

base=$(basename "$tarball" .tar.xz)
version=$(cat "$CACHE/src/$base.version" 2>/dev/null || echo unversioned)
dst=$CACHE/ktap-data/$base-$version
if has "$dst"; then
	echo "$dst"
	exit 0
fi

mkdir -p "$CACHE/ktap-data"
tmp=$(mktemp -d "$CACHE/ktap-data/.extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "kernel-data.sh: extracting $KUNIT and $HARNESS from $tarball (once) ..." >&2
tar -xJf "$tarball" -C "$tmp" --strip-components=1 --wildcards \
	"*/$KUNIT/*" "*/$HARNESS" ||
	die "could not extract $KUNIT and $HARNESS from $tarball"
has "$tmp" || die "$tarball has no $KUNIT/*.log or $HARNESS"
rm -rf "$dst"
mv "$tmp" "$dst"
trap - EXIT
echo "$dst"
