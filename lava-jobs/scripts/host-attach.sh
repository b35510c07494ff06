#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host side: load the MHI PCI controller and the LOOPBACK client, optionally
# rescan the PCI bus (endpoint pairs: the endpoint appears after it started),
# then wait until an MHI LOOPBACK device shows up.
#
# usage: host-attach.sh [-r] [-t SECONDS]
#   -r           rescan the PCI bus first (same as RESCAN=1)
#   -t SECONDS   how long to wait for the device (same as ATTACH_TIMEOUT, 60)
#
# Environment: SYSFS (/sys), HOST_MODULES ("mhi_pci_generic mhi_loopback"),
#   MODPROBE (modprobe), RESCAN (0), ATTACH_TIMEOUT (60).
#
# Exit status: 0 when at least one /sys/bus/mhi/devices/*_LOOPBACK exists,
# 1 otherwise, with the reason on stderr. POSIX sh only (busybox boards).

set -u

me=host-attach
SYSFS=${SYSFS:-/sys}
HOST_MODULES=${HOST_MODULES:-mhi_pci_generic mhi_loopback}
MODPROBE=${MODPROBE:-modprobe}
RESCAN=${RESCAN:-0}
ATTACH_TIMEOUT=${ATTACH_TIMEOUT:-60}

die() {
	echo "$me: $*" >&2
	exit 1
}

while getopts rt:h opt; do
	case $opt in
	r) RESCAN=1 ;;
	t) ATTACH_TIMEOUT=$OPTARG ;;
	*)
		echo "usage: $me [-r] [-t SECONDS]" >&2
		exit 1
		;;
	esac
done
case $ATTACH_TIMEOUT in
'' | *[!0-9]*) die "the timeout must be a whole number of seconds, not '$ATTACH_TIMEOUT'" ;;
esac

for m in $HOST_MODULES; do
	"$MODPROBE" "$m" 2>/dev/null || echo "$me: '$MODPROBE $m' failed (fine if it is built in)" >&2
done

if [ "$RESCAN" = 1 ]; then
	[ -w "$SYSFS/bus/pci/rescan" ] || die "cannot write $SYSFS/bus/pci/rescan"
	echo 1 >"$SYSFS/bus/pci/rescan" || die "the PCI rescan failed"
fi

devices=$SYSFS/bus/mhi/devices
n=0
while :; do
	found=
	for d in "$devices"/*_LOOPBACK; do
		[ -e "$d" ] && found="$found ${d##*/}"
	done
	[ -n "$found" ] && break
	if [ "$n" -ge "$ATTACH_TIMEOUT" ]; then
		others=
		for d in "$devices"/*; do
			[ -e "$d" ] && others="$others ${d##*/}"
		done
		if [ -n "$others" ]; then
			die "no MHI LOOPBACK device after ${ATTACH_TIMEOUT}s, although MHI is up:$others;" \
				"the host's channel table for this device has no LOOPBACK (see lava-jobs/README.md)"
		fi
		die "no MHI device at all after ${ATTACH_TIMEOUT}s: is the modem/endpoint powered and on the PCI bus?"
	fi
	sleep 1
	n=$((n + 1))
done

for dev in $found; do
	max=
	[ -r "$devices/$dev/max_tre_size" ] && max=" max_tre_size=$(cat "$devices/$dev/max_tre_size")"
	drv=
	[ -e "$devices/$dev/driver" ] && drv=$(readlink "$devices/$dev/driver") && drv=" driver=${drv##*/}"
	echo "$me: $dev$drv$max"
done
