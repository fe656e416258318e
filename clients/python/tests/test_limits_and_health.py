"""Rate limiting as the client sees it, and the health probe Kubernetes uses."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from askpro_client import RateLimited, connect, tenant_pb2


def test_over_the_limit_raises_rate_limited_with_retry_delay(rate_limited_server):
    with connect(rate_limited_server.target, rate_limited_server.demo["agent_key"]) as client:
        with pytest.raises(RateLimited) as limited:
            for _ in range(10):
                client.tenants.ListBranches(tenant_pb2.ListBranchesRequest())
        error = limited.value
        assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error.reason == "RATE_LIMITED"
        assert error.metadata.get("limit") == "api_key"
        assert error.retry_delay is not None and 0 < error.retry_delay <= 2


def test_health_probe_needs_no_key(server):
    with grpc.insecure_channel(server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        overall = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        assert overall.status == health_pb2.HealthCheckResponse.SERVING
        per_service = health.Check(
            health_pb2.HealthCheckRequest(service="askpro.appointment.v1.AppointmentService"), timeout=5
        )
        assert per_service.status == health_pb2.HealthCheckResponse.SERVING


def test_health_probe_through_the_client_channel(server):
    # The client's channel (with its key interceptor) serves other stubs too.
    with connect(server.target, server.demo["agent_key"]) as client:
        health = health_pb2_grpc.HealthStub(client.channel)
        assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
