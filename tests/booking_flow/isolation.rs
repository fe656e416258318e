//! Tenant isolation of slots, holds and appointments.

use super::*;

async fn another_tenant_sees_none_of_the_bookings(server: &common::TestServer) {
    let a = Salon::open(server, "Salon A").await;
    let b = Salon::open(server, "Salon B").await;
    let day = BookingDay::berlin();
    let appointment = a.book(day.at(10, 0), "0151 23456789").await;
    let hold = a.hold(a.service(), a.staff(), day.at(12, 0), "call-a").await;
    let key = b.agent();
    let (mut bav, mut bap) = (b.av(), b.ap());
    let not_found = |result: Result<(), Status>, what: &str| {
        let status = result.expect_err(what);
        assert_eq!(status.code(), Code::NotFound, "{what}: {status:?}");
        assert_eq!(reason(&status), "RESOURCE_NOT_FOUND", "{what}");
    };
    let id = appointment.id.clone();
    not_found(bap.get_appointment(authed(ap::GetAppointmentRequest { id: id.clone() }, key)).await.map(drop), "Get");
    let cancel = ap::CancelAppointmentRequest {
        id: id.clone(),
        request_id: request_id(),
        reason: String::new(),
        etag: String::new(),
    };
    not_found(bap.cancel_appointment(authed(cancel, key)).await.map(drop), "Cancel");
    let reschedule = ap::RescheduleAppointmentRequest {
        id: id.clone(),
        request_id: request_id(),
        start_time: Some(pts(day.at(15, 0))),
        staff_id: String::new(),
        hold: None,
        etag: String::new(),
    };
    not_found(bap.reschedule_appointment(authed(reschedule, key)).await.map(drop), "Reschedule");
    let confirm = ap::ConfirmAppointmentRequest { id: id.clone(), etag: String::new() };
    not_found(bap.confirm_appointment(authed(confirm, key)).await.map(drop), "Confirm");
    let no_show = ap::MarkNoShowRequest { id: id.clone(), etag: String::new() };
    not_found(bap.mark_no_show(authed(no_show, key)).await.map(drop), "MarkNoShow");
    let complete = ap::CompleteAppointmentRequest { id: id.clone(), etag: String::new() };
    not_found(bap.complete_appointment(authed(complete, key)).await.map(drop), "Complete");
    let update = ap::UpdateAppointmentRequest {
        appointment: Some(ap::Appointment { id: id.clone(), notes: "hijacked".into(), ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["notes".into()] }),
    };
    not_found(bap.update_appointment(authed(update, key)).await.map(drop), "Update");
    let release = av::ReleaseHoldRequest { id: hold.id.clone(), hold_key: "call-a".into() };
    not_found(bav.release_hold(authed(release, key)).await.map(drop), "ReleaseHold");
    not_found(bav.get_hold(authed(av::GetHoldRequest { id: hold.id.clone() }, key)).await.map(drop), "GetHold");
    let extend = av::ExtendHoldRequest { id: hold.id.clone(), hold_key: "call-a".into(), ttl: None };
    not_found(bav.extend_hold(authed(extend, key)).await.map(drop), "ExtendHold");
    not_found(
        b.try_create(b.booking_from_hold(&hold.id, "call-a", "0151 23456789")).await.map(drop),
        "Create from A's hold",
    );
    let slots = a.slots_request(a.service(), &[], day.start(), day.start() + 24 * HOUR);
    not_found(bav.list_available_slots(authed(slots, key)).await.map(drop), "ListAvailableSlots of A's branch");
    let slots = b.slots_request(a.service(), &[], day.start(), day.start() + 24 * HOUR);
    not_found(bav.list_available_slots(authed(slots, key)).await.map(drop), "ListAvailableSlots of A's service");
    let hold_a =
        av::HoldSlotRequest { hold_key: "call-b".into(), ..a.hold_request(a.service(), a.staff(), day.at(14, 0), "x") };
    not_found(bav.hold_slot(authed(hold_a, key)).await.map(drop), "HoldSlot in A's branch");
    not_found(
        b.try_create(a.explicit(a.service(), a.staff(), day.at(14, 0), "0151 23456789")).await.map(drop),
        "Create in A's branch",
    );

    // A's customer is not B's.
    let a_customer = appointment.customer_id.clone();
    let with_a_customer = ap::CreateAppointmentRequest {
        customer: Some(ap::create_appointment_request::Customer::CustomerId(a_customer.clone())),
        ..b.explicit(b.service(), b.staff(), day.at(16, 0), "")
    };
    not_found(b.try_create(with_a_customer).await.map(drop), "Create for A's customer");
    assert!(b.list(ap::ListAppointmentsRequest { customer_id: a_customer, ..Default::default() }).await.is_empty());

    // Byte for byte the answer for an unknown id.
    let unknown = Uuid::now_v7().to_string();
    let foreign = bap.get_appointment(authed(ap::GetAppointmentRequest { id: id.clone() }, key)).await.unwrap_err();
    let missing =
        bap.get_appointment(authed(ap::GetAppointmentRequest { id: unknown.clone() }, key)).await.unwrap_err();
    assert_eq!((foreign.message(), foreign.details()), (missing.message(), missing.details()));
    let foreign = bav.get_hold(authed(av::GetHoldRequest { id: hold.id.clone() }, key)).await.unwrap_err();
    let missing = bav.get_hold(authed(av::GetHoldRequest { id: unknown }, key)).await.unwrap_err();
    assert_eq!((foreign.message(), foreign.details()), (missing.message(), missing.details()));

    // B's lists hold none of A's rows; A is untouched.
    assert!(b.list(ap::ListAppointmentsRequest::default()).await.is_empty());
    assert!(
        b.list(ap::ListAppointmentsRequest { staff_ids: vec![a.staff().into()], ..Default::default() })
            .await
            .is_empty()
    );
    assert_eq!(a.get(&appointment.id).await, appointment);
    assert_eq!(a.get_hold(&hold.id).await.state, av::HoldState::Active as i32);
    // B's own staff is free at the times A booked: claims are per tenant.
    let b_slots = starts(&b.day_slots(b.service(), &[b.staff()], &day).await);
    assert_eq!(b_slots, expected_free(&day, 45, 0, 0, &[]));
    b.book(day.at(10, 0), "0151 23456789").await;
}

on_both_databases!(another_tenant_sees_none_of_the_bookings,);
