// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group fault: the mhi_vlink fault knobs; each
 * failure is detected and recovered.
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

FIXTURE(fault) {
	struct lt_guard g;
	int cap;
};

FIXTURE_SETUP(fault)
{
	int ret;

	if (!lt.vlink[0])
		SKIP(return, "no fault knob");
	lt_test_begin(_metadata, &self->g, "fault", NULL);
	lt_knobs_disarm();
	self->cap = lt_probe_capacity();
	ASSERT_LT(0, self->cap);
	ret = lt_start(NULL);
	ASSERT_EQ(0, ret) TH_LOG("start fails before any knob is armed: %s", lt_errname(ret));
}

FIXTURE_TEARDOWN(fault)
{
	lt_knobs_disarm();
	lt_test_end(_metadata, &self->g);
}

/*
 * After a failed start: the next start passes, and the channel has lost no
 * room (stale TREs would lower the largest accepted num_tre, see H3).
 */
static void lt_expect_recovered(struct __test_metadata *_metadata, int cap0)
{
	int cap, ret;

	lt_expect_pass(_metadata, "first start after the failure");
	cap = lt_probe_capacity();
	EXPECT_EQ(cap0, cap) TH_LOG("largest num_tre was %d before the failure, now %d",
				    cap0, cap);
	if (cap <= 0)
		return;
	ret = lt_attr_set_ulong("num_tre", cap);
	EXPECT_EQ(0, ret);
	lt_expect_pass(_metadata, "num_tre=capacity after the failure");
	lt_attr_set_ulong("num_tre", 1);
}

/* Arm @knob with @val, run one start: it must fail with @err, the knob fire. */
static void lt_expect_fault(struct __test_metadata *_metadata, const char *knob,
			    unsigned long val, int err, bool countdown)
{
	unsigned long long f0 = 0, f1 = 0;
	unsigned long left = 0;
	char key[64];
	bool have_fired;
	uint64_t ns = 0;
	int ret;

	snprintf(key, sizeof(key), "%s_fired", knob);
	have_fired = !lt_vlink_stat(key, &f0);
	ret = lt_knob_set(knob, val);
	ASSERT_EQ(0, ret) TH_LOG("arming %s=%lu: %s", knob, val, lt_errname(ret));
	ret = lt_start(&ns);
	EXPECT_EQ(-err, ret) TH_LOG("start with %s=%lu returned %d (%s), expected %s",
				    knob, val, ret, lt_errname(ret), lt_errname(err));
	ksft_print_msg("%s: start returned %s after %.1f ms\n", knob, lt_errname(ret),
		       ns / 1e6);
	lt_expect_attr(_metadata, "status", "fail");
	if (countdown) {
		EXPECT_TRUE(have_fired) TH_LOG("stats has no %s", key);
		EXPECT_EQ(0, lt_knob_get(knob, &left));
		EXPECT_EQ(0UL, left) TH_LOG("%s not consumed", knob);
	} else if (!have_fired) {
		ksft_print_msg("stats has no %s\n", key);
	}
	if (have_fired) {
		EXPECT_EQ(0, lt_vlink_stat(key, &f1));
		EXPECT_LT(f0, f1) TH_LOG("%s did not fire", knob);
	}
	ret = lt_knob_set(knob, 0);
	EXPECT_EQ(0, ret) TH_LOG("disarming %s: %s", knob, lt_errname(ret));
}

TEST_F_TIMEOUT(fault, drop_echo, LT_FAULT_TIMEOUT)
{
	if (!lt_knob_usable("drop_echo"))
		SKIP(return, "no fault knob");
	lt_expect_fault(_metadata, "drop_echo", 1, ETIMEDOUT, true);
	lt_expect_recovered(_metadata, self->cap);
}

TEST_F_TIMEOUT(fault, corrupt_echo, LT_FAULT_TIMEOUT)
{
	if (!lt_knob_usable("corrupt_echo"))
		SKIP(return, "no fault knob");
	lt_expect_fault(_metadata, "corrupt_echo", 1, EIO, true);
	lt_expect_recovered(_metadata, self->cap);
}

TEST_F_TIMEOUT(fault, delay_echo_over_deadline, LT_FAULT_TIMEOUT)
{
	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no fault knob");
	lt_expect_fault(_metadata, "delay_echo_ms", lt.deadline_ms + 1000, ETIMEDOUT, false);
	lt_expect_recovered(_metadata, self->cap);
}

