//! Cal.com bookings mirrored as appointments: they block and free slots,
//! are never double booked, and another tenant's endpoint cannot reach them.

use super::*;

async fn calcom_bookings_block_slots_and_cancellations_free_them(server: &TestServer) {
    let salon = Salon::open(server, "Salon Cal").await;
    salon.give_staff_email("Anna@Salon.example").await;
    let fx = &salon.fx;
    let calcom = endpoint(server, fx, wh::InboundProvider::Calcom, CALCOM_SECRET).await;
    let day = BookingDay::berlin();
    let ten = day.at(10, 0);
    assert!(salon.free_starts(salon.staff(), &day).await.contains(&ten));

    let created = bytes(&calcom_booking("BOOKING_CREATED", "uid_1", ten, 45, "anna@salon.EXAMPLE", Some(CALLER)));
    // The same delivery several times at once (a retry racing the first): one effect.
    let headers = calcom_headers(CALCOM_SECRET, &created);
    let answers = futures::future::join_all((0..5).map(|_| post(server, &calcom.path, &headers, &created))).await;
    assert!(answers.iter().all(|a| a.status == 200), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    assert!(!salon.free_starts(salon.staff(), &day).await.contains(&ten), "the Cal.com booking blocks the slot");
    // Cal.com retries the same delivery later: nothing more.
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &created), &created).await.status, 200);

    let mirrored = appointments(server, fx).await;
    assert_eq!(mirrored.len(), 1);
    let appointment = &mirrored[0];
    assert_eq!(appointment.source, ap::AppointmentSource::Calcom as i32);
    assert_eq!(appointment.external_booking_uid, "uid_1");
    assert_eq!(appointment.staff_id, fx.staff.id);
    assert_eq!(appointment.service_id, fx.service.id);
    assert_eq!(appointment.start_time.as_ref().unwrap().seconds, ten);
    let events = inbox(server, fx).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].status, wh::InboundEventStatus::Processed as i32);
    assert_eq!(events[0].appointment_id, appointment.id);
    assert_eq!(events[0].customer_id, appointment.customer_id);

    // Rescheduled to 14:00: 10:00 is free again, 14:00 taken.
    let two = day.at(14, 0);
    let mut moved = calcom_booking("BOOKING_RESCHEDULED", "uid_2", two, 45, "anna@salon.example", Some(CALLER));
    moved["payload"]["fromReschedule"] = json!("uid_1");
    assert_eq!(
        post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &bytes(&moved)), &bytes(&moved)).await.status,
        200
    );
    let starts = salon.free_starts(salon.staff(), &day).await;
    assert!(starts.contains(&ten) && !starts.contains(&two), "moved");
    assert_eq!(appointments(server, fx).await[0].external_booking_uid, "uid_2");

    let cancelled = bytes(&calcom_booking("BOOKING_CANCELLED", "uid_2", two, 45, "anna@salon.example", Some(CALLER)));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &cancelled), &cancelled).await.status, 200);
    assert!(salon.free_starts(salon.staff(), &day).await.contains(&two), "offered again after the cancellation");
    let all = appointments(server, fx).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, ap::AppointmentStatus::Cancelled as i32);
    let types = outbox_types(server, fx).await;
    let booking_types: Vec<&str> = types
        .iter()
        .map(String::as_str)
        .filter(|t| t.starts_with("appointment.") || *t == "customer.created")
        .collect();
    assert_eq!(
        booking_types,
        ["customer.created", "appointment.created", "appointment.rescheduled", "appointment.cancelled"]
    );

    let other = bytes(&json!({"triggerEvent": "MEETING_ENDED", "createdAt": rfc3339(ten), "payload": {}}));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &other), &other).await.status, 200);
    assert_eq!(inbox(server, fx).await[0].status, wh::InboundEventStatus::Ignored as i32);
}

