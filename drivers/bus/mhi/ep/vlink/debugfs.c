// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: debugfs. The directory mhi_vlink/link<id> of each link:
 * its state, counters and registers, the names of its host and endpoint
 * devices, power control and the fault knobs.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/string_choices.h>
#include <linux/uaccess.h>

#include "vlink.h"

/*
 * Uplink TREs the endpoint core has read (its channel's read offset is past
 * them) and not yet completed to the host (the ring's read offset is not):
 * zero whenever no UL read is in flight, unless the core lost track of one.
 */
static void vlink_show_ul_unacked(struct seq_file *s, struct mhi_ep_cntrl *ep)
{
	struct mhi_ep_chan *chan = &ep->mhi_chan[VLINK_LOOPBACK_UL];
	struct mhi_ep_ring *ring = &chan->ring;

	mutex_lock(&chan->lock);
	if (ring->started && ring->ring_size)
		seq_printf(s, "ep_ul_unacked=%zu\n",
			   (chan->rd_offset + ring->ring_size - ring->rd_offset) %
			   ring->ring_size);
	mutex_unlock(&chan->lock);
}

static int vlink_state_show(struct seq_file *s, void *unused)
{
	struct vlink *vl = s->private;
	struct mhi_ep_cntrl *ep;

	mutex_lock(&vl->lock);
	ep = vl->ep;
	seq_printf(s, "%s\n", str_up_down(vl->up));
	seq_printf(s, "host_ee=%u\n", READ_ONCE(vl->host->ee));
	seq_printf(s, "host_state=%s\n", mhi_state_str(READ_ONCE(vl->host->dev_state)));
	seq_printf(s, "ep_state=%s\n", ep ? mhi_state_str(READ_ONCE(ep->mhi_state)) : "none");
	seq_printf(s, "runtime_refs=%d\nmaps=%d\n", atomic_read(&vl->runtime_refs),
		   atomic_read(&vl->maps));
	if (ep)
		vlink_show_ul_unacked(s, ep);
	mutex_unlock(&vl->lock);

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vlink_state);

static int vlink_stats_show(struct seq_file *s, void *unused)
{
	struct vlink *vl = s->private;
	struct vlink_stats *st = &vl->stats;

	seq_printf(s, "ul_bytes=%lld\n", atomic64_read(&st->ul_bytes));
	seq_printf(s, "dl_bytes=%lld\n", atomic64_read(&st->dl_bytes));
	seq_printf(s, "ctrl_writes=%lld\n", atomic64_read(&st->ctrl_writes));
	seq_printf(s, "cmd_doorbells=%lld\n", atomic64_read(&st->cmd_doorbells));
	seq_printf(s, "doorbells=%lld\n", atomic64_read(&st->ch_doorbells));
	seq_printf(s, "host_irqs=%lld\n", atomic64_read(&st->host_irqs));
	seq_printf(s, "ep_irqs=%lld\n", atomic64_read(&st->ep_irqs));
	seq_printf(s, "xlate_errors=%lld\n", atomic64_read(&st->xlate_errors));
	seq_printf(s, "echo_delays=%lld\n", atomic64_read(&st->echo_delays));
	seq_printf(s, "msi_delays=%lld\n", atomic64_read(&st->msi_delays));
	seq_printf(s, "polls=%lld\n", atomic64_read(&st->polls));
	seq_printf(s, "hold_echo_fired=%lld\n", atomic64_read(&vl->hold_echo.fired));
	seq_printf(s, "echo_held=%d\n", atomic_read(&vl->holding));
	seq_printf(s, "hold_timeouts=%lld\n", atomic64_read(&st->hold_timeouts));
	seq_printf(s, "host_resets=%lld\n", atomic64_read(&st->host_resets));
	seq_printf(s, "host_sys_errors=%lld\n", atomic64_read(&st->host_sys_errors));
	seq_printf(s, "host_mission_modes=%lld\n", atomic64_read(&st->host_mission_modes));
	seq_printf(s, "syserrs=%lld\n", atomic64_read(&st->syserrs));
	seq_printf(s, "drop_echo_fired=%lld\n", atomic64_read(&vl->drop_echo.fired));
	seq_printf(s, "corrupt_echo_fired=%lld\n", atomic64_read(&vl->corrupt_echo.fired));
	seq_printf(s, "fail_dma_fired=%lld\n", atomic64_read(&vl->fail_dma.fired));
	seq_printf(s, "fail_ul_event_fired=%lld\n", atomic64_read(&vl->fail_ul_event.fired));
	vlink_pm_stats_show(s, vl);

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vlink_stats);

