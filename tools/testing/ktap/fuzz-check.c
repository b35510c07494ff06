// SPDX-License-Identifier: GPL-2.0
/*
 * Validators for the fuzzer: is a JSON document well-formed (RFC 8259),
 * and is an XML document well-formed in the subset report.c writes
 * (prolog, elements, attributes, text, the five entities and &#N;)?
 * Both also insist on valid UTF-8 without stray control characters.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "fuzz-check.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_DEPTH	64

/* Valid UTF-8 with no control character but TAB, LF (and CR for XML). */
static bool text_ok(const unsigned char *s, size_t n, bool cr)
{
	size_t i = 0;

	while (i < n) {
		unsigned int c = s[i], len, cp, k;

		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && !(cr && c == '\r'))
				return false;
			i++;
			continue;
		}
		len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
		if (!len || c > 0xf4 || i + len > n)
			return false;
		cp = c & (0x7f >> len);
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* ---- JSON -------------------------------------------------------------- */

struct jp {
	const char *s, *end;
};

static void ws(struct jp *p)
{
	while (p->s < p->end && strchr(" \t\n\r", *p->s) && *p->s)
		p->s++;
}

static bool lit(struct jp *p, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, w, n))
		return false;
	p->s += n;
	return true;
}

static bool digits(struct jp *p)
{
	const char *b = p->s;

	while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
		p->s++;
	return p->s > b;
}

static bool number(struct jp *p)
{
	if (p->s < p->end && *p->s == '-')
		p->s++;
	if (p->s < p->end && *p->s == '0')
		p->s++;
	else if (!digits(p))
		return false;
	if (p->s < p->end && *p->s == '.') {
		p->s++;
		if (!digits(p))
			return false;
	}
	if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
		p->s++;
		if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
			p->s++;
		if (!digits(p))
			return false;
	}
	return true;
}

static bool string(struct jp *p)
{
	if (p->s >= p->end || *p->s != '"')
		return false;
	for (p->s++; p->s < p->end; p->s++) {
		unsigned char c = *p->s;

		if (c == '"') {
			p->s++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (++p->s >= p->end)
			return false;
		if (*p->s == 'u') {
			int i;

			for (i = 1; i <= 4; i++)
				if (p->s + i >= p->end ||
				    !strchr("0123456789abcdefABCDEF", p->s[i]) ||
				    !p->s[i])
					return false;
			p->s += 4;
		} else if (!strchr("\"\\/bfnrt", *p->s) || !*p->s) {
			return false;
		}
	}
	return false;
}

static bool value(struct jp *p, int depth);

static bool members(struct jp *p, int depth, char close, bool keys)
{
	p->s++;
	ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		return true;
	}
	for (;;) {
		if (keys) {
			if (!string(p))
				return false;
			ws(p);
			if (p->s >= p->end || *p->s++ != ':')
				return false;
		}
		if (!value(p, depth + 1))
			return false;
		ws(p);
		if (p->s >= p->end)
			return false;
		if (*p->s == close) {
			p->s++;
			return true;
		}
		if (*p->s++ != ',')
			return false;
		ws(p);
	}
}

static bool value(struct jp *p, int depth)
{
	ws(p);
	if (depth > MAX_DEPTH || p->s >= p->end)
		return false;
	switch (*p->s) {
	case '{':
		return members(p, depth, '}', true);
	case '[':
		return members(p, depth, ']', false);
	case '"':
		return string(p);
	case 't':
		return lit(p, "true");
	case 'f':
		return lit(p, "false");
	case 'n':
		return lit(p, "null");
	default:
		return number(p);
	}
}

bool json_valid(const char *doc, size_t len)
{
	struct jp p = { doc, doc + len };

	if (!text_ok((const unsigned char *)doc, len, true) || !value(&p, 0))
		return false;
	ws(&p);
	return p.s == p.end;
}

/* ---- XML --------------------------------------------------------------- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* "&amp;" and friends at @s; returns its length, 0 if not one. */
static size_t entity(const char *s, const char *end)
{
	static const char *const ents[] = {
		"&amp;", "&lt;", "&gt;", "&quot;", "&apos;",
	};
	const char *q;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ents); i++)
		if ((size_t)(end - s) >= strlen(ents[i]) &&
		    !memcmp(s, ents[i], strlen(ents[i])))
			return strlen(ents[i]);
	if (end - s < 4 || s[1] != '#')
		return 0;
	for (q = s + 2; q < end && *q >= '0' && *q <= '9'; q++)
		;
	if (q == s + 2 || q >= end || *q != ';' || q - s > 9)
		return 0;
	/* only TAB, LF, CR are written as references */
	if (strncmp(s, "&#9;", 4) && strncmp(s, "&#10;", 5) &&
	    strncmp(s, "&#13;", 5))
		return 0;
	return q - s + 1;
}

static bool chars(const char **sp, const char *end, char stop, bool attr)
{
	const char *s = *sp;

	while (s < end && *s != stop) {
		size_t n;

		if (*s == '<' || (attr && *s == '"'))
			return false;
		if (*s == '&') {
			n = entity(s, end);
			if (!n)
				return false;
			s += n;
		} else {
			s++;
		}
	}
	*sp = s;
	return true;
}

bool xml_valid(const char *doc, size_t len)
{
	const char *s = doc, *end = doc + len, *stack[MAX_DEPTH];
	size_t slen[MAX_DEPTH];
	int depth = 0, roots = 0;
	const char *prolog = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

	if (!text_ok((const unsigned char *)doc, len, false) ||
	    len < strlen(prolog) || memcmp(doc, prolog, strlen(prolog)))
		return false;
	s += strlen(prolog);
	while (s < end) {
		const char *n;
		bool closing;

		if (!chars(&s, end, '<', false))
			return false;
		if (s >= end)
			break;
		if (!depth && roots)
			return false;	/* markup after the root element */
		s++;
		closing = s < end && *s == '/';
		s += closing;
		for (n = s; s < end && name_char(*s); s++)
			;
		if (s == n)
			return false;
		if (closing) {
			if (!depth || slen[depth - 1] != (size_t)(s - n) ||
			    memcmp(stack[depth - 1], n, s - n) ||
			    s >= end || *s++ != '>')
				return false;
			depth--;
			continue;
		}
		if (!depth)
			roots++;
		if (depth >= MAX_DEPTH)
			return false;
		stack[depth] = n;
		slen[depth++] = s - n;
		for (;;) {
			const char *a;

			while (s < end && *s == ' ')
				s++;
			if (s < end && *s == '>') {
				s++;
				break;
			}
			if (end - s >= 2 && s[0] == '/' && s[1] == '>') {
				s += 2;
				depth--;
				break;
			}
			for (a = s; s < end && name_char(*s); s++)
				;
			if (s == a || end - s < 2 || s[0] != '=' || s[1] != '"')
				return false;
			s += 2;
			if (!chars(&s, end, '"', true) || s >= end)
				return false;
			s++;
		}
	}
	/* only blanks after the root */
	return !depth && roots == 1;
}
