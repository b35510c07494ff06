/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Streaming KTAP/TAP parser (library part of tools/testing/ktap)
 *
 * The parser is fed one line at a time (or arbitrary chunks of bytes) and
 * reports every test result through a callback as soon as its name is
 * known, so a consumer can forward results while the producer still runs.
 * It needs nothing but libc, keeps no global state, and its memory use is
 * bounded by the longest accepted line plus the number of distinct names.
 */
#ifndef KTAP_H
#define KTAP_H

#include <stddef.h>

enum ktap_result {
	KTAP_PASS,
	KTAP_FAIL,
	KTAP_SKIP,
	KTAP_MISS,		/* planned, never reached (LAVA: unknown) */
};

enum ktap_severity {
	KTAP_INFO,		/* worth telling, changes nothing */
	KTAP_WARNING,		/* odd but accepted; an error with strict */
	KTAP_FAILURE,		/* missing results, truncation, bail out */
	KTAP_BAD_INPUT,		/* not usable as KTAP at all */
};

struct ktap_counts {
	unsigned long passed;
	unsigned long failed;
	unsigned long skipped;
	unsigned long missing;
};

/* A "# measure: NAME=VALUE UNIT" line of the test's diagnostics. */
struct ktap_measure {
	const char *case_name;	/* "<test>.<NAME>", unique like every name */
	const char *name;	/* NAME as declared */
	const char *value;	/* normalised: -?[0-9]+(\.[0-9]+)? */
	const char *units;	/* UNIT, never empty */
};

/* One reported test case; every pointer is valid during the callback only. */
struct ktap_case {
	const char *name;	/* LAVA-safe, unique: [A-Za-z0-9._-]+ */
	const char *group;	/* name of the enclosing group, "" at the top */
	enum ktap_result result;
	int error;		/* no verdict: ERROR, Bail out!, no result line */
	const char *directive;	/* SKIP TODO XFAIL XPASS TIMEOUT ERROR or NULL */
	const char *reason;	/* text after the directive keyword, or "" */
	const char *detail;	/* text after '#', or why the result is made up */
	const struct ktap_measure *meas;	/* declared measurements */
	size_t nmeas;
	const char *const *log;	/* excerpt of a failed case, oldest first */
	size_t nlog;
	unsigned long line;	/* input line of the result (0: end of input) */
};

struct ktap_ops {
	void (*test_case)(void *priv, const struct ktap_case *tc);
	void (*set_start)(void *priv, const char *name);
	void (*set_stop)(void *priv);
	void (*message)(void *priv, enum ktap_severity sev,
			unsigned long line, const char *msg);
};

struct ktap_config {
	const char *prefix;	/* first name component, may be NULL */
	size_t max_line;	/* longest accepted line, 0: 64 KiB */
	int strict;		/* warnings count as failures */
	const char *const *expect;	/* test names a program plans, or NULL */
	size_t nexpect;
};

struct ktap_parser;

struct ktap_parser *ktap_parser_new(const struct ktap_config *cfg,
				    const struct ktap_ops *ops, void *priv);
/* Feed one line, without its '\n'. */
void ktap_parser_feed(struct ktap_parser *p, const char *line, size_t len);
/* Feed raw input in chunks of any size; lines are split here. */
void ktap_parser_feed_bytes(struct ktap_parser *p, const void *buf, size_t len);
/* True once the stream ended early (top-level Bail out!, kernel panic). */
int ktap_parser_stopped(const struct ktap_parser *p);
/* End of input: closes open documents and reports what is missing. */
void ktap_parser_finish(struct ktap_parser *p);
void ktap_parser_counts(const struct ktap_parser *p, struct ktap_counts *c);
/* 0: all passed, 1: failures or missing results, 2: unusable input. */
int ktap_parser_status(const struct ktap_parser *p);
void ktap_parser_free(struct ktap_parser *p);

#endif /* KTAP_H */
