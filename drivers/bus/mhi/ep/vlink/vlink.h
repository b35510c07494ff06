/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtual MHI link: private header. The state of one link (struct vlink),
 * the driver's constants and module parameters, and the functions that the
 * files of the driver call across each other. Only the driver's own files
 * include it.
 *
 * The link emulates the endpoint's hardware for the endpoint core, so it
 * needs the core's register layout and, for debugfs, the state of its
 * channel rings (struct mhi_ep_chan): both are private to the endpoint core
 * (../internal.h), which is why the driver lives under ep/.
 */

#ifndef _MHI_EP_VLINK_H
#define _MHI_EP_VLINK_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/device/faux.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/mhi.h>
#include <linux/mhi_ep.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "../internal.h"

struct seq_file;

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

/**
 * struct vlink_config - what a link is made of, fixed while it exists
 * @ch_elements: ring elements of the LOOPBACK channels (capacity is one less)
 * @er_elements: elements of the data event ring
 * @timeout_ms: host MHI timeout
 * @intmod_ms: interrupt moderation of the LOOPBACK event ring
 * @loopback_er: event ring of the LOOPBACK channels: 1 the data ring, 0 the
 *		 control ring
 * @async_dma: payload transfers complete from a DMA worker, like an eDMA
 *	       engine, instead of inside the transfer call
 * @autostart: power the link up when it is created
 *
 * The module parameters of the same names configure the links created at
 * load time; configfs (configfs.c) configures each link created at run time.
 */
struct vlink_config {
	u32 ch_elements;
	u32 er_elements;
	u32 timeout_ms;
	u32 intmod_ms;
	u32 loopback_er;
	bool async_dma;
	bool autostart;
};

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
 * @host_resets: host writes to MHICTRL that set its RESET bit
 * @host_sys_errors: SYS_ERR reports of the host core (&mhi_controller.status_cb)
 * @host_mission_modes: mission mode entries the host core reported
 * @syserrs: endpoint errors reported through the syserr knob
 * @suspends: runtime suspends of the link to M3 (suspend.c)
 * @resumes: runtime resumes of the link from M3
 * @wake_gets: host writes of 1 to the device wake doorbell
 * @wake_puts: host writes of 0 to it
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
	atomic64_t host_resets;
	atomic64_t host_sys_errors;
	atomic64_t host_mission_modes;
	atomic64_t syserrs;
	atomic64_t suspends;
	atomic64_t resumes;
	atomic64_t wake_gets;
	atomic64_t wake_puts;
};

/**
 * struct vlink - one virtual link
 * @fdev: faux device of the link
 * @dev: its device; the host controller's DMA device and the parent of both
 *	 controllers
 * @id: number of the link, in the names of its device and debugfs directory
 * @cfg: configuration
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
 * @dma_wq: runs @dma_work (&vlink_config.async_dma)
 * @dma_work: the DMA worker: completes the queued transfers in order
 * @dma_lock: protects @dma_queue and @dma_free
 * @dma_queue: transfers submitted and not yet completed
 * @dma_free: unused descriptors of @dma_pool
 * @dma_pool: descriptors, allocated at probe
 * @runtime_refs: host runtime_get/runtime_put balance
 * @pm_dev: the device of the link's runtime PM (suspend.c)
 * @pm_down_ref: the link holds a runtime PM reference while it is down
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
 * @hold_events: release events so far: command doorbells, resets of the
 *		 endpoint, cuts, unbinds of an endpoint client of this link,
 *		 disarming @hold_echo
 * @hold_wq: held writes wait here for @hold_events to move
 * @ep_bus: bus of the endpoint devices, while @ep_bus_nb is registered
 * @ep_bus_nb: sees endpoint clients of this link being unbound
 * @debugfs: debugfs directory of the link
 */
