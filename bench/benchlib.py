#!/usr/bin/env python3
"""Figures from the simulator's request log (one JSON line per request, easemob-sim --log),
for the bench/*.sh scripts. Debian's python3 only.

  benchlib.py first-after LOG PATH_SUFFIX T_MS
      arrival (ms) of the first request on PATH_SUFFIX at or after T_MS; nothing if none
  benchlib.py lag LOG MARGIN_MS TARGET=COUNT/SECONDS[,COUNT/SECONDS] ...
      dispatch lag per endpoint: each request's arrival minus the moment the windows (and
      the daemon's safety margin) let it go, from the arrivals before it
  benchlib.py envelope LOG T0_MS T1_MS TARGET=COUNT/SECONDS[,...] ...
      per endpoint: sends made (200) in [T0, T1), sends the windows allowed in that span,
      the share, and 429s
  benchlib.py gap LOG PATH_SUFFIX T0_MS T1_MS EXPECTED_MS [inside]
      the longest gap between consecutive requests on PATH_SUFFIX that ends after T0 and
      starts before T1 (with "inside": that starts and ends within [T0, T1]), minus
      EXPECTED_MS (how much longer than the windows' pace), in ms
  benchlib.py backlog SECONDS TARGET=COUNT/SECONDS[,...] ...
      "TARGET JOBS" per endpoint: more jobs than the windows let go in SECONDS
  benchlib.py pace LOG PATH_SUFFIX T0_MS T1_MS
      requests answered 200 on PATH_SUFFIX in [T0, T1), and per minute
"""

import json
import sys

PATHS = {  # as easemob-sim serves them (core/target.h)
    "users": "/messages/broadcast",
    "online_users": "/messages/users/broadcast",
    "chatrooms": "/messages/chatrooms/broadcast",
}


def arrival_ms(line):
    """Arrival with a fraction of a millisecond when the simulator logs µs."""
    if "time_us" in line:
        return line["time_us"] / 1000.0
    return float(line["time_ms"])


def read(log):
    with open(log, encoding="utf-8") as f:
        return [json.loads(text) for text in f if text.strip()]


def parse_windows(spec):
    """"chatrooms=1/1,10/60" -> ("chatrooms", [(1, 1000.0), (10, 60000.0)])."""
    target, _, rest = spec.partition("=")
    windows = []
    for part in rest.split(","):
        count, _, seconds = part.partition("/")
        windows.append((int(count), float(seconds) * 1000.0))
    return target, windows


def endpoint_requests(lines, target):
    # "/{org}/{app}/messages/..." -> "/messages/..."
    return [line for line in lines
            if "/" + line["path"].lstrip("/").split("/", 2)[-1] == PATHS[target]]


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def opening(history, windows):
    """When the windows let the next request in (server rule: a request counts in a window
    while it is newer than `length`), from the arrivals so far; None while no window binds."""
    at = None
    for count, length in windows:
        if len(history) >= count:
            t = history[-count] + length
            at = t if at is None else max(at, t)
    return at


def allowed(t0, t1, windows):
    """Most requests the windows allow in [t0, t1) when each goes the moment it may."""
    history = []
    t = t0
    while True:
        gate = opening(history, windows)
        if gate is not None:
            t = max(t, gate)
        if t >= t1:
            return len(history)
        history.append(t)


def cmd_first_after(log, suffix, t_ms):
    for line in read(log):
        if line["path"].endswith(suffix) and arrival_ms(line) >= float(t_ms):
            print(int(arrival_ms(line)))
            return


def cmd_lag(log, margin_ms, *specs):
    lines = read(log)
    margin = float(margin_ms)
    print("| endpoint | requests | lag p50 | lag p99 | max |")
    print("|---|---|---|---|---|")
    every = []
    for spec in specs:
        target, windows = parse_windows(spec)
        history, lags = [], []
        for line in endpoint_requests(lines, target):
            t = arrival_ms(line)
            gate = opening(history, windows)
            if gate is not None and line["status"] == 200:
                lags.append(t - (gate + margin))
            history.append(t)
        every += lags
        print(f"| {target} | {len(lags)} | {percentile(lags, 50):.2f} ms | "
              f"{percentile(lags, 99):.2f} ms | {max(lags, default=float('nan')):.2f} ms |")
    print(f"| all | {len(every)} | {percentile(every, 50):.2f} ms | "
          f"{percentile(every, 99):.2f} ms | {max(every, default=float('nan')):.2f} ms |")


def cmd_envelope(log, t0, t1, *specs):
    lines = read(log)
    t0, t1 = float(t0), float(t1)
    print("| endpoint | sent | allowed | share | 429s |")
    print("|---|---|---|---|---|")
    made_all = allowed_all = refused_all = 0
    for spec in specs:
        target, windows = parse_windows(spec)
        span = [line for line in endpoint_requests(lines, target) if t0 <= arrival_ms(line) < t1]
        made = sum(1 for line in span if line["status"] == 200)
        refused = sum(1 for line in span if line["status"] == 429)
        could = allowed(t0, t1, windows)
        made_all, allowed_all, refused_all = made_all + made, allowed_all + could, refused_all + refused
        print(f"| {target} | {made} | {could} | {100.0 * made / could:.2f}% | {refused} |")
    print(f"| all | {made_all} | {allowed_all} | {100.0 * made_all / allowed_all:.2f}% | "
          f"{refused_all} |")


def cmd_gap(log, suffix, t0, t1, expected, mode=""):
    t0, t1 = float(t0), float(t1)
    times = [arrival_ms(line) for line in read(log) if line["path"].endswith(suffix)]
    if mode == "inside":
        gaps = [b - a for a, b in zip(times, times[1:]) if a >= t0 and b <= t1]
    else:
        gaps = [b - a for a, b in zip(times, times[1:]) if b >= t0 and a <= t1]
    print(f"{max(gaps, default=float('nan')) - float(expected):.0f}")


def cmd_backlog(seconds, *specs):
    for spec in specs:
        target, windows = parse_windows(spec)
        print(target, allowed(0.0, float(seconds) * 1000.0, windows) + 10)


def cmd_pace(log, suffix, t0, t1):
    t0, t1 = float(t0), float(t1)
    made = sum(1 for line in read(log)
               if line["path"].endswith(suffix) and line["status"] == 200
               and t0 <= arrival_ms(line) < t1)
    print(f"{made} {60000.0 * made / (t1 - t0):.1f}")


def main(argv):
    commands = {"first-after": cmd_first_after, "lag": cmd_lag, "envelope": cmd_envelope, "gap": cmd_gap, "backlog": cmd_backlog,
                "pace": cmd_pace}
    if len(argv) < 2 or argv[1] not in commands:
        sys.stderr.write(__doc__)
        return 2
    commands[argv[1]](*argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
