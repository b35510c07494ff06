// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, the --canary mode: prove that the data test can
 * fail. Each fault knob of the link is armed in turn and this program runs
 * itself on the data test (which must fail), on ABI checks (which must not)
 * and disarmed again (which must pass); then every echo fault meets every
 * data shape.
 *
 * One file: kselftest.h keeps the plan and the result counters of a KTAP
 * document in static storage, so every result must be reported from the
 * file that sets the plan.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest.h"
#include "mhi_lt.h"

#define LT_DATA_TEST		"loopback.tre_32_num_1.start"

struct lt_canary {
	const char *knob;
	int err;
	bool countdown;
};

static void lt_canary_knob(const struct lt_canary *c)
{
	static const char * const data[] = { "-r", LT_DATA_TEST, NULL };
	/* ABI checks that never write "start" */
	static const char * const abi[] = {
		"-r", "abi.attributes", "-r", "abi.tre_size_accepted",
		"-r", "abi.tre_size_refused", "-r", "abi.num_tre_refused", NULL,
	};
	unsigned long val = c->countdown ? 1 : lt.deadline_ms + 1000, left = 0;
	unsigned long long f0 = 0, f1 = 0;
	char name[96], want[128], errtag[32];
	bool have_fired, ok;
	int status;
	char *out;

	if (!lt_knob_present(c->knob)) {
		ksft_print_msg("%s/%s is absent\n", lt.vlink, c->knob);
		snprintf(name, sizeof(name), "canary.%s.data_test_fails", c->knob);
		ksft_test_result_code(KSFT_SKIP, name, "no fault knob");
		snprintf(name, sizeof(name), "canary.%s.abi_tests_unaffected", c->knob);
		ksft_test_result_code(KSFT_SKIP, name, "no fault knob");
		snprintf(name, sizeof(name), "canary.%s.data_test_passes_disarmed", c->knob);
		ksft_test_result_code(KSFT_SKIP, name, "no fault knob");
		return;
	}
	snprintf(errtag, sizeof(errtag), "(%s)", lt_errname(c->err));

	/* 1: armed, the plain data test must report "not ok" for that reason */
	snprintf(name, sizeof(name), "canary.%s.data_test_fails", c->knob);
	lt_knobs_disarm();
	snprintf(want, sizeof(want), "%s_fired", c->knob);
	have_fired = !lt_vlink_stat(want, &f0);
	ok = !lt_knob_set(c->knob, val);
	out = lt_run_self(data, &status);
	lt_knob_set(c->knob, 0);
	if (!c->countdown)
		lt_sleep_ms(val - lt.deadline_ms + 500);	/* let the held echo drain */
	snprintf(want, sizeof(want), "not ok 1 %s", LT_DATA_TEST);
	ok = ok && out && lt_exit_code(status, 1) && strstr(out, want) &&
	     strstr(out, errtag) && !strstr(out, "kmsg-hit:") && !strstr(out, "taint-hit:");
	if (have_fired) {
		snprintf(want, sizeof(want), "%s_fired", c->knob);
		ok = ok && !lt_vlink_stat(want, &f1) && f1 > f0;
	} else if (c->countdown) {
		ksft_print_msg("stats has no %s_fired\n", c->knob);
		ok = false;
	}
	if (!ok && out)
		lt_print_lines("child", out);
	free(out);
	ksft_test_result_code(ok ? KSFT_PASS : KSFT_FAIL, name, NULL);

	/* 2: armed, checks that do not move data are not affected */
	snprintf(name, sizeof(name), "canary.%s.abi_tests_unaffected", c->knob);
	ok = !lt_knob_set(c->knob, val);
	out = lt_run_self(abi, &status);
	ok = ok && out && lt_exit_code(status, 0) && !strstr(out, "not ok");
	if (c->countdown)
		ok = ok && !lt_knob_get(c->knob, &left) && left == val;
	lt_knob_set(c->knob, 0);
	if (!ok && out)
		lt_print_lines("child", out);
	free(out);
	ksft_test_result_code(ok ? KSFT_PASS : KSFT_FAIL, name, NULL);

	/* 3: disarmed, the same data test passes again */
	snprintf(name, sizeof(name), "canary.%s.data_test_passes_disarmed", c->knob);
	out = lt_run_self(data, &status);
	snprintf(want, sizeof(want), "ok 1 %s", LT_DATA_TEST);
	ok = out && lt_exit_code(status, 0) && strstr(out, want) && !strstr(out, "not ok");
	if (!ok && out)
		lt_print_lines("child", out);
	free(out);
	ksft_test_result_code(ok ? KSFT_PASS : KSFT_FAIL, name, NULL);
}