TEST_F_TIMEOUT(fault, delay_echo_under_deadline, LT_FAULT_TIMEOUT)
{
	const unsigned int delay = 50;
	unsigned long long f0 = 0, f1 = 0;
	bool have_fired;
	uint64_t ns = 0;
	int ret;

	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no fault knob");
	have_fired = !lt_vlink_stat("delay_echo_ms_fired", &f0);
	ASSERT_EQ(0, lt_knob_set("delay_echo_ms", delay));
	ret = lt_start(&ns);
	EXPECT_EQ(0, ret) TH_LOG("start with delay_echo_ms=%u: %s", delay, lt_errname(ret));
	EXPECT_LE((uint64_t)delay * 1000000ULL, ns)
		TH_LOG("start took %.1f ms: the delay was not applied", ns / 1e6);
	ksft_print_msg("delayed_start=%.1f ms\n", ns / 1e6);
	lt_expect_attr(_metadata, "status", "pass");
	if (have_fired) {
		EXPECT_EQ(0, lt_vlink_stat("delay_echo_ms_fired", &f1));
		EXPECT_LT(f0, f1);
	}
	EXPECT_EQ(0, lt_knob_set("delay_echo_ms", 0));
	lt_expect_pass(_metadata, "after the delay");
}

TEST_F_TIMEOUT(fault, fail_dma, LT_FAULT_TIMEOUT)
{
	if (!lt_knob_usable("fail_dma"))
		SKIP(return, "no fault knob");
	lt_expect_fault(_metadata, "fail_dma", 1, ETIMEDOUT, true);
	lt_expect_recovered(_metadata, self->cap);
}

/*
 * A start that fails on its first echo while the endpoint still has the
 * rest of a full ring to process: the host resets the channels (and may set
 * their rings up elsewhere) under the endpoint's ring worker. The endpoint
 * must never reach outside host memory or its ring cache (patch 0009), and
 * the next start must pass.
 */
TEST_F_TIMEOUT(fault, reset_while_busy, LT_RACE_TIMEOUT)
{
	unsigned long iters = lt_race_iters(), i, failed = 0;
	unsigned long long x0 = 0, x1 = 0;
	int ret;

	if (!lt_knob_usable("corrupt_echo"))
		SKIP(return, "no fault knob");
	ASSERT_EQ(0, lt_vlink_stat("xlate_errors", &x0));
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 1));
	ksft_print_msg("iterations=%lu num_tre=%d\n", iters, self->cap);
	for (i = 0; i < iters; i++) {
		ASSERT_EQ(0, lt_attr_set_ulong("num_tre", self->cap));
		ASSERT_EQ(0, lt_knob_set("corrupt_echo", 1));
		ret = lt_start(NULL);
		if (ret != -EIO && failed++ < 4)
			TH_LOG("iteration %lu: faulted start returned %s, not EIO", i,
			       lt_errname(ret));
		ASSERT_EQ(0, lt_knob_set("corrupt_echo", 0));
		ASSERT_EQ(0, lt_attr_set_ulong("num_tre", 1));
		ret = lt_start_here(_metadata, NULL);
		if (ret)
			break;
	}
	ASSERT_EQ(0, lt_vlink_stat("xlate_errors", &x1));
	ksft_print_msg("reset_iterations=%lu xlate_errors=%llu\n", i, x1 - x0);
	EXPECT_EQ(0UL, failed) TH_LOG("faulted starts that did not fail with EIO");
	EXPECT_EQ(x0, x1) TH_LOG("endpoint accesses outside host memory");
	EXPECT_EQ(iters, i) TH_LOG("a start after the reset failed");
}

/*
 * Echoes that the endpoint writes after the host has given up: a slow
 * endpoint's DMA, late by a seeded amount past a short deadline, lands while
 * the host times out, resets the channels and takes its buffers back. It
 * must land in buffers the host still owns or not at all (no access outside
 * host memory here, no KASAN or DMA-API report on the console), and the next
 * start must pass with its evidence: nothing of the late echo in it.
 * MHI_LT_LATE_ECHOES times (200, under the debug profile's KASAN too).
 */
