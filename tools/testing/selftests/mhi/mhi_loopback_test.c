// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest.
 *
 * Drives the sysfs interface of the mhi_loopback host client
 * (/sys/bus/mhi/devices/mhiN_LOOPBACK/{tre_size,max_tre_size,num_tre,start,
 * status}) on real hardware or over the mhi_vlink virtual link, whose
 * debugfs fault knobs make the failure paths testable.
 *
 * Groups (fixture.variant.test):
 *   abi       attribute modes, defaults, ranges, refused input, ring capacity
 *   loopback  one start per boundary tre_size x num_tre {1, 2, capacity}
 *   measure   throughput per size and start latency ("# bench:" lines)
 *   sweep     every tre_size from 1 to max_tre_size (stride selectable)
 *   fault     mhi_vlink fault knobs: each failure is detected and recovered
 *   race      starts against unbind, rmmod and each other
 *   leak      a kmemleak scan for MHI objects at the end
 * mhi_lt_setup.c holds what main() does before the tests, mhi_lt_canary.c
 * the --canary mode.
 *
 * Every test also fails on kernel log splats or new taint (see mhi_lt_util.c).
 * Without root, an MHI bus or a LOOPBACK device the program skips (exit 4).
 * With --vlink (MHI_LT_VLINK=1), or on a machine with no MHI controller at
 * all, it loads mhi_ep_loopback, mhi_loopback and mhi_vlink if the link is
 * not there yet, and unloads them at exit; a controller without a LOOPBACK
 * channel is a skip, never a reason to test the link instead. --hardware
 * (MHI_LT_HARDWARE=1) never loads the link nor touches its knobs, and runs
 * only the tests that need no link (Documentation/mhi/loopback-selftest.rst).
 * Every output is a KTAP document, skips included. On a board with
 * several devices pick one with -D, e.g. through run_kselftest.sh:
 *   KSELFTEST_MHI_LOOPBACK_TEST_ARGS="-D mhi1_LOOPBACK"
 * Run with --help for options and environment variables.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mhi_lt.h"

/* per-test harness timeouts in seconds; a failing start waits 5 s */
#define LT_SHORT_TIMEOUT	90
#define LT_SWEEP_TIMEOUT	900	/* the full sweep took 131 s on the rig */
#define LT_SWEEP_MARGIN		120
#define LT_FAULT_TIMEOUT	120
#define LT_RACE_TIMEOUT		600
#define LT_VLINK_CYCLES_TIMEOUT	900
#define LT_MEASURE_TIMEOUT	600
#define LT_BIND_WAIT_MS		10000
/* make bench reads these two lines */
#define LT_BENCH_FMT	"bench: tre_size=%u,num_tre=%d,bytes=%llu,seconds=%.6f,mbps=%.6f\n"
#define LT_LATENCY_FMT	"bench: latency,starts=%lu,min_us=%.1f,p50_us=%.1f,p99_us=%.1f,max_us=%.1f\n"

/* ------------------------------------------------------------------------ */
/* Helpers used inside tests                                                 */
/* ------------------------------------------------------------------------ */

/* Printable form of a test input: escapes "\n", shortens long strings. */
static const char *lt_show(const char *in, size_t len, char *buf, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 8 < size; i++) {
		if (i == 24 && len > 32) {
			o += snprintf(buf + o, size - o, "...(%zu bytes)", len);
			break;
		}
		if (in[i] == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = in[i];
		}
	}
	buf[o < size ? o : size - 1] = '\0';
	return buf;
}

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
		TH_LOG("start of %lu x %lu passed, but %s", tre_size, num_tre, why);
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

/* Write @in to @attr: it must fail with @err and leave @attr at @keep. */
static void lt_expect_refused(struct __test_metadata *_metadata, const char *attr,
			      const char *in, size_t len, int err, const char *keep)
{
	char show[64];
	ssize_t n;

	n = lt_attr_put(attr, in, len);
	EXPECT_EQ(-err, n) TH_LOG("%s <- \"%s\": got %zd (%s), expected %s", attr,
				  lt_show(in, len, show, sizeof(show)), n,
				  lt_errname(n < 0 ? (int)n : 0), lt_errname(err));
	if (keep)
		lt_expect_attr(_metadata, attr, keep);
}

/* Write @in to @attr: it must be taken whole and read back as @want. */
static void lt_expect_taken(struct __test_metadata *_metadata, const char *attr,
			    const char *in, unsigned long want)
{
	unsigned long val = 0;
	char show[64];
	ssize_t n;
	int ret;

	n = lt_attr_put(attr, in, strlen(in));
	EXPECT_EQ((ssize_t)strlen(in), n)
		TH_LOG("%s <- \"%s\": %s", attr, lt_show(in, strlen(in), show, sizeof(show)),
		       lt_errname(n < 0 ? (int)n : 0));
	ret = lt_attr_ulong(attr, &val);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(want, val) TH_LOG("%s <- \"%s\" reads back %lu", attr,
				    lt_show(in, strlen(in), show, sizeof(show)), val);
}

/* Strings that no u32 attribute may take (besides per-attribute ones). */
static const char * const lt_bad_u32[] = {
	"0", "-1", "65536", "4294967296", "18446744073709551616", "\n", "abc",
	"0x", "1e3", "12abc", "\n1", "1\n\n", "1 ", " 1", "\t1", "0x1g", "--1",
	"99999999999999999999999999999999999999999999999999999999999999999",
};

static void lt_expect_refused_u32(struct __test_metadata *_metadata, const char *attr,
				  const char *keep)
{
	size_t i, page = lt.page_size;
	char *big;
	ssize_t n;

	for (i = 0; i < ARRAY_SIZE(lt_bad_u32); i++)
		lt_expect_refused(_metadata, attr, lt_bad_u32[i], strlen(lt_bad_u32[i]),
				  EINVAL, keep);

	/*
	 * sysfs hands a driver at most one page of a write: one page of digits
	 * and one byte more both reach it as an out-of-range number.
	 */
	big = malloc(page + 1);
	ASSERT_NE(NULL, big);
	memset(big, '7', page + 1);
	lt_expect_refused(_metadata, attr, big, page, EINVAL, keep);
	lt_expect_refused(_metadata, attr, big, page + 1, EINVAL, keep);
	free(big);

	/* "" never reaches a sysfs store: the write returns 0, nothing changes */
	n = lt_attr_put(attr, "", 0);
	EXPECT_EQ(0, n);
	lt_expect_attr(_metadata, attr, keep);
}

static double lt_us(uint64_t ns)
{
	return ns / 1000.0;
}

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

