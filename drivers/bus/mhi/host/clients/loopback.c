// SPDX-License-Identifier: GPL-2.0-only

#include <linux/completion.h>
#include <linux/crc32.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-direction.h>
#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/kstrtox.h>
#include <linux/math64.h>
#include <linux/mhi.h>
#include <linux/minmax.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/time.h>
#include <linux/types.h>
#include <linux/unaligned.h>

/* The length field of a TRE is 16 bits wide */
#define MHI_LOOPBACK_MAX_TRE_SIZE	U16_MAX
#define MHI_LOOPBACK_DEFAULT_TRE_SIZE	32
#define MHI_LOOPBACK_MAX_TIMEOUT_MS	(600 * MSEC_PER_SEC)

static unsigned int timeout_ms = 5000;

static int mhi_loopback_set_timeout(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, MHI_LOOPBACK_MAX_TIMEOUT_MS);
}

static const struct kernel_param_ops mhi_loopback_timeout_ops = {
	.set = mhi_loopback_set_timeout,
	.get = param_get_uint,
};
module_param_cb(timeout_ms, &mhi_loopback_timeout_ops, &timeout_ms, 0644);
MODULE_PARM_DESC(timeout_ms,
		 "Time in ms a test waits for the whole echo, 1 to 600000 (default: 5000)");

/**
 * struct mhi_loopback_test - State of one test
 * @done: Completed when the test has passed or failed
 * @ul_bufs: Pattern sent, one buffer per UL TRE
 * @dl_bufs: Buffers receiving the echo, one per DL TRE
 * @num_tre: Number of buffers in @ul_bufs and in @dl_bufs
 * @tre_size: Size of every buffer, in bytes
 * @total: Number of bytes sent
 * @received: Number of bytes echoed back and matched so far
 * @mismatch: Offset of the first echoed byte that differs from the data sent,
 *            @total if more bytes came back than were sent, SIZE_MAX if the
 *            echo matches so far
 * @rx_bytes: Number of bytes the DL completions delivered, matched or not
 * @rx_crc: CRC-32 of the @rx_bytes bytes, in the order they came (not inverted)
 * @first_rx_ns: When the first DL completion came, in ktime_get_ns() time
 * @end_ns: When the test passed or failed, in ktime_get_ns() time
 * @ul_pending: Number of UL buffers queued to the channel
 * @dl_pending: Number of DL buffers queued to the channel
 * @error: First error detected by the transfer callbacks, or 0
 */
struct mhi_loopback_test {
	struct completion done;
	u8 **ul_bufs;
	u8 **dl_bufs;
	unsigned int num_tre;
	size_t tre_size;
	size_t total;
	size_t received;
	size_t mismatch;
	size_t rx_bytes;
	u32 rx_crc;
	u64 first_rx_ns;
	u64 end_ns;
	unsigned int ul_pending;
	unsigned int dl_pending;
	int error;
};

/**
 * struct mhi_loopback_report - What the latest start did, for debugfs
 * @seq: Number of starts that reached the device since probe
 * @seed: Key of the pattern sent (see mhi_loopback_fill())
 * @tre_size: Size of the TREs sent
 * @num_tre: Number of TREs sent
 * @sent: Number of bytes queued on UL
 * @received: Number of bytes the DL completions delivered
 * @crc32: CRC-32 (IEEE 802.3) of the bytes received, in the order they came
 * @mismatch: Offset of the first byte that differs from the data sent,
 *            SIZE_MAX if none
 * @duration_ns: From the first buffer queued to the end of the test
 * @queue_ns: From the first buffer queued to the return of the last queueing
 *            (which rang the UL doorbell)
 * @first_echo_ns: From the first buffer queued to the first DL completion,
 *                 0 if none came
 * @result: 0 or the negative errno the start returned
 *
 * This is a test aid, not ABI: it lets a test check an echo without
 * trusting this driver's comparison, from the seed and the CRC.
 */
