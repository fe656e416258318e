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

on_both_databases!(watchers_receive_their_tenants_changes, watching_one_staff_member_sees_an_appointment_moved_away,);
