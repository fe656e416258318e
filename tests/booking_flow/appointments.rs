//! Appointments: what may be booked, validation, the status state machine,
//! etags, idempotency, buffers and listing by time range.

use super::*;

async fn explicit_slots_must_be_bookable(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Rules").await;
    let day = BookingDay::berlin();
    for (start, what, rule) in [
        (day.at(10, 5), "off the 15-minute grid", "slot_grid"),
        (day.at(10, 0) + 30, "not on a whole minute", "whole_minute"),
        (day.at(7, 45), "before working hours", "working_hours"),
        (day.at(19, 30), "ending after working hours", "working_hours"),
        (day.at(21, 0), "after working hours", "working_hours"),
        (BookingDay::days_from_today(BERLIN, 70).at(10, 0), "beyond the 60-day horizon", "booking_horizon"),
    ] {
        let status = expect_code(
            s.try_create(s.explicit(s.service(), s.staff(), start, "0151 23456789")).await,
            Code::FailedPrecondition,
        );
        assert_eq!(reason(&status), "FAILED_PRECONDITION", "{what}");
        // The answer says which rule the start breaks.
        assert_eq!(error_metadata(&status).get("rule").map(String::as_str), Some(rule), "{what}: {status:?}");
        use tonic_types::StatusExt;
        let failure = status.get_error_details().precondition_failure().cloned().expect("PreconditionFailure");
        assert_eq!(failure.violations[0].r#type, rule, "{what}");
        assert_eq!(failure.violations[0].subject, "start_time", "{what}");
    }
    let beard = s.unoffered_service().await;
    let status = expect_code(
        s.try_create(s.explicit(&beard.id, s.staff(), day.at(10, 0), "0151 23456789")).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&status), "FAILED_PRECONDITION");
    // Unknown references are NOT_FOUND.
    let unknown = Uuid::now_v7().to_string();
    expect_reason(
        s.try_create(s.explicit(s.service(), &unknown, day.at(10, 0), "0151 23456789")).await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
    let unknown_hold = s.booking_from_hold(&unknown, "call-1", "0151 23456789");
    expect_reason(s.try_create(unknown_hold).await, Code::NotFound, "RESOURCE_NOT_FOUND");
    assert!(s.list(ap::ListAppointmentsRequest::default()).await.is_empty(), "nothing was booked");
}

async fn create_appointment_validates_source_status_and_customer(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Validate").await;
    let ten = BookingDay::berlin().at(10, 0);
    let calcom = ap::CreateAppointmentRequest {
        source: ap::AppointmentSource::Calcom as i32,
        ..s.explicit(s.service(), s.staff(), ten, "0151 23456789")
    };
    let status = expect_reason(s.try_create(calcom).await, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(violated_fields(&status), vec!["source"]);
    for initial in [ap::AppointmentStatus::Cancelled, ap::AppointmentStatus::Completed, ap::AppointmentStatus::NoShow] {
        let request = ap::CreateAppointmentRequest {
            initial_status: initial as i32,
            ..s.explicit(s.service(), s.staff(), ten, "0151 23456789")
        };
        let status = expect_code(s.try_create(request).await, Code::InvalidArgument);
        assert_eq!(violated_fields(&status), vec!["initial_status"]);
    }
    let bad_phone = s.explicit(s.service(), s.staff(), ten, "12");
    expect_code(s.try_create(bad_phone).await, Code::InvalidArgument);
    let no_customer = ap::CreateAppointmentRequest { customer: None, ..s.explicit(s.service(), s.staff(), ten, "x") };
    expect_code(s.try_create(no_customer).await, Code::InvalidArgument);
    let no_slot =
        ap::CreateAppointmentRequest { slot: None, ..s.explicit(s.service(), s.staff(), ten, "0151 23456789") };
    expect_code(s.try_create(no_slot).await, Code::InvalidArgument);
    assert!(s.list(ap::ListAppointmentsRequest::default()).await.is_empty(), "nothing was booked");
    // The slot is still free.
    s.book(ten, "0151 23456789").await;
}

async fn appointment_status_follows_the_state_machine(server: &common::TestServer) {
    let s = Salon::open(server, "Salon States").await;
    let day = BookingDay::berlin();
    let pending = |start: i64| ap::CreateAppointmentRequest {
        initial_status: ap::AppointmentStatus::Pending as i32,
        ..s.explicit(s.service(), s.staff(), start, "0151 23456789")
    };
    let a = s.create(pending(day.at(10, 0))).await.appointment.unwrap();
    assert_eq!(a.status, ap::AppointmentStatus::Pending as i32);
    let confirm = |id: &str, etag: &str| ap::ConfirmAppointmentRequest { id: id.into(), etag: etag.into() };

    // PENDING -> CONFIRMED, then confirming again changes nothing, whatever the etag.
    let confirmed = s
        .ap()
        .confirm_appointment(authed(confirm(&a.id, &a.etag), s.agent()))
        .await
        .expect("confirm")
        .into_inner()
        .appointment
        .unwrap();
    assert_eq!(confirmed.status, ap::AppointmentStatus::Confirmed as i32);
    assert_ne!(confirmed.etag, a.etag);
    let again = s
        .ap()
        .confirm_appointment(authed(confirm(&a.id, &a.etag), s.agent()))
        .await
        .expect("confirm twice")
        .into_inner()
        .appointment
        .unwrap();
    assert_eq!(again, confirmed, "a second confirm changes nothing");

    // Before the start, no-show and completion are refused.
    let no_show = ap::MarkNoShowRequest { id: a.id.clone(), etag: String::new() };
    expect_reason(
        s.ap().mark_no_show(authed(no_show, s.agent())).await,
        Code::FailedPrecondition,
        "FAILED_PRECONDITION",
    );
    let complete = ap::CompleteAppointmentRequest { id: a.id.clone(), etag: String::new() };
    expect_reason(
        s.ap().complete_appointment(authed(complete, s.agent())).await,
        Code::FailedPrecondition,
        "FAILED_PRECONDITION",
    );
    // From PENDING they are illegal transitions.
    let p = s.create(pending(day.at(12, 0))).await.appointment.unwrap();
    let no_show = ap::MarkNoShowRequest { id: p.id.clone(), etag: String::new() };
    expect_reason(
        s.ap().mark_no_show(authed(no_show, s.agent())).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    let complete = ap::CompleteAppointmentRequest { id: p.id.clone(), etag: String::new() };
    expect_reason(
        s.ap().complete_appointment(authed(complete, s.agent())).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    assert_eq!(s.get(&a.id).await, confirmed, "refused changes change nothing");

    // CONFIRMED -> CANCELLED; a retry with the same request_id returns the same answer.
    let cancel = ap::CancelAppointmentRequest {
        id: a.id.clone(),
        request_id: request_id(),
        reason: "sick".into(),
        etag: String::new(),
    };
    let cancelled = s.ap().cancel_appointment(authed(cancel.clone(), s.agent())).await.expect("cancel").into_inner();
    assert_eq!(cancelled.appointment.as_ref().unwrap().status, ap::AppointmentStatus::Cancelled as i32);
    let retried =
        s.ap().cancel_appointment(authed(cancel.clone(), s.agent())).await.expect("retried cancel").into_inner();
    assert_eq!(retried, cancelled);
    let other_reason = ap::CancelAppointmentRequest { reason: "other".into(), ..cancel };
    expect_reason(
        s.ap().cancel_appointment(authed(other_reason, s.agent())).await,
        Code::InvalidArgument,
        "REQUEST_ID_REUSED",
    );

    // CANCELLED is terminal.
    expect_reason(
        s.ap().confirm_appointment(authed(confirm(&a.id, ""), s.agent())).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    expect_reason(s.cancel(&a.id, "again").await, Code::FailedPrecondition, "ILLEGAL_STATE_TRANSITION");
    expect_reason(s.reschedule(&a.id, day.at(15, 0), "").await, Code::FailedPrecondition, "ILLEGAL_STATE_TRANSITION");
    let complete = ap::CompleteAppointmentRequest { id: a.id.clone(), etag: String::new() };
    expect_reason(
        s.ap().complete_appointment(authed(complete, s.agent())).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    assert_eq!(s.get(&a.id).await, cancelled.appointment.unwrap());

    // PENDING -> CANCELLED is allowed too.
    let p = s.cancel(&p.id, "").await.expect("cancel pending").into_inner().appointment.unwrap();
    assert_eq!(p.status, ap::AppointmentStatus::Cancelled as i32);
}

async fn stale_etags_are_refused(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Etag").await;
    let day = BookingDay::berlin();
    let a = s.book(day.at(10, 0), "0151 23456789").await;
    let p = s
        .create(ap::CreateAppointmentRequest {
            initial_status: ap::AppointmentStatus::Pending as i32,
            ..s.explicit(s.service(), s.staff(), day.at(12, 0), "0151 23456789")
        })
        .await
        .appointment
        .unwrap();
    let update = |id: &str, etag: &str, notes: &str| ap::UpdateAppointmentRequest {
        appointment: Some(ap::Appointment {
            id: id.into(),
            etag: etag.into(),
            notes: notes.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["notes".into()] }),
    };
    let a2 = s
        .ap()
        .update_appointment(authed(update(&a.id, &a.etag, "VIP"), s.agent()))
        .await
        .expect("update")
        .into_inner()
        .appointment
        .unwrap();
    assert_ne!(a2.etag, a.etag);
    assert_eq!(a2.notes, "VIP");
    let p2 = s
        .ap()
        .update_appointment(authed(update(&p.id, "", "new"), s.agent()))
        .await
        .expect("update")
        .into_inner()
        .appointment
        .unwrap();

    expect_reason(
        s.ap().update_appointment(authed(update(&a.id, &a.etag, "x"), s.agent())).await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    let cancel = ap::CancelAppointmentRequest {
        id: a.id.clone(),
        request_id: request_id(),
        reason: String::new(),
        etag: a.etag.clone(),
    };
    expect_reason(s.ap().cancel_appointment(authed(cancel, s.agent())).await, Code::Aborted, "ETAG_MISMATCH");
    expect_reason(s.reschedule(&a.id, day.at(15, 0), &a.etag).await, Code::Aborted, "ETAG_MISMATCH");
    let confirm = ap::ConfirmAppointmentRequest { id: p.id.clone(), etag: p.etag.clone() };
    expect_reason(s.ap().confirm_appointment(authed(confirm, s.agent())).await, Code::Aborted, "ETAG_MISMATCH");
    assert_eq!(s.get(&a.id).await, a2, "nothing changed");
    assert_eq!(s.get(&p.id).await, p2, "nothing changed");
    // The current etag works.
    let moved =
        s.reschedule(&a.id, day.at(15, 0), &a2.etag).await.expect("current etag").into_inner().appointment.unwrap();
    assert_eq!(secs(&moved.start_time), day.at(15, 0));
    let confirm = ap::ConfirmAppointmentRequest { id: p.id.clone(), etag: p2.etag.clone() };
    s.ap().confirm_appointment(authed(confirm, s.agent())).await.expect("current etag");
}

async fn create_appointment_is_idempotent_by_request_id(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Idem").await;
    let day = BookingDay::berlin();
    let request = s.explicit(s.service(), s.staff(), day.at(10, 0), "0151 23456789");
    let first = s.create(request.clone()).await;
    let second = s.create(request.clone()).await;
    assert_eq!(first, second, "a retry returns the first response");
    let listed = s.list(ap::ListAppointmentsRequest { staff_ids: vec![s.staff().into()], ..Default::default() }).await;
    assert_eq!(ids(&listed), vec![first.appointment.clone().unwrap().id], "one appointment");
    let changed = ap::CreateAppointmentRequest { notes: "different".into(), ..request.clone() };
    expect_reason(s.try_create(changed).await, Code::InvalidArgument, "REQUEST_ID_REUSED");
    let elsewhere =
        ap::CreateAppointmentRequest { slot: s.explicit(s.service(), s.staff(), day.at(12, 0), "").slot, ..request };
    expect_reason(s.try_create(elsewhere).await, Code::InvalidArgument, "REQUEST_ID_REUSED");

    // A booking from a hold, retried after it converted the hold, returns the same appointment.
    let hold = s.hold(s.service(), s.staff(), day.at(14, 0), "call-7").await;
    let from_hold = s.booking_from_hold(&hold.id, "call-7", "0151 23456789");
    let booked = s.create(from_hold.clone()).await;
    assert_eq!(s.create(from_hold).await, booked);
    let listed = s.list(ap::ListAppointmentsRequest { staff_ids: vec![s.staff().into()], ..Default::default() }).await;
    assert_eq!(listed.len(), 2);
}

async fn buffers_block_neighbouring_slots_exactly(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Buffers").await;
    let day = BookingDay::berlin();
    let color = s
        .add_service(tn::Service {
            display_name: "Colour".into(),
            duration: Some(minutes(45)),
            buffer_before: Some(minutes(15)),
            buffer_after: Some(minutes(10)),
            ..Default::default()
        })
        .await;
    let also_before = s
        .add_service(tn::Service {
            display_name: "Consultation".into(),
            duration: Some(minutes(30)),
            buffer_before: Some(minutes(20)),
            buffer_after: Some(minutes(5)),
            ..Default::default()
        })
        .await;
    let ten = day.at(10, 0);
    let booked = s.create(s.explicit(&color.id, s.staff(), ten, "0151 23456789")).await.appointment.unwrap();
    assert_eq!(secs(&booked.end_time), ten + 45 * MIN, "buffers are not part of the appointment");
    // B blocks [B.start - B.before - new.after, B.end + B.after + new.before):
    // its own window is [09:45, 10:55).
    let b = (ten - 15 * MIN, ten + 55 * MIN);
    let listed = starts(&s.day_slots(&color.id, &[s.staff()], &day).await);
    assert_eq!(listed, expected_free(&day, 45, 15, 10, &[b]), "Colour (15 before, 10 after)");
    assert!(listed.contains(&day.at(8, 45)) && !listed.contains(&day.at(9, 0)));
    assert!(!listed.contains(&day.at(11, 0)) && listed.contains(&day.at(11, 15)));
    assert!(listed.contains(&day.at(8, 0)), "buffers may reach outside working hours");
    let listed = starts(&s.day_slots(s.service(), &[s.staff()], &day).await);
    assert_eq!(listed, expected_free(&day, 45, 0, 0, &[b]), "Haircut (no buffers)");
    assert!(listed.contains(&day.at(9, 0)) && !listed.contains(&day.at(9, 15)));
    assert!(!listed.contains(&day.at(10, 45)) && listed.contains(&day.at(11, 0)));
    let listed = starts(&s.day_slots(&also_before.id, &[s.staff()], &day).await);
    assert_eq!(listed, expected_free(&day, 30, 20, 5, &[b]), "Consultation (20 before, 5 after)");

    // Booking agrees with listing at the edges.
    expect_reason(
        s.try_create(s.explicit(&color.id, s.staff(), day.at(9, 0), "0151 11111111")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    expect_reason(
        s.try_create(s.explicit(&color.id, s.staff(), day.at(11, 0), "0151 11111111")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    expect_reason(
        s.try_create(s.explicit(s.service(), s.staff(), day.at(9, 15), "0151 11111111")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    expect_reason(
        s.try_create(s.explicit(s.service(), s.staff(), day.at(10, 45), "0151 11111111")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    s.create(s.explicit(s.service(), s.staff(), day.at(9, 0), "0151 11111111")).await;
    s.create(s.explicit(&color.id, s.staff(), day.at(11, 15), "0151 11111111")).await;
}

async fn listing_appointments_by_time_range_includes_overlapping_ones(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Overlap").await;
    let day = BookingDay::berlin();
    let ten = day.at(10, 0);
    let a = s.book(ten, "0151 23456789").await;
    let within =
        |from: i64, to: i64| ap::ListAppointmentsRequest { time_range: time_range(from, to), ..Default::default() };
    assert_eq!(ids(&s.list(within(ten, ten + MIN)).await), vec![a.id.clone()]);
    assert!(s.list(within(ten - HOUR, ten)).await.is_empty(), "ends before the appointment starts");
    assert!(s.list(within(ten + 45 * MIN, ten + HOUR)).await.is_empty(), "starts when the appointment ended");
    // The contract: "Only appointments overlapping this range".
    let listed = s.list(within(ten + 15 * MIN, ten + 30 * MIN)).await;
    assert_eq!(
        ids(&listed),
        vec![a.id.clone()],
        "ListAppointments.time_range selects appointments overlapping the range, not only those starting in it"
    );
}

on_both_databases!(
    explicit_slots_must_be_bookable,
    create_appointment_validates_source_status_and_customer,
    appointment_status_follows_the_state_machine,
    stale_etags_are_refused,
    create_appointment_is_idempotent_by_request_id,
    buffers_block_neighbouring_slots_exactly,
    listing_appointments_by_time_range_includes_overlapping_ones,
);
