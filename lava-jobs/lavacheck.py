#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Offline checks of the LAVA jobs and test definitions (used by check.sh).

Runs with Debian's /usr/bin/python3 and lava-common (lava_common.schemas).

  lavacheck.py validate [--repo DIR] FILE...
      Jobs: lava_common.schemas.validate(job, strict=True), plus every inline
      test definition through lava_common.schemas.test.testdef. Standalone
      test definitions: testdef.validate() and the same schema with extra keys
      forbidden. Project rules on top: no template markers ("{{"), every
      "from: git" definition path and every ./lava-jobs/scripts/... used by a
      definition exists in --repo (and the scripts are executable).
  lavacheck.py steps FILE OUTDIR
      Write the run steps of every test definition in FILE (job or testdef) as
      POSIX sh files into OUTDIR, for shellcheck.
  lavacheck.py device TEMPLATES_DIR OUT [--job JOB] [KEY=VALUE...]
      Render a qemu device dictionary with the job's context and KEY=VALUE
      (as lava-server does when it schedules the job).
  lavacheck.py localize [--overlay NAME=URL:PATH] [--inline TESTDEF [--param K=V]]
                        JOB OUT KEY=URL...
      Copy a tmpfs job replacing the url of images KEY (kernel, ramdisk...),
      adding tar overlays to the ramdisk and an inline definition at the end.
  lavacheck.py results LOG [--expect NAME=RESULT...] [--min-cases N] [--allow-skip]
      Read lava-run's log (stdout), print the results, exit 1 unless the job
      finished and every test case of the test definitions passed.
"""

import argparse
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


def validate(args):
    from voluptuous import PREVENT_EXTRA, Invalid, Schema

    import lava_common.schemas as schemas
    from lava_common.schemas.test import testdef

    strict_testdef = Schema(testdef.testdef(), extra=PREVENT_EXTRA)
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
                schemas.validate(data, strict=True)
                for index, d in definitions(data):
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
        defs = [d["repository"] for _, d in definitions(data) if d.get("from") == "inline"]
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


def device(args):
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader([args.templates]), autoescape=False)
    ctx = {}
    if args.job:
        # lava-server renders the device with the job context: do the same.
        _, job = load(args.job)
        ctx.update(job.get("context") or {})
    for kv in args.vars:
        k, _, v = kv.partition("=")
        ctx[k] = {"True": True, "False": False}.get(v, v)
    lines = ["{% extends 'qemu.jinja2' %}"] + [f"{{% set {k} = {v!r} %}}" for k, v in ctx.items()]
    text = env.from_string("\n".join(lines) + "\n").render()
    yaml.safe_load(text)  # must be valid YAML
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


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
    if args.overlay:
        ramdisk = next(a["deploy"]["images"]["ramdisk"] for a in job["actions"] if "deploy" in a)
        for spec in args.overlay:
            name, _, rest = spec.partition("=")
            url, _, path = rest.rpartition(":")
            ramdisk["overlays"][name] = {"url": url, "format": "tar", "path": path}
    if args.inline:
        _, testdef = load(args.inline)
        for kv in args.param:
            k, _, v = kv.partition("=")
            testdef.setdefault("params", {})[k] = v
        test = [a["test"] for a in job["actions"] if "test" in a][-1]
        test["definitions"].append({
            "from": "inline", "name": testdef["metadata"]["name"], "lava-signal": "kmsg",
            "path": f"inline/{testdef['metadata']['name']}.yaml", "repository": testdef})
    missing = set(urls) - seen
    if missing:
        print(f"localize: no tmpfs image {', '.join(sorted(missing))} in {args.job}", file=sys.stderr)
        return 1
    with open(args.out, "w", encoding="utf-8") as f:
        yaml.safe_dump(job, f, default_flow_style=False, sort_keys=False)
    return 0


def parse_results(path):
    """Yield the msg dicts of the 'results' records of a lava-run log."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if '"lvl": "results"' not in line and "lvl: results" not in line:
                continue
            text = line.strip()
            if text.startswith("- "):
                text = text[2:]
            try:
                rec = yaml.safe_load(text)
            except yaml.YAMLError:
                continue
            if isinstance(rec, dict) and rec.get("lvl") == "results" and isinstance(rec.get("msg"), dict):
                yield rec["msg"]


def results(args):
    records = list(parse_results(args.log))
    cases = {}
    lava = {}
    for r in records:
        name, result, definition = r.get("case"), r.get("result"), r.get("definition")
        if definition == "lava":
            lava[name] = result
        else:
            cases[f"{definition}.{name}"] = (r.get("definition"), name, result, r.get("measurement"))
    for key, (_, _, result, measurement) in sorted(cases.items()):
        extra = f" ({measurement})" if measurement not in (None, "") else ""
        print(f"  {result:5} {key}{extra}")
    problems = []
    if lava.get("job") != "pass":
        problems.append(f"the job did not complete (lava.job: {lava.get('job', 'missing')})")
    allowed = {"pass", "skip"} if args.allow_skip else {"pass"}
    # A case named by --expect may end as expected (e.g. a known skip).
    expected = dict(e.partition("=")[::2] for e in args.expect)
    bad = [k for k, v in cases.items() if v[2] not in allowed and expected.get(v[1]) != v[2]]
    if bad:
        problems.append(f"{len(bad)} test case(s) did not pass: {', '.join(sorted(bad))}")
    if len(cases) < args.min_cases:
        problems.append(f"only {len(cases)} test case(s), expected at least {args.min_cases}")
    by_name = {v[1]: v[2] for v in cases.values()}
    for exp in args.expect:
        name, _, want = exp.partition("=")
        got = by_name.get(name)
        if got != want:
            problems.append(f"expected {name}={want}, got {got or 'nothing'}")
    summary = {}
    for v in cases.values():
        summary[v[2]] = summary.get(v[2], 0) + 1
    print("lava-run: " + ", ".join(f"{n} {k}" for k, n in sorted(summary.items())) if summary else "lava-run: no test cases")
    for p in problems:
        print(f"FAIL: {p}")
    return 1 if problems else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate")
    v.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    v.add_argument("files", nargs="+")
    s = sub.add_parser("steps")
    s.add_argument("file")
    s.add_argument("outdir")
    d = sub.add_parser("device")
    d.add_argument("templates")
    d.add_argument("out")
    d.add_argument("--job", help="take the template variables of this job's context too")
    d.add_argument("vars", nargs="*")
    lz = sub.add_parser("localize")
    lz.add_argument("job")
    lz.add_argument("out")
    lz.add_argument("--overlay", action="append", default=[], help="NAME=URL:PATH, a tar overlay of the ramdisk")
    lz.add_argument("--inline", help="append this test definition inline to the last test action")
    lz.add_argument("--param", action="append", default=[], help="KEY=VALUE for the --inline definition")
    lz.add_argument("urls", nargs="+")
    r = sub.add_parser("results")
    r.add_argument("log")
    r.add_argument("--expect", action="append", default=[])
    r.add_argument("--min-cases", type=int, default=1)
    r.add_argument("--allow-skip", action="store_true")
    args = p.parse_args()
    return {"validate": validate, "steps": steps, "device": device, "localize": localize, "results": results}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
