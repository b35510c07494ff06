// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group race (3/3): starts against module removal,
 * concurrent starts and readers, and reload cycles.
 *
 * Included by mhi_loopback_test.c (see there why), after groups/race_held.c.
 */

TEST_F_TIMEOUT(race, start_vs_rmmod_host, LT_RACE_TIMEOUT)
{
	unsigned long iters = lt_race_iters(), i;
	uint32_t rng = lt.seed;
	const char *why;
	struct lt_race r;
	int ret;

	if (!lt_can_cycle(_metadata, LT_HOST_DRV, &why))
		SKIP(return, "%s", why);
	iters = iters ? iters : 1;
	ksft_print_msg("seed=%u iterations=%lu\n", lt.seed, iters);
	lt_race_init(&r, self->cap);
	ASSERT_EQ(0, lt_race_spawn(&r, lt_starter, 2));
	ASSERT_EQ(0, lt_race_spawn(&r, lt_reader, 1));
	for (i = 0; i < iters; i++) {
		lt_sleep_ms(lt_rand(&rng) % 50);
		ret = lt_mod_unload(LT_HOST_DRV);
		if (!i && (lt_mod_forbidden(ret))) {
			lt_race_stop(&r);
			SKIP(return, "module unload not permitted");
		}
		EXPECT_EQ(0, ret) TH_LOG("rmmod %s: %s", LT_HOST_DRV, lt_errname(ret));
		lt_sleep_ms(lt_rand(&rng) % 20);
		ret = lt_mod_load(LT_HOST_DRV);
		EXPECT_EQ(0, ret) TH_LOG("loading %s: %s", LT_HOST_DRV, lt_errname(ret));
		EXPECT_EQ(0, lt_wait_bound(true, LT_BIND_WAIT_MS));
	}
	lt_race_stop(&r);
	lt_race_report(_metadata, &r);
	ASSERT_EQ(0, lt_mod_unload(LT_HOST_DRV));
	ASSERT_EQ(0, lt_mod_load(LT_HOST_DRV));
	ASSERT_EQ(0, lt_wait_bound(true, LT_BIND_WAIT_MS));
	lt_expect_fresh(_metadata);
}

/*
 * After the endpoint's client driver came back, the very next start must
 * pass: the endpoint core keeps the channels as the host left them.
 */
static void lt_expect_ep_recovery(struct __test_metadata *_metadata)
{
	int i;

	for (i = 0; i < 3; i++)
		lt_expect_pass(_metadata, "after EP reload");
}

/* 50 reloads of the endpoint's client, each followed by one checked start */
TEST_F_TIMEOUT(race, ep_reload_no_lost_start, LT_RACE_TIMEOUT)
{
	unsigned long cycles = lt_env_ulong("MHI_LT_EP_RELOADS", 50), i, lost = 0;
	const char *why;
	int ret;

	if (!lt.epdev[0] || !lt_ep_bound())
		SKIP(return, "no endpoint LOOPBACK device");
	if (!lt_can_cycle(_metadata, LT_EP_DRV, &why))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 4096));
	for (i = 0; i < cycles; i++) {
		ret = lt_mod_unload(LT_EP_DRV);
		if (!i && lt_mod_forbidden(ret))
			SKIP(return, "module unload not permitted");
		ASSERT_EQ(0, ret) TH_LOG("rmmod %s: %s", LT_EP_DRV, lt_errname(ret));
		ret = lt_mod_load(LT_EP_DRV);
		ASSERT_EQ(0, ret) TH_LOG("loading %s: %s", LT_EP_DRV, lt_errname(ret));
		ASSERT_EQ(0, lt_wait_ep_bound(LT_BIND_WAIT_MS));
		ret = lt_start_here(_metadata, NULL);
		if (ret && lost++ < 4)
			TH_LOG("first start after EP reload %lu: %s", i + 1, lt_errname(ret));
	}
	ksft_print_msg("ep_reloads=%lu lost_starts=%lu\n", cycles, lost);
	EXPECT_EQ(0UL, lost);
}

