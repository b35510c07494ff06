// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: suspend to M3. The link's device is runtime suspended
 * and resumed like the PCI device of a modem under pci_generic: the host
 * core's runtime_get and runtime_put callbacks hold and release it around
 * each transfer, its runtime suspend puts the host controller into M3 with
 * mhi_pm_suspend() and its runtime resume takes it back to M0 with
 * mhi_pm_resume(). The endpoint core follows from MHICTRL: it suspends and
 * resumes its channels and sends the state change events.
 *
 * The faux bus makes its devices "PM not required": they get no runtime
 * PM callbacks and no power/ directory in sysfs. The device that runtime PM
 * suspends is therefore a child of the link's faux device,
 * mhi-vlink.<N>-pm, whose power/control and power/autosuspend_delay_ms
 * work as on any device. The link's debugfs files runtime_pm and
 * autosuspend_ms set the same and suspend or resume the link on demand.
 * Runtime PM starts forbidden ("on"): the link stays in M0 until userspace
 * allows it.
 */

#include <linux/debugfs.h>
#include <linux/dev_printk.h>
#include <linux/fs.h>
#include <linux/pm_runtime.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "vlink.h"

/* The device wake doorbell of the host core (its MHI_DEV_WAKE_DB) */
#define VLINK_WAKE_DB			127
#define VLINK_AUTOSUSPEND_MS		2000

static int vlink_runtime_suspend(struct device *dev)
{
	struct vlink *vl = dev_get_drvdata(dev);
	int ret;

	/* -EBUSY while a transfer or a wake vote is pending: stay active */
	ret = mhi_pm_suspend(vl->host);
	if (ret)
		return ret;

	atomic64_inc(&vl->stats.suspends);

	return 0;
}

static int vlink_runtime_resume(struct device *dev)
{
	struct vlink *vl = dev_get_drvdata(dev);
	int ret;

	ret = mhi_pm_resume(vl->host);
	if (ret) {
		dev_err(dev, "Host did not resume from M3: %d\n", ret);
		return ret;
	}

	atomic64_inc(&vl->stats.resumes);

	return 0;
}

static const struct dev_pm_ops vlink_pm_ops = {
	RUNTIME_PM_OPS(vlink_runtime_suspend, vlink_runtime_resume, NULL)
};

static const struct device_type vlink_pm_type = {
	.name = "mhi-vlink-pm",
	.pm = &vlink_pm_ops,
};

static void vlink_pm_dev_release(struct device *dev)
{
	kfree(dev);
}

/*
 * Host controller callbacks, called with the host's pm_lock held: they only
 * queue a resume or an autosuspend.
 */
int vlink_host_runtime_get(struct mhi_controller *host)
{
	struct vlink *vl = dev_get_drvdata(host->cntrl_dev);

	atomic_inc(&vl->runtime_refs);
	pm_runtime_get(vl->pm_dev);

	return 0;
}

void vlink_host_runtime_put(struct mhi_controller *host)
{
	struct vlink *vl = dev_get_drvdata(host->cntrl_dev);

	pm_runtime_put_autosuspend(vl->pm_dev);
	atomic_dec(&vl->runtime_refs);
}

/* Count the host's votes on the device wake doorbell; reg_lock is held */
void vlink_pm_count_wake(struct vlink *vl, u32 offset, u32 val)
{
	if (offset != CHDB_LOWER_n(VLINK_WAKE_DB))
		return;

	if (val)
		atomic64_inc(&vl->stats.wake_gets);
	else
		atomic64_inc(&vl->stats.wake_puts);
}

/*
 * The device that runtime PM suspends: a child of the link's faux device,
 * which the faux bus makes "PM not required" and so without runtime PM
 * callbacks or a power/ directory. It starts active, with the reference of
 * a link that is down, and forbidden until userspace allows it.
 */
int vlink_pm_init(struct vlink *vl)
{
	struct device *dev;
	int ret;

	dev = kzalloc_obj(*dev);
	if (!dev)
		return -ENOMEM;

	device_initialize(dev);
	dev->parent = vl->dev;
	dev->type = &vlink_pm_type;
	dev->release = vlink_pm_dev_release;
	dev_set_drvdata(dev, vl);
	ret = dev_set_name(dev, "%s-pm", dev_name(vl->dev));
	if (!ret)
		ret = device_add(dev);
	if (ret) {
		put_device(dev);
		return ret;
	}

	vl->pm_dev = dev;
	vl->pm_down_ref = true;
	pm_runtime_get_noresume(dev);
	pm_runtime_set_active(dev);
	pm_runtime_set_autosuspend_delay(dev, VLINK_AUTOSUSPEND_MS);
	pm_runtime_use_autosuspend(dev);
	pm_runtime_forbid(dev);
	pm_runtime_enable(dev);

	return 0;
}

