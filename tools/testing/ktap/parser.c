// SPDX-License-Identifier: GPL-2.0
/*
 * Streaming KTAP/TAP parser, see ktap.h and README.rst
 *
 * Model: a stack of open documents.  A document is opened by a version
 * line, a "# Subtest:" header, an indented plan, or a version line behind
 * "# " (the kselftest runner re-prefixes each program's output with "# ").
 * A result line belongs to the innermost document it is not outdented
 * from; a result line that is outdented from (or above the "# " depth of)
 * open documents closes them and is the result of the outermost one it
 * closes.  Results are queued as events and handed out as soon as every
 * name above them is known, which is at once for KUnit ("# Subtest:") and
 * kselftest runner ("# selftests: dir: prog") output.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktap.h"

#define MAX_DOCS		64	/* open documents (nesting) */
#define MAX_MEAS		32	/* measurements pending per document */
#define MAX_PLAN		1000000UL
#define MAX_EXPECT		100000	/* names in an --expect list */
#define EXCERPT_LINES		40	/* log lines kept for a failure */
#define EXCERPT_COLS		512	/* bytes kept of each of them */
#define MAX_QUEUE		65536	/* results waiting for a group name */
#define MAX_MESSAGES		200
#define NAME_LEN		120	/* cap for a full test name */
#define HINT_LEN		160
#define DEFAULT_MAX_LINE	65536
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

enum opener { BY_ROOT, BY_VERSION, BY_SUBTEST, BY_PLAN, BY_HASH };

struct meas {
	char name[64];
	char val[40];
	char unit[32];
};

/* The last EXCERPT_LINES lines of a document, for failure excerpts. */
struct ring {
	char *line[EXCERPT_LINES];
	unsigned int first;
	unsigned int n;
};

/* A level of the name tree; shared by documents and queued events. */
struct node {
	struct node *parent;
	char *raw;		/* name as written, NULL until known */
	const char *full;	/* final name (owned by the name set) */
	unsigned int refs;
	bool root;
};

struct doc {
	struct node *node;
	enum opener how;
	int depth;		/* "# " prefix level */
	int indent;		/* columns, tabs count to the next 8 */
	bool base;		/* first document at its "# " level */
	bool flat;		/* not indented below its parent */
	bool has_version;
	bool header_name;	/* named by "# Subtest:" */
	bool seen;		/* a plan or result line arrived */
	bool bailed;
	bool overflow_told;
	long plan;		/* -1: no plan yet */
	unsigned long nres;
	unsigned long next;	/* expected next test number */
	unsigned long line;
	struct ktap_counts counts;
	char hint[HINT_LEN];	/* last "selftests: dir: prog" diagnostic */
	char skip_all[HINT_LEN];	/* reason of a "1..0 # SKIP" plan */
	struct meas meas[MAX_MEAS];
	int nmeas;
	char *running;		/* "#  RUN  name ..." without a result yet */
	struct ring log;
	unsigned char *got;	/* which --expect names reported a result */
	bool foreign;		/* a result that is not in the --expect list */
};

struct event {
	struct event *next;
	struct node *node;	/* the group, or the document of a leaf */
	bool own;		/* result of the group @node itself */
	char *leaf;		/* raw leaf name */
	unsigned long num;
	enum ktap_result result;
	bool error;
	const char *directive;
	char *reason;
	char *detail;
	unsigned long line;
	struct meas *meas;
	int nmeas;
	char **log;
	unsigned int nlog;
};

struct name_slot {
	char *name;
	unsigned long next_dup;
};

struct name_set {
	struct name_slot *slot;
	size_t cap;
	size_t used;
};

struct exp_ent {
	const char *name;
	size_t idx;		/* position in ktap_parser.expect */
};

struct res {
	bool ok;
	bool error;
	unsigned long num;
	char *desc;
	const char *directive;
	char *reason;
	char *detail;
	enum ktap_result result;
	struct ring *log;	/* excerpt to attach to a failure, or NULL */
};

struct ktap_parser {
	const struct ktap_ops *ops;
	void *priv;
	char *prefix_name;	/* --prefix, may be NULL */
	size_t max_line;
	bool strict;

	char *buf;		/* partial line from feed_bytes() */
	size_t blen;
	bool overlong;
	char *work;		/* the line being parsed */
	unsigned long lineno;

	bool started;
	bool stopped;
	bool finished;
	bool binary_seen;
	bool oom;
	char *pfx;		/* text before the first version line */
	size_t pfx_len;
	int pfx_groups;		/* "[...]" groups in it, -1 if not only that */
	int pfx_spaces;
	char end_reason[96];

	struct doc *stack[MAX_DOCS];
	int ndocs;
	bool depth_told;

	struct event *qhead;
	struct event **qtail;
	unsigned long qlen;
	struct node *set;	/* current LAVA test set */
	struct name_set names;

	char **expect;		/* --expect names, in the order given */
	size_t nexpect;
	struct exp_ent *exp_sorted;	/* the same, sorted by name */
	char cur[EXCERPT_COLS + 8];	/* the line being parsed, for excerpts */

	struct ktap_counts total;
	unsigned long nmsg;
	unsigned long warnings;
	unsigned long failures;
	unsigned long bad;
};

/* ---- small helpers ---------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '-';
}

static bool starts(const char *s, const char *pfx)
{
	return !strncmp(s, pfx, strlen(pfx));
}

static char *skip_blanks(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static char *rtrim(char *s)
{
	size_t n = strlen(s);

	while (n && (is_blank(s[n - 1]) || s[n - 1] == '\r' ||
		     s[n - 1] == '\n' || s[n - 1] == '\v' || s[n - 1] == '\f'))
		s[--n] = '\0';
	return s;
}

static char *trim(char *s)
{
	return rtrim(skip_blanks(s));
}

static bool word_is(const char *s, size_t n, const char *w)
{
	size_t i;

	if (strlen(w) != n)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (c != w[i])
			return false;
	}
	return true;
}

/* Decimal number, saturating at 999999999 (fits 32-bit longs). */
static char *parse_num(char *s, unsigned long *out)
{
	unsigned long v = 0;

	if (!is_digit(*s))
		return NULL;
	for (; is_digit(*s); s++)
		v = v > 99999999UL ? 999999999UL : v * 10 + (*s - '0');
	*out = v;
	return s;
}

static int indent_of(const char *s, const char **rest)
{
	int w = 0;

	for (; is_blank(*s); s++) {
		w = *s == '\t' ? (w / 8 + 1) * 8 : w + 1;
		if (w > 100000)
			w = 100000;
	}
	*rest = s;
	return w;
}

static unsigned long hash_str(const char *s)
{
	unsigned long h = 2166136261UL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h = (h * 16777619UL) & 0xffffffffUL;
	}
	return h;
}

static char *dup_str(struct ktap_parser *p, const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		p->oom = true;
	return d;
}

/* ---- failure excerpts ------------------------------------------------- */

