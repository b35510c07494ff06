// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest: sysfs/debugfs access and the per-test guard that
 * scans the kernel log and the taint flags.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mhi_lt.h"

struct lt_env lt = {
	.deadline_ms = LT_DEADLINE_MS,
	.seed = 1,
};

static const struct {
	int err;
	const char *name;
} lt_errnames[] = {
	{ 0, "OK" },
	{ EPERM, "EPERM" },
	{ ENOENT, "ENOENT" },
	{ EINTR, "EINTR" },
	{ EIO, "EIO" },
	{ ENXIO, "ENXIO" },
	{ E2BIG, "E2BIG" },
	{ EAGAIN, "EAGAIN" },
	{ ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" },
	{ EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" },
	{ ENODEV, "ENODEV" },
	{ EINVAL, "EINVAL" },
	{ ENOSPC, "ENOSPC" },
	{ ERANGE, "ERANGE" },
	{ EPROTO, "EPROTO" },
	{ EBADMSG, "EBADMSG" },
	{ EOVERFLOW, "EOVERFLOW" },
	{ ENOTCONN, "ENOTCONN" },
	{ ETIMEDOUT, "ETIMEDOUT" },
	{ ENOEXEC, "ENOEXEC" },
	{ EKEYREJECTED, "EKEYREJECTED" },
};

/* Name of an errno value, positive or negative. */
const char *lt_errname(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < ARRAY_SIZE(lt_errnames); i++)
		if (lt_errnames[i].err == err)
			return lt_errnames[i].name;
	return "E?";
}

int lt_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(buf, len, "%s", lt.root);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)(n + m) >= len)
		return -ENAMETOOLONG;
	return 0;
}

bool lt_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Read a whole (small) file; NUL-terminates. Returns bytes read or -errno. */
ssize_t lt_read_file(const char *path, char *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;
	int fd;

	if (!len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (done < len - 1) {
		n = read(fd, buf + done, len - 1 - done);
		if (n < 0) {
			n = -errno;
			close(fd);
			buf[done] = '\0';
			return n;
		}
		if (!n)
			break;
		done += n;
	}
	buf[done] = '\0';
	close(fd);
	return done;
}

/* One write() through a fresh file descriptor, as sysfs expects. */
ssize_t lt_write_file(const char *path, const void *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC | (lt.fake ? O_TRUNC : 0));
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

int lt_attr_path(char *buf, size_t len, const char *attr)
{
	return lt_path(buf, len, "/sys/bus/mhi/devices/%s/%s", lt.dev, attr);
}

ssize_t lt_attr_raw(const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	ret = lt_attr_path(path, sizeof(path), attr);
	if (ret)
		return ret;
	return lt_read_file(path, buf, len);
}

/* Read an attribute; it must end with a single "\n", which is removed. */
int lt_attr_get(const char *attr, char *buf, size_t len)
{
	ssize_t n;

	n = lt_attr_raw(attr, buf, len);
	if (n < 0)
		return n;
	if (n == 0 || buf[n - 1] != '\n')
		return -EBADMSG;
	buf[n - 1] = '\0';
	return 0;
}

static int lt_parse_ulong(const char *s, unsigned long *val)
{
	char *end;

	if (!*s || *s == '-' || *s == ' ')
		return -EBADMSG;
	errno = 0;
	*val = strtoul(s, &end, 10);
	if (errno || *end)
		return -EBADMSG;
	return 0;
}

int lt_attr_ulong(const char *attr, unsigned long *val)
{
	char buf[64];
	int ret;

	ret = lt_attr_get(attr, buf, sizeof(buf));
	if (ret)
		return ret;
	return lt_parse_ulong(buf, val);
}

ssize_t lt_attr_put(const char *attr, const void *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	ret = lt_attr_path(path, sizeof(path), attr);
	if (ret)
		return ret;
	return lt_write_file(path, buf, len);
}

/* Write "<val>\n"; 0 when the whole string was taken, else -errno. */
int lt_attr_set_ulong(const char *attr, unsigned long val)
{
	char buf[32];
	ssize_t n;
	int len;

	len = snprintf(buf, sizeof(buf), "%lu\n", val);
	n = lt_attr_put(attr, buf, len);
	if (n < 0)
		return n;
	return n == len ? 0 : -EPROTO;
}

uint64_t lt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void lt_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Run one test: 0 on pass, -errno on failure; *ns gets the write() time. */
int lt_start(uint64_t *ns)
{
	char path[PATH_MAX];
	uint64_t t0;
	ssize_t n;
	int fd, ret;

	ret = lt_attr_path(path, sizeof(path), "start");
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC | (lt.fake ? O_TRUNC : 0));
	if (fd < 0)
		return -errno;
	t0 = lt_now_ns();
	n = write(fd, "1\n", 2);
	if (n < 0)
		ret = -errno;
	else
		ret = n == 2 ? 0 : -EPROTO;
	if (ns)
		*ns = lt_now_ns() - t0;
	close(fd);
	return ret;
}

