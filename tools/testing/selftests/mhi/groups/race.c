// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group race (1/3): the fixture, the racing
 * starters and readers, and starts against unbind.
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

FIXTURE(race) {
	struct lt_guard g;
	int cap;
};

FIXTURE_SETUP(race)
{
	lt_test_begin(_metadata, &self->g, "race", NULL);
	self->cap = lt_probe_capacity();
	ASSERT_LT(0, self->cap);
}

/* A link a race test made in configfs, removed when the test ends */
#define LT_RACE_CFS_LINK	"lt-race"
static char lt_race_cfs_link[32];

FIXTURE_TEARDOWN(race)
{
	if (lt_race_cfs_link[0]) {
		EXPECT_EQ(0, lt_cfs_rmdir(lt_race_cfs_link))
			TH_LOG("cannot remove configfs link %s", lt_race_cfs_link);
		lt_race_cfs_link[0] = '\0';
	}
	lt_test_end(_metadata, &self->g);
}

#define LT_ERR_SLOTS	160
#define LT_MAX_THREADS	32

struct lt_race {
	int stop;
	unsigned long limit;		/* starts per starter, 0: until stop */
	unsigned long starts, passes;
	unsigned long start_err[LT_ERR_SLOTS];
	unsigned long reads, read_err[LT_ERR_SLOTS];
	unsigned long bad_values;
	uint64_t status_read_max_ns;
	char bad_value[160];
	unsigned long max_num;
	pthread_mutex_t lock;
	pthread_t th[LT_MAX_THREADS];
	int nr_th;
};

static bool lt_race_stopped(struct lt_race *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
}

static void lt_count(unsigned long *slots, int ret)
{
	int e = -ret;

	__atomic_add_fetch(&slots[e > 0 && e < LT_ERR_SLOTS ? e : 0], 1, __ATOMIC_RELAXED);
}

static void *lt_starter(void *arg)
{
	struct lt_race *r = arg;
	unsigned long done = 0;
	int ret;

	while (!lt_race_stopped(r) && (!r->limit || done < r->limit)) {
		ret = lt_start(NULL);
		done++;
		__atomic_add_fetch(&r->starts, 1, __ATOMIC_RELAXED);
		if (!ret) {
			__atomic_add_fetch(&r->passes, 1, __ATOMIC_RELAXED);
			continue;
		}
		lt_count(r->start_err, ret);
		if (ret == -ENOENT || ret == -ENODEV)
			lt_sleep_ms(1);		/* unbound: do not spin */
	}
	return NULL;
}

static bool lt_value_ok(struct lt_race *r, const char *attr, const char *val)
{
	unsigned long v;
	char *end;

	if (!strcmp(attr, "status"))
		return !strcmp(val, "not started") || !strcmp(val, "pass") ||
		       !strcmp(val, "fail");
	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || !*val || v < 1)
		return false;
	if (!strcmp(attr, "tre_size"))
		return v <= LT_MAX_TRE_SIZE;
	return v <= r->max_num;
}

