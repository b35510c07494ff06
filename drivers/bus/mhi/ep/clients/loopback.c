// SPDX-License-Identifier: GPL-2.0-only

#include <linux/container_of.h>
#include <linux/device.h>
#include <linux/errno.h>
#include <linux/list.h>
#include <linux/mhi_ep.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

static unsigned int max_backlog = SZ_4M;
module_param(max_backlog, uint, 0644);
MODULE_PARM_DESC(max_backlog,
		 "Memory in bytes held by uplink transfers waiting for the host to post downlink buffers; transfers beyond it are dropped (default: 4 MiB)");

/**
 * struct mhi_ep_loopback_echo - Uplink transfer to be sent back to the host
 * @node: Entry in the backlog of the device
 * @len: Number of bytes in @data
 * @data: Copy of the transfer, handed to mhi_ep_queue_buf()
 */
struct mhi_ep_loopback_echo {
	struct list_head node;
	size_t len;
	u8 data[] __counted_by(len);
};

/**
 * struct mhi_ep_loopback - LOOPBACK channel pair of an MHI endpoint
 * @mdev: MHI endpoint device of the channel pair
 * @work: Sends the backlog to the host, oldest transfer first
 * @lock: Protects @backlog, @backlog_size, @generation and @dropped
 * @backlog: Uplink transfers not yet accepted by mhi_ep_queue_buf()
 * @backlog_size: Memory held by @backlog, in bytes
 * @generation: Incremented whenever the channels are disconnected, so that a
 *              transfer taken from @backlog before that is not put back
 * @dropped: Number of uplink transfers that could not be echoed
 */
struct mhi_ep_loopback {
	struct mhi_ep_device *mdev;
	struct work_struct work;
	spinlock_t lock; /* protects the backlog and the counters */
	struct list_head backlog;
	size_t backlog_size;
	unsigned int generation;
	unsigned long dropped;
};

static size_t mhi_ep_loopback_echo_size(struct mhi_ep_loopback_echo *echo)
{
	return struct_size(echo, data, echo->len);
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
	loopback->backlog_size = 0;
	loopback->generation++;
	spin_unlock(&loopback->lock);

	list_for_each_entry_safe(echo, tmp, &stale, node)
		kfree(echo);
}

/*
 * mhi_ep_queue_buf() takes the lock of the DL channel, which the core holds
 * around both transfer callbacks when they are called from its ring worker,
 * so the echo is always sent from here.
 */
static void mhi_ep_loopback_work(struct work_struct *work)
{
	struct mhi_ep_loopback *loopback = container_of(work, struct mhi_ep_loopback, work);
	struct mhi_ep_loopback_echo *echo;
	unsigned int generation;
	int ret;

	for (;;) {
		spin_lock(&loopback->lock);
		echo = list_first_entry_or_null(&loopback->backlog,
						struct mhi_ep_loopback_echo, node);
		if (!echo) {
			spin_unlock(&loopback->lock);
			return;
		}

		list_del(&echo->node);
		loopback->backlog_size -= mhi_ep_loopback_echo_size(echo);
		generation = loopback->generation;
		spin_unlock(&loopback->lock);

		/* On success, the DL transfer callback frees the echo */
		ret = mhi_ep_queue_buf(loopback->mdev, echo->data, echo->len);
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

			kfree(echo);
			return;
		}

		mhi_ep_loopback_drop(loopback, echo->len, ret);
		kfree(echo);
	}
}

static void mhi_ep_loopback_ul_xfer_cb(struct mhi_ep_device *mdev,
				       struct mhi_result *result)
{
	struct mhi_ep_loopback *loopback = dev_get_drvdata(&mdev->dev);
	size_t len = result->bytes_xferd;
	struct mhi_ep_loopback_echo *echo;
	size_t size;
	bool full;

	if (result->transaction_status) {
		if (result->transaction_status == -ENOTCONN)
			mhi_ep_loopback_flush(loopback);

		return;
	}

	/*
	 * The core frees the buffer when this returns, so keep a copy. An
	 * empty transfer is echoed as such.
	 */
	echo = kmalloc_flex(*echo, data, len);
	if (!echo) {
		mhi_ep_loopback_drop(loopback, len, -ENOMEM);
		return;
	}

	echo->len = len;
	memcpy(echo->data, result->buf_addr, len);
	size = mhi_ep_loopback_echo_size(echo);

	spin_lock(&loopback->lock);
	full = loopback->backlog_size + size > READ_ONCE(max_backlog);
	if (!full) {
		list_add_tail(&echo->node, &loopback->backlog);
		loopback->backlog_size += size;
	}
	spin_unlock(&loopback->lock);

	if (full) {
		kfree(echo);
		mhi_ep_loopback_drop(loopback, len, -ENOBUFS);
		return;
	}

	queue_work(system_dfl_wq, &loopback->work);
}

static void mhi_ep_loopback_dl_xfer_cb(struct mhi_ep_device *mdev,
				       struct mhi_result *result)
{
	struct mhi_ep_loopback *loopback = dev_get_drvdata(&mdev->dev);
	struct mhi_ep_loopback_echo *echo;

	/* Completion of an echo: called once for each mhi_ep_queue_buf() */
	if (result->buf_addr) {
		echo = container_of(result->buf_addr, struct mhi_ep_loopback_echo, data);
		if (result->transaction_status)
			dev_err_ratelimited(&mdev->dev,
					    "Failed to echo %zu bytes, %zu sent: %d\n",
					    echo->len, result->bytes_xferd,
					    result->transaction_status);

		kfree(echo);
		return;
	}

	if (result->transaction_status == -ENOTCONN) {
		mhi_ep_loopback_flush(loopback);
		return;
	}

	/* The host has posted DL buffers */
	queue_work(system_dfl_wq, &loopback->work);
}

static int mhi_ep_loopback_probe(struct mhi_ep_device *mdev,
				 const struct mhi_device_id *id)
{
	struct mhi_ep_loopback *loopback;

	loopback = devm_kzalloc(&mdev->dev, sizeof(*loopback), GFP_KERNEL);
	if (!loopback)
		return -ENOMEM;

	loopback->mdev = mdev;
	INIT_WORK(&loopback->work, mhi_ep_loopback_work);
	spin_lock_init(&loopback->lock);
	INIT_LIST_HEAD(&loopback->backlog);

	dev_set_drvdata(&mdev->dev, loopback);

	return 0;
}

static void mhi_ep_loopback_remove(struct mhi_ep_device *mdev)
{
	struct mhi_ep_loopback *loopback = dev_get_drvdata(&mdev->dev);

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
module_mhi_ep_driver(mhi_ep_loopback_driver);

MODULE_DESCRIPTION("MHI endpoint LOOPBACK client driver");
MODULE_LICENSE("GPL");