struct mhi_loopback_report {
	u64 seq;
	u64 seed;
	u32 tre_size;
	u32 num_tre;
	size_t sent;
	size_t received;
	u32 crc32;
	size_t mismatch;
	u64 duration_ns;
	u64 queue_ns;
	u64 first_echo_ns;
	int result;
};

/**
 * struct mhi_loopback - LOOPBACK channel pair of an MHI device
 * @mdev: MHI device of the channel pair
 * @lock: Serialises the tests and the changes of the test parameters
 * @test_lock: Protects @test and its state against the transfer callbacks,
 *             and @report against its debugfs reader
 * @test: Test running, or NULL
 * @run: State of the tests, used by one test at a time
 * @report: What the latest start did
 * @debugfs: debugfs directory of the device
 * @ul_bufs: Buffers of the UL TREs, kept from one test to the next
 * @dl_bufs: Buffers of the DL TREs, kept from one test to the next
 * @nr_bufs: Number of buffers in @ul_bufs and in @dl_bufs
 * @buf_size: Size of each of these buffers
 * @status: Result of the latest test: "not started", "pass" or "fail"
 * @tre_size: Size of the TREs of the next test
 * @num_tre: Number of TREs of the next test
 * @max_num_tre: Number of TREs that both rings can hold
 * @prepared: The channels are started
 * @removing: The device is being removed, the channels must stay stopped
 */
struct mhi_loopback {
	struct mhi_device *mdev;
	struct mutex lock; /* serialises the tests */
	spinlock_t test_lock; /* protects the running test and the report */
	struct mhi_loopback_test *test;
	struct mhi_loopback_test run;
	struct mhi_loopback_report report;
	struct dentry *debugfs;
	u8 **ul_bufs;
	u8 **dl_bufs;
	unsigned int nr_bufs;
	size_t buf_size;
	const char *status;
	u32 tre_size;
	u32 num_tre;
	u32 max_num_tre;
	bool prepared;
	bool removing;
};

static struct dentry *mhi_loopback_debugfs_root;

/*
 * The data sent is a keyed, position-dependent pattern: the 8 bytes at
 * stream offset 8 * i are splitmix64(seed + (i + 1) * golden ratio), little
 * endian. A new seed is drawn for every test, so that neither the echo of an
 * earlier test nor a chunk echoed at the wrong offset can match. The
 * selftest regenerates the pattern from the seed to check an echo on its
 * own (tools/testing/selftests/mhi).
 */
#define MHI_LOOPBACK_GOLDEN	0x9e3779b97f4a7c15ULL

static u64 mhi_loopback_word(u64 seed, u64 index)
{
	u64 z = seed + (index + 1) * MHI_LOOPBACK_GOLDEN;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

	return z ^ (z >> 31);
}

/* Fill @buf with the @len bytes of the pattern that start at @offset */
static void mhi_loopback_fill(u8 *buf, size_t len, u64 seed, u64 offset)
{
	u64 index = offset / 8;
	unsigned int skip = offset % 8;
	u8 word[8];

	if (skip) {
		size_t count = min_t(size_t, len, 8 - skip);

		put_unaligned_le64(mhi_loopback_word(seed, index++), word);
		memcpy(buf, word + skip, count);
		buf += count;
		len -= count;
	}

	for (; len >= 8; len -= 8, buf += 8)
		put_unaligned_le64(mhi_loopback_word(seed, index++), buf);

	if (len) {
		put_unaligned_le64(mhi_loopback_word(seed, index), word);
		memcpy(buf, word, len);
	}
}

/* Reduce an error of the MHI core to the errors documented for start */
static int mhi_loopback_errno(int err)
{
	switch (err) {
	case -ENOMEM:
	case -ENODEV:
		return err;
	default:
		return -EIO;
	}
}

static void mhi_loopback_end(struct mhi_loopback_test *test)
{
	if (!test->end_ns)
		test->end_ns = ktime_get_ns();

	complete(&test->done);
}