/*
 * Largest num_tre the device accepts: grow until a value is refused, then
 * bisect. The value in place before the probe is restored. Refusals must be
 * EINVAL; any other error is returned as is.
 */
int lt_probe_capacity(void)
{
	unsigned long prev, lo = 1, hi = 2, mid;
	int ret;

	ret = lt_attr_ulong("num_tre", &prev);
	if (ret)
		return ret;
	ret = lt_attr_set_ulong("num_tre", 1);
	if (ret)
		return ret;
	for (;;) {
		ret = lt_attr_set_ulong("num_tre", hi);
		if (ret == -EINVAL)
			break;
		if (ret)
			goto out;
		lo = hi;
		if (hi >= (1UL << 20)) {
			ret = -EOVERFLOW;
			goto out;
		}
		hi *= 2;
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		ret = lt_attr_set_ulong("num_tre", mid);
		if (!ret)
			lo = mid;
		else if (ret == -EINVAL)
			hi = mid;
		else
			goto out;
	}
	ret = lo;
out:
	lt_attr_set_ulong("num_tre", prev);
	return ret;
}

static int lt_cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * Names under /sys/bus/mhi/devices that @keep accepts, sorted; -errno if
 * there is no bus.
 */
int lt_list_devices(char names[][LT_NAME_LEN], int max, bool (*keep)(const char *name))
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0, ret;
	DIR *dir;

	ret = lt_path(path, sizeof(path), "/sys/bus/mhi/devices");
	if (ret)
		return ret;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && n < max) {
		size_t len = strlen(de->d_name);

		if (!keep(de->d_name) || len >= LT_NAME_LEN)
			continue;
		memcpy(names[n++], de->d_name, len + 1);
	}
	closedir(dir);
	qsort(names, n, LT_NAME_LEN, lt_cmp_names);
	return n;
}

static bool lt_is_loopback_name(const char *name)
{
	return !fnmatch("*_LOOPBACK", name, 0);
}

/* All /sys/bus/mhi/devices/\*_LOOPBACK, sorted; -errno if there is no bus. */
int lt_discover(char names[][LT_NAME_LEN], int max)
{
	return lt_list_devices(names, max, lt_is_loopback_name);
}

bool lt_bus_present(void)
{
	char path[PATH_MAX];

	return !lt_path(path, sizeof(path), "/sys/bus/mhi") && lt_exists(path);
}

/* Pick the device named @want (or the first one); sets lt.dev and lt.cntrl. */
int lt_select(const char *want)
{
	char names[LT_MAX_DEVS][LT_NAME_LEN];
	char *suffix;
	int i, n;

	n = lt_discover(names, LT_MAX_DEVS);
	if (n <= 0)
		return n ? n : -ENODEV;
	for (i = 0; i < n; i++)
		if (!want || !*want || !strcmp(want, names[i]))
			break;
	if (i == n)
		return -ENODEV;
	memcpy(lt.dev, names[i], sizeof(lt.dev));
	memcpy(lt.cntrl, names[i], sizeof(lt.cntrl));
	suffix = strstr(lt.cntrl, "_LOOPBACK");
	if (suffix)
		*suffix = '\0';
	return 0;
}

/*
 * Bound and usable: the driver link appears before probe() runs, the
 * attributes only when it has finished.
 */
bool lt_bound(void)
{
	char path[PATH_MAX];

	if (lt_path(path, sizeof(path), "/sys/bus/mhi/devices/%s/driver", lt.dev) ||
	    !lt_exists(path))
		return false;
	return !lt_attr_path(path, sizeof(path), "status") && lt_exists(path);
}