TEST_F_TIMEOUT(fault, late_echo_after_deadline, LT_RACE_TIMEOUT)
{
	unsigned long iters = lt_env_ulong("MHI_LT_LATE_ECHOES", 200), deadline = 40;
	unsigned long i, failed = 0;
	unsigned long long x0 = 0, x1 = 0;
	uint32_t rng = lt.seed;
	unsigned int delay = 0;
	int ret;

	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no fault knob");
	ASSERT_EQ(0, lt_vlink_stat("xlate_errors", &x0));
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 4096));
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", 4));
	ksft_print_msg("iterations=%lu seed=%u deadline=%lu ms\n", iters, lt.seed, deadline);
	for (i = 0; i < iters; i++) {
		delay = deadline + lt_rand(&rng) % (2 * deadline);
		ret = lt_set_deadline(deadline);
		if (!ret)
			ret = lt_knob_set("delay_echo_ms", delay);
		if (!ret)
			ret = lt_start(NULL);
		/* The next start, or the next test, gets the usual deadline */
		EXPECT_EQ(0, lt_knob_set("delay_echo_ms", 0));
		EXPECT_EQ(0, lt_set_deadline(lt.deadline_ms));
		if (ret != -ETIMEDOUT && failed++ < 4)
			TH_LOG("iteration %lu: echo %u ms late: start returned %s, not ETIMEDOUT",
			       i, delay, lt_errname(ret));
		ret = lt_start_here(_metadata, NULL);
		if (ret) {
			TH_LOG("iteration %lu: the start after an echo %u ms late returned %s",
			       i, delay, lt_errname(ret));
			break;
		}
	}
	ASSERT_EQ(0, lt_vlink_stat("xlate_errors", &x1));
	ksft_print_msg("late_echoes=%lu xlate_errors=%llu\n", i, x1 - x0);
	EXPECT_EQ(0UL, failed) TH_LOG("late echoes that did not time the start out");
	EXPECT_EQ(x0, x1) TH_LOG("endpoint accesses outside host memory");
	EXPECT_EQ(iters, i) TH_LOG("a start after a late echo failed");
}

TEST_F_TIMEOUT(fault, starts_after_failure, LT_FAULT_TIMEOUT)
{
	unsigned long n = lt_env_ulong("MHI_LT_RECOVERY_STARTS", 100), i, bad = 0;
	uint32_t rng = lt.seed;
	unsigned int sz, num;
	int ret;

	if (!lt_knob_usable("drop_echo"))
		SKIP(return, "no fault knob");
	ksft_print_msg("seed=%u\n", lt.seed);
	lt_expect_fault(_metadata, "drop_echo", 1, ETIMEDOUT, true);
	for (i = 0; i < n; i++) {
		sz = 1 + lt_rand(&rng) % 4096;
		num = 1 + lt_rand(&rng) % self->cap;
		ret = lt_attr_set_ulong("tre_size", sz);
		if (!ret)
			ret = lt_attr_set_ulong("num_tre", num);
		if (!ret)
			ret = lt_start_here(_metadata, NULL);
		if (ret && bad++ < 8)
			TH_LOG("start %lu (tre_size=%u num_tre=%u): %s", i + 1, sz, num,
			       lt_errname(ret));
	}
	ksft_print_msg("starts_after_failure=%lu failed=%lu\n", n, bad);
	EXPECT_EQ(0UL, bad);
	lt_attr_set_ulong("num_tre", 1);
	EXPECT_EQ(self->cap, lt_probe_capacity());
}

static void lt_sig_noop(int sig)
{
	(void)sig;
}