static void *lt_reader(void *arg)
{
	static const char * const attrs[] = { "status", "tre_size", "num_tre" };
	struct lt_race *r = arg;
	char buf[96];
	uint64_t t0, dt;
	size_t i = 0;
	int ret;

	while (!lt_race_stopped(r)) {
		const char *attr = attrs[i++ % 3];

		t0 = lt_now_ns();
		ret = lt_attr_get(attr, buf, sizeof(buf));
		dt = lt_now_ns() - t0;
		__atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
		if (ret) {
			lt_count(r->read_err, ret);
			if (ret == -ENOENT || ret == -ENODEV)
				lt_sleep_ms(1);
			continue;
		}
		pthread_mutex_lock(&r->lock);
		if (!strcmp(attr, "status") && dt > r->status_read_max_ns)
			r->status_read_max_ns = dt;
		if (!lt_value_ok(r, attr, buf) && !r->bad_values++)
			snprintf(r->bad_value, sizeof(r->bad_value), "%s=\"%s\"", attr, buf);
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

static void lt_race_init(struct lt_race *r, int cap)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->max_num = cap;
}

static int lt_race_spawn(struct lt_race *r, void *(*fn)(void *), int count)
{
	int i, ret;

	for (i = 0; i < count && r->nr_th < LT_MAX_THREADS; i++) {
		ret = pthread_create(&r->th[r->nr_th], NULL, fn, r);
		if (ret)
			return -ret;
		r->nr_th++;
	}
	return 0;
}

/* Wait for threads that stop by themselves (limit set). */
static void lt_race_join(struct lt_race *r)
{
	int i;

	for (i = 0; i < r->nr_th; i++)
		pthread_join(r->th[i], NULL);
	r->nr_th = 0;
}

static void lt_race_stop(struct lt_race *r)
{
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	lt_race_join(r);
}

/*
 * What a start may end with while the host device goes away: the device is
 * gone (ENODEV), its attribute already was (ENOENT), or a signal came
 * (EINTR). A lost completion (ETIMEDOUT) or a bad echo (EIO) is a failure.
 */
static bool lt_start_err_documented(int e)
{
	return e == ENODEV || e == ENOENT || e == EINTR;
}

/*
 * While the endpoint's client goes away, the device drops what it holds:
 * the host's start times out. That is all it may do.
 */
static bool lt_start_err_ep_away(int e)
{
	return e == ETIMEDOUT;
}

static bool lt_read_err_documented(int e)
{
	return e == ENODEV || e == ENOENT || e == EINTR;
}

/* Print the counters; only documented errnos are acceptable. */
static void lt_race_report_ep(struct __test_metadata *_metadata, struct lt_race *r,
			      bool ep_away)
{
	unsigned long bad_starts = 0, bad_reads = 0;
	int e;

	if (r->starts)
		ksft_print_msg("race_starts=%lu race_passes=%lu\n", r->starts, r->passes);
	for (e = 0; e < LT_ERR_SLOTS; e++) {
		if (r->start_err[e]) {
			ksft_print_msg("race_start_errno_%s=%lu\n", e ? lt_errname(e) : "other",
				       r->start_err[e]);
			if (!e || !(lt_start_err_documented(e) ||
				    (ep_away && lt_start_err_ep_away(e))))
				bad_starts += r->start_err[e];
		}
		if (r->read_err[e]) {
			ksft_print_msg("race_read_errno_%s=%lu\n", e ? lt_errname(e) : "other",
				       r->read_err[e]);
			if (!e || !lt_read_err_documented(e))
				bad_reads += r->read_err[e];
		}
	}
	if (r->reads)
		ksft_print_msg("race_reads=%lu status_read_max=%.1f ms\n", r->reads,
			       r->status_read_max_ns / 1e6);
	EXPECT_EQ(0UL, bad_starts) TH_LOG("start failed with undocumented errnos");
	EXPECT_EQ(0UL, bad_reads) TH_LOG("reads failed with undocumented errnos");
	EXPECT_EQ(0UL, r->bad_values) TH_LOG("first bad value: %s", r->bad_value);
}

static void lt_race_report(struct __test_metadata *_metadata, struct lt_race *r)
{
	lt_race_report_ep(_metadata, r, false);
}

/* After a rebind or reload: fresh state, and a start passes. */
static void lt_expect_fresh(struct __test_metadata *_metadata)
{
	lt_expect_attr(_metadata, "status", "not started");
	lt_expect_attr(_metadata, "tre_size", "32");
	lt_expect_attr(_metadata, "num_tre", "1");
	lt_expect_pass(_metadata, "after rebind");
}

TEST_F_TIMEOUT(race, start_vs_unbind, LT_RACE_TIMEOUT)
{
	unsigned long iters = lt_race_iters(), i;
	uint64_t t0, dt, unbind_max = 0;
	uint32_t rng = lt.seed;
	struct lt_race r;
	int ret;

	ksft_print_msg("seed=%u iterations=%lu\n", lt.seed, iters);
	lt_race_init(&r, self->cap);
	ASSERT_EQ(0, lt_race_spawn(&r, lt_starter, 2));
	ASSERT_EQ(0, lt_race_spawn(&r, lt_reader, 2));
	for (i = 0; i < iters; i++) {
		lt_sleep_ms(lt_rand(&rng) % 20);
		t0 = lt_now_ns();
		ret = lt_bind(false);
		dt = lt_now_ns() - t0;
		if (dt > unbind_max)
			unbind_max = dt;
		EXPECT_EQ(0, ret) TH_LOG("unbind %lu: %s", i, lt_errname(ret));
		EXPECT_EQ(0, lt_wait_bound(false, LT_BIND_WAIT_MS));
		lt_sleep_ms(lt_rand(&rng) % 5);
		ret = lt_bind(true);
		EXPECT_EQ(0, ret) TH_LOG("bind %lu: %s", i, lt_errname(ret));
		EXPECT_EQ(0, lt_wait_bound(true, LT_BIND_WAIT_MS));
	}
	lt_race_stop(&r);
	lt_race_report(_metadata, &r);
	ksft_print_msg("unbind_max=%.1f ms\n", unbind_max / 1e6);
	/* unbind may wait for one running start, not more */
	EXPECT_GE((uint64_t)(lt.deadline_ms + 10000) * 1000000ULL, unbind_max);
	lt_rebind(_metadata);
	lt_expect_fresh(_metadata);
}

static bool lt_can_cycle(struct __test_metadata *_metadata, const char *mod,
			 const char **why)
{
	enum lt_mod_state st = lt_mod_state(mod);

	(void)_metadata;
	if (lt.fake || !lt.may_load)
		*why = "module loading disabled";
	else if (st == LT_MOD_BUILTIN)
		*why = "module built in";
	else if (st != LT_MOD_LIVE)
		*why = "module not loaded";
	else if (!lt_mod_available(mod))
		*why = "module file not found";
	else
		return true;
	ksft_print_msg("%s: %s\n", mod, *why);
	return false;
}