/* ------------------------------------------------------------------------ */
/* abi: attributes, defaults, ranges, refused input                          */
/* ------------------------------------------------------------------------ */

FIXTURE(abi) {
	struct lt_guard g;
};

FIXTURE_SETUP(abi)
{
	lt_test_begin(_metadata, &self->g, "abi", NULL);
}

FIXTURE_TEARDOWN(abi)
{
	lt_test_end(_metadata, &self->g);
}

TEST_F_TIMEOUT(abi, discovery, LT_SHORT_TIMEOUT)
{
	char names[LT_MAX_DEVS][LT_NAME_LEN], path[PATH_MAX], link[PATH_MAX];
	const char *drv;
	ssize_t len;
	int i, n;

	n = lt_discover(names, LT_MAX_DEVS);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++)
		ksft_print_msg("loopback_device=%s%s\n", names[i],
			       strcmp(names[i], lt.dev) ? "" : " (selected)");
	ASSERT_EQ(0, lt_path(path, sizeof(path), "/sys/bus/mhi/devices/%s/driver", lt.dev));
	len = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, len) TH_LOG("%s has no driver link", lt.dev);
	link[len] = '\0';
	drv = strrchr(link, '/');
	EXPECT_STREQ(LT_HOST_DRV, drv ? drv + 1 : link);
	ksft_print_msg("controller=%s\n", lt.cntrl);
	ksft_print_msg("vlink=%s\n", lt.vlink[0] ? lt.vlink : "none");
	ksft_print_msg("ep_device=%s\n", lt.epdev[0] ? lt.epdev : "none");
	ksft_print_msg("module_backend=%s\n", lt_mod_backend());
	ksft_print_msg("deadline=%u ms\n", lt.deadline_ms);
	ksft_print_msg("seed=%u\n", lt.seed);
}

TEST_F_TIMEOUT(abi, attributes, LT_SHORT_TIMEOUT)
{
	static const struct {
		const char *name;
		mode_t mode;
	} attrs[] = {
		{ "tre_size", 0644 },
		{ "max_tre_size", 0444 },
		{ "num_tre", 0644 },
		{ "start", 0200 },
		{ "status", 0444 },
	};
	char path[PATH_MAX];
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		ASSERT_EQ(0, lt_attr_path(path, sizeof(path), attrs[i].name));
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %s", attrs[i].name, strerror(errno));
		EXPECT_TRUE(S_ISREG(st.st_mode));
		EXPECT_EQ(attrs[i].mode, st.st_mode & 07777)
			TH_LOG("%s has mode %04o, expected %04o", attrs[i].name,
			       st.st_mode & 07777, attrs[i].mode);
		if (lt.fake)
			continue;
		/* sysfs refuses an open the mode does not allow, even to root */
		if (!(attrs[i].mode & 0444)) {
			fd = open(path, O_RDONLY);
			EXPECT_EQ(-1, fd) TH_LOG("%s opened for reading", attrs[i].name);
			if (fd >= 0)
				close(fd);
			else
				EXPECT_EQ(EACCES, errno);
		}
		if (!(attrs[i].mode & 0222)) {
			fd = open(path, O_WRONLY);
			EXPECT_EQ(-1, fd) TH_LOG("%s opened for writing", attrs[i].name);
			if (fd >= 0)
				close(fd);
			else
				EXPECT_EQ(EACCES, errno);
		}
	}
}

TEST_F_TIMEOUT(abi, defaults_after_bind, LT_SHORT_TIMEOUT)
{
	char raw[64];
	ssize_t n;

	/* move away from the defaults first, so that a reset is visible */
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 77));
	lt_attr_set_ulong("num_tre", 2);
	lt_expect_pass(_metadata, "before rebind");
	lt_rebind(_metadata);

	lt_expect_attr(_metadata, "tre_size", "32");
	lt_expect_attr(_metadata, "num_tre", "1");
	lt_expect_attr(_metadata, "status", "not started");
	lt_expect_attr(_metadata, "max_tre_size", "65535");

	/* exactly one value and one newline */
	n = lt_attr_raw("status", raw, sizeof(raw));
	EXPECT_EQ((ssize_t)strlen("not started\n"), n);
}

TEST_F_TIMEOUT(abi, max_tre_size, LT_SHORT_TIMEOUT)
{
	unsigned long max = 0;

	lt_expect_attr(_metadata, "max_tre_size", "65535");
	ASSERT_EQ(0, lt_attr_ulong("max_tre_size", &max));
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", max));
	lt_expect_attr(_metadata, "tre_size", "65535");
	EXPECT_EQ(-EINVAL, lt_attr_set_ulong("tre_size", max + 1));
	lt_expect_attr(_metadata, "tre_size", "65535");
	lt_expect_pass(_metadata, "tre_size=max_tre_size");
}

TEST_F_TIMEOUT(abi, tre_size_accepted, LT_SHORT_TIMEOUT)
{
	static const struct {
		const char *in;
		unsigned long val;
	} ok[] = {
		{ "1", 1 }, { "2", 2 }, { "31", 31 }, { "32\n", 32 }, { "33", 33 },
		{ "4096", 4096 }, { "65534", 65534 }, { "65535\n", 65535 },
		/* parsed with base 0: hexadecimal and octal are part of the ABI */
		{ "0x20", 32 }, { "0X20\n", 32 }, { "040", 32 }, { "0xffff", 65535 },
		{ "0177777", 65535 }, { "0x1", 1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++)
		lt_expect_taken(_metadata, "tre_size", ok[i].in, ok[i].val);
}

TEST_F_TIMEOUT(abi, tre_size_refused, LT_SHORT_TIMEOUT)
{
	static const char * const bad[] = { "0x10000", "0200000", "65535.0", "0x 20" };
	size_t i;

	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 77));
	lt_expect_refused_u32(_metadata, "tre_size", "77");
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		lt_expect_refused(_metadata, "tre_size", bad[i], strlen(bad[i]), EINVAL, "77");
}

TEST_F_TIMEOUT(abi, num_tre_capacity, LT_SHORT_TIMEOUT)
{
	unsigned long elements;
	int cap, i;

	cap = lt_probe_capacity();
	ASSERT_LT(0, cap) TH_LOG("num_tre probe: %s", lt_errname(cap));
	ksft_print_msg("ring_capacity=%d TREs\n", cap);
	EXPECT_EQ(0, lt_attr_set_ulong("num_tre", cap));
	EXPECT_EQ(-EINVAL, lt_attr_set_ulong("num_tre", cap + 1));
	if (lt.vlink[0] && !lt_module_param(LT_VLINK_MOD, "ch_elements", &elements)) {
		ksft_print_msg("vlink_ch_elements=%lu\n", elements);
		EXPECT_EQ(elements - 1, (unsigned long)cap)
			TH_LOG("capacity must be one less than the ring size");
	}
	/* the largest value works, and keeps working */
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", cap));
	for (i = 0; i < 3; i++)
		lt_expect_pass(_metadata, "num_tre=capacity");
	EXPECT_EQ(cap, lt_probe_capacity()) TH_LOG("capacity changed after passing starts");
}

