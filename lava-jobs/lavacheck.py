#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Offline checks of the LAVA jobs and test definitions (used by check.sh).

Runs with Debian's /usr/bin/python3 and lava-common (lava_common.schemas).

  lavacheck.py validate [--repo DIR] FILE...
      Jobs: lava_common.schemas.validate(job, strict=True), plus every inline
      test definition through lava_common.schemas.test.testdef, and the
      server's own submission schema (lava-server's validate_submission, as
      its API runs it on submit). The two disagree on one point: the server
      refuses "params" inside an inline definition, strict lava_common
      refuses "parameters" beside it; inline definitions keep their
      parameters beside them, and the strict check sees them as the
      definition's params (the dispatcher treats both alike). Standalone
      test definitions: testdef.validate() and the same schema with extra keys
      forbidden. Project rules on top: no template markers ("{{"), every
      "from: git" definition path and every ./lava-jobs/scripts/... used by a
      definition exists in --repo (and the scripts are executable).
  lavacheck.py steps FILE OUTDIR
      Write the run steps of every test definition in FILE (job or testdef) as
      POSIX sh files into OUTDIR, for shellcheck.
  lavacheck.py localize [--overlay NAME=URL:PATH] [--kernel-arg ARG]
                        [--set NAME=VALUE] [--map PREFIX=NEW [--standins]]
                        [--git URL@REV] JOB OUT [KEY=URL...]
      Copy a job for the local server: the url of tmpfs images KEY (kernel,
      ramdisk...) replaced, tar overlays added to the ramdisk, ARG added to
      the kernel's command line (its image_arg's -append), parameters set
      on every inline definition, URLs starting with PREFIX rewritten (with
      --standins, a small file of the right format for each mapped file://
      URL), every from: git definition taken from URL at revision REV.
"""

import argparse
import copy
import os
import re
import sys

import yaml

SCRIPT_RE = re.compile(r"\./(lava-jobs/scripts/[-\w.]+)")


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text, yaml.safe_load(text)


def is_job(data):
    return isinstance(data, dict) and "actions" in data


def definitions(job):
    for index, action in enumerate(job.get("actions", [])):
        test = action.get("test") if isinstance(action, dict) else None
        if isinstance(test, dict):
            for d in test.get("definitions", []) or []:
                yield index, d


def check_testdef(data, strict_schema):
    from lava_common.schemas.test import testdef

    testdef.validate(data)  # what the dispatcher accepts
    strict_schema(data)  # and no unknown keys


def check_steps_scripts(steps, repo, where):
    errors = []
    for step in steps or []:
        for rel in SCRIPT_RE.findall(str(step)):
            path = os.path.join(repo, rel)
            if not os.path.isfile(path):
                errors.append(f"{where}: step uses {rel}, which does not exist")
            elif not os.access(path, os.X_OK):
                errors.append(f"{where}: {rel} is not executable")
    return errors


def server_schema():
    """lava-server's submission check, or None with the reason printed."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lava_server.settings.prod")
    try:
        import django

        django.setup()
        from lava_scheduler_app.schema import SubmissionException, validate_submission
    except Exception as exc:  # noqa: BLE001 - any import or settings failure
        print(f"lavacheck: cannot load lava-server's submission schema ({exc}): run 'make setup'")
        return None
    return validate_submission, SubmissionException


def as_strict(job):
    """A copy of job whose inline definitions carry their parameters as params."""
    job = copy.deepcopy(job)
    for _, d in definitions(job):
        if d.get("from") == "inline" and isinstance(d.get("parameters"), dict) and isinstance(d.get("repository"), dict):
            d["repository"]["params"] = {**(d["repository"].get("params") or {}), **d.pop("parameters")}
    return job


def validate(args):
    from voluptuous import PREVENT_EXTRA, Invalid, Schema

    import lava_common.schemas as schemas
    from lava_common.schemas.test import testdef

    strict_testdef = Schema(testdef.testdef(), extra=PREVENT_EXTRA)
    server = server_schema()
    if server is None:
        return 1
    validate_submission, SubmissionException = server
    failed = 0
    for path in args.files:
        errors = []
        kind = "?"
        try:
            text, data = load(path)
            if "{{" in text or "{%" in text:
                errors.append("contains template markers ({{ or {%): jobs must be plain YAML")
            if is_job(data):
                kind = "job"
                try:
                    validate_submission(copy.deepcopy(data))
                except SubmissionException as exc:
                    errors.append(f"lava-server refuses it: {exc}".replace("\n", " "))
                schemas.validate(as_strict(data), strict=True)
                for index, d in definitions(as_strict(data)):
                    where = f"actions[{index}] definition {d.get('name')!r}"
                    if d.get("from") == "inline":
                        try:
                            check_testdef(d["repository"], strict_testdef)
                        except Invalid as exc:
                            errors.append(f"{where}: {exc}")
                        steps = d["repository"].get("run", {}).get("steps", [])
                        errors += check_steps_scripts(steps, args.repo, where)
                    elif d.get("from") == "git":
                        target = os.path.join(args.repo, d["path"])
                        if not os.path.isfile(target):
                            errors.append(f"{where}: path {d['path']} is not in the repository")
            elif isinstance(data, dict) and "metadata" in data:
                kind = "testdef"
                check_testdef(data, strict_testdef)
                errors += check_steps_scripts(data.get("run", {}).get("steps", []), args.repo, path)
            else:
                errors.append("neither a job (no 'actions') nor a test definition (no 'metadata')")
        except yaml.YAMLError as exc:
            errors.append(f"YAML: {exc}".replace("\n", " "))
        except Invalid as exc:
            errors.append(str(exc))
        except OSError as exc:
            errors.append(str(exc))
        if errors:
            failed += 1
            for e in errors:
                print(f"INVALID {path} ({kind}): {e}")
        else:
            print(f"valid   {path} ({kind})")
    return 1 if failed else 0