static void ring_clear(struct ring *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		free(r->line[(r->first + i) % EXCERPT_LINES]);
	r->first = 0;
	r->n = 0;
}

/* Takes @line (may be NULL when out of memory: then nothing happens). */
static void ring_take(struct ring *r, char *line)
{
	if (!line)
		return;
	if (r->n == EXCERPT_LINES) {
		free(r->line[r->first]);
		r->first = (r->first + 1) % EXCERPT_LINES;
		r->n--;
	}
	r->line[(r->first + r->n++) % EXCERPT_LINES] = line;
}

static void ring_add(struct ktap_parser *p, struct ring *r, const char *s)
{
	if (*s)
		ring_take(r, dup_str(p, s));
}

/* Append the lines of @from to @to and empty @from. */
static void ring_move(struct ring *to, struct ring *from)
{
	unsigned int i;

	for (i = 0; i < from->n; i++)
		ring_take(to, from->line[(from->first + i) % EXCERPT_LINES]);
	from->first = 0;
	from->n = 0;
}

static char **ring_copy(struct ktap_parser *p, const struct ring *r,
			unsigned int *n)
{
	char **out = calloc(r->n ? r->n : 1, sizeof(*out));
	unsigned int i;

	*n = 0;
	if (!out) {
		p->oom = true;
		return NULL;
	}
	for (i = 0; i < r->n; i++) {
		out[*n] = dup_str(p, r->line[(r->first + i) % EXCERPT_LINES]);
		if (out[*n])
			(*n)++;
	}
	return out;
}

/* The current line, capped for excerpts ("..." marks a cut). */
static void keep_line(struct ktap_parser *p, const char *s)
{
	size_t n = strlen(s);

	if (n > EXCERPT_COLS) {
		memcpy(p->cur, s, EXCERPT_COLS);
		memcpy(p->cur + EXCERPT_COLS, " ...", 5);
	} else {
		memcpy(p->cur, s, n + 1);
	}
}

/* ---- messages --------------------------------------------------------- */

static void report(struct ktap_parser *p, enum ktap_severity sev,
		   unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct ktap_parser *p, enum ktap_severity sev,
		   unsigned long line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (sev == KTAP_WARNING)
		p->warnings++;
	else if (sev == KTAP_FAILURE)
		p->failures++;
	else if (sev == KTAP_BAD_INPUT)
		p->bad++;

	if (p->nmsg++ > MAX_MESSAGES || !p->ops->message)
		return;
	if (p->nmsg > MAX_MESSAGES) {
		p->ops->message(p->priv, KTAP_INFO, line,
				"too many messages, not printing more");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->ops->message(p->priv, sev, line, msg);
}

/* ---- names ------------------------------------------------------------ */

static bool name_set_grow(struct name_set *ns)
{
	size_t cap = ns->cap ? ns->cap * 2 : 256, i;
	struct name_slot *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return false;
	for (i = 0; i < ns->cap; i++) {
		size_t j;

		if (!ns->slot[i].name)
			continue;
		j = hash_str(ns->slot[i].name) & (cap - 1);
		while (slot[j].name)
			j = (j + 1) & (cap - 1);
		slot[j] = ns->slot[i];
	}
	free(ns->slot);
	ns->slot = slot;
	ns->cap = cap;
	return true;
}

static struct name_slot *name_set_find(struct name_set *ns, const char *name)
{
	size_t j;

	if (!ns->cap)
		return NULL;
	j = hash_str(name) & (ns->cap - 1);
	while (ns->slot[j].name) {
		if (!strcmp(ns->slot[j].name, name))
			return &ns->slot[j];
		j = (j + 1) & (ns->cap - 1);
	}
	return NULL;
}

/* Takes @name; returns the stored string, or NULL (taken, or no memory). */
static const char *name_set_add(struct ktap_parser *p, char *name)
{
	struct name_set *ns = &p->names;
	size_t j;

	if (!name || name_set_find(ns, name)) {
		free(name);
		return NULL;
	}
	if ((ns->used + 1) * 2 > ns->cap && !name_set_grow(ns)) {
		p->oom = true;
		free(name);
		return NULL;
	}
	j = hash_str(name) & (ns->cap - 1);
	while (ns->slot[j].name)
		j = (j + 1) & (ns->cap - 1);
	ns->slot[j].name = name;
	ns->slot[j].next_dup = 2;
	ns->used++;
	return name;
}

/* Keep @s within @max bytes; a cut name ends in "-" and 8 hex digits. */
static char *cap_name(struct ktap_parser *p, const char *s, const char *suffix,
		      size_t max)
{
	size_t n = strlen(s), sl = strlen(suffix), keep = n;
	char *out;

	if (n + sl > max)
		keep = max - sl - 9;
	out = malloc(keep + sl + 10);
	if (!out) {
		p->oom = true;
		return NULL;
	}
	memcpy(out, s, keep);
	if (keep < n)
		snprintf(out + keep, 10, "-%08lx", hash_str(s));
	else
		out[keep] = '\0';
	strcat(out, suffix);
	return out;
}

/* Map a raw description to one name component. */
static char *component(struct ktap_parser *p, const char *raw,
		       unsigned long num)
{
	size_t n = raw ? strlen(raw) : 0, o = 0, i;
	const char *colon;
	char *out = malloc(n + 24);

	if (!out) {
		p->oom = true;
		return NULL;
	}
	colon = NULL;
	if (raw && starts(raw, "selftests: ")) {
		raw += 11;	/* runner: "selftests: dir: prog" -> dir.prog */
		n -= 11;
		colon = strstr(raw, ": ");
	}
	for (i = 0; i < n; i++) {
		char c = raw[i];

		if (colon && raw + i == colon + 1)
			continue;	/* the blank after "dir:" */
		if (raw + i == colon)
			c = '.';
		else if (!is_name_char(c))
			c = '_';
		if (c == '_' && o && out[o - 1] == '_')
			continue;
		out[o++] = c;
	}
	while (o && (out[o - 1] == '_' || out[o - 1] == '.'))
		o--;
	out[o] = '\0';
	i = strspn(out, "_.");
	memmove(out, out + i, o - i + 1);
	if (!out[0])
		snprintf(out, n + 24, "test_%lu", num);
	return out;
}

/* "parent.comp", capped and made unique. */
static const char *unique_name(struct ktap_parser *p, const char *parent,
			       const char *comp)
{
	size_t len = strlen(parent) + strlen(comp) + 2;
	char *joined = malloc(len), *base, suffix[32];
	struct name_slot *slot;
	unsigned long dup;
	const char *name;

	if (!joined) {
		p->oom = true;
		return NULL;
	}
	snprintf(joined, len, "%s%s%s", parent, *parent ? "." : "", comp);
	name = name_set_add(p, cap_name(p, joined, "", NAME_LEN));
	base = name || p->oom ? NULL : cap_name(p, joined, "", NAME_LEN);
	if (base) {
		/* the table may grow below: keep no slot pointer across it */
		slot = name_set_find(&p->names, base);
		dup = slot ? slot->next_dup : 2;
		while (!name && !p->oom) {
			snprintf(suffix, sizeof(suffix), "_dup%lu", dup++);
			name = name_set_add(p, cap_name(p, joined, suffix,
							NAME_LEN));
		}
		slot = name_set_find(&p->names, base);
		if (slot)
			slot->next_dup = dup;
		free(base);
	}
	free(joined);
	return name;
}

static const char *resolve(struct ktap_parser *p, struct node *n)
{
	const char *parent;
	char *comp;

	if (n->full)
		return n->full;
	if (n->root) {
		/* every top-level document starts from the same prefix */
		n->full = p->prefix_name ? p->prefix_name : "";
		return n->full;
	}
	parent = resolve(p, n->parent);
	comp = component(p, n->raw, 0);
	if (parent && comp)
		n->full = unique_name(p, parent, comp);
	free(comp);
	return n->full;
}

/* ---- nodes and events ------------------------------------------------- */

static struct node *node_new(struct ktap_parser *p, struct node *parent)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n) {
		p->oom = true;
		return NULL;
	}
	n->refs = 1;
	n->parent = parent;
	n->root = !parent;
	if (parent)
		parent->refs++;
	return n;
}