TEST_F_TIMEOUT(abi, num_tre_refused, LT_SHORT_TIMEOUT)
{
	char in[32], keep[32];
	int cap, base;

	cap = lt_probe_capacity();
	ASSERT_LT(0, cap);
	base = cap >= 2 ? 2 : 1;
	snprintf(keep, sizeof(keep), "%d", base);
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", base));
	lt_expect_refused_u32(_metadata, "num_tre", keep);
	snprintf(in, sizeof(in), "%d", cap + 1);
	lt_expect_refused(_metadata, "num_tre", in, strlen(in), EINVAL, keep);
	snprintf(in, sizeof(in), "%d\n", cap + 2);
	lt_expect_refused(_metadata, "num_tre", in, strlen(in), EINVAL, keep);
}

TEST_F_TIMEOUT(abi, start_refuses_false, LT_SHORT_TIMEOUT)
{
	static const char * const bad[] = {
		"0", "0\n", "n", "N", "no", "off", "OFF", "abc", "\n", "2", "-1", " 1",
	};
	unsigned long long ul0 = 0, ul1 = 0;
	bool have_ul;
	size_t i;

	lt_rebind(_metadata);
	lt_expect_attr(_metadata, "status", "not started");
	have_ul = !lt_vlink_stat("ul_bytes", &ul0);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		lt_expect_refused(_metadata, "start", bad[i], strlen(bad[i]), EINVAL,
				  NULL);
	lt_expect_attr(_metadata, "status", "not started");
	if (have_ul) {
		EXPECT_EQ(0, lt_vlink_stat("ul_bytes", &ul1));
		EXPECT_EQ(ul0, ul1) TH_LOG("a refused start moved data");
	}
	lt_expect_pass(_metadata, "after refused starts");
	lt_expect_refused(_metadata, "start", "0", 1, EINVAL, NULL);
	lt_expect_attr(_metadata, "status", "pass");
}

TEST_F_TIMEOUT(abi, start_accepts_true, LT_SHORT_TIMEOUT)
{
	static const char * const good[] = { "1", "1\n", "y", "Y", "yes", "on", "ON" };
	char show[32];
	size_t i;
	ssize_t n;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		n = lt_attr_put("start", good[i], strlen(good[i]));
		EXPECT_EQ((ssize_t)strlen(good[i]), n)
			TH_LOG("start <- \"%s\": %s",
			       lt_show(good[i], strlen(good[i]), show, sizeof(show)),
			       lt_errname(n < 0 ? (int)n : 0));
		lt_expect_attr(_metadata, "status", "pass");
	}
}

TEST_F_TIMEOUT(abi, values_persist, LT_SHORT_TIMEOUT)
{
	int cap = lt_probe_capacity();
	unsigned long num;

	ASSERT_LT(0, cap);
	num = cap >= 3 ? 3 : cap;
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 100));
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", num));
	lt_expect_pass(_metadata, "tre_size=100");
	lt_expect_pass(_metadata, "second start");
	lt_expect_attr(_metadata, "tre_size", "100");
	EXPECT_EQ(0, lt_attr_ulong("num_tre", &num));
	EXPECT_EQ(cap >= 3 ? 3UL : (unsigned long)cap, num);
}

/* ------------------------------------------------------------------------ */
/* loopback: boundary sizes x {1, 2, capacity}                                */
/* ------------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------------ */
/* measure: throughput and start latency (also the --bench mode)             */
/* ------------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------------ */
/* sweep: every tre_size                                                     */
/* ------------------------------------------------------------------------ */

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
			ret = lt_start_checked(sz, num, &ns, why, sizeof(why));
		if (ret == -EBADMSG && errs[EBADMSG] < 4)
			TH_LOG("tre_size=%lu passed, but %s", sz, why);
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

/* Iterations of each race and repeated fault (MHI_LT_RACE_ITERS) */
static unsigned long lt_race_iters(void)
{
	unsigned long n = lt_env_ulong("MHI_LT_RACE_ITERS", 200);

	return n ? n : 1;
}

/* ------------------------------------------------------------------------ */
/* fault: mhi_vlink fault knobs                                              */
/* ------------------------------------------------------------------------ */

FIXTURE(fault) {
	struct lt_guard g;
	int cap;
};

FIXTURE_SETUP(fault)
{
	int ret;

	if (!lt.vlink[0])
		SKIP(return, "no fault knob");
	lt_test_begin(_metadata, &self->g, "fault", NULL);
	lt_knobs_disarm();
	self->cap = lt_probe_capacity();
	ASSERT_LT(0, self->cap);
	ret = lt_start(NULL);
	ASSERT_EQ(0, ret) TH_LOG("start fails before any knob is armed: %s", lt_errname(ret));
}

FIXTURE_TEARDOWN(fault)
{
	lt_knobs_disarm();
	lt_test_end(_metadata, &self->g);
}

static bool lt_knob_usable(const char *knob)
{
	if (lt_knob_present(knob))
		return true;
	ksft_print_msg("%s/%s is absent\n", lt.vlink, knob);
	return false;
}

/*
 * After a failed start: the next start passes, and the channel has lost no
 * room (stale TREs would lower the largest accepted num_tre, see H3).
 */
static void lt_expect_recovered(struct __test_metadata *_metadata, int cap0)
{
	int cap, ret;

	lt_expect_pass(_metadata, "first start after the failure");
	cap = lt_probe_capacity();
	EXPECT_EQ(cap0, cap) TH_LOG("largest num_tre was %d before the failure, now %d",
				    cap0, cap);
	if (cap <= 0)
		return;
	ret = lt_attr_set_ulong("num_tre", cap);
	EXPECT_EQ(0, ret);
	lt_expect_pass(_metadata, "num_tre=capacity after the failure");
	lt_attr_set_ulong("num_tre", 1);
}