/* Write @dev to the bind or unbind file of driver @drv on @bus */
static int lt_drv_bind(const char *bus, const char *drv, const char *dev, bool bind)
{
	char path[PATH_MAX];
	ssize_t n;
	int ret;

	ret = lt_path(path, sizeof(path), "/sys/bus/%s/drivers/%s/%s", bus, drv,
		      bind ? "bind" : "unbind");
	if (ret)
		return ret;
	n = lt_write_file(path, dev, strlen(dev));
	return n < 0 ? n : 0;
}

int lt_bind(bool bind)
{
	return lt_drv_bind("mhi", LT_HOST_DRV, lt.dev, bind);
}

int lt_wait_bound(bool bound, unsigned int ms)
{
	uint64_t end = lt_now_ns() + (uint64_t)ms * 1000000ULL;

	for (;;) {
		if (lt_bound() == bound)
			return 0;
		if (lt_now_ns() > end)
			return -ETIMEDOUT;
		lt_sleep_ms(10);
	}
}

/* Make sure mhi_loopback is bound to the device (after a test broke it). */
int lt_ensure_bound(void)
{
	char path[PATH_MAX];
	int ret;

	if (lt_bound())
		return 0;
	ret = lt_path(path, sizeof(path), "/sys/bus/mhi/devices/%s", lt.dev);
	if (ret)
		return ret;
	if (!lt_exists(path))
		return -ENODEV;
	if (lt.fake)
		return -ENODEV;
	if (lt_mod_state(LT_HOST_DRV) == LT_MOD_ABSENT) {
		if (!lt.may_load)
			return -ENODEV;
		ret = lt_mod_load(LT_HOST_DRV);
		if (ret && ret != -EEXIST)
			return ret;
	} else {
		lt_bind(true);
	}
	return lt_wait_bound(true, 10000);
}

static int lt_first_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	char *nl;

	n = lt_read_file(path, buf, len);
	if (n < 0)
		return n;
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

/*
 * Find the mhi_vlink debugfs directory whose "host" file names the selected
 * device's controller, and the EP LOOPBACK device on the other side.
 */
void lt_map_vlink(void)
{
	char pattern[PATH_MAX], path[PATH_MAX], line[LT_NAME_LEN];
	glob_t gl;
	size_t i;
	char *slash;

	lt.vlink[0] = '\0';
	lt.epdev[0] = '\0';
	if (lt_path(pattern, sizeof(pattern), "/sys/kernel/debug/mhi_vlink/link*/host"))
		return;
	if (glob(pattern, 0, NULL, &gl))
		return;
	for (i = 0; i < gl.gl_pathc; i++) {
		if (lt_first_line(gl.gl_pathv[i], line, sizeof(line)))
			continue;
		if (strcmp(line, lt.cntrl))
			continue;
		snprintf(lt.vlink, sizeof(lt.vlink), "%s", gl.gl_pathv[i]);
		slash = strrchr(lt.vlink, '/');
		if (slash)
			*slash = '\0';
		break;
	}
	globfree(&gl);
	if (!lt.vlink[0])
		return;
	if (snprintf(path, sizeof(path), "%s/endpoint", lt.vlink) >= (int)sizeof(path))
		return;
	if (lt_first_line(path, line, sizeof(line)) || !line[0])
		return;
	if (strlen(line) + sizeof("_LOOPBACK") > sizeof(lt.epdev))
		return;
	snprintf(lt.epdev, sizeof(lt.epdev), "%s_LOOPBACK", line);
}

bool lt_ep_bound(void)
{
	char path[PATH_MAX];

	if (!lt.epdev[0])
		return false;
	if (lt_path(path, sizeof(path), "/sys/bus/mhi_ep/devices/%s/driver", lt.epdev))
		return false;
	return lt_exists(path);
}

int lt_wait_ep_bound(unsigned int ms)
{
	uint64_t end = lt_now_ns() + (uint64_t)ms * 1000000ULL;

	while (!lt_ep_bound()) {
		if (lt_now_ns() > end)
			return -ETIMEDOUT;
		lt_sleep_ms(10);
	}
	return 0;
}

int lt_ep_bind(bool bind)
{
	if (!lt.epdev[0])
		return -ENOENT;
	return lt_drv_bind("mhi_ep", LT_EP_DRV, lt.epdev, bind);
}

