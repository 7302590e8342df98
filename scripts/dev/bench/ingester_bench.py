"""Ingester benchmark: the Firehose writer against a local emulated endpoint, beside a naive baseline.

    python scripts/dev/bench/ingester_bench.py [--tweets 30000] [--naive 1500] [--steady-rate 2000] [--slow-seconds 3]

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

* faults: the endpoint injects faults (``POST /bench/faults``): a share of the records of each PutRecordBatch
  answered ``ServiceUnavailableException`` (as Firehose does over its limits), or a share of whole calls
  refused with HTTP 503 ``ServiceUnavailableException``, or (``POST /bench/down``) every connection dropped
  for a while. It tallies the records it accepted (``GET /bench/tally``): distinct, duplicated, when. Delivered
  records/s at 0 %, 10 %, 50 % failed records and 30 % throttled calls, and the seconds until delivery resumes
  after an outage, for this ingester and, side by side, the baseline: the ingester package of
  ``BASELINE_COMMIT`` (before the pacing rule), taken from git and run unchanged, stopped after
  ``--baseline-cap`` seconds when it is not done.

Prints tables. Targets (docs/design.md §8): >= 10,000 tweets/s on one core; <= 2 calls per 1,000 tweets;
memory flat under bursts; at 50 % failed records >= 40 % of the fault-free rate, none lost or duplicated.
``--only faults`` (or ``throughput``) runs one part.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
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

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from scripts.dev.bench.baseline import BASELINE_COMMIT, extract_baseline  # noqa: E402


# -- the endpoint (child process) ---------------------------------------------------------------------
class _Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls = 0
        self.records = 0
        self.slow_until = 0.0
        self.slow_delay = 0.0
        self.faults = _Faults()


class _Faults:
    """Fault injection and the delivery tally of one fault run (``POST /bench/faults`` starts a run)."""

    def __init__(self, fail: float = 0.0, throttle: float = 0.0, seed: int = 0, tally: bool = False) -> None:
        self.fail = fail  # share of records answered ServiceUnavailableException (per record, as Firehose does)
        self.throttle = throttle  # share of calls refused whole: HTTP 503 ServiceUnavailableException
        self.rng = random.Random(seed)
        self.tally = tally
        self.down_until = 0.0  # until then every connection is dropped without an answer (endpoint down)
        self.seen: dict[bytes, int] = {}  # record -> times accepted (a resend carries the same bytes)
        self.accepted = 0
        self.first_call = 0.0
        self.last_new = 0.0
        self.resumed = 0.0  # first record accepted after the outage

    def tally_accepted(self, records: list[bytes]) -> None:
        now = time.monotonic()
        for data in records:
            count = self.seen.get(data, 0)
            self.seen[data] = count + 1
            self.accepted += 1
            if not count:
                self.last_new = now
        if records and self.down_until and not self.resumed and now >= self.down_until:
            self.resumed = now

    def report(self) -> dict[str, Any]:
        return {
            "unique": len(self.seen),
            "accepted": self.accepted,
            "duplicates": self.accepted - len(self.seen),
            "first_call": self.first_call,
            "last_new": self.last_new,
            "now": time.monotonic(),
            "resumed_after_s": self.resumed - self.down_until if self.down_until and self.resumed else None,
        }


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
                if self.path == "/bench/tally":
                    self._reply(200, counts.faults.report())
                else:
                    self._reply(200, {"calls": counts.calls, "records": counts.records})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            target = self.headers.get("X-Amz-Target", "")
            if self.path.startswith("/bench/"):
                control = json.loads(body)
                with counts.lock:
                    if self.path == "/bench/faults":
                        counts.faults = _Faults(control["fail"], control["throttle"], control["seed"], tally=True)
                    elif self.path == "/bench/down":
                        counts.faults.down_until = time.monotonic() + float(control["seconds"])
                    else:
                        counts.slow_until = time.monotonic() + float(control["seconds"])
                        counts.slow_delay = float(control["delay"])
                self._reply(200, {})
                return
            request = json.loads(body)
            with counts.lock:
                counts.calls += 1
                now = time.monotonic()
                delay = counts.slow_delay if now < counts.slow_until else 0.0
                faults = counts.faults
                faults.first_call = faults.first_call or now
                down = now < faults.down_until
                throttled = faults.rng.random() < faults.throttle
            if down:
                self.close_connection = True  # no answer at all: the client sees the connection dropped
                return
            if delay:
                time.sleep(delay)
            if throttled:
                self._reply(503, {"__type": "ServiceUnavailableException", "message": "Slow down."})
                return
            if target.endswith("PutRecordBatch"):
                records = request["Records"]
                datas = [base64.b64decode(record["Data"]) for record in records]  # decode like Firehose would
                with counts.lock:
                    failed = [faults.rng.random() < faults.fail for _ in datas]
                    counts.records += len(records) - sum(failed)
                    if faults.tally:
                        faults.tally_accepted([d for d, f in zip(datas, failed, strict=True) if not f])
                error = {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}
                responses = [error if f else {"RecordId": "r"} for f in failed]
                self._reply(200, {"FailedPutCount": sum(failed), "Encrypted": False, "RequestResponses": responses})
            elif target.endswith("PutRecord"):
                base64.b64decode(request["Record"]["Data"])
                with counts.lock:
                    counts.records += 1
                self._reply(200, {"RecordId": "r", "Encrypted": False})
            else:
                self._reply(400, {"__type": "InvalidArgumentException", "message": f"unsupported {target}"})

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            if not isinstance(sys.exc_info()[1], ConnectionError):  # a killed baseline run resets its connection
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
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


def child_env(endpoint: str) -> dict[str, str]:
    """A child's environment: boto3 pointed at the bench endpoint with dummy credentials."""
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONPATH": f"{ROOT / 'lambda_src'}:{ROOT}",
    }


