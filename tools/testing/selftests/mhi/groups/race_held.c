// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group race (2/3): a start held in flight by the
 * link while the client, its module, the link, the controller or the
 * endpoint client goes away.
 *
 * Included by mhi_loopback_test.c (see there why), after groups/race.c.
 */

/*
 * A start held in flight: the link's delay knob holds the echo, and its
 * echo_delays counter says when it does, so the removal that follows
 * provably overlaps a start that reached the device.
 */
struct lt_held {
	pthread_t th;
	int ret;
	uint64_t t0, t1;
};

static void *lt_held_run(void *arg)
{
	struct lt_held *h = arg;

	h->t0 = lt_now_ns();
	h->ret = lt_start(NULL);
	h->t1 = lt_now_ns();
	return NULL;
}

/* 0 once the link holds the echo of a start run by a new thread */
static int lt_hold_start(struct lt_held *h, unsigned int ms)
{
	unsigned long long d0 = 0, d = 0;
	uint64_t end = lt_now_ns() + (uint64_t)ms * 1000000ULL;
	int ret;

	memset(h, 0, sizeof(*h));
	ret = lt_vlink_stat("echo_delays", &d0);
	if (ret)
		return ret;
	ret = pthread_create(&h->th, NULL, lt_held_run, h);
	if (ret)
		return -ret;
	do {
		lt_sleep_ms(1);
		ret = lt_vlink_stat("echo_delays", &d);
	} while (!ret && d == d0 && lt_now_ns() < end);
	return ret ? ret : d == d0 ? -ETIMEDOUT : 0;
}

typedef int (*lt_remove_fn)(struct __test_metadata *_metadata);

static int lt_remove_unbind(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_bind(false);
}

static int lt_restore_bind(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_bind(true);
}

static int lt_remove_rmmod(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_mod_unload(LT_HOST_DRV);
}

static int lt_restore_modprobe(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_mod_load(LT_HOST_DRV);
}

/* The link's surprise removal: the wire is cut, then the host powers down */
static int lt_remove_link_down(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_vlink_power("down");
}

static int lt_restore_link_up(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_vlink_power("up");
}

static int lt_remove_rmmod_vlink(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_mod_unload(LT_VLINK_MOD);
}

static int lt_restore_modprobe_vlink(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_mod_load(LT_VLINK_MOD);
}

/* The controller driver's remove: mhi_unregister_controller() under a start */
static int lt_remove_cntrl_unbind(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_cntrl_bind(false);
}

static int lt_restore_cntrl_bind(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_cntrl_bind(true);
}

static int lt_remove_ep_unbind(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_ep_bind(false);
}

static int lt_restore_ep_bind(struct __test_metadata *_metadata)
{
	int ret;

	(void)_metadata;
	ret = lt_ep_bind(true);
	return ret ? ret : lt_wait_ep_bound(LT_BIND_WAIT_MS);
}

/**
 * struct lt_removal - What goes away under a held start, and what it means
 * @remove: takes it away while the echo is held
 * @restore: brings it back
 * @link_goes: the link's debugfs goes with it (its knobs start disarmed)
 * @want: how the held start must end: -ENODEV when the host device goes
 *        away; 0 when only the endpoint client does, since the held echo
 *        was already handed to the endpoint core
 */
struct lt_removal {
	lt_remove_fn remove;
	lt_remove_fn restore;
	bool link_goes;
	int want;
};

/*
 * Each iteration: hold a start in flight, take something away under it,
 * bring it back and require a checked pass. Every held start must overlap
 * the removal and end as @rm says; any other ending (a lost completion, a
 * bad echo) fails the test.
 */
