// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: configfs. Each directory made under
 * /sys/kernel/config/mhi_vlink is a link to be: its attributes hold the
 * configuration (struct vlink_config, the module parameters' values to
 * begin with), and writing 1 to "live" creates the link with it, 0 removes
 * it. The configuration cannot change while the link is live; rmdir of a
 * live link removes it first. "dev_name" names the link's faux device,
 * mhi-vlink.<id>, whose debugfs directory is mhi_vlink/link<id>.
 */

#include <linux/cleanup.h>
#include <linux/configfs.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include "vlink.h"

/**
 * struct vlink_item - a configfs directory of mhi_vlink
 * @item: its configfs item
 * @lock: protects @cfg and @vl
 * @cfg: configuration of the link
 * @vl: the link while it is live, or NULL
 */
struct vlink_item {
	struct config_item item;
	struct mutex lock;		/* protects cfg and vl */
	struct vlink_config cfg;
	struct vlink *vl;
};

static struct vlink_item *to_vlink_item(struct config_item *item)
{
	return container_of(item, struct vlink_item, item);
}

static ssize_t vlink_item_u32_show(struct config_item *item, char *page,
				   size_t offset)
{
	struct vlink_item *vi = to_vlink_item(item);

	guard(mutex)(&vi->lock);
	return sysfs_emit(page, "%u\n", *(u32 *)((void *)&vi->cfg + offset));
}

static ssize_t vlink_item_u32_store(struct config_item *item, const char *page,
				    size_t count, size_t offset, u32 min, u32 max)
{
	struct vlink_item *vi = to_vlink_item(item);
	u32 val;
	int ret;

	ret = kstrtou32(page, 0, &val);
	if (ret)
		return ret;
	if (val < min || val > max)
		return -EINVAL;

	guard(mutex)(&vi->lock);
	if (vi->vl)
		return -EBUSY;
	*(u32 *)((void *)&vi->cfg + offset) = val;

	return count;
}

static ssize_t vlink_item_bool_show(struct config_item *item, char *page,
				    size_t offset)
{
	struct vlink_item *vi = to_vlink_item(item);

	guard(mutex)(&vi->lock);
	return sysfs_emit(page, "%d\n", *(bool *)((void *)&vi->cfg + offset));
}

static ssize_t vlink_item_bool_store(struct config_item *item, const char *page,
				     size_t count, size_t offset)
{
	struct vlink_item *vi = to_vlink_item(item);
	bool val;
	int ret;

	ret = kstrtobool(page, &val);
	if (ret)
		return ret;

	guard(mutex)(&vi->lock);
	if (vi->vl)
		return -EBUSY;
	*(bool *)((void *)&vi->cfg + offset) = val;

	return count;
}

/* Where each attribute's member is in struct vlink_config */
static const size_t vlink_off_ch_elements = offsetof(struct vlink_config, ch_elements);
static const size_t vlink_off_er_elements = offsetof(struct vlink_config, er_elements);
static const size_t vlink_off_timeout_ms = offsetof(struct vlink_config, timeout_ms);
static const size_t vlink_off_intmod_ms = offsetof(struct vlink_config, intmod_ms);
static const size_t vlink_off_loopback_er = offsetof(struct vlink_config, loopback_er);
static const size_t vlink_off_async_dma = offsetof(struct vlink_config, async_dma);
static const size_t vlink_off_autostart = offsetof(struct vlink_config, autostart);

/* A u32 member of struct vlink_config, refused (-EINVAL) outside min..max */
#define VLINK_CFG_U32(_name, _min, _max)					\
static ssize_t vlink_item_##_name##_show(struct config_item *item,		\
					 char *page)				\
{										\
	return vlink_item_u32_show(item, page, vlink_off_##_name);		\
}										\
static ssize_t vlink_item_##_name##_store(struct config_item *item,		\
					  const char *page, size_t count)	\
{										\
	return vlink_item_u32_store(item, page, count, vlink_off_##_name,	\
				    _min, _max);				\
}										\
CONFIGFS_ATTR(vlink_item_, _name)