/*
 * A knob of the link, or with an "ep:" prefix one of the endpoint echo
 * client (its debugfs directory is named after the endpoint device).
 */
int lt_knob_path(char *buf, size_t len, const char *knob)
{
	if (!strncmp(knob, LT_EP_KNOB, strlen(LT_EP_KNOB))) {
		if (!lt.epdev[0])
			return -ENOENT;
		return lt_path(buf, len, "/sys/kernel/debug/%s/%s/%s", LT_EP_DRV,
			       lt.epdev, knob + strlen(LT_EP_KNOB));
	}
	if (!lt.vlink[0])
		return -ENOENT;
	if (snprintf(buf, len, "%s/%s", lt.vlink, knob) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

bool lt_knob_present(const char *knob)
{
	char path[PATH_MAX];

	return !lt_knob_path(path, sizeof(path), knob) && lt_exists(path);
}

int lt_knob_set(const char *knob, unsigned long val)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int ret, len;

	ret = lt_knob_path(path, sizeof(path), knob);
	if (ret)
		return ret;
	len = snprintf(buf, sizeof(buf), "%lu\n", val);
	n = lt_write_file(path, buf, len);
	if (n < 0)
		return n;
	return n == len ? 0 : -EPROTO;
}

/* A file holding one unsigned number (and a newline) */
static int lt_read_ulong(const char *path, unsigned long *val)
{
	char buf[64], *nl;
	ssize_t n;

	n = lt_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return lt_parse_ulong(buf, val);
}

/* Write the word @what to the debugfs file @knob: 0 or the write's -errno */
int lt_knob_write(const char *knob, const char *what)
{
	char path[PATH_MAX];
	ssize_t n;
	int ret;

	ret = lt_knob_path(path, sizeof(path), knob);
	if (ret)
		return ret;
	n = lt_write_file(path, what, strlen(what));
	if (n < 0)
		return n;
	return n == (ssize_t)strlen(what) ? 0 : -EPROTO;
}

/* "up", "down", "shutdown" or "cycle" to the link's power control */
int lt_vlink_power(const char *what)
{
	return lt_knob_write("power", what);
}

int lt_knob_get(const char *knob, unsigned long *val)
{
	char path[PATH_MAX];
	int ret;

	ret = lt_knob_path(path, sizeof(path), knob);
	return ret ? ret : lt_read_ulong(path, val);
}

/* Value of "key=value" in the file @path */
static int lt_read_key(const char *path, const char *key, unsigned long long *val)
{
	char buf[4096], *line, *save = NULL, *end;
	size_t klen = strlen(key);
	ssize_t n;

	n = lt_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, klen) || line[klen] != '=')
			continue;
		errno = 0;
		*val = strtoull(line + klen + 1, &end, 10);
		if (errno || end == line + klen + 1 || *end)
			return -EBADMSG;
		return 0;
	}
	return -ENOENT;
}

/* Value of "key=value" in the stats file of the link or ("ep:") the echo client */
int lt_vlink_stat(const char *key, unsigned long long *val)
{
	char path[PATH_MAX];
	int ret;

	if (!strncmp(key, LT_EP_KNOB, strlen(LT_EP_KNOB))) {
		ret = lt_knob_path(path, sizeof(path), LT_EP_KNOB "stats");
		key += strlen(LT_EP_KNOB);
	} else {
		ret = lt_knob_path(path, sizeof(path), "stats");
	}
	return ret ? ret : lt_read_key(path, key, val);
}

/* Value of "key=value" in the state file of the link */
int lt_vlink_state(const char *key, unsigned long long *val)
{
	char path[PATH_MAX];
	int ret;

	ret = lt_knob_path(path, sizeof(path), "state");
	return ret ? ret : lt_read_key(path, key, val);
}

/* A test hook of the echo client's probe(), in its top debugfs directory */
int lt_ep_hook_set(const char *hook, unsigned long val)
{
	char path[PATH_MAX], buf[32];
	int len = snprintf(buf, sizeof(buf), "%lu\n", val);
	ssize_t n;
	int ret;

	ret = lt_path(path, sizeof(path), "/sys/kernel/debug/%s/%s", LT_EP_DRV, hook);
	if (ret)
		return ret;
	n = lt_write_file(path, buf, len);
	return n < 0 ? n : n == len ? 0 : -EPROTO;
}

