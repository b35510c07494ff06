// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group measure: throughput and start latency
 * ("# bench:" and "# measure:" lines; also the --bench mode).
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

/*
 * make bench reads these two lines. seconds and mbps are wall-clock (the
 * write to start, as userspace sees it); kernel_seconds and kernel_mbps
 * are the host client's own time of each start (duration_ns of
 * last_start: first buffer queued to last completion), split into
 * queue_us (queueing every buffer, which rings the doorbells), first_echo_us
 * (from the first buffer queued to the first DL completion) and the rest,
 * each the mean of a start; doorbells is the number of channel doorbells the
 * virtual link saw per start (-1 without the link). The latency line adds
 * the in-kernel median and p99, and the medians of queue and first echo.
 * Reported, never asserted.
 */
#define LT_BENCH_FMT	"bench: tre_size=%u,num_tre=%d,bytes=%llu,seconds=%.6f,mbps=%.6f," \
			"kernel_seconds=%.6f,kernel_mbps=%.6f,doorbells=%.2f," \
			"queue_us=%.1f,first_echo_us=%.1f\n"
#define LT_LATENCY_FMT	"bench: latency,starts=%lu,min_us=%.1f,p50_us=%.1f,p99_us=%.1f," \
			"max_us=%.1f,kernel_p50_us=%.1f,kernel_p99_us=%.1f," \
			"queue_p50_us=%.1f,first_echo_p50_us=%.1f\n"

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

/*
 * The host client's own time of the start that just passed, 0 if unknown;
 * the time it took to queue the buffers and to see the first echo are
 * added to *queue and *first if given.
 */
static uint64_t lt_kernel_ns(uint64_t *queue, uint64_t *first)
{
	struct lt_report r;

	if (lt.fake || lt_report_read(&r) || r.result)
		return 0;
	if (queue)
		*queue += r.queue_ns;
	if (first)
		*first += r.first_echo_ns;
	return r.duration_ns;
}

/* Channel doorbells the link has seen so far; false without the link */
static bool lt_doorbells(unsigned long long *val)
{
	return !lt.fake && !lt_vlink_stat("doorbells", val);
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
	unsigned long long bytes, db0 = 0, db1 = 0;
	uint64_t ns, busy, kbusy, kqueue, kfirst;
	double sec, mbps, ksec, dbs;
	unsigned long i;
	char name[64];
	bool have_db;
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
			kbusy = 0;
			kqueue = 0;
			kfirst = 0;
			have_db = lt_doorbells(&db0);
			for (i = 0; i < iters; i++) {
				ret = lt_start_here(_metadata, &ns);
				EXPECT_EQ(0, ret) TH_LOG("tre_size=%u num_tre=%d: %s", sizes[s],
							 nums[n], lt_errname(ret));
				if (ret)
					break;
				busy += ns;
				kbusy += lt_kernel_ns(&kqueue, &kfirst);
				bytes += (unsigned long long)sizes[s] * nums[n];
			}
			if (!bytes)
				continue;
			/* the evidence check reads no link register: no doorbell */
			have_db = have_db && lt_doorbells(&db1);
			dbs = have_db ? (double)(db1 - db0) / i : -1;
			sec = busy / 1e9;
			mbps = bytes / sec / 1e6;
			ksec = kbusy / 1e9;
			ksft_print_msg(LT_BENCH_FMT, sizes[s], nums[n], bytes, sec, mbps,
				       ksec, kbusy ? bytes / ksec / 1e6 : 0, dbs,
				       lt_us(kqueue) / i, lt_us(kfirst) / i);
			snprintf(name, sizeof(name), "throughput_tre_%u_num_%s", sizes[s],
				 n ? "cap" : "1");
			lt_measure(name, mbps, "MB/s");
			/* 24 measurements: the ktap parser keeps 32 per result */
			if (have_db) {
				snprintf(name, sizeof(name), "doorbells_per_start_tre_%u_num_%s",
					 sizes[s], n ? "cap" : "1");
				lt_measure(name, dbs, "count");
			}
		}
	}
}

TEST_F_TIMEOUT(measure, start_latency_1B, LT_MEASURE_TIMEOUT)
{
	unsigned long n = lt_env_ulong("MHI_LT_LAT_STARTS", 200), i, nk = 0;
	uint64_t *v, *k, *q, *f;
	int ret;

	if (!n || n > 1000000)
		n = 200;
	v = calloc(n, sizeof(*v));
	ASSERT_NE(NULL, v);
	k = calloc(n, sizeof(*k));
	q = calloc(n, sizeof(*q));
	f = calloc(n, sizeof(*f));
	ASSERT_NE(NULL, k);
	ASSERT_NE(NULL, q);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 1));
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", 1));
	for (i = 0; i < n; i++) {
		ret = lt_start_here(_metadata, &v[i]);
		EXPECT_EQ(0, ret) TH_LOG("start %lu of %lu: %s", i + 1, n, lt_errname(ret));
		if (ret)
			break;
		k[nk] = lt_kernel_ns(&q[nk], &f[nk]);
		if (k[nk])
			nk++;
	}
	if (nk) {
		qsort(k, nk, sizeof(*k), lt_cmp_u64);
		qsort(q, nk, sizeof(*q), lt_cmp_u64);
		qsort(f, nk, sizeof(*f), lt_cmp_u64);
		lt_measure("kernel_start_latency_1B_p50", lt_us(lt_pct(k, nk, 50)), "us");
		lt_measure("kernel_start_latency_1B_p99", lt_us(lt_pct(k, nk, 99)), "us");
	}
	if (i) {
		qsort(v, i, sizeof(*v), lt_cmp_u64);
		lt_measure("start_latency_1B_p50", lt_us(lt_pct(v, i, 50)), "us");
		lt_measure("start_latency_1B_p99", lt_us(lt_pct(v, i, 99)), "us");
		ksft_print_msg(LT_LATENCY_FMT, i, lt_us(v[0]), lt_us(lt_pct(v, i, 50)),
			       lt_us(lt_pct(v, i, 99)), lt_us(v[i - 1]),
			       nk ? lt_us(lt_pct(k, nk, 50)) : 0,
			       nk ? lt_us(lt_pct(k, nk, 99)) : 0,
			       nk ? lt_us(lt_pct(q, nk, 50)) : 0,
			       nk ? lt_us(lt_pct(f, nk, 50)) : 0);
	}
	free(f);
	free(q);
	free(k);
	free(v);
}