static void mhi_loopback_fail(struct mhi_loopback_test *test, int err)
{
	if (!test->error)
		test->error = err;

	mhi_loopback_end(test);
}

static bool mhi_loopback_passed(struct mhi_loopback_test *test)
{
	return !test->error && !test->ul_pending && !test->dl_pending &&
	       test->received == test->total;
}

/*
 * Compare @len echoed bytes with the data sent, from where the previous
 * echoed bytes ended. The echo is a byte stream: its chunks need not match
 * the TREs it was sent in.
 */
static bool mhi_loopback_match(struct mhi_loopback_test *test, const u8 *buf,
			       size_t len)
{
	size_t offset = test->received;

	while (len) {
		const u8 *sent = test->ul_bufs[offset / test->tre_size];
		size_t start = offset % test->tre_size;
		size_t count = min(len, test->tre_size - start);
		size_t i;

		if (memcmp(buf, sent + start, count)) {
			for (i = 0; buf[i] == sent[start + i]; i++)
				;
			test->mismatch = offset + i;
			return false;
		}

		buf += count;
		offset += count;
		len -= count;
	}

	return true;
}

static void mhi_loopback_ul_xfer_cb(struct mhi_device *mdev,
				    struct mhi_result *result)
{
	struct mhi_loopback *loopback = dev_get_drvdata(&mdev->dev);
	struct mhi_loopback_test *test;

	spin_lock_bh(&loopback->test_lock);

	test = loopback->test;
	if (!test)
		goto out_unlock;

	test->ul_pending--;

	if (result->transaction_status == -ENOTCONN)
		mhi_loopback_fail(test, -ENODEV);
	else if (result->transaction_status)
		mhi_loopback_fail(test, -EIO);
	else if (mhi_loopback_passed(test))
		mhi_loopback_end(test);

out_unlock:
	spin_unlock_bh(&loopback->test_lock);
}

/*
 * The MHI core calls this without holding the channel lock, so a buffer can
 * be queued again from here, as long as the queueing is serialised with the
 * start of the test: it is done under test_lock everywhere.
 */
static void mhi_loopback_dl_xfer_cb(struct mhi_device *mdev,
				    struct mhi_result *result)
{
	struct mhi_loopback *loopback = dev_get_drvdata(&mdev->dev);
	size_t len = result->bytes_xferd;
	struct mhi_loopback_test *test;
	u8 *buf = result->buf_addr;
	int ret;

	spin_lock_bh(&loopback->test_lock);

	test = loopback->test;
	if (!test)
		goto out_unlock;

	test->dl_pending--;

	switch (result->transaction_status) {
	case 0:
	case -EOVERFLOW:	/* the echo goes on in the next buffer */
		break;
	case -ENOTCONN:
		mhi_loopback_fail(test, -ENODEV);
		goto out_unlock;
	default:
		mhi_loopback_fail(test, -EIO);
		goto out_unlock;
	}

	/*
	 * Account for every byte delivered, before and whatever the
	 * comparison below decides: the report must not depend on it.
	 */
	if (!test->first_rx_ns)
		test->first_rx_ns = ktime_get_ns();
	test->rx_bytes += len;
	test->rx_crc = crc32_le(test->rx_crc, buf, len);

	if (test->error)
		goto out_unlock;

	if (len > test->total - test->received) {
		test->mismatch = test->total;
		mhi_loopback_fail(test, -EIO);
		goto out_unlock;
	}

	if (!mhi_loopback_match(test, buf, len)) {
		mhi_loopback_fail(test, -EIO);
		goto out_unlock;
	}

	test->received += len;

	/*
	 * The device may spread the echo over more DL buffers than were sent
	 * in UL buffers. Queue this one again as long as the buffers still
	 * queued cannot take the rest of the echo. That never leaves a buffer
	 * queued once the whole echo is back.
	 */
	if ((size_t)test->dl_pending * test->tre_size < test->total - test->received) {
		ret = mhi_queue_buf(mdev, DMA_FROM_DEVICE, buf, test->tre_size, MHI_EOT);
		if (ret) {
			mhi_loopback_fail(test, mhi_loopback_errno(ret));
			goto out_unlock;
		}

		test->dl_pending++;
	}

