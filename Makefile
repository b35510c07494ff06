# Hardware-free test rig of the MHI LOOPBACK series (see README.md).
#
#   make setup        install what the rig needs, fetch Debian's linux-source
#   make run          build everything that changed, boot QEMU, run the mhi kselftests
#   make check        every test of the project (bats, sub-checks, both profiles)
#   make shell        boot the test kernel with a root shell on the terminal
#   make bench        loopback throughput and latency vs the memcpy ceiling (CSV, plot)
#   make patches      series + cover letter as git format-patch output in
#                     .cache/patches (OUT=), signed with your git identity
#   make checkpatch   scripts/checkpatch.pl --strict on those patches
#   make static       checkpatch, W=1, sparse, coccicheck, kernel-doc, ABI
#   make kernel | selftest | initramfs | tree | config   single steps
#   make kselftest-config  defconfig + kselftest-merge satisfy selftests/mhi/config
#
# Variables: PROFILE=default|debug|arm64  KSRC=/path/to/linux  SERIES=7.2  JOBS=2
#            T=fixture.variant.test|fixture|canary (make run: just that)
#            LANE=sync|async|bounce|ctrl|intmod, joined by - (link regimes)
#            TIMEOUT=<s>  RUN_ARGS="<run_kselftest.sh args>"
#            RUN_ENV="NAME=VALUE;..."  APPEND="<kernel args>"  OUT=<dir>
#            REFRESH=1 (make setup: look for a newer linux-source)

SHELL := /bin/bash
.NOTPARALLEL:
.DEFAULT_GOAL := help

PROFILE ?= default
SERIES ?= 7.2
JOBS ?= 2
KSRC ?=
export PROFILE SERIES JOBS KSRC TIMEOUT RUN_ARGS RUN_ENV APPEND OUT REFRESH T LANE

SETUP_STAMP := .cache/stamps/setup
STEPS := tree config kernel selftest initramfs run shell bench patches checkpatch kselftest-config

# Bad PROFILE or KSRC: one clear line before anything runs.
ifneq ($(filter-out help clean distclean,$(or $(MAKECMDGOALS),help)),)
RIG_ARGS_ERROR := $(shell PROFILE='$(PROFILE)' KSRC='$(KSRC)' SERIES='$(SERIES)' LANE='$(LANE)' bash ci/rig.sh validate 2>&1)
ifneq ($(RIG_ARGS_ERROR),)
$(error $(RIG_ARGS_ERROR))
endif
endif

.PHONY: help setup check static clean distclean $(STEPS)

help:
	@sed -n '3,20s/^# \{0,1\}//p' Makefile

setup:
	@bash ci/setup.sh

# make run and make check set the machine up themselves on first use.
$(SETUP_STAMP): ci/setup.sh
	@bash ci/setup.sh

$(STEPS): $(SETUP_STAMP)
	@bash ci/rig.sh $@

check: $(SETUP_STAMP)
	@bash ci/check.sh

static: $(SETUP_STAMP)
	@bash ci/static.sh

clean:
	rm -rf .cache/build .cache/rig .cache/logs .cache/patches .cache/static

distclean:
	rm -rf .cache
