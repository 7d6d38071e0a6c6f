"""Waits for tasks to be COMPLETED, polling GET /tasks/{id} over one kept-alive connection.

Usage: python3 bench/wait_task.py BASE_URL POLL_S REQUESTS_FIFO ANSWERS_FIFO  (key in BENCH_KEY)
Started once per benchmark, before anything is measured: each line "TASK_ID TIMEOUT_S" read from
REQUESTS_FIFO is answered on ANSWERS_FIFO with "ok" once the task is COMPLETED, or "error <why>"
on FAILED, TERMINATED or timeout.

Why a server: this machine takes about 0.4 s of CPU to start a Python process and about 10 ms to
start a curl, so a curl per poll (50 a second) or a Python process per wait would take a good
part of a core from the service and PostgreSQL on a 2-core machine. A poll here costs well under
1 ms of CPU.
"""
import http.client
import json
import os
import sys
import time
import urllib.parse

base, poll, requests, answers = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
url = urllib.parse.urlsplit(base)
headers = {"Authorization": "Bearer " + os.environ["BENCH_KEY"], "Accept": "application/json"}
conn = None


def wait(task, timeout):
    global conn
    deadline = time.monotonic() + timeout
    body = b""
    while time.monotonic() < deadline:
        try:
            if conn is None:
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
            conn.request("GET", "/tasks/" + task, headers=headers)
            res = conn.getresponse()
            body = res.read()
            if res.status != 200:
                return "error GET /tasks/%s: HTTP %d %r" % (task, res.status, body[:500])
            state = json.loads(body).get("state")
            if state == "COMPLETED":
                return "ok"
            if state in ("FAILED", "TERMINATED"):
                return "error task %s ended in state %s: %r" % (task, state, body[:2000])
        except (OSError, http.client.HTTPException):
            conn = None  # reconnect on the next poll
        time.sleep(poll)
    return "error task %s not COMPLETED after %ss; last body: %r" % (task, timeout, body[:2000])


while True:
    with open(requests, encoding="utf-8") as lines:  # reopened after each writer closes it
        for line in lines:
            task, timeout = line.split()
            answer = wait(task, float(timeout))
            with open(answers, "w", encoding="utf-8") as out:
                out.write(answer.replace("\n", " ") + "\n")
