// SPDX-License-Identifier: GPL-2.0
/*
 * JSON and JUnit XML reports of a whole KTAP run, see report.h and
 * README.rst ("--mode json", "--mode junit").
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct rmeas {
	char *path;
	char *name;
	char *value;
	char *units;
};

struct rcase {
	char *path;
	char *group;
	enum ktap_result result;
	int error;
	char *directive;	/* NULL: none */
	char *reason;
	char *detail;
	unsigned long line;
	struct rmeas *meas;
	size_t nmeas;
	char **log;
	size_t nlog;
};

struct rmsg {
	enum ktap_severity sev;
	unsigned long line;
	char *text;
};

struct ktap_report {
	struct rcase *cases;
	size_t ncases, cap;
	struct rmsg *msgs;
	size_t nmsgs, mcap;
};

const char *ktap_status_name(enum ktap_result res, int error)
{
	switch (res) {
	case KTAP_PASS:
		return "PASS";
	case KTAP_FAIL:
		return error ? "ERROR" : "FAIL";
	case KTAP_SKIP:
		return "SKIP";
	default:
		return "MISS";
	}
}

const char *ktap_lava_result(enum ktap_result res)
{
	static const char *const lava[] = {
		[KTAP_PASS] = "pass",
		[KTAP_FAIL] = "fail",
		[KTAP_SKIP] = "skip",
		[KTAP_MISS] = "unknown",
	};

	return res <= KTAP_MISS ? lava[res] : "unknown";
}

/* ---- collecting -------------------------------------------------------- */

struct ktap_report *ktap_report_new(void)
{
	return calloc(1, sizeof(struct ktap_report));
}

static char *copy(const char *s, int *bad)
{
	char *d = strdup(s ? s : "");

	if (!d)
		*bad = 1;
	return d;
}

static void free_case(struct rcase *c)
{
	size_t i;

	free(c->path);
	free(c->group);
	free(c->directive);
	free(c->reason);
	free(c->detail);
	for (i = 0; i < c->nmeas; i++) {
		free(c->meas[i].path);
		free(c->meas[i].name);
		free(c->meas[i].value);
		free(c->meas[i].units);
	}
	free(c->meas);
	for (i = 0; i < c->nlog; i++)
		free(c->log[i]);
	free(c->log);
}

int ktap_report_case(struct ktap_report *r, const struct ktap_case *tc)
{
	struct rcase *c;
	int bad = 0;
	size_t i;

	if (r->ncases == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct rcase *n = realloc(r->cases, cap * sizeof(*n));

		if (!n)
			return -1;
		r->cases = n;
		r->cap = cap;
	}
	c = &r->cases[r->ncases];
	memset(c, 0, sizeof(*c));
	c->path = copy(tc->name, &bad);
	c->group = copy(tc->group, &bad);
	c->result = tc->result;
	c->error = tc->error;
	c->directive = tc->directive ? copy(tc->directive, &bad) : NULL;
	c->reason = copy(tc->reason, &bad);
	c->detail = copy(tc->detail, &bad);
	c->line = tc->line;
	if (tc->nmeas) {
		c->meas = calloc(tc->nmeas, sizeof(*c->meas));
		bad |= !c->meas;
	}
	for (i = 0; c->meas && i < tc->nmeas; i++) {
		c->meas[i].path = copy(tc->meas[i].case_name, &bad);
		c->meas[i].name = copy(tc->meas[i].name, &bad);
		c->meas[i].value = copy(tc->meas[i].value, &bad);
		c->meas[i].units = copy(tc->meas[i].units, &bad);
		c->nmeas++;
	}
	if (tc->nlog) {
		c->log = calloc(tc->nlog, sizeof(*c->log));
		bad |= !c->log;
	}
	for (i = 0; c->log && i < tc->nlog; i++)
		c->log[c->nlog++] = copy(tc->log[i], &bad);
	if (bad) {
		free_case(c);
		return -1;
	}
	r->ncases++;
	return 0;
}

int ktap_report_message(struct ktap_report *r, enum ktap_severity sev,
			unsigned long line, const char *msg)
{
	int bad = 0;

	if (r->nmsgs == r->mcap) {
		size_t cap = r->mcap ? r->mcap * 2 : 16;
		struct rmsg *n = realloc(r->msgs, cap * sizeof(*n));

		if (!n)
			return -1;
		r->msgs = n;
		r->mcap = cap;
	}
	r->msgs[r->nmsgs].sev = sev;
	r->msgs[r->nmsgs].line = line;
	r->msgs[r->nmsgs].text = copy(msg, &bad);
	if (bad)
		return -1;
	r->nmsgs++;
	return 0;
}

void ktap_report_free(struct ktap_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->ncases; i++)
		free_case(&r->cases[i]);
	for (i = 0; i < r->nmsgs; i++)
		free(r->msgs[i].text);
	free(r->cases);
	free(r->msgs);
	free(r);
}

/* ---- escaping ---------------------------------------------------------- */

#define BAD_CP	0xfffdU		/* U+FFFD REPLACEMENT CHARACTER */

