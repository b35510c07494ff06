# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Sourced by run-suite.sh and run-direct.sh: find and stop a process tree
# through /proc, with POSIX sh only (busybox boards have no pkill -P).

# Print the pids of the children of process $1.
children() {
	want=$1
	for st in /proc/[0-9]*/stat; do
		line=
		read -r line 2>/dev/null <"$st" || continue
		# The ppid is the second field after the ")" that ends the command name.
		# shellcheck disable=SC2086 # split the fields on purpose
		set -- ${line##*) }
		if [ "${2:-}" = "$want" ]; then
			p=${st%/stat}
			echo "${p##*/}"
		fi
	done
}

# TERM, then KILL, process $1 and all its descendants. A task stuck in the
# kernel (D state) survives; its parent does not, so the run returns anyway.
kill_tree() {
	all=
	todo=$1
	while [ -n "$todo" ]; do
		next=
		for p in $todo; do
			all="$all $p"
			for c in $(children "$p"); do
				next="$next $c"
			done
		done
		todo=$next
	done
	# shellcheck disable=SC2086 # one argument per pid
	kill -TERM $all 2>/dev/null
	sleep 1
	# shellcheck disable=SC2086
	kill -KILL $all 2>/dev/null
	return 0
}
