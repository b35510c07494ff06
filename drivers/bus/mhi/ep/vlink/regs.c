// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: the register file and its interrupt model.
 *
 * The endpoint's MMIO space is a 4 KiB register file in RAM. The endpoint
 * core reads and writes it directly; the host reaches the same registers
 * through read_reg()/write_reg(), at the MHI register block (offset 0x100),
 * so both sides see one set of registers. The registers the endpoint core
 * expects the hardware to hold (the doorbell and BHI offsets, MHICFG and
 * the execution environment) are preset here.
 *
 * A host write to MHICTRL, to the command ring doorbell or to a channel
 * doorbell latches the matching bit of the endpoint's interrupt status
 * registers. The endpoint acknowledges by writing the clear registers,
 * which are plain RAM as well: they are folded into the status registers
 * (write-1-to-clear) before every latch and every time the interrupt line
 * is evaluated (regs_kunit.c tests this register model). The line
 * is level-triggered: it is asserted while any unmasked status bit is set,
 * and it is evaluated after every latching write and whenever the
 * endpoint's interrupt is unmasked. The endpoint can also open the mask of
 * a doorbell by a plain store that nothing here can observe, so while a
 * doorbell is latched under a closed mask, and only then, a timer polls
 * the line; an idle link never polls.
 */

#include <linux/bitfield.h>
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/lockdep.h>
#include <linux/string.h>

#include "vlink.h"

/*
 * Register values that real hardware holds from reset and that the endpoint
 * core reads but never writes.
 */
void vlink_preset_regs(struct vlink *vl)
{
	memset(vl->regs, 0, VLINK_REGS_SIZE);

	*vlink_reg(vl, EP_MHIREGLEN) = VLINK_REGS_SIZE - MHI_REG_OFFSET;
	*vlink_reg(vl, EP_MHICFG) =
		FIELD_PREP(MHICFG_NER_MASK, ARRAY_SIZE(vl->host_events)) |
		FIELD_PREP(MHICFG_NCH_MASK, VLINK_MAX_CHANNELS - 1);
	*vlink_reg(vl, EP_CHDBOFF) = CHDB_LOWER_n(0) - MHI_REG_OFFSET;
	*vlink_reg(vl, EP_ERDBOFF) = ERDB_LOWER_n(0) - MHI_REG_OFFSET;
	*vlink_reg(vl, EP_BHIOFF) = BHI_REG_OFFSET - MHI_REG_OFFSET;
	*vlink_reg(vl, EP_BHI_EXECENV) = MHI_EE_AMSS;
}

/* Fold the endpoint's write-1-to-clear acknowledgments into the status. */
static void vlink_fold(struct vlink *vl, u32 status, u32 clear)
{
	u32 bits = xchg(vlink_reg(vl, clear), 0);

	if (bits)
		WRITE_ONCE(*vlink_reg(vl, status),
			   READ_ONCE(*vlink_reg(vl, status)) & ~bits);
}

/* Level of the endpoint doorbell line; called with reg_lock held. */
bool vlink_ep_line(struct vlink *vl)
{
	bool level;
	int i;

	lockdep_assert_held(&vl->reg_lock);

	vlink_fold(vl, MHI_CTRL_INT_STATUS, MHI_CTRL_INT_CLEAR);
	level = READ_ONCE(*vlink_reg(vl, MHI_CTRL_INT_STATUS)) &
		READ_ONCE(*vlink_reg(vl, MHI_CTRL_INT_MASK)) &
		MHI_CTRL_INT_MASK_MASK;

	for (i = 0; i < MHI_MASK_ROWS_CH_DB; i++) {
		vlink_fold(vl, MHI_CHDB_INT_STATUS_n(i), MHI_CHDB_INT_CLEAR_n(i));
		level |= !!(READ_ONCE(*vlink_reg(vl, MHI_CHDB_INT_STATUS_n(i))) &
			    READ_ONCE(*vlink_reg(vl, MHI_CHDB_INT_MASK_n(i))));
	}

	for (i = 0; i < MHI_MASK_ROWS_EV_DB; i++) {
		vlink_fold(vl, MHI_ERDB_INT_STATUS_n(i), MHI_ERDB_INT_CLEAR_n(i));
		level |= !!(READ_ONCE(*vlink_reg(vl, MHI_ERDB_INT_STATUS_n(i))) &
			    READ_ONCE(*vlink_reg(vl, MHI_ERDB_INT_MASK_n(i))));
	}

	return level;
}