void vlink_pm_exit(struct vlink *vl)
{
	pm_runtime_disable(vl->pm_dev);
	pm_runtime_dont_use_autosuspend(vl->pm_dev);
	device_unregister(vl->pm_dev);
	vl->pm_dev = NULL;
}

/*
 * The link is up: drop the reference that kept it active while it was
 * down. A resume that failed at the power-down before leaves an error that
 * stops runtime PM: the new power cycle starts active without it.
 */
void vlink_pm_up(struct vlink *vl)
{
	lockdep_assert_held(&vl->lock);

	if (!vl->pm_down_ref)
		return;

	pm_runtime_disable(vl->pm_dev);
	pm_runtime_set_active(vl->pm_dev);
	pm_runtime_enable(vl->pm_dev);
	vl->pm_down_ref = false;
	pm_runtime_put_autosuspend(vl->pm_dev);
}

/* The link goes down: resume it from M3 first, and keep it active */
void vlink_pm_down(struct vlink *vl)
{
	lockdep_assert_held(&vl->lock);

	if (vl->pm_down_ref)
		return;

	vl->pm_down_ref = true;
	pm_runtime_get_sync(vl->pm_dev);
}

static int vlink_runtime_pm_show(struct seq_file *s, void *unused)
{
	struct vlink *vl = s->private;
	struct device *dev = vl->pm_dev;

	seq_printf(s, "control=%s\n", dev->power.runtime_auto ? "auto" : "on");
	seq_printf(s, "status=%s\n", dev->power.runtime_status == RPM_ACTIVE ? "active" :
		   dev->power.runtime_status == RPM_SUSPENDED ? "suspended" :
		   dev->power.runtime_status == RPM_SUSPENDING ? "suspending" : "resuming");
	seq_printf(s, "usage=%d\n", atomic_read(&dev->power.usage_count));
	seq_printf(s, "error=%d\n", dev->power.runtime_error);

	return 0;
}

/*
 * "on" forbids runtime PM and resumes the link, "auto" allows it, as
 * power/control does; "suspend" and "resume" do it now, with the error of
 * the PM core or of the host core.
 */
static ssize_t vlink_runtime_pm_write(struct file *file, const char __user *ubuf,
				      size_t count, loff_t *ppos)
{
	struct seq_file *s = file->private_data;
	struct vlink *vl = s->private;
	char buf[16];
	int ret = 0;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	ret = mutex_lock_interruptible(&vl->lock);
	if (ret)
		return ret;

	if (sysfs_streq(buf, "on"))
		pm_runtime_forbid(vl->pm_dev);
	else if (sysfs_streq(buf, "auto"))
		pm_runtime_allow(vl->pm_dev);
	else if (sysfs_streq(buf, "suspend"))
		ret = vl->up ? pm_runtime_suspend(vl->pm_dev) : -ENODEV;
	else if (sysfs_streq(buf, "resume"))
		ret = vl->up ? pm_runtime_resume(vl->pm_dev) : -ENODEV;
	else
		ret = -EINVAL;
	mutex_unlock(&vl->lock);

	return ret < 0 ? ret : count;
}

static int vlink_runtime_pm_open(struct inode *inode, struct file *file)
{
	return single_open(file, vlink_runtime_pm_show, inode->i_private);
}

static const struct file_operations vlink_runtime_pm_fops = {
	.owner = THIS_MODULE,
	.open = vlink_runtime_pm_open,
	.read = seq_read,
	.write = vlink_runtime_pm_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int vlink_autosuspend_get(void *data, u64 *val)
{
	struct vlink *vl = data;

	*val = READ_ONCE(vl->pm_dev->power.autosuspend_delay);

	return 0;
}

static int vlink_autosuspend_set(void *data, u64 val)
{
	struct vlink *vl = data;

	if (val > INT_MAX)
		return -EINVAL;

	pm_runtime_set_autosuspend_delay(vl->pm_dev, val);

	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vlink_autosuspend_fops, vlink_autosuspend_get, vlink_autosuspend_set,
			 "%llu\n");

void vlink_pm_debugfs_init(struct vlink *vl)
{
	debugfs_create_file("runtime_pm", 0600, vl->debugfs, vl, &vlink_runtime_pm_fops);
	debugfs_create_file_unsafe("autosuspend_ms", 0600, vl->debugfs, vl,
				   &vlink_autosuspend_fops);
}

void vlink_pm_stats_show(struct seq_file *s, struct vlink *vl)
{
	seq_printf(s, "suspends=%lld\n", atomic64_read(&vl->stats.suspends));
	seq_printf(s, "resumes=%lld\n", atomic64_read(&vl->stats.resumes));
	seq_printf(s, "wake_gets=%lld\n", atomic64_read(&vl->stats.wake_gets));
	seq_printf(s, "wake_puts=%lld\n", atomic64_read(&vl->stats.wake_puts));
}
