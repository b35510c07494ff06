// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest: the program run again as a child (the --canary
 * mode runs it on single tests) and its output shown as diagnostics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "mhi_lt.h"

const char *lt_self;

/* Print multi-line text as diagnostics, every line tagged. */
void lt_print_lines(const char *tag, const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		ksft_print_msg("%s: %.*s\n", tag, nl ? (int)(nl - p) : (int)strlen(p), p);
		if (!nl)
			break;
		p = nl + 1;
	}
}

char *lt_run_self(const char * const *args, int *status)
{
	const char *argv[16];
	size_t size = 8192, len = 0;
	int pfd[2], i = 0, j;
	char *out;
	ssize_t n;
	pid_t pid;

	argv[i++] = lt_self;
	argv[i++] = "-D";
	argv[i++] = lt.dev;
	if (lt.fake) {
		argv[i++] = "--sysfs-root";
		argv[i++] = lt.root;
	}
	for (j = 0; args[j] && i < 15; j++)
		argv[i++] = args[j];
	argv[i] = NULL;

	out = malloc(size);
	if (!out || pipe(pfd))
		return out;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execv("/proc/self/exe", (char * const *)argv);
		execv(lt_self, (char * const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	while (pid > 0 && (n = read(pfd[0], out + len, size - len - 1)) > 0) {
		len += n;
		if (len + 1 == size) {
			char *bigger = realloc(out, size * 2);

			if (!bigger)
				break;
			out = bigger;
			size *= 2;
		}
	}
	out[len] = '\0';
	close(pfd[0]);
	*status = -1;
	if (pid > 0)
		waitpid(pid, status, 0);
	return out;
}

bool lt_exit_code(int status, int code)
{
	return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}
