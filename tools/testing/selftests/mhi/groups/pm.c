// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group pm: the link suspended to M3 by runtime PM
 * and resumed by the next start. The link's debugfs file runtime_pm sets
 * what power/control of its PM device does and suspends or resumes it on
 * demand; autosuspend_ms sets power/autosuspend_delay_ms. The host core's
 * own counters of M3 and M0 (its debugfs "states") are the evidence that
 * M3 was entered, beside the link's counters of the suspends and resumes
 * it did; every start is checked with the suite's evidence.
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

#define LT_PM_TIMEOUT		600
#define LT_PM_LONG_DELAY_MS	60000	/* no autosuspend during the test */
#define LT_PM_SHORT_DELAY_MS	20
#define LT_PM_SETTLE_MS		5000	/* an autosuspend or a resume, at most */

FIXTURE(pm) {
	struct lt_guard g;
	unsigned long delay_ms;
};

struct lt_pm_counts {
	unsigned long long host_m0, host_m3;	/* the host core's */
	unsigned long long suspends, resumes;	/* the link's */
	unsigned long long wake_gets, wake_puts;
};

/* Write @cmd to runtime_pm: 0, or the error of the PM core or host core */
static int lt_pm_cmd(const char *cmd)
{
	return lt_knob_write("runtime_pm", cmd);
}

/* The value of "@key=" in runtime_pm, e.g. status */
static int lt_pm_get(const char *key, char *val, size_t len)
{
	char path[PATH_MAX], text[512], *p;
	size_t klen = strlen(key);
	ssize_t n;
	int ret;

	ret = lt_knob_path(path, sizeof(path), "runtime_pm");
	if (ret)
		return ret;
	n = lt_read_file(path, text, sizeof(text));
	if (n < 0)
		return n;
	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, klen) || p[klen] != '=')
			continue;
		p += klen + 1;
		snprintf(val, len, "%.*s", (int)strcspn(p, "\n"), p);
		return 0;
	}
	return -ENOENT;
}

/* Wait up to @ms for runtime_pm to say status=@want */
static int lt_pm_wait_status(const char *want, unsigned int ms)
{
	uint64_t end = lt_now_ns() + (uint64_t)ms * 1000000ULL;
	char status[32];
	int ret;

	for (;;) {
		ret = lt_pm_get("status", status, sizeof(status));
		if (ret)
			return ret;
		if (!strcmp(status, want))
			return 0;
		if (lt_now_ns() > end)
			return -ETIMEDOUT;
		lt_sleep_ms(1);
	}
}

/* The host core's "M0: n M2: n M3: n" line of debugfs mhi/<cntrl>/states */
static int lt_pm_host_counts(unsigned long long *m0, unsigned long long *m3)
{
	char path[PATH_MAX], text[1024], *p;
	unsigned long long m2;
	ssize_t n;
	int ret;

	ret = lt_path(path, sizeof(path), "/sys/kernel/debug/mhi/%s/states", lt.cntrl);
	if (ret)
		return ret;
	n = lt_read_file(path, text, sizeof(text));
	if (n < 0)
		return n;
	p = strstr(text, "M0: ");
	if (!p || sscanf(p, "M0: %llu M2: %llu M3: %llu", m0, &m2, m3) != 3)
		return -EPROTO;
	return 0;
}

static int lt_pm_counts(struct lt_pm_counts *c)
{
	int ret;

	ret = lt_pm_host_counts(&c->host_m0, &c->host_m3);
	if (!ret)
		ret = lt_vlink_stat("suspends", &c->suspends);
	if (!ret)
		ret = lt_vlink_stat("resumes", &c->resumes);
	if (!ret)
		ret = lt_vlink_stat("wake_gets", &c->wake_gets);
	if (!ret)
		ret = lt_vlink_stat("wake_puts", &c->wake_puts);
	return ret;
}