static void node_put(struct node *n)
{
	while (n && !--n->refs) {
		struct node *parent = n->parent;

		free(n->raw);
		free(n);
		n = parent;
	}
}

static void event_free(struct event *ev)
{
	node_put(ev->node);
	free(ev->leaf);
	free(ev->reason);
	free(ev->detail);
	free(ev->meas);
	while (ev->nlog)
		free(ev->log[--ev->nlog]);
	free(ev->log);
	free(ev);
}

static bool can_emit(const struct event *ev)
{
	const struct node *n;

	for (n = ev->node; n; n = n->parent)
		if (!n->root && !n->raw)
			return false;
	return true;
}

static void set_to(struct ktap_parser *p, struct node *grp)
{
	const char *name;

	if (p->set == grp)
		return;
	if (p->set) {
		if (p->ops->set_stop)
			p->ops->set_stop(p->priv);
		node_put(p->set);
		p->set = NULL;
	}
	if (!grp)
		return;
	name = resolve(p, grp);
	if (!name)
		return;
	if (p->ops->set_start)
		p->ops->set_start(p->priv, name);
	p->set = grp;
	grp->refs++;
}

static void output(struct ktap_parser *p, struct event *ev)
{
	struct node *grp = ev->own ? ev->node->parent : ev->node;
	struct ktap_measure tm[MAX_MEAS];
	struct ktap_case tc = {
		.result = ev->result,
		.error = ev->error,
		.directive = ev->directive,
		.reason = ev->reason ? ev->reason : "",
		.detail = ev->detail ? ev->detail : "",
		.meas = tm,
		.log = (const char *const *)ev->log,
		.nlog = ev->nlog,
		.line = ev->line,
	};
	const char *base;
	char *comp;
	int i;

	set_to(p, grp && !grp->root ? grp : NULL);
	tc.group = grp ? resolve(p, grp) : NULL;
	if (ev->own) {
		base = resolve(p, ev->node);
	} else {
		const char *parent = resolve(p, ev->node);

		comp = component(p, ev->leaf, ev->num);
		base = parent && comp ? unique_name(p, parent, comp) : NULL;
		free(comp);
	}
	if (!base || !tc.group)
		return;
	tc.name = base;
	/* "<test>.<NAME>" is taken now, right behind the test's own name */
	for (i = 0; i < ev->nmeas; i++) {
		struct ktap_measure *m = &tm[tc.nmeas];

		comp = component(p, ev->meas[i].name, 0);
		m->case_name = NULL;
		if (comp)
			m->case_name = unique_name(p, base, comp);
		free(comp);
		if (!m->case_name)
			continue;
		m->name = ev->meas[i].name;
		m->value = ev->meas[i].val;
		m->units = ev->meas[i].unit;
		tc.nmeas++;
	}
	if (p->ops->test_case)
		p->ops->test_case(p->priv, &tc);
}

static void drain(struct ktap_parser *p)
{
	while (p->qhead && can_emit(p->qhead)) {
		struct event *ev = p->qhead;

		p->qhead = ev->next;
		if (!p->qhead)
			p->qtail = &p->qhead;
		p->qlen--;
		output(p, ev);
		event_free(ev);
	}
}

static void name_from_number(struct ktap_parser *p, struct node *n,
			     unsigned long num)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "test_%lu", num);
	n->raw = dup_str(p, tmp);
}

/* Too much waiting for a late group name: fall back to numbers. */
static void force_names(struct ktap_parser *p)
{
	int i;

	for (i = 1; i < p->ndocs; i++) {
		struct doc *d = p->stack[i];

		if (d->node && !d->node->raw) {
			report(p, KTAP_WARNING, p->lineno,
			       "group opened at line %lu still has no name after %d results; naming it by number",
			       d->line, MAX_QUEUE);
			name_from_number(p, d->node, p->stack[i - 1]->next);
		}
	}
	drain(p);
}

static void queue(struct ktap_parser *p, struct doc *d, struct node *node,
		  bool own, const char *leaf, const struct res *r)
{
	struct event *ev = calloc(1, sizeof(*ev));

	if (!ev || !node) {
		free(ev);
		p->oom = true;
		return;
	}
	ev->node = node;
	node->refs++;
	ev->own = own;
	ev->leaf = own ? NULL : dup_str(p, leaf);
	ev->num = r->num;
	ev->result = r->result;
	ev->directive = r->directive;
	ev->error = r->error;
	ev->reason = dup_str(p, r->reason);
	ev->detail = dup_str(p, r->detail);
	ev->line = p->lineno;
	if (r->log && r->result == KTAP_FAIL)
		ev->log = ring_copy(p, r->log, &ev->nlog);
	if (d && d->nmeas) {
		ev->meas = malloc(d->nmeas * sizeof(*ev->meas));
		if (ev->meas) {
			memcpy(ev->meas, d->meas, d->nmeas * sizeof(*ev->meas));
			ev->nmeas = d->nmeas;
		}
		d->nmeas = 0;
	}
	*p->qtail = ev;
	p->qtail = &ev->next;
	if (++p->qlen > MAX_QUEUE)
		force_names(p);
	drain(p);
}

/* ---- documents -------------------------------------------------------- */

static struct doc *top(struct ktap_parser *p)
{
	return p->ndocs ? p->stack[p->ndocs - 1] : NULL;
}

static const char *doc_label(struct doc *d, char *buf, size_t len)
{
	if (d->node && d->node->raw)
		snprintf(buf, len, "'%s'", d->node->raw);
	else if (d->how == BY_ROOT)
		snprintf(buf, len, "top level");
	else
		snprintf(buf, len, "group opened at line %lu", d->line);
	return buf;
}

