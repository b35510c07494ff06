// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the virtual MHI link's register model: how host writes
 * latch the endpoint's interrupt status, how the endpoint's
 * write-1-to-clear acknowledgments are folded in, and the level of the
 * endpoint's doorbell line, when the line must be polled, and what the host
 * reads and writes while the wire is cut. Built into mhi_vlink, they call the
 * functions of regs.c, irq.c and host.c through vlink.h; they run whenever
 * mhi_vlink is loaded.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/bitfield.h>
#include <linux/irq_work.h>
#include <linux/timer.h>

#include "vlink.h"

struct vlink_kunit {
	struct kunit *test;
	struct vlink vl;
	struct mhi_controller host;
	atomic_t ep_irqs;
};

static void vlink_kunit_ep_iw(struct irq_work *work)
{
	struct vlink_kunit *k = container_of(work, struct vlink_kunit, vl.ep_iw);

	atomic_inc(&k->ep_irqs);
}

static int vlink_kunit_init(struct kunit *test)
{
	struct vlink_kunit *k;
	struct device *dev;

	k = kunit_kzalloc(test, sizeof(*k), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, k);
	k->vl.regs = kunit_kzalloc(test, VLINK_REGS_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, k->vl.regs);
	dev = kunit_device_register(test, "mhi-vlink-kunit");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);

	k->vl.dev = dev;
	raw_spin_lock_init(&k->vl.reg_lock);
	init_waitqueue_head(&k->vl.hold_wq);
	k->vl.ep_iw = IRQ_WORK_INIT_HARD(vlink_kunit_ep_iw);
	timer_setup(&k->vl.poll_timer, vlink_poll, 0);
	dev_set_drvdata(dev, &k->vl);

	k->host.cntrl_dev = dev;
	k->host.regs = (void __iomem __force *)(k->vl.regs + MHI_REG_OFFSET);
	k->host.reg_len = VLINK_REGS_SIZE - MHI_REG_OFFSET;
	k->test = test;
	test->priv = k;

	return 0;
}

static void vlink_kunit_exit(struct kunit *test)
{
	struct vlink_kunit *k = test->priv;

	timer_delete_sync(&k->vl.poll_timer);
	irq_work_sync(&k->vl.ep_iw);
}

/* A host write to the register at endpoint offset @offset */
static void vlink_kunit_write(struct vlink_kunit *k, u32 offset, u32 val)
{
	vlink_host_write_reg(&k->host, k->host.regs + offset - MHI_REG_OFFSET, val);
}

static void vlink_kunit_ring_ch(struct vlink_kunit *k, u32 ch)
{
	vlink_kunit_write(k, CHDB_LOWER_n(ch), 1);
}

/* The endpoint core's acknowledgment: a plain store to the clear register */
static void vlink_kunit_ack_ch(struct vlink_kunit *k, u32 ch)
{
	WRITE_ONCE(*vlink_reg(&k->vl, MHI_CHDB_INT_CLEAR_n(ch / MHI_MASK_CH_LEN)),
		   BIT(ch % MHI_MASK_CH_LEN));
}

static void vlink_kunit_unmask_ch(struct vlink_kunit *k, u32 ch)
{
	u32 *mask = vlink_reg(&k->vl, MHI_CHDB_INT_MASK_n(ch / MHI_MASK_CH_LEN));

	WRITE_ONCE(*mask, READ_ONCE(*mask) | BIT(ch % MHI_MASK_CH_LEN));
}

static bool vlink_kunit_ch_pending(struct vlink_kunit *k, u32 ch)
{
	return READ_ONCE(*vlink_reg(&k->vl, MHI_CHDB_INT_STATUS_n(ch / MHI_MASK_CH_LEN))) &
	       BIT(ch % MHI_MASK_CH_LEN);
}

static bool vlink_kunit_line(struct vlink_kunit *k)
{
	unsigned long flags;
	bool level;

	raw_spin_lock_irqsave(&k->vl.reg_lock, flags);
	level = vlink_ep_line(&k->vl);
	raw_spin_unlock_irqrestore(&k->vl.reg_lock, flags);

	return level;
}

static void vlink_kunit_doorbell_raises_line(struct kunit *test)
{
	struct vlink_kunit *k = test->priv;

	vlink_kunit_unmask_ch(k, 33);
	vlink_kunit_ring_ch(k, 33);
	irq_work_sync(&k->vl.ep_iw);

	KUNIT_EXPECT_TRUE(test, vlink_kunit_ch_pending(k, 33));
	KUNIT_EXPECT_FALSE(test, vlink_kunit_ch_pending(k, 32));
	KUNIT_EXPECT_TRUE(test, vlink_kunit_line(k));
	KUNIT_EXPECT_EQ(test, atomic_read(&k->ep_irqs), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&k->vl.stats.ch_doorbells), 1);
}