/*
 * Wait up to @ms for the link's counter @key to reach @want: the runtime
 * resume counts once mhi_pm_resume() returns, which can be after the start
 * that it let through has ended.
 */
static int lt_pm_wait_stat(const char *key, unsigned long long want, unsigned int ms,
			   unsigned long long *val)
{
	uint64_t end = lt_now_ns() + (uint64_t)ms * 1000000ULL;
	int ret;

	for (;;) {
		ret = lt_vlink_stat(key, val);
		if (ret || *val >= want)
			return ret;
		if (lt_now_ns() > end)
			return -ETIMEDOUT;
		lt_sleep_ms(1);
	}
}

static int lt_pm_set_delay(unsigned long ms)
{
	return lt_knob_set("autosuspend_ms", ms);
}

FIXTURE_SETUP(pm)
{
	if (!lt.vlink[0])
		SKIP(return, "no mhi_vlink link under test");
	lt_test_begin(_metadata, &self->g, "pm", NULL);
	ASSERT_TRUE(lt_knob_present("runtime_pm")) TH_LOG("the link has no runtime_pm file");
	ASSERT_EQ(0, lt_knob_get("autosuspend_ms", &self->delay_ms));
}

FIXTURE_TEARDOWN(pm)
{
	char control[16] = "";

	if (lt.vlink[0]) {
		lt_knob_set("hold_echo", 0);
		EXPECT_EQ(0, lt_pm_cmd("on"));
		EXPECT_EQ(0, lt_pm_set_delay(self->delay_ms));
		EXPECT_EQ(0, lt_pm_get("control", control, sizeof(control)));
		EXPECT_STREQ("on", control);
		EXPECT_EQ(0, lt_pm_wait_status("active", LT_PM_SETTLE_MS));
	}
	lt_test_end(_metadata, &self->g);
}

/*
 * Suspend on demand, then a checked start issued while suspended, which
 * must resume the link through the host core's runtime_get, then one
 * between this cycle and the next. Each suspend must be an M3 the host
 * core counted; each start from M3 a resume the link did and an M0 the
 * host counted.
 */
TEST_F_TIMEOUT(pm, suspend_resume_cycles, LT_PM_TIMEOUT)
{
	unsigned long cycles = lt_env_ulong("MHI_LT_PM_CYCLES", 100), i;
	struct lt_pm_counts c0, c1, c2, first;
	unsigned long long resumes;
	uint64_t t0;
	char status[32];
	int ret;

	ASSERT_EQ(0, lt_pm_set_delay(LT_PM_LONG_DELAY_MS));
	ASSERT_EQ(0, lt_pm_cmd("auto"));
	lt_expect_pass(_metadata, "a start before the first suspend");
	ASSERT_EQ(0, lt_pm_counts(&first));
	t0 = lt_now_ns();
	for (i = 0; i < cycles; i++) {
		ASSERT_EQ(0, lt_pm_counts(&c0));
		ret = lt_pm_cmd("suspend");
		EXPECT_EQ(0, ret) TH_LOG("cycle %lu: suspend: %s", i, lt_errname(ret));
		ASSERT_EQ(0, lt_pm_get("status", status, sizeof(status)));
		EXPECT_STREQ("suspended", status) TH_LOG("cycle %lu", i);
		ASSERT_EQ(0, lt_pm_counts(&c1));
		EXPECT_EQ(c0.host_m3 + 1, c1.host_m3)
			TH_LOG("cycle %lu: the host core counted %llu M3 entries", i,
			       c1.host_m3 - c0.host_m3);
		EXPECT_EQ(c0.suspends + 1, c1.suspends) TH_LOG("cycle %lu", i);

		ret = lt_start_here(_metadata, NULL);
		EXPECT_EQ(0, ret) TH_LOG("cycle %lu: start from M3: %s", i, lt_errname(ret));
		ret = lt_pm_wait_stat("resumes", c1.resumes + 1, LT_PM_SETTLE_MS, &resumes);
		EXPECT_EQ(0, ret) TH_LOG("cycle %lu: no resume for a start from M3: %s", i,
					 lt_errname(ret));
		ASSERT_EQ(0, lt_pm_counts(&c2));
		EXPECT_EQ(c1.resumes + 1, c2.resumes)
			TH_LOG("cycle %lu: %llu resumes for a start from M3", i,
			       c2.resumes - c1.resumes);
		EXPECT_LT(c1.host_m0, c2.host_m0) TH_LOG("cycle %lu: no M0 after M3", i);
		EXPECT_EQ(c1.host_m3, c2.host_m3) TH_LOG("cycle %lu", i);

		ret = lt_start_here(_metadata, NULL);
		EXPECT_EQ(0, ret) TH_LOG("cycle %lu: start between cycles: %s", i,
					 lt_errname(ret));
		if (_metadata->exit_code)
			break;
	}
	ASSERT_EQ(0, lt_pm_counts(&c2));
	ksft_print_msg("cycles=%lu host_m3=%llu suspends=%llu resumes=%llu wake=%llu/%llu\n", i,
		       c2.host_m3 - first.host_m3, c2.suspends - first.suspends,
		       c2.resumes - first.resumes, c2.wake_gets - first.wake_gets,
		       c2.wake_puts - first.wake_puts);
	lt_measure("pm.cycle_ms", (lt_now_ns() - t0) / 1e6 / (i ? i : 1), "ms");
	EXPECT_EQ(cycles, i) TH_LOG("cycles done");
}

