// SPDX-License-Identifier: GPL-2.0
/*
 * ktap - summarise KTAP, list it, stream it to LAVA, or write JSON/JUnit
 *
 * Usage: ktap [--mode summary|lava|list|json|junit] [--prefix NAME] [--strict]
 *             [--expect FILE] [FILE|-]
 * See README.rst.  Exit: 0 passed, 1 failed or results missing, 2 bad input.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktap.h"
#include "report.h"

enum mode { MODE_SUMMARY, MODE_LAVA, MODE_LIST, MODE_JSON, MODE_JUNIT };

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define EXPECT_MAX_BYTES	(16 << 20)
#define EXPECT_MAX_NAMES	100000

struct cli {
	enum mode mode;
	const char *file;	/* name used in messages */
	bool case_helper;	/* lava-test-case is on PATH */
	bool set_helper;	/* lava-test-set is on PATH */
	const char *kmsg;	/* LAVA's KMSG: signals go to this device */
	struct ktap_report *report;	/* json, junit */
	bool report_oom;
	char *expect_buf;
	const char **expect;
	size_t nexpect;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ktap [--mode summary|lava|list|json|junit] [--prefix NAME] [--strict]\n"
		"            [--expect FILE] [FILE|-]\n"
		"  summary  print failures (with their log excerpt), skips and missing\n"
		"           tests, then 'N passed, N failed, N skipped[, N missing]'\n"
		"  lava     report each result to LAVA as it arrives (lava-test-case /\n"
		"           lava-test-set, or raw <LAVA_SIGNAL_...> lines without them)\n"
		"  list     print 'name result [value units]' for every LAVA case\n"
		"  json     one JSON document with every result (at the end)\n"
		"  junit    one JUnit XML document with every result (at the end)\n"
		"  --expect FILE  the tests a program plans, one a line, first word the\n"
		"                 name (e.g. mhi_loopback_test --names): names the\n"
		"                 tests that a hang or crash left unreached\n"
		"exit: 0 all passed, 1 failures or missing results, 2 bad input or usage\n");
}

/* Is @name an executable file in a $PATH directory? */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH"), *s, *e;
	char buf[4096];
	struct stat st;

	if (!path || !*path)
		path = "/bin:/usr/bin";
	for (s = path; ; s = e + 1) {
		size_t n;

		e = strchr(s, ':');
		n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0)
			n = 1, s = ".";
		if (n + strlen(name) + 2 <= sizeof(buf)) {
			memcpy(buf, s, n);
			snprintf(buf + n, sizeof(buf) - n, "/%s", name);
			if (!stat(buf, &st) && S_ISREG(st.st_mode) &&
			    !access(buf, X_OK))
				return true;
		}
		if (!e)
			return false;
	}
}

/* fork + execvp, no shell: test names come from untrusted input. */
static bool run_helper(struct cli *cli, char *const argv[])
{
	int status, fd;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "ktap: %s: fork: %s\n", cli->file,
			strerror(errno));
		return false;
	}
	if (pid == 0) {
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			if (fd != STDIN_FILENO)
				close(fd);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return false;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	fprintf(stderr, "ktap: %s: %s %s failed (status %d)\n", cli->file,
		argv[0], argv[1] ? argv[1] : "", status);
	return WIFEXITED(status) && WEXITSTATUS(status) != 127;
}

