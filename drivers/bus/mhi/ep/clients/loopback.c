// SPDX-License-Identifier: GPL-2.0-only

#include <linux/atomic.h>
#include <linux/container_of.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/errno.h>
#include <linux/list.h>
#include <linux/mhi_ep.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

static unsigned int max_backlog = SZ_4M;
module_param(max_backlog, uint, 0644);
MODULE_PARM_DESC(max_backlog,
		 "Memory in bytes held by uplink transfers waiting for the host to post downlink buffers; transfers beyond it are dropped (default: 4 MiB)");

static struct dentry *mhi_ep_loopback_debugfs;

/*
 * Test hooks of probe(), in the top debugfs directory since the directory of
 * a device only exists once it is bound. Not an ABI.
 * probe_delay_ms: probe() sleeps this long before it sets anything up, which
 *                 widens the window of a bind against the endpoint core's
 *                 transfer callbacks.
 * fail_probe: number of probes still to fail, with -EIO, once the delay is
 *             over.
 */
static u32 mhi_ep_loopback_probe_delay_ms;
static atomic_t mhi_ep_loopback_fail_probe;

/*
 * Echo faults, armed from debugfs to test the host side: each knob is the
 * number of echoes it still spoils. Echoes are the uplink transfers handed
 * over by the endpoint core, one per host TRE (or per piece of a TRE the core
 * reads in several goes). oversize_echo tests the endpoint core instead: the
 * echo goes out intact, followed by a buffer of fault_len bytes, which
 * mhi_ep_queue_buf() must refuse with -EMSGSIZE when no DL ring of the host
 * can hold it, rather than stall every later echo behind it. Not an ABI.
 */
enum mhi_ep_loopback_fault_id {
	MHI_EP_LOOPBACK_TRUNCATE,	/* the echo loses its last fault_len bytes */
	MHI_EP_LOOPBACK_EXTEND,		/* fault_len bytes are appended to it */
	MHI_EP_LOOPBACK_DUPLICATE,	/* it is sent twice */
	MHI_EP_LOOPBACK_REORDER,	/* it is sent after the next echo */
	MHI_EP_LOOPBACK_OVERSIZE,	/* a buffer of fault_len bytes follows it */
	MHI_EP_LOOPBACK_NR_FAULTS,
};

static const char * const mhi_ep_loopback_fault_names[] = {
	[MHI_EP_LOOPBACK_TRUNCATE] = "truncate_echo",
	[MHI_EP_LOOPBACK_EXTEND] = "extend_echo",
	[MHI_EP_LOOPBACK_DUPLICATE] = "duplicate_echo",
	[MHI_EP_LOOPBACK_REORDER] = "reorder_echo",
	[MHI_EP_LOOPBACK_OVERSIZE] = "oversize_echo",
};

/* Bytes appended by extend_echo: never a run the host's pattern would hold */
#define MHI_EP_LOOPBACK_FILL	0xa5

/**
 * struct mhi_ep_loopback_echo - Uplink transfer to be sent back to the host
 * @node: Entry in the backlog of the device
 * @len: Number of bytes of @data to send
 * @data: What is sent: the buffer the endpoint core read the transfer into,
 *        kept with mhi_ep_keep_buf(), or @copy when a fault knob made the
 *        echo differ from the transfer
 * @copy_len: Size of @copy, 0 when @data is the read buffer
 * @copy: Data of an echo that is not the read buffer
 */
struct mhi_ep_loopback_echo {
	struct list_head node;
	size_t len;
	u8 *data;
	size_t copy_len;
	u8 copy[] __counted_by(copy_len);
};

/**
 * struct mhi_ep_loopback - LOOPBACK channel pair of an MHI endpoint
 * @mdev: MHI endpoint device of the channel pair
 * @work: Sends the backlog to the host, oldest transfer first
 * @send_lock: Held by @work from taking an echo off the backlog until it is
 *             queued, so that an uplink disconnect waits for an echo in hand
 * @lock: Protects @backlog, @backlog_size, @generation and @dropped
 * @backlog: Uplink transfers not yet accepted by mhi_ep_queue_buf()
 * @backlog_size: Memory held by @backlog, in bytes
 * @generation: Incremented whenever the channels are disconnected, so that a
 *              transfer taken from @backlog before that is not put back
 * @dropped: Number of uplink transfers that could not be echoed
 * @held: Echo kept back by reorder_echo until the next one is queued
 * @debugfs: Directory of the fault knobs
 * @fault_left: Knobs: echoes each fault still spoils
 * @fault_skip: Knob: echoes let through before an armed fault fires
 * @fault_len: Knob: bytes taken off or added by truncate_echo and extend_echo,
 *             size of the buffer queued by oversize_echo (meant to be more
 *             than the host's DL ring can ever hold)
 * @fault_fired: Number of echoes each fault has spoilt
 * @echoes: Number of echoes queued
 * @copies: Number of echo buffers allocated and filled by this driver, for
 *          the fault knobs, instead of the read buffer being sent back
 */
