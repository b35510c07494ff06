// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual MHI link: interrupts. The irq domain of a link, with an MSI chip
 * for the host vectors and a level-triggered chip for the endpoint doorbell
 * line, the hard irq_work that delivers both, and the poll timer of the line.
 *
 * Interrupts in both directions are delivered by this driver's own irq
 * domain from hard irq_work, so the MHI cores run their handlers in real
 * hard interrupt context. Host vectors are edge-triggered MSIs that are
 * never lost: one raised while its handler runs is replayed.
 */

#include <linux/bitops.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/jiffies.h>

#include "vlink.h"

/*
 * Arm the poll if it is needed; called with reg_lock held. Never once the
 * wire is cut: vlink_cut() stops the timer after setting cut under the
 * same lock, and nothing arms it again.
 */
void vlink_poll_update(struct vlink *vl)
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

void vlink_ep_evaluate(struct vlink *vl)
{
	if (vlink_ep_line_asserted(vl))
		irq_work_queue(&vl->ep_iw);
}

void vlink_ep_irq_work(struct irq_work *work)
{
	struct vlink *vl = container_of(work, struct vlink, ep_iw);

	if (!vlink_ep_line_asserted(vl))
		return;

	atomic64_inc(&vl->stats.ep_irqs);
	generic_handle_domain_irq(vl->domain, VLINK_EP_HWIRQ);
}

void vlink_host_irq_work(struct irq_work *work)
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
void vlink_poll(struct timer_list *t)
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

static void vlink_irqs_free(void *data)
{
	struct vlink *vl = data;
	int hwirq;

	for (hwirq = 0; hwirq < VLINK_NR_HWIRQS; hwirq++)
		irq_dispose_mapping(irq_find_mapping(vl->domain, hwirq));
	irq_domain_remove(vl->domain);
	irq_domain_free_fwnode(vl->fwnode);
}

int vlink_irqs_init(struct vlink *vl)
{
	int hwirq, virq;

	vl->fwnode = irq_domain_alloc_named_id_fwnode(VLINK_DRV_NAME, vl->id);
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