struct lt_pm_thread {
	pthread_t th;
	int ret;
	bool done;
	char why[320];
};

static void *lt_pm_start_run(void *arg)
{
	struct lt_pm_thread *t = arg;

	t->ret = lt_start_checked(LT_DEFAULT_TRE_SIZE, LT_DEFAULT_NUM_TRE, NULL, t->why,
				  sizeof(t->why));
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void *lt_pm_suspend_run(void *arg)
{
	struct lt_pm_thread *t = arg;

	t->ret = lt_pm_cmd("suspend");
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A suspend while the echo of a start is held in flight by the link (its
 * uplink half is complete, so the host core has nothing pending and goes
 * for M3): the suspend may be refused or wait for the echo, but the start
 * must complete and check out once the echo is let go, and the link must
 * then enter M3 (if the suspend waited) or stay in M0, and pass a start.
 */
TEST_F_TIMEOUT(pm, suspend_with_start_in_flight, LT_PM_TIMEOUT)
{
	unsigned long iters = lt_env_ulong("MHI_LT_PM_HELD_ITERS", 20), i;
	unsigned long waited = 0, refused = 0, overlapped = 0;
	unsigned long long fired0, fired;
	struct lt_pm_thread st, su;
	struct lt_pm_counts c0, c1;
	uint64_t end;

	if (!lt_knob_usable("hold_echo"))
		SKIP(return, "no hold knob on this link");
	ASSERT_EQ(0, lt_pm_set_delay(LT_PM_LONG_DELAY_MS));
	ASSERT_EQ(0, lt_pm_cmd("auto"));
	for (i = 0; i < iters; i++) {
		memset(&st, 0, sizeof(st));
		memset(&su, 0, sizeof(su));
		ASSERT_EQ(0, lt_vlink_stat("hold_echo_fired", &fired0));
		ASSERT_EQ(0, lt_knob_set("hold_echo", 1));
		ASSERT_EQ(0, pthread_create(&st.th, NULL, lt_pm_start_run, &st));
		end = lt_now_ns() + (uint64_t)lt.deadline_ms * 1000000ULL / 2;
		do {
			lt_sleep_ms(1);
			ASSERT_EQ(0, lt_vlink_stat("hold_echo_fired", &fired));
		} while (fired == fired0 && lt_now_ns() < end);
		EXPECT_NE(fired0, fired) TH_LOG("iteration %lu: echo never held", i);

		ASSERT_EQ(0, lt_pm_counts(&c0));
		ASSERT_EQ(0, pthread_create(&su.th, NULL, lt_pm_suspend_run, &su));
		lt_sleep_ms(50);
		/* The start is still held: whatever the suspend does, it is in flight */
		if (!__atomic_load_n(&st.done, __ATOMIC_ACQUIRE))
			overlapped++;
		EXPECT_EQ(0, lt_knob_set("hold_echo", 0));
		pthread_join(st.th, NULL);
		pthread_join(su.th, NULL);
		EXPECT_EQ(0, st.ret) TH_LOG("iteration %lu: held start: %s %s", i,
					    lt_errname(st.ret), st.why);
		ASSERT_EQ(0, lt_pm_counts(&c1));
		if (!su.ret) {
			waited++;
			EXPECT_EQ(c0.host_m3 + 1, c1.host_m3)
				TH_LOG("iteration %lu: the suspend returned 0 without an M3", i);
		} else {
			refused++;
			EXPECT_TRUE(su.ret == -EBUSY || su.ret == -EAGAIN)
				TH_LOG("iteration %lu: suspend: %s", i, lt_errname(su.ret));
			EXPECT_EQ(c0.host_m3, c1.host_m3)
				TH_LOG("iteration %lu: M3 after a refused suspend", i);
		}
		lt_expect_pass(_metadata, "a start after the suspend");
		if (_metadata->exit_code)
			break;
	}
	ksft_print_msg("held_iterations=%lu overlapped=%lu waited=%lu refused=%lu\n", i,
		       overlapped, waited, refused);
	EXPECT_EQ(iters, overlapped) TH_LOG("suspends issued while the start was held");
}

/*
 * Autosuspend after a short delay: the link reaches M3 by itself between
 * starts, each start resumes it and passes.
 */
TEST_F_TIMEOUT(pm, autosuspend_between_starts, LT_PM_TIMEOUT)
{
	unsigned long starts = lt_env_ulong("MHI_LT_PM_STARTS", 20), i;
	struct lt_pm_counts c0, c1, a, b;
	int ret;

	ASSERT_EQ(0, lt_pm_set_delay(LT_PM_SHORT_DELAY_MS));
	ASSERT_EQ(0, lt_pm_cmd("auto"));
	/* Allowing runtime PM autosuspends the idle link: count from there */
	ASSERT_EQ(0, lt_pm_wait_status("suspended", LT_PM_SETTLE_MS));
	ASSERT_EQ(0, lt_pm_counts(&c0));
	for (i = 0; i < starts; i++) {
		ASSERT_EQ(0, lt_pm_counts(&a));
		lt_expect_pass(_metadata, "a start between autosuspends");
		ret = lt_pm_wait_status("suspended", LT_PM_SETTLE_MS);
		EXPECT_EQ(0, ret) TH_LOG("start %lu: no autosuspend after it: %s", i,
					 lt_errname(ret));
		ASSERT_EQ(0, lt_pm_counts(&b));
		EXPECT_LT(a.host_m3, b.host_m3)
			TH_LOG("start %lu: the host core counted no M3 after it", i);
		if (_metadata->exit_code)
			break;
	}
	/* The link counts a suspend once mhi_pm_suspend() has returned */
	ASSERT_EQ(0, lt_pm_counts(&c1));
	lt_pm_wait_stat("suspends", c0.suspends + (c1.host_m3 - c0.host_m3), LT_PM_SETTLE_MS,
			&c1.suspends);
	ksft_print_msg("starts=%lu host_m3=%llu suspends=%llu resumes=%llu\n", i,
		       c1.host_m3 - c0.host_m3, c1.suspends - c0.suspends,
		       c1.resumes - c0.resumes);
	EXPECT_EQ(c1.host_m3 - c0.host_m3, c1.suspends - c0.suspends);
	EXPECT_LE(starts - 1, c1.resumes - c0.resumes);
}