static void vlink_kunit_masked_doorbell_waits(struct kunit *test)
{
	struct vlink_kunit *k = test->priv;

	vlink_kunit_ring_ch(k, 1);
	irq_work_sync(&k->vl.ep_iw);

	KUNIT_EXPECT_TRUE(test, vlink_kunit_ch_pending(k, 1));
	KUNIT_EXPECT_FALSE(test, vlink_kunit_line(k));
	KUNIT_EXPECT_EQ(test, atomic_read(&k->ep_irqs), 0);

	vlink_kunit_unmask_ch(k, 1);
	KUNIT_EXPECT_TRUE(test, vlink_kunit_line(k));
}

static void vlink_kunit_ack_clears(struct kunit *test)
{
	struct vlink_kunit *k = test->priv;

	vlink_kunit_unmask_ch(k, 0);
	vlink_kunit_ring_ch(k, 0);
	vlink_kunit_ack_ch(k, 0);

	KUNIT_EXPECT_FALSE(test, vlink_kunit_line(k));
	KUNIT_EXPECT_FALSE(test, vlink_kunit_ch_pending(k, 0));
	KUNIT_EXPECT_EQ(test, *vlink_reg(&k->vl, MHI_CHDB_INT_CLEAR_n(0)), 0);
}

/*
 * A doorbell rung after the endpoint acknowledged the previous one, but
 * before the link looked at the clear register again, is a new doorbell:
 * write-1-to-clear takes effect when it is written, so the acknowledgment
 * must not erase it.
 */
static void vlink_kunit_doorbell_after_ack_kept(struct kunit *test)
{
	struct vlink_kunit *k = test->priv;

	vlink_kunit_unmask_ch(k, 0);
	vlink_kunit_ring_ch(k, 0);
	vlink_kunit_ack_ch(k, 0);
	vlink_kunit_ring_ch(k, 0);

	KUNIT_EXPECT_TRUE(test, vlink_kunit_ch_pending(k, 0));
	KUNIT_EXPECT_TRUE(test, vlink_kunit_line(k));
}

static void vlink_kunit_ctrl_and_command_doorbells(struct kunit *test)
{
	struct vlink_kunit *k = test->priv;
	u32 status;

	vlink_kunit_write(k, EP_MHICTRL, 0);
	vlink_kunit_write(k, EP_CRDB_LOWER, 0);
	status = *vlink_reg(&k->vl, MHI_CTRL_INT_STATUS);

	KUNIT_EXPECT_EQ(test, status, MHI_CTRL_INT_STATUS_MSK | MHI_CTRL_INT_STATUS_CRDB_MSK);
	KUNIT_EXPECT_FALSE(test, vlink_kunit_line(k));

	*vlink_reg(&k->vl, MHI_CTRL_INT_MASK) = MHI_CTRL_INT_MASK_MASK;
	KUNIT_EXPECT_TRUE(test, vlink_kunit_line(k));

	WRITE_ONCE(*vlink_reg(&k->vl, MHI_CTRL_INT_CLEAR), MHI_CTRL_INT_STATUS_MSK);
	KUNIT_EXPECT_TRUE(test, vlink_kunit_line(k));
	KUNIT_EXPECT_EQ(test, *vlink_reg(&k->vl, MHI_CTRL_INT_STATUS),
			MHI_CTRL_INT_STATUS_CRDB_MSK);
}

static bool vlink_kunit_poll_needed(struct vlink_kunit *k)
{
	unsigned long flags;
	bool needed;

	raw_spin_lock_irqsave(&k->vl.reg_lock, flags);
	needed = vlink_poll_needed(&k->vl);
	raw_spin_unlock_irqrestore(&k->vl.reg_lock, flags);

	return needed;
}

/*
 * Whether the poll is armed, and disarm it. A poll that expires meanwhile
 * has re-armed itself by the time this returns, or decided not to.
 */
static bool vlink_kunit_poll_armed(struct vlink_kunit *k)
{
	return timer_delete_sync(&k->vl.poll_timer);
}