static const struct {
	const char *name;
	u32 offset;
} vlink_reg_names[] = {
	{ "MHIREGLEN", EP_MHIREGLEN },
	{ "MHIVER", EP_MHIVER },
	{ "MHICFG", EP_MHICFG },
	{ "CHDBOFF", EP_CHDBOFF },
	{ "ERDBOFF", EP_ERDBOFF },
	{ "BHIOFF", EP_BHIOFF },
	{ "MHICTRL", EP_MHICTRL },
	{ "MHISTATUS", EP_MHISTATUS },
	{ "CCABAP_LOWER", EP_CCABAP_LOWER },
	{ "CCABAP_HIGHER", EP_CCABAP_HIGHER },
	{ "ECABAP_LOWER", EP_ECABAP_LOWER },
	{ "ECABAP_HIGHER", EP_ECABAP_HIGHER },
	{ "CRCBAP_LOWER", EP_CRCBAP_LOWER },
	{ "CRCBAP_HIGHER", EP_CRCBAP_HIGHER },
	{ "CRDB_LOWER", EP_CRDB_LOWER },
	{ "MHIDATABASE_LOWER", EP_MHIDATABASE_LOWER },
	{ "MHIDATALIMIT_LOWER", EP_MHIDATALIMIT_LOWER },
	{ "BHI_EXECENV", EP_BHI_EXECENV },
	{ "CTRL_INT_STATUS", MHI_CTRL_INT_STATUS },
	{ "CTRL_INT_CLEAR", MHI_CTRL_INT_CLEAR },
	{ "CTRL_INT_MASK", MHI_CTRL_INT_MASK },
	{ "CHDB_INT_STATUS_0", MHI_CHDB_INT_STATUS_n(0) },
	{ "CHDB_INT_CLEAR_0", MHI_CHDB_INT_CLEAR_n(0) },
	{ "CHDB_INT_MASK_0", MHI_CHDB_INT_MASK_n(0) },
	{ "CHDB_LOWER_0", CHDB_LOWER_n(VLINK_LOOPBACK_UL) },
	{ "CHDB_LOWER_1", CHDB_LOWER_n(VLINK_LOOPBACK_DL) },
	{ "ERDB_LOWER_0", ERDB_LOWER_n(0) },
	{ "ERDB_LOWER_1", ERDB_LOWER_n(1) },
};

static int vlink_regs_show(struct seq_file *s, void *unused)
{
	struct vlink *vl = s->private;
	int i;

	for (i = 0; i < ARRAY_SIZE(vlink_reg_names); i++)
		seq_printf(s, "%-20s %#05x = %#010x\n", vlink_reg_names[i].name,
			   vlink_reg_names[i].offset,
			   READ_ONCE(*vlink_reg(vl, vlink_reg_names[i].offset)));

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vlink_regs);

static int vlink_host_show(struct seq_file *s, void *unused)
{
	struct vlink *vl = s->private;

	seq_printf(s, "%s\n", dev_name(&vl->host->mhi_dev->dev));

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vlink_host);

static int vlink_endpoint_show(struct seq_file *s, void *unused)
{
	struct vlink *vl = s->private;

	mutex_lock(&vl->lock);
	if (vl->ep && vl->ep->mhi_dev)
		seq_printf(s, "%s\n", dev_name(&vl->ep->mhi_dev->dev));
	mutex_unlock(&vl->lock);

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vlink_endpoint);