static void lt_sigusr1_interrupts(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lt_sig_noop;	/* no SA_RESTART: syscalls see EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

struct lt_async {
	int ret;
	uint64_t ns;
	char buf[64];
};

static void *lt_async_start(void *arg)
{
	struct lt_async *a = arg;

	a->ret = lt_start(&a->ns);
	return NULL;
}

static void *lt_async_status(void *arg)
{
	struct lt_async *a = arg;
	uint64_t t0 = lt_now_ns();

	a->ret = lt_attr_get("status", a->buf, sizeof(a->buf));
	a->ns = lt_now_ns() - t0;
	return NULL;
}

TEST_F_TIMEOUT(fault, signal_aborts_start, LT_FAULT_TIMEOUT)
{
	unsigned int delay = lt.deadline_ms / 2;
	struct lt_async a = { 0 };
	pthread_t th;

	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no fault knob");
	lt_sigusr1_interrupts();
	ASSERT_EQ(0, lt_knob_set("delay_echo_ms", delay));
	ASSERT_EQ(0, pthread_create(&th, NULL, lt_async_start, &a));
	lt_sleep_ms(delay / 4);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	EXPECT_EQ(-EINTR, a.ret) TH_LOG("signalled start returned %s after %.1f ms",
					lt_errname(a.ret), a.ns / 1e6);
	lt_expect_attr(_metadata, "status", "fail");
	EXPECT_EQ(0, lt_knob_set("delay_echo_ms", 0));
	lt_expect_recovered(_metadata, self->cap);
}

TEST_F_TIMEOUT(fault, signal_interrupts_status_read, LT_FAULT_TIMEOUT)
{
	unsigned int delay = lt.deadline_ms / 2;
	struct lt_async s = { 0 }, r = { 0 };
	pthread_t ts, tr;

	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no fault knob");
	lt_sigusr1_interrupts();
	ASSERT_EQ(0, lt_knob_set("delay_echo_ms", delay));
	ASSERT_EQ(0, pthread_create(&ts, NULL, lt_async_start, &s));
	lt_sleep_ms(delay / 5);
	ASSERT_EQ(0, pthread_create(&tr, NULL, lt_async_status, &r));
	lt_sleep_ms(delay / 5);
	pthread_kill(tr, SIGUSR1);
	pthread_join(tr, NULL);
	pthread_join(ts, NULL);
	EXPECT_EQ(-EINTR, r.ret)
		TH_LOG("status read during a start returned %s (\"%s\") after %.1f ms",
		       lt_errname(r.ret), r.ret ? "" : r.buf, r.ns / 1e6);
	EXPECT_EQ(0, s.ret) TH_LOG("the start itself: %s", lt_errname(s.ret));
	lt_expect_attr(_metadata, "status", "pass");
	EXPECT_EQ(0, lt_knob_set("delay_echo_ms", 0));
}

/*
 * A buffer that no DL ring can hold (patch 0020): the echo client's
 * oversize_echo queues, behind the echo of the start, a buffer one byte
 * longer than the ring's elements minus one TREs of 65535 bytes. The core
 * refuses it with -EMSGSIZE and the client drops it: the faulted start
 * passes (its echo went first), the client counts the drop, and the next
 * starts pass. Were it refused with -ENOSPC, it would stay first in line
 * for good and the next start would time out behind it.
 */
TEST_F_TIMEOUT(fault, oversize_echo, LT_FAULT_TIMEOUT)
{
	unsigned long long f0 = 0, f1 = 0, d0 = 0, d1 = 0, elements, len;
	unsigned long max_backlog = 0;
	struct lt_rings rings;
	uint64_t end;
	int ret, i;

	if (!lt_knob_usable(LT_EP_KNOB "oversize_echo"))
		SKIP(return, "no fault knob");
	ASSERT_EQ(0, lt_rings_read(&rings));
	elements = rings.dl.len / LT_ELEMENT_SIZE;
	ASSERT_LT(1ULL, elements);
	len = (elements - 1) * LT_MAX_TRE_SIZE + 1;
	ASSERT_EQ(0, lt_module_param(LT_EP_DRV, "max_backlog", &max_backlog));
	if (len + 65536 > max_backlog)
		SKIP(return, "%llu bytes for a DL ring of %llu elements: over max_backlog",
		     len, elements);
	ksft_print_msg("dl_elements=%llu oversize=%llu bytes\n", elements, len);
	ASSERT_EQ(0, lt_vlink_stat(LT_EP_KNOB "oversize_echo_fired", &f0));
	ASSERT_EQ(0, lt_vlink_stat(LT_EP_KNOB "dropped", &d0));
	ASSERT_EQ(0, lt_knob_set(LT_EP_KNOB "fault_len", len));
	ASSERT_EQ(0, lt_knob_set(LT_EP_KNOB "oversize_echo", 1));
	lt_expect_pass(_metadata, "start with oversize_echo=1");
	/* The client tries the oversize buffer once the echo has gone out */
	end = lt_now_ns() + 2000000000ULL;
	do {
		ret = lt_vlink_stat(LT_EP_KNOB "dropped", &d1);
		if (ret || d1 != d0)
			break;
		lt_sleep_ms(10);
	} while (lt_now_ns() < end);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, lt_vlink_stat(LT_EP_KNOB "oversize_echo_fired", &f1));
	EXPECT_EQ(f0 + 1, f1) TH_LOG("oversize_echo did not fire");
	EXPECT_EQ(d0 + 1, d1) TH_LOG("the echo client did not drop the oversize buffer");
	EXPECT_EQ(0, lt_knob_set(LT_EP_KNOB "oversize_echo", 0));
	EXPECT_EQ(0, lt_knob_set(LT_EP_KNOB "fault_len", 0));
	for (i = 0; i < 3; i++)
		lt_expect_pass(_metadata, "start after the oversize buffer");
}