struct mhi_ep_loopback {
	struct mhi_ep_device *mdev;
	struct work_struct work;
	struct mutex send_lock; /* an echo taken off the backlog, until queued */
	spinlock_t lock; /* protects the backlog and the counters */
	struct list_head backlog;
	size_t backlog_size;
	unsigned int generation;
	unsigned long dropped;
	struct mhi_ep_loopback_echo *held;
	struct dentry *debugfs;
	atomic_t fault_left[MHI_EP_LOOPBACK_NR_FAULTS];
	atomic_t fault_skip;
	u32 fault_len;
	atomic64_t fault_fired[MHI_EP_LOOPBACK_NR_FAULTS];
	atomic64_t echoes;
	atomic64_t copies;
};

static bool mhi_ep_loopback_echo_kept(struct mhi_ep_loopback_echo *echo)
{
	return echo->data != echo->copy;
}

/* Memory held by @echo, for max_backlog */
static size_t mhi_ep_loopback_echo_size(struct mhi_ep_loopback_echo *echo)
{
	size_t size = struct_size(echo, copy, echo->copy_len);

	return mhi_ep_loopback_echo_kept(echo) ? size + MHI_EP_DEFAULT_MTU : size;
}

static void mhi_ep_loopback_echo_free(struct mhi_ep_loopback *loopback,
				      struct mhi_ep_loopback_echo *echo)
{
	if (!echo)
		return;

	if (mhi_ep_loopback_echo_kept(echo))
		mhi_ep_free_buf(loopback->mdev, echo->data);
	kfree(echo);
}

static void mhi_ep_loopback_drop(struct mhi_ep_loopback *loopback, size_t len,
				 int err)
{
	unsigned long dropped;

	spin_lock(&loopback->lock);
	dropped = ++loopback->dropped;
	spin_unlock(&loopback->lock);

	dev_err_ratelimited(&loopback->mdev->dev,
			    "Failed to echo %zu bytes: %d (%lu transfers dropped)\n",
			    len, err, dropped);
}

/* Forget the transfers of a connection that has been torn down */
static void mhi_ep_loopback_flush(struct mhi_ep_loopback *loopback)
{
	struct mhi_ep_loopback_echo *echo, *tmp;
	LIST_HEAD(stale);

	spin_lock(&loopback->lock);
	list_splice_init(&loopback->backlog, &stale);
	if (loopback->held)
		list_add_tail(&loopback->held->node, &stale);
	loopback->held = NULL;
	loopback->backlog_size = 0;
	loopback->generation++;
	spin_unlock(&loopback->lock);

	list_for_each_entry_safe(echo, tmp, &stale, node)
		mhi_ep_loopback_echo_free(loopback, echo);
}

/* The fault that spoils the next echo, if one is armed and its turn came */
static int mhi_ep_loopback_fault(struct mhi_ep_loopback *loopback)
{
	int i;

	for (i = 0; i < MHI_EP_LOOPBACK_NR_FAULTS; i++) {
		if (atomic_read(&loopback->fault_left[i]) <= 0)
			continue;

		if (atomic_dec_if_positive(&loopback->fault_skip) >= 0)
			return -1;

		if (atomic_dec_if_positive(&loopback->fault_left[i]) < 0)
			continue;

		atomic64_inc(&loopback->fault_fired[i]);
		return i;
	}

	return -1;
}

/* An echo of @len bytes that is the read buffer of @result itself */
static struct mhi_ep_loopback_echo *mhi_ep_loopback_keep(struct mhi_result *result,
							 size_t len)
{
	struct mhi_ep_loopback_echo *echo;

	echo = kmalloc_obj(*echo);
	if (!echo)
		return NULL;

	echo->copy_len = 0;
	echo->len = len;
	echo->data = mhi_ep_keep_buf(result);
	if (!echo->data) {
		kfree(echo);
		return NULL;
	}

	return echo;
}

