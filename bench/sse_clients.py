#!/usr/bin/env python3
"""Opens N concurrent Server-Sent Events streams on one URL (standard library only) and counts
the events each receives until told to stop (SIGTERM) or the deadline passes. Prints a JSON
summary: clients connected, events received (total, min, max per client), errors.

With READY_FILE set, it writes that file once every client is connected and the streams have been
quiet for half a second (the snapshots each stream opens with are all received), with the seconds
that took; the summary then also counts the events received after that ("live")."""
import asyncio
import json
import os
import signal
import sys
import urllib.parse


async def run(url, n, seconds):
    parts = urllib.parse.urlsplit(url)
    stats = {"connected": 0, "errors": 0, "per_client": [], "counts": [0] * n,
             "last": loop_time(), "at_ready": None}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)

    tasks = [asyncio.create_task(client_forever(parts, stats, stop, i)) for i in range(n)]
    if os.environ.get("READY_FILE"):
        tasks.append(asyncio.create_task(mark_ready(n, stats, stop, os.environ["READY_FILE"])))
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    per = stats["per_client"]
    summary = {
        "clients": n,
        "connected": stats["connected"],
        "errors": stats["errors"],
        "events_total": sum(per),
        "events_min": min(per) if per else 0,
        "events_max": max(per) if per else 0,
    }
    if stats["at_ready"] is not None:
        live = [c - r for c, r in zip(stats["counts"], stats["at_ready"])]
        summary.update({"snapshot_seconds": stats["ready_seconds"], "live_events_total": sum(live),
                        "live_events_min": min(live), "live_events_max": max(live)})
    print(json.dumps(summary))


def loop_time():
    return asyncio.get_event_loop().time()


async def mark_ready(n, stats, stop, path):
    """Writes path once all n are connected and no bytes came for 0.5 s."""
    start = loop_time()
    while not stop.is_set():
        await asyncio.sleep(0.1)
        if stats["connected"] == n and loop_time() - stats["last"] > 0.5:
            stats["at_ready"] = list(stats["counts"])
            stats["ready_seconds"] = round(loop_time() - start, 2)
            with open(path, "w") as f:
                f.write("%s\n" % stats["ready_seconds"])
            return


async def client_forever(parts, stats, stop, index):
    """One subscriber: a single connection read until stop (quiet seconds are not the end).

    Kept light, so the client is not what slows the machine: large reads counted for lines that
    start with "data:", no timer or task per read (the read is cancelled at stop instead)."""
    try:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    except OSError:
        stats["errors"] += 1
        stats["per_client"].append(0)
        return
    writer.write(
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
        f"Authorization: Bearer {os.environ['BENCH_KEY']}\r\n"
        f"Accept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    stats["connected"] += 1
    events = 0
    tail = b""
    reading = asyncio.ensure_future(read_events(reader))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while True:
            done, _ = await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if reading in done:
                chunk = reading.result()
                if not chunk:
                    break
                text = tail + chunk
                events += text.count(b"\ndata:") + (1 if text.startswith(b"data:") else 0)
                tail = text[-6:]
                events -= tail.count(b"\ndata:")  # counted again with the next chunk
                stats["counts"][index] = events
                stats["last"] = loop_time()
                reading = asyncio.ensure_future(read_events(reader))
            if stopping in done:
                break
    except OSError:
        stats["errors"] += 1
    finally:
        reading.cancel()
        stopping.cancel()
        stats["per_client"].append(events)
        writer.close()


async def read_events(reader):
    return await reader.read(65536)


if __name__ == "__main__":
    url, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    asyncio.run(run(url, n, seconds))
