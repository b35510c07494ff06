// SPDX-License-Identifier: GPL-2.0-only

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/container_of.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mhi_ep.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/refcount.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

static unsigned int max_backlog = SZ_4M;
module_param(max_backlog, uint, 0644);
MODULE_PARM_DESC(max_backlog,
		 "Memory in bytes held by uplink transfers waiting for the host to post downlink buffers; transfers beyond it are dropped (default: 4 MiB)");

/*
 * How an echo goes back, to drive the host's paths that modem firmware
 * drives: a modem need not echo one uplink transfer as one downlink buffer.
 * same: each uplink transfer the core hands over is one downlink buffer.
 * split: each is sent as pieces of at most MHI_EP_LOOPBACK_PIECE bytes, in
 *        order, so the host gets more DL completions than it sent UL TREs
 *        and must queue DL buffers again.
 * coalesce: consecutive transfers are copied into one downlink buffer of at
 *           most MHI_EP_LOOPBACK_COALESCE_MAX bytes, sent once it is full or
 *           once no transfer came for MHI_EP_LOOPBACK_COALESCE_MS: a buffer
 *           larger than a DL TRE of the host spans several of them, which
 *           the host sees as OVERFLOW completions.
 * The shape of an echo is the one in effect when its transfer came.
 */
enum mhi_ep_loopback_shape {
	MHI_EP_LOOPBACK_SAME,
	MHI_EP_LOOPBACK_SPLIT,
	MHI_EP_LOOPBACK_COALESCE,
};

static const char * const mhi_ep_loopback_shape_names[] = {
	[MHI_EP_LOOPBACK_SAME] = "same",
	[MHI_EP_LOOPBACK_SPLIT] = "split",
	[MHI_EP_LOOPBACK_COALESCE] = "coalesce",
};

#define MHI_EP_LOOPBACK_PIECE		SZ_4K
#define MHI_EP_LOOPBACK_COALESCE_MAX	SZ_128K
#define MHI_EP_LOOPBACK_COALESCE_MS	10

static int echo_shape = MHI_EP_LOOPBACK_SAME;

static int mhi_ep_loopback_shape_set(const char *val, const struct kernel_param *kp)
{
	int shape = sysfs_match_string(mhi_ep_loopback_shape_names, val);

	if (shape < 0)
		return shape;

	WRITE_ONCE(echo_shape, shape);

	return 0;
}

static int mhi_ep_loopback_shape_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", mhi_ep_loopback_shape_names[READ_ONCE(echo_shape)]);
}

static const struct kernel_param_ops mhi_ep_loopback_shape_ops = {
	.set = mhi_ep_loopback_shape_set,
	.get = mhi_ep_loopback_shape_get,
};
module_param_cb(echo_shape, &mhi_ep_loopback_shape_ops, &echo_shape, 0644);
MODULE_PARM_DESC(echo_shape,
		 "How uplink transfers are echoed: same (one downlink buffer each, default), split (pieces of at most 4 KiB) or coalesce (merged into buffers of at most 128 KiB)");

static struct dentry *mhi_ep_loopback_debugfs;

/*
 * What the shapes did since the module was loaded, across devices, in the
 * top debugfs directory (shapes) and in one line at unload: the evidence of
 * a test rig that the shape was in effect. Not an ABI.
 */
static atomic64_t mhi_ep_loopback_total_echoes;
static atomic64_t mhi_ep_loopback_total_split;
static atomic64_t mhi_ep_loopback_total_merged;

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
 * @refs: One for the backlog or the work holding the echo, one for each
 *        downlink buffer of it queued and not yet completed
 * @shape: How the echo goes back (enum mhi_ep_loopback_shape)
 * @sent: Number of bytes of @data already queued, by earlier pieces
 * @copy_len: Size of @copy, 0 when @data is the read buffer
 * @copy: Data of an echo that is not the read buffer
 */
struct mhi_ep_loopback_echo {
	struct list_head node;
	size_t len;
	u8 *data;
	refcount_t refs;
	int shape;
	size_t sent;
	size_t copy_len;
	u8 copy[] __counted_by(copy_len);
};

/**
 * struct mhi_ep_loopback - LOOPBACK channel pair of an MHI endpoint
 * @mdev: MHI endpoint device of the channel pair
 * @work: Sends the backlog to the host, oldest transfer first; delayed only
 *        while echoes wait to be coalesced
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
 * @last_ul_ns: When the latest uplink transfer came, for coalesce
 * @echoes: Number of echoes queued
 * @copies: Number of echo buffers allocated and filled by this driver, for
 *          the fault knobs or to coalesce echoes, instead of the read buffer
 *          being sent back
 * @dl_bufs: Number of downlink buffers queued
 * @split: Number of echoes sent in more than one downlink buffer
 * @merged: Number of echoes sent in one downlink buffer with others
 */