static void add_count(struct ktap_counts *c, enum ktap_result r)
{
	if (r == KTAP_PASS)
		c->passed++;
	else if (r == KTAP_FAIL)
		c->failed++;
	else if (r == KTAP_SKIP)
		c->skipped++;
	else
		c->missing++;
}

static unsigned long count_all(const struct ktap_counts *c)
{
	return c->passed + c->failed + c->skipped + c->missing;
}

static void doc_free(struct doc *d)
{
	node_put(d->node);
	ring_clear(&d->log);
	free(d->running);
	free(d->got);
	free(d);
}

static struct doc *push(struct ktap_parser *p, enum opener how, int depth,
			int indent)
{
	struct doc *parent = top(p), *d;

	if (p->ndocs >= MAX_DOCS) {
		if (!p->depth_told)
			report(p, KTAP_BAD_INPUT, p->lineno,
			       "nesting deeper than %d levels, ignoring the deeper ones",
			       MAX_DOCS);
		p->depth_told = true;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d)
		d->node = node_new(p, parent ? parent->node : NULL);
	if (d && p->nexpect)
		d->got = calloc(p->nexpect, 1);
	if (!d || !d->node || (p->nexpect && !d->got)) {
		if (d)
			doc_free(d);
		p->oom = true;
		return NULL;
	}
	d->how = how;
	d->depth = depth;
	d->indent = indent;
	d->base = !parent || depth > parent->depth;
	d->flat = parent && !d->base && indent <= parent->indent;
	d->has_version = how == BY_VERSION || how == BY_ROOT || how == BY_HASH;
	d->plan = -1;
	d->next = 1;
	d->line = p->lineno;
	p->stack[p->ndocs++] = d;
	return d;
}

static void drop_meas(struct ktap_parser *p, struct doc *d)
{
	if (d->nmeas)
		report(p, KTAP_WARNING, p->lineno,
		       "%d measurement(s) not followed by a result, dropped",
		       d->nmeas);
	d->nmeas = 0;
}

/* Book a result (real or made up) into document @d. */
static void account(struct ktap_parser *p, struct doc *d,
		    const struct res *r, bool made_up)
{
	if (!made_up && r->num != d->next)
		report(p, KTAP_WARNING, p->lineno,
		       "expected test number %lu, found %lu", d->next, r->num);
	d->next = made_up ? d->next + 1 : r->num + 1;
	d->nres++;
	d->seen = true;
	d->hint[0] = '\0';
	if (d->plan >= 0 && d->nres > (unsigned long)d->plan &&
	    !d->overflow_told) {
		report(p, KTAP_FAILURE, p->lineno,
		       "more results than the plan 1..%ld", d->plan);
		d->overflow_told = true;
	}
}

/* Index of @name in the --expect list, or -1. */
static long expect_index(const struct ktap_parser *p, const char *name)
{
	size_t lo = 0, hi = p->nexpect;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, p->exp_sorted[mid].name);

		if (!c)
			return p->exp_sorted[mid].idx;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* A result named @desc arrived in @d: tick it off the --expect list. */
static void expect_got(struct ktap_parser *p, struct doc *d, const char *desc)
{
	long i;

	if (!p->nexpect)
		return;
	i = expect_index(p, desc ? desc : "");
	if (i < 0)
		d->foreign = true;
	else
		d->got[i] = 1;
}

/*
 * The --expect list names the unreached results of @d when it is the list
 * of that program: as many names as the plan, every result among them.
 */
static unsigned long expect_unreached(struct ktap_parser *p, struct doc *d)
{
	unsigned long n = 0;
	size_t i;

	if (!p->nexpect || d->foreign || p->nexpect != (size_t)d->plan)
		return 0;
	for (i = 0; i < p->nexpect; i++)
		n += !d->got[i];
	return n;
}

/* The test that was running when @d ended is the one that hung or crashed. */
static void report_running(struct ktap_parser *p, struct doc *d,
			   const struct res *end)
{
	char label[HINT_LEN + 40], detail[HINT_LEN + 96], line[HINT_LEN + 112];
	struct res r = {
		.result = KTAP_FAIL,
		.reason = "",
		.detail = detail,
		.log = &d->log,
	};

	if (end && end->detail && *end->detail)
		snprintf(detail, sizeof(detail),
			 "hang or crash: stream ended while running (program result: %s)",
			 end->detail);
	else if (end)
		snprintf(detail, sizeof(detail),
			 "hang or crash: stream ended while running (program result: %s)",
			 end->ok ? "ok" : "not ok");
	else
		snprintf(detail, sizeof(detail),
			 "hang or crash: stream ended while running%s%s",
			 *p->end_reason ? " " : "", p->end_reason);
	report(p, KTAP_FAILURE, p->lineno, "%s: '%s' was running: %s",
	       doc_label(d, label, sizeof(label)), d->running, detail);
	snprintf(line, sizeof(line), "ktap: %s", detail);
	ring_add(p, &d->log, line);
	r.num = d->next;
	account(p, d, &r, true);
	expect_got(p, d, d->running);
	d->counts.failed++;
	queue(p, d, d->node, false, d->running, &r);
	free(d->running);
	d->running = NULL;
}

/* Results that the plan promised but that never came (@end: the closing line). */
static void check_missing(struct ktap_parser *p, struct doc *d,
			  const struct res *end)
{
	unsigned long n, named;
	struct res r = {
		.result = KTAP_MISS,
		.reason = "",
		.detail = "missing: never reached",
	};
	char label[HINT_LEN + 40], detail[96];
	size_t i;

	if (d->bailed || d->plan < 0 || d->nres >= (unsigned long)d->plan)
		return;
	report(p, KTAP_FAILURE, p->lineno,
	       "%s: plan 1..%ld but %lu result(s): %lu missing",
	       doc_label(d, label, sizeof(label)), d->plan, d->nres,
	       d->plan - d->nres);
	if (d->running)
		report_running(p, d, end);
	if (d->nres >= (unsigned long)d->plan)
		return;
	n = d->plan - d->nres;
	d->counts.missing += n;
	named = expect_unreached(p, d);
	if (named == n) {
		for (i = 0; i < p->nexpect; i++) {
			if (d->got[i])
				continue;
			r.num = d->next++;
			queue(p, NULL, d->node, false, p->expect[i], &r);
		}
		return;
	}
	snprintf(detail, sizeof(detail),
		 "missing: %lu planned result(s) never reported", n);
	r.detail = detail;
	r.num = d->next;
	queue(p, NULL, d->node, false, "missing", &r);
}

