// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group irq: interrupt delivery as slow as a real
 * link's. The link's msi_delay_us knob makes each interrupt the endpoint
 * raises return only after the host may have handled it, so events the
 * endpoint adds meanwhile must be signalled by an interrupt of their own
 * (on a moderated event ring, the intmod lane, they are easy to lose).
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

FIXTURE(irq) {
	struct lt_guard g;
	int cap;
};

FIXTURE_SETUP(irq)
{
	if (!lt.vlink[0])
		SKIP(return, "no interrupt knob");
	lt_test_begin(_metadata, &self->g, "irq", NULL);
	lt_knobs_disarm();
	self->cap = lt_probe_capacity();
	ASSERT_LT(0, self->cap);
}

FIXTURE_TEARDOWN(irq)
{
	lt_knobs_disarm();
	lt_attr_set_ulong("tre_size", LT_DEFAULT_TRE_SIZE);
	lt_attr_set_ulong("num_tre", 1);
	lt_test_end(_metadata, &self->g);
}

/*
 * Whole rings of the largest TREs, each interrupt 2 ms slow: the endpoint
 * adds dozens of completions while the host handles the interrupt of the
 * first ones. Every start must pass and be checked.
 */
TEST_F_TIMEOUT(irq, slow_msi_full_rings, LT_FAULT_TIMEOUT)
{
	unsigned long iters = lt_env_ulong("MHI_LT_SLOW_MSI_ITERS", 20);
	unsigned long long d0 = 0, d1 = 0;
	unsigned long i;
	char what[64];

	ASSERT_EQ(0, lt_vlink_stat("msi_delays", &d0)) TH_LOG("stats has no msi_delays");
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 65535));
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", self->cap));
	ASSERT_EQ(0, lt_knob_set("msi_delay_us", 2000));
	ksft_print_msg("iterations=%lu num_tre=%d msi_delay_us=2000\n", iters, self->cap);
	for (i = 0; i < iters && !_metadata->exit_code; i++) {
		snprintf(what, sizeof(what), "start %lu of 65535 x %d", i, self->cap);
		lt_expect_pass(_metadata, what);
	}
	ASSERT_EQ(0, lt_knob_set("msi_delay_us", 0));
	ASSERT_EQ(0, lt_vlink_stat("msi_delays", &d1));
	ksft_print_msg("msi_delays=%llu\n", d1 - d0);
	EXPECT_LT(d0, d1) TH_LOG("no interrupt was slowed down: the knob did not act");
}