/* Arm @knob with @val, run one start: it must fail with @err, the knob fire. */
static void lt_expect_fault(struct __test_metadata *_metadata, const char *knob,
			    unsigned long val, int err, bool countdown)
{
	unsigned long long f0 = 0, f1 = 0;
	unsigned long left = 0;
	char key[64];
	bool have_fired;
	uint64_t ns = 0;
	int ret;

	snprintf(key, sizeof(key), "%s_fired", knob);
	have_fired = !lt_vlink_stat(key, &f0);
	ret = lt_knob_set(knob, val);
	ASSERT_EQ(0, ret) TH_LOG("arming %s=%lu: %s", knob, val, lt_errname(ret));
	ret = lt_start(&ns);
	EXPECT_EQ(-err, ret) TH_LOG("start with %s=%lu returned %d (%s), expected %s",
				    knob, val, ret, lt_errname(ret), lt_errname(err));
	ksft_print_msg("%s: start returned %s after %.1f ms\n", knob, lt_errname(ret),
		       ns / 1e6);
	lt_expect_attr(_metadata, "status", "fail");
	if (countdown) {
		EXPECT_TRUE(have_fired) TH_LOG("stats has no %s", key);
		EXPECT_EQ(0, lt_knob_get(knob, &left));
		EXPECT_EQ(0UL, left) TH_LOG("%s not consumed", knob);
	} else if (!have_fired) {
		ksft_print_msg("stats has no %s\n", key);
	}
	if (have_fired) {
		EXPECT_EQ(0, lt_vlink_stat(key, &f1));
		EXPECT_LT(f0, f1) TH_LOG("%s did not fire", knob);
	}
	ret = lt_knob_set(knob, 0);
	EXPECT_EQ(0, ret) TH_LOG("disarming %s: %s", knob, lt_errname(ret));
}

TEST_F_TIMEOUT(fault, drop_echo, LT_FAULT_TIMEOUT)
{
	if (!lt_knob_usable("drop_echo"))
		SKIP(return, "no fault knob");
	lt_expect_fault(_metadata, "drop_echo", 1, ETIMEDOUT, true);
	lt_expect_recovered(_metadata, self->cap);
}

TEST_F_TIMEOUT(fault, corrupt_echo, LT_FAULT_TIMEOUT)
{
	if (!lt_knob_usable("corrupt_echo"))
		SKIP(return, "no fault knob");
	lt_expect_fault(_metadata, "corrupt_echo", 1, EIO, true);
	lt_expect_recovered(_metadata, self->cap);
}

TEST_F_TIMEOUT(fault, delay_echo_over_deadline, LT_FAULT_TIMEOUT)
{
	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no fault knob");
	lt_expect_fault(_metadata, "delay_echo_ms", lt.deadline_ms + 1000, ETIMEDOUT, false);
	lt_expect_recovered(_metadata, self->cap);
}

TEST_F_TIMEOUT(fault, delay_echo_under_deadline, LT_FAULT_TIMEOUT)
{
	const unsigned int delay = 50;
	unsigned long long f0 = 0, f1 = 0;
	bool have_fired;
	uint64_t ns = 0;
	int ret;

	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no fault knob");
	have_fired = !lt_vlink_stat("delay_echo_ms_fired", &f0);
	ASSERT_EQ(0, lt_knob_set("delay_echo_ms", delay));
	ret = lt_start(&ns);
	EXPECT_EQ(0, ret) TH_LOG("start with delay_echo_ms=%u: %s", delay, lt_errname(ret));
	EXPECT_LE((uint64_t)delay * 1000000ULL, ns)
		TH_LOG("start took %.1f ms: the delay was not applied", ns / 1e6);
	ksft_print_msg("delayed_start=%.1f ms\n", ns / 1e6);
	lt_expect_attr(_metadata, "status", "pass");
	if (have_fired) {
		EXPECT_EQ(0, lt_vlink_stat("delay_echo_ms_fired", &f1));
		EXPECT_LT(f0, f1);
	}
	EXPECT_EQ(0, lt_knob_set("delay_echo_ms", 0));
	lt_expect_pass(_metadata, "after the delay");
}

TEST_F_TIMEOUT(fault, fail_dma, LT_FAULT_TIMEOUT)
{
	if (!lt_knob_usable("fail_dma"))
		SKIP(return, "no fault knob");
	lt_expect_fault(_metadata, "fail_dma", 1, ETIMEDOUT, true);
	lt_expect_recovered(_metadata, self->cap);
}

/*
 * A start that fails on its first echo while the endpoint still has the
 * rest of a full ring to process: the host resets the channels (and may set
 * their rings up elsewhere) under the endpoint's ring worker. The endpoint
 * must never reach outside host memory or its ring cache (patch 0009), and
 * the next start must pass.
 */
TEST_F_TIMEOUT(fault, reset_while_busy, LT_RACE_TIMEOUT)
{
	unsigned long iters = lt_race_iters(), i, failed = 0;
	unsigned long long x0 = 0, x1 = 0;
	int ret;

	if (!lt_knob_usable("corrupt_echo"))
		SKIP(return, "no fault knob");
	ASSERT_EQ(0, lt_vlink_stat("xlate_errors", &x0));
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 1));
	ksft_print_msg("iterations=%lu num_tre=%d\n", iters, self->cap);
	for (i = 0; i < iters; i++) {
		ASSERT_EQ(0, lt_attr_set_ulong("num_tre", self->cap));
		ASSERT_EQ(0, lt_knob_set("corrupt_echo", 1));
		ret = lt_start(NULL);
		if (ret != -EIO && failed++ < 4)
			TH_LOG("iteration %lu: faulted start returned %s, not EIO", i,
			       lt_errname(ret));
		ASSERT_EQ(0, lt_knob_set("corrupt_echo", 0));
		ASSERT_EQ(0, lt_attr_set_ulong("num_tre", 1));
		ret = lt_start_here(_metadata, NULL);
		if (ret)
			break;
	}
	ASSERT_EQ(0, lt_vlink_stat("xlate_errors", &x1));
	ksft_print_msg("reset_iterations=%lu xlate_errors=%llu\n", i, x1 - x0);
	EXPECT_EQ(0UL, failed) TH_LOG("faulted starts that did not fail with EIO");
	EXPECT_EQ(x0, x1) TH_LOG("endpoint accesses outside host memory");
	EXPECT_EQ(iters, i) TH_LOG("a start after the reset failed");
}

static int lt_set_deadline(unsigned long ms);

/*
 * Echoes that the endpoint writes after the host has given up: a slow
 * endpoint's DMA, late by a seeded amount past a short deadline, lands while
 * the host times out, resets the channels and takes its buffers back. It
 * must land in buffers the host still owns or not at all (no access outside
 * host memory here, no KASAN or DMA-API report on the console), and the next
 * start must pass with its evidence: nothing of the late echo in it.
 */
