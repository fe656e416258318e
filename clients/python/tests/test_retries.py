"""Retry and request_id behaviour of the client layer, against a scripted in-process server
(the real server cannot be made to answer UNAVAILABLE on demand)."""

from __future__ import annotations

from concurrent import futures
from typing import List

import grpc
import pytest

from askpro_client import AlreadyExists, Unavailable, availability_pb2, availability_resources_pb2, connect
from askpro_client._gen.askpro.availability.v1 import availability_service_pb2_grpc


class ScriptedAvailability(availability_service_pb2_grpc.AvailabilityServiceServicer):
    def __init__(self, answers: List[grpc.StatusCode]) -> None:
        self.answers = list(answers)
        self.seen: List[tuple] = []

    def HoldSlot(self, request, context):
        self.seen.append((request.request_id, dict(context.invocation_metadata()).get("authorization")))
        code = self.answers.pop(0) if self.answers else grpc.StatusCode.OK
        if code != grpc.StatusCode.OK:
            context.abort(code, "scripted")
        return availability_pb2.HoldSlotResponse(hold=availability_resources_pb2.Hold(id="h1"))


@pytest.fixture
def scripted():
    def start(answers):
        # Only HoldSlot is scripted; the generated base answers UNIMPLEMENTED for the rest at run
        # time, though its typing stub declares every method abstract.
        servicer = ScriptedAvailability(answers)  # type: ignore[abstract]
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        availability_service_pb2_grpc.add_AvailabilityServiceServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        started.append(server)
        return f"127.0.0.1:{port}", servicer

    started: list = []
    yield start
    for server in started:
        server.stop(None)


def test_unavailable_is_retried_with_the_same_request_id(scripted):
    target, servicer = scripted([grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE])
    with connect(target, "ak_test", initial_backoff=0.01) as client:
        hold = client.availability.HoldSlot(availability_pb2.HoldSlotRequest(hold_key="c")).hold
    assert hold.id == "h1"
    assert len(servicer.seen) == 3
    request_ids = {rid for rid, _ in servicer.seen}
    assert len(request_ids) == 1 and request_ids != {""}
    assert {auth for _, auth in servicer.seen} == {"Bearer ak_test"}


def test_a_given_request_id_is_kept(scripted):
    target, servicer = scripted([])
    with connect(target, "ak_test") as client:
        client.availability.HoldSlot(availability_pb2.HoldSlotRequest(request_id="mine"))
    assert servicer.seen[0][0] == "mine"


def test_already_exists_is_never_retried(scripted):
    target, servicer = scripted([grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.ALREADY_EXISTS])
    with connect(target, "ak_test", initial_backoff=0.01) as client:
        with pytest.raises(AlreadyExists):
            client.availability.HoldSlot(availability_pb2.HoldSlotRequest())
    assert len(servicer.seen) == 1


def test_retries_stop_after_max_attempts(scripted):
    target, servicer = scripted([grpc.StatusCode.UNAVAILABLE] * 10)
    with connect(target, "ak_test", initial_backoff=0.01, max_attempts=3) as client:
        with pytest.raises(Unavailable):
            client.availability.HoldSlot(availability_pb2.HoldSlotRequest())
    assert len(servicer.seen) == 3