/*
 * Echo faults, each tried on every shape of the data tests: the link's
 * corrupt_echo and drop_echo, and the echo client's shapes of a bad echo.
 * For the echo client's knobs, echo @j of a start is the j-th chunk the
 * endpoint core read, in order; for the link's, the j-th DL write of the
 * echo, which the echo shape decides (lt_dl_write()).
 * fail_dma is not one: the endpoint reads a failed UL TRE again at the next
 * doorbell, so a start of several TREs gets its echo intact and passes;
 * fault.fail_dma and the canary's knob pass try it on a single TRE.
 */
struct lt_echo_fault {
	const char *knob;	/* armed to 1 */
	const char *skip;	/* knob: echoes let through first */
	const char *len;	/* knob of the bytes involved, or NULL */
	bool needs_next;	/* shows only with an echo after the faulted one */
};

static const struct lt_echo_fault lt_echo_faults[] = {
	{ "corrupt_echo", "echo_skip", "corrupt_len", false },
	{ "drop_echo", "echo_skip", NULL, false },
	{ LT_EP_KNOB "truncate_echo", LT_EP_KNOB "fault_skip", LT_EP_KNOB "fault_len", false },
	{ LT_EP_KNOB "extend_echo", LT_EP_KNOB "fault_skip", LT_EP_KNOB "fault_len", false },
	{ LT_EP_KNOB "duplicate_echo", LT_EP_KNOB "fault_skip", NULL, true },
	{ LT_EP_KNOB "reorder_echo", LT_EP_KNOB "fault_skip", NULL, true },
};

/* A knob's name without the prefix saying whose it is */
static const char *lt_fault_name(const struct lt_echo_fault *f)
{
	size_t n = strlen(LT_EP_KNOB);

	return strncmp(f->knob, LT_EP_KNOB, n) ? f->knob : f->knob + n;
}

static const unsigned int lt_canary_sizes[] = {
	1, 2, 31, 32, 33, 4095, 4096, 4097, 32767, 32768, 32769, 65534, 65535,
};

/* The echo client's shape (its echo_shape parameter), read once */
static int lt_shape;

/*
 * Byte offset of echo @j in a start of @num_tre TREs of @size bytes: the
 * echoes the echo client's knobs count, one per chunk the endpoint core
 * read, whatever the shape that sends them back.
 */
static unsigned long long lt_echo_offset(unsigned long size, unsigned long j)
{
	unsigned long per_tre = (size + LT_EP_CHUNK - 1) / LT_EP_CHUNK;

	return (unsigned long long)(j / per_tre) * size + (j % per_tre) * LT_EP_CHUNK;
}

static unsigned long lt_echo_size(unsigned long size, unsigned long j)
{
	unsigned long per_tre = (size + LT_EP_CHUNK - 1) / LT_EP_CHUNK;

	return j % per_tre == per_tre - 1 ? size - (per_tre - 1) * LT_EP_CHUNK : LT_EP_CHUNK;
}

int lt_set_deadline(unsigned long ms)
{
	char path[PATH_MAX], buf[32];
	int len = snprintf(buf, sizeof(buf), "%lu\n", ms);
	ssize_t n;

	if (lt_path(path, sizeof(path), "/sys/module/%s/parameters/timeout_ms", LT_HOST_DRV))
		return -ENAMETOOLONG;
	n = lt_write_file(path, buf, len);
	return n < 0 ? n : n == len ? 0 : -EPROTO;
}

/*
 * A swap of echo @j with the next one that leaves the stream of @seed as it
 * was: with 1-byte echoes, two equal bytes. Nothing can see such a swap, nor
 * needs to; the pattern says whether that is what happened.
 */
static bool lt_swap_invisible(unsigned long long seed, unsigned long size, unsigned long j)
{
	unsigned long long a = lt_echo_offset(size, j), b = lt_echo_offset(size, j + 1);
	unsigned long za = lt_echo_size(size, j), zb = lt_echo_size(size, j + 1), k;

	for (k = 0; k < za + zb; k++) {
		unsigned long long sent = k < za ? a + k : b + k - za;
		unsigned long long swapped = k < zb ? b + k : a + k - zb;

		if (lt_pattern_byte(seed, sent) != lt_pattern_byte(seed, swapped))
			return false;
	}
	return true;
}