struct vlink {
	struct faux_device *fdev;
	struct device *dev;
	int id;
	struct vlink_config cfg;
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
	struct device *pm_dev;
	bool pm_down_ref;
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
 * struct vlink_dma - a payload transfer descriptor (&vlink_config.async_dma)
 * @node: entry of &vlink.dma_queue or &vlink.dma_free
 * @info: copy of the endpoint core's request, which lives on its stack
 * @uplink: direction
 */
struct vlink_dma {
	struct list_head node;
	struct mhi_ep_buf_info info;
	bool uplink;
};

extern struct dentry *vlink_debugfs_root;

static inline u32 *vlink_reg(struct vlink *vl, u32 offset)
{
	return vl->regs + offset;
}

static inline u64 vlink_reg64(struct vlink *vl, u32 lower, u32 higher)
{
	return (u64)READ_ONCE(*vlink_reg(vl, higher)) << 32 |
	       READ_ONCE(*vlink_reg(vl, lower));
}

static inline struct vlink *ep_to_vlink(struct mhi_ep_cntrl *ep)
{
	return dev_get_drvdata(ep->cntrl_dev);
}

/* regs.c */
void vlink_preset_regs(struct vlink *vl);
bool vlink_ep_line(struct vlink *vl);
bool vlink_poll_needed(struct vlink *vl);
bool vlink_latch(struct vlink *vl, u32 offset);

/* irq.c */
void vlink_poll_update(struct vlink *vl);
void vlink_ep_evaluate(struct vlink *vl);
void vlink_ep_irq_work(struct irq_work *work);
void vlink_host_irq_work(struct irq_work *work);
void vlink_poll(struct timer_list *t);
int vlink_irqs_init(struct vlink *vl);

/* host.c */
int vlink_host_read_reg(struct mhi_controller *host, void __iomem *addr,
			u32 *out);
void vlink_host_write_reg(struct mhi_controller *host, void __iomem *addr,
			  u32 val);
struct mhi_controller *vlink_host_alloc(struct vlink *vl);

/* ep.c */
u32 vlink_ep_chdb_row(int row);
int vlink_ep_register(struct vlink *vl);
void vlink_ep_unregister(struct vlink *vl);

/* dma.c */
void vlink_hold_release(struct vlink *vl);
int vlink_ep_alloc_map(struct mhi_ep_cntrl *ep, u64 pci_addr,
		       phys_addr_t *phys, void __iomem **virt, size_t size);
void vlink_ep_unmap_free(struct mhi_ep_cntrl *ep, u64 pci_addr,
			 phys_addr_t phys, void __iomem *virt, size_t size);
int vlink_ep_read_sync(struct mhi_ep_cntrl *ep, struct mhi_ep_buf_info *info);
int vlink_ep_write_sync(struct mhi_ep_cntrl *ep, struct mhi_ep_buf_info *info);
int vlink_ep_read_async(struct mhi_ep_cntrl *ep, struct mhi_ep_buf_info *info);
int vlink_ep_write_async(struct mhi_ep_cntrl *ep, struct mhi_ep_buf_info *info);
void vlink_ep_flush_async(struct mhi_ep_cntrl *ep);
int vlink_dma_init(struct vlink *vl);

/* core.c */
extern struct vlink_config vlink_default_config;
int vlink_config_check(const struct vlink_config *cfg, const char *who);
struct vlink *vlink_create(const struct vlink_config *cfg, const char *origin);
void vlink_destroy(struct vlink *vl);

/* configfs.c */
int vlink_configfs_init(void);
void vlink_configfs_exit(void);

/* power.c */
void vlink_ep_power_work(struct work_struct *work);
void vlink_power_down(struct vlink *vl, bool graceful);
int vlink_power_up(struct vlink *vl);

/* suspend.c */
int vlink_host_runtime_get(struct mhi_controller *host);
void vlink_host_runtime_put(struct mhi_controller *host);
void vlink_pm_count_wake(struct vlink *vl, u32 offset, u32 val);
int vlink_pm_init(struct vlink *vl);
void vlink_pm_exit(struct vlink *vl);
void vlink_pm_up(struct vlink *vl);
void vlink_pm_down(struct vlink *vl);
void vlink_pm_debugfs_init(struct vlink *vl);
void vlink_pm_stats_show(struct seq_file *s, struct vlink *vl);

/* debugfs.c */
void vlink_debugfs_init(struct vlink *vl);

#endif /* _MHI_EP_VLINK_H */