/* An echo of its own: @len bytes of @buf, then @extra bytes of fill */
static struct mhi_ep_loopback_echo *mhi_ep_loopback_copy(struct mhi_ep_loopback *loopback,
							 const void *buf, size_t len,
							 size_t extra)
{
	struct mhi_ep_loopback_echo *echo;

	echo = kmalloc_flex(*echo, copy, len + extra);
	if (!echo)
		return NULL;

	echo->copy_len = len + extra;
	echo->len = len + extra;
	echo->data = echo->copy;
	memcpy(echo->copy, buf, len);
	memset(echo->copy + len, MHI_EP_LOOPBACK_FILL, extra);
	atomic64_inc(&loopback->copies);

	return echo;
}

/*
 * The echo is always sent from here, never from the UL transfer callback.
 * That callback runs either in the core's ring worker, with the UL channel
 * lock held (a controller that reads synchronously), or in the
 * controller's completion context once an asynchronous read is done (the
 * link's DMA worker). A RESET of the DL channel, which a host may send
 * while UL reads are in flight (Linux resets UL first, others need not),
 * holds the DL channel lock while mhi_ep_flush_async() waits for that
 * completion context to finish, and mhi_ep_queue_buf() takes the DL
 * channel lock: called from the UL callback, it would wait for the reset,
 * which waits for it. The callback cannot tell the two contexts apart.
 */
static void mhi_ep_loopback_work(struct work_struct *work)
{
	struct mhi_ep_loopback *loopback = container_of(work, struct mhi_ep_loopback, work);
	struct mhi_ep_loopback_echo *echo;
	unsigned int generation;
	int ret;

	for (;;) {
		mutex_lock(&loopback->send_lock);
		spin_lock(&loopback->lock);
		echo = list_first_entry_or_null(&loopback->backlog,
						struct mhi_ep_loopback_echo, node);
		if (!echo) {
			spin_unlock(&loopback->lock);
			mutex_unlock(&loopback->send_lock);
			return;
		}

		list_del(&echo->node);
		loopback->backlog_size -= mhi_ep_loopback_echo_size(echo);
		generation = loopback->generation;
		spin_unlock(&loopback->lock);

		/* On success, the DL transfer callback frees the echo */
		ret = mhi_ep_queue_buf_ctx(loopback->mdev, echo->data, echo->len, echo);
		mutex_unlock(&loopback->send_lock);
		if (!ret)
			continue;

		/*
		 * Either the host has not posted enough DL buffers yet or the
		 * channel is not running. Keep the echo first in line until
		 * the host posts DL buffers, which schedules this work again,
		 * unless the channels were disconnected meanwhile.
		 */
		if (ret == -ENOSPC || ret == -ENODEV) {
			spin_lock(&loopback->lock);
			if (generation == loopback->generation) {
				list_add(&echo->node, &loopback->backlog);
				loopback->backlog_size += mhi_ep_loopback_echo_size(echo);
				echo = NULL;
			}
			spin_unlock(&loopback->lock);

			mhi_ep_loopback_echo_free(loopback, echo);
			return;
		}

		/*
		 * Any other error is final for this echo, -EMSGSIZE too (no
		 * DL ring of the host can hold it, as oversize_echo makes):
		 * drop it and go on with the next one.
		 */
		mhi_ep_loopback_drop(loopback, echo->len, ret);
		mhi_ep_loopback_echo_free(loopback, echo);
	}
}

/* Add @echo, and what a fault made of it, to the backlog */
static int mhi_ep_loopback_add(struct mhi_ep_loopback *loopback,
			       struct mhi_ep_loopback_echo *echo,
			       struct mhi_ep_loopback_echo *twin, bool hold)
{
	size_t size = mhi_ep_loopback_echo_size(echo);
	struct mhi_ep_loopback_echo *held;
	int ret = 0;

	if (twin)
		size += mhi_ep_loopback_echo_size(twin);

	spin_lock(&loopback->lock);
	held = hold ? NULL : loopback->held;
	if (held)
		size += mhi_ep_loopback_echo_size(held);

	if (loopback->backlog_size + size > READ_ONCE(max_backlog)) {
		ret = -ENOBUFS;
	} else if (hold && !loopback->held) {
		loopback->held = echo;
	} else {
		list_add_tail(&echo->node, &loopback->backlog);
		if (twin)
			list_add_tail(&twin->node, &loopback->backlog);
		if (held) {
			list_add_tail(&held->node, &loopback->backlog);
			loopback->held = NULL;
		}
		/* The held echo is accounted for when it joins the backlog */
		loopback->backlog_size += size;
	}
	spin_unlock(&loopback->lock);

