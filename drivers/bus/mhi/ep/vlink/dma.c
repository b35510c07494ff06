// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: the endpoint's access to host memory. Address
 * translation, the endpoint controller's map and transfer callbacks, sync
 * and async, the DMA worker, and the fault knobs that act on transfers.
 *
 * The endpoint reaches host memory by address translation: the host's DMA
 * addresses are translated back with the DMA API's own dma_to_phys()
 * (dma-direct, coherent, no IOMMU; checked at probe, so swiotlb bounce
 * buffers work), each access is checked against the data window the host
 * programmed and against valid memory, and then copied with memcpy().
 * With async_dma, transfers are completed in submission order by one DMA
 * worker per link, from a pool of descriptors allocated at probe, like an
 * eDMA engine whose completions a driver batches; a failed transfer is
 * reported to the endpoint core in its status, and flush_async() waits
 * for the queue to drain.
 */

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/dma-direct.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vlink.h"

static bool vlink_fault_fire(struct vlink_fault *fault)
{
	if (atomic_dec_if_positive(&fault->left) < 0)
		return false;

	atomic64_inc(&fault->fired);
	return true;
}

/*
 * Something a held race is about happened: the host rang the command
 * doorbell (a channel RESET or STOP) or reset the endpoint (MHICTRL.RESET,
 * after which the endpoint core waits for its transfers), the wire was cut,
 * an endpoint client of the link is being unbound, or the knob was
 * disarmed. Every write held by hold_echo at that moment goes on.
 */
void vlink_hold_release(struct vlink *vl)
{
	atomic_inc(&vl->hold_events);
	wake_up_all(&vl->hold_wq);
}

/*
 * Translate a host DMA address to a kernel pointer, or return NULL if the
 * range is outside the data window the host programmed or outside memory.
 */
static void *vlink_xlate(struct vlink *vl, u64 addr, size_t size)
{
	u64 base = vlink_reg64(vl, EP_MHIDATABASE_LOWER, EP_MHIDATABASE_HIGHER);
	u64 limit = vlink_reg64(vl, EP_MHIDATALIMIT_LOWER, EP_MHIDATALIMIT_HIGHER);
	u64 last = addr + size - 1;
	phys_addr_t phys = 0;

	if (READ_ONCE(vl->cut))
		return NULL;

	/*
	 * dma-direct maps a range of DMA addresses to one range of physical
	 * addresses: checking both ends is enough. Under swiotlb=force these
	 * are the bounce buffers, which is the point.
	 */
	if (size && last >= addr && addr >= base && last <= limit) {
		phys = dma_to_phys(vl->dev, addr);
		if (!pfn_valid(PHYS_PFN(phys)) ||
		    !pfn_valid(PHYS_PFN(dma_to_phys(vl->dev, last))))
			phys = 0;
	}

	if (!phys) {
		atomic64_inc(&vl->stats.xlate_errors);
		dev_warn_ratelimited(vl->dev, "Endpoint access to %#llx+%zu is outside host memory\n",
				     addr, size);
		return NULL;
	}

	return phys_to_virt(phys);
}

int vlink_ep_alloc_map(struct mhi_ep_cntrl *ep, u64 pci_addr,
		       phys_addr_t *phys, void __iomem **virt, size_t size)
{
	struct vlink *vl = ep_to_vlink(ep);
	void *ptr = vlink_xlate(vl, pci_addr, size);

	if (!ptr)
		return -EFAULT;

	*phys = pci_addr;
	*virt = (void __iomem __force *)ptr;
	atomic_inc(&vl->maps);

	return 0;
}

void vlink_ep_unmap_free(struct mhi_ep_cntrl *ep, u64 pci_addr,
			 phys_addr_t phys, void __iomem *virt, size_t size)
{
	atomic_dec(&ep_to_vlink(ep)->maps);
}

int vlink_ep_read_sync(struct mhi_ep_cntrl *ep,
		       struct mhi_ep_buf_info *info)
{
	void *src = vlink_xlate(ep_to_vlink(ep), info->host_addr, info->size);

	if (!src)
		return -EFAULT;

	memcpy(info->dev_addr, src, info->size);

	return 0;
}

/*
 * The endpoint core writes nothing but event ring elements through
 * write_sync(): fail_ul_event refuses those that complete an uplink LOOPBACK
 * transfer, as a DMA error would, before anything lands.
 */
