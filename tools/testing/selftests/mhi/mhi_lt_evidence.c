// SPDX-License-Identifier: GPL-2.0
/*
 * Evidence that a start moved the data, checked without trusting the host
 * client's own verdict:
 *
 * - the client's per-start report (debugfs, not ABI) gives the seed of the
 *   pattern it sent and the CRC-32 of the bytes that came back; this file
 *   regenerates the pattern from the seed and computes the CRC itself;
 * - the MHI host core's debugfs gives the write pointers of the channels'
 *   rings and the read pointer the device advances on their event ring: the
 *   UL ring must have moved by exactly the TREs the test sent, and the
 *   device must have written events;
 * - the time the start took must be one a real link could need.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mhi_lt.h"

#define LT_GOLDEN	0x9e3779b97f4a7c15ULL

/* The host client's pattern: see mhi_loopback_fill() in the driver. */
static uint64_t lt_pattern_word(uint64_t seed, uint64_t index)
{
	uint64_t z = seed + (index + 1) * LT_GOLDEN;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Slicing-by-8 tables of the reflected CRC-32 polynomial */
static uint32_t lt_crc_table[8][256];

static void lt_crc_init(void)
{
	uint32_t c, i, k;

	if (lt_crc_table[0][1])
		return;
	for (i = 0; i < 256; i++) {
		for (c = i, k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
		lt_crc_table[0][i] = c;
	}
	for (k = 1; k < 8; k++)
		for (i = 0; i < 256; i++)
			lt_crc_table[k][i] = (lt_crc_table[k - 1][i] >> 8) ^
					     lt_crc_table[0][lt_crc_table[k - 1][i] & 0xff];
}

/* CRC-32 (IEEE 802.3), not inverted: start with ~0, invert at the end. */
uint32_t lt_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	lt_crc_init();
	while (len--)
		crc = lt_crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

/* The CRC of eight bytes given as a little-endian word */
static uint32_t lt_crc32_word(uint32_t crc, uint64_t v)
{
	uint32_t lo = (uint32_t)v ^ crc, hi = v >> 32;

	return lt_crc_table[7][lo & 0xff] ^ lt_crc_table[6][(lo >> 8) & 0xff] ^
	       lt_crc_table[5][(lo >> 16) & 0xff] ^ lt_crc_table[4][lo >> 24] ^
	       lt_crc_table[3][hi & 0xff] ^ lt_crc_table[2][(hi >> 8) & 0xff] ^
	       lt_crc_table[1][(hi >> 16) & 0xff] ^ lt_crc_table[0][hi >> 24];
}

uint32_t lt_pattern_crc(unsigned long long seed, unsigned long long len)
{
	unsigned long long index, words = len / 8;
	uint32_t crc = ~0U;
	uint8_t w[8];
	uint64_t v;
	int b;

	lt_crc_init();
	for (index = 0; index < words; index++)
		crc = lt_crc32_word(crc, lt_pattern_word(seed, index));
	if (len % 8) {
		v = lt_pattern_word(seed, words);
		for (b = 0; b < 8; b++)
			w[b] = v >> (8 * b);
		crc = lt_crc32(crc, w, len % 8);
	}
	return ~crc;
}

/* Byte @offset of the stream a start of @seed sends */
unsigned int lt_pattern_byte(unsigned long long seed, unsigned long long offset)
{
	return (lt_pattern_word(seed, offset / 8) >> (8 * (offset % 8))) & 0xff;
}

/* ---- the host client's per-start report ---------------------------------- */

int lt_report_path(char *buf, size_t len)
{
	return lt_path(buf, len, "/sys/kernel/debug/mhi_loopback/%s/last_start", lt.dev);
}

static int lt_report_field(const char *text, const char *key, unsigned long long *val)
{
	size_t klen = strlen(key);
	const char *p = text;
	char *end;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			p += klen + 1;
			if (!strncmp(p, "none", 4)) {
				*val = ULLONG_MAX;
				return 0;
			}
			errno = 0;
			*val = strtoull(p, &end, 0);
			if (errno || end == p || (*end != '\n' && *end))
				return -EINVAL;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

int lt_report_read(struct lt_report *r)
{
	unsigned long long v[10];
	static const char * const keys[] = {
		"seq", "seed", "tre_size", "num_tre", "sent", "received",
		"crc32", "mismatch", "duration_ns", "result",
	};
	char path[PATH_MAX], text[1024];
	ssize_t n;
	size_t i;
	int ret;

	ret = lt_report_path(path, sizeof(path));
	if (ret)
		return ret;
	n = lt_read_file(path, text, sizeof(text));
	if (n < 0)
		return n;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		ret = lt_report_field(text, keys[i], &v[i]);
		if (ret)
			return ret;
	}
	r->seq = v[0];
	r->seed = v[1];
	r->tre_size = v[2];
	r->num_tre = v[3];
	r->sent = v[4];
	r->received = v[5];
	r->crc32 = v[6];
	r->mismatch = v[7];
	r->duration_ns = v[8];
	r->result = (int)(long long)v[9];
	/* the breakdown of the start's time, for the measure group only */
	if (lt_report_field(text, "queue_ns", &r->queue_ns))
		r->queue_ns = 0;
	if (lt_report_field(text, "first_echo_ns", &r->first_echo_ns))
		r->first_echo_ns = 0;
	return 0;
}

/* ---- the host core's view of the rings ------------------------------------ */

/* "NAME(N) state: ... event ring: E base: 0x.. len: 0x.. rp: 0x.. wp: 0x.." */
static int lt_parse_channel(const char *line, const char *name, unsigned int *num,
			    struct lt_ring_pos *pos)
{
	const char *p = strchr(line, '(');
	unsigned int state;

	if (!p || (size_t)(p - line) != strlen(name) || strncmp(line, name, p - line))
		return -ENOENT;
	if (sscanf(p, "(%u) state: 0x%x", num, &state) != 2)
		return -EINVAL;
	p = strstr(line, " event ring: ");
	if (!p || sscanf(p, " event ring: %u base: 0x%llx len: 0x%llx rp: 0x%llx wp: 0x%llx",
			 &pos->er, &pos->base, &pos->len, &pos->rp, &pos->wp) != 5)
		return -EINVAL;
	pos->state = state;
	return 0;
}

static int lt_parse_event_ring(const char *line, unsigned int er, struct lt_ring_pos *pos)
{
	unsigned int idx;
	const char *p;

	if (sscanf(line, "Index: %u", &idx) != 1 || idx != er)
		return -ENOENT;
	p = strstr(line, " base: ");
	if (!p || sscanf(p, " base: 0x%llx len: 0x%llx rp: 0x%llx wp: 0x%llx",
			 &pos->base, &pos->len, &pos->rp, &pos->wp) != 4)
		return -EINVAL;
	pos->er = er;
	return 0;
}

static int lt_read_debugfs(const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int ret;

	ret = lt_path(path, sizeof(path), "/sys/kernel/debug/mhi/%s/%s", lt.cntrl, file);
	if (ret)
		return ret;
	n = lt_read_file(path, buf, len);
	return n < 0 ? (int)n : 0;
}

int lt_rings_read(struct lt_rings *r)
{
	const char *chan = strchr(lt.dev, '_');
	struct lt_ring_pos pos;
	unsigned int num;
	char *text, *line, *save;
	int found = 0, ret;

	memset(r, 0, sizeof(*r));
	if (!chan)
		return -EINVAL;
	chan++;
	text = malloc(LT_DEBUGFS_MAX);
	if (!text)
		return -ENOMEM;
	ret = lt_read_debugfs("channels", text, LT_DEBUGFS_MAX);
	if (ret)
		goto out;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		memset(&pos, 0, sizeof(pos));
		ret = lt_parse_channel(line, chan, &num, &pos);
		if (ret == -ENOENT)
			continue;
		if (ret)
			goto out;
		/* MHI pairs an even UL channel with the odd DL one above it */
		if (num % 2)
			r->dl = pos;
		else
			r->ul = pos;
		found |= num % 2 ? 2 : 1;
	}
	ret = -ENOENT;
	if (found != 3 || !r->ul.len || !r->dl.len)
		goto out;
	ret = lt_read_debugfs("events", text, LT_DEBUGFS_MAX);
	if (ret)
		goto out;
	ret = -ENOENT;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!lt_parse_event_ring(line, r->dl.er, &r->er)) {
			ret = r->er.len ? 0 : -EINVAL;
			break;
		}
	}