TEST_F_TIMEOUT(fault, late_echo_after_deadline, LT_RACE_TIMEOUT)
{
	unsigned long iters = lt_race_iters(), deadline = 40, i, failed = 0;
	unsigned long long x0 = 0, x1 = 0;
	uint32_t rng = lt.seed;
	unsigned int delay = 0;
	int ret;

	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no fault knob");
	ASSERT_EQ(0, lt_vlink_stat("xlate_errors", &x0));
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 4096));
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", 4));
	ksft_print_msg("iterations=%lu seed=%u deadline=%lu ms\n", iters, lt.seed, deadline);
	for (i = 0; i < iters; i++) {
		delay = deadline + lt_rand(&rng) % (2 * deadline);
		ret = lt_set_deadline(deadline);
		if (!ret)
			ret = lt_knob_set("delay_echo_ms", delay);
		if (!ret)
			ret = lt_start(NULL);
		/* The next start, or the next test, gets the usual deadline */
		EXPECT_EQ(0, lt_knob_set("delay_echo_ms", 0));
		EXPECT_EQ(0, lt_set_deadline(lt.deadline_ms));
		if (ret != -ETIMEDOUT && failed++ < 4)
			TH_LOG("iteration %lu: echo %u ms late: start returned %s, not ETIMEDOUT",
			       i, delay, lt_errname(ret));
		ret = lt_start_here(_metadata, NULL);
		if (ret) {
			TH_LOG("iteration %lu: the start after an echo %u ms late returned %s",
			       i, delay, lt_errname(ret));
			break;
		}
	}
	ASSERT_EQ(0, lt_vlink_stat("xlate_errors", &x1));
	ksft_print_msg("late_echoes=%lu xlate_errors=%llu\n", i, x1 - x0);
	EXPECT_EQ(0UL, failed) TH_LOG("late echoes that did not time the start out");
	EXPECT_EQ(x0, x1) TH_LOG("endpoint accesses outside host memory");
	EXPECT_EQ(iters, i) TH_LOG("a start after a late echo failed");
}

TEST_F_TIMEOUT(fault, starts_after_failure, LT_FAULT_TIMEOUT)
{
	unsigned long n = lt_env_ulong("MHI_LT_RECOVERY_STARTS", 100), i, bad = 0;
	uint32_t rng = lt.seed;
	unsigned int sz, num;
	int ret;

	if (!lt_knob_usable("drop_echo"))
		SKIP(return, "no fault knob");
	ksft_print_msg("seed=%u\n", lt.seed);
	lt_expect_fault(_metadata, "drop_echo", 1, ETIMEDOUT, true);
	for (i = 0; i < n; i++) {
		sz = 1 + lt_rand(&rng) % 4096;
		num = 1 + lt_rand(&rng) % self->cap;
		ret = lt_attr_set_ulong("tre_size", sz);
		if (!ret)
			ret = lt_attr_set_ulong("num_tre", num);
		if (!ret)
			ret = lt_start_here(_metadata, NULL);
		if (ret && bad++ < 8)
			TH_LOG("start %lu (tre_size=%u num_tre=%u): %s", i + 1, sz, num,
			       lt_errname(ret));
	}
	ksft_print_msg("starts_after_failure=%lu failed=%lu\n", n, bad);
	EXPECT_EQ(0UL, bad);
	lt_attr_set_ulong("num_tre", 1);
	EXPECT_EQ(self->cap, lt_probe_capacity());
}

static void lt_sig_noop(int sig)
{
	(void)sig;
}