	return ret;
}

static void mhi_ep_loopback_ul_xfer_cb(struct mhi_ep_device *mdev,
				       struct mhi_result *result)
{
	struct mhi_ep_loopback *loopback = dev_get_drvdata(&mdev->dev);
	struct mhi_ep_loopback_echo *echo, *twin = NULL;
	size_t len = result->bytes_xferd, extra = 0;
	int fault, ret;

	if (result->transaction_status) {
		/*
		 * The host resets the uplink first. An echo the work holds
		 * must not reach the downlink after the host has started it
		 * again, into the next session: wait until it is queued (to
		 * the old session) or back on the backlog. The work takes
		 * only the downlink channel's lock meanwhile, never this one.
		 */
		if (result->transaction_status == -ENOTCONN) {
			mutex_lock(&loopback->send_lock);
			mhi_ep_loopback_flush(loopback);
			mutex_unlock(&loopback->send_lock);
		} else {
			/* The read failed: there is nothing to echo */
			mhi_ep_loopback_drop(loopback, 0, result->transaction_status);
		}

		return;
	}

	fault = mhi_ep_loopback_fault(loopback);
	if (fault == MHI_EP_LOOPBACK_TRUNCATE)
		len -= min_t(size_t, len, max(READ_ONCE(loopback->fault_len), 1U));
	else if (fault == MHI_EP_LOOPBACK_EXTEND)
		extra = max(READ_ONCE(loopback->fault_len), 1U);

	/*
	 * The echo is the buffer the core read the transfer into, taken over
	 * from it, unless it must hold more than the transfer. An empty
	 * transfer is echoed as such.
	 */
	if (extra)
		echo = mhi_ep_loopback_copy(loopback, result->buf_addr, len, extra);
	else
		echo = mhi_ep_loopback_keep(result, len);
	if (echo && (fault == MHI_EP_LOOPBACK_DUPLICATE ||
		     fault == MHI_EP_LOOPBACK_OVERSIZE)) {
		if (fault == MHI_EP_LOOPBACK_DUPLICATE)
			twin = mhi_ep_loopback_copy(loopback, echo->data, len, 0);
		else
			twin = mhi_ep_loopback_copy(loopback, echo->data, 0,
						    max(READ_ONCE(loopback->fault_len), 1U));
		if (!twin) {
			mhi_ep_loopback_echo_free(loopback, echo);
			echo = NULL;
		}
	}

	if (!echo) {
		mhi_ep_loopback_drop(loopback, len, -ENOMEM);
		return;
	}

	ret = mhi_ep_loopback_add(loopback, echo, twin,
				  fault == MHI_EP_LOOPBACK_REORDER);
	if (ret) {
		mhi_ep_loopback_echo_free(loopback, twin);
		mhi_ep_loopback_echo_free(loopback, echo);
		mhi_ep_loopback_drop(loopback, len, ret);
		return;
	}

	atomic64_inc(&loopback->echoes);
	queue_work(system_dfl_wq, &loopback->work);
}

static void mhi_ep_loopback_dl_xfer_cb(struct mhi_ep_device *mdev,
				       struct mhi_result *result)
{
	struct mhi_ep_loopback *loopback = dev_get_drvdata(&mdev->dev);
	struct mhi_ep_loopback_echo *echo;

	/* Completion of an echo: once for each mhi_ep_queue_buf_ctx() */
	if (result->buf_addr) {
		echo = result->buf_addr;
		if (result->transaction_status)
			dev_err_ratelimited(&mdev->dev,
					    "Failed to echo %zu bytes, %zu sent: %d\n",
					    echo->len, result->bytes_xferd,
					    result->transaction_status);

		mhi_ep_loopback_echo_free(loopback, echo);
		return;
	}

	if (result->transaction_status == -ENOTCONN) {
		mhi_ep_loopback_flush(loopback);
		return;
	}

	/* The host has posted DL buffers */
	queue_work(system_dfl_wq, &loopback->work);
}

static int mhi_ep_loopback_stats_show(struct seq_file *s, void *unused)
{
	struct mhi_ep_loopback *loopback = s->private;
	unsigned long dropped;
	int i;

	spin_lock(&loopback->lock);
	dropped = loopback->dropped;
	spin_unlock(&loopback->lock);

	seq_printf(s, "echoes=%lld\n", atomic64_read(&loopback->echoes));
	seq_printf(s, "copies=%lld\n", atomic64_read(&loopback->copies));
	seq_printf(s, "dropped=%lu\n", dropped);
	for (i = 0; i < MHI_EP_LOOPBACK_NR_FAULTS; i++)
		seq_printf(s, "%s_fired=%lld\n", mhi_ep_loopback_fault_names[i],
			   atomic64_read(&loopback->fault_fired[i]));

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mhi_ep_loopback_stats);