/* Decode one UTF-8 sequence at @s; invalid bytes are U+FFFD of length 1. */
static size_t utf8_next(const unsigned char *s, unsigned int *cp)
{
	unsigned int c = s[0], min, n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
		c &= 0x07;
	} else {
		*cp = BAD_CP;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = BAD_CP;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
		*cp = BAD_CP;
		return 1;
	}
	*cp = c;
	return n;
}

static void put_bad(FILE *f)
{
	fputs("\xef\xbf\xbd", f);
}

/* The inside of a JSON string (RFC 8259), always valid UTF-8. */
static void json_chars(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	unsigned int cp;
	size_t n;

	for (; *s; s += n) {
		n = utf8_next(s, &cp);
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", cp);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (cp == '\r')
			fputs("\\r", f);
		else if (cp < 0x20)
			fprintf(f, "\\u%04x", cp);
		else if (cp == BAD_CP && n == 1)
			put_bad(f);
		else
			fwrite(s, 1, n, f);
	}
}

static void json_str(FILE *f, const char *str)
{
	fputc('"', f);
	json_chars(f, str);
	fputc('"', f);
}

/* XML 1.0 character data; @attr also escapes quotes and line ends. */
static void xml_str(FILE *f, const char *str, int attr)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	unsigned int cp;
	size_t n;

	for (; *s; s += n) {
		n = utf8_next(s, &cp);
		if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '"' && attr)
			fputs("&quot;", f);
		else if (cp == '\'' && attr)
			fputs("&apos;", f);
		else if (cp == '\r' || (attr && (cp == '\n' || cp == '\t')))
			fprintf(f, "&#%u;", cp);
		else if ((cp < 0x20 && cp != '\n' && cp != '\t') ||
			 cp == 0xfffe || cp == 0xffff || (cp == BAD_CP && n == 1))
			put_bad(f);	/* not allowed in XML 1.0, even as &#..; */
		else
			fwrite(s, 1, n, f);
	}
}

/* ---- JSON -------------------------------------------------------------- */

static const char *sev_name(enum ktap_severity sev)
{
	switch (sev) {
	case KTAP_INFO:
		return "note";
	case KTAP_WARNING:
		return "warning";
	case KTAP_FAILURE:
		return "failure";
	default:
		return "bad_input";
	}
}

/* The name below the group: "abi.discovery" of "mhi.prog.abi.discovery". */
static const char *leaf_of(const struct rcase *c)
{
	size_t n = strlen(c->group);

	if (n && !strncmp(c->path, c->group, n) && c->path[n] == '.')
		return c->path + n + 1;
	return c->path;
}

static void json_case(FILE *f, const struct rcase *c, int last)
{
	size_t i;

	fputs("    {\n      \"path\": ", f);
	json_str(f, c->path);
	fputs(",\n      \"group\": ", f);
	json_str(f, c->group);
	fputs(",\n      \"name\": ", f);
	json_str(f, leaf_of(c));
	fprintf(f, ",\n      \"status\": \"%s\"",
		ktap_status_name(c->result, c->error));
	fprintf(f, ",\n      \"lava_result\": \"%s\",\n      \"directive\": ",
		ktap_lava_result(c->result));
	if (c->directive)
		json_str(f, c->directive);
	else
		fputs("null", f);
	fputs(",\n      \"reason\": ", f);
	json_str(f, c->reason);
	fputs(",\n      \"detail\": ", f);
	json_str(f, c->detail);
	fprintf(f, ",\n      \"line\": %lu,\n      \"measurements\": [", c->line);
	for (i = 0; i < c->nmeas; i++) {
		const struct rmeas *m = &c->meas[i];

		fputs(i ? ",\n        {\"path\": " : "\n        {\"path\": ", f);
		json_str(f, m->path);
		fputs(", \"name\": ", f);
		json_str(f, m->name);
		/* parse_meas() only lets -?[0-9]+(\.[0-9]+)? through */
		fprintf(f, ", \"value\": %s, \"unit\": ", m->value);
		json_str(f, m->units);
		fputc('}', f);
	}
	fputs(c->nmeas ? "\n      ],\n      \"log_excerpt\": \"" :
		"],\n      \"log_excerpt\": \"", f);
	for (i = 0; i < c->nlog; i++) {
		/* one string: the lines, each ended by \n */
		json_chars(f, c->log[i]);
		fputs("\\n", f);
	}
	fprintf(f, "\"\n    }%s\n", last ? "" : ",");
}