static void lt_sigusr1_interrupts(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lt_sig_noop;	/* no SA_RESTART: syscalls see EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

struct lt_async {
	int ret;
	uint64_t ns;
	char buf[64];
};

static void *lt_async_start(void *arg)
{
	struct lt_async *a = arg;

	a->ret = lt_start(&a->ns);
	return NULL;
}

static void *lt_async_status(void *arg)
{
	struct lt_async *a = arg;
	uint64_t t0 = lt_now_ns();

	a->ret = lt_attr_get("status", a->buf, sizeof(a->buf));
	a->ns = lt_now_ns() - t0;
	return NULL;
}

TEST_F_TIMEOUT(fault, signal_aborts_start, LT_FAULT_TIMEOUT)
{
	unsigned int delay = lt.deadline_ms / 2;
	struct lt_async a = { 0 };
	pthread_t th;

	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no fault knob");
	lt_sigusr1_interrupts();
	ASSERT_EQ(0, lt_knob_set("delay_echo_ms", delay));
	ASSERT_EQ(0, pthread_create(&th, NULL, lt_async_start, &a));
	lt_sleep_ms(delay / 4);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	EXPECT_EQ(-EINTR, a.ret) TH_LOG("signalled start returned %s after %.1f ms",
					lt_errname(a.ret), a.ns / 1e6);
	lt_expect_attr(_metadata, "status", "fail");
	EXPECT_EQ(0, lt_knob_set("delay_echo_ms", 0));
	lt_expect_recovered(_metadata, self->cap);
}

TEST_F_TIMEOUT(fault, signal_interrupts_status_read, LT_FAULT_TIMEOUT)
{
	unsigned int delay = lt.deadline_ms / 2;
	struct lt_async s = { 0 }, r = { 0 };
	pthread_t ts, tr;

	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no fault knob");
	lt_sigusr1_interrupts();
	ASSERT_EQ(0, lt_knob_set("delay_echo_ms", delay));
	ASSERT_EQ(0, pthread_create(&ts, NULL, lt_async_start, &s));
	lt_sleep_ms(delay / 5);
	ASSERT_EQ(0, pthread_create(&tr, NULL, lt_async_status, &r));
	lt_sleep_ms(delay / 5);
	pthread_kill(tr, SIGUSR1);
	pthread_join(tr, NULL);
	pthread_join(ts, NULL);
	EXPECT_EQ(-EINTR, r.ret)
		TH_LOG("status read during a start returned %s (\"%s\") after %.1f ms",
		       lt_errname(r.ret), r.ret ? "" : r.buf, r.ns / 1e6);
	EXPECT_EQ(0, s.ret) TH_LOG("the start itself: %s", lt_errname(s.ret));
	lt_expect_attr(_metadata, "status", "pass");
	EXPECT_EQ(0, lt_knob_set("delay_echo_ms", 0));
}

/* ------------------------------------------------------------------------ */
/* race: starts against unbind, rmmod and each other                         */
/* ------------------------------------------------------------------------ */

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

FIXTURE_TEARDOWN(race)
{
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

/*
 * A start held in flight: the link's delay knob holds the echo, and its
 * echo_delays counter says when it does, so the removal that follows
 * provably overlaps a start that reached the device.
 */
struct lt_held {
	pthread_t th;
	int ret;
	uint64_t t0, t1;
};

static void *lt_held_run(void *arg)
{
	struct lt_held *h = arg;

	h->t0 = lt_now_ns();
	h->ret = lt_start(NULL);
	h->t1 = lt_now_ns();
	return NULL;
}

/* 0 once the link holds the echo of a start run by a new thread */
static int lt_hold_start(struct lt_held *h, unsigned int ms)
{
	unsigned long long d0 = 0, d = 0;
	uint64_t end = lt_now_ns() + (uint64_t)ms * 1000000ULL;
	int ret;

	memset(h, 0, sizeof(*h));
	ret = lt_vlink_stat("echo_delays", &d0);
	if (ret)
		return ret;
	ret = pthread_create(&h->th, NULL, lt_held_run, h);
	if (ret)
		return -ret;
	do {
		lt_sleep_ms(1);
		ret = lt_vlink_stat("echo_delays", &d);
	} while (!ret && d == d0 && lt_now_ns() < end);
	return ret ? ret : d == d0 ? -ETIMEDOUT : 0;
}

typedef int (*lt_remove_fn)(struct __test_metadata *_metadata);

static int lt_remove_unbind(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_bind(false);
}

static int lt_restore_bind(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_bind(true);
}

static int lt_remove_rmmod(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_mod_unload(LT_HOST_DRV);
}

static int lt_restore_modprobe(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_mod_load(LT_HOST_DRV);
}

/* The link's surprise removal: the wire is cut, then the host powers down */
static int lt_remove_link_down(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_vlink_power("down");
}

static int lt_restore_link_up(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_vlink_power("up");
}

static int lt_remove_rmmod_vlink(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_mod_unload(LT_VLINK_MOD);
}

static int lt_restore_modprobe_vlink(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_mod_load(LT_VLINK_MOD);
}

/* The controller driver's remove: mhi_unregister_controller() under a start */
static int lt_remove_cntrl_unbind(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_cntrl_bind(false);
}

static int lt_restore_cntrl_bind(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_cntrl_bind(true);
}

static int lt_remove_ep_unbind(struct __test_metadata *_metadata)
{
	(void)_metadata;
	return lt_ep_bind(false);
}

static int lt_restore_ep_bind(struct __test_metadata *_metadata)
{
	int ret;

	(void)_metadata;
	ret = lt_ep_bind(true);
	return ret ? ret : lt_wait_ep_bound(LT_BIND_WAIT_MS);
}

/**
 * struct lt_removal - What goes away under a held start, and what it means
 * @remove: takes it away while the echo is held
 * @restore: brings it back
 * @link_goes: the link's debugfs goes with it (its knobs start disarmed)
 * @want: how the held start must end: -ENODEV when the host device goes
 *        away; 0 when only the endpoint client does, since the held echo
 *        was already handed to the endpoint core
 */
struct lt_removal {
	lt_remove_fn remove;
	lt_remove_fn restore;
	bool link_goes;
	int want;
};

/*
 * Each iteration: hold a start in flight, take something away under it,
 * bring it back and require a checked pass. Every held start must overlap
 * the removal and end as @rm says; any other ending (a lost completion, a
 * bad echo) fails the test.
 */
static void lt_held_race(struct __test_metadata *_metadata, const struct lt_removal *rm)
{
	unsigned long iters = lt_env_ulong("MHI_LT_HELD_ITERS", 200), i;
	unsigned long overlaps = 0, wanted = 0, passes = 0, other = 0;
	unsigned int hold = lt_env_ulong("MHI_LT_HOLD_MS", 100);
	uint32_t rng = lt.seed;
	uint64_t t_rm;
	struct lt_held h;
	int ret;

	if (!lt_knob_usable("delay_echo_ms"))
		SKIP(return, "no delay knob on this link");
	if (hold >= lt.deadline_ms / 2)
		hold = lt.deadline_ms / 2;
	ksft_print_msg("seed=%u iterations=%lu hold=%u ms\n", lt.seed, iters, hold);
	for (i = 0; i < iters; i++) {
		ASSERT_EQ(0, lt_attr_set_ulong("tre_size", 1 + lt_rand(&rng) % 4096));
		ASSERT_EQ(0, lt_knob_set("delay_echo_ms", hold));
		ret = lt_hold_start(&h, lt.deadline_ms);
		t_rm = lt_now_ns();
		EXPECT_EQ(0, ret) TH_LOG("iteration %lu: echo never held: %s", i, lt_errname(ret));
		ret = rm->remove(_metadata);
		EXPECT_EQ(0, ret) TH_LOG("iteration %lu: removal: %s", i, lt_errname(ret));
		if (h.th)
			pthread_join(h.th, NULL);
		if (!rm->link_goes)
			EXPECT_EQ(0, lt_knob_set("delay_echo_ms", 0));
		if (h.t0 && h.t0 < t_rm && h.t1 > t_rm)
			overlaps++;
		if (h.ret == rm->want)
			wanted++;
		else if (other++ < 4)
			TH_LOG("iteration %lu: held start ended with %s, not %s", i,
			       lt_errname(h.ret), lt_errname(rm->want));
		ret = rm->restore(_metadata);
		EXPECT_EQ(0, ret) TH_LOG("iteration %lu: restoring: %s", i, lt_errname(ret));
		ASSERT_EQ(0, lt_wait_bound(true, LT_BIND_WAIT_MS))
			TH_LOG("iteration %lu: %s did not come back", i, lt.dev);
		if (rm->link_goes)
			ASSERT_EQ(0, lt_knob_set("delay_echo_ms", 0));
		ret = lt_start_here(_metadata, NULL);
		if (!ret)
			passes++;
		else if (other++ < 4)
			TH_LOG("iteration %lu: start after the device came back: %s", i,
			       lt_errname(ret));
		if (other > 16) {
			i++;
			break;		/* enough said, and each failure costs time */
		}
	}
	ksft_print_msg("held_iterations=%lu overlaps=%lu %s=%lu passes=%lu\n", i,
		       overlaps, rm->want ? lt_errname(rm->want) : "passed", wanted, passes);
	EXPECT_EQ(iters, overlaps) TH_LOG("held starts that overlapped the removal");
	EXPECT_EQ(iters, wanted) TH_LOG("held starts that ended with %s", lt_errname(rm->want));
	EXPECT_EQ(iters, passes) TH_LOG("starts that passed after the device came back");
}

TEST_F_TIMEOUT(race, held_start_vs_unbind, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_unbind, lt_restore_bind, false, -ENODEV,
	};

	lt_held_race(_metadata, &rm);
}

TEST_F_TIMEOUT(race, held_start_vs_rmmod_host, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_rmmod, lt_restore_modprobe, false, -ENODEV,
	};
	const char *why;

	if (!lt_can_cycle(_metadata, LT_HOST_DRV, &why))
		SKIP(return, "%s", why);
	lt_held_race(_metadata, &rm);
}