TEST_F_TIMEOUT(race, start_vs_rmmod_ep, LT_RACE_TIMEOUT)
{
	unsigned long iters = lt_race_iters(), i;
	uint32_t rng = lt.seed;
	const char *why;
	struct lt_race r;
	int ret;

	if (!lt.epdev[0] || !lt_ep_bound())
		SKIP(return, "no endpoint LOOPBACK device");
	if (!lt_can_cycle(_metadata, LT_EP_DRV, &why))
		SKIP(return, "%s", why);
	iters = iters ? iters : 1;
	ksft_print_msg("seed=%u iterations=%lu\n", lt.seed, iters);
	lt_race_init(&r, self->cap);
	ASSERT_EQ(0, lt_race_spawn(&r, lt_starter, 1));
	for (i = 0; i < iters; i++) {
		lt_sleep_ms(lt_rand(&rng) % 100);
		ret = lt_mod_unload(LT_EP_DRV);
		if (!i && (lt_mod_forbidden(ret))) {
			lt_race_stop(&r);
			SKIP(return, "module unload not permitted");
		}
		EXPECT_EQ(0, ret) TH_LOG("rmmod %s: %s", LT_EP_DRV, lt_errname(ret));
		lt_sleep_ms(lt_rand(&rng) % 200);
		ret = lt_mod_load(LT_EP_DRV);
		EXPECT_EQ(0, ret) TH_LOG("loading %s: %s", LT_EP_DRV, lt_errname(ret));
		EXPECT_EQ(0, lt_wait_ep_bound(LT_BIND_WAIT_MS));
	}
	lt_race_stop(&r);
	lt_race_report_ep(_metadata, &r, true);
	lt_expect_ep_recovery(_metadata);
}

/* Unbinds the endpoint's client and waits until it is gone */
static int lt_ep_unbind_wait(void)
{
	uint64_t end = lt_now_ns() + (uint64_t)LT_BIND_WAIT_MS * 1000000ULL;
	int ret = lt_ep_bind(false);

	if (ret)
		return ret;
	while (lt_ep_bound()) {
		if (lt_now_ns() > end)
			return -ETIMEDOUT;
		lt_sleep_ms(10);
	}
	return 0;
}

struct lt_ep_binder {
	int ret;
};

static void *lt_ep_bind_thread(void *arg)
{
	struct lt_ep_binder *b = arg;

	b->ret = lt_ep_bind(true);
	return NULL;
}

/*
 * The endpoint's client bound while the host rings doorbells (patch 0019):
 * the client's probe() is made to take 500 ms (its probe_delay_ms test hook)
 * while a start runs, MHI_LT_EP_BINDS times, and then to fail (fail_probe)
 * before a start. The core must not call the client's transfer callbacks
 * before its probe() has returned 0: a start that overlaps the bind may
 * time out, one after a failed probe does, and the next starts pass.
 */
