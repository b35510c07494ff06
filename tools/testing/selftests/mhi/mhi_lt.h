/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the MHI LOOPBACK selftest: sysfs and debugfs access,
 * module handling and the per-test kernel log / taint guard.
 */
#ifndef MHI_LT_H
#define MHI_LT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kselftest.h"

#define LT_HOST_DRV		"mhi_loopback"
#define LT_EP_DRV		"mhi_ep_loopback"
#define LT_VLINK_MOD		"mhi_vlink"
#define LT_EP_KNOB		"ep:"	/* prefix of the echo client's knobs */
/* The endpoint core reads, and the echo client echoes, 32 KiB at most */
#define LT_EP_CHUNK		32768UL
/*
 * Echo shapes of the echo client (its echo_shape parameter): split sends
 * each chunk in pieces of LT_EP_PIECE bytes at most, coalesce merges
 * consecutive chunks into DL buffers of LT_EP_COALESCE_MAX bytes at most.
 */
#define LT_EP_PIECE		4096UL
#define LT_EP_COALESCE_MAX	131072UL

enum lt_shape {
	LT_SHAPE_SAME,
	LT_SHAPE_SPLIT,
	LT_SHAPE_COALESCE,
};

#define LT_DEFAULT_TRE_SIZE	32
#define LT_DEFAULT_NUM_TRE	1
#define LT_MAX_TRE_SIZE		65535
#define LT_DEADLINE_MS		5000

#define LT_NAME_LEN		128
#define LT_MAX_DEVS		16

/* Everything main() finds out before the tests run; inherited by each fork. */
struct lt_env {
	char root[PATH_MAX];		/* prefix for /sys paths, "" normally */
	bool fake;			/* root is a fake tree (tests of the test) */
	bool may_load;			/* module loading allowed */
	bool use_vlink;			/* --vlink: test over the virtual link */
	bool hardware;			/* --hardware: no link, no knobs, hardware tests */
	char dev[LT_NAME_LEN];		/* selected device, e.g. mhi0_LOOPBACK */
	char cntrl[LT_NAME_LEN];	/* its controller, e.g. mhi0 */
	char vlink[PATH_MAX];		/* mhi_vlink debugfs link dir or "" */
	char epdev[LT_NAME_LEN];	/* EP LOOPBACK device of that link or "" */
	unsigned int seed;
	unsigned int deadline_ms;	/* host echo deadline */
	long page_size;
};

extern struct lt_env lt;

/* errno helpers */
const char *lt_errname(int err);

/* paths and plain files */
__printf(3, 4) int lt_path(char *buf, size_t len, const char *fmt, ...);
ssize_t lt_read_file(const char *path, char *buf, size_t len);
ssize_t lt_write_file(const char *path, const void *buf, size_t len);
bool lt_exists(const char *path);

/* attributes of the selected device */
int lt_attr_path(char *buf, size_t len, const char *attr);
ssize_t lt_attr_raw(const char *attr, char *buf, size_t len);
int lt_attr_get(const char *attr, char *buf, size_t len);
int lt_attr_ulong(const char *attr, unsigned long *val);
ssize_t lt_attr_put(const char *attr, const void *buf, size_t len);
int lt_attr_set_ulong(const char *attr, unsigned long val);
int lt_start(uint64_t *ns);
int lt_probe_capacity(void);

/* discovery, binding */
int lt_list_devices(char names[][LT_NAME_LEN], int max, bool (*keep)(const char *name));
int lt_discover(char names[][LT_NAME_LEN], int max);
bool lt_bus_present(void);
bool lt_bound(void);
int lt_bind(bool bind);
int lt_wait_bound(bool bound, unsigned int ms);
int lt_ensure_bound(void);
int lt_select(const char *want);
void lt_map_vlink(void);
bool lt_ep_bound(void);
int lt_wait_ep_bound(unsigned int ms);
int lt_ep_bind(bool bind);

/* mhi_vlink knobs and counters */
bool lt_knob_present(const char *knob);
int lt_knob_set(const char *knob, unsigned long val);
int lt_knob_path(char *buf, size_t len, const char *knob);
int lt_knob_write(const char *knob, const char *what);
int lt_knob_get(const char *knob, unsigned long *val);
int lt_vlink_power(const char *what);
int lt_vlink_stat(const char *key, unsigned long long *val);
int lt_vlink_state(const char *key, unsigned long long *val);
int lt_ep_hook_set(const char *hook, unsigned long val);
bool lt_ep_hook_present(const char *hook);
void lt_knobs_disarm(void);
int lt_module_param(const char *mod, const char *param, unsigned long *val);
int lt_echo_shape(void);
const char *lt_shape_name(int shape);
unsigned long lt_dl_write(int shape, unsigned long size, unsigned long num,
			  unsigned long j, unsigned long long *off, unsigned long *len);
unsigned long lt_coalesced_bufs(unsigned long size, unsigned long num);

/* time and pseudo random numbers */
uint64_t lt_now_ns(void);
void lt_sleep_ms(unsigned int ms);
uint32_t lt_rand(uint32_t *state);
unsigned long lt_env_ulong(const char *name, unsigned long def);

