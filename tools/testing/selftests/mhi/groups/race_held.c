// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group race (2/3): a start held in flight by the
 * link while the client, its module, the link, the controller or the
 * endpoint client goes away, or the endpoint crashes and is reset.
 *
 * Included by mhi_loopback_test.c (see there why), after groups/race.c.
 */

/*
 * A start held in flight: the link's hold_echo knob holds the echo until the
 * removal itself releases it (the host's channel RESET command, the cut
 * wire, the endpoint client's unbind), and its hold_echo_fired counter says
 * when the echo is held, so the removal that follows provably overlaps a
 * start that reached the device, however slow the machine is.
 */

/* Longer than the link's safety timeout of a hold (VLINK_HOLD_TIMEOUT_MS) */
#define LT_HOLD_END_WAIT_MS	45000
#define LT_HOLD_TIMEOUT_MSG	"Held echo not released"
#define LT_HOLD_NOT_RELEASED	"the removal did not release the held echo, the link's safety timeout did"
/*
 * Iterations of the tests that reset the endpoint (a graceful power down, a
 * crash): each is a whole power cycle or recovery, not a race to hit
 */
#define LT_RESET_ITERS		50UL
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
	ret = lt_vlink_stat("hold_echo_fired", &d0);
	if (ret)
		return ret;
	ret = pthread_create(&h->th, NULL, lt_held_run, h);
	if (ret)
		return -ret;
	do {
		lt_sleep_ms(1);
		ret = lt_vlink_stat("hold_echo_fired", &d);
	} while (!ret && d == d0 && lt_now_ns() < end);
	return ret ? ret : d == d0 ? -ETIMEDOUT : 0;
}

/*
 * 0 once the link holds no echo any more, and no hold ended by the link's
 * safety timeout since @timeouts0 was read (-ETIMEDOUT if one did, -EBUSY
 * if an echo is still held).
 */
static int lt_hold_end(unsigned long long timeouts0)
{
	unsigned long long held = 1, timeouts = 0;
	uint64_t end = lt_now_ns() + LT_HOLD_END_WAIT_MS * 1000000ULL;
	int ret;

	while (!(ret = lt_vlink_stat("echo_held", &held)) && held && lt_now_ns() < end)
		lt_sleep_ms(5);
	if (ret)
		return ret;
	if (held)
		return -EBUSY;
	ret = lt_vlink_stat("hold_timeouts", &timeouts);
	return ret ? ret : timeouts != timeouts0 ? -ETIMEDOUT : 0;
}

/* A reader of the kernel log from now on, or -1 */
static int lt_held_log_open(void)
{
	int fd;

	if (lt.fake)
		return -1;
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Whether the link logged a hold that its safety timeout ended, since the
 * last call: the only witness once the link itself went away.
 */
static bool lt_held_log_timeout(int fd)
{
	char rec[4096];
	int lost = 0;
	bool hit = false;
	ssize_t n;

	while (fd >= 0) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && (errno == EINTR || (errno == EPIPE && lost++ < 1000)))
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		hit = hit || strstr(rec, LT_HOLD_TIMEOUT_MSG);
	}
	return hit;
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

/* The host's graceful power down: MHI RESET of the endpoint, then the cut */
static int lt_remove_link_shutdown(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_vlink_power("shutdown");
}

/* Mission mode entries the host core reported before the crash */
static unsigned long long lt_crash_modes;

/* The endpoint reports SYS_ERR to the host, as crashing firmware does */
static int lt_remove_crash(struct __test_metadata *_metadata)
{
	int ret;

	(void)_metadata;
	ret = lt_vlink_stat("host_mission_modes", &lt_crash_modes);
	return ret ? ret : lt_knob_set("syserr", 1);
}

/*
 * The host core recovers by itself: it resets the endpoint, which powers up
 * again, and reaches mission mode once more, which it tells the link
 */
