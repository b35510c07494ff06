// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: the MHI host stack and the MHI endpoint stack of the same
 * kernel, wired to each other.
 *
 * Each link registers a host controller (struct mhi_controller) and an
 * endpoint controller (struct mhi_ep_cntrl) and plays the part of the PCIe
 * link and of the device hardware between them.
 *
 * This file holds the module (its parameters, which configure the links it
 * creates at load time, init and exit) and the lifecycle of a link: its
 * faux device with the DMA check, creation and removal. configfs.c creates
 * links at run time. The other files of the driver each hold one
 * concern: regs.c the register file, irq.c the interrupts, host.c and ep.c
 * the two controllers, dma.c the endpoint's access to host memory, power.c
 * link power, suspend.c its runtime suspend to M3, debugfs.c the debugfs
 * files; vlink.h is their private header.
 *
 * What it does not emulate: BHI/BHIe firmware download, RDDM and any
 * timing of a real link. debugfs exposes the link state, counters, a
 * register dump, power and runtime PM control and fault knobs; see
 * Documentation/mhi/loopback.rst.
 */

#include <linux/cc_platform.h>
#include <linux/debugfs.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/irq_work.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "vlink.h"

static unsigned int vlink_nr_links = 1;
module_param_named(nr_links, vlink_nr_links, uint, 0444);
MODULE_PARM_DESC(nr_links, "Links created at load time (0-8, default 1; more in configfs)");

/* The configuration of the links created at load time, and configfs' default */
struct vlink_config vlink_default_config = {
	.ch_elements = 32,
	.er_elements = 256,
	.timeout_ms = 10000,
	.loopback_er = 1,
	.autostart = true,
};

module_param_named(ch_elements, vlink_default_config.ch_elements, uint, 0444);
MODULE_PARM_DESC(ch_elements,
		 "Ring elements of LOOPBACK channels 0 and 1 (2-1024, default 32; capacity is one less)");

module_param_named(er_elements, vlink_default_config.er_elements, uint, 0444);
MODULE_PARM_DESC(er_elements,
		 "Elements of the data event ring (at least 2 * ch_elements + 8, default 256)");

module_param_named(timeout_ms, vlink_default_config.timeout_ms, uint, 0444);
MODULE_PARM_DESC(timeout_ms, "Host MHI timeout in ms (1-600000, default 10000, sized for emulators)");

module_param_named(async_dma, vlink_default_config.async_dma, bool, 0444);
MODULE_PARM_DESC(async_dma,
		 "Complete endpoint payload transfers in order from a DMA worker of the link, like an eDMA engine, instead of inside the transfer call (default N)");

module_param_named(loopback_er, vlink_default_config.loopback_er, uint, 0444);
MODULE_PARM_DESC(loopback_er,
		 "Event ring of the LOOPBACK channels: 1 a data ring of their own (default), 0 the control ring, as the Foxconn and Cinterion modems have it");

module_param_named(intmod_ms, vlink_default_config.intmod_ms, uint, 0444);
MODULE_PARM_DESC(intmod_ms,
		 "Interrupt moderation of the LOOPBACK event ring in ms (0-1000, default 0: an interrupt per completion)");

module_param_named(autostart, vlink_default_config.autostart, bool, 0444);
MODULE_PARM_DESC(autostart, "Bring every link up when it is created (default Y)");

struct dentry *vlink_debugfs_root;
static DEFINE_IDA(vlink_ida);
static struct vlink *vlink_boot_links[VLINK_MAX_LINKS];

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

/**
 * vlink_config_check() - check a link configuration
 * @cfg: the configuration
 * @who: what configured it, for the message that says what is wrong
 *
 * Return: 0, or -EINVAL with a message when @cfg cannot make a link.
 */
int vlink_config_check(const struct vlink_config *cfg, const char *who)
{
	if (cfg->ch_elements < 2 || cfg->ch_elements > 1024) {
		pr_err("%s: %s: ch_elements must be 2 to 1024\n", VLINK_DRV_NAME, who);
		return -EINVAL;
	}

	/* A full event ring loses completions: size it for both rings */
	if (cfg->er_elements < 2 * cfg->ch_elements + 8 || cfg->er_elements > 8192) {
		pr_err("%s: %s: er_elements must be 2 * ch_elements + 8 to 8192\n",
		       VLINK_DRV_NAME, who);
		return -EINVAL;
	}

	if (!cfg->timeout_ms || cfg->timeout_ms > 600000) {
		pr_err("%s: %s: timeout_ms must be 1 to 600000\n", VLINK_DRV_NAME, who);
		return -EINVAL;
	}

	if (cfg->loopback_er > 1 || cfg->intmod_ms > 1000) {
		pr_err("%s: %s: loopback_er must be 0 or 1 and intmod_ms at most 1000\n",
		       VLINK_DRV_NAME, who);
		return -EINVAL;
	}

	return 0;
}

