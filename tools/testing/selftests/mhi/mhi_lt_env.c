// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest: the environment contract.
 *
 * - Every output of the program is a KTAP document: the "TAP version 13"
 *   header comes first, also when the program skips or fails before it ran
 *   a test, and when it only lists or describes (lt_exit_*, lt_ktap_info).
 * - Which MHI controllers the machine has, and which of them is the
 *   virtual link (mhi_vlink): the program loads the link only on a machine
 *   without any controller, or when told to (--vlink).
 * - Which tests need the virtual link and which run on hardware: the
 *   table lt_classes[] below. In --hardware mode the link tests report
 *   SKIP "needs the virtual link" (see Documentation/mhi/loopback-selftest.rst).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "mhi_lt.h"

/* mhi_vlink's links are faux devices mhi-vlink.<id>, parents of their controllers */
#define LT_VLINK_BUS		"faux"
#define LT_VLINK_DEV_PREFIX	"mhi-vlink."

/* ------------------------------------------------------------------------ */
/* KTAP framing of the early exits                                           */
/* ------------------------------------------------------------------------ */

static bool lt_header_done;

void lt_ktap_header(void)
{
	if (lt_header_done)
		return;
	lt_header_done = true;
	ksft_print_header();
}

void lt_exit_skip(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lt_ktap_header();
	ksft_exit_skip("%s", msg);
}

void lt_exit_fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lt_ktap_header();
	ksft_exit_fail_msg("%s", msg);
}

/* A document that runs nothing (listings, --info): header and "1..0 # SKIP". */
void lt_ktap_info(const char *what)
{
	lt_ktap_header();
	printf("1..0 # SKIP %s\n", what);
	fflush(stdout);
}

/* ------------------------------------------------------------------------ */
/* Controllers                                                               */
/* ------------------------------------------------------------------------ */