/* The poll is needed exactly while a doorbell is latched under a closed mask */
static void vlink_kunit_poll_needed_only_masked(struct kunit *test)
{
	struct vlink_kunit *k = test->priv;

	KUNIT_EXPECT_FALSE(test, vlink_kunit_poll_needed(k));

	vlink_kunit_ring_ch(k, VLINK_LOOPBACK_DL);
	KUNIT_EXPECT_TRUE(test, vlink_kunit_poll_needed(k));
	/* The endpoint opens the mask: the line is up, nothing to poll for */
	vlink_kunit_unmask_ch(k, VLINK_LOOPBACK_DL);
	KUNIT_EXPECT_FALSE(test, vlink_kunit_poll_needed(k));
	KUNIT_EXPECT_TRUE(test, vlink_kunit_line(k));

	/* An acknowledgment not folded yet counts: the bit is cleared */
	vlink_kunit_ring_ch(k, VLINK_LOOPBACK_UL);
	KUNIT_EXPECT_TRUE(test, vlink_kunit_poll_needed(k));
	vlink_kunit_ack_ch(k, VLINK_LOOPBACK_UL);
	KUNIT_EXPECT_FALSE(test, vlink_kunit_poll_needed(k));

	/* The host's device wake doorbell: no channel the endpoint can start */
	vlink_kunit_ring_ch(k, 127);
	vlink_kunit_ring_ch(k, 2);
	KUNIT_EXPECT_TRUE(test, vlink_kunit_ch_pending(k, 127));
	KUNIT_EXPECT_FALSE(test, vlink_kunit_poll_needed(k));

	/* MHICTRL and the command doorbell, before their masks open */
	vlink_kunit_write(k, EP_CRDB_LOWER, 0);
	KUNIT_EXPECT_TRUE(test, vlink_kunit_poll_needed(k));
	*vlink_reg(&k->vl, MHI_CTRL_INT_MASK) = MHI_CTRL_CRDB_MASK;
	KUNIT_EXPECT_FALSE(test, vlink_kunit_poll_needed(k));
	vlink_kunit_write(k, EP_MHICTRL, 0);
	KUNIT_EXPECT_TRUE(test, vlink_kunit_poll_needed(k));
	*vlink_reg(&k->vl, MHI_CTRL_INT_MASK) = MHI_CTRL_INT_MASK_MASK;
	KUNIT_EXPECT_FALSE(test, vlink_kunit_poll_needed(k));

	/* Event ring doorbells stay latched under their mask, unpolled */
	vlink_kunit_write(k, ERDB_LOWER_n(1), 0);
	KUNIT_EXPECT_TRUE(test, *vlink_reg(&k->vl, MHI_ERDB_INT_STATUS_n(0)) & BIT(1));
	KUNIT_EXPECT_FALSE(test, vlink_kunit_poll_needed(k));
}

/*
 * The timer follows the decision: armed by a doorbell latched under a
 * closed mask, it delivers the doorbell once the endpoint opens the mask,
 * and then stops; a link that needs no poll never arms it.
 */
static void vlink_kunit_poll_armed_only_while_needed(struct kunit *test)
{
	struct vlink_kunit *k = test->priv;

	/* An unmasked doorbell is delivered at once, with no poll */
	vlink_kunit_unmask_ch(k, 0);
	vlink_kunit_ring_ch(k, 0);
	irq_work_sync(&k->vl.ep_iw);
	KUNIT_EXPECT_EQ(test, atomic_read(&k->ep_irqs), 1);
	KUNIT_EXPECT_FALSE(test, vlink_kunit_poll_armed(k));

	/* An expiry with nothing latched under a mask does not re-arm */
	vlink_kunit_ack_ch(k, 0);
	vlink_poll(&k->vl.poll_timer);
	KUNIT_EXPECT_FALSE(test, vlink_kunit_poll_armed(k));

	/* A masked doorbell arms it, and each expiry re-arms it meanwhile */
	vlink_kunit_ring_ch(k, 1);
	KUNIT_EXPECT_TRUE(test, vlink_kunit_poll_armed(k));
	vlink_poll(&k->vl.poll_timer);
	KUNIT_EXPECT_TRUE(test, vlink_kunit_poll_armed(k));
	irq_work_sync(&k->vl.ep_iw);
	KUNIT_EXPECT_EQ(test, atomic_read(&k->ep_irqs), 1);

	/* The endpoint opens the mask by a plain store: the poll delivers */
	vlink_kunit_unmask_ch(k, 1);
	vlink_poll(&k->vl.poll_timer);
	irq_work_sync(&k->vl.ep_iw);
	KUNIT_EXPECT_EQ(test, atomic_read(&k->ep_irqs), 2);
	KUNIT_EXPECT_FALSE(test, vlink_kunit_poll_armed(k));
	KUNIT_EXPECT_GE(test, atomic64_read(&k->vl.stats.polls), 3);

	/* Once the wire is cut, nothing arms it */
	WRITE_ONCE(k->vl.cut, true);
	*vlink_reg(&k->vl, MHI_CHDB_INT_STATUS_n(0)) |= BIT(VLINK_LOOPBACK_DL);
	vlink_poll(&k->vl.poll_timer);
	KUNIT_EXPECT_FALSE(test, vlink_kunit_poll_armed(k));
}