bool lt_ep_hook_present(const char *hook)
{
	char path[PATH_MAX];

	return !lt_path(path, sizeof(path), "/sys/kernel/debug/%s/%s", LT_EP_DRV, hook) &&
	       lt_exists(path);
}

static const char * const lt_knobs[] = {
	"drop_echo", "corrupt_echo", "echo_skip", "corrupt_offset", "corrupt_len",
	"delay_echo_ms", "fail_dma", "fail_ul_event", "msi_delay_us", "hold_echo",
	LT_EP_KNOB "truncate_echo", LT_EP_KNOB "extend_echo", LT_EP_KNOB "duplicate_echo",
	LT_EP_KNOB "reorder_echo", LT_EP_KNOB "oversize_echo", LT_EP_KNOB "fault_skip",
	LT_EP_KNOB "fault_len",
};

static const char * const lt_ep_hooks[] = { "probe_delay_ms", "fail_probe" };

void lt_knobs_disarm(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lt_knobs); i++)
		if (lt_knob_present(lt_knobs[i]))
			lt_knob_set(lt_knobs[i], 0);
	for (i = 0; i < ARRAY_SIZE(lt_ep_hooks); i++)
		if (lt_ep_hook_present(lt_ep_hooks[i]))
			lt_ep_hook_set(lt_ep_hooks[i], 0);
}

int lt_module_param(const char *mod, const char *param, unsigned long *val)
{
	char path[PATH_MAX];
	int ret;

	ret = lt_path(path, sizeof(path), "/sys/module/%s/parameters/%s", mod, param);
	return ret ? ret : lt_read_ulong(path, val);
}

static const char * const lt_shape_names[] = {
	[LT_SHAPE_SAME] = "same",
	[LT_SHAPE_SPLIT] = "split",
	[LT_SHAPE_COALESCE] = "coalesce",
};

const char *lt_shape_name(int shape)
{
	return shape >= 0 && shape <= LT_SHAPE_COALESCE ? lt_shape_names[shape] : "?";
}

/* The echo client's echo_shape parameter: an enum lt_shape, or -errno */
int lt_echo_shape(void)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int i, ret;

	ret = lt_path(path, sizeof(path), "/sys/module/%s/parameters/echo_shape", LT_EP_DRV);
	if (ret)
		return ret;
	n = lt_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	buf[strcspn(buf, "\n")] = '\0';
	for (i = 0; i <= LT_SHAPE_COALESCE; i++)
		if (!strcmp(buf, lt_shape_names[i]))
			return i;
	return -EPROTO;
}

/* Counts the DL buffer writes of an echo, and keeps write @want */
struct lt_writes {
	unsigned long want, n;
	unsigned long long off;
	unsigned long len;
	unsigned long bufs;	/* coalesced buffers of more than one chunk */
};

static void lt_write_add(struct lt_writes *w, unsigned long long off, unsigned long len)
{
	if (w->n == w->want) {
		w->off = off;
		w->len = len;
	}
	w->n++;
}

/* A DL buffer of @len bytes at @off: one write per DL TRE of @size bytes */
static void lt_buf_add(struct lt_writes *w, unsigned long long off, unsigned long len,
		       unsigned long size)
{
	do {
		unsigned long n = len < size ? len : size;

		lt_write_add(w, off, n);
		off += n;
		len -= n;
	} while (len);
}

static void lt_echo_walk(int shape, unsigned long size, unsigned long num,
			 struct lt_writes *w)
{
	unsigned long long off = 0, run_off = 0;
	unsigned long t, in, c, p, run = 0, chunks = 0;

	for (t = 0; t < num; t++) {
		for (in = 0; in < size; in += c, off += c) {
			c = size - in < LT_EP_CHUNK ? size - in : LT_EP_CHUNK;
			switch (shape) {
			case LT_SHAPE_SPLIT:
				for (p = 0; p < c; p += LT_EP_PIECE)
					lt_write_add(w, off + p,
						     c - p < LT_EP_PIECE ? c - p : LT_EP_PIECE);
				break;
			case LT_SHAPE_COALESCE:
				if (run + c > LT_EP_COALESCE_MAX) {
					lt_buf_add(w, run_off, run, size);
					w->bufs += chunks > 1;
					run = 0;
					chunks = 0;
				}
				if (!run)
					run_off = off;
				run += c;
				chunks++;
				break;
			default:
				lt_write_add(w, off, c);
			}
		}
	}
	if (run) {
		lt_buf_add(w, run_off, run, size);
		w->bufs += chunks > 1;
	}
}