/* Pop the innermost document; @r is its result line (NULL: none came). */
static void close_top(struct ktap_parser *p, struct res *r)
{
	struct doc *d = p->stack[--p->ndocs], *parent = top(p);
	struct ktap_counts *c = &parent->counts;
	struct res made_up = {
		.result = KTAP_FAIL,
		.error = true,
		.reason = "",
		.detail = "no result line: input truncated or crashed",
	};
	char label[HINT_LEN + 40];
	bool fake = !r;

	check_missing(p, d, r);
	drop_meas(p, d);
	/* the program's last lines go with its result (or the next one up) */
	ring_move(&parent->log, &d->log);
	if (fake) {
		report(p, KTAP_FAILURE, p->lineno,
		       "%s ended without its result line%s%s",
		       doc_label(d, label, sizeof(label)),
		       p->end_reason[0] ? " " : "", p->end_reason);
		made_up.num = parent->next;
		r = &made_up;
		ring_add(p, &parent->log,
			 "ktap: no result line: input truncated or crashed");
	} else {
		ring_add(p, &parent->log, p->cur);
	}
	r->log = &parent->log;
	if (r->result == KTAP_SKIP && !*r->reason && d->skip_all[0])
		r->reason = d->skip_all;	/* "ok 3 prog # SKIP" says no more */
	if (!d->node->raw) {
		if (r->desc && r->desc[0])
			d->node->raw = dup_str(p, r->desc);
		else
			name_from_number(p, d->node, r->num);
	}

	c->passed += d->counts.passed;
	c->failed += d->counts.failed;
	c->skipped += d->counts.skipped;
	c->missing += d->counts.missing;
	if (!count_all(&d->counts))
		add_count(c, r->result);
	else if (r->result == KTAP_FAIL && !d->counts.failed)
		c->failed++;	/* the group failed although its tests did not */

	account(p, parent, r, fake);
	if (!fake) {
		expect_got(p, parent, r->desc);
		free(parent->running);
		parent->running = NULL;
	}
	queue(p, fake ? NULL : parent, d->node, true, NULL, r);
	if (!fake)
		ring_clear(&parent->log);
	doc_free(d);
}

static void close_root(struct ktap_parser *p)
{
	struct doc *d = p->stack[0];

	check_missing(p, d, NULL);
	drop_meas(p, d);
	if (d->plan < 0 && !d->bailed) {
		if (!d->nres)
			report(p, KTAP_FAILURE, p->lineno,
			       "document opened at line %lu has no plan and no results%s%s",
			       d->line, p->end_reason[0] ? " " : "",
			       p->end_reason);
		else
			report(p, KTAP_WARNING, p->lineno,
			       "document opened at line %lu has no plan line",
			       d->line);
	}
	drain(p);
	p->total.passed += d->counts.passed;
	p->total.failed += d->counts.failed;
	p->total.skipped += d->counts.skipped;
	p->total.missing += d->counts.missing;
	doc_free(d);
	p->ndocs = 0;
}

/*
 * Index of the outermost document that a structural line at "# " depth
 * @k and indentation @ind closes; p->ndocs when it closes none.
 */
static int close_point(struct ktap_parser *p, int k, int ind)
{
	int i = p->ndocs - 1;

	while (i > 0) {
		struct doc *d = p->stack[i];

		if (d->depth > k || (!d->base && d->indent > ind)) {
			i--;
			continue;
		}
		break;
	}
	return i + 1;
}

/* Close documents from the top down to @idx; @r is the result of @idx. */
static void close_from(struct ktap_parser *p, int idx, struct res *r)
{
	while (p->ndocs > idx && p->ndocs > 1)
		close_top(p, p->ndocs - 1 == idx ? r : NULL);
}

static void settle(struct ktap_parser *p, int k, int ind)
{
	close_from(p, close_point(p, k, ind), NULL);
}

/* A document not indented below its parent ends by its plan or name. */
static bool flat_done(struct doc *d, const struct res *r)
{
	if (!d->flat)
		return false;
	if (d->plan >= 0)
		return d->nres >= (unsigned long)d->plan;
	return d->header_name && d->node->raw && !strcmp(d->node->raw, r->desc);
}

/* ---- line kinds ------------------------------------------------------- */

static bool parse_version(const char *t, bool *kunit, unsigned long *v)
{
	const char *s;

	if (starts(t, "KTAP version "))
		s = t + 13;
	else if (starts(t, "TAP version "))
		s = t + 12;
	else
		return false;
	if (!is_digit(*s))
		return false;
	*kunit = t[0] == 'K';
	for (*v = 0; is_digit(*s); s++)
		*v = *v > 99999UL ? 999999UL : *v * 10 + (*s - '0');
	return *s == '\0';
}

static void parse_directive(char *s, struct res *r)
{
	static const char *const kw[] = {
		"SKIP", "TODO", "XFAIL", "XPASS", "TIMEOUT", "ERROR",
	};
	char *w;
	size_t n, i;

	r->detail = trim(s);
	w = r->detail;
	for (n = 0; is_alpha(w[n]); n++)
		;
	r->reason = r->detail;
	for (i = 0; i < ARRAY_SIZE(kw); i++) {
		if (word_is(w, n, kw[i]) ||
		    (i == 0 && word_is(w, n, "SKIPPED"))) {
			r->directive = kw[i];
			r->reason = w + n;
			while (*r->reason == ':' || is_blank(*r->reason))
				r->reason++;
			break;
		}
	}
}

/* '#' that starts a directive: first in the text or after a blank. */
static char *find_hash(char *s)
{
	char *h;

	for (h = s; (h = strchr(h, '#')); h++)
		if (h == s || (is_blank(h[-1]) && !(h - 1 > s && h[-2] == '\\')))
			return h;
	return NULL;
}

static enum ktap_result classify(const struct res *r)
{
	const char *d = r->directive;

	if (!d)
		return r->ok ? KTAP_PASS : KTAP_FAIL;
	if (!strcmp(d, "SKIP"))
		return KTAP_SKIP;
	if (!strcmp(d, "TODO"))
		return r->ok ? KTAP_PASS : KTAP_SKIP;
	if (!strcmp(d, "XFAIL"))
		return KTAP_PASS;
	if (!strcmp(d, "XPASS"))
		return r->ok ? KTAP_PASS : KTAP_FAIL;
	return KTAP_FAIL;	/* TIMEOUT, ERROR */
}

static bool parse_result(char *t, struct res *r)
{
	char *s, *h;

	memset(r, 0, sizeof(*r));
	if (starts(t, "ok")) {
		r->ok = true;
		s = t + 2;
	} else if (starts(t, "not ok")) {
		s = t + 6;
	} else {
		return false;
	}
	if (!is_blank(*s))
		return false;
	s = parse_num(skip_blanks(s), &r->num);
	if (!s || (*s && !is_blank(*s)))
		return false;
	s = skip_blanks(s);
	if (s[0] == '-' && (is_blank(s[1]) || !s[1]))
		s = skip_blanks(s + 1);
	h = find_hash(s);
	r->reason = r->detail = "";
	if (h) {
		*h = '\0';
		parse_directive(h + 1, r);
	}
	r->desc = trim(s);
	r->result = classify(r);
	return true;
}

