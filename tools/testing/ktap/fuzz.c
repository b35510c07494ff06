// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer entry for the KTAP parser (also used with AFL++'s libFuzzer
 * driver).  The first input byte picks the options and a chunk size; the
 * rest is parsed twice, once in one piece and once in chunks, and both
 * runs must report the same thing.  The callbacks trap when a promise of
 * ktap.h is broken: names are [A-Za-z0-9._-]{1,120} and never repeat,
 * measurement values are plain decimals, excerpts are bounded.  The cases
 * of the first run also go through the JSON and JUnit writers, whose
 * output must be well-formed (fuzz-check.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-check.h"
#include "ktap.h"
#include "report.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NAME_LIMIT	120
#define SEEN_SLOTS	4096	/* uniqueness is checked for this many names */
#define LOG_LINES	40	/* EXCERPT_LINES of parser.c */
#define LOG_COLS	516	/* EXCERPT_COLS of parser.c plus " ..." */

struct sink {
	uint64_t hash;		/* of everything reported, in order */
	char *seen[SEEN_SLOTS];
	unsigned int nseen;
	struct ktap_report *report;	/* NULL: not collected */
};

static const char *const expect_list[] = {
	"abi.discovery", "a", "b", "c", "global.standalone_pass", "t1",
};

static void mix(struct sink *s, const char *str)
{
	while (*str)
		s->hash = (s->hash ^ (unsigned char)*str++) * 1099511628211ULL;
	s->hash = (s->hash ^ 0xff) * 1099511628211ULL;
}

static uint64_t hash_name(const char *name)
{
	uint64_t h = 14695981039346656037ULL;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211ULL;
	return h;
}

static void check_name(const char *name)
{
	size_t n = strlen(name), i;

	if (!n || n > NAME_LIMIT)
		__builtin_trap();
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			__builtin_trap();
	}
}

static void check_unique(struct sink *s, const char *name)
{
	size_t i = hash_name(name) % SEEN_SLOTS;

	if (s->nseen >= SEEN_SLOTS / 2)
		return;
	while (s->seen[i]) {
		if (!strcmp(s->seen[i], name))
			__builtin_trap();	/* a duplicate name */
		i = (i + 1) % SEEN_SLOTS;
	}
	s->seen[i] = strdup(name);
	s->nseen++;
}

/* -?[0-9]+(\.[0-9]+)? without leading zeros: a JSON and LAVA number */
static void check_value(const char *v)
{
	if (*v == '-')
		v++;
	if (*v < '0' || *v > '9' || (v[0] == '0' && v[1] >= '0' && v[1] <= '9'))
		__builtin_trap();
	while (*v >= '0' && *v <= '9')
		v++;
	if (*v == '.') {
		if (v[1] < '0' || v[1] > '9')
			__builtin_trap();
		for (v++; *v >= '0' && *v <= '9'; v++)
			;
	}
	if (*v)
		__builtin_trap();
}

static void fz_case(void *priv, const struct ktap_case *tc)
{
	struct sink *s = priv;
	size_t i;

	check_name(tc->name);
	check_unique(s, tc->name);
	if (*tc->group)
		check_name(tc->group);
	if (tc->result != KTAP_PASS && tc->result != KTAP_FAIL &&
	    tc->result != KTAP_SKIP && tc->result != KTAP_MISS)
		__builtin_trap();
	if (tc->nlog > LOG_LINES || (tc->nlog && tc->result != KTAP_FAIL))
		__builtin_trap();
	mix(s, tc->name);
	mix(s, tc->group);
	mix(s, tc->reason);
	mix(s, tc->detail);
	mix(s, tc->directive ? tc->directive : "-");
	for (i = 0; i < tc->nmeas; i++) {
		const struct ktap_measure *m = &tc->meas[i];

		check_name(m->case_name);
		check_unique(s, m->case_name);
		check_value(m->value);
		if (!*m->units || !*m->name)
			__builtin_trap();
		mix(s, m->case_name);
		mix(s, m->value);
		mix(s, m->units);
	}
	for (i = 0; i < tc->nlog; i++) {
		if (strlen(tc->log[i]) > LOG_COLS)
			__builtin_trap();
		mix(s, tc->log[i]);
	}
	s->hash += tc->result + tc->line + tc->error * 7;
	if (s->report && ktap_report_case(s->report, tc))
		__builtin_trap();
}