out:
	free(text);
	return ret;
}

/* Elements a ring pointer moved from @a to @b, modulo the ring's size. */
static unsigned long long lt_moved(const struct lt_ring_pos *a, const struct lt_ring_pos *b,
				   unsigned long long va, unsigned long long vb)
{
	unsigned long long n = a->len / LT_ELEMENT_SIZE;

	if (!n || a->base != b->base || a->len != b->len)
		return ULLONG_MAX;
	return ((vb - a->base) / LT_ELEMENT_SIZE + n - (va - a->base) / LT_ELEMENT_SIZE) % n;
}

/* ---- one start, checked ----------------------------------------------------- */

/* 0, or -errno with the name of the evidence that could not be read in @what */
static int lt_evidence_begin(struct lt_evidence *ev, const char **what)
{
	int ret;

	memset(ev, 0, sizeof(*ev));
	*what = "the client's last_start report";
	ret = lt_report_read(&ev->report);
	if (ret)
		return ret;
	*what = "the host core's channels file";
	return lt_rings_read(&ev->rings);
}

__printf(3, 4) static int lt_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/*
 * After a start that returned 0 for @num_tre TREs of @tre_size bytes and
 * took @wall_ns in write(): 0 if the evidence agrees, else -EBADMSG and
 * what disagrees in @why.
 */
