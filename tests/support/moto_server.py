"""Launcher for moto in server mode: a real HTTP emulator of the AWS APIs for boto3 and Terraform.

Run as ``python -m tests.support.moto_server --port N``. It runs in its own process (never inside
pytest's) so that in-process ``mock_aws`` unit tests cannot reset its state. Gaps in moto that our
tests need closed are patched here, in the harness, never in production code (DESIGN.md section 4).
The patches rely on moto's internals, so moto is pinned in pyproject.toml.
"""

from __future__ import annotations

import argparse
import logging


def apply_patches() -> None:
    """Close the moto gaps our tests rely on. Each patch says which gap it closes."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    apply_patches()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    print(f"moto server listening on http://{args.host}:{args.port}", flush=True)
    try:
        server._thread.join()  # type: ignore[union-attr]  # run until killed
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
