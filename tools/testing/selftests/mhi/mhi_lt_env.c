// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest: the environment contract.
 *
 * - Every output of the program is a KTAP document: the "TAP version 13"
 *   header comes first, also when the program skips or fails before it ran
 *   a test, and when it only lists or describes (lt_exit_*, lt_ktap_info).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest.h"
#include "mhi_lt.h"

/* ------------------------------------------------------------------------ */
/* KTAP framing of the early exits                                           */
/* ------------------------------------------------------------------------ */

static bool lt_header_done;

void lt_ktap_header(void)
{
	if (lt_header_done)
		return;
	lt_header_done = true;
	ksft_print_header();
}

void lt_exit_skip(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lt_ktap_header();
	ksft_exit_skip("%s", msg);
}

void lt_exit_fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lt_ktap_header();
	ksft_exit_fail_msg("%s", msg);
}

/* A document that runs nothing (listings, --info): header and "1..0 # SKIP". */
void lt_ktap_info(const char *what)
{
	lt_ktap_header();
	printf("1..0 # SKIP %s\n", what);
	fflush(stdout);
}
