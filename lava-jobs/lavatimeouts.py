#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check that the LAVA jobs' timeouts follow from the suite's own (check.sh).

  lavatimeouts.py --settings SETTINGS [--testdefs DIR] JOB...

SETTINGS is the selftest's kselftest "settings" file: its timeout= is the
runner's limit for one program (three times its slowest measured run). For
every test action that runs the suite (a definition with SUITE_TIMEOUT, in
the job or as its test definition's default):
  - SUITE_TIMEOUT exceeds the runner's limit, so that a hung program is
    stopped by the runner under its own name before the watchdog fires;
  - SUITE_TIMEOUT + ATTACH_TIMEOUT + 60 s fits in the action's timeout, so
    that the shell is free again for the blocks after it.
The job's timeout covers the action timeouts of each role in turn. In a
multinode job:
  - every role is essential;
  - a boot action that waits for a message (an action-level lava-wait) names
    a replaceable key of it ("message: {key: $key}"): the dispatcher fails
    the job on such a call without one (its collate() is run here on a
    reply like the coordinator's); its wait fits in the boot's timeout;
  - the lava-multinode timeout, which bounds every lava-wait of a test shell,
    covers every test action whose definition calls lava-wait;
  - a test action that waits for another role's message covers that role's
    path to it: its action timeouts up to the test that sends it, less the
    time that role itself waits in its boot.
Prints one line per job with the figures; exit 1 on the first broken rule
of each job, with the rule.
"""

import argparse
import os
import re
import sys

import yaml


def minutes(t):
    """A LAVA timeout block in seconds."""
    t = t or {}
    return 86400 * t.get("days", 0) + 3600 * t.get("hours", 0) + 60 * t.get("minutes", 0) + t.get("seconds", 0)


def settings_timeout(path):
    with open(path, encoding="utf-8") as f:
        found = re.findall(r"^timeout=(\d+)$", f.read(), re.M)
    if not found:
        raise SystemExit(f"lavatimeouts: no timeout= line in {path}")
    return int(found[-1])


def testdef_of(d, testdefs):
    if d.get("from") == "inline":
        return d.get("repository") or {}
    path = os.path.join(testdefs, os.path.basename(d.get("path", "")))
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def params_of(d, td):
    p = dict(td.get("params") or {})
    p.update(d.get("parameters") or {})
    return p


def steps_of(td):
    return " ".join(str(s) for s in ((td.get("run") or {}).get("steps") or []))


class Broken(Exception):
    pass


def rule(ok, text):
    if not ok:
        raise Broken(text)


def collate_ok(call):
    """Run the dispatcher's collate() on a reply like the coordinator's."""
    import logging

    from lava_dispatcher.protocols.multinode import MultinodeProtocol

    proto = MultinodeProtocol.__new__(MultinodeProtocol)
    proto.logger = logging.getLogger("lavatimeouts")
    proto.job_id = "2"
    keys = [k for k, v in (call.get("message") or {}).items() if str(v).startswith("$")]
    reply = {"1": {k: "pass" for k in keys} or {"status": "pass"}}
    try:
        proto.collate(reply, call)
    except Exception as exc:  # noqa: BLE001 - JobError and any other refusal
        return str(exc)
    return None


def check_job(path, runner_limit, testdefs):
    with open(path, encoding="utf-8") as f:
        job = yaml.safe_load(f)
    name = os.path.basename(path)
    default_action = minutes((job.get("timeouts") or {}).get("action"))
    job_limit = minutes((job.get("timeouts") or {}).get("job"))
    multinode = ((job.get("protocols") or {}).get("lava-multinode")) or None
    roles = list((multinode or {}).get("roles") or {}) or [None]
    figures = []

    def role_actions(role):
        for a in job.get("actions", []):
            kind, body = next(iter(a.items()))
            if role is None or role in (body.get("role") or []):
                yield kind, body

    def timeout(body):
        return minutes(body.get("timeout")) or default_action

    if multinode:
        for r, v in multinode["roles"].items():
            rule(v.get("essential") is True, f"role {r} is not essential")
    # message -> (role, that role's action seconds before the test that
    # sends it, and through that test; its own boot waits not counted)
    sends = {}
    waits = []  # (role, message, "boot" or "test", seconds it may wait)
    for role in roles:
        total = 0
        own_wait = 0
        booted_on = set()
        for kind, body in role_actions(role):
            t = timeout(body)
            total += t
            for call in ((body.get("protocols") or {}).get("lava-multinode")) or []:
                if call.get("request") != "lava-wait":
                    continue
                why = collate_ok(call)
                rule(why is None, f"{role}'s {kind} waits for {call.get('messageID')} in a way the "
                     f"dispatcher refuses: {why}")
                w = minutes(call.get("timeout"))
                rule(0 < w < t, f"{role}'s {kind} waits {w} s for {call.get('messageID')}, "
                     f"not less than its timeout {t} s")
                own_wait += w
                booted_on.add(call.get("messageID"))
                waits.append((role, call.get("messageID"), kind, w))
            if kind != "test":
                continue
            for d in body.get("definitions") or []:
                td = testdef_of(d, testdefs)
                p = params_of(d, td)
                steps = steps_of(td)
                for msg in re.findall(r"lava-send ([\w-]+)", steps):
                    sends.setdefault(msg, (role, total - t - own_wait, total - own_wait))
                for msg in re.findall(r"lava-wait ([\w-]+)", steps):
                    # after the boot waited for it, the shell's wait is immediate
                    if msg not in booted_on:
                        waits.append((role, msg, "test", t))
                if "SUITE_TIMEOUT" not in p:
                    continue
                suite = int(p["SUITE_TIMEOUT"])
                attach = int(p.get("ATTACH_TIMEOUT", 0) or 0)
                rule(suite > runner_limit, f"SUITE_TIMEOUT {suite} s of {d.get('name')} is not above "
                     f"the runner's {runner_limit} s for one program (the settings file)")
                rule(suite + attach + 60 <= t, f"SUITE_TIMEOUT {suite} s + ATTACH_TIMEOUT {attach} s "
                     f"+ 60 s of {d.get('name')} do not fit in its test action's {t} s")
                figures.append(f"suite {suite} s (runner {runner_limit} s) in a {t} s action")
        rule(total <= job_limit, f"the actions of {role or 'the job'} add up to {total} s, "
             f"more than the job's {job_limit} s")
        figures.append(f"{role or 'actions'} {total} s")
    if multinode:
        poll = minutes(multinode.get("timeout"))
        for role, msg, where, t in waits:
            rule(msg in sends and sends[msg][0] != role, f"{role} waits for {msg}, which no other role sends")
            sender, before, through = sends[msg]
            if where == "test":
                rule(poll >= t, f"the lava-multinode timeout {poll} s is shorter than {role}'s test "
                     f"action ({t} s) that waits for {msg}")
            # a boot waits until the sender's test starts; a test until it ends
            need = before if where == "boot" else through
            rule(t >= need, f"{role}'s {where} waits {t} s for {msg}, but {sender} may take {need} s "
                 f"to send it")
            figures.append(f"{role} waits {t} s for {msg} ({sender}: {need} s)")
        figures.append(f"lava-multinode {poll} s")
    print(f"timeouts ok {name}: job {job_limit} s; " + ", ".join(figures))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--settings", required=True)
    p.add_argument("--testdefs", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdefs"))
    p.add_argument("jobs", nargs="+")
    args = p.parse_args()
    limit = settings_timeout(args.settings)
    failed = 0
    for path in args.jobs:
        try:
            check_job(path, limit, args.testdefs)
        except Broken as exc:
            print(f"TIMEOUTS {os.path.basename(path)}: {exc}")
            failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(main())