static void lt_held_race(struct __test_metadata *_metadata, const struct lt_removal *rm)
{
	unsigned long iters = lt_env_ulong("MHI_LT_HELD_ITERS", 200), i;
	unsigned long overlaps = 0, wanted = 0, passes = 0, other = 0;
	unsigned int hold = lt_env_ulong("MHI_LT_HOLD_MS", 100);
	uint32_t rng = lt.seed;
	uint64_t t_rm;
	struct lt_held h;
	int ret;

	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no delay knob on this link");
	if (hold >= lt.deadline_ms / 2)
		hold = lt.deadline_ms / 2;
	ksft_print_msg("seed=%u iterations=%lu hold=%u ms\n", lt.seed, iters, hold);
	for (i = 0; i < iters; i++) {
		ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 1 + lt_rand(&rng) % 4096));
		ASSERT_EQ(0, lt_knob_set("delay_echo_ms", hold));
		ret = lt_hold_start(&h, lt.deadline_ms);
		t_rm = lt_now_ns();
		EXPECT_EQ(0, ret) TH_LOG("iteration %lu: echo never held: %s", i, lt_errname(ret));
		ret = rm->remove(_metadata);
		EXPECT_EQ(0, ret) TH_LOG("iteration %lu: removal: %s", i, lt_errname(ret));
		if (h.th)
			pthread_join(h.th, NULL);
		if (!rm->link_goes)
			EXPECT_EQ(0, lt_knob_set("delay_echo_ms", 0));
		if (h.t0 && h.t0 < t_rm && h.t1 > t_rm)
			overlaps++;
		if (h.ret == rm->want)
			wanted++;
		else if (other++ < 4)
			TH_LOG("iteration %lu: held start ended with %s, not %s", i,
			       lt_errname(h.ret), lt_errname(rm->want));
		ret = rm->restore(_metadata);
		EXPECT_EQ(0, ret) TH_LOG("iteration %lu: restoring: %s", i, lt_errname(ret));
		ASSERT_EQ(0, lt_wait_bound(true, LT_BIND_WAIT_MS))
			TH_LOG("iteration %lu: %s did not come back", i, lt.dev);
		if (rm->link_goes)
			ASSERT_EQ(0, lt_knob_set("delay_echo_ms", 0));
		ret = lt_start_here(_metadata, NULL);
		if (!ret)
			passes++;
		else if (other++ < 4)
			TH_LOG("iteration %lu: start after the device came back: %s", i,
			       lt_errname(ret));
		if (other > 16) {
			i++;
			break;		/* enough said, and each failure costs time */
		}
	}
	ksft_print_msg("held_iterations=%lu overlaps=%lu %s=%lu passes=%lu\n", i,
		       overlaps, rm->want ? lt_errname(rm->want) : "passed", wanted, passes);
	EXPECT_EQ(iters, overlaps) TH_LOG("held starts that overlapped the removal");
	EXPECT_EQ(iters, wanted) TH_LOG("held starts that ended with %s", lt_errname(rm->want));
	EXPECT_EQ(iters, passes) TH_LOG("starts that passed after the device came back");
}

TEST_F_TIMEOUT(race, held_start_vs_unbind, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_unbind, lt_restore_bind, false, -ENODEV,
	};

	lt_held_race(_metadata, &rm);
}

TEST_F_TIMEOUT(race, held_start_vs_rmmod_host, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_rmmod, lt_restore_modprobe, false, -ENODEV,
	};
	const char *why;

	if (!lt_can_cycle(_metadata, LT_HOST_DRV, &why))
		SKIP(return, "%s", why);
	lt_held_race(_metadata, &rm);
}

/* The controller goes away: a surprise removal of the link */
TEST_F_TIMEOUT(race, held_start_vs_link_down, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_link_down, lt_restore_link_up, false, -ENODEV,
	};

	if (!lt_knob_present("power"))
		SKIP(return, "no power control on this link");
	lt_held_race(_metadata, &rm);
}

/* The controller's module goes away, both controllers with it */
TEST_F_TIMEOUT(race, held_start_vs_rmmod_vlink, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_rmmod_vlink, lt_restore_modprobe_vlink, true, -ENODEV,
	};
	const char *why;

	if (!lt_can_cycle(_metadata, LT_VLINK_MOD, &why))
		SKIP(return, "%s", why);
	lt_held_race(_metadata, &rm);
}

/* The controller driver is unbound: the host core's controller removal */
TEST_F_TIMEOUT(race, held_start_vs_cntrl_unbind, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_cntrl_unbind, lt_restore_cntrl_bind, true, -ENODEV,
	};

	if (!lt_knob_present("power"))
		SKIP(return, "not a virtual link");
	lt_held_race(_metadata, &rm);
}

/* The endpoint client is unbound while the echo it queued is held */
TEST_F_TIMEOUT(race, held_start_vs_ep_unbind, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_ep_unbind, lt_restore_ep_bind, false, 0,
	};

	if (!lt.epdev[0] || !lt_ep_bound())
		SKIP(return, "no endpoint client on this machine");
	lt_held_race(_metadata, &rm);
}