static int lt_restore_recovered(struct __test_metadata *_metadata)
{
	uint64_t end = lt_now_ns() + LT_BIND_WAIT_MS * 1000000ULL;
	unsigned long long modes = 0;
	int ret;

	(void)_metadata;
	while (!(ret = lt_vlink_stat("host_mission_modes", &modes)) &&
	       modes == lt_crash_modes && lt_now_ns() < end)
		lt_sleep_ms(5);
	return ret ? ret : modes == lt_crash_modes ? -ETIMEDOUT : 0;
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

/*
 * The link's removal, mhi_unregister_controller() under a start: a link of
 * the module's configuration made in configfs for the test, taken away by
 * "live" 0 and made again by "live" 1 (FIXTURE_TEARDOWN(race) removes it)
 */
static int lt_remove_link(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_cfs_write(lt_race_cfs_link, "live", "0");
}

static int lt_restore_link(struct __test_metadata *_metadata)
{
	char dev_name[64];
	int ret;

	(void)_metadata;
	ret = lt_cfs_write(lt_race_cfs_link, "live", "1");
	if (!ret)
		ret = lt_cfs_read(lt_race_cfs_link, "dev_name", dev_name, sizeof(dev_name));
	return ret ? ret : lt_cfs_select(dev_name);
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
 * @iters: iterations when not 0, else MHI_LT_HELD_ITERS
 */
struct lt_removal {
	lt_remove_fn remove;
	lt_remove_fn restore;
	bool link_goes;
	int want;
	unsigned long iters;
};

/*
 * Each iteration: hold a start in flight, take something away under it,
 * bring it back and require a checked pass. Every held start must overlap
 * the removal and end as @rm says; any other ending (a lost completion, a
 * bad echo) fails the test.
 */
static void lt_held_race(struct __test_metadata *_metadata, const struct lt_removal *rm)
{
	unsigned long iters = rm->iters ? rm->iters : lt_env_ulong("MHI_LT_HELD_ITERS", 200), i;
	unsigned long overlaps = 0, wanted = 0, passes = 0, other = 0;
	unsigned long long timeouts0 = 0;
	uint32_t rng = lt.seed;
	uint64_t t_rm;
	struct lt_held h;
	int ret, log;

	if (!lt_knob_usable("hold_echo"))
		SKIP(return, "no hold knob on this link");
	log = lt_held_log_open();
	ksft_print_msg("seed=%u iterations=%lu hold=until released\n", lt.seed, iters);
	for (i = 0; i < iters; i++) {
		ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 1 + lt_rand(&rng) % 4096));
		ASSERT_EQ(0, lt_vlink_stat("hold_timeouts", &timeouts0));
		ASSERT_EQ(0, lt_knob_set("hold_echo", 1));
		ret = lt_hold_start(&h, lt.deadline_ms);
		t_rm = lt_now_ns();
		EXPECT_EQ(0, ret) TH_LOG("iteration %lu: echo never held: %s", i, lt_errname(ret));
		ret = rm->remove(_metadata);
		EXPECT_EQ(0, ret) TH_LOG("iteration %lu: removal: %s", i, lt_errname(ret));
		if (h.th)
			pthread_join(h.th, NULL);
		/* The held echo must have been released by the removal itself */
		if (!rm->link_goes) {
			ret = lt_hold_end(timeouts0);
			ASSERT_EQ(0, ret) TH_LOG("iteration %lu: %s: %s", i, LT_HOLD_NOT_RELEASED,
						 lt_errname(ret));
			EXPECT_EQ(0, lt_knob_set("hold_echo", 0));
		}
		ASSERT_FALSE(lt_held_log_timeout(log))
			TH_LOG("iteration %lu: %s: the kernel log says \"%s\"", i,
			       LT_HOLD_NOT_RELEASED, LT_HOLD_TIMEOUT_MSG);
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
			ASSERT_EQ(0, lt_knob_set("hold_echo", 0));
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
	if (log >= 0)
		close(log);
	ksft_print_msg("held_iterations=%lu overlaps=%lu %s=%lu passes=%lu\n", i,
		       overlaps, rm->want ? lt_errname(rm->want) : "passed", wanted, passes);
	EXPECT_EQ(iters, overlaps) TH_LOG("held starts that overlapped the removal");
	EXPECT_EQ(iters, wanted) TH_LOG("held starts that ended with %s", lt_errname(rm->want));
	EXPECT_EQ(iters, passes) TH_LOG("starts that passed after the device came back");
}

TEST_F_TIMEOUT(race, held_start_vs_unbind, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_unbind, lt_restore_bind, false, -ENODEV, 0,
	};

	lt_held_race(_metadata, &rm);
}

TEST_F_TIMEOUT(race, held_start_vs_rmmod_host, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_rmmod, lt_restore_modprobe, false, -ENODEV, 0,
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
		lt_remove_link_down, lt_restore_link_up, false, -ENODEV, 0,
	};

	if (!lt_knob_present("power"))
		SKIP(return, "no power control on this link");
	lt_held_race(_metadata, &rm);
}