/* Bytes extend_echo appends to an echo (the echo client's fill) */
#define LT_EP_FILL	0xa5

/*
 * A start of @total bytes, keyed by @seed, that got first the @len stale bytes
 * of @old's stream at @off (or @len bytes of @fill, if it is not -1) and then
 * its own stream, shifted by @len: it has what it sent only when the shifted
 * stream is the stream (1/256 a byte).
 */
static bool lt_shift_invisible(unsigned long long old, unsigned long long off,
			       unsigned long len, int fill, unsigned long long seed,
			       unsigned long long total)
{
	unsigned long long k;

	for (k = 0; k < total; k++) {
		unsigned int got = k >= len ? lt_pattern_byte(seed, k - len) :
				   fill >= 0 ? (unsigned int)fill : lt_pattern_byte(old, off + k);

		if (got != lt_pattern_byte(seed, k))
			return false;
	}
	return true;
}

/*
 * The copy of an echo took a DL buffer of the start, so the start's last
 * echo (@len bytes of the stream of @seed at @off) found none: it stays with
 * the endpoint and is the first thing the next start gets back, which fails
 * that start, unless the stream shifted by it is what that start sent: then
 * that start's own last echo stays behind, and so on. Returns the ending of
 * the first start that saw a stale echo, or 0 if four in a row passed (only
 * those whose shifted stream matched may pass). @fill, unless -1, is the
 * byte the first start's stale bytes are made of instead.
 */
static int lt_stale_echo_seen(const char *test, unsigned long long seed,
			      unsigned long long off, unsigned long len, int fill,
			      unsigned int size, int num, bool *ok)
{
	unsigned long long total = (unsigned long long)size * num;
	struct lt_report r;
	char why[320];
	int k, ret;

	ksft_print_msg("%s: the last echo found no DL buffer: a next start must fail\n", test);
	for (k = 0; k < 4; k++) {
		ret = lt_start_checked(size, num, NULL, why, sizeof(why));
		if (ret)
			return ret;
		if (lt_report_read(&r) ||
		    !lt_shift_invisible(seed, off, len, fill, r.seed, total)) {
			ksft_print_msg("%s: start %d after it passed with other bytes\n",
				       test, k + 1);
			*ok = false;
			return 0;
		}
		ksft_print_msg("%s: start %d after it sent the stale bytes again\n", test, k + 1);
		seed = r.seed;
		off = total - len;
		fill = -1;
	}
	*ok = false;
	return 0;
}

/*
 * A copy of echo @j in place of the echoes after it that leaves the stream
 * of @seed as it was: every echo from @j on holds the same bytes (1-byte
 * echoes, equal bytes). The start cannot see it; its last echo is left over.
 */
static bool lt_duplicate_invisible(unsigned long long seed, unsigned long size,
				   unsigned long j, unsigned long echoes)
{
	unsigned long i, k;

	for (i = j + 1; i < echoes; i++) {
		if (lt_echo_size(size, i) != lt_echo_size(size, i - 1))
			return false;
		for (k = 0; k < lt_echo_size(size, i); k++)
			if (lt_pattern_byte(seed, lt_echo_offset(size, i) + k) !=
			    lt_pattern_byte(seed, lt_echo_offset(size, i - 1) + k))
				return false;
	}
	return true;
}

/*
 * One fault on one shape: the faulted start must fail, the knob must have
 * fired exactly once, and the start after it must pass with its evidence.
 * A corrupted echo must be reported at the very byte the link inverted.
 */