TEST_F_TIMEOUT(race, ep_bind_vs_doorbells, LT_RACE_TIMEOUT)
{
	unsigned long binds = lt_env_ulong("MHI_LT_EP_BINDS", 3), i, bad = 0;
	const unsigned int delay = 500;
	struct lt_ep_binder b;
	pthread_t th;
	int ret;

	if (!lt.epdev[0] || !lt_ep_bound())
		SKIP(return, "no endpoint LOOPBACK device");
	if (!lt_ep_hook_present("probe_delay_ms") || !lt_ep_hook_present("fail_probe"))
		SKIP(return, "no probe test hook in %s", LT_EP_DRV);
	ksft_print_msg("binds=%lu probe_delay=%u ms\n", binds, delay);
	for (i = 0; i < binds; i++) {
		ASSERT_EQ(0, lt_ep_unbind_wait());
		ASSERT_EQ(0, lt_ep_hook_set("probe_delay_ms", delay));
		memset(&b, 0, sizeof(b));
		ASSERT_EQ(0, pthread_create(&th, NULL, lt_ep_bind_thread, &b));
		lt_sleep_ms(delay / 5);
		ret = lt_start(NULL);
		if (ret && ret != -ETIMEDOUT && bad++ < 4)
			TH_LOG("bind %lu: start during probe() returned %s", i, lt_errname(ret));
		pthread_join(th, NULL);
		EXPECT_EQ(0, lt_ep_hook_set("probe_delay_ms", 0));
		EXPECT_EQ(0, b.ret) TH_LOG("bind %lu: %s", i, lt_errname(b.ret));
		ASSERT_EQ(0, lt_wait_ep_bound(LT_BIND_WAIT_MS));
		lt_expect_pass(_metadata, "after a slow probe()");
	}
	EXPECT_EQ(0UL, bad) TH_LOG("starts during a bind failed otherwise than by timing out");

	ASSERT_EQ(0, lt_ep_unbind_wait());
	ASSERT_EQ(0, lt_ep_hook_set("fail_probe", 1));
	ret = lt_ep_bind(true);
	EXPECT_EQ(-EIO, ret) TH_LOG("bind with fail_probe=1: %s", lt_errname(ret));
	EXPECT_EQ(0, lt_ep_hook_set("fail_probe", 0));
	EXPECT_FALSE(lt_ep_bound());
	ret = lt_start(NULL);
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("start after a failed probe(): %s", lt_errname(ret));
	ASSERT_EQ(0, lt_ep_bind(true));
	ASSERT_EQ(0, lt_wait_ep_bound(LT_BIND_WAIT_MS));
	lt_expect_pass(_metadata, "after a failed probe()");
	lt_expect_pass(_metadata, "after a failed probe(), again");
}

TEST_F_TIMEOUT(race, concurrent_starts, LT_RACE_TIMEOUT)
{
	unsigned long threads = lt_env_ulong("MHI_LT_THREADS", 8);
	unsigned long per = lt_env_ulong("MHI_LT_CONCURRENT_STARTS", 5);
	unsigned long num = self->cap < 4 ? self->cap : 4;
	struct lt_race r;
	uint64_t t0;

	if (!threads || threads > LT_MAX_THREADS)
		threads = 8;
	lt_race_init(&r, self->cap);
	r.limit = per ? per : 1;
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 4096));
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", num));
	t0 = lt_now_ns();
	ASSERT_EQ(0, lt_race_spawn(&r, lt_starter, threads));
	lt_race_join(&r);
	ksft_print_msg("concurrent_threads=%lu starts_per_thread=%lu wall=%.1f ms\n",
		       threads, r.limit, (lt_now_ns() - t0) / 1e6);
	lt_race_report(_metadata, &r);
	EXPECT_EQ(threads * r.limit, r.passes) TH_LOG("every concurrent start must pass");
	lt_expect_attr(_metadata, "status", "pass");
}

TEST_F_TIMEOUT(race, readers_during_starts, LT_RACE_TIMEOUT)
{
	struct lt_race starters, readers;
	int i;

	lt_race_init(&starters, self->cap);
	lt_race_init(&readers, self->cap);
	starters.limit = lt_env_ulong("MHI_LT_CONCURRENT_STARTS", 5) * 4;
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 65535));
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", self->cap));
	ASSERT_EQ(0, lt_start(NULL));
	ASSERT_EQ(0, lt_race_spawn(&readers, lt_reader, 4));
	ASSERT_EQ(0, lt_race_spawn(&starters, lt_starter, 2));
	lt_race_join(&starters);
	lt_race_stop(&readers);
	lt_race_report(_metadata, &starters);
	lt_race_report(_metadata, &readers);
	EXPECT_EQ(2 * starters.limit, starters.passes);
	EXPECT_EQ(0UL, readers.read_err[0]);
	for (i = 1; i < LT_ERR_SLOTS; i++)
		EXPECT_EQ(0UL, readers.read_err[i]) TH_LOG("read error %s", lt_errname(i));
}

