// SPDX-License-Identifier: GPL-2.0
/*
 * ktap - summarise KTAP, list its results, or stream them to LAVA
 *
 * Usage: ktap [--mode summary|lava|list] [--prefix NAME] [--strict] [FILE|-]
 * See README.rst.  Exit: 0 passed, 1 failed or results missing, 2 bad input.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktap.h"

enum mode { MODE_SUMMARY, MODE_LAVA, MODE_LIST };

struct cli {
	enum mode mode;
	const char *file;	/* name used in messages */
	bool case_helper;	/* lava-test-case is on PATH */
	bool set_helper;	/* lava-test-set is on PATH */
};

static const char *const result_str[] = {
	[KTAP_PASS] = "pass",
	[KTAP_FAIL] = "fail",
	[KTAP_SKIP] = "skip",
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ktap [--mode summary|lava|list] [--prefix NAME] [--strict] [FILE|-]\n"
		"  summary  print failures and skips, then 'N passed, N failed, N skipped'\n"
		"  lava     report each result to LAVA as it arrives (lava-test-case /\n"
		"           lava-test-set, or raw <LAVA_SIGNAL_...> lines without them)\n"
		"  list     print 'name result' for every result\n"
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

static void lava_case(struct cli *cli, const struct ktap_case *tc)
{
	const char *res = result_str[tc->result];
	char *argv[10];
	int n = 0;

	if (cli->case_helper) {
		argv[n++] = "lava-test-case";
		argv[n++] = (char *)tc->name;
		argv[n++] = "--result";
		argv[n++] = (char *)res;
		if (tc->measurement) {
			argv[n++] = "--measurement";
			argv[n++] = (char *)tc->measurement;
			if (*tc->units) {
				argv[n++] = "--units";
				argv[n++] = (char *)tc->units;
			}
		}
		argv[n] = NULL;
		if (run_helper(cli, argv))
			return;
	}
	printf("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=%s RESULT=%s", tc->name, res);
	if (tc->measurement && *tc->units)
		printf(" UNITS=%s", tc->units);
	if (tc->measurement)
		printf(" MEASUREMENT=%s", tc->measurement);
	printf(">\n");
}

static void on_case(void *priv, const struct ktap_case *tc)
{
	struct cli *cli = priv;

	switch (cli->mode) {
	case MODE_LAVA:
		lava_case(cli, tc);
		break;
	case MODE_LIST:
		printf("%s %s", tc->name, result_str[tc->result]);
		if (tc->measurement)
			printf(" %s%s%s", tc->measurement,
			       *tc->units ? " " : "", tc->units);
		printf("\n");
		break;
	case MODE_SUMMARY:
		if (tc->result == KTAP_FAIL)
			printf("FAIL %s%s%s\n", tc->name,
			       *tc->detail ? " # " : "", tc->detail);
		else if (tc->result == KTAP_SKIP)
			printf("SKIP %s%s%s\n", tc->name,
			       *tc->reason ? " # " : "", tc->reason);
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
	printf("<LAVA_SIGNAL_TESTSET START %s>\n", name);
}

static void on_set_stop(void *priv)
{
	struct cli *cli = priv;
	char *argv[] = { "lava-test-set", "stop", NULL };

	if (cli->mode != MODE_LAVA)
		return;
	if (cli->set_helper && run_helper(cli, argv))
		return;
	printf("<LAVA_SIGNAL_TESTSET STOP>\n");
}

static void on_message(void *priv, enum ktap_severity sev,
		       unsigned long line, const char *msg)
{
	struct cli *cli = priv;
	const char *kind = sev == KTAP_WARNING ? "warning: " :
			   sev == KTAP_INFO ? "note: " : "";

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

static int parse_args(int argc, char **argv, struct cli *cli,
		      struct ktap_config *cfg, const char **path)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "m:p:sh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "summary"))
				cli->mode = MODE_SUMMARY;
			else if (!strcmp(optarg, "lava"))
				cli->mode = MODE_LAVA;
			else if (!strcmp(optarg, "list"))
				cli->mode = MODE_LIST;
			else {
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

int main(int argc, char **argv)
{
	struct cli cli = { .mode = MODE_SUMMARY, .file = "<stdin>" };
	struct ktap_config cfg = { 0 };
	struct ktap_counts counts;
	struct ktap_parser *p;
	const char *path;
	int fd, ret;

	ret = parse_args(argc, argv, &cli, &cfg, &path);
	if (ret >= 0)
		return ret;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (cli.mode == MODE_LAVA) {
		cli.case_helper = on_path("lava-test-case");
		cli.set_helper = on_path("lava-test-set");
	}
	fd = open_input(path, &cli);
	if (fd < 0)
		return 2;
	p = ktap_parser_new(&cfg, &cli_ops, &cli);
	if (!p) {
		fprintf(stderr, "ktap: out of memory\n");
		return 2;
	}
	ret = pump(p, fd, &cli);
	ktap_parser_finish(p);
	ktap_parser_counts(p, &counts);
	if (cli.mode != MODE_LIST)
		printf("%lu passed, %lu failed, %lu skipped\n",
		       counts.passed, counts.failed, counts.skipped);
	ret = ret < 0 ? 2 : ktap_parser_status(p);
	ktap_parser_free(p);
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}