static int vlink_setup(struct vlink *vl, const char *origin)
{
	struct device *dev = vl->dev;
	struct mhi_controller *host;
	int ret;

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

	ret = vlink_dma_init(vl);
	if (ret)
		return ret;

	ret = vlink_irqs_init(vl);
	if (ret)
		return ret;

	host = vlink_host_alloc(vl);
	if (!host)
		return -ENOMEM;

	vlink_preset_regs(vl);
	ret = mhi_register_controller(host, &vl->host_config);
	if (ret) {
		dev_err(dev, "Failed to register the host controller: %d\n", ret);
		mhi_free_controller(host);
		return ret;
	}

	ret = vlink_pm_init(vl);
	if (ret) {
		mhi_unregister_controller(host);
		mhi_free_controller(host);
		return ret;
	}

	vlink_debugfs_init(vl);
	dev_info(dev, "%s DMA, LOOPBACK rings of %u elements, events on the %s ring, moderated %u ms, configured by %s\n",
		 vl->cfg.async_dma ? "Asynchronous" : "Synchronous", vl->cfg.ch_elements,
		 vl->cfg.loopback_er ? "data" : "control", vl->cfg.intmod_ms, origin);

	if (vl->cfg.autostart) {
		mutex_lock(&vl->lock);
		ret = vlink_power_up(vl);
		mutex_unlock(&vl->lock);
		if (ret) {
			debugfs_remove_recursive(vl->debugfs);
			vlink_pm_exit(vl);
			mhi_unregister_controller(host);
			mhi_free_controller(host);
			return ret;
		}
	}

	return 0;
}

/**
 * vlink_create() - create a link, with its faux device
 * @cfg: its configuration, checked by vlink_config_check()
 * @origin: what configured it, for the line that says how the link runs
 *
 * The link takes the lowest free number. Its device is a faux device
 * named mhi-vlink.<id>, set up as the DMA device of the host controller.
 * The driver core releases what vlink_setup() allocated with devm_*() when
 * the faux device goes.
 *
 * Return: the link, or an ERR_PTR().
 */
struct vlink *vlink_create(const struct vlink_config *cfg, const char *origin)
{
	struct faux_device *fdev;
	char name[24];
	struct vlink *vl;
	int id, ret;

	id = ida_alloc_max(&vlink_ida, VLINK_MAX_LINKS - 1, GFP_KERNEL);
	if (id < 0)
		return ERR_PTR(id == -ENOSPC ? -EBUSY : id);

	snprintf(name, sizeof(name), "%s.%d", VLINK_DRV_NAME, id);
	fdev = faux_device_create(name, NULL, NULL);
	if (!fdev) {
		ret = -ENODEV;
		goto err_ida;
	}

	/* A faux device has no DMA mask: the link's DMA is 64-bit direct */
	fdev->dev.dma_mask = &fdev->dev.coherent_dma_mask;
	ret = dma_set_mask_and_coherent(&fdev->dev, DMA_BIT_MASK(64));
	if (!ret)
		ret = vlink_check_dma(&fdev->dev);
	if (ret)
		goto err_fdev;

	vl = devm_kzalloc(&fdev->dev, sizeof(*vl), GFP_KERNEL);
	if (!vl) {
		ret = -ENOMEM;
		goto err_fdev;
	}

	vl->fdev = fdev;
	vl->dev = &fdev->dev;
	vl->id = id;
	vl->cfg = *cfg;
	faux_device_set_drvdata(fdev, vl);

	ret = vlink_setup(vl, origin);
	if (ret)
		goto err_fdev;

	return vl;

err_fdev:
	faux_device_destroy(fdev);
err_ida:
	ida_free(&vlink_ida, id);
	return ERR_PTR(ret);
}

/**
 * vlink_destroy() - power a link down and remove it with its faux device
 * @vl: the link, from vlink_create()
 */
void vlink_destroy(struct vlink *vl)
{
	int id = vl->id;

	/* No debugfs operation can start a power transition after this */
	debugfs_remove_recursive(vl->debugfs);

	mutex_lock(&vl->lock);
	if (vl->up)
		vlink_power_down(vl, false);
	mutex_unlock(&vl->lock);

	vlink_pm_exit(vl);
	mhi_unregister_controller(vl->host);
	mhi_free_controller(vl->host);

	/* Frees @vl and what else vlink_setup() allocated with devm_*() */
	faux_device_destroy(vl->fdev);
	ida_free(&vlink_ida, id);
}

static void vlink_destroy_boot_links(void)
{
	int i;

	for (i = VLINK_MAX_LINKS - 1; i >= 0; i--) {
		if (vlink_boot_links[i])
			vlink_destroy(vlink_boot_links[i]);
		vlink_boot_links[i] = NULL;
	}
}

static int __init vlink_init(void)
{
	struct vlink *vl;
	int i, ret;

	if (vlink_nr_links > VLINK_MAX_LINKS) {
		pr_err("%s: nr_links must be 0 to %d\n", VLINK_DRV_NAME, VLINK_MAX_LINKS);
		return -EINVAL;
	}

	ret = vlink_config_check(&vlink_default_config, "module parameters");
	if (ret)
		return ret;

	vlink_debugfs_root = debugfs_create_dir("mhi_vlink", NULL);

	for (i = 0; i < vlink_nr_links; i++) {
		vl = vlink_create(&vlink_default_config, "module parameters");
		if (IS_ERR(vl)) {
			ret = PTR_ERR(vl);
			pr_err("%s: link %d not created: %d\n", VLINK_DRV_NAME, i, ret);
			goto err_links;
		}
		vlink_boot_links[i] = vl;
	}

	ret = vlink_configfs_init();
	if (ret)
		goto err_links;

	return 0;

err_links:
	vlink_destroy_boot_links();
	debugfs_remove_recursive(vlink_debugfs_root);
	return ret;
}
module_init(vlink_init);

static void __exit vlink_exit(void)
{
	/* configfs holds the module while one of its links exists */
	vlink_configfs_exit();
	vlink_destroy_boot_links();
	debugfs_remove_recursive(vlink_debugfs_root);
	ida_destroy(&vlink_ida);
}
module_exit(vlink_exit);

MODULE_DESCRIPTION("Virtual MHI link between the host and endpoint stacks");
MODULE_LICENSE("GPL");
