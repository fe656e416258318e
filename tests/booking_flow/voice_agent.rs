//! The whole call of a voice agent: find a slot, hold it, book it, reschedule
//! and cancel.

use super::*;

async fn voice_agent_finds_holds_books_reschedules_and_cancels(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Flow").await;
    let day = BookingDay::berlin();
    let (ten, two, four) = (day.at(10, 0), day.at(14, 0), day.at(16, 0));
    let staff = [s.staff()];

    // 1. The agent asks for free slots: 08:00-19:15 on the 15-minute grid.
    let before = s.day_slots(s.service(), &staff, &day).await;
    assert_eq!(starts(&before), expected_free(&day, 45, 0, 0, &[]));
    let slot = before.iter().find(|x| secs(&x.start_time) == ten).expect("10:00 is offered");
    assert_eq!(slot.staff_id, s.staff());
    assert_eq!(secs(&slot.end_time), ten + 45 * MIN);
    assert_eq!(slot.local_start_time, wall(&zone(BERLIN), ten));
    assert_eq!(slot.local_end_time, wall(&zone(BERLIN), ten + 45 * MIN));

    // 2. It holds 10:00 for the caller.
    let hold = s.hold(s.service(), s.staff(), ten, "call-1").await;
    assert_eq!(hold.state, av::HoldState::Active as i32);
    assert_eq!((secs(&hold.start_time), secs(&hold.end_time)), (ten, ten + 45 * MIN));
    assert_eq!(hold.hold_key, "call-1");
    assert_eq!((hold.staff_id.as_str(), hold.service_id.as_str()), (s.staff(), s.service()));
    assert!(hold.appointment_id.is_empty());

    // 3. The held time is no longer offered, and nothing overlapping it is.
    let during = s.day_slots(s.service(), &staff, &day).await;
    assert_eq!(starts(&during), expected_free(&day, 45, 0, 0, &[(ten, ten + 45 * MIN)]));
    assert!(!starts(&during).contains(&ten));

    // 4. It books from the hold for a new caller.
    let created = s
        .create(ap::CreateAppointmentRequest {
            source: ap::AppointmentSource::PhoneAgent as i32,
            call_id: "call-1".into(),
            notes: "first visit".into(),
            ..s.booking_from_hold(&hold.id, "call-1", "0151 23456789")
        })
        .await;
    let first = created.appointment.clone().unwrap();
    let customer = created.customer.clone().unwrap();
    assert_eq!(customer.phone_number, "+4915123456789", "the phone number is stored in E.164");
    assert_eq!(first.customer_id, customer.id);
    assert_eq!((secs(&first.start_time), secs(&first.end_time)), (ten, ten + 45 * MIN));
    assert_eq!(first.status, ap::AppointmentStatus::Confirmed as i32, "CONFIRMED unless asked otherwise");
    assert_eq!(first.source, ap::AppointmentSource::PhoneAgent as i32);
    assert_eq!(
        (first.branch_id.as_str(), first.service_id.as_str(), first.staff_id.as_str()),
        (s.branch(), s.service(), s.staff())
    );
    assert_eq!((first.call_id.as_str(), first.notes.as_str()), ("call-1", "first visit"));
    assert!(!first.etag.is_empty());
    let converted = s.get_hold(&hold.id).await;
    assert_eq!(converted.state, av::HoldState::Converted as i32);
    assert_eq!(converted.appointment_id, first.id);
    assert!(!starts(&s.day_slots(s.service(), &staff, &day).await).contains(&ten), "the appointment keeps 10:00");

    // 5. The same caller, typed internationally, is the same customer.
    let again = s.create(s.explicit(s.service(), s.staff(), two, "+49 151 23456789")).await;
    let second = again.appointment.unwrap();
    assert_eq!(again.customer.unwrap().id, customer.id, "one customer per normalized phone number");
    assert_eq!(second.customer_id, customer.id);
    assert_eq!(second.source, ap::AppointmentSource::PartnerApi as i32, "unset source means PARTNER_API");

    // 6. Reads.
    assert_eq!(s.get(&first.id).await, first);
    let by_staff =
        s.list(ap::ListAppointmentsRequest { staff_ids: vec![s.staff().into()], ..Default::default() }).await;
    assert_eq!(ids(&by_staff), vec![first.id.clone(), second.id.clone()], "ordered by start time");
    let by_customer =
        s.list(ap::ListAppointmentsRequest { customer_id: customer.id.clone(), ..Default::default() }).await;
    assert_eq!(ids(&by_customer), vec![first.id.clone(), second.id.clone()]);
    let confirmed = s
        .list(ap::ListAppointmentsRequest {
            statuses: vec![ap::AppointmentStatus::Confirmed as i32],
            ..Default::default()
        })
        .await;
    assert_eq!(ids(&confirmed), vec![first.id.clone(), second.id.clone()]);
    let pending = s
        .list(ap::ListAppointmentsRequest {
            statuses: vec![ap::AppointmentStatus::Pending as i32],
            ..Default::default()
        })
        .await;
    assert!(pending.is_empty());

    // 7. Reschedule 10:00 -> 16:00: the old time is free again, the new one taken.
    let moved = s.reschedule(&first.id, four, "").await.expect("reschedule").into_inner().appointment.unwrap();
    assert_eq!(moved.id, first.id);
    assert_eq!((secs(&moved.start_time), secs(&moved.end_time)), (four, four + 45 * MIN));
    assert_eq!(moved.status, ap::AppointmentStatus::Confirmed as i32);
    assert_ne!(moved.etag, first.etag);
    let after_move = starts(&s.day_slots(s.service(), &staff, &day).await);
    assert_eq!(after_move, expected_free(&day, 45, 0, 0, &[(two, two + 45 * MIN), (four, four + 45 * MIN)]));
    assert!(after_move.contains(&ten) && !after_move.contains(&four));
    assert_eq!(s.get(&first.id).await, moved);

    // 8. Cancel with a reason: 16:00 is free again.
    let cancelled = s.cancel(&first.id, "caller cancelled").await.expect("cancel").into_inner().appointment.unwrap();
    assert_eq!(cancelled.status, ap::AppointmentStatus::Cancelled as i32);
    assert_eq!(cancelled.cancel_reason, "caller cancelled");
    let after_cancel = starts(&s.day_slots(s.service(), &staff, &day).await);
    assert_eq!(after_cancel, expected_free(&day, 45, 0, 0, &[(two, two + 45 * MIN)]));
    assert!(after_cancel.contains(&four));
    let cancelled_list = s
        .list(ap::ListAppointmentsRequest {
            statuses: vec![ap::AppointmentStatus::Cancelled as i32],
            ..Default::default()
        })
        .await;
    assert_eq!(ids(&cancelled_list), vec![first.id.clone()]);
    let active = s
        .list(ap::ListAppointmentsRequest {
            staff_ids: vec![s.staff().into()],
            statuses: vec![ap::AppointmentStatus::Pending as i32, ap::AppointmentStatus::Confirmed as i32],
            ..Default::default()
        })
        .await;
    assert_eq!(ids(&active), vec![second.id.clone()]);
}

on_both_databases!(voice_agent_finds_holds_books_reschedules_and_cancels,);