/* The controller goes away: a surprise removal of the link */
TEST_F_TIMEOUT(race, held_start_vs_link_down, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_link_down, lt_restore_link_up, false, -ENODEV,
	};

	if (!lt_knob_present("power"))
		SKIP(return, "no power control on this link");
	lt_held_race(_metadata, &rm);
}

/* The controller's module goes away, both controllers with it */
TEST_F_TIMEOUT(race, held_start_vs_rmmod_vlink, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_rmmod_vlink, lt_restore_modprobe_vlink, true, -ENODEV,
	};
	const char *why;

	if (!lt_can_cycle(_metadata, LT_VLINK_MOD, &why))
		SKIP(return, "%s", why);
	lt_held_race(_metadata, &rm);
}

/* The controller driver is unbound: the host core's controller removal */
TEST_F_TIMEOUT(race, held_start_vs_cntrl_unbind, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_cntrl_unbind, lt_restore_cntrl_bind, true, -ENODEV,
	};

	if (!lt_knob_present("power"))
		SKIP(return, "not a virtual link");
	lt_held_race(_metadata, &rm);
}

/* The endpoint client is unbound while the echo it queued is held */
TEST_F_TIMEOUT(race, held_start_vs_ep_unbind, LT_RACE_TIMEOUT)
{
	static const struct lt_removal rm = {
		lt_remove_ep_unbind, lt_restore_ep_bind, false, 0,
	};

	if (!lt.epdev[0] || !lt_ep_bound())
		SKIP(return, "no endpoint client on this machine");
	lt_held_race(_metadata, &rm);
}

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

/* ------------------------------------------------------------------------ */
/* leak: kmemleak scan at the end                                            */
/* ------------------------------------------------------------------------ */

FIXTURE(leak) {
	struct lt_guard g;
};

FIXTURE_SETUP(leak)
{
	lt_test_begin(_metadata, &self->g, "leak", NULL);
	/* the scan reports leaks of the whole kernel; only MHI ones count */
	self->g.ignore_kmemleak = true;
}

FIXTURE_TEARDOWN(leak)
{
	lt_test_end(_metadata, &self->g);
}

TEST_F_TIMEOUT(leak, kmemleak, LT_MEASURE_TIMEOUT)
{
	size_t size = 1 << 16, len = 0;
	char path[PATH_MAX], *buf, *rep, *next;
	int fd, leaks = 0, shown = 0;
	ssize_t n;

	ASSERT_EQ(0, lt_path(path, sizeof(path), "/sys/kernel/debug/kmemleak"));
	if (!lt_exists(path))
		SKIP(return, "no kmemleak");
	n = lt_write_file(path, "scan", 4);
	ASSERT_EQ(4, n) TH_LOG("kmemleak scan: %s", lt_errname(n < 0 ? (int)n : 0));
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	buf = malloc(size);
	ASSERT_NE(NULL, buf);
	while ((n = read(fd, buf + len, size - len - 1)) > 0) {
		len += n;
		if (len + 1 == size) {
			size *= 2;
			buf = realloc(buf, size);
			ASSERT_NE(NULL, buf);
		}
	}
	close(fd);
	buf[len] = '\0';
	for (rep = strstr(buf, "unreferenced object"); rep; rep = next) {
		next = strstr(rep + 1, "unreferenced object");
		if (next)
			next[-1] = '\0';
		if (!strstr(rep, "mhi"))
			continue;
		leaks++;
		if (shown++ < 4)
			lt_print_lines("kmemleak-hit", rep);
	}
	ksft_print_msg("kmemleak_mhi_reports=%d\n", leaks);
	EXPECT_EQ(0, leaks);
	free(buf);
}

/* ------------------------------------------------------------------------ */
/* main                                                                       */
/* ------------------------------------------------------------------------ */

static void lt_usage(void)
{
	fprintf(stderr,
		"MHI LOOPBACK selftest. Options (harness options follow below):\n"
		"  -D NAME, --device=NAME  test /sys/bus/mhi/devices/NAME (default: first *_LOOPBACK)\n"
		"  --bench                 run only the measurements (\"# bench:\" lines)\n"
		"  --canary                prove that the data test fails under each fault knob\n"
		"  --info                  print what was found and exit\n"
		"  --names                 print \"fixture.variant.test class\" for every test and\n"
		"                          exit; class is hardware or link (with --hardware:\n"
		"                          only the hardware tests)\n"
		"  --sysfs-root DIR        read /sys below DIR (tests of this program only)\n"
		"  --vlink                 test over the virtual link, loading mhi_vlink if needed\n"
		"  --hardware              never load mhi_vlink nor touch its knobs; only the\n"
		"                          tests that need no link run (the others SKIP)\n"
		"Without --vlink, mhi_vlink is loaded only when there is no MHI controller.\n"
		"Environment: MHI_LT_DEVICE, MHI_LT_SEED, MHI_LT_SWEEP_STEP (1),\n"
		"  MHI_LT_SWEEP_NUM_TRE (1), MHI_LT_SWEEP_MAX_FAIL (16), MHI_LT_RACE_ITERS (200),\n"
		"  MHI_LT_THREADS (8), MHI_LT_CONCURRENT_STARTS (5), MHI_LT_RECOVERY_STARTS (100),\n"
		"  MHI_LT_BENCH_ITERS (10), MHI_LT_LAT_STARTS (200), MHI_LT_DEADLINE_MS (the\n"
		"  mhi_loopback timeout_ms parameter, else 5000),\n"
		"  MHI_LT_WAIT_S (60), MHI_LT_NO_LOAD, MHI_LT_BENCH, MHI_LT_SYSFS_ROOT,\n"
		"  MHI_LT_VLINK=1 (--vlink), MHI_LT_HARDWARE=1 (--hardware; options win)\n\n");
}

static void lt_test_name(char *buf, size_t len, const struct __fixture_metadata *f,
			 const struct __fixture_variant_metadata *v,
			 const struct __test_metadata *t)
{
	snprintf(buf, len, "%s%s%s.%s", f->name, v->name[0] ? "." : "", v->name, t->name);
}