/* A bool member of struct vlink_config */
#define VLINK_CFG_BOOL(_name)							\
static ssize_t vlink_item_##_name##_show(struct config_item *item,		\
					 char *page)				\
{										\
	return vlink_item_bool_show(item, page, vlink_off_##_name);		\
}										\
static ssize_t vlink_item_##_name##_store(struct config_item *item,		\
					  const char *page, size_t count)	\
{										\
	return vlink_item_bool_store(item, page, count, vlink_off_##_name);	\
}										\
CONFIGFS_ATTR(vlink_item_, _name)

/* The ranges of vlink_config_check(), but er_elements against ch_elements */
VLINK_CFG_U32(ch_elements, 2, 1024);
VLINK_CFG_U32(er_elements, 12, 8192);
VLINK_CFG_U32(timeout_ms, 1, 600000);
VLINK_CFG_U32(intmod_ms, 0, 1000);
VLINK_CFG_U32(loopback_er, 0, 1);
VLINK_CFG_BOOL(async_dma);
VLINK_CFG_BOOL(autostart);

static ssize_t vlink_item_live_show(struct config_item *item, char *page)
{
	struct vlink_item *vi = to_vlink_item(item);

	guard(mutex)(&vi->lock);
	return sysfs_emit(page, "%d\n", !!vi->vl);
}

static ssize_t vlink_item_live_store(struct config_item *item, const char *page,
				     size_t count)
{
	struct vlink_item *vi = to_vlink_item(item);
	char origin[CONFIGFS_ITEM_NAME_LEN + 16];
	struct vlink *vl;
	bool live;
	int ret;

	ret = kstrtobool(page, &live);
	if (ret)
		return ret;

	guard(mutex)(&vi->lock);
	if (live == !!vi->vl)
		return count;

	if (!live) {
		vlink_destroy(vi->vl);
		vi->vl = NULL;
		return count;
	}

	ret = vlink_config_check(&vi->cfg, config_item_name(item));
	if (ret)
		return ret;

	snprintf(origin, sizeof(origin), "configfs %s", config_item_name(item));
	vl = vlink_create(&vi->cfg, origin);
	if (IS_ERR(vl))
		return PTR_ERR(vl);
	vi->vl = vl;

	return count;
}
CONFIGFS_ATTR(vlink_item_, live);

static ssize_t vlink_item_dev_name_show(struct config_item *item, char *page)
{
	struct vlink_item *vi = to_vlink_item(item);

	guard(mutex)(&vi->lock);
	return sysfs_emit(page, "%s\n", vi->vl ? dev_name(vi->vl->dev) : "none");
}
CONFIGFS_ATTR_RO(vlink_item_, dev_name);

static struct configfs_attribute *vlink_item_attrs[] = {
	&vlink_item_attr_ch_elements,
	&vlink_item_attr_er_elements,
	&vlink_item_attr_timeout_ms,
	&vlink_item_attr_intmod_ms,
	&vlink_item_attr_loopback_er,
	&vlink_item_attr_async_dma,
	&vlink_item_attr_autostart,
	&vlink_item_attr_live,
	&vlink_item_attr_dev_name,
	NULL
};

/* The last reference, after rmdir: a live link goes with its directory */
static void vlink_item_release(struct config_item *item)
{
	struct vlink_item *vi = to_vlink_item(item);

	if (vi->vl)
		vlink_destroy(vi->vl);
	mutex_destroy(&vi->lock);
	kfree(vi);
}

static struct configfs_item_operations vlink_item_ops = {
	.release = vlink_item_release,
};

static const struct config_item_type vlink_item_type = {
	.ct_item_ops = &vlink_item_ops,
	.ct_attrs = vlink_item_attrs,
	.ct_owner = THIS_MODULE,
};

static struct config_item *vlink_make_item(struct config_group *group,
					   const char *name)
{
	struct vlink_item *vi;

	vi = kzalloc_obj(*vi);
	if (!vi)
		return ERR_PTR(-ENOMEM);

	mutex_init(&vi->lock);
	vi->cfg = vlink_default_config;
	config_item_init_type_name(&vi->item, name, &vlink_item_type);

	return &vi->item;
}

static struct configfs_group_operations vlink_group_ops = {
	.make_item = vlink_make_item,
};

static const struct config_item_type vlink_group_type = {
	.ct_group_ops = &vlink_group_ops,
	.ct_owner = THIS_MODULE,
};

static struct configfs_subsystem vlink_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf = "mhi_vlink",
			.ci_type = &vlink_group_type,
		},
	},
};

int vlink_configfs_init(void)
{
	config_group_init(&vlink_subsys.su_group);
	mutex_init(&vlink_subsys.su_mutex);

	return configfs_register_subsystem(&vlink_subsys);
}

void vlink_configfs_exit(void)
{
	configfs_unregister_subsystem(&vlink_subsys);
	mutex_destroy(&vlink_subsys.su_mutex);
}