/*
 * The host powers the link down gracefully: its core resets the endpoint
 * through MHI RESET (the link counts it) before the wire is cut
 */
TEST_F_TIMEOUT(race, held_start_vs_link_shutdown, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_link_shutdown, lt_restore_link_up, false, -ENODEV, LT_RESET_ITERS,
	};
	unsigned long long resets0 = 0, resets = 0;

	if (!lt_knob_present("power") || !lt_knob_present("syserr"))
		SKIP(return, "no graceful power down on this link");
	ASSERT_EQ(0, lt_vlink_stat("host_resets", &resets0));
	lt_held_race(_metadata, &rm);
	ASSERT_EQ(0, lt_vlink_stat("host_resets", &resets));
	EXPECT_EQ(LT_RESET_ITERS, resets - resets0)
		TH_LOG("MHI RESETs of the endpoint the link saw");
}

/*
 * The endpoint crashes with a start in flight: the start fails with ENODEV
 * (the host core removes its devices), the host core resets the endpoint
 * and recovers by itself, and the next start passes. The host core's own
 * counts say it saw each crash and reached mission mode again.
 */
TEST_F_TIMEOUT(race, held_start_vs_endpoint_crash, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_crash, lt_restore_recovered, false, -ENODEV, LT_RESET_ITERS,
	};
	unsigned long long errs0 = 0, errs = 0, modes0 = 0, modes = 0;
	unsigned long long resets0 = 0, resets = 0;

	if (!lt_knob_present("syserr"))
		SKIP(return, "no endpoint crash on this link");
	ASSERT_EQ(0, lt_vlink_stat("host_sys_errors", &errs0));
	ASSERT_EQ(0, lt_vlink_stat("host_mission_modes", &modes0));
	ASSERT_EQ(0, lt_vlink_stat("host_resets", &resets0));
	lt_held_race(_metadata, &rm);
	ASSERT_EQ(0, lt_vlink_stat("host_sys_errors", &errs));
	ASSERT_EQ(0, lt_vlink_stat("host_mission_modes", &modes));
	ASSERT_EQ(0, lt_vlink_stat("host_resets", &resets));
	EXPECT_EQ(LT_RESET_ITERS, errs - errs0) TH_LOG("SYS_ERRs the host core reported");
	EXPECT_EQ(LT_RESET_ITERS, resets - resets0)
		TH_LOG("MHI RESETs of the endpoint the link saw");
	EXPECT_EQ(LT_RESET_ITERS, modes - modes0) TH_LOG("mission mode entries after them");
}

/* The controller's module goes away, both controllers with it */
TEST_F_TIMEOUT(race, held_start_vs_rmmod_vlink, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_rmmod_vlink, lt_restore_modprobe_vlink, true, -ENODEV, 0,
	};
	const char *why;

	if (!lt_can_cycle(_metadata, LT_VLINK_MOD, &why))
		SKIP(return, "%s", why);
	lt_held_race(_metadata, &rm);
}

/* The link is removed: the host core's controller removal */
TEST_F_TIMEOUT(race, held_start_vs_link_removal, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_link, lt_restore_link, true, -ENODEV, 0,
	};
	int ret;

	if (!lt_knob_present("power"))
		SKIP(return, "not a virtual link");
	ret = lt_cfs_mount();
	ASSERT_EQ(0, ret) TH_LOG("no configfs directory of mhi_vlink: %s", lt_errname(ret));
	ASSERT_EQ(0, lt_cfs_mkdir(LT_RACE_CFS_LINK));
	snprintf(lt_race_cfs_link, sizeof(lt_race_cfs_link), "%s", LT_RACE_CFS_LINK);
	ret = lt_restore_link(_metadata);
	ASSERT_EQ(0, ret) TH_LOG("a link made in configfs: %s", lt_errname(ret));
	lt_held_race(_metadata, &rm);
}

/* The endpoint client is unbound while the echo it queued is held */
TEST_F_TIMEOUT(race, held_start_vs_ep_unbind, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_ep_unbind, lt_restore_ep_bind, false, 0, 0,
	};

	if (!lt.epdev[0] || !lt_ep_bound())
		SKIP(return, "no endpoint client on this machine");
	lt_held_race(_metadata, &rm);
}
