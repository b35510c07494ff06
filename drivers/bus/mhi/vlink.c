// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: the MHI host stack and the MHI endpoint stack of the same
 * kernel, wired to each other.
 *
 * Each link registers a host controller (struct mhi_controller) and an
 * endpoint controller (struct mhi_ep_cntrl) and plays the part of the PCIe
 * link and of the device hardware between them:
 *
 * - The endpoint's MMIO space is a 4 KiB register file in RAM. The endpoint
 *   core reads and writes it directly; the host reaches the same registers
 *   through read_reg()/write_reg(), at the MHI register block (offset 0x100),
 *   so both sides see one set of registers. The registers the endpoint core
 *   expects the hardware to hold (the doorbell and BHI offsets, MHICFG and
 *   the execution environment) are preset here.
 *
 * - A host write to MHICTRL, to the command ring doorbell or to a channel
 *   doorbell latches the matching bit of the endpoint's interrupt status
 *   registers. The endpoint acknowledges by writing the clear registers,
 *   which are plain RAM as well: they are folded into the status registers
 *   (write-1-to-clear) before every latch and every time the interrupt line
 *   is evaluated (vlink_kunit.c tests this register model). The line
 *   is level-triggered: it is asserted while any unmasked status bit is set,
 *   and it is evaluated after every latching write and whenever the
 *   endpoint's interrupt is unmasked. The endpoint can also open the mask of
 *   a doorbell by a plain store that nothing here can observe, so while a
 *   doorbell is latched under a closed mask, and only then, a timer polls
 *   the line; an idle link never polls.
 *
 * - Interrupts in both directions are delivered by this driver's own irq
 *   domain from hard irq_work, so the MHI cores run their handlers in real
 *   hard interrupt context. Host vectors are edge-triggered MSIs that are
 *   never lost: one raised while its handler runs is replayed.
 *
 * - The endpoint reaches host memory by address translation: the host's DMA
 *   addresses are translated back with the DMA API's own dma_to_phys()
 *   (dma-direct, coherent, no IOMMU; checked at probe, so swiotlb bounce
 *   buffers work), each access is checked against the data window the host
 *   programmed and against valid memory, and then copied with memcpy().
 *   With async_dma, transfers are completed in submission order by one DMA
 *   worker per link, from a pool of descriptors allocated at probe, like an
 *   eDMA engine whose completions a driver batches; a failed transfer is
 *   reported to the endpoint core in its status, and flush_async() waits
 *   for the queue to drain.
 *
 * What it does not emulate: BHI/BHIe firmware download, RDDM, the graceful
 * MHI RESET handshake at power-down (the link is cut instead), suspend to
 * M3, and any timing of a real link. debugfs exposes the link state,
 * counters, a register dump, power control and fault knobs; see
 * Documentation/mhi/loopback.rst.
 */

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/cc_platform.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irq_work.h>
#include <linux/irqdomain.h>
#include <linux/list.h>
#include <linux/mhi.h>
#include <linux/mhi_ep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string_choices.h>
#include <linux/timer.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "ep/internal.h"

#define VLINK_DRV_NAME		"mhi-vlink"
#define VLINK_MAX_LINKS		8
#define VLINK_REGS_SIZE		SZ_4K
#define VLINK_MAX_CHANNELS	128
#define VLINK_LOOPBACK_UL	0
#define VLINK_LOOPBACK_DL	1

/* Host vectors: 0 for BHI, 1 for the control event ring, 2 for data */
#define VLINK_NR_HOST_IRQS	3
#define VLINK_EP_HWIRQ		VLINK_NR_HOST_IRQS
#define VLINK_NR_HWIRQS		(VLINK_NR_HOST_IRQS + 1)

#define VLINK_CTRL_ER_ELEMENTS	64
#define VLINK_POLL_MS		10
#define VLINK_MSI_DELAY_MAX_US	10000
#define VLINK_RELEASE_WAIT_MS	10000
#define VLINK_HOLD_TIMEOUT_MS	30000

static unsigned int nr_links = 1;
module_param(nr_links, uint, 0444);
MODULE_PARM_DESC(nr_links, "Number of independent links (1-8, default 1)");

static unsigned int ch_elements = 32;
module_param(ch_elements, uint, 0444);
MODULE_PARM_DESC(ch_elements,
		 "Ring elements of LOOPBACK channels 0 and 1 (2-1024, default 32; capacity is one less)");

static unsigned int er_elements = 256;
module_param(er_elements, uint, 0444);
MODULE_PARM_DESC(er_elements,
		 "Elements of the data event ring (at least 2 * ch_elements + 8, default 256)");

static unsigned int timeout_ms = 10000;
module_param(timeout_ms, uint, 0444);
MODULE_PARM_DESC(timeout_ms, "Host MHI timeout in ms (default 10000, sized for emulators)");

static bool async_dma;
module_param(async_dma, bool, 0444);
MODULE_PARM_DESC(async_dma,
		 "Complete endpoint payload transfers from an ordered worker per direction, like an eDMA engine, instead of inside the transfer call (default N)");

static unsigned int loopback_er = 1;
module_param(loopback_er, uint, 0444);
MODULE_PARM_DESC(loopback_er,
		 "Event ring of the LOOPBACK channels: 1 a data ring of their own (default), 0 the control ring, as the Foxconn and Cinterion modems have it");

static unsigned int intmod_ms;
module_param(intmod_ms, uint, 0444);
MODULE_PARM_DESC(intmod_ms,
		 "Interrupt moderation of the LOOPBACK event ring in ms (0-1000, default 0: an interrupt per completion)");

static bool autostart = true;
module_param(autostart, bool, 0444);
MODULE_PARM_DESC(autostart, "Bring every link up at load time (default Y)");