	if (mhi_loopback_passed(test))
		mhi_loopback_end(test);

out_unlock:
	spin_unlock_bh(&loopback->test_lock);
}

static void mhi_loopback_bufs_free(struct mhi_loopback *loopback)
{
	unsigned int i;

	for (i = 0; i < loopback->nr_bufs; i++) {
		kfree(loopback->ul_bufs[i]);
		kfree(loopback->dl_bufs[i]);
	}

	kfree(loopback->ul_bufs);
	kfree(loopback->dl_bufs);
	loopback->ul_bufs = NULL;
	loopback->dl_bufs = NULL;
	loopback->nr_bufs = 0;
	loopback->buf_size = 0;
}

/*
 * The buffers are kept from one test to the next and allocated again only
 * when the shape of the tests changes. Every buffer is allocated on its own
 * so that it can be mapped for DMA.
 */
static int mhi_loopback_bufs_get(struct mhi_loopback *loopback,
				 unsigned int num_tre, size_t tre_size)
{
	unsigned int i;

	if (loopback->buf_size == tre_size && loopback->nr_bufs >= num_tre)
		return 0;

	mhi_loopback_bufs_free(loopback);

	loopback->ul_bufs = kcalloc(num_tre, sizeof(*loopback->ul_bufs), GFP_KERNEL);
	loopback->dl_bufs = kcalloc(num_tre, sizeof(*loopback->dl_bufs), GFP_KERNEL);
	if (!loopback->ul_bufs || !loopback->dl_bufs)
		goto err_free;

	for (i = 0; i < num_tre; i++) {
		loopback->ul_bufs[i] = kmalloc(tre_size, GFP_KERNEL);
		loopback->dl_bufs[i] = kmalloc(tre_size, GFP_KERNEL);
		loopback->nr_bufs = i + 1;
		if (!loopback->ul_bufs[i] || !loopback->dl_bufs[i])
			goto err_free;
	}

	loopback->buf_size = tre_size;

	return 0;

err_free:
	mhi_loopback_bufs_free(loopback);

	return -ENOMEM;
}

/* Set up the test of @num_tre TREs of @tre_size bytes, keyed by @seed */
static int mhi_loopback_test_init(struct mhi_loopback *loopback,
				  unsigned int num_tre, size_t tre_size, u64 seed)
{
	struct mhi_loopback_test *test = &loopback->run;
	unsigned int i;
	size_t total;
	int ret;

	if (check_mul_overflow(tre_size, num_tre, &total))
		return -ENOMEM;

	ret = mhi_loopback_bufs_get(loopback, num_tre, tre_size);
	if (ret)
		return ret;

	memset(test, 0, sizeof(*test));
	init_completion(&test->done);
	test->ul_bufs = loopback->ul_bufs;
	test->dl_bufs = loopback->dl_bufs;
	test->num_tre = num_tre;
	test->tre_size = tre_size;
	test->total = total;
	test->mismatch = SIZE_MAX;
	test->rx_crc = ~0U;

	for (i = 0; i < num_tre; i++)
		mhi_loopback_fill(test->ul_bufs[i], tre_size, seed, (u64)i * tre_size);

	return 0;
}

static int mhi_loopback_prepare(struct mhi_loopback *loopback)
{
	int ret;

	ret = mhi_prepare_for_transfer(loopback->mdev);
	if (ret) {
		dev_err(&loopback->mdev->dev, "Failed to start the channels: %d\n", ret);
		return ret;
	}

	loopback->prepared = true;

	return 0;
}

/*
 * Resetting the channels hands every buffer still queued back, so nothing
 * the device could write to outlives the test. The channels are then started
 * again for the next test, unless the device is going away.
 */