struct mhi_ep_loopback {
	struct mhi_ep_device *mdev;
	struct delayed_work work;
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
	u64 last_ul_ns;
	atomic64_t echoes;
	atomic64_t copies;
	atomic64_t dl_bufs;
	atomic64_t split;
	atomic64_t merged;
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

/* Drop a reference to @echo, freeing it with the last one */
static void mhi_ep_loopback_echo_put(struct mhi_ep_loopback *loopback,
				     struct mhi_ep_loopback_echo *echo)
{
	if (!echo || !refcount_dec_and_test(&echo->refs))
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
		mhi_ep_loopback_echo_put(loopback, echo);
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
	echo->sent = 0;
	echo->shape = MHI_EP_LOOPBACK_SAME;
	refcount_set(&echo->refs, 1);
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
	echo->sent = 0;
	echo->shape = MHI_EP_LOOPBACK_SAME;
	refcount_set(&echo->refs, 1);
	echo->data = echo->copy;
	memcpy(echo->copy, buf, len);
	memset(echo->copy + len, MHI_EP_LOOPBACK_FILL, extra);
	atomic64_inc(&loopback->copies);

	return echo;
}

/*
 * Queue what is left of @echo: all of it, or with the split shape each
 * piece of at most MHI_EP_LOOPBACK_PIECE bytes in turn. Each buffer queued
 * holds a reference to @echo until its DL transfer callback; the caller
 * keeps its own. On an error, @echo->sent says what went out.
 */
static int mhi_ep_loopback_send(struct mhi_ep_loopback *loopback,
				struct mhi_ep_loopback_echo *echo)
{
	size_t piece;
	int ret;

	/* An empty echo is one empty buffer */
	do {
		piece = echo->len - echo->sent;
		if (echo->shape == MHI_EP_LOOPBACK_SPLIT)
			piece = min_t(size_t, piece, MHI_EP_LOOPBACK_PIECE);

		refcount_inc(&echo->refs);
		ret = mhi_ep_queue_buf_ctx(loopback->mdev, echo->data + echo->sent,
					   piece, echo);
		if (ret) {
			/* Never the last reference: the caller holds one */
			refcount_dec(&echo->refs);
			return ret;
		}

		atomic64_inc(&loopback->dl_bufs);
		if (!echo->sent && piece < echo->len) {
			atomic64_inc(&loopback->split);
			atomic64_inc(&mhi_ep_loopback_total_split);
		}
		echo->sent += piece;
	} while (echo->sent < echo->len);

	return 0;
}

/* Time until echoes may be coalesced without waiting for more, in jiffies */
static unsigned long mhi_ep_loopback_coalesce_wait(struct mhi_ep_loopback *loopback)
{
	u64 wait_ns = MHI_EP_LOOPBACK_COALESCE_MS * NSEC_PER_MSEC;
	u64 idle_ns = ktime_get_ns() - loopback->last_ul_ns;

	return idle_ns >= wait_ns ? 0 : nsecs_to_jiffies(wait_ns - idle_ns) + 1;
}

/*
 * Move the echoes to send in one buffer from the head of the backlog, a
 * coalesce echo, to @group: the longest run of coalesce echoes that fits in
 * MHI_EP_LOOPBACK_COALESCE_MAX bytes (an echo longer than that goes alone).
 * The run is taken only once no later echo can join it: an echo that does
 * not fit follows it, or the uplink has been idle for
 * MHI_EP_LOOPBACK_COALESCE_MS. Returns the jiffies to wait before trying
 * again, or 0 with the bytes of the run in @len. Called with the lock held.
 */
static unsigned long mhi_ep_loopback_group(struct mhi_ep_loopback *loopback,
					   struct list_head *group, size_t *len)
{
	struct mhi_ep_loopback_echo *echo, *first, *stop = NULL;
	unsigned long wait;
	size_t run = 0;

	first = list_first_entry(&loopback->backlog, struct mhi_ep_loopback_echo, node);
	list_for_each_entry(echo, &loopback->backlog, node) {
		if (echo->shape != MHI_EP_LOOPBACK_COALESCE ||
		    run + echo->len > MHI_EP_LOOPBACK_COALESCE_MAX) {
			stop = echo;
			break;
		}
		run += echo->len;
	}