/*
 * The DL writes of the echo of a start of @num TREs of @size bytes under
 * @shape, each one DL TRE the endpoint writes (what the link's echo knobs
 * count): the endpoint core reads each TRE in chunks of LT_EP_CHUNK bytes
 * at most; same echoes each chunk as one DL buffer, split as pieces of
 * LT_EP_PIECE bytes at most, coalesce merges the longest runs of chunks
 * that fit in LT_EP_COALESCE_MAX bytes (the whole echo arrives well within
 * the client's idle time), and a buffer takes a DL TRE of @size bytes for
 * each @size bytes of it. Returns the number of writes; @off and @len get
 * those of write @j when there is one.
 */
unsigned long lt_dl_write(int shape, unsigned long size, unsigned long num,
			  unsigned long j, unsigned long long *off, unsigned long *len)
{
	struct lt_writes w = { .want = j };

	lt_echo_walk(shape, size, num, &w);
	if (j < w.n) {
		*off = w.off;
		*len = w.len;
	}
	return w.n;
}

/* The DL buffers coalesce copies for a start: runs of more than one chunk */
unsigned long lt_coalesced_bufs(unsigned long size, unsigned long num)
{
	struct lt_writes w = { .want = ULONG_MAX };

	lt_echo_walk(LT_SHAPE_COALESCE, size, num, &w);
	return w.bufs;
}

/* xorshift32: reproducible from the printed seed, never returns 0 state. */
uint32_t lt_rand(uint32_t *state)
{
	uint32_t x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

unsigned long lt_env_ulong(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end)
		return def;
	return v;
}

/*
 * Kernel log and taint guard. Each test writes a marker to /dev/kmsg when it
 * begins; when it ends every record logged since then is checked for signs
 * of a kernel bug. Errors that the tests provoke on purpose (a client's
 * dev_err for a refused value, endpoint errors under fault injection) are
 * not in this list.
 */
static const char * const lt_bad_patterns[] = {
	"BUG:",
	"WARNING:",
	"Oops",
	"KASAN",
	"KFENCE",
	"UBSAN",
	"DMA-API",
	"possible circular locking",
	"possible recursive locking",
	"inconsistent lock state",
	"suspicious RCU usage",
	"lockdep",
	"blocked for more than",
	"soft lockup",
	"hard LOCKUP",
	"detected stall",
	"kmemleak",
	"refcount_t",
	"list_add corruption",
	"list_del corruption",
	/* the endpoint core refused a host write pointer (a stale doorbell) */
	"outside the ring",
};

#define LT_MARKER		"mhi_loopback_test:"
#define LT_TAINT_IGNORED	((1UL << 12) | (1UL << 13) | (1UL << 18))
#define LT_KMSG_PRINT_MAX	64
#define LT_KMSG_CONTEXT		12

/*
 * With a fake tree (tests of this program) the log is a regular file,
 * <root>/dev/kmsg, read from its start, so that canned records are scanned.
 */
static const char *lt_kmsg_path(char *buf, size_t len)
{
	if (!lt.fake)
		return "/dev/kmsg";
	return lt_path(buf, len, "/dev/kmsg") ? "" : buf;
}

