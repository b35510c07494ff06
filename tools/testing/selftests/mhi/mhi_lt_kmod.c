// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest: load and unload modules by name.
 *
 * With libkmod (HAVE_LIBKMOD) names are resolved through the depmod indexes
 * of the running kernel and dependencies are loaded first. Without it the
 * text modules.dep is read and the modules are loaded with finit_module(2)
 * and removed with delete_module(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifdef HAVE_LIBKMOD
#include <libkmod.h>
#endif

#include "kselftest.h"
#include "mhi_lt.h"

/* finit_module() flag: the kernel decompresses the module (uapi value). */
#define LT_MODULE_INIT_COMPRESSED_FILE	4

/* delete_module() does not wait for users to go away: retry for this long. */
#define LT_UNLOAD_WAIT_MS		15000
#define LT_UNLOAD_BACKOFF_MIN_MS	20
#define LT_UNLOAD_BACKOFF_MAX_MS	500

enum lt_mod_state lt_mod_state(const char *name)
{
	char path[PATH_MAX], buf[32];

	if (lt_path(path, sizeof(path), "/sys/module/%s", name) || !lt_exists(path))
		return LT_MOD_ABSENT;
	if (lt_path(path, sizeof(path), "/sys/module/%s/initstate", name))
		return LT_MOD_ABSENT;
	if (lt_read_file(path, buf, sizeof(buf)) < 0)
		return LT_MOD_BUILTIN;
	if (!strncmp(buf, "live", 4))
		return LT_MOD_LIVE;
	if (!strncmp(buf, "coming", 6))
		return LT_MOD_COMING;
	return LT_MOD_GOING;
}

static int lt_delete_module(const char *name)
{
	if (syscall(__NR_delete_module, name, O_NONBLOCK))
		return -errno;
	return 0;
}

#ifdef HAVE_LIBKMOD

static struct kmod_ctx *lt_kmod;
static bool lt_kmod_quiet;

static void lt_kmod_log(void *data, int priority, const char *file, int line,
			const char *fn, const char *format, va_list args)
{
	char msg[512];
	size_t len;

	(void)data;
	(void)file;
	(void)line;
	(void)fn;
	if (lt_kmod_quiet)
		return;
	vsnprintf(msg, sizeof(msg), format, args);
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		msg[--len] = '\0';
	ksft_print_msg("libkmod(%d): %s\n", priority, msg);
}

static struct kmod_ctx *lt_kmod_ctx(void)
{
	if (lt_kmod)
		return lt_kmod;
	/* NULL: /lib/modules/$(uname -r) and the default configuration */
	lt_kmod = kmod_new(NULL, NULL);
	if (lt_kmod)
		kmod_set_log_fn(lt_kmod, lt_kmod_log, NULL);
	return lt_kmod;
}

const char *lt_mod_backend(void)
{
	return "libkmod";
}

bool lt_mod_available(const char *name)
{
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
	bool found;

	ctx = lt_kmod_ctx();
	if (!ctx)
		return false;
	lt_kmod_quiet = true;
	if (kmod_module_new_from_name(ctx, name, &mod) < 0) {
		lt_kmod_quiet = false;
		return false;
	}
	found = !!kmod_module_get_path(mod);
	kmod_module_unref(mod);
	lt_kmod_quiet = false;
	return found;
}

static int lt_load(const char *name)
{
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
	int ret;

	ctx = lt_kmod_ctx();
	if (!ctx)
		return -ENOMEM;
	ret = kmod_module_new_from_name(ctx, name, &mod);
	if (ret < 0)
		return ret;
	if (!kmod_module_get_path(mod)) {
		kmod_module_unref(mod);
		return -ENOENT;
	}
	ret = kmod_module_probe_insert_module(mod, KMOD_PROBE_IGNORE_COMMAND |
					      KMOD_PROBE_FAIL_ON_LOADED,
					      NULL, NULL, NULL, NULL);
	kmod_module_unref(mod);
	/* positive values: refused by a modprobe.d blacklist */
	return ret > 0 ? -EPERM : ret;
}

static int lt_unload_once(const char *name)
{
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
	int ret;

	ctx = lt_kmod_ctx();
	if (!ctx)
		return lt_delete_module(name);
	ret = kmod_module_new_from_name(ctx, name, &mod);
	if (ret < 0)
		return ret;
	/* retries are expected: keep libkmod's error lines out of the log */
	lt_kmod_quiet = true;
	ret = kmod_module_remove_module(mod, 0);
	lt_kmod_quiet = false;
	kmod_module_unref(mod);
	return ret;
}

void lt_mod_cleanup(void)
{
	if (lt_kmod)
		kmod_unref(lt_kmod);
	lt_kmod = NULL;
}

#else /* !HAVE_LIBKMOD */

const char *lt_mod_backend(void)
{
	return "syscall";
}

/* "kernel/drivers/x/foo-bar.ko.xz" -> "foo_bar" */
static void lt_modname(const char *path, char *name, size_t len)
{
	const char *base = strrchr(path, '/');
	size_t i;

	base = base ? base + 1 : path;
	for (i = 0; i + 1 < len && base[i] && base[i] != '.'; i++)
		name[i] = base[i] == '-' ? '_' : base[i];
	name[i] = '\0';
}

static int lt_moddir(char *buf, size_t len)
{
	struct utsname u;

	if (uname(&u))
		return -errno;
	if (snprintf(buf, len, "/lib/modules/%s", u.release) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* The modules.dep line of @name (without the trailing newline). */
static int lt_moddep(const char *name, char **line)
{
	char path[PATH_MAX], mod[LT_NAME_LEN];
	size_t cap = 0;
	FILE *f;
	char *colon;
	int ret;

	ret = lt_moddir(path, sizeof(path));
	if (ret)
		return ret;
	if (strlen(path) + sizeof("/modules.dep") > sizeof(path))
		return -ENAMETOOLONG;
	strcat(path, "/modules.dep");
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	*line = NULL;
	ret = -ENOENT;
	while (getline(line, &cap, f) > 0) {
		colon = strchr(*line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		lt_modname(*line, mod, sizeof(mod));
		*colon = ':';
		if (!strcmp(mod, name)) {
			(*line)[strcspn(*line, "\n")] = '\0';
			ret = 0;
			break;
		}
	}
	fclose(f);
	if (ret) {
		free(*line);
		*line = NULL;
	}
	return ret;
}

bool lt_mod_available(const char *name)
{
	char *line;

	if (lt_moddep(name, &line))
		return false;
	free(line);
	return true;
}

static bool lt_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static int lt_finit(const char *relpath)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int fd, ret, flags = 0;

	if (relpath[0] == '/') {
		snprintf(path, sizeof(path), "%s", relpath);
	} else {
		ret = lt_moddir(dir, sizeof(dir));
		if (ret)
			return ret;
		if (snprintf(path, sizeof(path), "%s/%s", dir, relpath) >= (int)sizeof(path))
			return -ENAMETOOLONG;
	}
	if (!lt_has_suffix(path, ".ko"))
		flags = LT_MODULE_INIT_COMPRESSED_FILE;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, "", flags) ? -errno : 0;
	close(fd);
	return ret;
}

/* modprobe light: dependencies (listed last-needed-first) then the module */
static int lt_load(const char *name)
{
	char *line, *deps, *tok[64], *save = NULL, *p;
	int n = 0, ret, i;

	ret = lt_moddep(name, &line);
	if (ret)
		return ret;
	deps = strchr(line, ':');
	*deps++ = '\0';
	for (p = strtok_r(deps, " \t", &save); p && n < 64;
	     p = strtok_r(NULL, " \t", &save))
		tok[n++] = p;
	for (i = n - 1; i >= 0; i--) {
		ret = lt_finit(tok[i]);
		if (ret && ret != -EEXIST) {
			ksft_print_msg("module dependency %s: %s\n", tok[i], strerror(-ret));
			goto out;
		}
	}
	ret = lt_finit(line);
out:
	free(line);
	return ret;
}

static int lt_unload_once(const char *name)
{
	return lt_delete_module(name);
}

void lt_mod_cleanup(void)
{
}

#endif /* HAVE_LIBKMOD */

/*
 * Module loading or unloading is not permitted here, or the kernel has no
 * module support at all (then it has no /proc/modules either).
 */
bool lt_mod_forbidden(int err)
{
	return err == -EPERM || access("/proc/modules", F_OK);
}

/*
 * 0 when loaded now, -EEXIST when it was already loaded (or built in),
 * -ENOENT when the module is unknown, else the loader's -errno
 * (-ENOSYS/-EPERM: module loading is not possible here).
 */
int lt_mod_load(const char *name)
{
	enum lt_mod_state st = lt_mod_state(name);

	if (st != LT_MOD_ABSENT && st != LT_MOD_GOING)
		return -EEXIST;
	return lt_load(name);
}

/* 0 when unloaded, -ENOENT when it was not loaded, else -errno. */
int lt_mod_unload(const char *name)
{
	unsigned int backoff = LT_UNLOAD_BACKOFF_MIN_MS;
	uint64_t end = lt_now_ns() + LT_UNLOAD_WAIT_MS * 1000000ULL;
	int ret;

	if (lt_mod_state(name) == LT_MOD_BUILTIN)
		return -EPERM;
	for (;;) {
		ret = lt_unload_once(name);
		if (ret != -EAGAIN && ret != -EBUSY)
			return ret;
		if (lt_now_ns() > end)
			return ret;
		lt_sleep_ms(backoff);
		backoff *= 2;
		if (backoff > LT_UNLOAD_BACKOFF_MAX_MS)
			backoff = LT_UNLOAD_BACKOFF_MAX_MS;
	}
}