static void mhi_ep_loopback_debugfs_init(struct mhi_ep_loopback *loopback)
{
	struct dentry *dir;
	int i;

	dir = debugfs_create_dir(dev_name(&loopback->mdev->dev), mhi_ep_loopback_debugfs);
	loopback->debugfs = dir;
	for (i = 0; i < MHI_EP_LOOPBACK_NR_FAULTS; i++)
		debugfs_create_atomic_t(mhi_ep_loopback_fault_names[i], 0600, dir,
					&loopback->fault_left[i]);
	debugfs_create_atomic_t("fault_skip", 0600, dir, &loopback->fault_skip);
	debugfs_create_u32("fault_len", 0600, dir, &loopback->fault_len);
	debugfs_create_file("stats", 0444, dir, loopback, &mhi_ep_loopback_stats_fops);
}

static int mhi_ep_loopback_probe(struct mhi_ep_device *mdev,
				 const struct mhi_device_id *id)
{
	u32 delay_ms = READ_ONCE(mhi_ep_loopback_probe_delay_ms);
	struct mhi_ep_loopback *loopback;

	if (delay_ms)
		msleep(delay_ms);

	if (atomic_dec_if_positive(&mhi_ep_loopback_fail_probe) >= 0)
		return -EIO;

	loopback = devm_kzalloc(&mdev->dev, sizeof(*loopback), GFP_KERNEL);
	if (!loopback)
		return -ENOMEM;

	loopback->mdev = mdev;
	INIT_WORK(&loopback->work, mhi_ep_loopback_work);
	mutex_init(&loopback->send_lock);
	spin_lock_init(&loopback->lock);
	INIT_LIST_HEAD(&loopback->backlog);

	dev_set_drvdata(&mdev->dev, loopback);
	mhi_ep_loopback_debugfs_init(loopback);

	return 0;
}

static void mhi_ep_loopback_remove(struct mhi_ep_device *mdev)
{
	struct mhi_ep_loopback *loopback = dev_get_drvdata(&mdev->dev);

	debugfs_remove_recursive(loopback->debugfs);

	/*
	 * The core has disabled both channels and detached the transfer
	 * callbacks, so nothing schedules the work any more. An echo that the
	 * work is holding goes back to the backlog or is freed.
	 */
	cancel_work_sync(&loopback->work);
	mhi_ep_loopback_flush(loopback);
}

static const struct mhi_device_id mhi_ep_loopback_id_table[] = {
	{ .chan = "LOOPBACK" },
	{}
};
MODULE_DEVICE_TABLE(mhi_ep, mhi_ep_loopback_id_table);

static struct mhi_ep_driver mhi_ep_loopback_driver = {
	.probe = mhi_ep_loopback_probe,
	.remove = mhi_ep_loopback_remove,
	.ul_xfer_cb = mhi_ep_loopback_ul_xfer_cb,
	.dl_xfer_cb = mhi_ep_loopback_dl_xfer_cb,
	.id_table = mhi_ep_loopback_id_table,
	.driver = {
		.name = "mhi_ep_loopback",
	},
};

static int __init mhi_ep_loopback_init(void)
{
	int ret;

	mhi_ep_loopback_debugfs = debugfs_create_dir("mhi_ep_loopback", NULL);
	debugfs_create_u32("probe_delay_ms", 0600, mhi_ep_loopback_debugfs,
			   &mhi_ep_loopback_probe_delay_ms);
	debugfs_create_atomic_t("fail_probe", 0600, mhi_ep_loopback_debugfs,
				&mhi_ep_loopback_fail_probe);

	ret = mhi_ep_driver_register(&mhi_ep_loopback_driver);
	if (ret)
		debugfs_remove_recursive(mhi_ep_loopback_debugfs);

	return ret;
}
module_init(mhi_ep_loopback_init);

static void __exit mhi_ep_loopback_exit(void)
{
	mhi_ep_driver_unregister(&mhi_ep_loopback_driver);
	debugfs_remove_recursive(mhi_ep_loopback_debugfs);
}
module_exit(mhi_ep_loopback_exit);

MODULE_DESCRIPTION("MHI endpoint LOOPBACK client driver");
MODULE_LICENSE("GPL");
