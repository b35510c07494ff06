#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Register what lava-jobs/server.sh's LAVA instance needs (idempotent).

  lavaserver.py setup --repo DIR --state DIR --port N --worker NAME

Runs in one process with lava-server's production settings and calls
lava-server's own management commands (what "lava-server manage ..." runs):
  - user "lava-check" (superuser) and an API token for lavacli;
  - the worker NAME, its token in STATE/worker.token;
  - device types qemu and x86 (lava-server's templates) and lemans-evk
    (lava-jobs/local/device-types/: lava-server 2023.01 has no template);
  - devices: qemu-01 (TCG: no_kvm, user networking), and the stand-ins of
    the multinode job's two boards, x86-01 and lemans-evk-01, tagged like
    the job's roles. Their dictionaries come from lava-jobs/local/devices/;
  - every job left unfinished by an earlier run is failed, so that its
    device is free again;
  - job output that no job of the database owns is removed: lava-server
    keeps a job's log in job-output/YYYY/MM/DD/ID and appends to it, so a
    new database's job N would otherwise read an old job N's log first.
Writes STATE/env (shell: LAVA_URI, LAVA_URL, LAVA_TOKEN, LAVA_USER).
"""

import argparse
import os
import shutil
import sys

USER = "lava-check"
DISPATCHER_CONFIG = "/etc/lava-server/dispatcher-config"
# device hostname -> (device type, tags)
DEVICES = {
    "qemu-01": ("qemu", []),
    "x86-01": ("x86", ["mhi-ep-pair"]),
    "lemans-evk-01": ("lemans-evk", ["mhi-ep-pair", "pcie-ep"]),
}


def remove_stale_output(TestJob):
    from django.conf import settings

    root = os.path.join(settings.MEDIA_ROOT, "job-output")
    known = {str(i) for i in TestJob.objects.values_list("id", flat=True)}
    for dirpath, dirnames, _ in os.walk(root):
        if os.path.relpath(dirpath, root).count(os.sep) != 2:
            continue  # not a YYYY/MM/DD directory
        for name in list(dirnames):
            dirnames.remove(name)
            if name.isdigit() and name not in known:
                print(f"removing the output of job {name}, which the database does not have")
                shutil.rmtree(os.path.join(dirpath, name))


def setup(args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lava_server.settings.prod")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from lava_scheduler_app.models import Device, DeviceType, TestJob, Worker
    from linaro_django_xmlrpc.models import AuthToken

    local = os.path.join(args.repo, "lava-jobs", "local")
    if not User.objects.filter(username=USER).exists():
        call_command("users", "add", USER, "--superuser", "--staff", "--passwd", os.urandom(12).hex())
    token = AuthToken.objects.filter(user__username=USER).order_by("id").first()
    if token is None:
        token = AuthToken.objects.create(user=User.objects.get(username=USER), description="lava-jobs/check.sh")

    if not Worker.objects.filter(hostname=args.worker).exists():
        call_command("workers", "add", args.worker, "--description", "lava-jobs/server.sh")
    worker = Worker.objects.get(hostname=args.worker)
    if worker.health != Worker.HEALTH_ACTIVE:
        call_command("workers", "update", args.worker, "--health", "ACTIVE")

    for src in os.listdir(os.path.join(local, "device-types")):
        shutil.copy(os.path.join(local, "device-types", src), os.path.join(DISPATCHER_CONFIG, "device-types", src))
    for name in sorted({dt for dt, _ in DEVICES.values()}):
        if not DeviceType.objects.filter(name=name).exists():
            call_command("device-types", "add", name)

    for host, (dtype, tags) in DEVICES.items():
        shutil.copy(os.path.join(local, "devices", f"{host}.jinja2"),
                    os.path.join(DISPATCHER_CONFIG, "devices", f"{host}.jinja2"))
        if not Device.objects.filter(hostname=host).exists():
            call_command("devices", "add", host, "--device-type", dtype, "--worker", args.worker,
                         *(["--tags", *tags] if tags else []))
        device = Device.objects.get(hostname=host)
        # The scheduler marks an invalid dictionary Bad and never says why.
        if not device.is_valid():
            print(f"FAIL: the device dictionary of {host} is invalid (lava-jobs/local/devices/{host}.jinja2)")
            return 1
        if device.health != Device.HEALTH_GOOD or device.worker_host != worker:
            call_command("devices", "update", host, "--health", "GOOD", "--worker", args.worker)

    for job in TestJob.objects.exclude(state=TestJob.STATE_FINISHED).order_by("id"):
        print(f"failing job {job.id}, left {job.get_state_display()} by an earlier run")
        call_command("jobs", "fail", str(job.id))
    remove_stale_output(TestJob)

    url = f"http://127.0.0.1:{args.port}/"
    with open(os.path.join(args.state, "worker.token"), "w", encoding="utf-8") as f:
        f.write(worker.token + "\n")
    with open(os.path.join(args.state, "env"), "w", encoding="utf-8") as f:
        f.write(f"LAVA_URL='{url}'\nLAVA_USER='{USER}'\nLAVA_TOKEN='{token.secret}'\n")
        f.write(f"LAVA_URI='http://{USER}:{token.secret}@127.0.0.1:{args.port}/RPC2'\n")
    print(f"user {USER}, worker {args.worker}, devices {', '.join(DEVICES)}")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--repo", required=True)
    s.add_argument("--state", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--worker", required=True)
    args = p.parse_args()
    return setup(args)


if __name__ == "__main__":
    sys.exit(main())
