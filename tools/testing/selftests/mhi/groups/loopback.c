// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group loopback: one start per boundary tre_size
 * x num_tre {1, 2, capacity}.
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

FIXTURE(loopback) {
	struct lt_guard g;
	int cap;
};

FIXTURE_VARIANT(loopback) {
	const char *name;
	unsigned int tre_size;
	unsigned int num_tre;		/* 0: the ring capacity */
};

/* one variant per boundary size and ring use; names from the values only */
FIXTURE_VARIANT_ADD(loopback, tre_1_num_1) {
	.name = "tre_1_num_1", .tre_size = 1, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_1_num_2) {
	.name = "tre_1_num_2", .tre_size = 1, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_1_num_cap) {
	.name = "tre_1_num_cap", .tre_size = 1, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_2_num_1) {
	.name = "tre_2_num_1", .tre_size = 2, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_2_num_2) {
	.name = "tre_2_num_2", .tre_size = 2, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_2_num_cap) {
	.name = "tre_2_num_cap", .tre_size = 2, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_31_num_1) {
	.name = "tre_31_num_1", .tre_size = 31, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_31_num_2) {
	.name = "tre_31_num_2", .tre_size = 31, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_31_num_cap) {
	.name = "tre_31_num_cap", .tre_size = 31, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_32_num_1) {
	.name = "tre_32_num_1", .tre_size = 32, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_32_num_2) {
	.name = "tre_32_num_2", .tre_size = 32, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_32_num_cap) {
	.name = "tre_32_num_cap", .tre_size = 32, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_33_num_1) {
	.name = "tre_33_num_1", .tre_size = 33, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_33_num_2) {
	.name = "tre_33_num_2", .tre_size = 33, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_33_num_cap) {
	.name = "tre_33_num_cap", .tre_size = 33, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_4095_num_1) {
	.name = "tre_4095_num_1", .tre_size = 4095, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_4095_num_2) {
	.name = "tre_4095_num_2", .tre_size = 4095, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_4095_num_cap) {
	.name = "tre_4095_num_cap", .tre_size = 4095, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_4096_num_1) {
	.name = "tre_4096_num_1", .tre_size = 4096, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_4096_num_2) {
	.name = "tre_4096_num_2", .tre_size = 4096, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_4096_num_cap) {
	.name = "tre_4096_num_cap", .tre_size = 4096, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_4097_num_1) {
	.name = "tre_4097_num_1", .tre_size = 4097, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_4097_num_2) {
	.name = "tre_4097_num_2", .tre_size = 4097, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_4097_num_cap) {
	.name = "tre_4097_num_cap", .tre_size = 4097, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_32767_num_1) {
	.name = "tre_32767_num_1", .tre_size = 32767, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_32767_num_2) {
	.name = "tre_32767_num_2", .tre_size = 32767, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_32767_num_cap) {
	.name = "tre_32767_num_cap", .tre_size = 32767, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_32768_num_1) {
	.name = "tre_32768_num_1", .tre_size = 32768, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_32768_num_2) {
	.name = "tre_32768_num_2", .tre_size = 32768, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_32768_num_cap) {
	.name = "tre_32768_num_cap", .tre_size = 32768, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_32769_num_1) {
	.name = "tre_32769_num_1", .tre_size = 32769, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_32769_num_2) {
	.name = "tre_32769_num_2", .tre_size = 32769, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_32769_num_cap) {
	.name = "tre_32769_num_cap", .tre_size = 32769, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_65534_num_1) {
	.name = "tre_65534_num_1", .tre_size = 65534, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_65534_num_2) {
	.name = "tre_65534_num_2", .tre_size = 65534, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_65534_num_cap) {
	.name = "tre_65534_num_cap", .tre_size = 65534, .num_tre = 0,
};

FIXTURE_VARIANT_ADD(loopback, tre_65535_num_1) {
	.name = "tre_65535_num_1", .tre_size = 65535, .num_tre = 1,
};

FIXTURE_VARIANT_ADD(loopback, tre_65535_num_2) {
	.name = "tre_65535_num_2", .tre_size = 65535, .num_tre = 2,
};

FIXTURE_VARIANT_ADD(loopback, tre_65535_num_cap) {
	.name = "tre_65535_num_cap", .tre_size = 65535, .num_tre = 0,
};

FIXTURE_SETUP(loopback)
{
	lt_test_begin(_metadata, &self->g, "loopback", variant->name);
	self->cap = lt_probe_capacity();
	ASSERT_LT(0, self->cap) TH_LOG("num_tre probe: %s", lt_errname(self->cap));
}

FIXTURE_TEARDOWN(loopback)
{
	lt_test_end(_metadata, &self->g);
}

TEST_F_TIMEOUT(loopback, start, LT_SHORT_TIMEOUT)
{
	unsigned long num = variant->num_tre ? variant->num_tre : (unsigned long)self->cap;
	unsigned long val = 0;
	uint64_t ns = 0;
	int ret;

	if (num > (unsigned long)self->cap)
		SKIP(return, "ring capacity below num_tre");
	ret = lt_attr_set_ulong("tre_size", variant->tre_size);
	ASSERT_EQ(0, ret) TH_LOG("tre_size=%u: %s", variant->tre_size, lt_errname(ret));
	ret = lt_attr_set_ulong("num_tre", num);
	ASSERT_EQ(0, ret) TH_LOG("num_tre=%lu: %s", num, lt_errname(ret));
	EXPECT_EQ(0, lt_attr_ulong("tre_size", &val));
	EXPECT_EQ(variant->tre_size, val);
	EXPECT_EQ(0, lt_attr_ulong("num_tre", &val));
	EXPECT_EQ(num, val);

	ret = lt_start_here(_metadata, &ns);
	EXPECT_EQ(0, ret) TH_LOG("start returned %d (%s) for tre_size=%u num_tre=%lu",
				 ret, lt_errname(ret), variant->tre_size, num);
	ksft_print_msg("bytes=%lu B\n", variant->tre_size * num);
	lt_measure("start_time", lt_us(ns), "us");
	lt_expect_attr(_metadata, "status", ret ? "fail" : "pass");
}