int lt_evidence_check(struct lt_evidence *ev, unsigned long tre_size,
		      unsigned long num_tre, unsigned long long wall_ns, char *why, size_t len)
{
	unsigned long long total = (unsigned long long)tre_size * num_tre, min_ns, ul, dl, events;
	struct lt_report r;
	struct lt_rings after;
	uint32_t crc;
	int ret;

	ret = lt_report_read(&r);
	if (ret)
		return lt_why(why, len, "no per-start report: %s", lt_errname(ret));
	if (r.seq != ev->report.seq + 1)
		return lt_why(why, len, "report seq %llu after %llu: not one start",
			      r.seq, ev->report.seq);
	if (r.result || r.tre_size != tre_size || r.num_tre != num_tre)
		return lt_why(why, len, "report says result=%d tre_size=%lu num_tre=%lu",
			      r.result, r.tre_size, r.num_tre);
	if (r.sent != total || r.received != total)
		return lt_why(why, len, "%llu bytes sent and %llu received, %llu expected",
			      r.sent, r.received, total);
	crc = lt_pattern_crc(r.seed, total);
	if (crc != r.crc32)
		return lt_why(why, len, "echo CRC-32 0x%08x, pattern's (seed 0x%016llx) 0x%08x",
			      r.crc32, r.seed, crc);
	if (r.mismatch != ULLONG_MAX)
		return lt_why(why, len, "report names a mismatch at byte %llu", r.mismatch);

	min_ns = 2 * total * 1000000000ULL / LT_MAX_LINK_BPS;
	if (min_ns < LT_MIN_START_NS)
		min_ns = LT_MIN_START_NS;
	if (r.duration_ns < min_ns || wall_ns < min_ns)
		return lt_why(why, len,
			      "%llu B both ways in %llu ns (write() %llu ns): faster than any MHI link (%llu ns)",
			      total, r.duration_ns, wall_ns, min_ns);
	if (r.duration_ns > wall_ns)
		return lt_why(why, len, "in-kernel duration %llu ns longer than write() %llu ns",
			      r.duration_ns, wall_ns);

	ret = lt_rings_read(&after);
	if (ret)
		return lt_why(why, len, "host core ring state unreadable: %s", lt_errname(ret));
	ul = lt_moved(&ev->rings.ul, &after.ul, ev->rings.ul.wp, after.ul.wp);
	dl = lt_moved(&ev->rings.dl, &after.dl, ev->rings.dl.wp, after.dl.wp);
	events = lt_moved(&ev->rings.er, &after.er, ev->rings.er.rp, after.er.rp);
	ev->ul_moved = ul;
	ev->dl_moved = dl;
	ev->events = events;
	if (ul == ULLONG_MAX || dl == ULLONG_MAX || events == ULLONG_MAX)
		return lt_why(why, len, "a ring was set up again during the start");
	if (ul != num_tre % (ev->rings.ul.len / LT_ELEMENT_SIZE))
		return lt_why(why, len, "host core: UL ring moved by %llu TREs, %lu sent",
			      ul, num_tre);
	if (!events)
		return lt_why(why, len, "host core: the device wrote no event on event ring %u",
			      after.er.er);
	/* What was read after this start is the state before the next one */
	ev->report = r;
	ev->rings = after;
	return 0;
}

/*
 * Start a test of @num_tre TREs of @tre_size bytes (already set) and check
 * its evidence when it passes: 0, the start's -errno, or -EBADMSG with what
 * disagrees in @why. @ns gets the time write() took.
 */
int lt_start_checked(unsigned long tre_size, unsigned long num_tre, uint64_t *ns,
		     char *why, size_t len)
{
	struct lt_evidence ev = { .chained = false };

	return lt_start_chained(&ev, tre_size, num_tre, ns, why, len);
}

/*
 * The same for a series of starts with nothing else in between, such as a
 * sweep: the state read after a checked start is the state before the next
 * one, so it is read once instead of twice. @ev starts with chained false;
 * after a start that failed or did not check out, the next start reads the
 * state before it again.
 */
int lt_start_chained(struct lt_evidence *ev, unsigned long tre_size, unsigned long num_tre,
		     uint64_t *ns, char *why, size_t len)
{
	const char *what = NULL;
	uint64_t wall = 0;
	char check[256];
	int ret;

	*why = '\0';
	if (lt.fake)
		return lt_start(ns);
	if (!ev->chained) {
		ret = lt_evidence_begin(ev, &what);
		if (ret)
			return lt_why(why, len, "not run: %s unreadable before it: %s (%s)",
				      what, lt_errname(ret),
				      "CONFIG_DEBUG_FS and CONFIG_MHI_BUS_DEBUG needed");
	}
	ev->chained = false;
	ret = lt_start(&wall);
	if (ns)
		*ns = wall;
	if (ret)
		return ret;
	ret = lt_evidence_check(ev, tre_size, num_tre, wall, check, sizeof(check));
	ev->chained = !ret;
	return ret ? lt_why(why, len, "passed, but %s", check) : 0;
}