static bool vlink_fail_ul_event(struct vlink *vl, struct mhi_ep_buf_info *info)
{
	struct mhi_ring_element *el = info->dev_addr;

	return info->size == sizeof(*el) &&
	       atomic_read(&vl->fail_ul_event.left) > 0 &&
	       MHI_TRE_GET_EV_TYPE(el) == MHI_PKT_TYPE_TX_EVENT &&
	       MHI_TRE_GET_EV_CHID(el) == VLINK_LOOPBACK_UL &&
	       vlink_fault_fire(&vl->fail_ul_event);
}

int vlink_ep_write_sync(struct mhi_ep_cntrl *ep,
			struct mhi_ep_buf_info *info)
{
	struct vlink *vl = ep_to_vlink(ep);
	void *dst;

	if (vlink_fail_ul_event(vl, info))
		return -EIO;

	dst = vlink_xlate(vl, info->host_addr, info->size);

	if (!dst)
		return -EFAULT;

	memcpy(dst, info->dev_addr, info->size);

	return 0;
}

/* Uplink payload: host memory to the endpoint. */
static int vlink_ul_transfer(struct vlink *vl, struct mhi_ep_buf_info *info)
{
	void *src;

	if (vlink_fault_fire(&vl->fail_dma))
		return -EIO;

	if (info->size) {
		src = vlink_xlate(vl, info->host_addr, info->size);
		if (!src)
			return -EFAULT;

		memcpy(info->dev_addr, src, info->size);
		atomic64_add(info->size, &vl->stats.ul_bytes);
	}

	return 0;
}

/* Flip corrupt_len bytes from corrupt_offset (modulo @size) on, wrapping */
static void vlink_corrupt(struct vlink *vl, u8 *buf, size_t size)
{
	size_t len = clamp_t(size_t, READ_ONCE(vl->corrupt_len), 1, size);
	size_t pos = READ_ONCE(vl->corrupt_offset) % size;

	while (len--) {
		buf[pos] ^= 0xff;
		pos = (pos + 1) % size;
	}
}

/* An armed echo fault fires once echo_skip writes have gone through */
static bool vlink_echo_fault(struct vlink *vl, struct vlink_fault *fault)
{
	return atomic_read(&fault->left) > 0 &&
	       atomic_dec_if_positive(&vl->echo_skip) < 0 &&
	       vlink_fault_fire(fault);
}

/*
 * An armed hold_echo holds the write until vlink_hold_release(): the test
 * that armed it knows from hold_echo_fired that a start is in flight, and
 * the removal it then does releases the write, however long it takes. The
 * write that nothing releases goes on after VLINK_HOLD_TIMEOUT_MS, loudly:
 * the test was not what it meant to be.
 */
static void vlink_hold(struct vlink *vl)
{
	/* Only an event after the fire count moved may release this write */
	int events = atomic_read(&vl->hold_events);

	if (!vlink_fault_fire(&vl->hold_echo))
		return;

	atomic_inc(&vl->holding);
	if (!wait_event_timeout(vl->hold_wq, atomic_read(&vl->hold_events) != events,
				msecs_to_jiffies(VLINK_HOLD_TIMEOUT_MS))) {
		atomic64_inc(&vl->stats.hold_timeouts);
		dev_err(vl->dev, "Held echo not released in %u ms: no command doorbell, reset, cut or endpoint unbind\n",
			VLINK_HOLD_TIMEOUT_MS);
	}
	atomic_dec(&vl->holding);
}

/* Downlink payload: the endpoint to host memory. */
static int vlink_dl_transfer(struct vlink *vl, struct mhi_ep_buf_info *info)
{
	u32 delay_ms = READ_ONCE(vl->delay_echo_ms);
	u8 *dst;

	if (vlink_fault_fire(&vl->fail_dma))
		return -EIO;

	vlink_hold(vl);

	if (delay_ms) {
		atomic64_inc(&vl->stats.echo_delays);
		/* An hrtimer: msleep() may end up to a jiffy early */
		usleep_range(delay_ms * USEC_PER_MSEC, (delay_ms + 1) * USEC_PER_MSEC);
	}

	if (vlink_echo_fault(vl, &vl->drop_echo)) {
		/* The payload is lost on the way: nothing lands, nothing counts */
		info->size = 0;
	} else if (info->size) {
		dst = vlink_xlate(vl, info->host_addr, info->size);
		if (!dst)
			return -EFAULT;

		memcpy(dst, info->dev_addr, info->size);
		if (vlink_echo_fault(vl, &vl->corrupt_echo))
			vlink_corrupt(vl, dst, info->size);
		atomic64_add(info->size, &vl->stats.dl_bytes);
	}

	return 0;
}

