// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group sweep: every tre_size from 1 to
 * max_tre_size (stride selectable).
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

FIXTURE(sweep) {
	struct lt_guard g;
};

FIXTURE_SETUP(sweep)
{
	lt_test_begin(_metadata, &self->g, "sweep", NULL);
}

FIXTURE_TEARDOWN(sweep)
{
	lt_test_end(_metadata, &self->g);
}

struct lt_ranges {
	char text[1024];
	size_t len;
	bool truncated;
	unsigned long lo, hi, last_idx;
	bool open;
};

static void lt_ranges_flush(struct lt_ranges *r)
{
	int n;

	if (!r->open)
		return;
	r->open = false;
	if (r->truncated)
		return;
	if (r->lo == r->hi)
		n = snprintf(r->text + r->len, sizeof(r->text) - r->len, "%s%lu",
			     r->len ? "," : "", r->lo);
	else
		n = snprintf(r->text + r->len, sizeof(r->text) - r->len, "%s%lu-%lu",
			     r->len ? "," : "", r->lo, r->hi);
	if (n < 0 || (size_t)n >= sizeof(r->text) - r->len - 4) {
		r->truncated = true;
		return;
	}
	r->len += n;
}

/* @idx: position in the sweep, so that a stride > 1 still forms ranges */
static void lt_ranges_add(struct lt_ranges *r, unsigned long val, unsigned long idx)
{
	if (r->open && idx == r->last_idx + 1) {
		r->hi = val;
		r->last_idx = idx;
		return;
	}
	lt_ranges_flush(r);
	r->open = true;
	r->lo = val;
	r->hi = val;
	r->last_idx = idx;
}

TEST_F_TIMEOUT(sweep, tre_size_all, LT_SWEEP_TIMEOUT)
{
	unsigned long step = lt_env_ulong("MHI_LT_SWEEP_STEP", 1);
	unsigned long num = lt_env_ulong("MHI_LT_SWEEP_NUM_TRE", 1);
	unsigned long max_fail = lt_env_ulong("MHI_LT_SWEEP_MAX_FAIL", 16);
	uint64_t budget = (uint64_t)(LT_SWEEP_TIMEOUT - LT_SWEEP_MARGIN) * 1000000000ULL;
	unsigned long max = 0, sz, idx = 0, failed = 0, errs[256] = { 0 };
	unsigned long long bytes = 0;
	uint64_t t0, ns, busy = 0, elapsed;
	struct lt_evidence ev = { .chained = false };
	const char *stopped = NULL;
	struct lt_ranges *fails;
	char why[320];
	int ret, e;

	if (!step)
		step = 1;
	ASSERT_EQ(0, lt_attr_ulong("max_tre_size", &max));
	ret = lt_attr_set_ulong("num_tre", num);
	ASSERT_EQ(0, ret) TH_LOG("num_tre=%lu: %s", num, lt_errname(ret));
	fails = calloc(1, sizeof(*fails));
	ASSERT_NE(NULL, fails);
	ksft_print_msg("sweep_step=%lu\n", step);
	ksft_print_msg("sweep_num_tre=%lu\n", num);
	ksft_print_msg("sweep_range=1-%lu\n", max);

	t0 = lt_now_ns();
	for (sz = 1; sz <= max; sz = (sz < max && sz + step > max) ? max : sz + step) {
		ret = lt_attr_set_ulong("tre_size", sz);
		if (!ret)
			ret = lt_start_chained(&ev, sz, num, &ns, why, sizeof(why));
		if (ret == -EBADMSG && errs[EBADMSG] < 4)
			TH_LOG("tre_size=%lu %s", sz, why);
		if (ret) {
			lt_ranges_add(fails, sz, idx);
			e = -ret < 256 ? -ret : 0;
			errs[e]++;
			failed++;
		} else {
			busy += ns;
			bytes += (unsigned long long)sz * num;
		}
		idx++;
		elapsed = lt_now_ns() - t0;
		if (failed && failed >= max_fail) {
			stopped = "too many failures (MHI_LT_SWEEP_MAX_FAIL)";
			break;
		}
		if (elapsed > budget) {
			stopped = "time budget spent (raise MHI_LT_SWEEP_STEP)";
			break;
		}
		if (!(idx % 4096))
			ksft_print_msg("sweep_progress=%lu/%lu elapsed_s=%.0f\n", sz, max,
				       elapsed / 1e9);
		if (sz == max)
			break;
	}
	lt_ranges_flush(fails);

	ksft_print_msg("sweep_sizes_tested=%lu\n", idx);
	ksft_print_msg("sweep_sizes_failed=%lu\n", failed);
	if (failed)
		ksft_print_msg("sweep_failed_sizes=%s%s\n", fails->text,
			       fails->truncated ? ",..." : "");
	for (e = 0; e < 256; e++)
		if (errs[e])
			ksft_print_msg("sweep_errno_%s=%lu\n", e ? lt_errname(e) : "other",
				       errs[e]);
	ksft_print_msg("sweep_seconds=%.1f s\n", (lt_now_ns() - t0) / 1e9);
	if (busy)
		ksft_print_msg("sweep_throughput=%.2f MB/s\n", bytes / (busy / 1e9) / 1e6);
	if (stopped)
		ksft_print_msg("sweep_stopped_at=%lu (%s)\n", sz, stopped);
	EXPECT_EQ(0UL, failed);
	EXPECT_EQ(NULL, stopped);
	free(fails);
}
