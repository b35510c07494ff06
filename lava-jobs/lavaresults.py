#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Read a job's results back from a LAVA server and judge them (check.sh).

Inputs are what lavacli prints: "lavacli results JOB --yaml" (RESULTS) and
"lavacli jobs logs JOB --raw" (LOG).

  lavaresults.py compare --results RESULTS --log LOG --ktap KTAP --suite DEF
                         [--own NAME...] [--begin MARK] [--end MARK]
      The KTAP that the job printed between the lines MARK (begin/end) goes
      through the project's own parser (KTAP --mode lava, with no LAVA helper
      on PATH, so it prints the raw LAVA signals). Every case it reports must
      be in the server's test suite of definition DEF (the suite "N_DEF"),
      with the same result, measurement and units, and in the same test set;
      the suite must hold no other case but the --own cases of the scripts.
      Every difference is printed; exit 1 if there is one.
  lavaresults.py verdict --results RESULTS [--expect NAME=RESULT...]
                         [--min-cases N] [--allow-skip]
      Print the job's cases; exit 1 unless the job completed (lava.job pass)
      and every case of the test definitions passed (or ended as --expect
      says), with at least N of them.
  lavaresults.py stopped --show SHOW --log LOG
      For a job that cannot run to its end (no board): print where it ran,
      how it ended and the step it stopped at ("lavacli jobs show JOB
      --yaml" in SHOW); exit 1 unless the server scheduled it on a device.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import yaml

SIGNAL_RE = re.compile(r"<LAVA_SIGNAL_(TESTCASE|TESTSET) ([^>]*)>")
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return yaml.load(f, Loader=Loader)


def server_cases(results, suite_def):
    """{name: case} of the suite "<N>_<suite_def>"; duplicates in dups."""
    cases, dups, suites = {}, [], set()
    for r in results or []:
        suite = str(r.get("suite", ""))
        if not re.fullmatch(rf"\d+_{re.escape(suite_def)}", suite):
            continue
        suites.add(suite)
        meta = r.get("metadata") or {}
        m = r.get("measurement")
        case = {
            "result": r.get("result"),
            "measurement": None if m in (None, "", "None") else str(m),
            "units": r.get("unit") or None,
            "set": meta.get("set"),
        }
        if r["name"] in cases:
            dups.append(r["name"])
        cases[r["name"]] = case
    return cases, dups, suites


def ktap_from_log(log, begin, end):
    """The target lines between the begin and end marker lines (last pair)."""
    lines, inside, found = [], False, None
    for rec in log or []:
        if not isinstance(rec, dict) or rec.get("lvl") != "target":
            continue
        msg = str(rec.get("msg", ""))
        if msg.strip() == begin:
            lines, inside = [], True
        elif msg.strip() == end and inside:
            inside, found = False, list(lines)
        elif inside:
            lines.append(msg)
    return found


def ktap_cases(ktap, text):
    """Run the project's ktap on text; {name: case}, summary line, exit code."""
    with tempfile.TemporaryDirectory() as empty:
        # No lava-test-case on PATH: ktap prints the raw signals instead.
        proc = subprocess.run([ktap, "--mode", "lava"], input=text, capture_output=True, text=True,
                              env={"PATH": empty, "LC_ALL": "C"}, check=False)
    cases, dups, current_set, summary = {}, [], None, None
    for line in proc.stdout.splitlines():
        for kind, body in SIGNAL_RE.findall(line):
            if kind == "TESTSET":
                word = body.split()
                current_set = word[1] if word[:1] == ["START"] and len(word) > 1 else None
                continue
            f = dict(w.split("=", 1) for w in body.split() if "=" in w)
            name = f.get("TEST_CASE_ID")
            if name in cases:
                dups.append(name)
            cases[name] = {"result": f.get("RESULT"), "measurement": f.get("MEASUREMENT"),
                           "units": f.get("UNITS"), "set": current_set}
        if re.fullmatch(r"\d+ passed, \d+ failed, \d+ skipped.*", line.strip()):
            summary = line.strip()
    return cases, dups, summary, proc


def same_measurement(a, b):
    if a is None or b is None:
        return a is b
    try:
        # The dispatcher sends floats and the server keeps their decimal
        # expansion: compare the numbers as the pipeline carries them.
        return float(a) == float(b)
    except ValueError:
        return a == b


def compare(args):
    results = load_yaml(args.results)
    log = load_yaml(args.log)
    text = ktap_from_log(log, args.begin, args.end)
    if text is None:
        print(f"compare: no KTAP between '{args.begin}' and '{args.end}' lines in {args.log}")
        return 1
    if not os.access(args.ktap, os.X_OK):
        print(f"compare: {args.ktap} is not an executable ktap")
        return 1
    want, kdups, summary, proc = ktap_cases(args.ktap, "\n".join(text) + "\n")
    if not want:
        print(f"compare: {args.ktap} reported no case from the job's KTAP ({len(text)} lines, "
              f"ktap exit {proc.returncode}: {proc.stderr.strip()[:200]})")
        return 1
    got, sdups, suites = server_cases(results, args.suite)
    diffs = [f"ktap reports {n} twice" for n in kdups] + [f"the server has {n} twice" for n in sdups]
    if len(suites) != 1:
        diffs.append(f"expected one server suite N_{args.suite}, found {sorted(suites) or 'none'}")
    for name, w in want.items():
        g = got.get(name)
        if g is None:
            diffs.append(f"{name}: ktap {w['result']}, not on the server")
            continue
        for key in ("result", "units", "set"):
            if w[key] != g[key]:
                diffs.append(f"{name}: {key} ktap {w[key]!r}, server {g[key]!r}")
        if not same_measurement(w["measurement"], g["measurement"]):
            diffs.append(f"{name}: measurement ktap {w['measurement']!r}, server {g['measurement']!r}")
    for name in sorted(set(got) - set(want) - set(args.own)):
        diffs.append(f"{name}: on the server ({got[name]['result']}), not in the KTAP")
    for name in args.own:
        if name not in got:
            diffs.append(f"{name}: the scripts' own case is not on the server")
    nmeas = sum(1 for w in want.values() if w["measurement"] is not None)
    print(f"compare: KTAP of the job log ({len(text)} lines; ktap: {summary or 'no summary'}) "
          f"-> {len(want)} cases, {nmeas} with a measurement; server suite "
          f"{', '.join(sorted(suites)) or '-'}: {len(got)} cases ({len(args.own)} of the scripts' own)")
    for d in diffs:
        print(f"DIFF {d}")
    if diffs:
        print(f"compare: {len(diffs)} difference(s) between the server's results and the KTAP")
        return 1
    print("compare: the server's results equal the KTAP, case by case")
    return 0


def verdict(args):
    results = load_yaml(args.results) or []
    cases, lava = {}, {}
    for r in results:
        if r.get("suite") == "lava":
            lava[r["name"]] = r.get("result")
        else:
            cases[f"{r.get('suite')}.{r['name']}"] = (r["name"], r.get("result"), r.get("measurement"), r.get("unit"))
    for key, (_, result, m, unit) in sorted(cases.items()):
        extra = f" ({m}{' ' + unit if unit else ''})" if m not in (None, "", "None") else ""
        print(f"  {result:7} {key}{extra}")
    problems = []
    if lava.get("job") != "pass":
        problems.append(f"the job did not complete (lava.job: {lava.get('job', 'missing')})")
    allowed = {"pass", "skip"} if args.allow_skip else {"pass"}
    expected = dict(e.partition("=")[::2] for e in args.expect)
    bad = [k for k, v in cases.items() if v[1] not in allowed and expected.get(v[0]) != v[1]]
    if bad:
        problems.append(f"{len(bad)} test case(s) did not pass: {', '.join(sorted(bad))}")
    if len(cases) < args.min_cases:
        problems.append(f"only {len(cases)} test case(s), expected at least {args.min_cases}")
    by_name = {v[0]: v[1] for v in cases.values()}
    for name, want in expected.items():
        if by_name.get(name) != want:
            problems.append(f"expected {name}={want}, got {by_name.get(name) or 'nothing'}")
    summary = {}
    for v in cases.values():
        summary[v[1]] = summary.get(v[1], 0) + 1
    print("server: " + (", ".join(f"{n} {k}" for k, n in sorted(summary.items())) or "no test cases"))
    for p in problems:
        print(f"FAIL: {p}")
    return 1 if problems else 0


def stopped(args):
    show = load_yaml(args.show) or {}
    log = load_yaml(args.log) or []
    step, first_error, job_error = None, None, None
    for rec in log:
        if not isinstance(rec, dict):
            continue
        msg = rec.get("msg")
        if rec.get("lvl") == "info" and isinstance(msg, str) and msg.startswith("start: "):
            step = msg[len("start: "):]
        elif rec.get("lvl") == "error" and first_error is None:
            first_error = (step, str(msg))
        elif rec.get("lvl") == "results" and isinstance(msg, dict) and msg.get("case") == "job":
            if msg.get("error_msg") and job_error is None:
                job_error = (step, f"{msg.get('error_type', 'Job')} error: {msg['error_msg']}")
    device = show.get("device")
    print(f"job {show.get('id')} ({show.get('device_type')}): device {device or 'none'}, "
          f"{show.get('state')}, {show.get('health')}")
    where = job_error or first_error
    if where:
        print(f"  stopped in '{where[0] or 'the checks before the first action'}': {where[1]}")
    if not device:
        print(f"FAIL: job {show.get('id')} was never scheduled on a device")
        return 1
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--results", required=True)
    c.add_argument("--log", required=True)
    c.add_argument("--ktap", required=True)
    c.add_argument("--suite", required=True, help="test definition name (the suite is N_NAME)")
    c.add_argument("--own", nargs="*", default=[], help="cases the scripts report themselves")
    c.add_argument("--begin", default="---- KTAP begin ----")
    c.add_argument("--end", default="---- KTAP end ----")
    v = sub.add_parser("verdict")
    v.add_argument("--results", required=True)
    v.add_argument("--expect", action="append", default=[])
    v.add_argument("--min-cases", type=int, default=1)
    v.add_argument("--allow-skip", action="store_true")
    st = sub.add_parser("stopped")
    st.add_argument("--show", required=True)
    st.add_argument("--log", required=True)
    args = p.parse_args()
    return {"compare": compare, "verdict": verdict, "stopped": stopped}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