TEST_F_TIMEOUT(race, module_reload_cycles, LT_RACE_TIMEOUT)
{
	unsigned long cycles = lt_race_iters() / 2, i;
	uint64_t t0, unload_max = 0, load_max = 0;
	const char *why;
	int ret;

	if (!lt_can_cycle(_metadata, LT_HOST_DRV, &why))
		SKIP(return, "%s", why);
	cycles = cycles ? cycles : 1;
	for (i = 0; i < cycles; i++) {
		t0 = lt_now_ns();
		ret = lt_mod_unload(LT_HOST_DRV);
		if (!i && (lt_mod_forbidden(ret)))
			SKIP(return, "module unload not permitted");
		ASSERT_EQ(0, ret) TH_LOG("rmmod %s: %s", LT_HOST_DRV, lt_errname(ret));
		if (lt_now_ns() - t0 > unload_max)
			unload_max = lt_now_ns() - t0;
		EXPECT_FALSE(lt_bound());
		t0 = lt_now_ns();
		ret = lt_mod_load(LT_HOST_DRV);
		ASSERT_EQ(0, ret) TH_LOG("loading %s: %s", LT_HOST_DRV, lt_errname(ret));
		ASSERT_EQ(0, lt_wait_bound(true, LT_BIND_WAIT_MS));
		if (lt_now_ns() - t0 > load_max)
			load_max = lt_now_ns() - t0;
		lt_expect_fresh(_metadata);
	}
	ksft_print_msg("host_cycles=%lu unload_max=%.1f ms load_bind_max=%.1f ms\n",
		       cycles, unload_max / 1e6, load_max / 1e6);

	if (!lt.epdev[0] || !lt_ep_bound() || !lt_can_cycle(_metadata, LT_EP_DRV, &why))
		return;
	cycles = lt_race_iters() / 8;
	cycles = cycles ? cycles : 1;
	for (i = 0; i < cycles; i++) {
		ret = lt_mod_unload(LT_EP_DRV);
		ASSERT_EQ(0, ret) TH_LOG("rmmod %s: %s", LT_EP_DRV, lt_errname(ret));
		ret = lt_mod_load(LT_EP_DRV);
		ASSERT_EQ(0, ret) TH_LOG("loading %s: %s", LT_EP_DRV, lt_errname(ret));
		ASSERT_EQ(0, lt_wait_ep_bound(LT_BIND_WAIT_MS));
		lt_expect_ep_recovery(_metadata);
	}
	ksft_print_msg("ep_cycles=%lu\n", cycles);
}

/*
 * The whole link, 100 times: unload it (both controllers go away with the
 * clients bound), load it again, and move data once before the next cycle.
 */
TEST_F_TIMEOUT(race, vlink_cycles, LT_VLINK_CYCLES_TIMEOUT)
{
	unsigned long cycles = lt_env_ulong("MHI_LT_VLINK_CYCLES", 100), i;
	uint64_t t0, ns, worst = 0;
	int ret;

	if (!lt.vlink[0] || !lt_mod_available("mhi_vlink"))
		SKIP(return, "no virtual link");
	for (i = 0; i < cycles; i++) {
		t0 = lt_now_ns();
		ret = lt_mod_unload("mhi_vlink");
		if (!i && lt_mod_forbidden(ret))
			SKIP(return, "module unload not permitted");
		ASSERT_EQ(0, ret) TH_LOG("cycle %lu: rmmod mhi_vlink: %s", i, lt_errname(ret));
		ret = lt_mod_load("mhi_vlink");
		ASSERT_EQ(0, ret) TH_LOG("cycle %lu: loading mhi_vlink: %s", i, lt_errname(ret));
		ASSERT_EQ(0, lt_wait_bound(true, LT_BIND_WAIT_MS))
			TH_LOG("cycle %lu: %s did not come back", i, lt.dev);
		ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 4096));
		ret = lt_start_here(_metadata, &ns);
		ASSERT_EQ(0, ret) TH_LOG("cycle %lu: start: %s", i, lt_errname(ret));
		if (lt_now_ns() - t0 > worst)
			worst = lt_now_ns() - t0;
	}
	ksft_print_msg("vlink_cycles=%lu\n", cycles);
	ksft_print_msg("vlink_cycle_max=%.1f ms\n", worst / 1e6);
}