static void mhi_loopback_flush(struct mhi_loopback *loopback)
{
	mhi_unprepare_from_transfer(loopback->mdev);
	loopback->prepared = false;

	if (!READ_ONCE(loopback->removing))
		mhi_loopback_prepare(loopback);
}

/* Queue one buffer, serialised with the transfer callbacks */
static int mhi_loopback_queue(struct mhi_loopback *loopback,
			      struct mhi_loopback_test *test,
			      enum dma_data_direction dir, u8 *buf,
			      enum mhi_flags flags)
{
	int ret;

	spin_lock_bh(&loopback->test_lock);

	ret = mhi_queue_buf(loopback->mdev, dir, buf, test->tre_size, flags);
	if (!ret) {
		if (dir == DMA_TO_DEVICE)
			test->ul_pending++;
		else
			test->dl_pending++;
	}

	spin_unlock_bh(&loopback->test_lock);

	return ret;
}

/* Publish what the start did, for the debugfs reader */
static void mhi_loopback_record(struct mhi_loopback *loopback,
				struct mhi_loopback_test *test, u64 seed,
				u64 start_ns, u64 queued_ns, int ret)
{
	struct mhi_loopback_report *report = &loopback->report;

	spin_lock_bh(&loopback->test_lock);
	report->seq++;
	report->seed = seed;
	report->tre_size = test->tre_size;
	report->num_tre = test->num_tre;
	report->sent = test->total;
	report->received = test->rx_bytes;
	report->crc32 = ~test->rx_crc;
	report->mismatch = test->mismatch < test->total ? test->mismatch : SIZE_MAX;
	report->duration_ns = (test->end_ns ?: ktime_get_ns()) - start_ns;
	report->queue_ns = queued_ns - start_ns;
	report->first_echo_ns = test->first_rx_ns ? test->first_rx_ns - start_ns : 0;
	report->result = ret;
	spin_unlock_bh(&loopback->test_lock);
}

static int mhi_loopback_run(struct mhi_loopback *loopback)
{
	struct mhi_loopback_test *test = &loopback->run;
	unsigned int num_tre = loopback->num_tre;
	struct device *dev = &loopback->mdev->dev;
	u64 seed = get_random_u64();
	long timeout = 0;
	u64 start_ns, queued_ns;
	unsigned int i;
	int ret;

	if (READ_ONCE(loopback->removing))
		return -ENODEV;

	/* The channels may not have restarted after the previous test */
	if (!loopback->prepared) {
		ret = mhi_loopback_prepare(loopback);
		if (ret)
			return ret == -ENOMEM ? ret : -ENODEV;
	}

	ret = mhi_loopback_test_init(loopback, num_tre, loopback->tre_size, seed);
	if (ret)
		return ret;

	spin_lock_bh(&loopback->test_lock);
	loopback->test = test;
	spin_unlock_bh(&loopback->test_lock);

	start_ns = ktime_get_ns();

	/* Queue the DL buffers first, so that the echo finds them */
	for (i = 0, ret = 0; i < num_tre && !ret; i++)
		ret = mhi_loopback_queue(loopback, test, DMA_FROM_DEVICE,
					 test->dl_bufs[i], MHI_EOT);

	/* Send the data as one transfer made of num_tre chained TREs */
	for (i = 0; i < num_tre && !ret; i++)
		ret = mhi_loopback_queue(loopback, test, DMA_TO_DEVICE,
					 test->ul_bufs[i],
					 i == num_tre - 1 ? MHI_EOT : MHI_CHAIN);
	queued_ns = ktime_get_ns();

	if (ret) {
		dev_err(dev, "Failed to queue buffer: %d\n", ret);
		ret = mhi_loopback_errno(ret);
	} else {
		timeout = msecs_to_jiffies(READ_ONCE(timeout_ms));
		timeout = wait_for_completion_interruptible_timeout(&test->done, timeout);
	}

	/* From here on, the transfer callbacks leave the test alone */
	spin_lock_bh(&loopback->test_lock);
	loopback->test = NULL;

	if (!ret) {
		if (test->error)
			ret = test->error;
		else if (!mhi_loopback_passed(test))
			ret = timeout < 0 ? -EINTR : -ETIMEDOUT;
	}
	spin_unlock_bh(&loopback->test_lock);

	mhi_loopback_record(loopback, test, seed, start_ns, queued_ns, ret);

	if (ret) {
		if (test->mismatch < test->total)
			dev_err(dev, "Echo differs from the data sent at byte %zu\n",
				test->mismatch);
		else if (test->mismatch == test->total)
			dev_err(dev, "Echo longer than the %zu bytes sent\n", test->total);

		dev_err(dev, "Loopback test failed: %d (%zu of %zu bytes back, %u UL and %u DL buffers queued)\n",
			ret, test->received, test->total, test->ul_pending,
			test->dl_pending);

		mhi_loopback_flush(loopback);
	}

	return ret;
}

