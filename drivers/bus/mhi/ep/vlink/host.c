// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: the host controller. Its register accessors, which reach
 * the register file at the MHI register block and latch the endpoint's
 * doorbells, its runtime PM and status callbacks, its channel and event ring
 * configuration (from the module parameters) and its allocation.
 */

#include <linux/bitfield.h>
#include <linux/bug.h>
#include <linux/dev_printk.h>
#include <linux/dma-mapping.h>
#include <linux/mhi.h>

#include "vlink.h"

/* Host controller callbacks; they can be called with interrupts off. */
static struct vlink *host_to_vlink(struct mhi_controller *host)
{
	return dev_get_drvdata(host->cntrl_dev);
}

int vlink_host_read_reg(struct mhi_controller *host, void __iomem *addr,
			u32 *out)
{
	struct vlink *vl = host_to_vlink(host);
	ptrdiff_t offset = (void __force *)addr - (void __force *)host->regs;

	if (WARN_ON_ONCE(offset < 0 || offset >= host->reg_len || offset % 4))
		return -EIO;

	/*
	 * A dead PCIe link: the read completes with all-ones, as readl() does
	 * for a controller such as pci_generic. The host core reads MHISTATUS
	 * as MHI_STATE_SYS_ERR then.
	 */
	if (READ_ONCE(vl->cut)) {
		*out = U32_MAX;
		return 0;
	}

	*out = READ_ONCE(*vlink_reg(vl, MHI_REG_OFFSET + offset));

	return 0;
}

void vlink_host_write_reg(struct mhi_controller *host, void __iomem *addr,
			  u32 val)
{
	struct vlink *vl = host_to_vlink(host);
	ptrdiff_t offset = (void __force *)addr - (void __force *)host->regs;
	unsigned long flags;
	bool latched, reset;

	if (WARN_ON_ONCE(offset < 0 || offset >= host->reg_len || offset % 4))
		return;

	offset += MHI_REG_OFFSET;

	raw_spin_lock_irqsave(&vl->reg_lock, flags);
	/* A dead PCIe link: the write reaches nothing */
	if (READ_ONCE(vl->cut)) {
		raw_spin_unlock_irqrestore(&vl->reg_lock, flags);
		return;
	}

	if (offset == EP_MHICFG &&
	    FIELD_GET(MHICFG_NER_MASK, val) > ARRAY_SIZE(vl->host_events))
		dev_warn_ratelimited(vl->dev, "Host asks for %lu event rings, the endpoint has %zu\n",
				     FIELD_GET(MHICFG_NER_MASK, val),
				     ARRAY_SIZE(vl->host_events));

	WRITE_ONCE(*vlink_reg(vl, offset), val);
	vlink_pm_count_wake(vl, offset, val);
	latched = vlink_latch(vl, offset);
	raw_spin_unlock_irqrestore(&vl->reg_lock, flags);

	if (!latched)
		return;

	vlink_ep_evaluate(vl);
	reset = offset == EP_MHICTRL && (val & MHICTRL_RESET_MASK);
	if (reset)
		atomic64_inc(&vl->stats.host_resets);
	/* The endpoint core waits for its transfers before it ends a reset */
	if (offset == EP_CRDB_LOWER || reset)
		vlink_hold_release(vl);
}

/* The host core's own word on recoveries, for the suite to check */
static void vlink_host_status_cb(struct mhi_controller *host,
				 enum mhi_callback cb)
{
	struct vlink *vl = host_to_vlink(host);

	dev_dbg(host->cntrl_dev, "Host status callback %d\n", cb);
	if (cb == MHI_CB_SYS_ERROR)
		atomic64_inc(&vl->stats.host_sys_errors);
	else if (cb == MHI_CB_EE_MISSION_MODE)
		atomic64_inc(&vl->stats.host_mission_modes);
}

static void vlink_host_config_init(struct vlink *vl)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(vl->host_chans); i++) {
		vl->host_chans[i] = (struct mhi_channel_config) {
			.name = "LOOPBACK",
			.num = i,
			.num_elements = vl->cfg.ch_elements,
			.event_ring = vl->cfg.loopback_er,
			.dir = i == VLINK_LOOPBACK_UL ? DMA_TO_DEVICE : DMA_FROM_DEVICE,
			.ee_mask = BIT(MHI_EE_AMSS),
			.doorbell = MHI_DB_BRST_DISABLE,
		};
	}

	/* The control ring takes the LOOPBACK completions too when told to */
	vl->host_events[0] = (struct mhi_event_config) {
		.num_elements = vl->cfg.loopback_er ? VLINK_CTRL_ER_ELEMENTS : vl->cfg.er_elements,
		.irq = 1,
		.channel = U32_MAX,
		.priority = 1,
		.mode = MHI_DB_BRST_DISABLE,
		.data_type = MHI_ER_CTRL,
	};
	vl->host_events[1] = (struct mhi_event_config) {
		.num_elements = vl->cfg.er_elements,
		.irq = 2,
		.channel = U32_MAX,
		.priority = 1,
		.mode = MHI_DB_BRST_DISABLE,
		.data_type = MHI_ER_DATA,
	};
	vl->host_events[vl->cfg.loopback_er].irq_moderation_ms = vl->cfg.intmod_ms;

	vl->host_config = (struct mhi_controller_config) {
		.max_channels = VLINK_MAX_CHANNELS,
		.timeout_ms = vl->cfg.timeout_ms,
		.ready_timeout_ms = vl->cfg.timeout_ms,
		.num_channels = ARRAY_SIZE(vl->host_chans),
		.ch_cfg = vl->host_chans,
		.num_events = ARRAY_SIZE(vl->host_events),
		.event_cfg = vl->host_events,
	};
}

/* Allocate the host controller of @vl, with its callbacks and configuration */
struct mhi_controller *vlink_host_alloc(struct vlink *vl)
{
	struct mhi_controller *host;

	vlink_host_config_init(vl);
	host = mhi_alloc_controller();
	if (!host)
		return NULL;

	host->cntrl_dev = vl->dev;
	host->regs = (void __iomem __force *)(vl->regs + MHI_REG_OFFSET);
	host->reg_len = VLINK_REGS_SIZE - MHI_REG_OFFSET;
	host->iova_start = 0;
	host->iova_stop = DMA_BIT_MASK(64);
	host->irq = vl->host_irq;
	host->nr_irqs = VLINK_NR_HOST_IRQS;
	host->read_reg = vlink_host_read_reg;
	host->write_reg = vlink_host_write_reg;
	host->runtime_get = vlink_host_runtime_get;
	host->runtime_put = vlink_host_runtime_put;
	host->status_cb = vlink_host_status_cb;
	vl->host = host;

	return host;
}