	if (!stop) {
		wait = mhi_ep_loopback_coalesce_wait(loopback);
		if (wait)
			return wait;
		list_splice_init(&loopback->backlog, group);
	} else if (stop == first) {
		run = first->len;
		list_move(&first->node, group);
	} else {
		list_cut_before(group, &loopback->backlog, &stop->node);
	}

	/* Decided: whatever happens to the run, it is not grouped again */
	list_for_each_entry(echo, group, node) {
		loopback->backlog_size -= mhi_ep_loopback_echo_size(echo);
		echo->shape = MHI_EP_LOOPBACK_SAME;
	}
	*len = run;

	return 0;
}

/*
 * The echo of the run in @group, of @len bytes: its only echo, or a copy of
 * them all. Empties @group. NULL if the copy could not be allocated: the
 * run is dropped.
 */
static struct mhi_ep_loopback_echo *mhi_ep_loopback_merge(struct mhi_ep_loopback *loopback,
							  struct list_head *group,
							  size_t len)
{
	struct mhi_ep_loopback_echo *echo, *tmp, *merged;
	unsigned int count = 0;
	size_t offset = 0;

	if (list_is_singular(group)) {
		echo = list_first_entry(group, struct mhi_ep_loopback_echo, node);
		list_del_init(&echo->node);
		return echo;
	}

	merged = kmalloc_flex(*merged, copy, len);
	if (merged) {
		merged->copy_len = len;
		merged->len = len;
		merged->sent = 0;
		merged->shape = MHI_EP_LOOPBACK_SAME;
		refcount_set(&merged->refs, 1);
		merged->data = merged->copy;
	}

	list_for_each_entry_safe(echo, tmp, group, node) {
		list_del(&echo->node);
		if (merged)
			memcpy(merged->copy + offset, echo->data, echo->len);
		offset += echo->len;
		count++;
		mhi_ep_loopback_echo_put(loopback, echo);
	}

	if (!merged) {
		mhi_ep_loopback_drop(loopback, len, -ENOMEM);
		return NULL;
	}

	atomic64_inc(&loopback->copies);
	atomic64_add(count, &loopback->merged);
	atomic64_add(count, &mhi_ep_loopback_total_merged);

	return merged;
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
	struct mhi_ep_loopback *loopback = container_of(to_delayed_work(work),
							struct mhi_ep_loopback, work);
	struct mhi_ep_loopback_echo *echo;
	unsigned int generation;
	unsigned long wait;
	LIST_HEAD(group);
	size_t len;
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

		if (echo->shape == MHI_EP_LOOPBACK_COALESCE) {
			wait = mhi_ep_loopback_group(loopback, &group, &len);
			if (wait) {
				spin_unlock(&loopback->lock);
				mutex_unlock(&loopback->send_lock);
				mod_delayed_work(system_dfl_wq, &loopback->work, wait);
				return;
			}
		} else {
			list_del(&echo->node);
			loopback->backlog_size -= mhi_ep_loopback_echo_size(echo);
		}
		generation = loopback->generation;
		spin_unlock(&loopback->lock);

		if (!list_empty(&group)) {
			echo = mhi_ep_loopback_merge(loopback, &group, len);
			if (!echo) {
				mutex_unlock(&loopback->send_lock);
				continue;
			}
		}

		/* On success, the DL transfer callbacks hold the echo */
		ret = mhi_ep_loopback_send(loopback, echo);
		mutex_unlock(&loopback->send_lock);
		if (!ret) {
			mhi_ep_loopback_echo_put(loopback, echo);
			continue;
		}

		/*
		 * Either the host has not posted enough DL buffers yet or the
		 * channel is not running. Keep the echo, or the pieces of it
		 * not queued yet, first in line until the host posts DL
		 * buffers, which schedules this work again, unless the
		 * channels were disconnected meanwhile.
		 */
		if (ret == -ENOSPC || ret == -ENODEV) {
			spin_lock(&loopback->lock);
			if (generation == loopback->generation) {
				list_add(&echo->node, &loopback->backlog);
				loopback->backlog_size += mhi_ep_loopback_echo_size(echo);
				echo = NULL;
			}
			spin_unlock(&loopback->lock);

			mhi_ep_loopback_echo_put(loopback, echo);
			return;
		}

		/*
		 * Any other error is final for this echo, -EMSGSIZE too (no
		 * DL ring of the host can hold it, as oversize_echo makes):
		 * drop it and go on with the next one.
		 */
		mhi_ep_loopback_drop(loopback, echo->len, ret);
		mhi_ep_loopback_echo_put(loopback, echo);
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
	loopback->last_ul_ns = ktime_get_ns();
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
			mhi_ep_loopback_echo_put(loopback, echo);
			echo = NULL;
		}
	}

	if (!echo) {
		mhi_ep_loopback_drop(loopback, len, -ENOMEM);
		return;
	}

	/* The buffer of oversize_echo tests the core's refusal: it goes whole */
	echo->shape = READ_ONCE(echo_shape);
	if (twin && fault == MHI_EP_LOOPBACK_DUPLICATE)
		twin->shape = echo->shape;

	ret = mhi_ep_loopback_add(loopback, echo, twin,
				  fault == MHI_EP_LOOPBACK_REORDER);
	if (ret) {
		mhi_ep_loopback_echo_put(loopback, twin);
		mhi_ep_loopback_echo_put(loopback, echo);
		mhi_ep_loopback_drop(loopback, len, ret);
		return;
	}

	atomic64_inc(&loopback->echoes);
	atomic64_inc(&mhi_ep_loopback_total_echoes);
	mod_delayed_work(system_dfl_wq, &loopback->work, 0);
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

		mhi_ep_loopback_echo_put(loopback, echo);
		return;
	}

	if (result->transaction_status == -ENOTCONN) {
		mhi_ep_loopback_flush(loopback);
		return;
	}

	/* The host has posted DL buffers */
	mod_delayed_work(system_dfl_wq, &loopback->work, 0);
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
	seq_printf(s, "dl_bufs=%lld\n", atomic64_read(&loopback->dl_bufs));
	seq_printf(s, "split_echoes=%lld\n", atomic64_read(&loopback->split));
	seq_printf(s, "merged_echoes=%lld\n", atomic64_read(&loopback->merged));
	for (i = 0; i < MHI_EP_LOOPBACK_NR_FAULTS; i++)
		seq_printf(s, "%s_fired=%lld\n", mhi_ep_loopback_fault_names[i],
			   atomic64_read(&loopback->fault_fired[i]));

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mhi_ep_loopback_stats);