/**
 * struct vlink_fault - a deterministic fault knob
 * @left: injections still to do; the knob is disarmed at zero
 * @fired: injections done since the link was created
 */
struct vlink_fault {
	atomic_t left;
	atomic64_t fired;
};

/**
 * struct vlink_stats - link counters, reported in debugfs
 * @ul_bytes: payload bytes the endpoint read from the host
 * @dl_bytes: payload bytes the endpoint wrote to the host
 * @ctrl_writes: host writes to MHICTRL
 * @cmd_doorbells: host writes to the command ring doorbell
 * @ch_doorbells: host writes to channel doorbells
 * @host_irqs: interrupts delivered to the host
 * @ep_irqs: interrupts delivered to the endpoint
 * @xlate_errors: endpoint accesses outside host memory or the data window
 * @echo_delays: downlink payload writes held by @delay_echo_ms so far
 * @msi_delays: endpoint interrupts slowed down by @msi_delay_us so far
 * @polls: expirations of the poll timer
 * @hold_timeouts: writes held by @hold_echo that nothing released in time
 */
struct vlink_stats {
	atomic64_t ul_bytes;
	atomic64_t dl_bytes;
	atomic64_t ctrl_writes;
	atomic64_t cmd_doorbells;
	atomic64_t ch_doorbells;
	atomic64_t host_irqs;
	atomic64_t ep_irqs;
	atomic64_t xlate_errors;
	atomic64_t echo_delays;
	atomic64_t msi_delays;
	atomic64_t polls;
	atomic64_t hold_timeouts;
};

/**
 * struct vlink - one virtual link
 * @dev: platform device; it is the host controller's DMA device and the
 *	 parent of both controllers
 * @lock: serialises power transitions
 * @up: the link is powered up
 * @cut: the wire is cut: no doorbell, interrupt or DMA crosses the link, and
 *	 host register reads return all-ones while host writes are dropped
 * @regs: the register file (the endpoint's view, MHI block at 0x100)
 * @reg_lock: protects the emulated interrupt registers
 * @domain: irq domain of the host vectors and the endpoint doorbell line
 * @fwnode: fwnode of @domain
 * @host_irq: Linux irqs of the host vectors
 * @host_pending: host vectors raised and not yet delivered
 * @host_iw: delivers @host_pending
 * @ep_iw: delivers the endpoint doorbell line
 * @poll_timer: evaluates the endpoint line while vlink_poll_needed()
 * @host: host controller
 * @host_chans: host channel configuration
 * @host_events: host event ring configuration
 * @host_config: host controller configuration
 * @ep: endpoint controller of the current power cycle, or NULL
 * @ep_power_work: runs mhi_ep_power_up(), which waits for the host
 * @ep_powered: completed when @ep_power_work is done
 * @ep_power_ret: result of mhi_ep_power_up()
 * @dma_wq: runs @dma_work (async_dma)
 * @dma_work: the DMA worker: completes the queued transfers in order
 * @dma_lock: protects @dma_queue and @dma_free
 * @dma_queue: transfers submitted and not yet completed
 * @dma_free: unused descriptors of @dma_pool
 * @dma_pool: descriptors, allocated at probe
 * @runtime_refs: host runtime_get/runtime_put balance
 * @maps: endpoint alloc_map/unmap_free balance
 * @stats: counters
 * @drop_echo: knob: downlink payload writes that land nothing
 * @corrupt_echo: knob: downlink payload writes with flipped bytes
 * @echo_skip: knob: downlink payload writes let through before an armed
 *	       @drop_echo or @corrupt_echo fires
 * @corrupt_offset: knob: first byte flipped, modulo the size of the write
 * @corrupt_len: knob: number of bytes flipped from there (at least 1)
 * @fail_dma: knob: endpoint payload transfers that fail
 * @fail_ul_event: knob: transfer completion events of the uplink LOOPBACK
 *		   channel that the endpoint fails to write
 * @delay_echo_ms: delay before every downlink payload write
 * @msi_delay_us: time each endpoint interrupt write takes, in us (at most
 *	VLINK_MSI_DELAY_MAX_US)
 * @hold_echo: knob: downlink payload writes held until a release event
 * @holding: writes held by @hold_echo now
 * @hold_events: release events so far: command doorbells, cuts, unbinds of
 *		 an endpoint client of this link, disarming @hold_echo
 * @hold_wq: held writes wait here for @hold_events to move
 * @ep_bus: bus of the endpoint devices, while @ep_bus_nb is registered
 * @ep_bus_nb: sees endpoint clients of this link being unbound
 * @debugfs: debugfs directory of the link
 */
struct vlink {
	struct device *dev;
	struct mutex lock;		/* serialises power transitions */
	bool up;
	bool cut;

	void *regs;
	raw_spinlock_t reg_lock;

	struct irq_domain *domain;
	struct fwnode_handle *fwnode;
	int host_irq[VLINK_NR_HOST_IRQS];
	unsigned long host_pending;
	struct irq_work host_iw;
	struct irq_work ep_iw;
	struct timer_list poll_timer;

	struct mhi_controller *host;
	struct mhi_channel_config host_chans[2];
	struct mhi_event_config host_events[2];
	struct mhi_controller_config host_config;

	struct mhi_ep_cntrl *ep;
	struct work_struct ep_power_work;
	struct completion ep_powered;
	int ep_power_ret;
	struct workqueue_struct *dma_wq;
	struct work_struct dma_work;
	spinlock_t dma_lock;		/* protects dma_queue and dma_free */
	struct list_head dma_queue;
	struct list_head dma_free;
	struct vlink_dma *dma_pool;