/* What lava-test-shell's signal() does: /dev/kmsg when KMSG is set. */
static void lava_signal(struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void lava_signal(struct cli *cli, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n, fd;

	va_start(ap, fmt);
	n = vsnprintf(buf + 3, sizeof(buf) - 4, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 5)
		n = sizeof(buf) - 5;
	if (cli->kmsg) {
		/*
		 * One open and one write() per record: a write is a record,
		 * and /dev/kmsg rate-limits each open file.
		 */
		memcpy(buf, "<0>", 3);
		buf[n + 3] = '\n';
		fd = open(cli->kmsg, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd >= 0 && write(fd, buf, n + 4) == n + 4) {
			close(fd);
			return;
		}
		fprintf(stderr, "ktap: %s: cannot write to %s (%s), signalling on stdout\n",
			cli->file, cli->kmsg, strerror(errno));
		if (fd >= 0)
			close(fd);
		buf[n + 3] = '\0';
	}
	puts(buf + 3);
}

/* An excerpt line must not be read as a signal by the dispatcher. */
static void lava_log_line(const char *s)
{
	const char *hit;

	fputs("  | ", stdout);
	while ((hit = strstr(s, "<LAVA_SIGNAL_"))) {
		fwrite(s, 1, hit - s, stdout);
		fputs("[lava-signal ", stdout);
		s = hit + 13;
	}
	puts(s);
}

static void lava_one(struct cli *cli, const char *name, const char *res,
		     const char *value, const char *units)
{
	char *argv[10];
	int n = 0;

	if (cli->case_helper) {
		argv[n++] = "lava-test-case";
		argv[n++] = (char *)name;
		argv[n++] = "--result";
		argv[n++] = (char *)res;
		if (value) {
			argv[n++] = "--measurement";
			argv[n++] = (char *)value;
			argv[n++] = "--units";
			argv[n++] = (char *)units;
		}
		argv[n] = NULL;
		if (run_helper(cli, argv))
			return;
	}
	if (value) {
		lava_signal(cli,
			    "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=%s RESULT=%s UNITS=%s MEASUREMENT=%s>",
			    name, res, units, value);
		return;
	}
	lava_signal(cli, "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=%s RESULT=%s>",
		    name, res);
}

/*
 * A failure's excerpt sits between STARTTC and ENDTC markers, which LAVA
 * keeps as the log lines of the case (and of its measurement cases).
 */
static void lava_case(struct cli *cli, const struct ktap_case *tc)
{
	const char *res = ktap_lava_result(tc->result);
	size_t i;

	if (tc->nlog) {
		lava_signal(cli, "<LAVA_SIGNAL_STARTTC %s>", tc->name);
		for (i = 0; i < tc->nmeas; i++)
			lava_signal(cli, "<LAVA_SIGNAL_STARTTC %s>",
				    tc->meas[i].case_name);
		for (i = 0; i < tc->nlog; i++)
			lava_log_line(tc->log[i]);
		lava_signal(cli, "<LAVA_SIGNAL_ENDTC %s>", tc->name);
		for (i = 0; i < tc->nmeas; i++)
			lava_signal(cli, "<LAVA_SIGNAL_ENDTC %s>",
				    tc->meas[i].case_name);
	}
	lava_one(cli, tc->name, res, NULL, NULL);
	for (i = 0; i < tc->nmeas; i++)
		lava_one(cli, tc->meas[i].case_name, res, tc->meas[i].value,
			 tc->meas[i].units);
}

static void summary_case(const struct ktap_case *tc)
{
	size_t i;

	if (tc->result == KTAP_FAIL) {
		printf("FAIL %s%s%s\n", tc->name, *tc->detail ? " # " : "",
		       tc->detail);
		for (i = 0; i < tc->nlog; i++)
			printf("  | %s\n", tc->log[i]);
	} else if (tc->result == KTAP_SKIP) {
		printf("SKIP %s%s%s\n", tc->name, *tc->reason ? " # " : "",
		       tc->reason);
	} else if (tc->result == KTAP_MISS) {
		printf("MISS %s # %s\n", tc->name, tc->detail);
	}
}

static void on_case(void *priv, const struct ktap_case *tc)
{
	struct cli *cli = priv;
	const char *res = ktap_lava_result(tc->result);
	size_t i;

	switch (cli->mode) {
	case MODE_LAVA:
		lava_case(cli, tc);
		break;
	case MODE_LIST:
		printf("%s %s\n", tc->name, res);
		for (i = 0; i < tc->nmeas; i++)
			printf("%s %s %s %s\n", tc->meas[i].case_name, res,
			       tc->meas[i].value, tc->meas[i].units);
		break;
	case MODE_SUMMARY:
		summary_case(tc);
		break;
	case MODE_JSON:
	case MODE_JUNIT:
		if (ktap_report_case(cli->report, tc))
			cli->report_oom = true;
		break;
	}
}

static void on_set_start(void *priv, const char *name)
{
	struct cli *cli = priv;
	char *argv[] = { "lava-test-set", "start", (char *)name, NULL };

	if (cli->mode != MODE_LAVA)
		return;
	if (cli->set_helper && run_helper(cli, argv))
		return;
	lava_signal(cli, "<LAVA_SIGNAL_TESTSET START %s>", name);
}

static void on_set_stop(void *priv)
{
	struct cli *cli = priv;
	char *argv[] = { "lava-test-set", "stop", NULL };

	if (cli->mode != MODE_LAVA)
		return;
	if (cli->set_helper && run_helper(cli, argv))
		return;
	lava_signal(cli, "<LAVA_SIGNAL_TESTSET STOP>");
}

static void on_message(void *priv, enum ktap_severity sev,
		       unsigned long line, const char *msg)
{
	struct cli *cli = priv;
	const char *kind = sev == KTAP_WARNING ? "warning: " :
			   sev == KTAP_INFO ? "note: " : "";

	if (cli->report && ktap_report_message(cli->report, sev, line, msg))
		cli->report_oom = true;
	fflush(stdout);
	if (line)
		fprintf(stderr, "ktap: %s:%lu: %s%s\n", cli->file, line, kind,
			msg);
	else
		fprintf(stderr, "ktap: %s: %s%s\n", cli->file, kind, msg);
}

static const struct ktap_ops cli_ops = {
	.test_case = on_case,
	.set_start = on_set_start,
	.set_stop = on_set_stop,
	.message = on_message,
};

static bool parse_mode(const char *s, enum mode *mode)
{
	static const char *const names[] = {
		[MODE_SUMMARY] = "summary",
		[MODE_LAVA] = "lava",
		[MODE_LIST] = "list",
		[MODE_JSON] = "json",
		[MODE_JUNIT] = "junit",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*mode = i;
			return true;
		}
	}
	return false;
}

