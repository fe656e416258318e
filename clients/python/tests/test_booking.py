"""The voice-agent booking flow through the client layer, and the errors it decodes."""

from __future__ import annotations

import uuid
from datetime import timezone

import grpc
import pytest

from askpro_client import (
    InvalidArgument,
    NotFound,
    SlotTaken,
    Unauthenticated,
    appointment_pb2,
    appointment_resources_pb2,
    availability_pb2,
    connect,
    tenant_pb2,
    tenant_resources_pb2,
)

from .conftest import free_slots


def test_find_hold_book_reschedule_cancel(server):
    demo = server.demo
    with connect(server.target, demo["agent_key"]) as client:
        slots = free_slots(client, demo)
        assert len(slots) >= 2
        first, later = slots[0], slots[-1]

        call_id = f"call-{uuid.uuid4()}"
        hold = client.availability.HoldSlot(
            availability_pb2.HoldSlotRequest(
                branch_id=demo["branch_id"],
                service_id=demo["service_ids"][0],
                staff_id=first.staff_id,
                start_time=first.start_time,
                hold_key=call_id,
            )
        ).hold
        assert hold.start_time == first.start_time

        booked = client.appointments.CreateAppointment(
            appointment_pb2.CreateAppointmentRequest(
                from_hold=appointment_pb2.HoldReference(hold_id=hold.id, hold_key=call_id),
                new_customer=appointment_pb2.CustomerInput(
                    phone_number="0151 23456789", display_name="Ada Caller"
                ),
            )
        )
        appointment = booked.appointment
        assert appointment.start_time == first.start_time
        assert booked.customer.phone_number == "+4915123456789"

        moved = client.appointments.RescheduleAppointment(
            appointment_pb2.RescheduleAppointmentRequest(
                id=appointment.id, start_time=later.start_time, staff_id=later.staff_id
            )
        ).appointment
        assert moved.start_time == later.start_time

        cancelled = client.appointments.CancelAppointment(
            appointment_pb2.CancelAppointmentRequest(id=appointment.id, reason="caller cancelled")
        ).appointment
        assert cancelled.status == appointment_resources_pb2.APPOINTMENT_STATUS_CANCELLED


def test_a_taken_slot_raises_slot_taken_with_alternatives(server):
    demo = server.demo
    with connect(server.target, demo["agent_key"]) as client:
        slot = free_slots(client, demo, service_index=1)[0]
        request = availability_pb2.HoldSlotRequest(
            branch_id=demo["branch_id"],
            service_id=demo["service_ids"][1],
            staff_id=slot.staff_id,
            start_time=slot.start_time,
            hold_key="first-caller",
        )
        client.availability.HoldSlot(request)
        request.hold_key = "second-caller"
        with pytest.raises(SlotTaken) as taken:
            client.availability.HoldSlot(request)
        error = taken.value
        assert error.code == grpc.StatusCode.ALREADY_EXISTS
        assert error.reason == "SLOT_TAKEN"
        assert error.alternatives, "the server suggests free slots"
        requested = slot.start_time.ToDatetime(tzinfo=timezone.utc)
        for alt in error.alternatives:
            assert alt.start_time >= requested
            assert (alt.start_time, alt.staff_id) != (requested, slot.staff_id)


def test_invalid_input_carries_field_violations(server):
    demo = server.demo
    with connect(server.target, demo["agent_key"]) as client:
        with pytest.raises(InvalidArgument) as invalid:
            client.appointments.CreateCustomer(
                appointment_pb2.CreateCustomerRequest(
                    customer=appointment_resources_pb2.Customer(phone_number="not a number")
                )
            )
        assert invalid.value.field_violations
        assert invalid.value.reason == "INVALID_ARGUMENT"


def test_a_bad_key_is_unauthenticated(server):
    with connect(server.target, "ak_bogus") as client:
        with pytest.raises(Unauthenticated):
            client.tenants.ListBranches(tenant_pb2.ListBranchesRequest())


def test_another_tenants_ids_are_not_found(server):
    demo = server.demo
    platform = server.cli("platform-key", "create", "--name", "tests")
    with connect(server.target, platform) as admin:
        other = admin.tenants.CreateTenant(
            tenant_pb2.CreateTenantRequest(
                tenant=tenant_resources_pb2.Tenant(
                    display_name="Other salon", time_zone="Europe/Vienna", region_code="AT"
                )
            )
        ).tenant
    with connect(server.target, platform, tenant_id=other.id) as acting:
        other_key = acting.tenants.CreateApiKey(
            tenant_pb2.CreateApiKeyRequest(
                api_key=tenant_resources_pb2.ApiKey(
                    display_name="other admin", scope=tenant_resources_pb2.API_KEY_SCOPE_TENANT_ADMIN
                )
            )
        ).secret
    with connect(server.target, other_key) as client:
        assert list(client.tenants.ListBranches(tenant_pb2.ListBranchesRequest()).branches) == []
        with pytest.raises(NotFound) as missing:
            client.tenants.GetBranch(tenant_pb2.GetBranchRequest(id=demo["branch_id"]))
        assert missing.value.reason == "RESOURCE_NOT_FOUND"