/* Status bits latched and not acknowledged, under a closed mask */
static u32 vlink_latched_masked(struct vlink *vl, u32 status, u32 clear, u32 mask)
{
	return READ_ONCE(*vlink_reg(vl, status)) & ~READ_ONCE(*vlink_reg(vl, clear)) &
	       ~READ_ONCE(*vlink_reg(vl, mask));
}

/*
 * Whether the line must be polled: a doorbell is latched under a closed
 * mask. The endpoint core opens a mask with a plain store to the register
 * file (a channel's when the channel starts, the control and command ones
 * when it enables them), which nothing here can observe, and hardware
 * raises its line at that store. Every other way the line can rise is
 * seen: a host write latches here, and the endpoint's irq unmask evaluates.
 * An acknowledgment stored in a clear register counts as done, as
 * write-1-to-clear does: nothing is folded here.
 *
 * Only doorbells whose mask the endpoint core can open count: the control
 * and command ones, and those of the channels of its configuration, which
 * it opens when the host starts them. The others stay latched under their
 * closed mask for good, and the host rings two of them all the time: the
 * device wake doorbell (channel 127) around its transfers, and an event
 * ring doorbell after every event ring it processes (the endpoint core
 * never opens those masks nor handles them). With them, every link that
 * ever carried data would poll forever.
 *
 * Called with reg_lock held.
 */
bool vlink_poll_needed(struct vlink *vl)
{
	u32 closed, chans;
	int i;

	lockdep_assert_held(&vl->reg_lock);

	closed = vlink_latched_masked(vl, MHI_CTRL_INT_STATUS, MHI_CTRL_INT_CLEAR,
				      MHI_CTRL_INT_MASK) & MHI_CTRL_INT_MASK_MASK;
	for (i = 0; i < MHI_MASK_ROWS_CH_DB; i++) {
		chans = vlink_ep_chdb_row(i);
		if (chans)
			closed |= vlink_latched_masked(vl, MHI_CHDB_INT_STATUS_n(i),
						       MHI_CHDB_INT_CLEAR_n(i),
						       MHI_CHDB_INT_MASK_n(i)) & chans;
	}

	return closed;
}

/*
 * Latch the interrupt status bit of a host write; called with reg_lock held.
 * An acknowledgment the endpoint stored in the clear register before this
 * write took effect when it was stored, as write-1-to-clear does: fold it in
 * first, or it would erase the doorbell latched now.
 */
bool vlink_latch(struct vlink *vl, u32 offset)
{
	u32 status, clear, bit;

	if (offset == EP_MHICTRL) {
		atomic64_inc(&vl->stats.ctrl_writes);
		status = MHI_CTRL_INT_STATUS;
		clear = MHI_CTRL_INT_CLEAR;
		bit = MHI_CTRL_INT_STATUS_MSK;
	} else if (offset == EP_CRDB_LOWER) {
		atomic64_inc(&vl->stats.cmd_doorbells);
		status = MHI_CTRL_INT_STATUS;
		clear = MHI_CTRL_INT_CLEAR;
		bit = MHI_CTRL_INT_STATUS_CRDB_MSK;
	} else if (offset >= CHDB_LOWER_n(0) &&
		   offset < CHDB_LOWER_n(VLINK_MAX_CHANNELS) &&
		   !((offset - CHDB_LOWER_n(0)) % 8)) {
		u32 ch = (offset - CHDB_LOWER_n(0)) / 8;

		atomic64_inc(&vl->stats.ch_doorbells);
		status = MHI_CHDB_INT_STATUS_n(ch / MHI_MASK_CH_LEN);
		clear = MHI_CHDB_INT_CLEAR_n(ch / MHI_MASK_CH_LEN);
		bit = BIT(ch % MHI_MASK_CH_LEN);
	} else if (offset >= ERDB_LOWER_n(0) &&
		   offset < ERDB_LOWER_n(MHI_MASK_ROWS_EV_DB * MHI_MASK_EV_LEN) &&
		   !((offset - ERDB_LOWER_n(0)) % 8)) {
		u32 er = (offset - ERDB_LOWER_n(0)) / 8;

		status = MHI_ERDB_INT_STATUS_n(er / MHI_MASK_EV_LEN);
		clear = MHI_ERDB_INT_CLEAR_n(er / MHI_MASK_EV_LEN);
		bit = BIT(er % MHI_MASK_EV_LEN);
	} else {
		return false;
	}

	vlink_fold(vl, status, clear);
	WRITE_ONCE(*vlink_reg(vl, status), READ_ONCE(*vlink_reg(vl, status)) | bit);

	return true;
}