/* module handling (mhi_lt_kmod.c) */
enum lt_mod_state {
	LT_MOD_ABSENT,
	LT_MOD_LIVE,
	LT_MOD_COMING,
	LT_MOD_GOING,
	LT_MOD_BUILTIN,
};

enum lt_mod_state lt_mod_state(const char *name);
bool lt_mod_available(const char *name);
int lt_mod_load(const char *name);
int lt_mod_unload(const char *name);
void lt_mod_cleanup(void);
const char *lt_mod_backend(void);
bool lt_mod_forbidden(int err);

/* links of mhi_vlink in configfs (mhi_lt_configfs.c) */
int lt_cfs_mount(void);
int lt_cfs_mkdir(const char *link);
int lt_cfs_rmdir(const char *link);
int lt_cfs_write(const char *link, const char *attr, const char *val);
int lt_cfs_read(const char *link, const char *attr, char *buf, size_t len);
bool lt_cfs_faux_exists(const char *dev_name);
int lt_cfs_count_links(void);
int lt_cfs_select(const char *dev_name);

/* evidence of a start, independent of the host client (mhi_lt_evidence.c) */
#define LT_MAX_LINK_BPS		32000000000ULL	/* PCIe Gen5 x8, one way */
#define LT_MIN_START_NS		1000ULL		/* a doorbell, DMA both ways, an MSI */
#define LT_DEBUGFS_MAX		65536
#define LT_ELEMENT_SIZE		16	/* bytes of a TRE or of an event */

struct lt_report {
	unsigned long long seq;
	unsigned long long seed;
	unsigned long tre_size;
	unsigned long num_tre;
	unsigned long long sent;
	unsigned long long received;
	uint32_t crc32;
	unsigned long long mismatch;	/* ULLONG_MAX: none */
	unsigned long long duration_ns;
	unsigned long long queue_ns;		/* 0: not reported */
	unsigned long long first_echo_ns;	/* 0: not reported or no echo */
	int result;
};

struct lt_ring_pos {
	unsigned long long base, len, rp, wp;
	unsigned int er;		/* channel: its event ring */
	unsigned int state;
};

struct lt_rings {
	struct lt_ring_pos ul, dl, er;
};

struct lt_evidence {
	struct lt_report report;	/* before the start */
	struct lt_rings rings;		/* before the start */
	unsigned long long ul_moved, dl_moved, events;	/* after the check */
	bool chained;			/* report and rings: after the last check */
};

uint32_t lt_crc32(uint32_t crc, const void *buf, size_t len);
uint32_t lt_pattern_crc(unsigned long long seed, unsigned long long len);
unsigned int lt_pattern_byte(unsigned long long seed, unsigned long long offset);
int lt_report_path(char *buf, size_t len);
int lt_report_read(struct lt_report *r);
int lt_rings_read(struct lt_rings *r);
int lt_evidence_check(struct lt_evidence *ev, unsigned long tre_size,
		      unsigned long num_tre, unsigned long long wall_ns, char *why, size_t len);
int lt_start_checked(unsigned long tre_size, unsigned long num_tre, uint64_t *ns,
		     char *why, size_t len);
int lt_start_chained(struct lt_evidence *ev, unsigned long tre_size, unsigned long num_tre,
		     uint64_t *ns, char *why, size_t len);

/* the environment contract (mhi_lt_env.c) */
enum lt_class {
	LT_CLASS_NONE = -1,
	LT_CLASS_HARDWARE,		/* runs on any LOOPBACK device */
	LT_CLASS_LINK,			/* needs the virtual link */
};

void lt_ktap_header(void);
__noreturn __printf(1, 2) void lt_exit_skip(const char *fmt, ...);
__noreturn __printf(1, 2) void lt_exit_fail(const char *fmt, ...);
void lt_ktap_info(const char *what);
int lt_controllers(char names[][LT_NAME_LEN], int max);
bool lt_cntrl_is_vlink(const char *cntrl);
int lt_select_vlink(const char *want);
int lt_no_device_reason(const char *want, char *buf, size_t len);
enum lt_class lt_test_class(const char *name);
const char *lt_class_name(enum lt_class class);
bool lt_test_runs_here(const char *name);
void lt_set_mode(int opt_vlink, int opt_hardware);
const char *lt_mode_name(void);

/* before the tests (mhi_lt_setup.c) */
extern pid_t lt_main_pid;		/* only main unloads what it loaded */

void lt_prepare(const char *want);
void lt_print_info(void);

/* the --canary mode (mhi_lt_canary.c), its runs of this program (mhi_lt_run.c) */
extern const char *lt_self;		/* argv[0]: the canary runs it */

int lt_canary_main(void);

/* the host client's deadline of a start (its timeout_ms parameter), in ms */
int lt_set_deadline(unsigned long ms);
char *lt_run_self(const char * const *args, int *status);
bool lt_exit_code(int status, int code);
void lt_print_lines(const char *tag, const char *text);

/* per-test kernel log and taint guard */
struct lt_guard {
	int kmsg;			/* /dev/kmsg reader, -1 if unavailable */
	unsigned long taint;
	bool taint_ok;
	bool ignore_kmemleak;
	char name[192];
};

void lt_guard_begin(struct lt_guard *g, const char *name);
int lt_guard_end(struct lt_guard *g);

#endif /* MHI_LT_H */
