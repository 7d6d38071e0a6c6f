"""Pause and resume latency of one running task, as a client sees it.

Usage: python3 bench/pause.py TASK_ID CYCLES BASE_URL [BASE_URL...]   (API key in BENCH_KEY)

With MGMT_URLS (the replicas' management URLs, space-separated) it also prints the service's own
view from its histogram tsm_pause_latency_seconds (the pause request's commit to the PAUSED commit),
summed over the replicas for these cycles: what is left of the client's figure is HTTP and polling.

Each cycle lets the task run for a random 100 to 400 ms (seeded), asks for a pause through one
replica (the URLs take turns), polls GET /tasks/{id} every 2 ms on a kept-alive connection until
the state is PAUSED, then asks for a resume and polls until rowsDone passes where the pause left it
(the first commit of the resumed run). Prints one line a cycle and the percentiles.

With NEXT_TASK (a shell command that starts another task of the same kind and prints its id), a
task that ends before CYCLES cycles are measured is followed by a new one, at most MAX_TASKS (10)
tasks in all, so that a p99 rests on enough cycles (of 30 it is their maximum). The last line
before the summary, TASKS, names every task used.
"""
import http.client
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse

task, cycles, bases = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
tasks = [task]
headers = {"Authorization": "Bearer " + os.environ["BENCH_KEY"], "Accept": "application/json"}
conns = {}


def call(base, method, path):
    if base not in conns:
        u = urllib.parse.urlsplit(base)
        conns[base] = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c = conns[base]
    c.request(method, path, headers=headers)
    r = c.getresponse()
    body = r.read()
    return r.status, json.loads(body) if body else {}


def until(base, done, limit=60.0):
    start = time.monotonic()
    while time.monotonic() - start < limit:
        status, task_json = call(base, "GET", "/tasks/" + task)
        if done(task_json):
            return task_json
        time.sleep(0.002)
    raise SystemExit("gave up waiting on task %s" % task)


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def pause_buckets():
    """Cumulative counts of tsm_pause_latency_seconds by upper bound, summed over the replicas."""
    total = {}
    for mgmt in os.environ.get("MGMT_URLS", "").split():
        u = urllib.parse.urlsplit(mgmt)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        c.request("GET", "/q/metrics")
        for line in c.getresponse().read().decode().splitlines():
            if line.startswith("tsm_pause_latency_seconds_bucket{"):
                le = line.split('le="', 1)[1].split('"', 1)[0]
                bound = float("inf") if le == "+Inf" else float(le)
                total[bound] = total.get(bound, 0) + float(line.rsplit(" ", 1)[1])
        c.close()
    return total


def bucket_pct(delta, p):
    """The upper bound (ms) of the bucket holding the p-th percentile of the counts in delta."""
    n = delta.get(float("inf"), 0)
    for bound in sorted(delta):
        if delta[bound] >= p / 100 * n:
            return bound * 1000
    return float("inf")


buckets_before = pause_buckets()
rng = random.Random(13)
pauses, resumes = [], []


def next_task():
    """Starts the next task with NEXT_TASK, if one may be started; its id or None."""
    command = os.environ.get("NEXT_TASK")
    if not command or len(tasks) >= int(os.environ.get("MAX_TASKS", "10")):
        return None
    started = subprocess.run(command, shell=True, check=True, capture_output=True, text=True)
    tasks.append(started.stdout.strip())
    print("task %s ended; cycles go on with task %s" % (task, tasks[-1]), flush=True)
    return tasks[-1]


i = 0
while len(pauses) < cycles:
    base = bases[i % len(bases)]
    i += 1
    time.sleep(rng.uniform(0.1, 0.4))
    t0 = time.monotonic()
    status, _ = call(base, "POST", "/tasks/%s/pause" % task)
    ended = status == 409
    if not ended:
        t = until(base, lambda j: j["state"] in ("PAUSED", "COMPLETED", "FAILED", "TERMINATED"))
        ended = t["state"] != "PAUSED"
    if ended:
        task = next_task()
        if task is None:
            break
        continue
    pause_ms = (time.monotonic() - t0) * 1000
    rows = t["rowsDone"]
    t1 = time.monotonic()
    call(base, "POST", "/tasks/%s/resume" % task)
    t = until(base, lambda j: j["rowsDone"] > rows or j["state"] in ("COMPLETED", "FAILED"))
    resume_ms = (time.monotonic() - t1) * 1000
    pauses.append(pause_ms)
    resumes.append(resume_ms)
    print("cycle %d via %s: paused in %.0f ms at row %d; first commit %.0f ms after the resume"
          % (len(pauses), base, pause_ms, rows, resume_ms), flush=True)
if not pauses:
    raise SystemExit("the task ended before a pause was measured")
for name, v in (("pause -> PAUSED", pauses), ("resume -> first commit", resumes)):
    print("%-24s n=%d p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms"
          % (name, len(v), pct(v, 50), pct(v, 95), pct(v, 99), max(v)))
service = ("-", "-")
if buckets_before:
    after = pause_buckets()
    delta = {b: after.get(b, 0) - buckets_before.get(b, 0) for b in after}
    n = delta.get(float("inf"), 0)
    if n:
        print("service side (tsm_pause_latency_seconds, bucket bounds): n=%d p50 <= %.0f ms, "
              "p99 <= %.0f ms, max <= %.0f ms" % (n, bucket_pct(delta, 50), bucket_pct(delta, 99),
                                                 bucket_pct(delta, 100)))
        service = ("%.0f" % bucket_pct(delta, 99), "%.0f" % bucket_pct(delta, 100))
print("TASKS " + " ".join(tasks))
print("SUMMARY %d %.0f %.0f %.0f %.0f %.0f %.0f" % (len(pauses), pct(pauses, 50), pct(pauses, 99), max(pauses),
                                               pct(resumes, 50), pct(resumes, 99), max(resumes))
      + " %s %s" % service)
