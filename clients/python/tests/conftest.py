"""Starts the real AskPro server binary for the tests, each server in its own temp dir and SQLite file.

The binary is $ASKPRO_BIN, else ../../target/debug/askpro (built with `cargo build` if missing).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[3]


def _binary() -> Path:
    if os.environ.get("ASKPRO_BIN"):
        return Path(os.environ["ASKPRO_BIN"])
    path = REPO / "target" / "debug" / "askpro"
    if not path.exists():
        subprocess.run(["cargo", "build"], cwd=REPO, check=True)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    target: str
    demo: Dict  # `askpro seed demo --json`: tenant_id, branch_id, staff_ids, service_ids, keys
    env: Dict[str, str]
    binary: Path
    workdir: Path

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [str(self.binary), *args], cwd=self.workdir, env=self.env, check=True,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        return out.stdout.strip()


def _start(tmp: Path, extra_env: Dict[str, str]) -> Iterator[Server]:
    binary = _binary()
    env = dict(os.environ)
    env.update(
        ASKPRO_DATABASE_URL=f"sqlite://{tmp}/askpro.db?mode=rwc",
        ASKPRO_LOG_FORMAT="text",
        ASKPRO_LOG_FILTER="warn",
        **extra_env,
    )
    seed = subprocess.run(
        [str(binary), "seed", "demo", "--json"], cwd=tmp, env=env, check=True,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    port = _free_port()
    target = f"127.0.0.1:{port}"
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen(
        [str(binary), "serve", "--listen", target], cwd=tmp, env=env, stdout=log, stderr=log
    )
    try:
        _wait_serving(target, proc)
        yield Server(target, json.loads(seed.stdout), env, binary, tmp)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_serving(target: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    with grpc.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"askpro serve exited with {proc.returncode}")
            try:
                if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise RuntimeError("askpro serve did not become SERVING within 30 s")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _start(tmp_path_factory.mktemp("askpro"), {})


@pytest.fixture(scope="session")
def rate_limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _start(
        tmp_path_factory.mktemp("askpro-limited"),
        {"ASKPRO_RATE_LIMIT_PER_KEY": "{per_second=1,burst=2}"},
    )


def free_slots(client, demo: Dict, service_index: int = 0) -> List:
    """Free slots of the demo branch for one service over the next two weeks."""
    from datetime import datetime, timedelta, timezone

    from askpro_client import availability_pb2, types_pb2

    now = datetime.now(timezone.utc)
    response = client.availability.ListAvailableSlots(
        availability_pb2.ListAvailableSlotsRequest(
            branch_id=demo["branch_id"],
            service_id=demo["service_ids"][service_index],
            time_range=types_pb2.TimeRange(start_time=now, end_time=now + timedelta(days=14)),
            page_size=50,
        )
    )
    return list(response.slots)