/* The echo_shape parameter again, beside the other test knobs */
static int mhi_ep_loopback_shape_show(struct seq_file *s, void *unused)
{
	seq_printf(s, "%s\n", mhi_ep_loopback_shape_names[READ_ONCE(echo_shape)]);

	return 0;
}

static int mhi_ep_loopback_shape_open(struct inode *inode, struct file *file)
{
	return single_open(file, mhi_ep_loopback_shape_show, NULL);
}

static ssize_t mhi_ep_loopback_shape_write(struct file *file, const char __user *ubuf,
					   size_t count, loff_t *ppos)
{
	char buf[16];
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	ret = mhi_ep_loopback_shape_set(buf, NULL);

	return ret ?: count;
}

static const struct file_operations mhi_ep_loopback_shape_fops = {
	.owner = THIS_MODULE,
	.open = mhi_ep_loopback_shape_open,
	.read = seq_read,
	.write = mhi_ep_loopback_shape_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int mhi_ep_loopback_shapes_show(struct seq_file *s, void *unused)
{
	seq_printf(s, "echo_shape=%s\n", mhi_ep_loopback_shape_names[READ_ONCE(echo_shape)]);
	seq_printf(s, "echoes=%lld\n", atomic64_read(&mhi_ep_loopback_total_echoes));
	seq_printf(s, "split_echoes=%lld\n", atomic64_read(&mhi_ep_loopback_total_split));
	seq_printf(s, "merged_echoes=%lld\n", atomic64_read(&mhi_ep_loopback_total_merged));

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mhi_ep_loopback_shapes);

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
	INIT_DELAYED_WORK(&loopback->work, mhi_ep_loopback_work);
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
	cancel_delayed_work_sync(&loopback->work);
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
	debugfs_create_file("echo_shape", 0600, mhi_ep_loopback_debugfs, NULL,
			    &mhi_ep_loopback_shape_fops);
	debugfs_create_file("shapes", 0444, mhi_ep_loopback_debugfs, NULL,
			    &mhi_ep_loopback_shapes_fops);

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

	/* What the shapes did, for a test rig that unloads the module */
	pr_info("ep_loopback_shapes echo_shape=%s echoes=%lld split_echoes=%lld merged_echoes=%lld\n",
		mhi_ep_loopback_shape_names[READ_ONCE(echo_shape)],
		atomic64_read(&mhi_ep_loopback_total_echoes),
		atomic64_read(&mhi_ep_loopback_total_split),
		atomic64_read(&mhi_ep_loopback_total_merged));
}
module_exit(mhi_ep_loopback_exit);

MODULE_DESCRIPTION("MHI endpoint LOOPBACK client driver");
MODULE_LICENSE("GPL");
