/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whole-run reports of tools/testing/ktap: JSON and JUnit XML
 *
 * The streaming parser hands out one case at a time; these formats are one
 * document each, so the cases are copied here and written at the end.
 * Every string is escaped for its format: control characters, quotes and
 * bytes that are not UTF-8 (written as U+FFFD) cannot break the document.
 */
#ifndef KTAP_REPORT_H
#define KTAP_REPORT_H

#include <stdio.h>

#include "ktap.h"

struct ktap_report;

struct ktap_report_info {
	const char *input;	/* file name, "<stdin>" */
	struct ktap_counts counts;
	int status;		/* ktap_parser_status() */
};

struct ktap_report *ktap_report_new(void);
/* Copies @tc; 0 on success, -1 when out of memory. */
int ktap_report_case(struct ktap_report *r, const struct ktap_case *tc);
int ktap_report_message(struct ktap_report *r, enum ktap_severity sev,
			unsigned long line, const char *msg);
void ktap_report_json(const struct ktap_report *r,
		      const struct ktap_report_info *info, FILE *f);
void ktap_report_junit(const struct ktap_report *r,
		       const struct ktap_report_info *info, FILE *f);
void ktap_report_free(struct ktap_report *r);

/* Names used by every output: KCIDB-like status and LAVA's result. */
const char *ktap_status_name(enum ktap_result res, int error);
const char *ktap_lava_result(enum ktap_result res);

#endif /* KTAP_REPORT_H */
