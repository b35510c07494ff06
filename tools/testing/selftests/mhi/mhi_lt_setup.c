// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest: what main() does before the tests run. It finds
 * the device (root, a bus, a LOOPBACK device bound to mhi_loopback), loads
 * the virtual link only when it is asked for or there is no MHI controller
 * at all, unloads at exit what it loaded, and prints what --info shows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "mhi_lt.h"

pid_t lt_main_pid;

/* unload order: the link first, the cores last */
static const char * const lt_owned[] = {
	LT_VLINK_MOD, LT_HOST_DRV, LT_EP_DRV, "mhi", "mhi_ep",
};

static bool lt_owned_before[ARRAY_SIZE(lt_owned)];
static bool lt_snapshot_taken;

static void lt_unload_owned(void)
{
	size_t i;
	int ret;

	if (getpid() != lt_main_pid || !lt_snapshot_taken)
		return;
	for (i = 0; i < ARRAY_SIZE(lt_owned); i++) {
		if (lt_owned_before[i] || lt_mod_state(lt_owned[i]) == LT_MOD_ABSENT)
			continue;
		ret = lt_mod_unload(lt_owned[i]);
		if (ret && ret != -ENOENT)
			ksft_print_msg("unloading %s: %s\n", lt_owned[i], strerror(-ret));
	}
	lt_mod_cleanup();
}

static void lt_snapshot_modules(void)
{
	size_t i;

	if (lt_snapshot_taken)
		return;
	for (i = 0; i < ARRAY_SIZE(lt_owned); i++)
		lt_owned_before[i] = lt_mod_state(lt_owned[i]) != LT_MOD_ABSENT;
	lt_snapshot_taken = true;
	atexit(lt_unload_owned);
}

static int lt_wait_device(const char *want, bool vlink_only, unsigned int ms)
{
	uint64_t end = lt_now_ns() + (uint64_t)ms * 1000000ULL;
	int ret;

	for (;;) {
		ret = vlink_only ? lt_select_vlink(want) : lt_select(want);
		if (!ret && lt_bound())
			return 0;
		if (lt_now_ns() > end)
			return ret ? ret : -ETIMEDOUT;
		lt_sleep_ms(100);
	}
}

static void lt_load_or_skip(const char *mod)
{
	int ret;

	lt_snapshot_modules();
	ret = lt_mod_load(mod);
	if (!ret || ret == -EEXIST)
		return;
	if (lt_mod_forbidden(ret))
		lt_exit_skip("module loading not permitted\n");
	ksft_print_msg("loading %s: %s\n", mod, strerror(-ret));
}

/*
 * Load the virtual link (EP client, host client, then the link) and wait for
 * its LOOPBACK device; skip with the reason when that cannot be done.
 */
static int lt_load_vlink(const char *want)
{
	static const char * const rig[] = { LT_EP_DRV, LT_HOST_DRV, LT_VLINK_MOD };
	unsigned int wait_ms = lt_env_ulong("MHI_LT_WAIT_S", 60) * 1000;
	size_t i;

	if (!lt.may_load)
		lt_exit_skip("mhi_vlink is not loaded and module loading is off\n");
	if (!lt_mod_available(LT_VLINK_MOD))
		lt_exit_skip("module mhi_vlink not found\n");
	for (i = 0; i < ARRAY_SIZE(rig); i++)
		lt_load_or_skip(rig[i]);
	return lt_wait_device(want, true, wait_ms);
}

/*
 * Root, a bus, a LOOPBACK device bound to mhi_loopback; else exit here.
 * No silent fallback to the virtual link: it is loaded only with --vlink or
 * on a machine that has no MHI controller at all, never with --hardware. A
 * machine whose controllers have no LOOPBACK channel skips and says so.
 */
void lt_prepare(const char *want)
{
	unsigned int wait_ms = lt_env_ulong("MHI_LT_WAIT_S", 60) * 1000;
	char why[256];
	int ret;

	if (!lt.fake && geteuid())
		lt_exit_skip("not root\n");
	lt.may_load = !lt.fake && !lt_env_ulong("MHI_LT_NO_LOAD", 0);

	if (lt.use_vlink) {
		ret = lt_select_vlink(want);
		if (ret && lt_mod_state(LT_VLINK_MOD) == LT_MOD_ABSENT)
			ret = lt_load_vlink(want);
		if (ret)
			lt_exit_skip("no LOOPBACK device%s%s on the virtual link\n",
				     want ? " " : "", want ? want : "");
	} else {
		ret = lt_select(want);
		if (ret && lt_no_device_reason(want, why, sizeof(why)) <= 0 &&
		    !lt.hardware && lt_mod_state(LT_VLINK_MOD) == LT_MOD_ABSENT &&
		    lt_mod_available(LT_VLINK_MOD))
			ret = lt_load_vlink(want);
		if (ret) {
			lt_no_device_reason(want, why, sizeof(why));
			lt_exit_skip("%s\n", why);
		}
	}
	if (lt_bound())
		return;
	if (lt.may_load && lt_mod_state(LT_HOST_DRV) == LT_MOD_ABSENT) {
		if (!lt_mod_available(LT_HOST_DRV))
			lt_exit_skip("module mhi_loopback not found\n");
		lt_load_or_skip(LT_HOST_DRV);
	} else if (!lt.fake) {
		lt_bind(true);
	}
	if (lt_wait_bound(true, wait_ms))
		lt_exit_fail("%s is not bound to %s\n", lt.dev, LT_HOST_DRV);
}

void lt_print_info(void)
{
	static const char * const knobs[] = {
		"drop_echo", "corrupt_echo", "delay_echo_ms", "fail_dma", "hold_echo",
	};
	char names[LT_MAX_DEVS][LT_NAME_LEN], key[64];
	unsigned long long fired;
	unsigned long val;
	int i, n;

	printf("mode=%s\n", lt_mode_name());
	n = lt_controllers(names, LT_MAX_DEVS);
	for (i = 0; i < n; i++)
		printf("mhi_controller=%s virtual_link=%d\n", names[i],
		       lt_cntrl_is_vlink(names[i]));
	n = lt_discover(names, LT_MAX_DEVS);
	for (i = 0; i < n; i++)
		printf("loopback_device=%s\n", names[i]);
	printf("device=%s\ncontroller=%s\nbound=%d\n", lt.dev, lt.cntrl, lt_bound());
	printf("vlink=%s\nep_device=%s\nep_bound=%d\n", lt.vlink[0] ? lt.vlink : "none",
	       lt.epdev[0] ? lt.epdev : "none", lt_ep_bound());
	for (i = 0; i < (int)(ARRAY_SIZE(knobs)); i++) {
		if (!lt_knob_present(knobs[i]))
			continue;
		snprintf(key, sizeof(key), "%s_fired", knobs[i]);
		printf("knob_%s=%ld fired=%lld\n", knobs[i],
		       lt_knob_get(knobs[i], &val) ? -1L : (long)val,
		       lt_vlink_stat(key, &fired) ? -1LL : (long long)fired);
	}
	printf("module_backend=%s\nseed=%u\n", lt_mod_backend(), lt.seed);
}