static ssize_t vlink_power_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct vlink *vl = file->private_data;
	char buf[10];
	int ret = 0;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	ret = mutex_lock_interruptible(&vl->lock);
	if (ret)
		return ret;

	if (sysfs_streq(buf, "up")) {
		ret = vlink_power_up(vl);
	} else if (sysfs_streq(buf, "down") || sysfs_streq(buf, "shutdown")) {
		if (vl->up)
			vlink_power_down(vl, sysfs_streq(buf, "shutdown"));
	} else if (sysfs_streq(buf, "cycle")) {
		if (vl->up)
			vlink_power_down(vl, false);
		ret = vlink_power_up(vl);
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&vl->lock);

	return ret ?: count;
}

static const struct file_operations vlink_power_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vlink_power_write,
	.llseek = noop_llseek,
};

static int vlink_hold_echo_get(void *data, u64 *val)
{
	struct vlink *vl = data;

	*val = atomic_read(&vl->hold_echo.left);

	return 0;
}

/* Arm for @val writes; disarming (0) also releases the writes held now */
static int vlink_hold_echo_set(void *data, u64 val)
{
	struct vlink *vl = data;

	if (val > INT_MAX)
		return -EINVAL;

	atomic_set(&vl->hold_echo.left, val);
	if (!val)
		vlink_hold_release(vl);

	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vlink_hold_echo_fops, vlink_hold_echo_get, vlink_hold_echo_set,
			 "%llu\n");

/* 1: the endpoint reports an error to the host, as crashing firmware does */
static int vlink_syserr_set(void *data, u64 val)
{
	struct vlink *vl = data;
	int ret;

	if (val != 1)
		return -EINVAL;

	ret = mutex_lock_interruptible(&vl->lock);
	if (ret)
		return ret;
	ret = vl->up ? mhi_ep_report_syserr(vl->ep) : -ENODEV;
	if (!ret)
		atomic64_inc(&vl->stats.syserrs);
	mutex_unlock(&vl->lock);

	return ret;
}
DEFINE_DEBUGFS_ATTRIBUTE(vlink_syserr_fops, NULL, vlink_syserr_set, "%llu\n");

void vlink_debugfs_init(struct vlink *vl)
{
	char name[16];

	snprintf(name, sizeof(name), "link%d", vl->id);
	vl->debugfs = debugfs_create_dir(name, vlink_debugfs_root);

	debugfs_create_file("host", 0444, vl->debugfs, vl, &vlink_host_fops);
	debugfs_create_file("endpoint", 0444, vl->debugfs, vl, &vlink_endpoint_fops);
	debugfs_create_file("state", 0444, vl->debugfs, vl, &vlink_state_fops);
	debugfs_create_file("stats", 0444, vl->debugfs, vl, &vlink_stats_fops);
	debugfs_create_file("regs", 0444, vl->debugfs, vl, &vlink_regs_fops);
	debugfs_create_file("power", 0200, vl->debugfs, vl, &vlink_power_fops);
	debugfs_create_atomic_t("drop_echo", 0600, vl->debugfs, &vl->drop_echo.left);
	debugfs_create_atomic_t("corrupt_echo", 0600, vl->debugfs, &vl->corrupt_echo.left);
	debugfs_create_atomic_t("echo_skip", 0600, vl->debugfs, &vl->echo_skip);
	debugfs_create_u32("corrupt_offset", 0600, vl->debugfs, &vl->corrupt_offset);
	debugfs_create_u32("corrupt_len", 0600, vl->debugfs, &vl->corrupt_len);
	debugfs_create_atomic_t("fail_dma", 0600, vl->debugfs, &vl->fail_dma.left);
	debugfs_create_atomic_t("fail_ul_event", 0600, vl->debugfs, &vl->fail_ul_event.left);
	debugfs_create_u32("delay_echo_ms", 0600, vl->debugfs, &vl->delay_echo_ms);
	debugfs_create_u32("msi_delay_us", 0600, vl->debugfs, &vl->msi_delay_us);
	debugfs_create_file_unsafe("hold_echo", 0600, vl->debugfs, vl, &vlink_hold_echo_fops);
	debugfs_create_file_unsafe("syserr", 0200, vl->debugfs, vl, &vlink_syserr_fops);
	vlink_pm_debugfs_init(vl);
}
