// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group zerocopy: the endpoint client echoes the
 * buffer the endpoint core read the host's data into, without copying it
 * (mhi_ep_keep_buf() and mhi_ep_queue_buf_ctx()). Its stats count the echoes
 * it queued and the echo buffers it had to allocate and fill itself; on
 * starts with no fault knob armed, every echo must be a read buffer, sent
 * whole (echo_shape same) or in pieces (split). Under the coalesce shape the
 * client copies runs of consecutive echoes into one buffer by design: each
 * such buffer is one copy, and exactly those copies are expected.
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

FIXTURE(zerocopy) {
	struct lt_guard g;
};

FIXTURE_SETUP(zerocopy)
{
	unsigned long long v;

	if (!lt.vlink[0])
		SKIP(return, "no endpoint client stats");
	lt_test_begin(_metadata, &self->g, "zerocopy", NULL);
	lt_knobs_disarm();
	/* the link's endpoint client is this series' own: it counts copies */
	ASSERT_EQ(0, lt_vlink_stat(LT_EP_KNOB "copies", &v))
		TH_LOG("the endpoint client's stats have no copies=");
}

FIXTURE_TEARDOWN(zerocopy)
{
	lt_knobs_disarm();
	lt_attr_set_ulong("tre_size", LT_DEFAULT_TRE_SIZE);
	lt_attr_set_ulong("num_tre", 1);
	lt_test_end(_metadata, &self->g);
}

static void lt_ep_counters(struct __test_metadata *_metadata,
			   unsigned long long *echoes, unsigned long long *copies)
{
	ASSERT_EQ(0, lt_vlink_stat(LT_EP_KNOB "echoes", echoes));
	ASSERT_EQ(0, lt_vlink_stat(LT_EP_KNOB "copies", copies));
}

/* The echo client's shape, which says which copies it makes */
static int lt_zc_shape(struct __test_metadata *_metadata)
{
	int shape = lt_echo_shape();

	ASSERT_LE(0, shape) TH_LOG("%s echo_shape parameter: %s", LT_EP_DRV, lt_errname(shape));
	ksft_print_msg("echo_shape=%s\n", lt_shape_name(shape));
	return shape;
}

/*
 * Transfers of one chunk, of a page and of two chunks per TRE: each chunk
 * the endpoint core reads is one echo, and none of them is a copy, but for
 * the runs of echoes the coalesce shape merges.
 */
TEST_F(zerocopy, echo_is_the_read_buffer)
{
	static const unsigned long sizes[] = { 1, 4096, 65535 };
	unsigned long long e0, e1, c0, c1, want = 0, want_copies = 0;
	const unsigned long num = 2;
	char what[64];
	int shape;
	size_t i;

	shape = lt_zc_shape(_metadata);
	lt_ep_counters(_metadata, &e0, &c0);
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", num));
	for (i = 0; i < ARRAY_SIZE(sizes) && !_metadata->exit_code; i++) {
		ASSERT_EQ(0, lt_attr_set_ulong("tre_size", sizes[i]));
		snprintf(what, sizeof(what), "start of %lu x %lu", sizes[i], num);
		lt_expect_pass(_metadata, what);
		want += num * ((sizes[i] + LT_EP_CHUNK - 1) / LT_EP_CHUNK);
		if (shape == LT_SHAPE_COALESCE)
			want_copies += lt_coalesced_bufs(sizes[i], num);
	}
	lt_ep_counters(_metadata, &e1, &c1);
	ksft_print_msg("echoes=%llu copies=%llu\n", e1 - e0, c1 - c0);
	EXPECT_EQ(want, e1 - e0)
		TH_LOG("the endpoint client queued %llu echoes, not one per chunk read", e1 - e0);
	EXPECT_EQ(want_copies, c1 - c0)
		TH_LOG("%llu copies for %llu echoes, %llu expected (echo_shape %s)",
		       c1 - c0, e1 - e0, want_copies, lt_shape_name(shape));
}

/*
 * The client's debugfs echo_shape and its echo_shape parameter are one
 * setting: each shape written to one reads back from the other, a name
 * that is no shape is refused, and the shape of the lane is restored.
 */
TEST_F(zerocopy, echo_shape_knobs_agree)
{
	static const char * const names[] = { "same", "split", "coalesce" };
	char path[PATH_MAX], want[16];
	int shape, got, i;
	ssize_t n;

	shape = lt_zc_shape(_metadata);
	ASSERT_EQ(0, lt_path(path, sizeof(path), "/sys/kernel/debug/%s/echo_shape", LT_EP_DRV));
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s\n", names[i]);
		n = lt_write_file(path, want, strlen(want));
		EXPECT_EQ((ssize_t)strlen(want), n)
			TH_LOG("writing %s to %s: %s", names[i], path,
			       lt_errname(n < 0 ? n : -EPROTO));
		got = lt_echo_shape();
		EXPECT_EQ(i, got) TH_LOG("the parameter reads %s after %s was written",
					 lt_shape_name(got), names[i]);
	}
	n = lt_write_file(path, "bent\n", 5);
	EXPECT_GT(0, n) TH_LOG("a shape named bent was accepted");
	snprintf(want, sizeof(want), "%s\n", lt_shape_name(shape));
	ASSERT_EQ((ssize_t)strlen(want), lt_write_file(path, want, strlen(want)));
	ASSERT_EQ(shape, lt_echo_shape());
	lt_expect_pass(_metadata, "a start in the lane's shape again");
}

/*
 * An echo that must hold more than the transfer (extend_echo) is the one
 * kind the client copies (with the runs the coalesce shape merges): the
 * copies counter counts it, and the start fails on the bytes it adds.
 */
TEST_F_TIMEOUT(zerocopy, extended_echo_is_a_copy, LT_FAULT_TIMEOUT)
{
	unsigned long long e0, e1, c0, c1, want = 1;
	int ret;

	if (!lt_knob_usable(LT_EP_KNOB "extend_echo"))
		SKIP(return, "no extend_echo knob");
	/* coalesce merges the extended echo and the other one: one more copy */
	if (lt_zc_shape(_metadata) == LT_SHAPE_COALESCE)
		want += lt_coalesced_bufs(4096, 2);
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", 2));
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 4096));
	lt_ep_counters(_metadata, &e0, &c0);
	ASSERT_EQ(0, lt_knob_set(LT_EP_KNOB "fault_len", 1));
	ASSERT_EQ(0, lt_knob_set(LT_EP_KNOB "extend_echo", 1));
	ret = lt_start(NULL);
	ksft_print_msg("start with extend_echo=1 returned %s\n", lt_errname(ret));
	EXPECT_NE(0, ret) TH_LOG("a start passed with 1 byte too many in its echo");
	lt_knobs_disarm();
	lt_ep_counters(_metadata, &e1, &c1);
	EXPECT_EQ(want, c1 - c0)
		TH_LOG("%llu copies counted for one extended echo, %llu expected", c1 - c0, want);
	EXPECT_LE(1ULL, e1 - e0);
	lt_expect_pass(_metadata, "the start after the extended echo");
}
