//! The change stream: WatchAppointments.

use super::*;

async fn next_change(
    stream: &mut tonic::Streaming<ap::WatchAppointmentsResponse>,
    what: &str,
) -> ap::WatchAppointmentsResponse {
    tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .unwrap_or_else(|_| panic!("no change within 5 s: {what}"))
        .expect("stream ok")
        .expect("stream open")
}

async fn watchers_receive_their_tenants_changes(server: &common::TestServer) {
    let a = Salon::open(server, "Salon Watch A").await;
    let b = Salon::open(server, "Salon Watch B").await;
    let day = BookingDay::berlin();
    let mut stream = a
        .ap()
        .watch_appointments(authed(ap::WatchAppointmentsRequest::default(), a.agent()))
        .await
        .expect("watch")
        .into_inner();
    // B's change comes first; A's watcher must skip it.
    b.book(day.at(9, 0), "0151 23456789").await;
    let created = a.book(day.at(10, 0), "0151 23456789").await;
    let change = next_change(&mut stream, "created").await;
    assert_eq!(change.change, ap::AppointmentChange::Created as i32);
    assert_eq!(change.appointment.as_ref().unwrap().id, created.id, "the first change is A's, not B's");
    assert_eq!(change.appointment.unwrap(), created);
    assert!(change.change_time.is_some());

    let moved = a.reschedule(&created.id, day.at(11, 0), "").await.unwrap().into_inner().appointment.unwrap();
    let change = next_change(&mut stream, "rescheduled").await;
    assert_eq!(change.change, ap::AppointmentChange::Rescheduled as i32);
    assert_eq!(change.appointment.unwrap(), moved);

    b.cancel(&b.list(ap::ListAppointmentsRequest::default()).await[0].id, "").await.unwrap();
    let cancelled = a.cancel(&created.id, "no time").await.unwrap().into_inner().appointment.unwrap();
    let change = next_change(&mut stream, "cancelled").await;
    assert_eq!(change.change, ap::AppointmentChange::Cancelled as i32, "B's cancellation is not delivered");
    assert_eq!(change.appointment.unwrap(), cancelled);

    // An unknown or foreign branch is NOT_FOUND, not an empty stream.
    let unknown = ap::WatchAppointmentsRequest { staff_ids: vec![], branch_id: Uuid::now_v7().to_string() };
    expect_code(a.ap().watch_appointments(authed(unknown, a.agent())).await, Code::NotFound);
    let foreign = ap::WatchAppointmentsRequest { staff_ids: vec![], branch_id: b.branch().into() };
    expect_code(a.ap().watch_appointments(authed(foreign, a.agent())).await, Code::NotFound);
}

async fn watching_one_staff_member_sees_an_appointment_moved_away(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Watch Staff").await;
    let ben = s.staff_with_hours(server, "Ben", OPEN_HOURS).await;
    let day = BookingDay::berlin();
    let request = ap::WatchAppointmentsRequest { staff_ids: vec![s.staff().into()], branch_id: String::new() };
    let mut stream = s.ap().watch_appointments(authed(request, s.agent())).await.expect("watch").into_inner();
    let a = s.book(day.at(10, 0), "0151 23456789").await;
    assert_eq!(next_change(&mut stream, "created").await.appointment.unwrap().id, a.id);
    let move_to_ben = ap::RescheduleAppointmentRequest {
        id: a.id.clone(),
        request_id: request_id(),
        start_time: Some(pts(day.at(11, 0))),
        staff_id: ben.id.clone(),
        hold: None,
        etag: String::new(),
    };
    let moved = s
        .ap()
        .reschedule_appointment(authed(move_to_ben, s.agent()))
        .await
        .expect("move to Ben")
        .into_inner()
        .appointment
        .unwrap();
    assert_eq!(moved.staff_id, ben.id);
    // The contract: "Only changes to appointments of these staff members (before or after the change)".
    let change = tokio::time::timeout(Duration::from_secs(5), stream.message()).await;
    let delivered = matches!(&change, Ok(Ok(Some(c))) if c.change == ap::AppointmentChange::Rescheduled as i32);
    assert!(
        delivered,
        "a watcher filtering by staff member sees an appointment moved away from that staff member \
         (WatchAppointmentsRequest.staff_ids: before or after the change); got {change:?}"
    );
}

/// A burst in one tenant makes only that tenant's slow watchers fall behind.
async fn a_burst_in_one_tenant_does_not_lag_another_tenants_watchers(server: &common::TestServer) {
    let a = Salon::open(server, "Salon Burst").await;
    let b = Salon::open(server, "Salon Calm").await;
    let tenant = |fx: &common::TenantFixture| askpro::domain::ids::TenantId(fx.id.parse().unwrap());
    let feed = &server.state.ops.feed;
    // Watchers that do not read while the burst goes on.
    let mut slow_a = feed.subscribe(tenant(&a.fx)).expect("watch A");
    let mut calm_b = feed.subscribe(tenant(&b.fx)).expect("watch B");
    let announce = |fx: &common::TenantFixture, n: usize| {
        let store = server.state.store.clone();
        let feed = feed.clone();
        let id = tenant(fx);
        async move {
            let tx = store.write(id).await.unwrap();
            let appointment = ap::Appointment { id: format!("burst-{n}"), ..Default::default() };
            feed.announce(&tx, ap::AppointmentChange::Updated, appointment, None).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    for n in 0..1100 {
        announce(&a.fx, n).await;
    }
    announce(&b.fx, 0).await;
    let for_b = calm_b.recv().await.expect("B's watcher is not behind");
    assert_eq!(for_b.appointment.id, "burst-0");
    assert_eq!(for_b.tenant, tenant(&b.fx));
    assert!(
        matches!(slow_a.recv().await, Err(tokio::sync::broadcast::error::RecvError::Lagged(_))),
        "A's own slow watcher fell behind A's burst"
    );
}

async fn a_tenant_keeps_at_most_its_share_of_watch_streams(server: &common::TestServer) {
    let a = Salon::open(server, "Salon Streams").await;
    let b = Salon::open(server, "Salon Other Streams").await;
    let watch = |salon: &Salon| {
        let mut client = salon.ap();
        let key = salon.agent().to_owned();
        async move { client.watch_appointments(authed(ap::WatchAppointmentsRequest::default(), &key)).await }
    };
    let first = watch(&a).await.expect("first stream");
    let _second = watch(&a).await.expect("second stream");
    let status = expect_reason(watch(&a).await, Code::ResourceExhausted, "WATCH_LIMIT_REACHED");
    assert_eq!(error_metadata(&status).get("limit").map(String::as_str), Some("2"));
    let _other = watch(&b).await.expect("another tenant is not affected");
    // Closing a stream makes room (the server notices the reset shortly).
    drop(first);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match watch(&a).await {
            Ok(_stream) => break,
            Err(status) => {
                assert_eq!(reason(&status), "WATCH_LIMIT_REACHED");
                assert!(std::time::Instant::now() < deadline, "a closed stream frees its place");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

on_both_databases!(watchers_receive_their_tenants_changes, watching_one_staff_member_sees_an_appointment_moved_away,);
on_both_databases!(a_burst_in_one_tenant_does_not_lag_another_tenants_watchers);
on_both_databases_with!(|c| c.max_watch_streams_per_tenant = 2; a_tenant_keeps_at_most_its_share_of_watch_streams);
