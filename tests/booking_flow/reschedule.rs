//! Rescheduling: onto overlapping own time, onto a hold, and with a hold and
//! another start time.

use super::*;

async fn rescheduling_is_not_blocked_by_the_appointments_own_time(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Shift").await;
    let day = BookingDay::berlin();
    let a = s.book(day.at(10, 0), "0151 23456789").await;
    let moved = s
        .reschedule(&a.id, day.at(10, 15), "")
        .await
        .expect("overlapping its own time")
        .into_inner()
        .appointment
        .unwrap();
    assert_eq!(secs(&moved.start_time), day.at(10, 15));
    let free = starts(&s.day_slots(s.service(), &[s.staff()], &day).await);
    assert_eq!(free, expected_free(&day, 45, 0, 0, &[(day.at(10, 15), day.at(11, 0))]));
    // Onto someone else's time: SLOT_TAKEN, nothing changes.
    let b = s.book(day.at(12, 0), "0151 76543210").await;
    let status = expect_reason(s.reschedule(&a.id, day.at(12, 30), "").await, Code::AlreadyExists, "SLOT_TAKEN");
    assert!(error_metadata(&status).contains_key("alternative_1_start_time"));
    assert_eq!(s.get(&a.id).await, moved);
    assert_eq!(s.get(&b.id).await, b);
    // Onto unbookable time: FAILED_PRECONDITION.
    expect_reason(s.reschedule(&a.id, day.at(21, 0), "").await, Code::FailedPrecondition, "FAILED_PRECONDITION");
}

async fn rescheduling_with_a_hold_moves_onto_the_held_slot(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Move Hold").await;
    let day = BookingDay::berlin();
    let a = s.book(day.at(10, 0), "0151 23456789").await;
    let hold = s.hold(s.service(), s.staff(), day.at(15, 0), "call-5").await;
    let request = ap::RescheduleAppointmentRequest {
        id: a.id.clone(),
        request_id: request_id(),
        start_time: None,
        staff_id: String::new(),
        hold: Some(ap::HoldReference { hold_id: hold.id.clone(), hold_key: "call-5".into() }),
        etag: String::new(),
    };
    let wrong_key = ap::RescheduleAppointmentRequest {
        request_id: request_id(),
        hold: Some(ap::HoldReference { hold_id: hold.id.clone(), hold_key: "call-6".into() }),
        ..request.clone()
    };
    expect_reason(
        s.ap().reschedule_appointment(authed(wrong_key, s.agent())).await,
        Code::PermissionDenied,
        "HOLD_NOT_OWNED",
    );
    let moved = s
        .ap()
        .reschedule_appointment(authed(request, s.agent()))
        .await
        .expect("reschedule onto hold")
        .into_inner()
        .appointment
        .unwrap();
    assert_eq!(secs(&moved.start_time), day.at(15, 0));
    let converted = s.get_hold(&hold.id).await;
    assert_eq!(converted.state, av::HoldState::Converted as i32);
    assert_eq!(converted.appointment_id, a.id);
    let free = starts(&s.day_slots(s.service(), &[s.staff()], &day).await);
    assert_eq!(free, expected_free(&day, 45, 0, 0, &[(day.at(15, 0), day.at(15, 45))]));
}

async fn rescheduling_with_a_hold_and_another_start_time_is_invalid(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Move Mismatch").await;
    let day = BookingDay::berlin();
    let a = s.book(day.at(10, 0), "0151 23456789").await;
    let hold = s.hold(s.service(), s.staff(), day.at(15, 0), "call-5").await;
    let request = ap::RescheduleAppointmentRequest {
        id: a.id.clone(),
        request_id: request_id(),
        start_time: Some(pts(day.at(17, 0))),
        staff_id: String::new(),
        hold: Some(ap::HoldReference { hold_id: hold.id.clone(), hold_key: "call-5".into() }),
        etag: String::new(),
    };
    let result = s.ap().reschedule_appointment(authed(request, s.agent())).await;
    // The contract: "INVALID_ARGUMENT (INVALID_ARGUMENT) if start_time ... differs from the hold's".
    assert_eq!(
        result.as_ref().err().map(|e| e.code()),
        Some(Code::InvalidArgument),
        "RescheduleAppointment with a hold and a start_time that differs from the hold's is \
         INVALID_ARGUMENT, not a move to the hold's time: {result:?}"
    );
    assert_eq!(s.get(&a.id).await, a, "nothing changes on error");
}

on_both_databases!(
    rescheduling_is_not_blocked_by_the_appointments_own_time,
    rescheduling_with_a_hold_moves_onto_the_held_slot,
    rescheduling_with_a_hold_and_another_start_time_is_invalid,
);
