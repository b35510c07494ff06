// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest: what the groups share (included first by
 * mhi_loopback_test.c): the harness timeouts, the per-test set-up and
 * guard, and the expectations every group uses.
 */

/* per-test harness timeouts in seconds; a failing start waits 5 s */
#define LT_SHORT_TIMEOUT	90
#define LT_SWEEP_TIMEOUT	900	/* the full sweep took 131 s on the rig */
#define LT_SWEEP_MARGIN		120
#define LT_FAULT_TIMEOUT	120
#define LT_RACE_TIMEOUT		600
#define LT_VLINK_CYCLES_TIMEOUT	900
#define LT_MEASURE_TIMEOUT	600
#define LT_BIND_WAIT_MS		10000

static void lt_test_begin(struct __test_metadata *_metadata, struct lt_guard *g,
			  const char *fixture, const char *variant)
{
	char name[192];
	int ret;

	snprintf(name, sizeof(name), "%s%s%s.%s", fixture, variant ? "." : "",
		 variant ? variant : "", _metadata->name);
	g->kmsg = -1;
	ret = lt_ensure_bound();
	ASSERT_EQ(0, ret) TH_LOG("%s is not bound to %s: %s", lt.dev, LT_HOST_DRV,
				 lt_errname(ret));
	ret = lt_attr_set_ulong("tre_size", LT_DEFAULT_TRE_SIZE);
	ASSERT_EQ(0, ret) TH_LOG("cannot reset tre_size: %s", lt_errname(ret));
	ret = lt_attr_set_ulong("num_tre", LT_DEFAULT_NUM_TRE);
	ASSERT_EQ(0, ret) TH_LOG("cannot reset num_tre: %s", lt_errname(ret));
	lt_guard_begin(g, name);
}

static void lt_test_end(struct __test_metadata *_metadata, struct lt_guard *g)
{
	int problems;

	lt_attr_set_ulong("tre_size", LT_DEFAULT_TRE_SIZE);
	lt_attr_set_ulong("num_tre", LT_DEFAULT_NUM_TRE);
	if (g->kmsg < 0 && !g->name[0])
		return;
	problems = lt_guard_end(g);
	EXPECT_EQ(0, problems) TH_LOG("kernel log or taint check failed: see kmsg-hit/taint-hit");
}

static void lt_expect_attr(struct __test_metadata *_metadata, const char *attr,
			   const char *want)
{
	char buf[128];
	int ret;

	ret = lt_attr_get(attr, buf, sizeof(buf));
	EXPECT_EQ(0, ret) TH_LOG("reading %s: %s", attr, lt_errname(ret));
	if (!ret)
		EXPECT_STREQ(want, buf) TH_LOG("value of %s", attr);
}

/* A declared measurement: ktap reports these, and only these, as such. */
static void lt_measure(const char *name, double value, const char *unit)
{
	ksft_print_msg("measure: %s=%.3f %s\n", name, value, unit);
}

/*
 * Start with the current tre_size and num_tre; a pass counts only when the
 * evidence of mhi_lt_evidence.c agrees with it.
 */
static int lt_start_here(struct __test_metadata *_metadata, uint64_t *ns)
{
	unsigned long tre_size = 0, num_tre = 0;
	char why[320];
	int ret;

	ret = lt_attr_ulong("tre_size", &tre_size);
	if (!ret)
		ret = lt_attr_ulong("num_tre", &num_tre);
	EXPECT_EQ(0, ret) TH_LOG("reading the test shape: %s", lt_errname(ret));
	if (ret)
		return ret;
	ret = lt_start_checked(tre_size, num_tre, ns, why, sizeof(why));
	if (ret == -EBADMSG)
		TH_LOG("start of %lu x %lu %s", tre_size, num_tre, why);
	return ret;
}

static void lt_expect_pass(struct __test_metadata *_metadata, const char *what)
{
	int ret = lt_start_here(_metadata, NULL);

	EXPECT_EQ(0, ret) TH_LOG("%s: start returned %d (%s)", what, ret, lt_errname(ret));
	if (!ret)
		lt_expect_attr(_metadata, "status", "pass");
}

static void lt_rebind(struct __test_metadata *_metadata)
{
	int ret;

	ret = lt_bind(false);
	ASSERT_EQ(0, ret) TH_LOG("unbind: %s", lt_errname(ret));
	ASSERT_EQ(0, lt_wait_bound(false, LT_BIND_WAIT_MS));
	ret = lt_bind(true);
	ASSERT_EQ(0, ret) TH_LOG("bind: %s", lt_errname(ret));
	ASSERT_EQ(0, lt_wait_bound(true, LT_BIND_WAIT_MS));
}

static double lt_us(uint64_t ns)
{
	return ns / 1000.0;
}

/* Iterations of each race and repeated fault (MHI_LT_RACE_ITERS) */
static unsigned long lt_race_iters(void)
{
	unsigned long n = lt_env_ulong("MHI_LT_RACE_ITERS", 200);

	return n ? n : 1;
}

static bool lt_knob_usable(const char *knob)
{
	if (lt_knob_present(knob))
		return true;
	ksft_print_msg("%s/%s is absent\n", lt.vlink, knob);
	return false;
}