/* "mhi<N>": the host core's name of a controller (its channels are mhi<N>_<name>) */
static bool lt_is_cntrl_name(const char *name)
{
	const char *p = name + 3;

	if (strncmp(name, "mhi", 3) || !*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* Controllers under /sys/bus/mhi/devices, sorted; -errno if there is no bus. */
int lt_controllers(char names[][LT_NAME_LEN], int max)
{
	return lt_list_devices(names, max, lt_is_cntrl_name);
}

/* The last component of the symbolic link @path points to, or NULL */
static const char *lt_link_base(const char *path, char *target, size_t size)
{
	const char *base;
	ssize_t n;

	n = readlink(path, target, size - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	base = strrchr(target, '/');
	return base ? base + 1 : target;
}

/*
 * A controller of the virtual link: its parent device is a faux device
 * named mhi-vlink.<id>. Read from sysfs, so that this holds with the link's
 * debugfs hidden too.
 */
bool lt_cntrl_is_vlink(const char *cntrl)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;

	if (lt_path(path, sizeof(path), "/sys/bus/mhi/devices/%s/../subsystem", cntrl))
		return false;
	base = lt_link_base(path, target, sizeof(target));
	if (!base || strcmp(base, LT_VLINK_BUS))
		return false;

	if (lt_path(path, sizeof(path), "/sys/bus/mhi/devices/%s", cntrl))
		return false;
	/* .../devices/faux/mhi-vlink.<id>/mhi<N>: the component before the last */
	base = lt_link_base(path, target, sizeof(target));
	if (!base || base == target)
		return false;
	target[base - target - 1] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	return !strncmp(base, LT_VLINK_DEV_PREFIX, strlen(LT_VLINK_DEV_PREFIX));
}

/* Like lt_select(), among the LOOPBACK devices of the virtual link only. */
int lt_select_vlink(const char *want)
{
	char names[LT_MAX_DEVS][LT_NAME_LEN], cntrl[LT_NAME_LEN], *suffix;
	int i, n;

	n = lt_discover(names, LT_MAX_DEVS);
	if (n <= 0)
		return n ? n : -ENODEV;
	for (i = 0; i < n; i++) {
		if (want && *want && strcmp(want, names[i]))
			continue;
		memcpy(cntrl, names[i], sizeof(cntrl));
		suffix = strstr(cntrl, "_LOOPBACK");
		if (suffix)
			*suffix = '\0';
		if (lt_cntrl_is_vlink(cntrl))
			return lt_select(names[i]);
	}
	return -ENODEV;
}

/*
 * Why there is nothing to test, for a machine without a LOOPBACK device:
 * "controller mhi0 has no LOOPBACK channel", "no MHI controller", ...
 * Returns the number of controllers found (0 or less: none).
 */
int lt_no_device_reason(const char *want, char *buf, size_t len)
{
	char names[LT_MAX_DEVS][LT_NAME_LEN];
	size_t o;
	int i, n;

	if (!lt_bus_present()) {
		snprintf(buf, len, "no MHI bus");
		return 0;
	}
	n = lt_discover(names, LT_MAX_DEVS);
	if (want && *want && n > 0) {
		snprintf(buf, len, "no MHI device %s", want);
		return n;
	}
	n = lt_controllers(names, LT_MAX_DEVS);
	if (n <= 0) {
		snprintf(buf, len, "no MHI controller");
		return n;
	}
	o = snprintf(buf, len, "controller%s ", n > 1 ? "s" : "");
	for (i = 0; i < n && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%s", i ? ", " : "", names[i]);
	if (o < len)
		snprintf(buf + o, len - o, " %s no LOOPBACK channel", n > 1 ? "have" : "has");
	return n;
}

/* ------------------------------------------------------------------------ */
/* Classes of the tests                                                      */
/* ------------------------------------------------------------------------ */

/*
 * First match wins; patterns are fnmatch(3) globs on fixture.variant.test.
 * A test that matches no line is unclassified: it does not run in
 * --hardware mode and tests/selftest.bats fails until it gets a line here.
 * Race tests are listed one by one on purpose: a new one must be classed.
 */
static const struct {
	const char *pattern;
	enum lt_class class;
} lt_classes[] = {
	/* sysfs ABI, data starts and their evidence: any LOOPBACK device */
	{ "abi.*",				LT_CLASS_HARDWARE },
	{ "loopback.*",				LT_CLASS_HARDWARE },
	{ "measure.*",				LT_CLASS_HARDWARE },
	{ "sweep.*",				LT_CLASS_HARDWARE },
	{ "leak.*",				LT_CLASS_HARDWARE },
	/* host-side unbind and rmmod of mhi_loopback, starts in parallel */
	{ "race.start_vs_unbind",		LT_CLASS_HARDWARE },
	{ "race.start_vs_rmmod_host",		LT_CLASS_HARDWARE },
	{ "race.concurrent_starts",		LT_CLASS_HARDWARE },
	{ "race.readers_during_starts",		LT_CLASS_HARDWARE },
	{ "race.module_reload_cycles",		LT_CLASS_HARDWARE },
	/* the link's fault knobs */
	{ "fault.*",				LT_CLASS_LINK },
	/* the link's interrupt delivery slowed down */
	{ "irq.*",				LT_CLASS_LINK },
	/* the endpoint client's own counters of its echo buffers */
	{ "zerocopy.*",				LT_CLASS_LINK },
	/* links of mhi_vlink made in configfs */
	{ "configfs.*",				LT_CLASS_LINK },
	/* the link's runtime suspend to M3 */
	{ "pm.*",				LT_CLASS_LINK },
	/* starts held in flight by the link's delay knob */
	{ "race.held_start_*",			LT_CLASS_LINK },
	/* the endpoint's client on this machine: only the link has it here */
	{ "race.ep_reload_no_lost_start",	LT_CLASS_LINK },
	{ "race.start_vs_rmmod_ep",		LT_CLASS_LINK },
	{ "race.ep_bind_vs_doorbells",		LT_CLASS_LINK },
	/* unloads mhi_vlink itself */
	{ "race.vlink_cycles",			LT_CLASS_LINK },
};

enum lt_class lt_test_class(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lt_classes); i++)
		if (!fnmatch(lt_classes[i].pattern, name, 0))
			return lt_classes[i].class;
	return LT_CLASS_NONE;
}

const char *lt_class_name(enum lt_class class)
{
	switch (class) {
	case LT_CLASS_HARDWARE:
		return "hardware";
	case LT_CLASS_LINK:
		return "link";
	default:
		return "unclassified";
	}
}

/* Whether @name runs in this run's mode (only hardware tests with --hardware). */
bool lt_test_runs_here(const char *name)
{
	return !lt.hardware || lt_test_class(name) == LT_CLASS_HARDWARE;
}

/* ------------------------------------------------------------------------ */
/* Mode: --vlink, --hardware, or neither                                     */
/* ------------------------------------------------------------------------ */

/*
 * The options win over MHI_LT_VLINK / MHI_LT_HARDWARE. Both at once is a
 * contradiction, so it fails (with the KTAP header first).
 */
void lt_set_mode(int opt_vlink, int opt_hardware)
{
	bool vlink = lt_env_ulong("MHI_LT_VLINK", 0);
	bool hardware = lt_env_ulong("MHI_LT_HARDWARE", 0);

	if (opt_vlink >= 0 || opt_hardware >= 0) {
		vlink = opt_vlink > 0;
		hardware = opt_hardware > 0;
	}
	if (vlink && hardware)
		lt_exit_fail("--vlink and --hardware exclude each other\n");
	lt.use_vlink = vlink;
	lt.hardware = hardware;
}

const char *lt_mode_name(void)
{
	return lt.hardware ? "hardware" : lt.use_vlink ? "vlink" : "auto";
}