static void vlink_kunit_cut_latches_nothing(struct kunit *test)
{
	struct vlink_kunit *k = test->priv;

	vlink_kunit_unmask_ch(k, 0);
	WRITE_ONCE(k->vl.cut, true);
	vlink_kunit_ring_ch(k, 0);

	KUNIT_EXPECT_FALSE(test, vlink_kunit_ch_pending(k, 0));
	KUNIT_EXPECT_EQ(test, atomic_read(&k->ep_irqs), 0);
}

static u32 vlink_kunit_read(struct vlink_kunit *k, u32 offset)
{
	u32 val = 0;

	KUNIT_EXPECT_EQ(k->test, vlink_host_read_reg(&k->host, k->host.regs + offset -
						     MHI_REG_OFFSET, &val), 0);

	return val;
}

/*
 * While the wire is cut the host sees a dead PCIe link: every register
 * reads all-ones, and no write reaches the register file, not even one
 * that latches nothing. The registers are the host's again once it is
 * mended.
 */
static void vlink_kunit_cut_reads_ones_drops_writes(struct kunit *test)
{
	u32 m0 = FIELD_PREP(MHISTATUS_MHISTATE_MASK, MHI_STATE_M0);
	struct vlink_kunit *k = test->priv;

	*vlink_reg(&k->vl, EP_MHISTATUS) = m0;
	KUNIT_EXPECT_EQ(test, vlink_kunit_read(k, EP_MHISTATUS), m0);

	WRITE_ONCE(k->vl.cut, true);
	KUNIT_EXPECT_EQ(test, vlink_kunit_read(k, EP_MHISTATUS), U32_MAX);
	KUNIT_EXPECT_EQ(test, vlink_kunit_read(k, EP_CRCBAP_LOWER), U32_MAX);

	vlink_kunit_write(k, EP_CRCBAP_LOWER, 0x1000);
	vlink_kunit_write(k, EP_MHICTRL, FIELD_PREP(MHICTRL_MHISTATE_MASK, MHI_STATE_M0));
	vlink_kunit_write(k, CHDB_LOWER_n(1), 0x2000);
	KUNIT_EXPECT_EQ(test, *vlink_reg(&k->vl, EP_CRCBAP_LOWER), 0);
	KUNIT_EXPECT_EQ(test, *vlink_reg(&k->vl, EP_MHICTRL), 0);
	KUNIT_EXPECT_EQ(test, *vlink_reg(&k->vl, CHDB_LOWER_n(1)), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&k->vl.stats.ctrl_writes), 0);

	WRITE_ONCE(k->vl.cut, false);
	KUNIT_EXPECT_EQ(test, vlink_kunit_read(k, EP_MHISTATUS), m0);
	vlink_kunit_write(k, EP_CRCBAP_LOWER, 0x1000);
	KUNIT_EXPECT_EQ(test, vlink_kunit_read(k, EP_CRCBAP_LOWER), 0x1000);
}

static struct kunit_case vlink_kunit_cases[] = {
	KUNIT_CASE(vlink_kunit_doorbell_raises_line),
	KUNIT_CASE(vlink_kunit_masked_doorbell_waits),
	KUNIT_CASE(vlink_kunit_ack_clears),
	KUNIT_CASE(vlink_kunit_doorbell_after_ack_kept),
	KUNIT_CASE(vlink_kunit_ctrl_and_command_doorbells),
	KUNIT_CASE(vlink_kunit_cut_latches_nothing),
	KUNIT_CASE(vlink_kunit_poll_needed_only_masked),
	KUNIT_CASE(vlink_kunit_poll_armed_only_while_needed),
	KUNIT_CASE(vlink_kunit_cut_reads_ones_drops_writes),
	{}
};

static struct kunit_suite vlink_kunit_suite = {
	.name = "mhi_vlink_regs",
	.init = vlink_kunit_init,
	.exit = vlink_kunit_exit,
	.test_cases = vlink_kunit_cases,
};

kunit_test_suite(vlink_kunit_suite);
