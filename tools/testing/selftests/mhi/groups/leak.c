// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group leak: a kmemleak scan for MHI objects at
 * the end.
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

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