def run_child(mode: str, endpoint: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, *args],
        env=child_env(endpoint),
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
    elif mode == "faults":
        config = json.loads(args[0])
        if config["code_root"]:
            sys.path.insert(0, config["code_root"])  # the baseline's ingester package, ahead of this checkout's
        result = child_faults(config)
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


def child_faults(config: dict[str, Any]) -> dict[str, Any]:
    """The ingester as the service runs it (default writer settings) on a replay, flat out or at ``rate``."""
    from ingester.app import run
    from ingester.config import Settings

    rate = config["rate"]
    settings = Settings(
        source="replay",
        replay_file=Path(config["replay"]),
        delivery_stream="bench",
        aws_region="us-east-1",
        state_dir=Path(config["state"]),
        rate=float(rate) if rate else None,
        stats_interval_s=3600,
    )
    return {"code": run(settings)}


# -- throughput under faults and recovery: this writer beside the one before issue 10 ---------------------------
FAULTS = [
    ("no faults", 0.0, 0.0),
    ("10 % of records failed", 0.10, 0.0),
    ("50 % of records failed", 0.50, 0.0),
    ("30 % of calls throttled", 0.0, 0.30),
]


def control(endpoint: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """A control call to the bench endpoint (127.0.0.1 only): POST with ``payload``, else GET."""
    import urllib.request

    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(f"{endpoint}{path}", data=data, method="POST" if data else "GET")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return dict(json.loads(response.read() or b"{}"))


def fault_run(
    work: Path,
    endpoint: str,
    *,
    name: str,
    code_root: Path | None,
    replay: Path,
    n: int,
    faults: tuple[float, float],
    cap_s: float,
    rate: float | None = None,
    outage: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """One ingester process against the faulty endpoint until all ``n`` tweets arrived or ``cap_s`` passed (then
    it is killed). ``outage`` = (after s, for s): the endpoint drops every connection for a while."""
    control(endpoint, "/bench/faults", {"fail": faults[0], "throttle": faults[1], "seed": 10})
    config = {
        "replay": str(replay),
        "state": str(work / f"state-{name}"),
        "rate": rate,
        "code_root": str(code_root) if code_root else None,
    }
    with (work / f"{name}.log").open("w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", "faults", json.dumps(config)],
            env=child_env(endpoint),
            stdout=log_file,
            stderr=log_file,
        )
        started = time.monotonic()
        outage_started = False
        try:
            while True:
                time.sleep(0.1)
                tally = control(endpoint, "/bench/tally")
                if (
                    outage
                    and not outage_started
                    and tally["first_call"]
                    and tally["now"] - tally["first_call"] >= outage[0]
                ):
                    control(endpoint, "/bench/down", {"seconds": outage[1]})
                    outage_started = True
                finished = proc.poll() is not None
                if finished or tally["unique"] >= n or time.monotonic() - started > cap_s:
                    break
            if not finished and tally["unique"] >= n:
                proc.wait(30)  # delivered: let it exit
                finished = True
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    tally = control(endpoint, "/bench/tally")
    complete = tally["unique"] >= n
    end = tally["last_new"] if complete else tally["now"]
    elapsed = max(1e-9, end - tally["first_call"]) if tally["first_call"] else float("inf")
    return {
        **tally,
        "complete": complete,
        "exit": proc.returncode if finished else None,
        "rate": tally["unique"] / elapsed,
        "lost": n - tally["unique"] if complete or finished else None,
    }


def best_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run's rate (the machine is shared: the others measure its load), with the lost and duplicated
    records of every run added up (each must be 0)."""
    best = dict(max(runs, key=lambda run: float(run["rate"])))
    lost = [run["lost"] for run in runs]
    best["lost"] = None if None in lost else sum(lost)
    best["duplicates"] = sum(run["duplicates"] for run in runs)
    best["runs"] = len(runs)
    return best


def describe(run: dict[str, Any], n: int) -> tuple[str, str, str]:
    rate = f"{run['rate']:,.0f}"
    if not run["complete"]:
        rate += f" (stopped: {run['unique']:,} of {n:,} in the cap)"
    lost = "n/a" if run["lost"] is None else f"{run['lost']:,}"
    return rate, lost, f"{run['duplicates']:,}"


def bench_faults(work: Path, endpoint: str, args: argparse.Namespace) -> None:
    """Delivered records/s under faults and the time to resume after an outage, new writer beside the baseline."""
    n = args.fault_tweets
    replay = make_replay(work / "faults.jsonl", n)
    steady_n = int(args.outage_rate * (args.outage_seconds + 2 * args.outage_after))
    steady = make_replay(work / "outage.jsonl", steady_n)
    baseline = extract_baseline(work)
    writers: list[tuple[str, Path | None]] = [("new", None)]
    if baseline is not None:
        writers.append(("baseline", baseline))
    else:
        print("baseline: not run (no git history to take the old ingester from)")
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for repeat in range(args.repeat):  # rounds over every scenario, so the machine's load drifts over all of them
        for label, fail, throttle in FAULTS:
            for writer, root in writers:
                done = runs.setdefault((writer, label), [])
                if done and not done[-1]["complete"]:
                    continue  # a run stopped at its cap is not repeated
                done.append(
                    fault_run(
                        work,
                        endpoint,
                        name=f"{writer}-{fail}-{throttle}-{repeat}",
                        code_root=root,
                        replay=replay,
                        n=n,
                        faults=(fail, throttle),
                        cap_s=120.0 if writer == "new" else args.baseline_cap,
                    )
                )
    results = {key: best_of(done) for key, done in runs.items()}
    recovery: dict[str, dict[str, Any]] = {}
    for writer, root in writers:
        recovery[writer] = fault_run(
            work,
            endpoint,
            name=f"{writer}-outage",
            code_root=root,
            replay=steady,
            n=steady_n,
            faults=(0.0, 0.0),
            cap_s=args.outage_seconds + 2 * args.outage_after + (60 if writer == "new" else args.baseline_cap),
            rate=args.outage_rate,
            outage=(args.outage_after, args.outage_seconds),
        )

    print(
        f"\nthroughput under faults: {n:,} tweets replayed flat out through the ingester process (default writer "
        f"settings, WAL on, one core), best of {args.repeat} runs\nagainst the bench endpoint injecting the fault; "
        "records/s = distinct tweets accepted / (last new one - first call);\nlost and duplicated counted per "
        "record at the endpoint (a resend carries the same bytes)"
    )
    header = ("fault", "new: records/s", "lost", "dup", f"baseline ({BASELINE_COMMIT[:7]}): records/s", "lost", "dup")
    rows = []
    for label, _, _ in FAULTS:
        new = describe(results[("new", label)], n)
        old = describe(results[("baseline", label)], n) if baseline is not None else ("-", "-", "-")
        rows.append((label, *new, *old))
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    free = results[("new", "no faults")]["rate"]
    half = results[("new", "50 % of records failed")]
    share = half["rate"] / free if free else 0.0
    clean = all(
        results[("new", label)]["lost"] == 0 and results[("new", label)]["duplicates"] == 0 for label, *_ in FAULTS
    )
    print(
        f"\n50 % of records failed / no faults (new writer): {share:.0%}  (target >= 40 %: "
        f"{'ok' if share >= 0.40 else 'MISSED'}); new writer lost 0 and duplicated 0 in every row: "
        f"{'ok' if clean else 'MISSED'}"
    )
    print(
        f"\nrecovery: {steady_n:,} tweets at {args.outage_rate:,.0f}/s; after {args.outage_after:g} s the endpoint "
        f"drops every connection for {args.outage_seconds:g} s"
    )
    for writer, run in recovery.items():
        resumed = run["resumed_after_s"]
        after = "did not resume within the cap" if resumed is None else f"{resumed:.1f} s"
        _, lost, dup = describe(run, steady_n)
        print(f"  {writer:<8} delivery resumed {after} after the endpoint was back; lost {lost}, duplicated {dup}")
    if baseline is not None:
        print(
            f"\nbaseline = the ingester package of commit {BASELINE_COMMIT[:7]} (before the pacing rule), same "
            f"endpoint, same replay, stopped after {args.baseline_cap:g} s when not done ('stopped': not repeated)."
        )


# -- orchestration -----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tweets", type=int, default=30_000, help="tweets through the ingester")
    parser.add_argument("--naive", type=int, default=1_500, help="tweets for the one-call-per-tweet baseline")
    parser.add_argument("--steady-rate", type=float, default=2_000, help="tweets/s before the burst")
    parser.add_argument("--steady-seconds", type=float, default=2.0)
    parser.add_argument("--slow-seconds", type=float, default=3.0, help="endpoint is slow this long in a burst")
    parser.add_argument("--slow-delay", type=float, default=0.25, help="seconds added to each call while slow")
    parser.add_argument("--fault-tweets", type=int, default=20_000, help="tweets per fault scenario")
    parser.add_argument("--baseline-cap", type=float, default=10.0, help="seconds before a baseline run is stopped")
    parser.add_argument("--outage-rate", type=float, default=500.0, help="tweets/s in the outage scenario")
    parser.add_argument("--outage-seconds", type=float, default=20.0, help="how long the endpoint is down")
    parser.add_argument("--outage-after", type=float, default=2.0, help="seconds of delivery before the outage")
    parser.add_argument("--repeat", type=int, default=2, help="runs per fault scenario (the fastest counts)")
    parser.add_argument("--only", choices=["throughput", "faults"], help="run one part of the bench")
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
            code = 0 if args.only == "faults" else bench(work, endpoint, args)
            if args.only != "throughput":
                bench_faults(work, endpoint, args)
            return code
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