/*
 * The DMA worker: complete the queued transfers in submission order, the
 * way a driver batches the completions of its eDMA channel. A transfer
 * always completes, even when it fails or the wire was cut meanwhile: the
 * endpoint core frees its buffers from the callback, and learns from the
 * status what failed.
 */
static void vlink_dma_work(struct work_struct *work)
{
	struct vlink *vl = container_of(work, struct vlink, dma_work);
	struct vlink_dma *dma, *tmp;
	LIST_HEAD(batch);

	spin_lock(&vl->dma_lock);
	list_splice_tail_init(&vl->dma_queue, &batch);
	spin_unlock(&vl->dma_lock);

	list_for_each_entry_safe(dma, tmp, &batch, node) {
		if (dma->uplink)
			dma->info.status = vlink_ul_transfer(vl, &dma->info);
		else
			dma->info.status = vlink_dl_transfer(vl, &dma->info);

		dma->info.cb(&dma->info);

		spin_lock(&vl->dma_lock);
		list_move(&dma->node, &vl->dma_free);
		spin_unlock(&vl->dma_lock);
	}
}

/* Enough descriptors for both LOOPBACK rings full of 64 KiB TREs */
static unsigned int vlink_dma_descs(struct vlink *vl)
{
	return 4 * vl->cfg.ch_elements + 8;
}

int vlink_dma_init(struct vlink *vl)
{
	unsigned int i, n = vlink_dma_descs(vl);

	spin_lock_init(&vl->dma_lock);
	INIT_LIST_HEAD(&vl->dma_queue);
	INIT_LIST_HEAD(&vl->dma_free);
	INIT_WORK(&vl->dma_work, vlink_dma_work);
	if (!vl->cfg.async_dma)
		return 0;

	vl->dma_pool = devm_kcalloc(vl->dev, n, sizeof(*vl->dma_pool), GFP_KERNEL);
	vl->dma_wq = devm_alloc_ordered_workqueue(vl->dev, "mhi_vlink%d_dma", 0, vl->id);
	if (!vl->dma_pool || !vl->dma_wq)
		return -ENOMEM;

	for (i = 0; i < n; i++)
		list_add_tail(&vl->dma_pool[i].node, &vl->dma_free);

	return 0;
}

static int vlink_ep_transfer(struct mhi_ep_cntrl *ep, struct mhi_ep_buf_info *info,
			     bool uplink)
{
	struct vlink *vl = ep_to_vlink(ep);
	struct vlink_dma *dma;
	int ret;

	if (!vl->cfg.async_dma) {
		ret = uplink ? vlink_ul_transfer(vl, info) : vlink_dl_transfer(vl, info);
		if (ret)
			return ret;

		info->cb(info);
		return 0;
	}

	spin_lock(&vl->dma_lock);
	/* Once the wire is cut, the queue is being drained: take nothing */
	if (READ_ONCE(vl->cut)) {
		spin_unlock(&vl->dma_lock);
		return -EIO;
	}

	dma = list_first_entry_or_null(&vl->dma_free, struct vlink_dma, node);
	if (!dma) {
		spin_unlock(&vl->dma_lock);
		dev_err_ratelimited(vl->dev, "All %u DMA descriptors are in use\n",
				    vlink_dma_descs(vl));
		return -EBUSY;
	}

	dma->info = *info;
	dma->info.status = 0;
	dma->uplink = uplink;
	list_move_tail(&dma->node, &vl->dma_queue);
	queue_work(vl->dma_wq, &vl->dma_work);
	spin_unlock(&vl->dma_lock);

	return 0;
}

int vlink_ep_read_async(struct mhi_ep_cntrl *ep,
			struct mhi_ep_buf_info *info)
{
	return vlink_ep_transfer(ep, info, true);
}

int vlink_ep_write_async(struct mhi_ep_cntrl *ep,
			 struct mhi_ep_buf_info *info)
{
	return vlink_ep_transfer(ep, info, false);
}

/* Return once every transfer queued so far has completed */
void vlink_ep_flush_async(struct mhi_ep_cntrl *ep)
{
	struct vlink *vl = ep_to_vlink(ep);

	if (vl->dma_wq)
		flush_work(&vl->dma_work);
}