static void lt_kmsg_mark(const char *what, const char *name)
{
	char buf[256], path[PATH_MAX];
	int fd, len;

	fd = open(lt_kmsg_path(path, sizeof(path)), O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return;
	len = snprintf(buf, sizeof(buf), LT_MARKER " %s %s\n", what, name);
	if (len > 0 && len < (int)sizeof(buf) && write(fd, buf, len) < 0)
		ksft_print_msg("kmsg: marker not written: %s\n", strerror(errno));
	close(fd);
}

static int lt_read_taint(unsigned long *taint)
{
	char buf[64];
	char *end;
	ssize_t n;

	n = lt_read_file("/proc/sys/kernel/tainted", buf, sizeof(buf));
	if (n < 0)
		return n;
	errno = 0;
	*taint = strtoul(buf, &end, 10);
	if (errno || (*end && *end != '\n'))
		return -EBADMSG;
	return 0;
}

void lt_guard_begin(struct lt_guard *g, const char *name)
{
	char path[PATH_MAX];

	snprintf(g->name, sizeof(g->name), "%s", name);
	g->taint_ok = !lt_read_taint(&g->taint);
	g->kmsg = open(lt_kmsg_path(path, sizeof(path)), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (g->kmsg < 0) {
		ksft_print_msg("kmsg: not scanned: %s\n", strerror(errno));
	} else if (!lt.fake && lseek(g->kmsg, 0, SEEK_END) < 0) {
		ksft_print_msg("kmsg: not scanned: %s\n", strerror(errno));
		close(g->kmsg);
		g->kmsg = -1;
	}
	lt_kmsg_mark("begin", g->name);
}

static bool lt_bad_line(const struct lt_guard *g, const char *msg)
{
	size_t i;

	if (!strncmp(msg, LT_MARKER, sizeof(LT_MARKER) - 1))
		return false;
	for (i = 0; i < ARRAY_SIZE(lt_bad_patterns); i++) {
		if (g->ignore_kmemleak && !strcmp(lt_bad_patterns[i], "kmemleak"))
			continue;
		if (strstr(msg, lt_bad_patterns[i]))
			return true;
	}
	return false;
}

struct lt_scan {
	int hits, printed, context;
};

/* One log line: "prio,seq,time,flags;text" (continuation lines start with ' '). */
static void lt_kmsg_line(const struct lt_guard *g, struct lt_scan *sc, const char *line)
{
	const char *msg;

	if (line[0] == ' ')
		return;
	msg = strchr(line, ';');
	if (!msg)
		return;
	msg++;
	if (lt_bad_line(g, msg)) {
		sc->hits++;
		sc->context = LT_KMSG_CONTEXT;
		if (sc->printed++ < LT_KMSG_PRINT_MAX)
			ksft_print_msg("kmsg-hit: %s\n", msg);
	} else if (sc->context) {
		sc->context--;
		if (sc->printed++ < LT_KMSG_PRINT_MAX)
			ksft_print_msg("kmsg-ctx: %s\n", msg);
	}
}

/*
 * /dev/kmsg returns one record per read(); a plain file (fake tree) returns
 * many lines per read(), so split on newlines and carry partial lines over.
 */
static int lt_kmsg_scan(struct lt_guard *g)
{
	static char buf[2 * 8192 + 1];
	struct lt_scan sc = { 0 };
	size_t have = 0;
	char *line, *nl;
	int lost = 0;
	ssize_t n;

	for (;;) {
		n = read(g->kmsg, buf + have, sizeof(buf) - 1 - have);
		if (n < 0) {
			if (errno == EPIPE && lost < 1000) {
				lost++;		/* overwritten records; go on */
				continue;
			}
			if (errno == EINTR)
				continue;
			break;			/* EAGAIN: nothing more */
		}
		if (!n)
			break;
		have += n;
		buf[have] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			lt_kmsg_line(g, &sc, line);
			line = nl + 1;
		}
		have = buf + have - line;
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0;		/* absurdly long line: drop it */
	}
	if (have) {
		buf[have] = '\0';
		lt_kmsg_line(g, &sc, buf);
	}
	if (lost)
		ksft_print_msg("kmsg: log overrun %d time(s), records were lost\n", lost);
	if (sc.printed > LT_KMSG_PRINT_MAX)
		ksft_print_msg("kmsg: %d more line(s) not shown\n",
			       sc.printed - LT_KMSG_PRINT_MAX);
	return sc.hits;
}

/* Number of problems found since lt_guard_begin(); they are printed. */
int lt_guard_end(struct lt_guard *g)
{
	unsigned long taint, gained;
	int problems = 0;

	if (g->kmsg >= 0) {
		problems += lt_kmsg_scan(g);
		close(g->kmsg);
		g->kmsg = -1;
	}
	if (g->taint_ok && !lt_read_taint(&taint)) {
		gained = taint & ~g->taint & ~LT_TAINT_IGNORED;
		if (gained) {
			ksft_print_msg("taint-hit: kernel taint gained 0x%lx (now 0x%lx)\n",
				       gained, taint);
			problems++;
		}
	}
	lt_kmsg_mark("end", g->name);
	return problems;
}
