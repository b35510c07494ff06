// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: link power. Powering a link up (the endpoint controller
 * registered and powered up next to the host's), and down: gracefully, the
 * host resetting the endpoint through MHI RESET first, or like a surprise
 * removal, the wire cut first. Either way the DMA queue is drained and the
 * endpoint stopped before the host frees its rings.
 */

#include <linux/bug.h>
#include <linux/dev_printk.h>
#include <linux/lockdep.h>

#include "vlink.h"

void vlink_ep_power_work(struct work_struct *work)
{
	struct vlink *vl = container_of(work, struct vlink, ep_power_work);

	vl->ep_power_ret = mhi_ep_power_up(vl->ep);
	complete(&vl->ep_powered);
}

/*
 * Cut the wire: from now on nothing crosses the link. To the host it is a
 * dead PCIe link: its register reads return all-ones and its writes are
 * dropped.
 */
static void vlink_cut(struct vlink *vl)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&vl->reg_lock, flags);
	WRITE_ONCE(vl->cut, true);
	raw_spin_unlock_irqrestore(&vl->reg_lock, flags);
	vlink_hold_release(vl);

	timer_delete_sync(&vl->poll_timer);
	irq_work_sync(&vl->ep_iw);
	irq_work_sync(&vl->host_iw);
}

/*
 * Complete every queued asynchronous transfer. It must happen before the
 * endpoint is powered down: their callbacks use the endpoint's rings.
 */
static void vlink_drain(struct vlink *vl)
{
	if (!vl->dma_wq)
		return;

	/* A transfer submitted before the cut is queued once this is taken */
	spin_lock(&vl->dma_lock);
	spin_unlock(&vl->dma_lock);
	flush_work(&vl->dma_work);
}

/*
 * Take the link down. Gracefully, as a host driver does while its device is
 * there: the host core resets the endpoint through MHI RESET, the endpoint
 * core stops its channels, clears the reset and says it is READY, and the
 * wire is cut after. Otherwise like a surprise removal: the wire is cut
 * first, so that the endpoint can no longer touch host memory. Then the
 * endpoint is stopped, and only then does the host free its rings.
 */
void vlink_power_down(struct vlink *vl, bool graceful)
{
	lockdep_assert_held(&vl->lock);

	vlink_pm_down(vl);

	if (graceful)
		mhi_power_down(vl->host, true);

	vlink_cut(vl);
	vlink_drain(vl);

	if (vl->ep) {
		flush_work(&vl->ep_power_work);
		flush_work(&vl->ep->reset_work);
		mhi_ep_power_down(vl->ep);
	}

	if (!graceful)
		mhi_power_down(vl->host, false);
	mhi_unprepare_after_power_down(vl->host);

	if (vl->ep)
		vlink_ep_unregister(vl);

	vl->host_pending = 0;
	WARN_ON(atomic_read(&vl->runtime_refs));
	WARN_ON(atomic_read(&vl->maps));
	vl->up = false;
	dev_info(vl->dev, "Link down%s\n", graceful ? " through MHI RESET" : "");
}

int vlink_power_up(struct vlink *vl)
{
	int ret;

	lockdep_assert_held(&vl->lock);

	if (vl->up)
		return 0;

	vlink_preset_regs(vl);
	WRITE_ONCE(vl->cut, false);

	ret = vlink_ep_register(vl);
	if (ret) {
		dev_err(vl->dev, "Failed to register the endpoint controller: %d\n", ret);
		return ret;
	}

	reinit_completion(&vl->ep_powered);
	queue_work(system_dfl_wq, &vl->ep_power_work);

	ret = mhi_prepare_for_power_up(vl->host);
	if (ret) {
		dev_err(vl->dev, "Failed to prepare the host controller: %d\n", ret);
		goto err_stop_ep;
	}

	ret = mhi_sync_power_up(vl->host);
	if (ret) {
		dev_err(vl->dev, "Host did not reach mission mode: %d\n", ret);
		goto err_unprepare;
	}

	wait_for_completion(&vl->ep_powered);
	ret = vl->ep_power_ret;
	if (ret) {
		dev_err(vl->dev, "Endpoint did not reach M0: %d\n", ret);
		goto err_power_down;
	}

	/* Client devices are created by the host state worker */
	flush_work(&vl->host->st_worker);

	vl->up = true;
	vlink_pm_up(vl);
	dev_info(vl->dev, "Link up: %s <-> %s\n", dev_name(&vl->host->mhi_dev->dev),
		 dev_name(&vl->ep->mhi_dev->dev));

	return 0;

err_power_down:
	vlink_power_down(vl, false);
	return ret;
err_unprepare:
	mhi_unprepare_after_power_down(vl->host);
err_stop_ep:
	vlink_cut(vl);
	vlink_drain(vl);
	flush_work(&vl->ep_power_work);
	mhi_ep_power_down(vl->ep);
	vlink_ep_unregister(vl);
	return ret;
}