	atomic_t runtime_refs;
	atomic_t maps;
	struct vlink_stats stats;
	struct vlink_fault drop_echo;
	struct vlink_fault corrupt_echo;
	atomic_t echo_skip;
	u32 corrupt_offset;
	u32 corrupt_len;
	struct vlink_fault fail_dma;
	struct vlink_fault fail_ul_event;
	u32 delay_echo_ms;
	u32 msi_delay_us;
	struct vlink_fault hold_echo;
	atomic_t holding;
	atomic_t hold_events;
	wait_queue_head_t hold_wq;
	const struct bus_type *ep_bus;
	struct notifier_block ep_bus_nb;

	struct dentry *debugfs;
};

/**
 * struct vlink_dma - a payload transfer descriptor (async_dma)
 * @node: entry of &vlink.dma_queue or &vlink.dma_free
 * @info: copy of the endpoint core's request, which lives on its stack
 * @uplink: direction
 */
struct vlink_dma {
	struct list_head node;
	struct mhi_ep_buf_info info;
	bool uplink;
};

static struct dentry *vlink_debugfs_root;
static struct platform_device *vlink_pdevs[VLINK_MAX_LINKS];

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

static u32 *vlink_reg(struct vlink *vl, u32 offset)
{
	return vl->regs + offset;
}

static u64 vlink_reg64(struct vlink *vl, u32 lower, u32 higher)
{
	return (u64)READ_ONCE(*vlink_reg(vl, higher)) << 32 |
	       READ_ONCE(*vlink_reg(vl, lower));
}

static bool vlink_fault_fire(struct vlink_fault *fault)
{
	if (atomic_dec_if_positive(&fault->left) < 0)
		return false;

	atomic64_inc(&fault->fired);
	return true;
}

/*
 * Something a held race is about happened: the host rang the command
 * doorbell (a channel RESET or STOP), the wire was cut, an endpoint client
 * of the link is being unbound, or the knob was disarmed. Every write held
 * by hold_echo at that moment goes on.
 */
static void vlink_hold_release(struct vlink *vl)
{
	atomic_inc(&vl->hold_events);
	wake_up_all(&vl->hold_wq);
}

/*
 * Register values that real hardware holds from reset and that the endpoint
 * core reads but never writes.
 */
static void vlink_preset_regs(struct vlink *vl)
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
static bool vlink_ep_line(struct vlink *vl)
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

/* Channel doorbell bits of row @row that the endpoint's channels use */
static u32 vlink_ep_chdb_row(int row)
{
	u32 bits = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(vlink_ep_channels); i++)
		if (vlink_ep_channels[i].num / MHI_MASK_CH_LEN == row)
			bits |= BIT(vlink_ep_channels[i].num % MHI_MASK_CH_LEN);

	return bits;
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
static bool vlink_poll_needed(struct vlink *vl)
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
 * Arm the poll if it is needed; called with reg_lock held. Never once the
 * wire is cut: vlink_cut() stops the timer after setting cut under the
 * same lock, and nothing arms it again.
 */
static void vlink_poll_update(struct vlink *vl)
{
	lockdep_assert_held(&vl->reg_lock);

	if (!READ_ONCE(vl->cut) && vlink_poll_needed(vl) &&
	    !timer_pending(&vl->poll_timer))
		mod_timer(&vl->poll_timer, jiffies + msecs_to_jiffies(VLINK_POLL_MS));
}

static bool vlink_ep_line_asserted(struct vlink *vl)
{
	unsigned long flags;
	bool level;

	raw_spin_lock_irqsave(&vl->reg_lock, flags);
	level = !READ_ONCE(vl->cut) && vlink_ep_line(vl);
	vlink_poll_update(vl);
	raw_spin_unlock_irqrestore(&vl->reg_lock, flags);

	return level;
}

static void vlink_ep_evaluate(struct vlink *vl)
{
	if (vlink_ep_line_asserted(vl))
		irq_work_queue(&vl->ep_iw);
}

static void vlink_ep_irq_work(struct irq_work *work)
{
	struct vlink *vl = container_of(work, struct vlink, ep_iw);

	if (!vlink_ep_line_asserted(vl))
		return;

	atomic64_inc(&vl->stats.ep_irqs);
	generic_handle_domain_irq(vl->domain, VLINK_EP_HWIRQ);
}

static void vlink_host_irq_work(struct irq_work *work)
{
	struct vlink *vl = container_of(work, struct vlink, host_iw);
	unsigned long pending;
	unsigned int vector;

	while ((pending = xchg(&vl->host_pending, 0))) {
		for_each_set_bit(vector, &pending, VLINK_NR_HOST_IRQS) {
			atomic64_inc(&vl->stats.host_irqs);
			generic_handle_domain_irq(vl->domain, vector);
		}
	}
}

/* The evaluation re-arms the poll for as long as it is needed */
static void vlink_poll(struct timer_list *t)
{
	struct vlink *vl = timer_container_of(vl, t, poll_timer);

	atomic64_inc(&vl->stats.polls);
	vlink_ep_evaluate(vl);
}

/* Host vectors: edge-triggered MSIs. */
static void vlink_msi_noop(struct irq_data *d)
{
}

static int vlink_msi_retrigger(struct irq_data *d)
{
	struct vlink *vl = irq_data_get_irq_chip_data(d);

	set_bit(irqd_to_hwirq(d), &vl->host_pending);
	irq_work_queue(&vl->host_iw);

	return 1;
}

static struct irq_chip vlink_msi_chip = {
	.name = "vlink-msi",
	.irq_ack = vlink_msi_noop,
	.irq_mask = vlink_msi_noop,
	.irq_unmask = vlink_msi_noop,
	.irq_retrigger = vlink_msi_retrigger,
};