/*
 * A UL completion event that the endpoint fails to write (patch 0021): the
 * link refuses the event of the start's UL transfer (fail_ul_event). The
 * host never learns that its TRE was read and times out; meanwhile the
 * endpoint core must count the TRE as completed all the same, or every
 * later event of the channel would point at the TRE before its own. The
 * link's state shows the UL TREs the core has read and not completed
 * (ep_ul_unacked): once the read is done, none may be left. Then the next
 * start passes.
 */
TEST_F_TIMEOUT(fault, ul_event_lost, LT_FAULT_TIMEOUT)
{
	unsigned long long f0 = 0, f1 = 0, unacked = ULLONG_MAX;
	struct lt_async a = { 0 };
	uint64_t end;
	pthread_t th;
	int ret = 0;

	if (!lt_knob_usable("fail_ul_event"))
		SKIP(return, "no fault knob");
	ASSERT_EQ(0, lt_vlink_state("ep_ul_unacked", &unacked))
		TH_LOG("the link's state has no ep_ul_unacked");
	ASSERT_EQ(0ULL, unacked) TH_LOG("UL TREs left uncompleted before the test");
	ASSERT_EQ(0, lt_vlink_stat("fail_ul_event_fired", &f0));
	ASSERT_EQ(0, lt_knob_set("fail_ul_event", 1));
	ASSERT_EQ(0, pthread_create(&th, NULL, lt_async_start, &a));
	end = lt_now_ns() + (uint64_t)lt.deadline_ms * 1000000ULL / 2;
	do {
		ret = lt_vlink_stat("fail_ul_event_fired", &f1);
		if (ret || f1 != f0)
			break;
		lt_sleep_ms(5);
	} while (lt_now_ns() < end);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(f0 + 1, f1) TH_LOG("fail_ul_event did not fire before half the deadline");
	/* An asynchronous read completes a little after its event fails */
	end = lt_now_ns() + 1000000000ULL;
	do {
		ret = lt_vlink_state("ep_ul_unacked", &unacked);
		if (ret || !unacked)
			break;
		lt_sleep_ms(5);
	} while (lt_now_ns() < end);
	pthread_join(th, NULL);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0ULL, unacked)
		TH_LOG("the endpoint core left %llu UL TREs read but not completed", unacked);
	EXPECT_EQ(-ETIMEDOUT, a.ret) TH_LOG("start with fail_ul_event=1: %s", lt_errname(a.ret));
	EXPECT_EQ(0, lt_knob_set("fail_ul_event", 0));
	lt_expect_recovered(_metadata, self->cap);
}

/*
 * The link polls its endpoint line only while a doorbell is latched under a
 * closed mask, which the endpoint may open by a store the link cannot see:
 * an idle link, right after a start that passed, never polls.
 */
TEST_F_TIMEOUT(fault, idle_link_does_not_poll, LT_FAULT_TIMEOUT)
{
	unsigned long ms = lt_env_ulong("MHI_LT_IDLE_MS", 1000);
	unsigned long long p0 = 0, p1 = 0;

	if (lt_vlink_stat("polls", &p0))
		SKIP(return, "the link does not count its polls");
	lt_sleep_ms(ms);
	ASSERT_EQ(0, lt_vlink_stat("polls", &p1));
	ksft_print_msg("polls=%llu before and %llu after %lu ms idle\n", p0, p1, ms);
	EXPECT_EQ(p0, p1) TH_LOG("the idle link polled %llu times in %lu ms", p1 - p0, ms);
}