/*
 * A line of an --expect file that names no test: blank, a comment, or the
 * KTAP header and plan that a listing such as "mhi_loopback_test --names"
 * prints before its names.
 */
static bool expect_skip_line(const char *s)
{
	return !*s || *s == '#' || !strncmp(s, "TAP version ", 12) ||
	       !strncmp(s, "KTAP version ", 13) || !strncmp(s, "1..", 3);
}

/*
 * --expect FILE: one test a line, its name the first word (the rest, e.g.
 * the class that --names prints after it, is ignored).
 */
static int read_expect(struct cli *cli, const char *path)
{
	size_t len = 0, cap = 0, n;
	char *s, *e, *buf = NULL;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "ktap: --expect %s: %s\n", path, strerror(errno));
		return 2;
	}
	do {
		if (len + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = cap > EXPECT_MAX_BYTES ? NULL : realloc(buf, cap);
			if (!nb) {
				fprintf(stderr, "ktap: --expect %s: larger than %d bytes\n",
					path, EXPECT_MAX_BYTES);
				free(buf);
				fclose(f);
				return 2;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n);
	if (ferror(f)) {
		fprintf(stderr, "ktap: --expect %s: read error\n", path);
		free(buf);
		fclose(f);
		return 2;
	}
	fclose(f);
	buf[len] = '\0';
	cli->expect_buf = buf;
	cli->expect = calloc(EXPECT_MAX_NAMES, sizeof(*cli->expect));
	if (!cli->expect) {
		fprintf(stderr, "ktap: out of memory\n");
		return 2;
	}
	for (s = buf; s < buf + len; s = e + 1) {
		e = memchr(s, '\n', buf + len - s);
		if (!e)
			e = buf + len;
		*e = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, " \t\r");
		if (expect_skip_line(s))
			continue;
		s[n] = '\0';
		if (cli->nexpect == EXPECT_MAX_NAMES) {
			fprintf(stderr, "ktap: --expect %s: more than %d names\n",
				path, EXPECT_MAX_NAMES);
			return 2;
		}
		cli->expect[cli->nexpect++] = s;
	}
	return -1;
}