/*
 * Endpoint doorbell line: level-triggered. Masking needs no action, since
 * the line is only sampled on delivery; unmasking re-evaluates it so that a
 * doorbell latched while masked or disabled is delivered.
 */
static void vlink_db_mask(struct irq_data *d)
{
}

static void vlink_db_unmask(struct irq_data *d)
{
	vlink_ep_evaluate(irq_data_get_irq_chip_data(d));
}

static int vlink_db_set_type(struct irq_data *d, unsigned int type)
{
	return type == IRQ_TYPE_LEVEL_HIGH ? 0 : -EINVAL;
}

static struct irq_chip vlink_db_chip = {
	.name = "vlink-db",
	.irq_mask = vlink_db_mask,
	.irq_unmask = vlink_db_unmask,
	.irq_set_type = vlink_db_set_type,
};

static int vlink_irq_map(struct irq_domain *domain, unsigned int virq,
			 irq_hw_number_t hwirq)
{
	if (hwirq == VLINK_EP_HWIRQ)
		irq_set_chip_and_handler(virq, &vlink_db_chip, handle_level_irq);
	else
		irq_set_chip_and_handler(virq, &vlink_msi_chip, handle_edge_irq);

	irq_set_chip_data(virq, domain->host_data);
	irq_modify_status(virq, IRQ_NOREQUEST | IRQ_NOAUTOEN, IRQ_NOPROBE);

	return 0;
}

static const struct irq_domain_ops vlink_irq_domain_ops = {
	.map = vlink_irq_map,
};

/* Host controller callbacks; they can be called with interrupts off. */
static struct vlink *host_to_vlink(struct mhi_controller *host)
{
	return dev_get_drvdata(host->cntrl_dev);
}