/*
 * The copy ceiling of this machine, for make bench: write a byte count to
 * debugfs mhi_loopback/memcpy, then read it to copy that many bytes from
 * one kernel buffer to another with the kernel's memcpy() for about 250 ms.
 * A test aid, not ABI.
 */
#define MHI_LOOPBACK_COPY_NS	(250 * NSEC_PER_MSEC)
#define MHI_LOOPBACK_COPY_MAX	(64 * SZ_1M)

static size_t mhi_loopback_copy_len = SZ_64K;

static int mhi_loopback_copy_show(struct seq_file *s, void *unused)
{
	size_t len = clamp_t(size_t, READ_ONCE(mhi_loopback_copy_len), 1,
			     MHI_LOOPBACK_COPY_MAX);
	/* Read the clock about once per MiB copied */
	unsigned int batch = max_t(size_t, SZ_1M / len, 1), i;
	u64 start, ns, copies = 0;
	void *src, *dst;
	int ret = 0;

	src = kvmalloc(len, GFP_KERNEL);
	dst = kvmalloc(len, GFP_KERNEL);
	if (!src || !dst) {
		ret = -ENOMEM;
		goto out_free;
	}

	memset(src, 0x5a, len);
	memset(dst, 0, len);

	start = ktime_get_ns();
	do {
		for (i = 0; i < batch; i++) {
			memcpy(dst, src, len);
			barrier_data(dst);
		}
		copies += batch;
		ns = ktime_get_ns() - start;
		cond_resched();
	} while (ns < MHI_LOOPBACK_COPY_NS);

	/* MB/s = bytes per ns * 1000, printed with one decimal */
	seq_printf(s, "bytes=%zu,copies=%llu,ns=%llu,mbps_x10=%llu\n", len, copies,
		   ns, div64_u64((u64)len * copies * 10000, ns));

out_free:
	kvfree(dst);
	kvfree(src);

	return ret;
}
DEFINE_SHOW_ATTRIBUTE(mhi_loopback_copy);

static int mhi_loopback_report_show(struct seq_file *s, void *unused)
{
	struct mhi_loopback *loopback = s->private;
	struct mhi_loopback_report report;

	spin_lock_bh(&loopback->test_lock);
	report = loopback->report;
	spin_unlock_bh(&loopback->test_lock);

	seq_printf(s, "seq=%llu\n", report.seq);
	seq_printf(s, "seed=0x%016llx\n", report.seed);
	seq_printf(s, "tre_size=%u\n", report.tre_size);
	seq_printf(s, "num_tre=%u\n", report.num_tre);
	seq_printf(s, "sent=%zu\n", report.sent);
	seq_printf(s, "received=%zu\n", report.received);
	seq_printf(s, "crc32=0x%08x\n", report.crc32);
	if (report.mismatch == SIZE_MAX)
		seq_puts(s, "mismatch=none\n");
	else
		seq_printf(s, "mismatch=%zu\n", report.mismatch);
	seq_printf(s, "duration_ns=%llu\n", report.duration_ns);
	seq_printf(s, "queue_ns=%llu\n", report.queue_ns);
	seq_printf(s, "first_echo_ns=%llu\n", report.first_echo_ns);
	seq_printf(s, "result=%d\n", report.result);

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mhi_loopback_report);