void ktap_report_json(const struct ktap_report *r,
		      const struct ktap_report_info *info, FILE *f)
{
	size_t i;

	fputs("{\n  \"format\": \"ktap-json\",\n  \"version\": 1,\n  \"input\": ", f);
	json_str(f, info->input);
	fprintf(f, ",\n  \"exit\": %d,\n  \"counts\": {", info->status);
	fprintf(f, "\"pass\": %lu, \"fail\": %lu, \"skip\": %lu, \"miss\": %lu},\n",
		info->counts.passed, info->counts.failed,
		info->counts.skipped, info->counts.missing);
	fprintf(f, "  \"tests\": [%s", r->ncases ? "\n" : "");
	for (i = 0; i < r->ncases; i++)
		json_case(f, &r->cases[i], i + 1 == r->ncases);
	fprintf(f, "%s],\n  \"messages\": [%s", r->ncases ? "  " : "",
		r->nmsgs ? "\n" : "");
	for (i = 0; i < r->nmsgs; i++) {
		fprintf(f, "    {\"severity\": \"%s\", \"line\": %lu, \"text\": ",
			sev_name(r->msgs[i].sev), r->msgs[i].line);
		json_str(f, r->msgs[i].text);
		fprintf(f, "}%s\n", i + 1 == r->nmsgs ? "" : ",");
	}
	fprintf(f, "%s]\n}\n", r->nmsgs ? "  " : "");
}

/* ---- JUnit XML --------------------------------------------------------- */

struct by_group {
	const char *group;
	size_t idx;
};

static int group_cmp(const void *a, const void *b)
{
	const struct by_group *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct tally {
	size_t tests, failures, errors, skipped;
};

static void tally_add(struct tally *t, const struct rcase *c)
{
	t->tests++;
	if (c->result == KTAP_MISS || (c->result == KTAP_FAIL && c->error))
		t->errors++;
	else if (c->result == KTAP_FAIL)
		t->failures++;
	else if (c->result == KTAP_SKIP)
		t->skipped++;
}

static void xml_counts(FILE *f, const struct tally *t)
{
	fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\">\n",
		t->tests, t->failures, t->errors, t->skipped);
}

static const char *suite_name(const struct rcase *c)
{
	return *c->group ? c->group : "ktap";
}

static void xml_excerpt(FILE *f, const struct rcase *c)
{
	size_t i;

	for (i = 0; i < c->nlog; i++) {
		xml_str(f, c->log[i], 0);
		fputc('\n', f);
	}
}

static void junit_case(FILE *f, const struct rcase *c)
{
	const char *tag = NULL, *type = "";
	size_t i;

	fputs("    <testcase classname=\"", f);
	xml_str(f, suite_name(c), 1);
	fputs("\" name=\"", f);
	xml_str(f, c->path, 1);
	fputs("\">\n", f);
	if (c->nmeas) {
		fputs("      <properties>\n", f);
		for (i = 0; i < c->nmeas; i++) {
			fputs("        <property name=\"", f);
			xml_str(f, c->meas[i].name, 1);
			fputs("\" value=\"", f);
			xml_str(f, c->meas[i].value, 1);
			fputc(' ', f);
			xml_str(f, c->meas[i].units, 1);
			fputs("\"/>\n", f);
		}
		fputs("      </properties>\n", f);
	}
	if (c->result == KTAP_FAIL) {
		tag = c->error ? "error" : "failure";
		type = c->error ? "error" : "fail";
	} else if (c->result == KTAP_MISS) {
		tag = "error";
		type = "missing";
	} else if (c->result == KTAP_SKIP) {
		fputs("      <skipped message=\"", f);
		xml_str(f, c->reason, 1);
		fputs("\"/>\n", f);
	}
	if (tag) {
		fprintf(f, "      <%s type=\"%s\" message=\"", tag, type);
		xml_str(f, *c->detail ? c->detail : "failed", 1);
		fputs(c->nlog ? "\">" : "\"/>\n", f);
		if (c->nlog) {
			xml_excerpt(f, c);
			fprintf(f, "</%s>\n", tag);
		}
	}
	fputs("    </testcase>\n", f);
}

void ktap_report_junit(const struct ktap_report *r,
		       const struct ktap_report_info *info, FILE *f)
{
	struct by_group *order = calloc(r->ncases ? r->ncases : 1,
					sizeof(*order));
	struct tally all = { 0 };
	size_t i, j;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	if (!order) {
		fputs("<!-- ktap: out of memory -->\n<testsuites/>\n", f);
		return;
	}
	for (i = 0; i < r->ncases; i++) {
		order[i].group = suite_name(&r->cases[i]);
		order[i].idx = i;
		tally_add(&all, &r->cases[i]);
	}
	/* one testsuite per group, by name; cases in the order they came */
	qsort(order, r->ncases, sizeof(*order), group_cmp);
	fputs("<testsuites name=\"", f);
	xml_str(f, info->input, 1);
	fputc('"', f);
	xml_counts(f, &all);
	for (i = 0; i < r->ncases; i = j) {
		struct tally t = { 0 };

		for (j = i; j < r->ncases &&
		     !strcmp(order[j].group, order[i].group); j++)
			tally_add(&t, &r->cases[order[j].idx]);
		fputs("  <testsuite name=\"", f);
		xml_str(f, order[i].group, 1);
		fputc('"', f);
		xml_counts(f, &t);
		for (j = i; j < r->ncases &&
		     !strcmp(order[j].group, order[i].group); j++)
			junit_case(f, &r->cases[order[j].idx]);
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	free(order);
}