async fn calcom_bookings_that_cannot_be_mirrored_are_rejected_never_double_booked(server: &TestServer) {
    let salon = Salon::open(server, "Salon Cal Taken").await;
    salon.give_staff_email("anna@salon.example").await;
    let fx = &salon.fx;
    let calcom = endpoint(server, fx, wh::InboundProvider::Calcom, CALCOM_SECRET).await;
    let day = BookingDay::berlin();
    let ten = day.at(10, 0);
    let first = bytes(&calcom_booking("BOOKING_CREATED", "uid_a", ten, 45, "anna@salon.example", Some(CALLER)));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &first), &first).await.status, 200);

    let overlapping =
        bytes(&calcom_booking("BOOKING_CREATED", "uid_b", ten + 900, 45, "anna@salon.example", Some(CALLER)));
    assert_eq!(
        post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &overlapping), &overlapping).await.status,
        200
    );
    let no_phone = bytes(&calcom_booking("BOOKING_CREATED", "uid_c", day.at(16, 0), 45, "anna@salon.example", None));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &no_phone), &no_phone).await.status, 200);
    let stranger =
        bytes(&calcom_booking("BOOKING_CREATED", "uid_d", day.at(17, 0), 45, "bob@else.example", Some(CALLER)));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &stranger), &stranger).await.status, 200);
    // Longer than a day: range queries rely on appointments lasting at most one.
    let endless =
        bytes(&calcom_booking("BOOKING_CREATED", "uid_e", day.at(18, 0), 25 * 60, "anna@salon.example", Some(CALLER)));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &endless), &endless).await.status, 200);

    assert_eq!(appointments(server, fx).await.len(), 1, "no double booking, nothing half-mirrored");
    let events = inbox(server, fx).await;
    let reason_of = |uid: &str| {
        events.iter().find(|e| e.event_key.contains(uid)).map(|e| (e.status, e.rejection_reason.clone())).unwrap()
    };
    let rejected = wh::InboundEventStatus::Rejected as i32;
    assert_eq!(reason_of("uid_b"), (rejected, "slot taken".to_owned()));
    assert_eq!(reason_of("uid_c").0, rejected);
    assert!(reason_of("uid_c").1.contains("phoneNumber"), "{:?}", reason_of("uid_c"));
    assert_eq!(reason_of("uid_d").0, rejected);
    assert!(reason_of("uid_d").1.contains("organizer"));
    assert_eq!(reason_of("uid_e").0, rejected);
    assert!(reason_of("uid_e").1.contains("more than a day"), "{:?}", reason_of("uid_e"));
}

async fn another_tenants_endpoint_cannot_affect_this_tenant(server: &TestServer) {
    let salon = Salon::open(server, "Salon Ours").await;
    let ours = &salon.fx;
    let theirs = server.tenant("Salon Theirs").await;
    salon.give_staff_email("anna@ours.example").await;
    let our_endpoint = endpoint(server, ours, wh::InboundProvider::Calcom, CALCOM_SECRET).await;
    let their_endpoint = endpoint(server, &theirs, wh::InboundProvider::Calcom, "their-secret").await;
    let day = BookingDay::berlin();
    let ten = day.at(10, 0);
    let booking = bytes(&calcom_booking("BOOKING_CREATED", "uid_x", ten, 45, "anna@ours.example", Some(CALLER)));

    // Their token with our secret: refused.
    assert_eq!(
        post(server, &their_endpoint.path, &calcom_headers(CALCOM_SECRET, &booking), &booking).await.status,
        401
    );
    // Their token, their secret: handled in their tenant, where our staff does not exist.
    let response = post(server, &their_endpoint.path, &calcom_headers("their-secret", &booking), &booking).await;
    assert_eq!(response.status, 200);
    assert!(salon.free_starts(salon.staff(), &day).await.contains(&ten), "our slot untouched");
    assert!(appointments(server, ours).await.is_empty());
    assert!(inbox(server, ours).await.is_empty());
    let their_events = inbox(server, &theirs).await;
    assert_eq!(their_events.len(), 1);
    assert_eq!(their_events[0].status, wh::InboundEventStatus::Rejected as i32);
    assert_eq!(their_events[0].endpoint_id, their_endpoint.id);
    assert_ne!(our_endpoint.path, their_endpoint.path);
}

on_both_databases!(
    calcom_bookings_block_slots_and_cancellations_free_them,
    calcom_bookings_that_cannot_be_mirrored_are_rejected_never_double_booked,
    another_tenants_endpoint_cannot_affect_this_tenant,
);
