"""Ingester benchmark: the Firehose writer against a local emulated endpoint, beside a naive baseline.

    python scripts/bench/ingester_bench.py [--tweets 30000] [--naive 1500] [--steady-rate 2000] [--slow-seconds 3]

Endpoint: a minimal Firehose-compatible HTTP endpoint (PutRecordBatch and PutRecord, JSON 1.1 protocol,
keep-alive) started by this script in its own process and pinned to the second core. Not moto: moto's
Firehose writes an S3 object per call and would measure moto. The tests cover moto over HTTP.

Each measurement runs in a fresh child process pinned to ONE core (``os.sched_setaffinity``), going
through boto3 exactly like production (AWS_ENDPOINT_URL points boto3 at the endpoint):

* ingester: ``ingester.app.run`` on a replay of raw X v2 messages, as fast as possible, with the WAL on
  (tweets/s from first read to last record delivered; PutRecordBatch calls per 1,000 tweets);
* naive baseline: what the 2021 tutorial did, one ``put_record`` per tweet (same envelope encoding),
  on a subset, extrapolated;
* burst: a steady replay at ``--steady-rate`` for a few seconds, then 10x (and 20x) as many tweets flat
  out while the endpoint is slow (Firehose slower than the burst): peak RSS of the ingester with its
  bounded queue (above 75 % it spools to disk), beside the same writer with an unbounded queue (naive
  buffering). Flat = the 20x burst peaks no higher than the 10x one (+15 %).

Prints a table. Targets (docs/design.md §8): >= 10,000 tweets/s on one core; <= 2 calls per 1,000 tweets;
memory flat under bursts.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


# -- the endpoint (child process) ---------------------------------------------------------------------
class _Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls = 0
        self.records = 0
        self.throttle_until = 0.0
        self.slow_until = 0.0
        self.slow_delay = 0.0


def serve_endpoint(port_file: Path) -> None:
    counts = _Counts()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body are two writes: without TCP_NODELAY, Nagle + delayed ACK add 40 ms a call.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            with counts.lock:
                self._reply(200, {"calls": counts.calls, "records": counts.records})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            target = self.headers.get("X-Amz-Target", "")
            if self.path.startswith("/bench/"):
                control = json.loads(body)
                with counts.lock:
                    until = time.monotonic() + float(control["seconds"])
                    if self.path == "/bench/throttle":
                        counts.throttle_until = until
                    else:
                        counts.slow_until, counts.slow_delay = until, float(control["delay"])
                self._reply(200, {})
                return
            request = json.loads(body)
            with counts.lock:
                counts.calls += 1
                now = time.monotonic()
                throttled = now < counts.throttle_until
                delay = counts.slow_delay if now < counts.slow_until else 0.0
            if delay:
                time.sleep(delay)
            if throttled:
                self._reply(400, {"__type": "ServiceUnavailableException", "message": "Slow down."})
                return
            if target.endswith("PutRecordBatch"):
                records = request["Records"]
                for record in records:  # decode like Firehose would
                    base64.b64decode(record["Data"])
                with counts.lock:
                    counts.records += len(records)
                responses = [{"RecordId": "r"} for _ in records]
                self._reply(200, {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": responses})
            elif target.endswith("PutRecord"):
                base64.b64decode(request["Record"]["Data"])
                with counts.lock:
                    counts.records += 1
                self._reply(200, {"RecordId": "r", "Encrypted": False})
            else:
                self._reply(400, {"__type": "InvalidArgumentException", "message": f"unsupported {target}"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_file.write_text(str(server.server_address[1]))
    server.serve_forever()


# -- measurements (child processes, one core) -------------------------------------------------------
def make_replay(path: Path, n: int) -> Path:
    from tests.support.ingester import stream_message

    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(json.dumps(stream_message(i)) + "\n")
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_ingester(replay: Path, state: Path, rate: float | None, queue: int) -> dict[str, Any]:
    from ingester.app import run
    from ingester.config import Settings
    from ingester.stats import read_status

    settings = Settings(
        source="replay",
        replay_file=replay,
        delivery_stream="bench",
        aws_region="us-east-1",
        state_dir=state,
        rate=rate,
        queue_max_records=queue,
        spool_after_s=0.5,
        max_backoff_s=0.5,
        stats_interval_s=3600,
    )
    started = time.perf_counter()
    code = run(settings)
    elapsed = time.perf_counter() - started
    status = read_status(state)
    return {
        "code": code,
        "elapsed": elapsed,
        "read": status["read"],
        "delivered": status["delivered"],
        "api_calls": status["api_calls"],
        "spooled": status["spooled"],
        "peak_rss_mb": peak_rss_mb(),
    }


def child_naive(replay: Path, n: int) -> dict[str, Any]:
    import boto3

    from ingester.envelope import encode, from_replay_line

    client = boto3.client("firehose", region_name="us-east-1")
    with replay.open("rb") as handle:
        lines = [next(handle) for _ in range(n)]
    client.put_record(DeliveryStreamName="bench", Record={"Data": b"{}"})  # connection warm-up
    started = time.perf_counter()
    for line in lines:
        client.put_record(DeliveryStreamName="bench", Record={"Data": encode(from_replay_line(line))})
    elapsed = time.perf_counter() - started
    return {"elapsed": elapsed, "read": n, "api_calls": n, "peak_rss_mb": peak_rss_mb()}


def run_child(mode: str, endpoint: str, *args: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONPATH": f"{ROOT / 'lambda_src'}:{ROOT}",
    }
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def child_main(mode: str, args: list[str]) -> None:
    os.sched_setaffinity(0, {0})  # one core
    import logging

    logging.basicConfig(level=logging.ERROR)
    if mode == "ingester":
        replay, state, rate, queue = args
        result = child_ingester(Path(replay), Path(state), float(rate) if rate != "max" else None, int(queue))
    elif mode == "naive":
        replay, n = args
        result = child_naive(Path(replay), int(n))
    elif mode == "burst":
        result = child_burst(json.loads(args[0]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(result))


def child_burst(config: dict[str, Any]) -> dict[str, Any]:
    """A steady replay, then a burst flat out while the endpoint is slow (Firehose slower than the burst)."""
    import urllib.request

    state = Path(config["state"])
    steady = child_ingester(Path(config["steady"]), state / "steady", float(config["rate"]), int(config["queue"]))
    steady_rss = peak_rss_mb()
    control = {"seconds": config["slow_seconds"], "delay": config["slow_delay"]}
    url = f"{config['endpoint']}/bench/slow"  # http://127.0.0.1 only
    request = urllib.request.Request(url, data=json.dumps(control).encode(), method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
    burst = child_ingester(Path(config["burst"]), state / "burst", None, int(config["queue"]))
    return {"steady_rss_mb": steady_rss, "peak_rss_mb": peak_rss_mb(), "steady": steady, "burst": burst}


# -- orchestration -----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tweets", type=int, default=30_000, help="tweets through the ingester")
    parser.add_argument("--naive", type=int, default=1_500, help="tweets for the one-call-per-tweet baseline")
    parser.add_argument("--steady-rate", type=float, default=2_000, help="tweets/s before the burst")
    parser.add_argument("--steady-seconds", type=float, default=2.0)
    parser.add_argument("--slow-seconds", type=float, default=3.0, help="endpoint is slow this long in a burst")
    parser.add_argument("--slow-delay", type=float, default=0.25, help="seconds added to each call while slow")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.endpoint:
        os.sched_setaffinity(0, {(os.cpu_count() or 1) - 1})  # the other core
        serve_endpoint(args.endpoint)
        return 0
    if args.child:
        child_main(args.child[0], args.child[1:])
        return 0
    if (os.cpu_count() or 1) < 2:
        print("note: one CPU only; the endpoint shares the core with the ingester", file=sys.stderr)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="ingester-bench-") as tmp:
        work = Path(tmp)
        port_file = work / "port"
        endpoint_proc = subprocess.Popen([sys.executable, __file__, "--endpoint", str(port_file)])
        try:
            for _ in range(100):
                if port_file.exists() and port_file.read_text():
                    break
                time.sleep(0.05)
            endpoint = f"http://127.0.0.1:{port_file.read_text()}"
            return bench(work, endpoint, args)
        finally:
            endpoint_proc.terminate()
            endpoint_proc.wait(10)


def burst_run(work: Path, endpoint: str, args: argparse.Namespace, queue: int, factor: int) -> dict[str, Any]:
    steady_n = int(args.steady_rate * args.steady_seconds)
    config = {
        "state": str(work / f"state-q{queue}-x{factor}"),
        "steady": str(work / "steady.jsonl"),
        "burst": str(make_replay(work / f"burst-{factor}.jsonl", steady_n * factor)),
        "rate": args.steady_rate,
        "queue": queue,
        "endpoint": endpoint,
        "slow_seconds": args.slow_seconds,
        "slow_delay": args.slow_delay,
    }
    result = run_child("burst", endpoint, json.dumps(config))
    assert result["burst"]["delivered"] == steady_n * factor, result
    return result


def bench(work: Path, endpoint: str, args: argparse.Namespace) -> int:
    replay = make_replay(work / "tweets.jsonl", max(args.tweets, args.naive))
    steady_n = int(args.steady_rate * args.steady_seconds)
    make_replay(work / "steady.jsonl", steady_n)
    print(f"endpoint: minimal Firehose-compatible HTTP endpoint at {endpoint} (own process, own core)")
    print(f"ingester: one core, boto3, WAL on; {args.tweets:,} tweets; naive baseline on {args.naive:,} tweets\n")

    ing = run_child("ingester", endpoint, str(replay), str(work / "state-throughput"), "max", "20000")
    assert ing["code"] == 0 and ing["delivered"] == ing["read"] == args.tweets, ing
    naive = run_child("naive", endpoint, str(replay), str(args.naive))
    bounded10 = burst_run(work, endpoint, args, 20_000, 10)
    bounded20 = burst_run(work, endpoint, args, 20_000, 20)
    unbounded10 = burst_run(work, endpoint, args, 10_000_000, 10)
    unbounded20 = burst_run(work, endpoint, args, 10_000_000, 20)

    ing_rate = ing["read"] / ing["elapsed"]
    naive_rate = naive["read"] / naive["elapsed"]
    calls = 1000 * ing["api_calls"] / ing["read"]
    flat = bounded20["peak_rss_mb"] <= bounded10["peak_rss_mb"] * 1.15
    rows = [
        (
            "tweets/s through the writer (1 core)",
            f"{ing_rate:,.0f}",
            f"{naive_rate:,.0f}",
            ">= 10,000",
            ing_rate >= 10_000,
        ),
        (
            "API calls per 1,000 tweets",
            f"{calls:.1f}",
            f"{1000 * naive['api_calls'] / naive['read']:.0f}",
            "<= 2",
            calls <= 2,
        ),
        ("peak RSS, steady (MB)", f"{bounded10['steady_rss_mb']:.0f}", f"{unbounded10['steady_rss_mb']:.0f}", "", None),
        ("peak RSS, 10x burst (MB)", f"{bounded10['peak_rss_mb']:.0f}", f"{unbounded10['peak_rss_mb']:.0f}", "", None),
        (
            "peak RSS, 20x burst (MB)",
            f"{bounded20['peak_rss_mb']:.0f}",
            f"{unbounded20['peak_rss_mb']:.0f}",
            "flat",
            flat,
        ),
        (
            "records spooled in the 10x / 20x burst",
            f"{bounded10['burst']['spooled']:,} / {bounded20['burst']['spooled']:,}",
            f"{unbounded10['burst']['spooled']:,} / {unbounded20['burst']['spooled']:,}",
            "",
            None,
        ),
    ]
    header = ("metric", "ingester", "baseline", "target", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths), ""))
    for row in rows:
        print(line.format(*row[:4], "" if row[4] is None else ("ok" if row[4] else "MISSED")))
    print(
        f"\nbaseline: rows 1-2 = one put_record per tweet (the 2021 tutorial), measured on {args.naive:,} tweets; "
        "rows 3-6 = the same writer with an unbounded queue (QUEUE_MAX_RECORDS=10,000,000), i.e. naive buffering."
        f"\nburst: {steady_n:,} tweets at {args.steady_rate:,.0f}/s, then 10x / 20x that many flat out while the "
        f"endpoint answers every call {args.slow_delay * 1000:.0f} ms late for {args.slow_seconds:g} s."
        f"\nspeed-up over the baseline: {ing_rate / naive_rate:,.0f}x"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
