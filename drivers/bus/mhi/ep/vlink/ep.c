// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: the endpoint controller. Its channel configuration, its
 * interrupt to the host, and its registration for each power cycle of the
 * link; the endpoint's accesses to host memory are in dma.c.
 */

#include <linux/bitops.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/irqdomain.h>
#include <linux/jiffies.h>
#include <linux/slab.h>

#include "vlink.h"

static const struct mhi_ep_channel_config vlink_ep_channels[] = {
	{ .name = "LOOPBACK", .num = VLINK_LOOPBACK_UL, .dir = DMA_TO_DEVICE },
	{ .name = "LOOPBACK", .num = VLINK_LOOPBACK_DL, .dir = DMA_FROM_DEVICE },
};

static const struct mhi_ep_cntrl_config vlink_ep_config = {
	.mhi_version = 0x01000000,
	.max_channels = VLINK_MAX_CHANNELS,
	.num_channels = ARRAY_SIZE(vlink_ep_channels),
	.ch_cfg = vlink_ep_channels,
};

/* Channel doorbell bits of row @row that the endpoint's channels use */
u32 vlink_ep_chdb_row(int row)
{
	u32 bits = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(vlink_ep_channels); i++)
		if (vlink_ep_channels[i].num / MHI_MASK_CH_LEN == row)
			bits |= BIT(vlink_ep_channels[i].num % MHI_MASK_CH_LEN);

	return bits;
}

/* Endpoint controller callbacks; they run in process context. */
static void vlink_ep_raise_irq(struct mhi_ep_cntrl *ep, u32 vector)
{
	struct vlink *vl = ep_to_vlink(ep);
	u32 delay_us;
	unsigned long flags;

	if (vector >= VLINK_NR_HOST_IRQS) {
		dev_warn_ratelimited(vl->dev, "Endpoint raised host vector %u of %d\n",
				     vector, VLINK_NR_HOST_IRQS);
		return;
	}

	if (READ_ONCE(vl->cut))
		return;

	/*
	 * The endpoint core closes a channel's mask while it processes a
	 * command, whose completion event comes here: a doorbell the host rang
	 * meanwhile may now be latched under it.
	 */
	raw_spin_lock_irqsave(&vl->reg_lock, flags);
	vlink_poll_update(vl);
	raw_spin_unlock_irqrestore(&vl->reg_lock, flags);

	/* The event and the ring context update must be visible first */
	smp_mb__before_atomic();
	set_bit(vector, &vl->host_pending);
	irq_work_queue(&vl->host_iw);

	/*
	 * A slow interrupt write: the host may handle the interrupt before the
	 * endpoint returns from raising it, as it can over PCIe.
	 */
	delay_us = READ_ONCE(vl->msi_delay_us);
	if (delay_us) {
		udelay(min(delay_us, VLINK_MSI_DELAY_MAX_US));
		atomic64_inc(&vl->stats.msi_delays);
	}
}

/* An endpoint client of this link is about to be unbound */
static int vlink_ep_bus_notify(struct notifier_block *nb, unsigned long action,
			       void *data)
{
	struct vlink *vl = container_of(nb, struct vlink, ep_bus_nb);
	struct device *dev = data;

	if (action == BUS_NOTIFY_UNBIND_DRIVER && dev->parent &&
	    dev->parent->parent == vl->dev)
		vlink_hold_release(vl);

	return NOTIFY_DONE;
}

int vlink_ep_register(struct vlink *vl)
{
	struct mhi_ep_cntrl *ep;
	int ret;

	ep = kzalloc_obj(*ep, GFP_KERNEL);
	if (!ep)
		return -ENOMEM;

	ep->cntrl_dev = vl->dev;
	ep->mmio = (void __iomem __force *)vl->regs;
	ep->irq = irq_find_mapping(vl->domain, VLINK_EP_HWIRQ);
	ep->mru = MHI_EP_DEFAULT_MTU;
	ep->raise_irq = vlink_ep_raise_irq;
	ep->alloc_map = vlink_ep_alloc_map;
	ep->unmap_free = vlink_ep_unmap_free;
	ep->read_sync = vlink_ep_read_sync;
	ep->write_sync = vlink_ep_write_sync;
	ep->read_async = vlink_ep_read_async;
	ep->write_async = vlink_ep_write_async;
	ep->flush_async = vlink_ep_flush_async;

	ret = mhi_ep_register_controller(ep, &vlink_ep_config);
	if (ret) {
		kfree(ep);
		return ret;
	}

	vl->ep = ep;

	/* The endpoint core's bus is not exported; its controller device is on it */
	vl->ep_bus_nb.notifier_call = vlink_ep_bus_notify;
	ret = bus_register_notifier(ep->mhi_dev->dev.bus, &vl->ep_bus_nb);
	if (ret)
		dev_warn(vl->dev, "Endpoint unbinds release no held echo: %d\n", ret);
	else
		vl->ep_bus = ep->mhi_dev->dev.bus;

	return 0;
}

/*
 * The endpoint core clears ep->mhi_dev from the release callback of the
 * controller device, which may run after mhi_ep_unregister_controller()
 * returns: the controller structure must outlive it.
 */
void vlink_ep_unregister(struct vlink *vl)
{
	struct mhi_ep_cntrl *ep = vl->ep;
	unsigned long deadline = jiffies + msecs_to_jiffies(VLINK_RELEASE_WAIT_MS);

	if (vl->ep_bus) {
		bus_unregister_notifier(vl->ep_bus, &vl->ep_bus_nb);
		vl->ep_bus = NULL;
	}

	vl->ep = NULL;
	mhi_ep_unregister_controller(ep);

	while (READ_ONCE(ep->mhi_dev)) {
		if (time_after(jiffies, deadline)) {
			dev_warn(vl->dev, "Endpoint controller not released, leaking it\n");
			return;
		}
		msleep(20);
	}

	kfree(ep);
}