static void lt_canary_cell(const struct lt_echo_fault *f, unsigned int size, int num,
			   const char *numname, uint32_t *rng, unsigned long clean_ms)
{
	bool link = strncmp(f->knob, LT_EP_KNOB, strlen(LT_EP_KNOB));
	unsigned long echoes = (unsigned long)num * ((size + LT_EP_CHUNK - 1) / LT_EP_CHUNK);
	unsigned long j, off = 0, len = 0, wlen = 0;
	unsigned long long f0, f1, want = ULLONG_MAX, woff = 0;
	const char *name = lt_fault_name(f);
	char fired[64], test[96], why[320], lenb[24] = "";
	struct lt_report r = { .result = 0 };
	bool ok, invisible = false;
	int ret, again;

	/* the link's knobs count DL writes, as many as the shape makes */
	if (link)
		echoes = lt_dl_write(lt_shape, size, num, 0, &woff, &wlen);
	/* the last echo of a chained start, or a seeded one */
	j = !strcmp(numname, "2") ? echoes - 1 : lt_rand(rng) % echoes;
	if (f->needs_next && j == echoes - 1 && echoes > 1)
		j--;
	if (f->len)
		len = 1 + lt_rand(rng) % 16;
	if (!strcmp(f->knob, "corrupt_echo")) {
		lt_dl_write(lt_shape, size, num, j, &woff, &wlen);
		off = lt_rand(rng) % wlen;
		/* the inverted run wraps to the start of the write if it is short */
		want = woff + (off + len > wlen ? 0 : off);
	}
	snprintf(test, sizeof(test), "canary.%s.tre_%u_num_%s", name, size, numname);
	snprintf(fired, sizeof(fired), "%s_fired", f->knob);

	lt_knobs_disarm();
	ok = !lt_vlink_stat(fired, &f0) && !lt_knob_set(f->skip, j) &&
	     (!f->len || !lt_knob_set(f->len, len)) &&
	     (!off || !lt_knob_set("corrupt_offset", off));
	/* a failing start waits for its deadline: make it short */
	ok = ok && !lt_set_deadline(clean_ms);
	ok = ok && !lt_knob_set(f->knob, 1);
	ret = lt_start_checked(size, num, NULL, why, sizeof(why));
	lt_knobs_disarm();
	ok = ok && !lt_set_deadline(lt.deadline_ms);
	ok = ok && !lt_report_read(&r);
	ok = ok && !lt_vlink_stat(fired, &f1) && f1 == f0 + 1;
	if (want != ULLONG_MAX && r.mismatch != want) {
		ksft_print_msg("%s: echo reported bad at byte %lld, the link inverted byte %llu\n",
			       test, r.mismatch == ULLONG_MAX ? -1LL : (long long)r.mismatch,
			       want);
		ok = false;
	}
	if (!ret && f->needs_next && echoes == 1)
		ret = lt_stale_echo_seen(test, r.seed, 0, size, -1, size, num, &ok);
	/* a copy of echoes equal to those it displaces passes, and its start's
	 * last echo is left for the next start
	 */
	if (!ret && !strcmp(name, "duplicate_echo") && echoes > 1 &&
	    lt_duplicate_invisible(r.seed, size, j, echoes)) {
		ksft_print_msg("%s: echoes %lu to %lu hold the same bytes: the copy is invisible\n",
			       test, j + 1, echoes);
		ret = lt_stale_echo_seen(test, r.seed, lt_echo_offset(size, echoes - 1),
					 lt_echo_size(size, echoes - 1), -1, size, num, &ok);
	}
	/*
	 * split: the bytes extend_echo adds to the last echo of a start are
	 * pieces of their own when the echo ends on a piece boundary. The host
	 * has its whole echo before they come, and they are what the next
	 * start gets back first.
	 */
	if (!ret && !strcmp(name, "extend_echo") && lt_shape == LT_SHAPE_SPLIT &&
	    j == echoes - 1 && !(lt_echo_size(size, j) % LT_EP_PIECE)) {
		ksft_print_msg("%s: the %lu added bytes are split pieces after the whole echo\n",
			       test, len);
		ret = lt_stale_echo_seen(test, r.seed, 0, len, LT_EP_FILL, size, num, &ok);
	}
	/* a swap of equal echoes passes, and must */
	if (!ret && !strcmp(name, "reorder_echo") && j + 1 < echoes &&
	    lt_swap_invisible(r.seed, size, j)) {
		ksft_print_msg("%s: echoes %lu and %lu hold the same bytes: nothing to see\n",
			       test, j + 1, j + 2);
		invisible = true;
	}
	again = lt_start_checked(size, num, NULL, why, sizeof(why));
	if (f->len)
		snprintf(lenb, sizeof(lenb), ", %lu B", len);
	ksft_print_msg("%s: echo %lu of %lu%s: start %s (received %llu of %llu), then %s\n",
		       test, j + 1, echoes, lenb, lt_errname(ret), r.received, r.sent,
		       lt_errname(again));
	if (again)
		ksft_print_msg("%s\n", why);
	ksft_test_result(ok && (ret || invisible) && !again, "%s\n", test);
}

