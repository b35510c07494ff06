// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest: links of mhi_vlink made at run time in configfs
 * (/sys/kernel/config/mhi_vlink/<name>, Documentation/mhi/loopback.rst).
 * Their directories, attributes and faux devices, and the selection of the
 * LOOPBACK device of such a link.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mhi_lt.h"

#define LT_CFS_ROOT		"/sys/kernel/config"
#define LT_CFS_DIR		LT_CFS_ROOT "/mhi_vlink"

/* @buf: the path of attribute @attr of link directory @link ("" for it) */
static int lt_cfs_path(char *buf, size_t len, const char *link, const char *attr)
{
	return lt_path(buf, len, LT_CFS_DIR "/%s%s%s", link, *attr ? "/" : "", attr);
}

/* configfs is a module on the rig's kernels: mount it once mhi_vlink loaded it */
int lt_cfs_mount(void)
{
	char path[PATH_MAX];
	int ret;

	ret = lt_path(path, sizeof(path), LT_CFS_DIR);
	if (ret || lt_exists(path))
		return ret;
	ret = lt_path(path, sizeof(path), LT_CFS_ROOT);
	if (ret)
		return ret;
	if (mount("configfs", path, "configfs", 0, NULL) && errno != EBUSY)
		return -errno;
	ret = lt_path(path, sizeof(path), LT_CFS_DIR);
	if (ret)
		return ret;
	return lt_exists(path) ? 0 : -ENOENT;
}

int lt_cfs_mkdir(const char *link)
{
	char path[PATH_MAX];
	int ret;

	ret = lt_cfs_path(path, sizeof(path), link, "");
	if (ret)
		return ret;
	return mkdir(path, 0755) ? -errno : 0;
}

/* rmdir of a live link removes the link as well */
int lt_cfs_rmdir(const char *link)
{
	char path[PATH_MAX];
	int ret;

	ret = lt_cfs_path(path, sizeof(path), link, "");
	if (ret)
		return ret;
	return rmdir(path) ? -errno : 0;
}

int lt_cfs_write(const char *link, const char *attr, const char *val)
{
	char path[PATH_MAX];
	ssize_t n;
	int ret;

	ret = lt_cfs_path(path, sizeof(path), link, attr);
	if (ret)
		return ret;
	n = lt_write_file(path, val, strlen(val));
	return n < 0 ? n : 0;
}

/* The value of an attribute, without its "\n" */
int lt_cfs_read(const char *link, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int ret;

	ret = lt_cfs_path(path, sizeof(path), link, attr);
	if (ret)
		return ret;
	n = lt_read_file(path, buf, len);
	if (n < 0)
		return n;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* /sys/bus/faux/devices/<dev_name>: the device of a live link */
bool lt_cfs_faux_exists(const char *dev_name)
{
	char path[PATH_MAX];

	return !lt_path(path, sizeof(path), "/sys/bus/faux/devices/%s", dev_name) &&
	       lt_exists(path);
}

/* Links of mhi_vlink now, of the module and of configfs: their faux devices */
int lt_cfs_count_links(void)
{
	char pattern[PATH_MAX];
	glob_t gl;
	int n;

	if (lt_path(pattern, sizeof(pattern), "/sys/bus/faux/devices/mhi-vlink.*"))
		return -ENAMETOOLONG;
	if (glob(pattern, 0, NULL, &gl))
		return 0;
	n = gl.gl_pathc;
	globfree(&gl);
	return n;
}

/*
 * Select the LOOPBACK device of link @dev_name (mhi-vlink.<id>, its debugfs
 * directory link<id> names its host controller), once it is bound.
 */
int lt_cfs_select(const char *dev_name)
{
	char path[PATH_MAX], cntrl[LT_NAME_LEN], dev[LT_NAME_LEN + 16];
	const char *id = strrchr(dev_name, '.');
	uint64_t end;
	ssize_t n;
	int ret;

	if (!id)
		return -EINVAL;
	ret = lt_path(path, sizeof(path), "/sys/kernel/debug/mhi_vlink/link%s/host", id + 1);
	if (ret)
		return ret;
	n = lt_read_file(path, cntrl, sizeof(cntrl));
	if (n <= 1)
		return n < 0 ? n : -ENODEV;
	cntrl[strcspn(cntrl, "\n")] = '\0';
	snprintf(dev, sizeof(dev), "%s_LOOPBACK", cntrl);
	/* the host core adds the channel devices after mission mode */
	end = lt_now_ns() + 10000000000ULL;
	while ((ret = lt_select(dev)) == -ENODEV && lt_now_ns() < end)
		lt_sleep_ms(10);
	if (!ret && !lt_cntrl_is_vlink(lt.cntrl))
		ret = -ENODEV;
	if (!ret)
		ret = lt_wait_bound(true, 10000);
	if (ret)
		return ret;
	lt_map_vlink();
	return lt.vlink[0] ? 0 : -ENOENT;
}