static ssize_t tre_size_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct mhi_loopback *loopback = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(loopback->tre_size));
}

static ssize_t tre_size_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t count)
{
	struct mhi_loopback *loopback = dev_get_drvdata(dev);
	u32 tre_size;
	int ret;

	if (kstrtou32(buf, 0, &tre_size) || !tre_size ||
	    tre_size > MHI_LOOPBACK_MAX_TRE_SIZE)
		return -EINVAL;

	ret = mutex_lock_interruptible(&loopback->lock);
	if (ret)
		return ret;

	WRITE_ONCE(loopback->tre_size, tre_size);
	mutex_unlock(&loopback->lock);

	return count;
}
static DEVICE_ATTR_RW(tre_size);

static ssize_t max_tre_size_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", MHI_LOOPBACK_MAX_TRE_SIZE);
}
static DEVICE_ATTR_RO(max_tre_size);

static ssize_t num_tre_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct mhi_loopback *loopback = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(loopback->num_tre));
}

static ssize_t num_tre_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct mhi_loopback *loopback = dev_get_drvdata(dev);
	u32 num_tre;
	int ret;

	if (kstrtou32(buf, 0, &num_tre) || !num_tre ||
	    num_tre > loopback->max_num_tre)
		return -EINVAL;

	ret = mutex_lock_interruptible(&loopback->lock);
	if (ret)
		return ret;

	WRITE_ONCE(loopback->num_tre, num_tre);
	mutex_unlock(&loopback->lock);

	return count;
}
static DEVICE_ATTR_RW(num_tre);

static ssize_t start_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct mhi_loopback *loopback = dev_get_drvdata(dev);
	bool start;
	int ret;

	if (kstrtobool(buf, &start) || !start)
		return -EINVAL;

	ret = mutex_lock_interruptible(&loopback->lock);
	if (ret)
		return ret;

	ret = mhi_loopback_run(loopback);
	loopback->status = ret ? "fail" : "pass";
	mutex_unlock(&loopback->lock);

	return ret ?: count;
}
static DEVICE_ATTR_WO(start);

static ssize_t status_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct mhi_loopback *loopback = dev_get_drvdata(dev);
	const char *status;
	int ret;

	/* Wait for the result of a running test */
	ret = mutex_lock_interruptible(&loopback->lock);
	if (ret)
		return ret;

	status = loopback->status;
	mutex_unlock(&loopback->lock);

	return sysfs_emit(buf, "%s\n", status);
}
static DEVICE_ATTR_RO(status);

static struct attribute *mhi_loopback_attrs[] = {
	&dev_attr_tre_size.attr,
	&dev_attr_max_tre_size.attr,
	&dev_attr_num_tre.attr,
	&dev_attr_start.attr,
	&dev_attr_status.attr,
	NULL
};

static const struct attribute_group mhi_loopback_group = {
	.attrs = mhi_loopback_attrs,
};