/*
 * Every echo fault against every shape of the data tests (39 shapes, the
 * last TRE of a chained transfer and 65535 x capacity included). A clean
 * start of the shape first sets the deadline of the faulted ones.
 */
static void lt_canary_shapes(int cap)
{
	const int nums[] = { 1, 2, cap };
	static const char * const numnames[] = { "1", "2", "cap" };
	unsigned long step = lt_env_ulong("MHI_LT_CANARY_STEP", 1), cell = 0;
	uint32_t rng = lt.seed;
	char why[320], name[96];
	unsigned long clean_ms;
	uint64_t ns = 0;
	size_t s, n, k;
	int ret;

	for (s = 0; s < ARRAY_SIZE(lt_canary_sizes); s++) {
		for (n = 0; n < ARRAY_SIZE(nums); n++) {
			if (cell++ % (step ? step : 1)) {
				for (k = 0; k < ARRAY_SIZE(lt_echo_faults); k++) {
					snprintf(name, sizeof(name), "canary.%s.tre_%u_num_%s",
						 lt_fault_name(&lt_echo_faults[k]),
						 lt_canary_sizes[s], numnames[n]);
					ksft_test_result_code(KSFT_SKIP, name,
							      "sampled out by MHI_LT_CANARY_STEP");
				}
				continue;
			}
			lt_knobs_disarm();
			ret = lt_attr_set_ulong("tre_size", lt_canary_sizes[s]);
			ret = ret ?: lt_attr_set_ulong("num_tre", nums[n]);
			ret = ret ?: lt_start_checked(lt_canary_sizes[s], nums[n], &ns, why,
						      sizeof(why));
			if (ret)
				ksft_print_msg("clean start of %u x %d: %s %s\n",
					       lt_canary_sizes[s], nums[n], lt_errname(ret), why);
			/* ten times the clean start, 300 ms at least */
			clean_ms = ns / 100000;
			if (clean_ms < 300)
				clean_ms = 300;
			if (clean_ms > lt.deadline_ms)
				clean_ms = lt.deadline_ms;
			for (k = 0; k < ARRAY_SIZE(lt_echo_faults); k++)
				lt_canary_cell(&lt_echo_faults[k], lt_canary_sizes[s], nums[n],
					       numnames[n], &rng, clean_ms);
		}
	}
	lt_attr_set_ulong("tre_size", LT_DEFAULT_TRE_SIZE);
	lt_attr_set_ulong("num_tre", LT_DEFAULT_NUM_TRE);
}

int lt_canary_main(void)
{
	static const struct lt_canary knobs[] = {
		{ "drop_echo", ETIMEDOUT, true },
		{ "corrupt_echo", EIO, true },
		{ "delay_echo_ms", ETIMEDOUT, false },
		{ "fail_dma", ETIMEDOUT, true },
		{ "hold_echo", ETIMEDOUT, true },
	};
	size_t i;
	int cap;

	if (lt.hardware)
		lt_exit_skip("needs the virtual link\n");
	if (!lt.vlink[0])
		lt_exit_skip("no fault knob\n");
	lt_shape = lt_echo_shape();
	if (lt_shape < 0)
		lt_exit_fail("%s echo_shape parameter: %s\n", LT_EP_DRV, lt_errname(lt_shape));
	cap = lt_probe_capacity();
	if (cap <= 0)
		lt_exit_fail("num_tre probe: %s\n", lt_errname(cap));
	lt_ktap_header();
	ksft_set_plan(3 * ARRAY_SIZE(knobs) +
		      ARRAY_SIZE(lt_canary_sizes) * 3 * ARRAY_SIZE(lt_echo_faults));
	ksft_print_msg("device=%s vlink=%s deadline=%u ms seed=%u echo_shape=%s\n", lt.dev,
		       lt.vlink, lt.deadline_ms, lt.seed, lt_shape_name(lt_shape));
	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		lt_canary_knob(&knobs[i]);
	lt_canary_shapes(cap);
	lt_knobs_disarm();
	ksft_finished();
	return KSFT_FAIL;
}