/* 1: plan, 0: not a plan, -1: "1.." with no count */
static int parse_plan(char *t, unsigned long *n, bool *skip, char **reason)
{
	struct res r = { 0 };
	char *s;

	if (!starts(t, "1.."))
		return 0;
	s = t + 3;
	if (!*s || *s == '#' || is_blank(*s))
		return -1;
	s = parse_num(s, n);
	if (!s || (*s && *s != '#' && !is_blank(*s)))
		return 0;
	s = skip_blanks(s);
	*skip = false;
	*reason = "";
	if (*s == '#') {
		parse_directive(s + 1, &r);
		*skip = r.directive && !strcmp(r.directive, "SKIP");
		*reason = r.reason;
	}
	return 1;
}

static bool is_unit_char(char c)
{
	return is_name_char(c) || c == '/' || c == '%';
}

/*
 * "measure: NAME=VALUE UNIT" (see README.rst, Measurements): 1 when it is
 * one, 0 when it is not, -1 when it starts like one but is malformed.
 * VALUE is stored normalised, so that LAVA, JSON and people read the same.
 */
static int parse_meas(const char *s, struct meas *m)
{
	const char *k, *v, *ip, *fp = NULL, *u;
	size_t kn, in, fn = 0;

	if (!starts(s, "measure:"))
		return 0;
	if (s[8] != ' ')
		return -1;
	k = s + 9;
	for (kn = 0; is_name_char(k[kn]); kn++)
		;
	if (!kn || k[kn] != '=' || kn >= sizeof(m->name))
		return -1;
	v = k + kn + 1;
	ip = v + (*v == '-' || *v == '+');
	for (in = 0; is_digit(ip[in]); in++)
		;
	s = ip + in;
	if (*s == '.') {
		fp = s + 1;
		for (fn = 0; is_digit(fp[fn]); fn++)
			;
		s = fp + fn;
	}
	if (!in && !fn)
		return -1;
	if (*s != ' ')
		return -1;
	u = s + 1;
	for (s = u; is_unit_char(*s); s++)
		;
	if (s == u || *s || (size_t)(s - u) >= sizeof(m->unit))
		return -1;
	while (in > 1 && *ip == '0') {
		ip++;
		in--;
	}
	if (in + fn + 4 > sizeof(m->val))
		return -1;
	memcpy(m->name, k, kn);
	m->name[kn] = '\0';
	if (!in) {
		ip = "0";
		in = 1;
	}
	snprintf(m->val, sizeof(m->val), "%s%.*s%s%.*s",
		 *v == '-' ? "-" : "", (int)in, ip,
		 fn ? "." : "", (int)fn, fn ? fp : "");
	memcpy(m->unit, u, s - u + 1);
	return 1;
}

/* "RUN           fixture.variant.test ..." (kselftest_harness.h) */
static char *parse_run(char *s)
{
	size_t n;

	if (!starts(s, "RUN") || !is_blank(s[3]))
		return NULL;
	s = trim(s + 3);
	n = strlen(s);
	if (n >= 4 && !strcmp(s + n - 4, " ..."))
		s[n - 4] = '\0';
	s = rtrim(s);
	return *s ? s : NULL;
}

/* ---- line handlers ---------------------------------------------------- */

static void check_version(struct ktap_parser *p, bool kunit, unsigned long v)
{
	if ((kunit && v != 1) || (!kunit && v != 13 && v != 14))
		report(p, KTAP_WARNING, p->lineno,
		       "unknown version '%s version %lu', parsing it anyway",
		       kunit ? "KTAP" : "TAP", v);
}

static void on_version(struct ktap_parser *p, int k, int ind)
{
	struct doc *d;

	settle(p, k, ind);
	d = top(p);
	if (d->bailed)
		return;
	if (d->how == BY_SUBTEST && !d->has_version && !d->seen &&
	    d->indent == ind) {
		d->has_version = true;
		return;
	}
	if (p->ndocs == 1 && d->plan >= 0 &&
	    d->nres >= (unsigned long)d->plan) {
		close_root(p);	/* a complete document: a new one follows */
		push(p, BY_ROOT, 0, ind);
		return;
	}
	push(p, BY_VERSION, k, ind);
}

static void on_hash_version(struct ktap_parser *p, int k, int ind, int ind2)
{
	struct doc *d, *child;

	settle(p, k, ind);
	d = top(p);
	if (d->bailed)
		return;
	child = push(p, BY_HASH, k + 1, ind2);
	if (child && d->hint[0])
		child->node->raw = dup_str(p, d->hint);
	d->hint[0] = '\0';
}

static void on_subtest(struct ktap_parser *p, int k, int ind, char *name)
{
	struct doc *d;

	settle(p, k, ind);
	d = top(p);
	if (d->bailed)
		return;
	if (d->how == BY_VERSION && !d->seen && !d->header_name &&
	    d->indent == ind && !d->node->raw) {
		d->node->raw = dup_str(p, name);
		d->header_name = true;
		return;
	}
	d = push(p, BY_SUBTEST, k, ind);
	if (!d)
		return;
	d->node->raw = dup_str(p, name);
	d->header_name = true;
}

static void on_plan(struct ktap_parser *p, int k, int ind, unsigned long n,
		    bool skip, const char *reason)
{
	struct doc *d;

	settle(p, k, ind);
	d = top(p);
	if (d->bailed)
		return;
	if (n > MAX_PLAN) {
		report(p, KTAP_BAD_INPUT, p->lineno,
		       "plan 1..%lu is larger than %lu, ignored", n, MAX_PLAN);
		return;
	}
	if (ind > d->indent && d->seen) {
		d = push(p, BY_PLAN, k, ind);
		if (!d)
			return;
	}
	if (d->plan >= 0) {
		report(p, KTAP_WARNING, p->lineno,
		       "second plan line in one document, ignored");
		return;
	}
	d->plan = n;
	d->seen = true;
	if (!n && skip)
		snprintf(d->skip_all, sizeof(d->skip_all), "%s", reason);
	if (n || d->how != BY_ROOT)
		return;
	if (skip)
		report(p, KTAP_INFO, p->lineno, "all tests skipped: %s",
		       *reason ? reason : "(no reason given)");
	else
		report(p, KTAP_WARNING, p->lineno,
		       "plan 1..0 without SKIP: no tests run");
}

static void on_result(struct ktap_parser *p, int k, int ind, struct res *r)
{
	int idx = close_point(p, k, ind);
	struct doc *d;

	if (idx < p->ndocs) {
		close_from(p, idx, r);
		return;
	}
	d = top(p);
	if (p->ndocs > 1 && flat_done(d, r)) {
		close_top(p, r);
		return;
	}
	if (d->bailed)
		return;
	account(p, d, r, false);
	add_count(&d->counts, r->result);
	expect_got(p, d, r->desc);
	free(d->running);
	d->running = NULL;
	ring_add(p, &d->log, p->cur);
	r->log = &d->log;
	queue(p, d, d->node, false, r->desc, r);
	ring_clear(&d->log);
}

