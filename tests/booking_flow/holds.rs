//! Holds: only the holder books or releases one, expiry, extension, release,
//! SLOT_TAKEN with alternatives, time to live and idempotency.

use super::*;

async fn only_the_holder_can_book_or_release_a_hold(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Owner").await;
    let ten = BookingDay::berlin().at(10, 0);
    let hold = s.hold(s.service(), s.staff(), ten, "call-1").await;
    expect_reason(
        s.try_create(s.booking_from_hold(&hold.id, "call-2", "0151 23456789")).await,
        Code::PermissionDenied,
        "HOLD_NOT_OWNED",
    );
    let release = av::ReleaseHoldRequest { id: hold.id.clone(), hold_key: "call-2".into() };
    expect_reason(s.av().release_hold(authed(release, s.agent())).await, Code::PermissionDenied, "HOLD_NOT_OWNED");
    let extend = av::ExtendHoldRequest { id: hold.id.clone(), hold_key: "call-2".into(), ttl: None };
    expect_reason(s.av().extend_hold(authed(extend, s.agent())).await, Code::PermissionDenied, "HOLD_NOT_OWNED");
    assert_eq!(s.get_hold(&hold.id).await.state, av::HoldState::Active as i32, "the hold is untouched");
    // An explicit booking by anyone else is refused too.
    expect_reason(
        s.try_create(s.explicit(s.service(), s.staff(), ten, "0151 99999999")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    // The holder books.
    let booked = s.create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await.appointment.unwrap();
    assert_eq!(secs(&booked.start_time), ten);
    // A converted hold cannot be booked again, not even by its holder.
    expect_reason(
        s.try_create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await,
        Code::FailedPrecondition,
        "HOLD_EXPIRED",
    );
    let active = s.list(ap::ListAppointmentsRequest { staff_ids: vec![s.staff().into()], ..Default::default() }).await;
    assert_eq!(ids(&active), vec![booked.id]);
}

async fn an_expired_hold_frees_its_slot_and_cannot_be_booked(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Expiry").await;
    let day = BookingDay::berlin();
    let ten = day.at(10, 0);
    // Three seconds: long enough that a loaded machine still lists slots
    // before the hold expires.
    let request = av::HoldSlotRequest {
        ttl: Some(prost_types::Duration { seconds: 3, nanos: 0 }),
        ..s.hold_request(s.service(), s.staff(), ten, "call-1")
    };
    let hold = s.try_hold(request).await.expect("hold for 3 s").into_inner().hold.unwrap();
    assert_eq!(hold.state, av::HoldState::Active as i32);
    assert_eq!(elapsed(&hold.create_time, &hold.expire_time), 3.0);
    assert!(!starts(&s.day_slots(s.service(), &[s.staff()], &day).await).contains(&ten));

    tokio::time::sleep(Duration::from_millis(3500)).await;

    assert_eq!(s.get_hold(&hold.id).await.state, av::HoldState::Expired as i32);
    assert!(
        starts(&s.day_slots(s.service(), &[s.staff()], &day).await).contains(&ten),
        "an expired hold blocks nothing"
    );
    let extend = av::ExtendHoldRequest { id: hold.id.clone(), hold_key: "call-1".into(), ttl: None };
    expect_reason(s.av().extend_hold(authed(extend, s.agent())).await, Code::FailedPrecondition, "HOLD_EXPIRED");
    // Another caller takes the slot.
    let other = s.hold(s.service(), s.staff(), ten, "call-2").await;
    assert_eq!(other.state, av::HoldState::Active as i32);
    // The first caller's booking from its expired hold fails.
    expect_reason(
        s.try_create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await,
        Code::FailedPrecondition,
        "HOLD_EXPIRED",
    );
    // Releasing the expired hold succeeds, changes nothing, and does not free the new hold's time.
    let release = av::ReleaseHoldRequest { id: hold.id.clone(), hold_key: "call-1".into() };
    let released =
        s.av().release_hold(authed(release, s.agent())).await.expect("idempotent").into_inner().hold.unwrap();
    assert_eq!(released.state, av::HoldState::Expired as i32);
    assert!(!starts(&s.day_slots(s.service(), &[s.staff()], &day).await).contains(&ten), "call-2 still holds 10:00");
    let booked = s.create(s.booking_from_hold(&other.id, "call-2", "0151 23456789")).await.appointment.unwrap();
    assert_eq!(secs(&booked.start_time), ten);
}

async fn extending_a_hold_keeps_its_slot(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Extend").await;
    let day = BookingDay::berlin();
    let ten = day.at(10, 0);
    let request = av::HoldSlotRequest {
        ttl: Some(prost_types::Duration { seconds: 1, nanos: 0 }),
        ..s.hold_request(s.service(), s.staff(), ten, "call-1")
    };
    let hold = s.try_hold(request).await.expect("hold").into_inner().hold.unwrap();
    let extend = av::ExtendHoldRequest { id: hold.id.clone(), hold_key: "call-1".into(), ttl: Some(minutes(10)) };
    let extended = s.av().extend_hold(authed(extend, s.agent())).await.expect("extend").into_inner().hold.unwrap();
    assert!(elapsed(&hold.expire_time, &extended.expire_time) > 500.0, "expire_time moved to now + 10 min");
    let too_long = av::ExtendHoldRequest { id: hold.id.clone(), hold_key: "call-1".into(), ttl: Some(minutes(31)) };
    expect_reason(s.av().extend_hold(authed(too_long, s.agent())).await, Code::InvalidArgument, "INVALID_ARGUMENT");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(s.get_hold(&hold.id).await.state, av::HoldState::Active as i32, "the extended hold is alive");
    assert!(!starts(&s.day_slots(s.service(), &[s.staff()], &day).await).contains(&ten));
    expect_reason(
        s.try_hold(s.hold_request(s.service(), s.staff(), ten, "call-2")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    let booked = s.create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await.appointment.unwrap();
    assert_eq!(secs(&booked.start_time), ten);
}

async fn a_live_hold_is_booked_without_rechecking_the_hours(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Hours Changed").await;
    let day = BookingDay::berlin();
    let hold = s.hold(s.service(), s.staff(), day.at(10, 0), "call-1").await;
    // The staff member's hours change to afternoons only while the caller is on the line.
    s.set_hours(server, &s.fx.staff.id, 14 * 60, 20 * 60).await;
    expect_reason(
        s.try_create(s.explicit(s.service(), s.staff(), day.at(11, 0), "0151 23456789")).await,
        Code::FailedPrecondition,
        "FAILED_PRECONDITION",
    );
    let booked = s.create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await.appointment.unwrap();
    assert_eq!(secs(&booked.start_time), day.at(10, 0), "the hold is honoured");
}

async fn releasing_a_hold_frees_its_slot_and_is_idempotent(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Release").await;
    let day = BookingDay::berlin();
    let ten = day.at(10, 0);
    let hold = s.hold(s.service(), s.staff(), ten, "call-1").await;
    let release = av::ReleaseHoldRequest { id: hold.id.clone(), hold_key: "call-1".into() };
    let first =
        s.av().release_hold(authed(release.clone(), s.agent())).await.expect("release").into_inner().hold.unwrap();
    assert_eq!(first.state, av::HoldState::Released as i32);
    assert!(starts(&s.day_slots(s.service(), &[s.staff()], &day).await).contains(&ten));
    let again = s.av().release_hold(authed(release, s.agent())).await.expect("again").into_inner().hold.unwrap();
    assert_eq!(again.state, av::HoldState::Released as i32);
    assert_eq!(s.get_hold(&hold.id).await.state, av::HoldState::Released as i32);
    expect_reason(
        s.try_create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await,
        Code::FailedPrecondition,
        "HOLD_EXPIRED",
    );
    // Someone else can hold and book it now.
    let other = s.hold(s.service(), s.staff(), ten, "call-2").await;
    let booked = s.create(s.booking_from_hold(&other.id, "call-2", "0151 23456789")).await.appointment.unwrap();
    // Releasing a converted hold succeeds and the appointment stays booked.
    let release = av::ReleaseHoldRequest { id: other.id.clone(), hold_key: "call-2".into() };
    let converted =
        s.av().release_hold(authed(release, s.agent())).await.expect("release converted").into_inner().hold.unwrap();
    assert_eq!(converted.state, av::HoldState::Converted as i32);
    assert_eq!(converted.appointment_id, booked.id);
    assert_eq!(s.get(&booked.id).await.status, ap::AppointmentStatus::Confirmed as i32);
    assert!(!starts(&s.day_slots(s.service(), &[s.staff()], &day).await).contains(&ten));
}

async fn holding_a_held_slot_is_slot_taken_with_alternatives(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Taken").await;
    let second = s.staff_with_hours(server, "Ben", OPEN_HOURS).await;
    let day = BookingDay::berlin();
    let ten = day.at(10, 0);
    s.hold(s.service(), s.staff(), ten, "call-1").await;
    let status = expect_reason(
        s.try_hold(s.hold_request(s.service(), s.staff(), ten, "call-2")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    let meta = error_metadata(&status);
    // The alternatives are the first slots ListAvailableSlots returns from the
    // requested start on, any staff member.
    let request = s.slots_request(s.service(), &[], ten, ten + 7 * 24 * HOUR);
    let offered = s.av().list_available_slots(authed(request, s.agent())).await.unwrap().into_inner().slots;
    assert_eq!(offered[0].staff_id, second.id, "Ben is free at 10:00");
    for n in 1..=3 {
        let start =
            meta.get(&format!("alternative_{n}_start_time")).unwrap_or_else(|| panic!("alternative {n}: {meta:?}"));
        let staff = &meta[&format!("alternative_{n}_staff_id")];
        let local_start = &meta[&format!("alternative_{n}_local_start_time")];
        let slot = &offered[n - 1];
        let parsed: jiff::Timestamp = start.parse().expect("RFC 3339");
        assert_eq!(parsed.as_second(), secs(&slot.start_time), "alternative {n}");
        assert_eq!(staff, &slot.staff_id, "alternative {n}");
        assert_eq!(local_start, &slot.local_start_time, "alternative {n}");
    }
    assert!(!meta.contains_key("alternative_4_start_time"), "at most three");
    // The same for a booking of the held time.
    let status = expect_reason(
        s.try_create(s.explicit(s.service(), s.staff(), ten, "0151 23456789")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    assert!(error_metadata(&status).contains_key("alternative_1_start_time"));
    assert!(error_metadata(&status).contains_key("alternative_1_staff_id"));
    assert!(error_metadata(&status).contains_key("alternative_1_local_start_time"));
}

async fn hold_ttl_must_be_positive_and_at_most_30_minutes(server: &common::TestServer) {
    let s = Salon::open(server, "Salon TTL").await;
    let ten = BookingDay::berlin().at(10, 0);
    for seconds in [30 * 60 + 1, 0, -5] {
        let request = av::HoldSlotRequest {
            ttl: Some(prost_types::Duration { seconds, nanos: 0 }),
            ..s.hold_request(s.service(), s.staff(), ten, "call-1")
        };
        let status = expect_reason(s.try_hold(request).await, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert_eq!(violated_fields(&status), vec!["ttl"], "ttl {seconds} s");
    }
    let request =
        av::HoldSlotRequest { ttl: Some(minutes(30)), ..s.hold_request(s.service(), s.staff(), ten, "call-1") };
    let hold = s.try_hold(request).await.expect("30 minutes is allowed").into_inner().hold.unwrap();
    assert_eq!(elapsed(&hold.create_time, &hold.expire_time), (30 * MIN) as f64);
    let default = s.hold(s.service(), s.staff(), ten + 2 * HOUR, "call-2").await;
    assert_eq!(elapsed(&default.create_time, &default.expire_time), (5 * MIN) as f64, "unset ttl means 5 minutes");
    let missing_key = s.hold_request(s.service(), s.staff(), ten + 4 * HOUR, "");
    let status = expect_code(s.try_hold(missing_key).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["hold_key"]);
}

async fn hold_slot_is_idempotent_by_request_id(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Idem Hold").await;
    let ten = BookingDay::berlin().at(10, 0);
    let request = s.hold_request(s.service(), s.staff(), ten, "call-1");
    let first = s.try_hold(request.clone()).await.expect("hold").into_inner();
    let second = s.try_hold(request.clone()).await.expect("retry").into_inner();
    assert_eq!(first, second, "a retry returns the first response");
    let changed = av::HoldSlotRequest { hold_key: "call-2".into(), ..request.clone() };
    expect_reason(s.try_hold(changed).await, Code::InvalidArgument, "REQUEST_ID_REUSED");
    let moved = av::HoldSlotRequest { start_time: Some(pts(ten + HOUR)), ..request };
    expect_reason(s.try_hold(moved).await, Code::InvalidArgument, "REQUEST_ID_REUSED");
}

async fn holding_an_unbookable_time_fails_precondition(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Hold Rules").await;
    let day = BookingDay::berlin();
    for (start, what) in [
        (day.at(10, 5), "off the 15-minute grid"),
        (day.at(7, 0), "before working hours"),
        (day.at(19, 30), "ending after working hours"),
        (BookingDay::days_from_today(BERLIN, 70).at(10, 0), "beyond the 60-day horizon"),
    ] {
        let result = s.try_hold(s.hold_request(s.service(), s.staff(), start, "call-1")).await;
        let status = expect_code(result, Code::FailedPrecondition);
        assert_eq!(reason(&status), "FAILED_PRECONDITION", "{what}");
    }
    let beard = s.unoffered_service().await;
    let status = expect_code(
        s.try_hold(s.hold_request(&beard.id, s.staff(), day.at(10, 0), "call-1")).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&status), "FAILED_PRECONDITION", "a service the staff member does not offer");
}

/// The holder's retries racing each other (100 at once, each its own
/// request id): one books, every other gets HOLD_EXPIRED pointing at the
/// appointment made from the hold, never SLOT_TAKEN with alternatives (a
/// voice agent would offer other times for a booking that went through).
async fn racing_bookings_of_one_hold_book_once_and_point_at_it(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Wiederholung").await;
    let hold = s.hold(s.service(), s.staff(), BookingDay::berlin().at(10, 0), "call-race").await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let request = s.booking_from_hold(&hold.id, "call-race", "0151 23456789");
        let mut client = s.ap();
        let agent = s.agent().to_owned();
        calls.spawn(async move { client.create_appointment(authed(request, &agent)).await });
    }
    let mut booked = Vec::new();
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    let mut pointers = Vec::new();
    while let Some(result) = calls.join_next().await {
        match result.expect("task") {
            Ok(response) => booked.push(response.into_inner().appointment.expect("appointment").id),
            Err(status) => {
                *answers.entry(format!("{:?}/{}", status.code(), reason(&status))).or_default() += 1;
                pointers.push(error_metadata(&status).get("appointment_id").cloned());
            }
        }
    }
    assert_eq!(booked.len(), 1, "exactly one booking; the others: {answers:?}");
    assert_eq!(
        answers.keys().collect::<Vec<_>>(),
        ["FailedPrecondition/HOLD_EXPIRED"],
        "every loser hears the hold was used: {answers:?}"
    );
    assert!(
        pointers.iter().all(|p| p.as_deref() == Some(booked[0].as_str())),
        "each points at {}: {pointers:?}",
        booked[0]
    );
    assert_eq!(s.list(ap::ListAppointmentsRequest::default()).await.len(), 1);
}

// The default pool: the race needs as many concurrent transactions as a
// production server runs.
on_both_databases_with!(|c| c.database_max_connections = 16; racing_bookings_of_one_hold_book_once_and_point_at_it);

on_both_databases!(
    only_the_holder_can_book_or_release_a_hold,
    an_expired_hold_frees_its_slot_and_cannot_be_booked,
    releasing_a_hold_frees_its_slot_and_is_idempotent,
    extending_a_hold_keeps_its_slot,
    a_live_hold_is_booked_without_rechecking_the_hours,
    holding_a_held_slot_is_slot_taken_with_alternatives,
    hold_ttl_must_be_positive_and_at_most_30_minutes,
    hold_slot_is_idempotent_by_request_id,
    holding_an_unbookable_time_fails_precondition,
);
