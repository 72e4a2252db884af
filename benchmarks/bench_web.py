"""Bounded load test of ``gaitcheck serve`` on loopback.

Starts a real server (its own process, a fresh data folder), then:

1. uploads the shared clip 5 times at once (5 athletes, so 5 jobs), from 5 threads;
2. while the first job runs, sends 50 status requests from 10 concurrent clients and prints
   their latency (target: p95 < 200 ms);
3. waits until all 5 jobs have finished and prints each one's queue wait and run time.

Usage::

    python benchmarks/bench_web.py [--clip PATH] [--workers 1] [--uploads 5] [--fast]

``--fast`` skips plots and overlay in the analyses (a quicker run of the same queue). The pose
comes from the cache (``GAITCHECK_CACHE_DIR``) when the clip was analysed before. Exit code 1
when the p95 target is missed or a job did not finish as done.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "videos" / "side_treadmill_01.mp4"
P95_TARGET_S = 0.2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def post_video(url: str, clip: Path, athlete: str) -> dict[str, Any]:
    boundary = secrets.token_hex(12)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"athlete\"\r\n\r\n"
            f"{athlete}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; "
            f"filename=\"{clip.name}\"\r\nContent-Type: video/mp4\r\n\r\n").encode() + \
        clip.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{url}/upload", data=body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return dict(json.loads(r.read()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--uploads", type=int, default=5)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--fast", action="store_true", help="no plots and no overlay")
    args = ap.parse_args()
    if not args.clip.is_file():
        print(f"clip {args.clip} not found", file=sys.stderr)
        return 2
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} "
          "(others' work on the same cores slows every number)")
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        cmd = [sys.executable, "-m", "gaitcheck.cli", "serve", "--data-dir", f"{tmp}/data",
               "--workers", str(args.workers), "--uploads-per-hour", "1000", "-q"]
        if args.fast:
            Path(tmp, "fast.toml").write_text("[report]\nplots = false\noverlay = false\n")
            cmd += ["--config", f"{tmp}/fast.toml"]
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        server = subprocess.Popen(cmd + ["--port", str(port)], env=env,
                                  start_new_session=True)
        try:
            return run(url, args, server)
        finally:
            server.terminate()  # uvicorn stops its analysis processes itself
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(30)


def run(url: str, args: argparse.Namespace, server: subprocess.Popen[bytes]) -> int:
    t0 = time.monotonic()
    while True:
        try:
            if get_json(f"{url}/api/health")["workers"] == args.workers:
                break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() - t0 > 120:
            print("server did not start", file=sys.stderr)
            return 2
        time.sleep(0.2)
    print(f"server up in {time.monotonic() - t0:.1f} s")

    # 1. Uploads at once.
    results: dict[int, Any] = {}
    up_times: list[float] = []

    def send(i: int) -> None:
        t = time.perf_counter()
        results[i] = post_video(url, args.clip, f"Bench Runner {i + 1}")
        up_times.append(time.perf_counter() - t)

    t_up = time.monotonic()
    threads = [threading.Thread(target=send, args=(i,)) for i in range(args.uploads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [results[i]["session_id"] for i in range(args.uploads)]
    size_mb = args.clip.stat().st_size / 1e6
    print(f"{args.uploads} uploads of {size_mb:.1f} MB at once: each {min(up_times):.2f}-"
          f"{max(up_times):.2f} s (stream to disk, hash, probe)")

    # 2. Status latency while a job runs.
    while get_json(f"{url}/api/jobs/{ids[0]}")["state"] == "queued":
        time.sleep(0.1)
    lat: list[float] = []
    states: set[str] = set()
    lock = threading.Lock()
    per_client = max(1, args.requests // args.clients)

    def poll(k: int) -> None:
        for j in range(per_client):
            sid = ids[(k + j) % len(ids)]
            t = time.perf_counter()
            s = get_json(f"{url}/api/jobs/{sid}")
            dt_s = time.perf_counter() - t
            with lock:
                lat.append(dt_s)
                states.add(s["state"])

    running_before = get_json(f"{url}/api/jobs/{ids[0]}")["state"]
    clients = [threading.Thread(target=poll, args=(k,)) for k in range(args.clients)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    running_after = get_json(f"{url}/api/jobs/{ids[0]}")["state"]
    p95 = statistics.quantiles(lat, n=20)[-1]
    print(f"{len(lat)} status requests from {args.clients} clients while a job ran "
          f"(first job {running_before} -> {running_after}; states seen {sorted(states)}): "
          f"median {statistics.median(lat) * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms, "
          f"max {max(lat) * 1e3:.1f} ms (target p95 < {P95_TARGET_S * 1e3:.0f} ms)")

    # 3. Every job finishes.
    final: dict[str, Any] = {}
    while len(final) < len(ids):
        for sid in ids:
            if sid not in final:
                s = get_json(f"{url}/api/jobs/{sid}")
                if s["state"] in ("done", "failed"):
                    final[sid] = s
        time.sleep(0.5)
    total = time.monotonic() - t_up
    done = sum(s["state"] == "done" for s in final.values())
    print(f"{done}/{len(ids)} jobs done, {len(ids) - done} failed; all finished "
          f"{total:.1f} s after the uploads started ({total / len(ids):.1f} s per video with "
          f"{args.workers} analysis process(es))")
    for sid in ids:
        if final[sid]["state"] != "done":
            print(f"  {sid}: {final[sid]['error']}")
    ok = p95 < P95_TARGET_S and done == len(ids) and running_before == "running"
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