static int parse_args(int argc, char **argv, struct cli *cli,
		      struct ktap_config *cfg, const char **path)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "strict", no_argument, NULL, 's' },
		{ "expect", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	while ((c = getopt_long(argc, argv, "m:p:se:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!parse_mode(optarg, &cli->mode)) {
				fprintf(stderr, "ktap: unknown mode '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'p':
			cfg->prefix = optarg;
			break;
		case 's':
			cfg->strict = 1;
			break;
		case 'e':
			if (cli->expect_buf) {
				fprintf(stderr, "ktap: --expect given twice\n");
				return 2;
			}
			ret = read_expect(cli, optarg);
			if (ret >= 0)
				return ret;
			cfg->expect = cli->expect;
			cfg->nexpect = cli->nexpect;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return 2;
	}
	*path = optind < argc ? argv[optind] : "-";
	return -1;
}

static int open_input(const char *path, struct cli *cli)
{
	int fd;

	if (!strcmp(path, "-")) {
		cli->file = "<stdin>";
		return STDIN_FILENO;
	}
	cli->file = path;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		fprintf(stderr, "ktap: %s: %s\n", path, strerror(errno));
	return fd;
}

/* Feed input as it arrives; after an early end keep draining the pipe. */
static int pump(struct ktap_parser *p, int fd, struct cli *cli)
{
	static char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "ktap: %s: read: %s\n", cli->file,
				strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		ktap_parser_feed_bytes(p, buf, n);
		if (ktap_parser_stopped(p))
			ktap_parser_finish(p);
	}
}

static void finish_output(struct cli *cli, const struct ktap_counts *c,
			  int status)
{
	struct ktap_report_info info = {
		.input = cli->file,
		.counts = *c,
		.status = status,
	};

	switch (cli->mode) {
	case MODE_JSON:
		ktap_report_json(cli->report, &info, stdout);
		break;
	case MODE_JUNIT:
		ktap_report_junit(cli->report, &info, stdout);
		break;
	case MODE_LIST:
		break;
	default:
		printf("%lu passed, %lu failed, %lu skipped", c->passed,
		       c->failed, c->skipped);
		if (c->missing)
			printf(", %lu missing", c->missing);
		printf("\n");
	}
}

static int run(struct cli *cli, struct ktap_config *cfg, const char *path)
{
	struct ktap_counts counts;
	struct ktap_parser *p;
	int fd, ret;

	if (cli->mode == MODE_LAVA) {
		cli->case_helper = on_path("lava-test-case");
		cli->set_helper = on_path("lava-test-set");
		if (getenv("KMSG") && *getenv("KMSG"))
			cli->kmsg = getenv("KTAP_KMSG_DEVICE") ?
				    getenv("KTAP_KMSG_DEVICE") : "/dev/kmsg";
	}
	if (cli->mode == MODE_JSON || cli->mode == MODE_JUNIT) {
		cli->report = ktap_report_new();
		if (!cli->report) {
			fprintf(stderr, "ktap: out of memory\n");
			return 2;
		}
	}
	fd = open_input(path, cli);
	if (fd < 0)
		return 2;
	p = ktap_parser_new(cfg, &cli_ops, cli);
	if (!p) {
		fprintf(stderr, "ktap: out of memory\n");
		if (fd != STDIN_FILENO)
			close(fd);
		return 2;
	}
	ret = pump(p, fd, cli);
	ktap_parser_finish(p);
	ktap_parser_counts(p, &counts);
	ret = ret < 0 ? 2 : ktap_parser_status(p);
	if (cli->report_oom) {
		fprintf(stderr, "ktap: %s: out of memory, the report is incomplete\n",
			cli->file);
		ret = 2;
	}
	finish_output(cli, &counts, ret);
	ktap_parser_free(p);
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct cli cli = { .mode = MODE_SUMMARY, .file = "<stdin>" };
	struct ktap_config cfg = { 0 };
	const char *path;
	int ret;

	ret = parse_args(argc, argv, &cli, &cfg, &path);
	if (ret < 0) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		ret = run(&cli, &cfg, path);
	}
	ktap_report_free(cli.report);
	free(cli.expect);
	free(cli.expect_buf);
	return ret;
}
