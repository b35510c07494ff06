#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Turn this board into an MHI endpoint with a LOOPBACK echo client:
# create a pci-epf-mhi function in the PCI endpoint configfs, link it to the
# endpoint controller (EPC), load mhi_ep_loopback and start the link.
# The host side then rescans its PCI bus (see host-attach.sh).
#
# usage: ep-setup.sh            (all settings come from the environment)
#
# Environment:
#   CONFIGFS          configfs mount point                          (/sys/kernel/config)
#   SYSFS             sysfs mount point                             (/sys)
#   EPF_FUNCTION      pci-epf-mhi flavour: pci_epf_mhi_sdx55, pci_epf_mhi_sm8450
#                     or pci_epf_mhi_sa8775p   (default: from the devicetree compatible,
#                     or the only pci_epf_mhi* entry)
#   EPF_NAME          name of the function instance                 (mhi0)
#   EPC               controller under pci_ep/controllers           (the only one)
#   VENDOR_ID, DEVICE_ID, SUBSYS_VENDOR_ID, SUBSYS_ID
#                     header overrides, e.g. 0x17cb/0x010c subsystem so that the host's
#                     pci_generic picks a channel table with LOOPBACK (see README.md)
#   DT_COMPATIBLE     devicetree compatible file  ($SYSFS/firmware/devicetree/base/compatible)
#   MODPROBE          module loader                                 (modprobe)
#
# Exit status: 0 when the function is linked and started, 1 otherwise (with a
# one-line reason on stderr). Running it again on a started setup is harmless.
# POSIX sh only: this runs on busybox boards.

set -u

me=ep-setup
CONFIGFS=${CONFIGFS:-/sys/kernel/config}
SYSFS=${SYSFS:-/sys}
EPF_FUNCTION=${EPF_FUNCTION:-}
EPF_NAME=${EPF_NAME:-mhi0}
EPC=${EPC:-}
VENDOR_ID=${VENDOR_ID:-}
DEVICE_ID=${DEVICE_ID:-}
SUBSYS_VENDOR_ID=${SUBSYS_VENDOR_ID:-}
SUBSYS_ID=${SUBSYS_ID:-}
DT_COMPATIBLE=${DT_COMPATIBLE:-$SYSFS/firmware/devicetree/base/compatible}
MODPROBE=${MODPROBE:-modprobe}

die() {
	echo "$me: $*" >&2
	exit 1
}

# load MODULE: a failure only matters if the driver is still missing later.
load() {
	if ! "$MODPROBE" "$1" 2>/dev/null; then
		echo "$me: '$MODPROBE $1' failed (fine if it is built in)" >&2
	fi
}

# Print the names of the directories matching a glob, one per line.
subdirs() {
	for d in "$@"; do
		[ -d "$d" ] && echo "${d##*/}"
	done
}

# Mount configfs if the default mount point is not mounted yet.
if [ ! -d "$CONFIGFS/pci_ep" ] && [ "$CONFIGFS" = /sys/kernel/config ]; then
	mount -t configfs configfs "$CONFIGFS" 2>/dev/null
fi
load pci_epf_mhi
[ -d "$CONFIGFS/pci_ep" ] ||
	die "no $CONFIGFS/pci_ep: mount configfs and enable CONFIG_PCI_ENDPOINT_CONFIGFS"

functions=$CONFIGFS/pci_ep/functions
controllers=$CONFIGFS/pci_ep/controllers

if [ -z "$EPF_FUNCTION" ]; then
	if [ -r "$DT_COMPATIBLE" ]; then
		for c in $(tr '\0' ' ' <"$DT_COMPATIBLE"); do
			case $c in
			qcom,sdx55) EPF_FUNCTION=pci_epf_mhi_sdx55 ;;
			qcom,sm8450) EPF_FUNCTION=pci_epf_mhi_sm8450 ;;
			qcom,sa8775p) EPF_FUNCTION=pci_epf_mhi_sa8775p ;;
			*) continue ;;
			esac
			break
		done
	fi
	if [ -z "$EPF_FUNCTION" ]; then
		found=$(subdirs "$functions"/pci_epf_mhi*)
		[ -n "$found" ] ||
			die "no pci_epf_mhi* function under $functions: is pci-epf-mhi (CONFIG_PCI_EPF_MHI) available?"
		[ "$(echo "$found" | wc -l)" -eq 1 ] ||
			die "cannot tell which pci-epf-mhi flavour fits this SoC: set EPF_FUNCTION to one of: $(echo "$found" | tr '\n' ' ')"
		EPF_FUNCTION=$found
	fi
fi
[ -d "$functions/$EPF_FUNCTION" ] ||
	die "no $functions/$EPF_FUNCTION: is pci-epf-mhi (CONFIG_PCI_EPF_MHI) available?"

if [ -z "$EPC" ]; then
	found=$(subdirs "$controllers"/*)
	[ -n "$found" ] || die "no endpoint controller under $controllers: is the PCIe EP node enabled in the devicetree?"
	[ "$(echo "$found" | wc -l)" -eq 1 ] ||
		die "several endpoint controllers: set EPC to one of: $(echo "$found" | tr '\n' ' ')"
	EPC=$found
fi
epc=$controllers/$EPC
[ -d "$epc" ] || die "no endpoint controller $epc"

fn=$functions/$EPF_FUNCTION/$EPF_NAME
if [ ! -d "$fn" ]; then
	mkdir "$fn" || die "cannot create the function $fn"
fi

for pair in vendorid=$VENDOR_ID deviceid=$DEVICE_ID \
	subsys_vendor_id=$SUBSYS_VENDOR_ID subsys_id=$SUBSYS_ID; do
	attr=${pair%%=*}
	val=${pair#*=}
	[ -n "$val" ] || continue
	echo "$val" >"$fn/$attr" || die "cannot write $val to $fn/$attr (set the IDs before the link is started)"
done

if [ ! -e "$epc/$EPF_NAME" ]; then
	ln -s "$fn" "$epc/$EPF_NAME" || die "cannot link $fn to the controller $EPC"
fi

load mhi_ep_loopback
[ -d "$SYSFS/bus/mhi_ep/drivers/mhi_ep_loopback" ] ||
	die "the mhi_ep_loopback driver is not registered (CONFIG_MHI_BUS_EP_LOOPBACK)"

started=0
[ -r "$epc/start" ] && [ "$(cat "$epc/start")" = 1 ] && started=1
if [ "$started" = 0 ]; then
	echo 1 >"$epc/start" || die "cannot start the endpoint controller $EPC"
fi

ids=
for attr in vendorid deviceid subsys_vendor_id subsys_id; do
	[ -r "$fn/$attr" ] && ids="$ids $attr=$(cat "$fn/$attr")"
done
echo "$me: $EPF_FUNCTION/$EPF_NAME started on $EPC;$ids"