static void on_bail(struct ktap_parser *p, int k, int ind, char *reason)
{
	struct res r = {
		.result = KTAP_FAIL,
		.error = true,
		.reason = reason,
		.detail = reason,
	};
	struct doc *d;

	settle(p, k, ind);
	d = top(p);
	if (d->bailed)
		return;
	report(p, KTAP_FAILURE, p->lineno, "Bail out!%s%s",
	       *reason ? " " : "", reason);
	d->bailed = true;
	d->counts.failed++;
	r.num = d->next;
	ring_add(p, &d->log, p->cur);
	r.log = &d->log;
	queue(p, NULL, d->node, false, "bail_out", &r);
	ring_clear(&d->log);
	if (p->ndocs == 1) {
		p->stopped = true;
		snprintf(p->end_reason, sizeof(p->end_reason),
			 "(Bail out! at line %lu)", p->lineno);
	}
}

static struct doc *doc_at(struct ktap_parser *p, int k, int ind)
{
	int i;

	for (i = p->ndocs - 1; i > 0; i--) {
		struct doc *d = p->stack[i];

		if (d->depth < k || (d->depth == k && (d->base || d->indent <= ind)))
			return d;
	}
	return p->stack[0];
}

static void on_diag(struct ktap_parser *p, int k, int ind, char *text)
{
	const char *rest;
	char *body, *run;
	struct meas m;
	struct doc *d;
	bool kunit;
	unsigned long v;
	int ind2, kind;

	if (*text == ' ')
		text++;
	ind2 = indent_of(text, &rest);
	body = (char *)rest;
	if (parse_version(body, &kunit, &v)) {
		check_version(p, kunit, v);
		on_hash_version(p, k, ind, ind2);
		return;
	}
	d = doc_at(p, k, ind);
	if (d->bailed)
		return;
	ring_add(p, &d->log, p->cur);
	kind = parse_meas(body, &m);
	if (kind < 0) {
		report(p, KTAP_WARNING, p->lineno,
		       "malformed measurement, ignored (the form is '# measure: NAME=VALUE UNIT')");
	} else if (kind > 0) {
		if (d->nmeas < MAX_MEAS)
			d->meas[d->nmeas++] = m;
		else
			report(p, KTAP_WARNING, p->lineno,
			       "more than %d measurements for one result, ignored",
			       MAX_MEAS);
	} else if (starts(body, "selftests: ")) {
		snprintf(d->hint, sizeof(d->hint), "%s", body);
	} else {
		run = parse_run(body);
		if (run) {
			free(d->running);
			d->running = dup_str(p, run);
		}
	}
}

static bool try_plan(struct ktap_parser *p, int k, int ind, char *t)
{
	unsigned long n;
	char *reason;
	bool skip;
	int kind = parse_plan(t, &n, &skip, &reason);

	if (kind < 0)
		report(p, KTAP_BAD_INPUT, p->lineno,
		       "unterminated plan '%s': no test count", t);
	else if (kind > 0)
		on_plan(p, k, ind, n, skip, reason);
	return kind != 0;
}

static void handle_line(struct ktap_parser *p, char *s)
{
	int k = 0, depth = top(p)->depth, ind;
	unsigned long n;
	const char *rest;
	struct res r;
	bool kunit;
	char *t;

	while (k < depth && s[0] == '#' && (s[1] == ' ' || !s[1])) {
		s += s[1] ? 2 : 1;
		k++;
	}
	keep_line(p, s);
	ind = indent_of(s, &rest);
	t = (char *)rest;

	if (parse_version(t, &kunit, &n)) {
		check_version(p, kunit, n);
		on_version(p, k, ind);
		return;
	}
	if (try_plan(p, k, ind, t))
		return;
	if (parse_result(t, &r))
		on_result(p, k, ind, &r);
	else if (starts(t, "# Subtest:"))
		on_subtest(p, k, ind, trim(t + 10));
	else if (starts(t, "Bail out!"))
		on_bail(p, k, ind, trim(t + 9));
	else if (t[0] == '#')
		on_diag(p, k, ind, t + 1);
	else	/* console noise: kernel messages go with the running test */
		ring_add(p, &top(p)->log, p->cur);
}

/* ---- prefix and line level -------------------------------------------- */

/* Position of the first "KTAP version N"/"TAP version N" ending the line. */
static long find_version(const char *s)
{
	const char *h;
	bool kunit;
	unsigned long v;

	for (h = s; (h = strstr(h, "TAP version ")); h++) {
		const char *start = h > s && h[-1] == 'K' ? h - 1 : h;

		if (parse_version(start, &kunit, &v))
			return start - s;
	}
	return -1;
}

static bool set_prefix(struct ktap_parser *p, const char *s, size_t len)
{
	const char *q;

	p->pfx = malloc(len + 1);
	if (!p->pfx) {
		p->oom = true;
		return false;
	}
	memcpy(p->pfx, s, len);
	p->pfx[len] = '\0';
	q = p->pfx;
	p->pfx_len = len;
	p->pfx_groups = 0;
	while (*q == '[' && strchr(q, ']')) {
		q = strchr(q, ']') + 1;
		p->pfx_groups++;
	}
	for (p->pfx_spaces = 0; *q == ' '; q++)
		p->pfx_spaces++;
	if (!p->pfx_groups || *q)
		p->pfx_groups = -1;
	return true;
}

/* Like kunit: drop the prefix seen on the version line (timestamps...). */
static char *strip_prefix(struct ktap_parser *p, char *s)
{
	char *q = s;
	int i;

	if (!strncmp(s, p->pfx, p->pfx_len))
		return s + p->pfx_len;
	if (p->pfx_groups <= 0)
		return s;
	for (i = 0; i < p->pfx_groups; i++) {
		if (*q != '[' || !strchr(q, ']'))
			return s;
		q = strchr(q, ']') + 1;
	}
	for (i = 0; i < p->pfx_spaces && *q == ' '; i++)
		q++;
	return q;
}

static const char *end_marker(const char *s)
{
	static const char *const markers[] = {
		"Kernel panic - not syncing",
		"reboot: System halted",
		"reboot: Power down",
		"reboot: Restarting system",
		"List of all partitions:",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(markers); i++)
		if (strstr(s, markers[i]))
			return markers[i];
	return NULL;
}

static long binary_at(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != 0x1b) ||
		    c == 0x7f)
			return i;
	}
	return -1;
}

/* Nothing counts before the first version line; it sets the prefix. */
static void start(struct ktap_parser *p, char *s)
{
	long pos = find_version(s);
	unsigned long v;
	bool kunit;

	if (pos < 0 || !set_prefix(p, s, pos))
		return;
	p->started = true;
	if (!push(p, BY_ROOT, 0, 0))
		p->stopped = true;
	parse_version(s + pos, &kunit, &v);
	check_version(p, kunit, v);
}

