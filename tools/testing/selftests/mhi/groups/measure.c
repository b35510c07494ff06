// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group measure: throughput and start latency
 * ("# bench:" and "# measure:" lines; also the --bench mode).
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

/* make bench reads these two lines */
#define LT_BENCH_FMT	"bench: tre_size=%u,num_tre=%d,bytes=%llu,seconds=%.6f,mbps=%.6f\n"
#define LT_LATENCY_FMT	"bench: latency,starts=%lu,min_us=%.1f,p50_us=%.1f,p99_us=%.1f,max_us=%.1f\n"

static int lt_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of a sorted array */
static uint64_t lt_pct(const uint64_t *v, size_t n, unsigned int pct)
{
	size_t rank = (n * pct + 99) / 100;

	return v[rank ? rank - 1 : 0];
}

FIXTURE(measure) {
	struct lt_guard g;
	int cap;
};

FIXTURE_SETUP(measure)
{
	lt_test_begin(_metadata, &self->g, "measure", NULL);
	self->cap = lt_probe_capacity();
	ASSERT_LT(0, self->cap);
}

FIXTURE_TEARDOWN(measure)
{
	lt_test_end(_metadata, &self->g);
}

TEST_F_TIMEOUT(measure, throughput, LT_MEASURE_TIMEOUT)
{
	static const unsigned int sizes[] = { 1, 64, 512, 4096, 32768, 65535 };
	unsigned long iters = lt_env_ulong("MHI_LT_BENCH_ITERS", 10);
	const int nums[] = { 1, self->cap };
	unsigned long long bytes;
	char name[64];
	uint64_t ns, busy;
	unsigned long i;
	double sec, mbps;
	size_t s, n;
	int ret;

	if (!iters)
		iters = 1;
	ksft_print_msg("throughput: payload bytes once per start, MB = 10^6 B, %lu starts/size\n",
		       iters);
	for (n = 0; n < ARRAY_SIZE(nums); n++) {
		ASSERT_EQ(0, lt_attr_set_ulong("num_tre", nums[n]));
		for (s = 0; s < ARRAY_SIZE(sizes); s++) {
			ASSERT_EQ(0, lt_attr_set_ulong("tre_size", sizes[s]));
			bytes = 0;
			busy = 0;
			for (i = 0; i < iters; i++) {
				ret = lt_start_here(_metadata, &ns);
				EXPECT_EQ(0, ret) TH_LOG("tre_size=%u num_tre=%d: %s", sizes[s],
							 nums[n], lt_errname(ret));
				if (ret)
					break;
				busy += ns;
				bytes += (unsigned long long)sizes[s] * nums[n];
			}
			if (!bytes)
				continue;
			sec = busy / 1e9;
			mbps = bytes / sec / 1e6;
			ksft_print_msg(LT_BENCH_FMT,
				       sizes[s], nums[n], bytes, sec, mbps);
			snprintf(name, sizeof(name), "throughput_tre_%u_num_%s", sizes[s],
				 n ? "cap" : "1");
			lt_measure(name, mbps, "MB/s");
		}
	}
}

TEST_F_TIMEOUT(measure, start_latency_1B, LT_MEASURE_TIMEOUT)
{
	unsigned long n = lt_env_ulong("MHI_LT_LAT_STARTS", 200), i;
	uint64_t *v;
	int ret;

	if (!n || n > 1000000)
		n = 200;
	v = calloc(n, sizeof(*v));
	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 1));
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", 1));
	for (i = 0; i < n; i++) {
		ret = lt_start_here(_metadata, &v[i]);
		EXPECT_EQ(0, ret) TH_LOG("start %lu of %lu: %s", i + 1, n, lt_errname(ret));
		if (ret)
			break;
	}
	if (i) {
		qsort(v, i, sizeof(*v), lt_cmp_u64);
		lt_measure("start_latency_1B_p50", lt_us(lt_pct(v, i, 50)), "us");
		lt_measure("start_latency_1B_p99", lt_us(lt_pct(v, i, 99)), "us");
		ksft_print_msg(LT_LATENCY_FMT, i, lt_us(v[0]), lt_us(lt_pct(v, i, 50)),
			       lt_us(lt_pct(v, i, 99)), lt_us(v[i - 1]));
	}
	free(v);
}