static int mhi_loopback_probe(struct mhi_device *mdev,
			      const struct mhi_device_id *id)
{
	struct mhi_loopback *loopback;
	int ul_free, dl_free;
	int ret;

	if (!mdev->ul_chan || !mdev->dl_chan)
		return -ENODEV;

	loopback = devm_kzalloc(&mdev->dev, sizeof(*loopback), GFP_KERNEL);
	if (!loopback)
		return -ENOMEM;

	loopback->mdev = mdev;
	mutex_init(&loopback->lock);
	spin_lock_init(&loopback->test_lock);
	loopback->status = "not started";
	loopback->tre_size = MHI_LOOPBACK_DEFAULT_TRE_SIZE;
	loopback->num_tre = 1;
	dev_set_drvdata(&mdev->dev, loopback);

	ret = mhi_loopback_prepare(loopback);
	if (ret)
		goto err_destroy_mutex;

	/* Nothing is queued yet: the free descriptors are the ring capacities */
	ul_free = mhi_get_free_desc_count(mdev, DMA_TO_DEVICE);
	dl_free = mhi_get_free_desc_count(mdev, DMA_FROM_DEVICE);
	if (ul_free < 1 || dl_free < 1) {
		dev_err(&mdev->dev, "Rings too small: %d UL and %d DL TREs\n",
			ul_free, dl_free);
		ret = -EINVAL;
		goto err_unprepare;
	}

	loopback->max_num_tre = min(ul_free, dl_free);

	/*
	 * The per-start report is a test aid: a debugfs failure is not fatal.
	 * It is there before the attributes are, so that a test that sees the
	 * attributes finds its report too.
	 */
	loopback->debugfs = debugfs_create_dir(dev_name(&mdev->dev),
					       mhi_loopback_debugfs_root);
	debugfs_create_file("last_start", 0400, loopback->debugfs, loopback,
			    &mhi_loopback_report_fops);

	ret = sysfs_create_group(&mdev->dev.kobj, &mhi_loopback_group);
	if (ret) {
		dev_err(&mdev->dev, "Failed to create the sysfs attributes: %d\n", ret);
		goto err_remove_debugfs;
	}

	return 0;

err_remove_debugfs:
	debugfs_remove_recursive(loopback->debugfs);
err_unprepare:
	mhi_unprepare_from_transfer(mdev);
err_destroy_mutex:
	mutex_destroy(&loopback->lock);

	return ret;
}

static void mhi_loopback_remove(struct mhi_device *mdev)
{
	struct mhi_loopback *loopback = dev_get_drvdata(&mdev->dev);

	/* A test that fails from now on must not start the channels again */
	WRITE_ONCE(loopback->removing, true);

	/* This waits for the attribute methods running, a test included */
	sysfs_remove_group(&mdev->dev.kobj, &mhi_loopback_group);
	debugfs_remove_recursive(loopback->debugfs);

	if (loopback->prepared)
		mhi_unprepare_from_transfer(mdev);

	/* The reset channels hold none of the buffers any more */
	mhi_loopback_bufs_free(loopback);
	mutex_destroy(&loopback->lock);
}

static const struct mhi_device_id mhi_loopback_id_table[] = {
	{ .chan = "LOOPBACK" },
	{}
};
MODULE_DEVICE_TABLE(mhi, mhi_loopback_id_table);

static struct mhi_driver mhi_loopback_driver = {
	.probe = mhi_loopback_probe,
	.remove = mhi_loopback_remove,
	.ul_xfer_cb = mhi_loopback_ul_xfer_cb,
	.dl_xfer_cb = mhi_loopback_dl_xfer_cb,
	.id_table = mhi_loopback_id_table,
	.driver = {
		.name = "mhi_loopback",
	},
};

static int __init mhi_loopback_init(void)
{
	int ret;

	mhi_loopback_debugfs_root = debugfs_create_dir("mhi_loopback", NULL);
	debugfs_create_size_t("memcpy_len", 0600, mhi_loopback_debugfs_root,
			      &mhi_loopback_copy_len);
	debugfs_create_file("memcpy", 0400, mhi_loopback_debugfs_root, NULL,
			    &mhi_loopback_copy_fops);

	ret = mhi_driver_register(&mhi_loopback_driver);
	if (ret)
		debugfs_remove_recursive(mhi_loopback_debugfs_root);

	return ret;
}
module_init(mhi_loopback_init);

static void __exit mhi_loopback_exit(void)
{
	mhi_driver_unregister(&mhi_loopback_driver);
	debugfs_remove_recursive(mhi_loopback_debugfs_root);
}
module_exit(mhi_loopback_exit);

MODULE_DESCRIPTION("MHI LOOPBACK client driver");
MODULE_LICENSE("GPL");