/*
 * A KTAP document that runs nothing; after its plan, "name class" for each
 * test that runs in this mode (with --hardware: the hardware tests only).
 */
static void lt_print_names(void)
{
	struct __fixture_variant_metadata no_variant = { .name = "" }, *v;
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	char name[256];

	lt_ktap_info("test names only");
	for (f = __fixture_list; f; f = f->next)
		for (v = f->variant ? f->variant : &no_variant; v; v = v->next)
			for (t = f->tests; t; t = t->next) {
				lt_test_name(name, sizeof(name), f, v, t);
				if (lt_test_runs_here(name))
					printf("%s %s\n", name, lt_class_name(lt_test_class(name)));
			}
}

/*
 * --hardware: every test goes through lt_class_gate(), which runs it when
 * lt_classes[] (mhi_lt_env.c) says it needs no link and reports SKIP
 * otherwise. The plan and the names stay those of a run on the link.
 */
#define LT_MAX_TESTS	256

typedef void (*lt_test_fn)(struct __test_metadata *, struct __fixture_variant_metadata *);

static struct {
	struct __test_metadata *t;
	lt_test_fn fn;
} lt_gated[LT_MAX_TESTS];

static void lt_class_gate(struct __test_metadata *_metadata,
			  struct __fixture_variant_metadata *variant)
{
	char name[256];
	size_t i;

	lt_test_name(name, sizeof(name), _metadata->fixture, variant, _metadata);
	if (!lt_test_runs_here(name))
		SKIP(return, "needs the virtual link");
	for (i = 0; i < ARRAY_SIZE(lt_gated); i++) {
		if (lt_gated[i].t == _metadata) {
			lt_gated[i].fn(_metadata, variant);
			return;
		}
	}
	ASSERT_TRUE(false) TH_LOG("%s: not gated", name);
}

static void lt_gate_tests(void)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	size_t n = 0;

	for (f = __fixture_list; f; f = f->next) {
		for (t = f->tests; t; t = t->next) {
			if (n == ARRAY_SIZE(lt_gated))
				lt_exit_fail("more than %d tests: raise LT_MAX_TESTS\n",
					     LT_MAX_TESTS);
			lt_gated[n].t = t;
			lt_gated[n++].fn = t->fn;
			t->fn = lt_class_gate;
		}
	}
}

/*
 * The harness's own options: it would answer a bad one with its usage and
 * exit 1 before printing any KTAP, so check them first.
 */
static void lt_check_harness_args(int argc, char **argv)
{
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt(argc, argv, "dhlF:f:V:v:t:T:r:")) != -1)
		if (opt == '?')
			lt_exit_fail("bad option or missing argument: %s (see --help)\n",
				     argv[optind > 1 ? optind - 1 : 1]);
	optind = 1;
	opterr = 1;
}

int main(int argc, char **argv)
{
	bool bench = lt_env_ulong("MHI_LT_BENCH", 0), canary = false, info = false;
	const char *want = getenv("MHI_LT_DEVICE");
	const char *root = getenv("MHI_LT_SYSFS_ROOT");
	unsigned long deadline = LT_DEADLINE_MS;
	bool harness_only = false, names = false;
	int i, hargc = 0, opt_vlink = -1, opt_hardware = -1;
	char **hargv;

	setvbuf(stdout, NULL, _IOLBF, 0);
	lt_self = argv[0];
	lt_main_pid = getpid();
	lt.page_size = sysconf(_SC_PAGESIZE);

	hargv = calloc(argc + 3, sizeof(*hargv));
	if (!hargv)
		lt_exit_fail("out of memory\n");
	hargv[hargc++] = argv[0];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-D") && i + 1 < argc) {
			want = argv[++i];
		} else if (!strncmp(a, "-D", 2) && a[2]) {
			want = a + 2;
		} else if (!strncmp(a, "--device=", 9)) {
			want = a + 9;
		} else if (!strcmp(a, "--sysfs-root") && i + 1 < argc) {
			root = argv[++i];
		} else if (!strncmp(a, "--sysfs-root=", 13)) {
			root = a + 13;
		} else if (!strcmp(a, "--bench")) {
			bench = true;
		} else if (!strcmp(a, "--canary")) {
			canary = true;
		} else if (!strcmp(a, "--info")) {
			info = true;
		} else if (!strcmp(a, "--names")) {
			names = true;
		} else if (!strcmp(a, "--vlink")) {
			opt_vlink = 1;
		} else if (!strcmp(a, "--hardware")) {
			opt_hardware = 1;
		} else if (!strcmp(a, "--help")) {
			lt_usage();
			hargv[hargc++] = "-h";
			harness_only = true;
		} else {
			if (!strcmp(a, "-l") || !strcmp(a, "-h"))
				harness_only = true;
			if (!strcmp(a, "-h"))
				lt_usage();
			hargv[hargc++] = argv[i];
		}
	}
	lt_set_mode(opt_vlink, opt_hardware);
	if (names) {
		lt_print_names();
		return KSFT_PASS;
	}
	lt_check_harness_args(hargc, hargv);
	/* listing and help need neither root nor a device */
	if (harness_only) {
		lt_ktap_info("test list or usage only (on stderr)");
		return test_harness_run(hargc, hargv);
	}

	if (root && *root) {
		snprintf(lt.root, sizeof(lt.root), "%s", root);
		lt.fake = true;
	}
	lt.seed = lt_env_ulong("MHI_LT_SEED", 0);
	if (!lt.seed)
		lt.seed = ((unsigned int)time(NULL) ^ ((unsigned int)getpid() << 16)) | 1;
	lt_prepare(want);
	lt_map_vlink();
	if (lt.hardware) {
		/* stand-in for a modem: the link's knobs and EP side are not there */
		lt.vlink[0] = '\0';
		lt.epdev[0] = '\0';
	}
	lt.deadline_ms = lt_env_ulong("MHI_LT_DEADLINE_MS", 0);
	if (!lt.deadline_ms && lt_module_param(LT_HOST_DRV, "timeout_ms", &deadline))
		deadline = LT_DEADLINE_MS;
	if (!lt.deadline_ms)
		lt.deadline_ms = deadline;

	if (info) {
		lt_ktap_info("information only");
		lt_print_info();
		return KSFT_PASS;
	}
	if (canary)
		return lt_canary_main();
	if (bench) {
		hargv[hargc++] = "-f";
		hargv[hargc++] = "measure";
	}
	if (lt.hardware)
		lt_gate_tests();
	return test_harness_run(hargc, hargv);
}