void ktap_parser_feed(struct ktap_parser *p, const char *line, size_t len)
{
	const char *mark;
	long pos;
	char *s;

	if (p->stopped || p->finished)
		return;		/* line numbers stay at the point we stopped */
	p->lineno++;
	if (len > p->max_line) {
		report(p, KTAP_BAD_INPUT, p->lineno,
		       "line longer than %zu bytes, ignored", p->max_line);
		return;
	}
	pos = binary_at(line, len);
	if (pos >= 0) {
		if (p->started)
			report(p, KTAP_BAD_INPUT, p->lineno,
			       "binary data (byte 0x%02x at column %ld), line ignored",
			       (unsigned char)line[pos], pos + 1);
		p->binary_seen = true;
		return;
	}
	memcpy(p->work, line, len);
	p->work[len] = '\0';
	s = rtrim(p->work);
	if (!p->started) {
		start(p, s);
		return;
	}
	s = strip_prefix(p, s);
	mark = end_marker(s);
	if (mark) {
		if (p->ndocs) {
			keep_line(p, s);
			ring_add(p, &top(p)->log, p->cur);
		}
		p->stopped = true;
		snprintf(p->end_reason, sizeof(p->end_reason),
			 "(input ends at line %lu: '%s')", p->lineno, mark);
		return;
	}
	if (p->ndocs)
		handle_line(p, s);
}

void ktap_parser_feed_bytes(struct ktap_parser *p, const void *buf, size_t len)
{
	const char *s = buf;

	while (len) {
		const char *nl = memchr(s, '\n', len);
		size_t n = nl ? (size_t)(nl - s) : len;

		if (p->stopped || p->finished)
			return;	/* the rest of the input is drained unread */

		if (!p->overlong && p->blen + n > p->max_line) {
			report(p, KTAP_BAD_INPUT, p->lineno + 1,
			       "line longer than %zu bytes, ignored",
			       p->max_line);
			p->overlong = true;
		}
		if (!p->overlong) {
			memcpy(p->buf + p->blen, s, n);
			p->blen += n;
		}
		if (!nl)
			return;
		if (p->overlong)
			p->lineno++;
		else
			ktap_parser_feed(p, p->buf, p->blen);
		p->overlong = false;
		p->blen = 0;
		s = nl + 1;
		len -= n + 1;
	}
}

int ktap_parser_stopped(const struct ktap_parser *p)
{
	return p->stopped;
}

void ktap_parser_finish(struct ktap_parser *p)
{
	if (p->finished)
		return;
	if (p->blen && !p->overlong)
		ktap_parser_feed(p, p->buf, p->blen);
	p->blen = 0;
	p->finished = true;

	if (!p->started) {
		report(p, KTAP_BAD_INPUT, p->lineno,
		       "no KTAP found: no 'KTAP version 1' or 'TAP version 13/14' line%s",
		       !p->lineno ? " (empty input)" :
		       p->binary_seen ? " (input has binary data)" : "");
	} else {
		if (!p->end_reason[0])
			snprintf(p->end_reason, sizeof(p->end_reason),
				 "(input ends at line %lu)", p->lineno);
		close_from(p, 1, NULL);
		if (p->ndocs)
			close_root(p);
	}
	drain(p);
	set_to(p, NULL);
	if (p->oom)
		report(p, KTAP_BAD_INPUT, p->lineno,
		       "out of memory, some results were not reported");
}

void ktap_parser_counts(const struct ktap_parser *p, struct ktap_counts *c)
{
	*c = p->total;
}

int ktap_parser_status(const struct ktap_parser *p)
{
	if (p->bad || p->oom)
		return 2;
	if (p->failures || p->total.failed || (p->strict && p->warnings))
		return 1;
	return 0;
}

static int exp_cmp(const void *a, const void *b)
{
	const struct exp_ent *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Keep the --expect names in their order, once each, and a sorted index. */
static bool set_expect(struct ktap_parser *p, const char *const *names,
		       size_t n)
{
	struct exp_ent *e;
	size_t i, j, *pos;

	if (!n)
		return true;
	if (n > MAX_EXPECT)
		return false;
	e = calloc(n, sizeof(*e));
	pos = calloc(n, sizeof(*pos));
	p->expect = calloc(n, sizeof(*p->expect));
	if (!e || !pos || !p->expect) {
		free(e);
		free(pos);
		return false;
	}
	for (i = 0; i < n; i++) {
		e[i].name = names[i] ? names[i] : "";
		e[i].idx = i;
	}
	qsort(e, n, sizeof(*e), exp_cmp);
	/* pos[i]: 1 for a repeated name (a later copy of an earlier one) */
	for (i = 1; i < n; i++)
		pos[e[i].idx] = !strcmp(e[i].name, e[i - 1].name);
	for (i = 0; i < n; i++) {
		if (pos[i]) {
			pos[i] = (size_t)-1;
			continue;
		}
		pos[i] = p->nexpect;
		p->expect[p->nexpect] = dup_str(p, names[i]);
		if (!p->expect[p->nexpect++])
			break;
	}
	for (i = 0, j = 0; i < n && !p->oom; i++) {
		if (pos[e[i].idx] == (size_t)-1)
			continue;
		e[j].idx = pos[e[i].idx];
		e[j].name = p->expect[e[j].idx];
		j++;
	}
	free(pos);
	p->exp_sorted = e;
	return !p->oom;
}

struct ktap_parser *ktap_parser_new(const struct ktap_config *cfg,
				    const struct ktap_ops *ops, void *priv)
{
	struct ktap_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->ops = ops;
	p->priv = priv;
	p->strict = cfg && cfg->strict;
	p->max_line = cfg && cfg->max_line ? cfg->max_line : DEFAULT_MAX_LINE;
	p->qtail = &p->qhead;
	p->buf = malloc(p->max_line + 1);
	p->work = malloc(p->max_line + 1);
	if (cfg && cfg->prefix && *cfg->prefix)
		p->prefix_name = component(p, cfg->prefix, 0);
	if (cfg && !set_expect(p, cfg->expect, cfg->nexpect))
		p->oom = true;
	if (!p->buf || !p->work || p->oom) {
		ktap_parser_free(p);
		return NULL;
	}
	return p;
}

void ktap_parser_free(struct ktap_parser *p)
{
	size_t i;

	if (!p)
		return;
	while (p->ndocs)
		doc_free(p->stack[--p->ndocs]);
	while (p->qhead) {
		struct event *ev = p->qhead;

		p->qhead = ev->next;
		event_free(ev);
	}
	node_put(p->set);
	for (i = 0; i < p->names.cap; i++)
		free(p->names.slot[i].name);
	free(p->names.slot);
	for (i = 0; i < p->nexpect; i++)
		free(p->expect[i]);
	free(p->expect);
	free(p->exp_sorted);
	free(p->prefix_name);
	free(p->pfx);
	free(p->buf);
	free(p->work);
	free(p);
}
