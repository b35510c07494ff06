#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Test of the test: with each mhi_vlink fault knob armed, the plain data test
# of mhi_loopback_test must report "not ok", checks that move no data must
# still pass, and the data test must pass again once the knob is disarmed.
# Skips (exit 4) when there is no LOOPBACK device on a virtual link.

exec "$(dirname "$0")/mhi_loopback_test" --canary "$@"