def steps(args):
    _, data = load(args.file)
    defs = []
    if is_job(data):
        defs = [d["repository"] for _, d in definitions(as_strict(data)) if d.get("from") == "inline"]
    elif isinstance(data, dict) and "metadata" in data:
        defs = [data]
    os.makedirs(args.outdir, exist_ok=True)
    base = os.path.splitext(os.path.basename(args.file))[0]
    for i, d in enumerate(defs):
        params = {**(d.get("parameters") or {}), **(d.get("params") or {})}
        out = os.path.join(args.outdir, f"{base}.{i}.{d['metadata']['name']}.sh")
        with open(out, "w", encoding="utf-8") as f:
            # What LAVA's run.sh does around the steps (parameters, set -e).
            f.write("#!/bin/sh\n")
            for k, v in params.items():
                f.write(f"{k}='{v}'\n")
            f.write("set -e\n")
            for s in (d.get("run") or {}).get("steps", []) or []:
                f.write(f"{s}\n")
        print(out)
    return 0


STANDIN_TAR = (".tar.gz", ".tar.xz", ".tar")


def standin(path):
    """A small file of the format its name says, for a URL the job fetches."""
    import gzip
    import io
    import lzma
    import tarfile

    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = b"lava-jobs/check.sh stand-in: no board, no real artefact\n"
    if path.endswith(STANDIN_TAR):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo("STANDIN")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        data = buf.getvalue()
    if path.endswith(".gz"):
        data = gzip.compress(data)
    elif path.endswith(".xz"):
        data = lzma.compress(data)
    with open(path, "wb") as f:
        f.write(data)


def map_urls(node, prefixes, mapped):
    """Rewrite every "url" under node whose value starts with a mapped prefix."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "url" and isinstance(value, str):
                for old, new in prefixes:
                    if value.startswith(old):
                        node[key] = new + value[len(old):]
                        mapped.append(node[key])
                        break
            else:
                map_urls(value, prefixes, mapped)
    elif isinstance(node, list):
        for item in node:
            map_urls(item, prefixes, mapped)


def localize(args):
    _, job = load(args.job)
    urls = dict(kv.split("=", 1) for kv in args.urls)
    seen = set()
    for action in job["actions"]:
        deploy = action.get("deploy")
        if not deploy or deploy.get("to") != "tmpfs":
            continue
        for key, image in deploy["images"].items():
            if key in urls:
                image["url"] = urls[key]
                seen.add(key)
    missing = set(urls) - seen
    if missing:
        print(f"localize: no tmpfs image {', '.join(sorted(missing))} in {args.job}", file=sys.stderr)
        return 1
    for arg in args.kernel_arg:
        kernel = next((a["deploy"]["images"].get("kernel") for a in job["actions"] if "deploy" in a), None)
        m = re.search(r'-append "([^"]*)"', (kernel or {}).get("image_arg", ""))
        if not m:
            print(f"localize: no kernel image_arg with -append \"...\" in {args.job}", file=sys.stderr)
            return 1
        kernel["image_arg"] = kernel["image_arg"][:m.end(1)] + " " + arg + kernel["image_arg"][m.end(1):]
    for spec in args.overlay:
        ramdisk = next(a["deploy"]["images"]["ramdisk"] for a in job["actions"] if "deploy" in a)
        name, _, rest = spec.partition("=")
        url, _, path = rest.rpartition(":")
        ramdisk["overlays"][name] = {"url": url, "format": "tar", "path": path}
    mapped = []
    map_urls(job["actions"], [m.split("=", 1) for m in args.map], mapped)
    if args.standins:
        for url in mapped:
            if url.startswith("file://"):
                standin(url[len("file://"):])
    for _, d in definitions(job):
        if d.get("from") == "inline":
            for kv in args.set:
                k, _, v = kv.partition("=")
                d.setdefault("parameters", {})[k] = v
        elif d.get("from") == "git" and args.git:
            url, _, rev = args.git.rpartition("@")
            d["repository"] = url
            d.pop("branch", None)
            d["revision"] = rev
    with open(args.out, "w", encoding="utf-8") as f:
        yaml.safe_dump(job, f, default_flow_style=False, sort_keys=False)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate")
    v.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    v.add_argument("files", nargs="+")
    s = sub.add_parser("steps")
    s.add_argument("file")
    s.add_argument("outdir")
    lz = sub.add_parser("localize")
    lz.add_argument("job")
    lz.add_argument("out")
    lz.add_argument("--overlay", action="append", default=[], help="NAME=URL:PATH, a tar overlay of the ramdisk")
    lz.add_argument("--kernel-arg", action="append", default=[], help="ARG: add ARG to the kernel's -append")
    lz.add_argument("--set", action="append", default=[], help="NAME=VALUE, a parameter of every inline definition")
    lz.add_argument("--map", action="append", default=[], help="PREFIX=NEW: rewrite the URLs that start with PREFIX")
    lz.add_argument("--standins", action="store_true", help="create a small file for every file:// URL --map made")
    lz.add_argument("--git", help="URL@REVISION for every from: git definition")
    lz.add_argument("urls", nargs="*", help="KEY=URL of a tmpfs image")
    args = p.parse_args()
    return {"validate": validate, "steps": steps, "localize": localize}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
