// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group abi: attribute modes, defaults, ranges,
 * refused input, ring capacity.
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

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
