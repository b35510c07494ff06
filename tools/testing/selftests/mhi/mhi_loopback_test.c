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
 * Each group is a file of groups/ (race is three), included below; this
 * file holds the options and main(), mhi_lt_setup.c what main() does before
 * the tests, mhi_lt_canary.c the --canary mode.
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

/*
 * kselftest_harness.h defines _fixture_global and keeps its list of tests
 * in static storage, in every file that includes it: all the FIXTURE()s and
 * TEST_F()s of one program belong in one translation unit. The groups are
 * files of groups/, included here in the order their tests run (the order
 * of the KTAP output, of --names and of lt_classes[] in mhi_lt_env.c).
 */
#include "groups/common.c"
#include "groups/abi.c"
#include "groups/loopback.c"
#include "groups/measure.c"
#include "groups/sweep.c"
#include "groups/fault.c"
#include "groups/irq.c"
#include "groups/zerocopy.c"
#include "groups/configfs.c"
#include "groups/pm.c"
#include "groups/race.c"
#include "groups/race_held.c"
#include "groups/race_reload.c"
#include "groups/leak.c"

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
		"  MHI_LT_LATE_ECHOES (200), MHI_LT_HELD_ITERS (200), MHI_LT_IDLE_MS (1000),\n"
		"  MHI_LT_PM_CYCLES (100), MHI_LT_PM_HELD_ITERS (20), MHI_LT_PM_STARTS (20),\n"
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