static void fz_set_start(void *priv, const char *name)
{
	check_name(name);
	mix(priv, name);
}

static void fz_set_stop(void *priv)
{
	mix(priv, "stop");
}

static void fz_message(void *priv, enum ktap_severity sev,
		       unsigned long line, const char *msg)
{
	struct sink *s = priv;

	mix(s, msg);
	s->hash += line * 4 + sev;
	if (s->report && ktap_report_message(s->report, sev, line, msg))
		__builtin_trap();
}

/* Write the collected cases in both formats; each must be well-formed. */
static void check_reports(struct sink *s, const struct ktap_counts *c,
			  int status)
{
	struct ktap_report_info info = {
		.input = "fuzz \"in\xff\x01put\" <&>",
		.counts = *c,
		.status = status,
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return;
	ktap_report_json(s->report, &info, f);
	fclose(f);
	if (!json_valid(buf, len))
		__builtin_trap();
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	ktap_report_junit(s->report, &info, f);
	fclose(f);
	if (!xml_valid(buf, len))
		__builtin_trap();
	free(buf);
}

static const struct ktap_ops fz_ops = {
	.test_case = fz_case,
	.set_start = fz_set_start,
	.set_stop = fz_set_stop,
	.message = fz_message,
};

struct outcome {
	uint64_t hash;
	struct ktap_counts counts;
	int status;
};

static int parse(const struct ktap_config *cfg, const uint8_t *data,
		 size_t size, size_t chunk, bool report, struct outcome *out)
{
	struct sink s = { .hash = 14695981039346656037ULL };
	struct ktap_parser *p;
	size_t off, i;

	if (report) {
		s.report = ktap_report_new();
		if (!s.report)
			return -1;
	}
	p = ktap_parser_new(cfg, &fz_ops, &s);
	if (!p) {
		ktap_report_free(s.report);
		return -1;
	}
	for (off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		ktap_parser_feed_bytes(p, data + off, n);
		if (ktap_parser_stopped(p))
			ktap_parser_finish(p);
	}
	ktap_parser_finish(p);
	ktap_parser_counts(p, &out->counts);
	out->status = ktap_parser_status(p);
	out->hash = s.hash;
	ktap_parser_free(p);
	if (s.report)
		check_reports(&s, &out->counts, out->status);
	ktap_report_free(s.report);
	for (i = 0; i < SEEN_SLOTS; i++)
		free(s.seen[i]);
	if (out->status < 0 || out->status > 2)
		__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ktap_config cfg = { 0 };
	struct outcome whole, pieces;
	size_t chunk;
	uint8_t opt;

	if (!size)
		return 0;
	opt = data[0];
	data++;
	size--;
	cfg.strict = opt & 1;
	cfg.max_line = opt & 2 ? 64 : 0;
	cfg.prefix = opt & 4 ? "pre fix" : NULL;
	if (opt & 8) {
		cfg.expect = expect_list;
		cfg.nexpect = ARRAY_SIZE(expect_list);
	}
	chunk = (opt >> 4) + 1;

	if (parse(&cfg, data, size, size + 1, true, &whole) ||
	    parse(&cfg, data, size, chunk, false, &pieces))
		return 0;
	if (whole.hash != pieces.hash || whole.status != pieces.status ||
	    memcmp(&whole.counts, &pieces.counts, sizeof(whole.counts)))
		__builtin_trap();	/* chunking changed the outcome */
	return 0;
}
