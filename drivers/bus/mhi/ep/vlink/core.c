// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: the MHI host stack and the MHI endpoint stack of the same
 * kernel, wired to each other.
 *
 * Each link registers a host controller (struct mhi_controller) and an
 * endpoint controller (struct mhi_ep_cntrl) and plays the part of the PCIe
 * link and of the device hardware between them.
 *
 * This file holds the module (its parameters, init and exit, which create
 * the links as platform devices) and the lifecycle of a link: probe, with
 * the DMA check, and remove. The other files of the driver each hold one
 * concern: regs.c the register file, irq.c the interrupts, host.c and ep.c
 * the two controllers, dma.c the endpoint's access to host memory, power.c
 * link power, debugfs.c the debugfs files; vlink.h is their private header.
 *
 * What it does not emulate: BHI/BHIe firmware download, RDDM, the graceful
 * MHI RESET handshake at power-down (the link is cut instead), suspend to
 * M3, and any timing of a real link. debugfs exposes the link state,
 * counters, a register dump, power control and fault knobs; see
 * Documentation/mhi/loopback.rst.
 */

#include <linux/cc_platform.h>
#include <linux/debugfs.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/irq_work.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

#include "vlink.h"

static unsigned int vlink_nr_links = 1;
module_param_named(nr_links, vlink_nr_links, uint, 0444);
MODULE_PARM_DESC(nr_links, "Number of independent links (1-8, default 1)");

unsigned int vlink_ch_elements = 32;
module_param_named(ch_elements, vlink_ch_elements, uint, 0444);
MODULE_PARM_DESC(ch_elements,
		 "Ring elements of LOOPBACK channels 0 and 1 (2-1024, default 32; capacity is one less)");

unsigned int vlink_er_elements = 256;
module_param_named(er_elements, vlink_er_elements, uint, 0444);
MODULE_PARM_DESC(er_elements,
		 "Elements of the data event ring (at least 2 * ch_elements + 8, default 256)");

unsigned int vlink_timeout_ms = 10000;
module_param_named(timeout_ms, vlink_timeout_ms, uint, 0444);
MODULE_PARM_DESC(timeout_ms, "Host MHI timeout in ms (default 10000, sized for emulators)");

bool vlink_async_dma;
module_param_named(async_dma, vlink_async_dma, bool, 0444);
MODULE_PARM_DESC(async_dma,
		 "Complete endpoint payload transfers from an ordered worker per direction, like an eDMA engine, instead of inside the transfer call (default N)");

unsigned int vlink_loopback_er = 1;
module_param_named(loopback_er, vlink_loopback_er, uint, 0444);
MODULE_PARM_DESC(loopback_er,
		 "Event ring of the LOOPBACK channels: 1 a data ring of their own (default), 0 the control ring, as the Foxconn and Cinterion modems have it");

unsigned int vlink_intmod_ms;
module_param_named(intmod_ms, vlink_intmod_ms, uint, 0444);
MODULE_PARM_DESC(intmod_ms,
		 "Interrupt moderation of the LOOPBACK event ring in ms (0-1000, default 0: an interrupt per completion)");

static bool vlink_autostart = true;
module_param_named(autostart, vlink_autostart, bool, 0444);
MODULE_PARM_DESC(autostart, "Bring every link up at load time (default Y)");

struct dentry *vlink_debugfs_root;
static struct platform_device *vlink_pdevs[VLINK_MAX_LINKS];

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

	vlink_debugfs_init(vl, pdev->id);
	dev_info(dev, "%s DMA, LOOPBACK rings of %u elements, events on the %s ring, moderated %u ms\n",
		 vlink_async_dma ? "Asynchronous" : "Synchronous", vlink_ch_elements,
		 vlink_loopback_er ? "data" : "control", vlink_intmod_ms);

	if (vlink_autostart) {
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

	if (!vlink_nr_links || vlink_nr_links > VLINK_MAX_LINKS) {
		pr_err("%s: nr_links must be 1 to %d\n", VLINK_DRV_NAME, VLINK_MAX_LINKS);
		return -EINVAL;
	}

	if (vlink_ch_elements < 2 || vlink_ch_elements > 1024) {
		pr_err("%s: ch_elements must be 2 to 1024\n", VLINK_DRV_NAME);
		return -EINVAL;
	}

	if (vlink_loopback_er > 1 || vlink_intmod_ms > 1000) {
		pr_err("%s: loopback_er must be 0 or 1 and intmod_ms at most 1000\n",
		       VLINK_DRV_NAME);
		return -EINVAL;
	}

	/* A full event ring loses completions: size it for both rings */
	if (vlink_er_elements < 2 * vlink_ch_elements + 8) {
		pr_err("%s: er_elements must be at least 2 * ch_elements + 8\n",
		       VLINK_DRV_NAME);
		return -EINVAL;
	}

	vlink_debugfs_root = debugfs_create_dir("mhi_vlink", NULL);

	ret = platform_driver_register(&vlink_driver);
	if (ret)
		goto err_debugfs;

	for (i = 0; i < vlink_nr_links; i++) {
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

MODULE_DESCRIPTION("Virtual MHI link between the host and endpoint stacks");
MODULE_LICENSE("GPL");