static int vlink_host_read_reg(struct mhi_controller *host, void __iomem *addr,
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

/*
 * Latch the interrupt status bit of a host write; called with reg_lock held.
 * An acknowledgment the endpoint stored in the clear register before this
 * write took effect when it was stored, as write-1-to-clear does: fold it in
 * first, or it would erase the doorbell latched now.
 */
static bool vlink_latch(struct vlink *vl, u32 offset)
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

static void vlink_host_write_reg(struct mhi_controller *host, void __iomem *addr,
				 u32 val)
{
	struct vlink *vl = host_to_vlink(host);
	ptrdiff_t offset = (void __force *)addr - (void __force *)host->regs;
	unsigned long flags;
	bool latched;

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
	latched = vlink_latch(vl, offset);
	raw_spin_unlock_irqrestore(&vl->reg_lock, flags);

	if (!latched)
		return;

	vlink_ep_evaluate(vl);
	if (offset == EP_CRDB_LOWER)
		vlink_hold_release(vl);
}

static int vlink_host_runtime_get(struct mhi_controller *host)
{
	atomic_inc(&host_to_vlink(host)->runtime_refs);

	return 0;
}

static void vlink_host_runtime_put(struct mhi_controller *host)
{
	atomic_dec(&host_to_vlink(host)->runtime_refs);
}

static void vlink_host_status_cb(struct mhi_controller *host,
				 enum mhi_callback cb)
{
	dev_dbg(host->cntrl_dev, "Host status callback %d\n", cb);
}

/* Endpoint controller callbacks; they run in process context. */
static struct vlink *ep_to_vlink(struct mhi_ep_cntrl *ep)
{
	return dev_get_drvdata(ep->cntrl_dev);
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

static int vlink_ep_alloc_map(struct mhi_ep_cntrl *ep, u64 pci_addr,
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

static void vlink_ep_unmap_free(struct mhi_ep_cntrl *ep, u64 pci_addr,
				phys_addr_t phys, void __iomem *virt, size_t size)
{
	atomic_dec(&ep_to_vlink(ep)->maps);
}

static int vlink_ep_read_sync(struct mhi_ep_cntrl *ep,
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

static int vlink_ep_write_sync(struct mhi_ep_cntrl *ep,
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
		dev_err(vl->dev, "Held echo not released in %u ms: no command doorbell, cut or endpoint unbind\n",
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
static unsigned int vlink_dma_descs(void)
{
	return 4 * ch_elements + 8;
}

static int vlink_dma_init(struct vlink *vl, int id)
{
	unsigned int i, n = vlink_dma_descs();

	spin_lock_init(&vl->dma_lock);
	INIT_LIST_HEAD(&vl->dma_queue);
	INIT_LIST_HEAD(&vl->dma_free);
	INIT_WORK(&vl->dma_work, vlink_dma_work);
	if (!async_dma)
		return 0;

	vl->dma_pool = devm_kcalloc(vl->dev, n, sizeof(*vl->dma_pool), GFP_KERNEL);
	vl->dma_wq = devm_alloc_ordered_workqueue(vl->dev, "mhi_vlink%d_dma", 0, id);
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

	if (!async_dma) {
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
				    vlink_dma_descs());
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

static int vlink_ep_read_async(struct mhi_ep_cntrl *ep,
			       struct mhi_ep_buf_info *info)
{
	return vlink_ep_transfer(ep, info, true);
}

static int vlink_ep_write_async(struct mhi_ep_cntrl *ep,
				struct mhi_ep_buf_info *info)
{
	return vlink_ep_transfer(ep, info, false);
}

/* Return once every transfer queued so far has completed */
static void vlink_ep_flush_async(struct mhi_ep_cntrl *ep)
{
	struct vlink *vl = ep_to_vlink(ep);

	if (vl->dma_wq)
		flush_work(&vl->dma_work);
}

static void vlink_ep_power_work(struct work_struct *work)
{
	struct vlink *vl = container_of(work, struct vlink, ep_power_work);

	vl->ep_power_ret = mhi_ep_power_up(vl->ep);
	complete(&vl->ep_powered);
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

static int vlink_ep_register(struct vlink *vl)
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
static void vlink_ep_unregister(struct vlink *vl)
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
 * Take the link down, like a surprise removal: the wire is cut first, so
 * that the endpoint can no longer touch host memory, then the endpoint is
 * stopped, and only then does the host free its rings.
 */
static void vlink_power_down(struct vlink *vl)
{
	lockdep_assert_held(&vl->lock);

	vlink_cut(vl);
	vlink_drain(vl);

	if (vl->ep) {
		flush_work(&vl->ep_power_work);
		flush_work(&vl->ep->reset_work);
		mhi_ep_power_down(vl->ep);
	}

	mhi_power_down(vl->host, false);
	mhi_unprepare_after_power_down(vl->host);

	if (vl->ep)
		vlink_ep_unregister(vl);

	vl->host_pending = 0;
	WARN_ON(atomic_read(&vl->runtime_refs));
	WARN_ON(atomic_read(&vl->maps));
	vl->up = false;
	dev_info(vl->dev, "Link down\n");
}

static int vlink_power_up(struct vlink *vl)
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
	dev_info(vl->dev, "Link up: %s <-> %s\n", dev_name(&vl->host->mhi_dev->dev),
		 dev_name(&vl->ep->mhi_dev->dev));

	return 0;

err_power_down:
	vlink_power_down(vl);
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

/*
 * Uplink TREs the endpoint core has read (its channel's read offset is past
 * them) and not yet completed to the host (the ring's read offset is not):
 * zero whenever no UL read is in flight, unless the core lost track of one.
 */
static void vlink_show_ul_unacked(struct seq_file *s, struct mhi_ep_cntrl *ep)
{
	struct mhi_ep_chan *chan = &ep->mhi_chan[VLINK_LOOPBACK_UL];
	struct mhi_ep_ring *ring = &chan->ring;

	mutex_lock(&chan->lock);
	if (ring->started && ring->ring_size)
		seq_printf(s, "ep_ul_unacked=%zu\n",
			   (chan->rd_offset + ring->ring_size - ring->rd_offset) %
			   ring->ring_size);
	mutex_unlock(&chan->lock);
}

static int vlink_state_show(struct seq_file *s, void *unused)
{
	struct vlink *vl = s->private;
	struct mhi_ep_cntrl *ep;

	mutex_lock(&vl->lock);
	ep = vl->ep;
	seq_printf(s, "%s\n", str_up_down(vl->up));
	seq_printf(s, "host_ee=%u\n", READ_ONCE(vl->host->ee));
	seq_printf(s, "host_state=%s\n", mhi_state_str(READ_ONCE(vl->host->dev_state)));
	seq_printf(s, "ep_state=%s\n", ep ? mhi_state_str(READ_ONCE(ep->mhi_state)) : "none");
	seq_printf(s, "runtime_refs=%d\nmaps=%d\n", atomic_read(&vl->runtime_refs),
		   atomic_read(&vl->maps));
	if (ep)
		vlink_show_ul_unacked(s, ep);
	mutex_unlock(&vl->lock);

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vlink_state);

static int vlink_stats_show(struct seq_file *s, void *unused)
{
	struct vlink *vl = s->private;
	struct vlink_stats *st = &vl->stats;

	seq_printf(s, "ul_bytes=%lld\n", atomic64_read(&st->ul_bytes));
	seq_printf(s, "dl_bytes=%lld\n", atomic64_read(&st->dl_bytes));
	seq_printf(s, "ctrl_writes=%lld\n", atomic64_read(&st->ctrl_writes));
	seq_printf(s, "cmd_doorbells=%lld\n", atomic64_read(&st->cmd_doorbells));
	seq_printf(s, "doorbells=%lld\n", atomic64_read(&st->ch_doorbells));
	seq_printf(s, "host_irqs=%lld\n", atomic64_read(&st->host_irqs));
	seq_printf(s, "ep_irqs=%lld\n", atomic64_read(&st->ep_irqs));
	seq_printf(s, "xlate_errors=%lld\n", atomic64_read(&st->xlate_errors));
	seq_printf(s, "echo_delays=%lld\n", atomic64_read(&st->echo_delays));
	seq_printf(s, "msi_delays=%lld\n", atomic64_read(&st->msi_delays));
	seq_printf(s, "polls=%lld\n", atomic64_read(&st->polls));
	seq_printf(s, "hold_echo_fired=%lld\n", atomic64_read(&vl->hold_echo.fired));
	seq_printf(s, "echo_held=%d\n", atomic_read(&vl->holding));
	seq_printf(s, "hold_timeouts=%lld\n", atomic64_read(&st->hold_timeouts));
	seq_printf(s, "drop_echo_fired=%lld\n", atomic64_read(&vl->drop_echo.fired));
	seq_printf(s, "corrupt_echo_fired=%lld\n", atomic64_read(&vl->corrupt_echo.fired));
	seq_printf(s, "fail_dma_fired=%lld\n", atomic64_read(&vl->fail_dma.fired));
	seq_printf(s, "fail_ul_event_fired=%lld\n", atomic64_read(&vl->fail_ul_event.fired));

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vlink_stats);

static const struct {
	const char *name;
	u32 offset;
} vlink_reg_names[] = {
	{ "MHIREGLEN", EP_MHIREGLEN },
	{ "MHIVER", EP_MHIVER },
	{ "MHICFG", EP_MHICFG },
	{ "CHDBOFF", EP_CHDBOFF },
	{ "ERDBOFF", EP_ERDBOFF },
	{ "BHIOFF", EP_BHIOFF },
	{ "MHICTRL", EP_MHICTRL },
	{ "MHISTATUS", EP_MHISTATUS },
	{ "CCABAP_LOWER", EP_CCABAP_LOWER },
	{ "CCABAP_HIGHER", EP_CCABAP_HIGHER },
	{ "ECABAP_LOWER", EP_ECABAP_LOWER },
	{ "ECABAP_HIGHER", EP_ECABAP_HIGHER },
	{ "CRCBAP_LOWER", EP_CRCBAP_LOWER },
	{ "CRCBAP_HIGHER", EP_CRCBAP_HIGHER },
	{ "CRDB_LOWER", EP_CRDB_LOWER },
	{ "MHIDATABASE_LOWER", EP_MHIDATABASE_LOWER },
	{ "MHIDATALIMIT_LOWER", EP_MHIDATALIMIT_LOWER },
	{ "BHI_EXECENV", EP_BHI_EXECENV },
	{ "CTRL_INT_STATUS", MHI_CTRL_INT_STATUS },
	{ "CTRL_INT_CLEAR", MHI_CTRL_INT_CLEAR },
	{ "CTRL_INT_MASK", MHI_CTRL_INT_MASK },
	{ "CHDB_INT_STATUS_0", MHI_CHDB_INT_STATUS_n(0) },
	{ "CHDB_INT_CLEAR_0", MHI_CHDB_INT_CLEAR_n(0) },
	{ "CHDB_INT_MASK_0", MHI_CHDB_INT_MASK_n(0) },
	{ "CHDB_LOWER_0", CHDB_LOWER_n(VLINK_LOOPBACK_UL) },
	{ "CHDB_LOWER_1", CHDB_LOWER_n(VLINK_LOOPBACK_DL) },
	{ "ERDB_LOWER_0", ERDB_LOWER_n(0) },
	{ "ERDB_LOWER_1", ERDB_LOWER_n(1) },
};

static int vlink_regs_show(struct seq_file *s, void *unused)
{
	struct vlink *vl = s->private;
	int i;

	for (i = 0; i < ARRAY_SIZE(vlink_reg_names); i++)
		seq_printf(s, "%-20s %#05x = %#010x\n", vlink_reg_names[i].name,
			   vlink_reg_names[i].offset,
			   READ_ONCE(*vlink_reg(vl, vlink_reg_names[i].offset)));

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vlink_regs);

static int vlink_host_show(struct seq_file *s, void *unused)
{
	struct vlink *vl = s->private;

	seq_printf(s, "%s\n", dev_name(&vl->host->mhi_dev->dev));

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vlink_host);

static int vlink_endpoint_show(struct seq_file *s, void *unused)
{
	struct vlink *vl = s->private;

	mutex_lock(&vl->lock);
	if (vl->ep && vl->ep->mhi_dev)
		seq_printf(s, "%s\n", dev_name(&vl->ep->mhi_dev->dev));
	mutex_unlock(&vl->lock);

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vlink_endpoint);

static ssize_t vlink_power_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct vlink *vl = file->private_data;
	char buf[8];
	int ret = 0;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	ret = mutex_lock_interruptible(&vl->lock);
	if (ret)
		return ret;

	if (sysfs_streq(buf, "up")) {
		ret = vlink_power_up(vl);
	} else if (sysfs_streq(buf, "down")) {
		if (vl->up)
			vlink_power_down(vl);
	} else if (sysfs_streq(buf, "cycle")) {
		if (vl->up)
			vlink_power_down(vl);
		ret = vlink_power_up(vl);
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&vl->lock);

	return ret ?: count;
}

static const struct file_operations vlink_power_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vlink_power_write,
	.llseek = noop_llseek,
};

static int vlink_hold_echo_get(void *data, u64 *val)
{
	struct vlink *vl = data;

	*val = atomic_read(&vl->hold_echo.left);

	return 0;
}

/* Arm for @val writes; disarming (0) also releases the writes held now */
static int vlink_hold_echo_set(void *data, u64 val)
{
	struct vlink *vl = data;

	if (val > INT_MAX)
		return -EINVAL;

	atomic_set(&vl->hold_echo.left, val);
	if (!val)
		vlink_hold_release(vl);

	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vlink_hold_echo_fops, vlink_hold_echo_get, vlink_hold_echo_set,
			 "%llu\n");

static void vlink_debugfs_init(struct vlink *vl, int id)
{
	char name[16];

	snprintf(name, sizeof(name), "link%d", id);
	vl->debugfs = debugfs_create_dir(name, vlink_debugfs_root);

	debugfs_create_file("host", 0444, vl->debugfs, vl, &vlink_host_fops);
	debugfs_create_file("endpoint", 0444, vl->debugfs, vl, &vlink_endpoint_fops);
	debugfs_create_file("state", 0444, vl->debugfs, vl, &vlink_state_fops);
	debugfs_create_file("stats", 0444, vl->debugfs, vl, &vlink_stats_fops);
	debugfs_create_file("regs", 0444, vl->debugfs, vl, &vlink_regs_fops);
	debugfs_create_file("power", 0200, vl->debugfs, vl, &vlink_power_fops);
	debugfs_create_atomic_t("drop_echo", 0600, vl->debugfs, &vl->drop_echo.left);
	debugfs_create_atomic_t("corrupt_echo", 0600, vl->debugfs, &vl->corrupt_echo.left);
	debugfs_create_atomic_t("echo_skip", 0600, vl->debugfs, &vl->echo_skip);
	debugfs_create_u32("corrupt_offset", 0600, vl->debugfs, &vl->corrupt_offset);
	debugfs_create_u32("corrupt_len", 0600, vl->debugfs, &vl->corrupt_len);
	debugfs_create_atomic_t("fail_dma", 0600, vl->debugfs, &vl->fail_dma.left);
	debugfs_create_atomic_t("fail_ul_event", 0600, vl->debugfs, &vl->fail_ul_event.left);
	debugfs_create_u32("delay_echo_ms", 0600, vl->debugfs, &vl->delay_echo_ms);
	debugfs_create_u32("msi_delay_us", 0600, vl->debugfs, &vl->msi_delay_us);
	debugfs_create_file_unsafe("hold_echo", 0600, vl->debugfs, vl, &vlink_hold_echo_fops);
}

static void vlink_irqs_free(void *data)
{
	struct vlink *vl = data;
	int hwirq;

	for (hwirq = 0; hwirq < VLINK_NR_HWIRQS; hwirq++)
		irq_dispose_mapping(irq_find_mapping(vl->domain, hwirq));
	irq_domain_remove(vl->domain);
	irq_domain_free_fwnode(vl->fwnode);
}

static int vlink_irqs_init(struct vlink *vl, int id)
{
	int hwirq, virq;

	vl->fwnode = irq_domain_alloc_named_id_fwnode(VLINK_DRV_NAME, id);
	if (!vl->fwnode)
		return -ENOMEM;

	vl->domain = irq_domain_create_linear(vl->fwnode, VLINK_NR_HWIRQS,
					      &vlink_irq_domain_ops, vl);
	if (!vl->domain) {
		irq_domain_free_fwnode(vl->fwnode);
		return -ENOMEM;
	}

	for (hwirq = 0; hwirq < VLINK_NR_HWIRQS; hwirq++) {
		virq = irq_create_mapping(vl->domain, hwirq);
		if (!virq) {
			vlink_irqs_free(vl);
			return -ENOMEM;
		}
		if (hwirq < VLINK_NR_HOST_IRQS)
			vl->host_irq[hwirq] = virq;
	}

	return devm_add_action_or_reset(vl->dev, vlink_irqs_free, vl);
}

static void vlink_host_config_init(struct vlink *vl)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(vl->host_chans); i++) {
		vl->host_chans[i] = (struct mhi_channel_config) {
			.name = "LOOPBACK",
			.num = i,
			.num_elements = ch_elements,
			.event_ring = loopback_er,
			.dir = i == VLINK_LOOPBACK_UL ? DMA_TO_DEVICE : DMA_FROM_DEVICE,
			.ee_mask = BIT(MHI_EE_AMSS),
			.doorbell = MHI_DB_BRST_DISABLE,
		};
	}

	/* The control ring takes the LOOPBACK completions too when told to */
	vl->host_events[0] = (struct mhi_event_config) {
		.num_elements = loopback_er ? VLINK_CTRL_ER_ELEMENTS : er_elements,
		.irq = 1,
		.channel = U32_MAX,
		.priority = 1,
		.mode = MHI_DB_BRST_DISABLE,
		.data_type = MHI_ER_CTRL,
	};
	vl->host_events[1] = (struct mhi_event_config) {
		.num_elements = er_elements,
		.irq = 2,
		.channel = U32_MAX,
		.priority = 1,
		.mode = MHI_DB_BRST_DISABLE,
		.data_type = MHI_ER_DATA,
	};
	vl->host_events[loopback_er].irq_moderation_ms = intmod_ms;

	vl->host_config = (struct mhi_controller_config) {
		.max_channels = VLINK_MAX_CHANNELS,
		.timeout_ms = timeout_ms,
		.ready_timeout_ms = timeout_ms,
		.num_channels = ARRAY_SIZE(vl->host_chans),
		.ch_cfg = vl->host_chans,
		.num_events = ARRAY_SIZE(vl->host_events),
		.event_cfg = vl->host_events,
	};
}

/*
 * The link is a cache-coherent device that reaches host memory through the
 * direct mapping: the endpoint translates host DMA addresses back with
 * dma_to_phys() and copies through the kernel's linear map. Declare the
 * device coherent where the architecture lets a device say so (on arm64 a
 * device without firmware description is not), and refuse to run where the
 * translation does not hold: behind an IOMMU, with encrypted memory, or on
 * a device set up as non-coherent.
 */
static int vlink_check_dma(struct device *dev)
{
	dma_addr_t addr;
	phys_addr_t phys;
	void *buf;
	int ret = 0;

#if defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL)
	dev_set_dma_coherent(dev);
#endif

	if (!dev_is_dma_coherent(dev)) {
		dev_err(dev, "The link emulates a coherent device; this one is not\n");
		return -EOPNOTSUPP;
	}

	if (device_iommu_mapped(dev) || get_dma_ops(dev)) {
		dev_err(dev, "The link translates DMA addresses of dma-direct only, not of an IOMMU or other DMA ops\n");
		return -EOPNOTSUPP;
	}

	if (cc_platform_has(CC_ATTR_MEM_ENCRYPT)) {
		dev_err(dev, "The link cannot reach encrypted host memory\n");
		return -EOPNOTSUPP;
	}

	buf = kmalloc(SZ_64, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	addr = dma_map_single(dev, buf, SZ_64, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, addr)) {
		ret = -EIO;
	} else {
		/* The buffer itself, or a swiotlb bounce slot: both are RAM */
		phys = dma_to_phys(dev, addr);
		if (!pfn_valid(PHYS_PFN(phys))) {
			dev_err(dev, "DMA address %pad does not translate to memory\n", &addr);
			ret = -EOPNOTSUPP;
		}
		dma_unmap_single(dev, addr, SZ_64, DMA_BIDIRECTIONAL);
	}
	kfree(buf);

	return ret;
}

static int vlink_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct mhi_controller *host;
	struct vlink *vl;
	int ret;

	ret = vlink_check_dma(dev);
	if (ret)
		return ret;

	vl = devm_kzalloc(dev, sizeof(*vl), GFP_KERNEL);
	if (!vl)
		return -ENOMEM;

	vl->dev = dev;
	vl->regs = devm_kzalloc(dev, VLINK_REGS_SIZE, GFP_KERNEL);
	if (!vl->regs)
		return -ENOMEM;

	ret = devm_mutex_init(dev, &vl->lock);
	if (ret)
		return ret;

	raw_spin_lock_init(&vl->reg_lock);
	vl->host_iw = IRQ_WORK_INIT_HARD(vlink_host_irq_work);
	vl->ep_iw = IRQ_WORK_INIT_HARD(vlink_ep_irq_work);
	timer_setup(&vl->poll_timer, vlink_poll, 0);
	INIT_WORK(&vl->ep_power_work, vlink_ep_power_work);
	init_completion(&vl->ep_powered);
	init_waitqueue_head(&vl->hold_wq);
	platform_set_drvdata(pdev, vl);

	ret = vlink_dma_init(vl, pdev->id);
	if (ret)
		return ret;

	ret = vlink_irqs_init(vl, pdev->id);
	if (ret)
		return ret;

	vlink_host_config_init(vl);
	host = mhi_alloc_controller();
	if (!host)
		return -ENOMEM;

	host->cntrl_dev = dev;
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

	vlink_preset_regs(vl);
	ret = mhi_register_controller(host, &vl->host_config);
	if (ret) {
		dev_err(dev, "Failed to register the host controller: %d\n", ret);
		mhi_free_controller(host);
		return ret;
	}

	vlink_debugfs_init(vl, pdev->id);
	dev_info(dev, "%s DMA, LOOPBACK rings of %u elements, events on the %s ring, moderated %u ms\n",
		 async_dma ? "Asynchronous" : "Synchronous", ch_elements,
		 loopback_er ? "data" : "control", intmod_ms);

	if (autostart) {
		mutex_lock(&vl->lock);
		ret = vlink_power_up(vl);
		mutex_unlock(&vl->lock);
		if (ret) {
			debugfs_remove_recursive(vl->debugfs);
			mhi_unregister_controller(host);
			mhi_free_controller(host);
			return ret;
		}
	}

	return 0;
}

static void vlink_remove(struct platform_device *pdev)
{
	struct vlink *vl = platform_get_drvdata(pdev);

	/* No debugfs operation can start a power transition after this */
	debugfs_remove_recursive(vl->debugfs);

	mutex_lock(&vl->lock);
	if (vl->up)
		vlink_power_down(vl);
	mutex_unlock(&vl->lock);

	mhi_unregister_controller(vl->host);
	mhi_free_controller(vl->host);
}

static struct platform_driver vlink_driver = {
	.probe = vlink_probe,
	.remove = vlink_remove,
	.driver = {
		.name = VLINK_DRV_NAME,
	},
};

static void vlink_destroy_links(void)
{
	int i;

	for (i = VLINK_MAX_LINKS - 1; i >= 0; i--) {
		platform_device_unregister(vlink_pdevs[i]);
		vlink_pdevs[i] = NULL;
	}
}

static int __init vlink_init(void)
{
	struct platform_device_info info = {
		.name = VLINK_DRV_NAME,
		.dma_mask = DMA_BIT_MASK(64),
	};
	int i, ret;

	if (!nr_links || nr_links > VLINK_MAX_LINKS) {
		pr_err("%s: nr_links must be 1 to %d\n", VLINK_DRV_NAME, VLINK_MAX_LINKS);
		return -EINVAL;
	}

	if (ch_elements < 2 || ch_elements > 1024) {
		pr_err("%s: ch_elements must be 2 to 1024\n", VLINK_DRV_NAME);
		return -EINVAL;
	}

	if (loopback_er > 1 || intmod_ms > 1000) {
		pr_err("%s: loopback_er must be 0 or 1 and intmod_ms at most 1000\n",
		       VLINK_DRV_NAME);
		return -EINVAL;
	}

	/* A full event ring loses completions: size it for both rings */
	if (er_elements < 2 * ch_elements + 8) {
		pr_err("%s: er_elements must be at least 2 * ch_elements + 8\n",
		       VLINK_DRV_NAME);
		return -EINVAL;
	}

	vlink_debugfs_root = debugfs_create_dir("mhi_vlink", NULL);

	ret = platform_driver_register(&vlink_driver);
	if (ret)
		goto err_debugfs;

	for (i = 0; i < nr_links; i++) {
		info.id = i;
		vlink_pdevs[i] = platform_device_register_full(&info);
		if (IS_ERR(vlink_pdevs[i])) {
			ret = PTR_ERR(vlink_pdevs[i]);
			vlink_pdevs[i] = NULL;
			goto err_links;
		}

		/* The driver core logs the reason when probe fails */
		if (!device_is_bound(&vlink_pdevs[i]->dev)) {
			ret = -ENODEV;
			goto err_links;
		}
	}

	return 0;

err_links:
	vlink_destroy_links();
	platform_driver_unregister(&vlink_driver);
err_debugfs:
	debugfs_remove_recursive(vlink_debugfs_root);
	return ret;
}
module_init(vlink_init);

static void __exit vlink_exit(void)
{
	vlink_destroy_links();
	platform_driver_unregister(&vlink_driver);
	debugfs_remove_recursive(vlink_debugfs_root);
}
module_exit(vlink_exit);

#if IS_ENABLED(CONFIG_MHI_VLINK_KUNIT_TEST)
#include "vlink_kunit.c"
#endif

MODULE_DESCRIPTION("Virtual MHI link between the host and endpoint stacks");
MODULE_LICENSE("GPL");
