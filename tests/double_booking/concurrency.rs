//! Concurrency over gRPC: many callers after one slot, one hold, one request
//! or one customer; exactly one wins.

use super::*;

async fn double_booking_is_rejected_under_concurrency(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = TwoChairs::open(server, "Salon Rush").await;
        let day = BookingDay::berlin();
        let ten = day.at(10, 0);

        // 200 callers book 10:00 with Anna at once.
        let tasks: Vec<_> = (0..200)
            .map(|n| {
                let mut client = s.ap();
                let request = authed(s.booking(0, ten, &phone(n)), s.agent());
                tokio::spawn(async move { client.create_appointment(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        let won = winners(join_all(tasks).await, &[SLOT_TAKEN, RETRY]);
        assert_eq!(won.len(), 1, "exactly one of 200 concurrent bookings succeeds");
        let winner = won[0].appointment.clone().unwrap();
        let active = s.active_appointments().await;
        assert_eq!(active.len(), 1, "one active appointment: {active:?}");
        assert_eq!(active[0].id, winner.id);
        assert_eq!((secs(&active[0].start_time), active[0].staff_id.as_str()), (ten, s.staff[0].as_str()));
        assert!(!s.free(0, &day).await.contains(&ten));
        assert_eq!(s.live_claims(server, 0).await.len(), 1, "one claim in the database");

        // 200 callers hold 14:00 with Anna at once.
        let two = day.at(14, 0);
        let tasks: Vec<_> = (0..200)
            .map(|n| {
                let mut client = s.av();
                let request = authed(s.hold_for(0, two, &format!("call-{n}")), s.agent());
                tokio::spawn(async move { client.hold_slot(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        let won = winners(join_all(tasks).await, &[SLOT_TAKEN, RETRY]);
        assert_eq!(won.len(), 1, "exactly one of 200 concurrent holds succeeds");
        assert_eq!(s.live_holds(server).await, 1, "one live hold in the database");
        assert!(!s.free(0, &day).await.contains(&two));
        assert_eq!(s.live_claims(server, 0).await.len(), 2);
        s.assert_no_overlaps(server).await.unwrap();
        // Ben was never touched.
        assert!(s.free(1, &day).await.contains(&ten) && s.free(1, &day).await.contains(&two));
    })
    .await
    .expect("finishes within 120 s");
}

async fn concurrent_holds_and_bookings_of_one_slot_have_one_winner(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = TwoChairs::open(server, "Salon Mixed").await;
        let day = BookingDay::berlin();
        let four = day.at(16, 0);
        let mut holds = Vec::new();
        let mut books = Vec::new();
        for n in 0..100 {
            let mut client = s.av();
            let request = authed(s.hold_for(1, four, &format!("call-{n}")), s.agent());
            holds.push(tokio::spawn(async move { client.hold_slot(request).await.map(|r| r.into_inner()) }));
            let mut client = s.ap();
            let request = authed(s.booking(1, four, &phone(n)), s.agent());
            books.push(tokio::spawn(async move { client.create_appointment(request).await.map(|r| r.into_inner()) }));
        }
        let holds = winners(join_all(holds).await, &[SLOT_TAKEN, RETRY]);
        let books = winners(join_all(books).await, &[SLOT_TAKEN, RETRY]);
        assert_eq!(holds.len() + books.len(), 1, "one winner among holds and bookings: {holds:?} {books:?}");
        assert_eq!(s.active_appointments().await.len(), books.len());
        assert_eq!(s.live_holds(server).await, holds.len());
        assert_eq!(s.live_claims(server, 1).await.len(), 1);
        s.assert_no_overlaps(server).await.unwrap();
    })
    .await
    .expect("finishes within 120 s");
}

async fn concurrent_overlapping_bookings_never_overlap(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = TwoChairs::open(server, "Salon Stagger").await;
        let day = BookingDay::berlin();
        // 12:00, 12:15, 12:30, 12:45, 13:00: 45-minute appointments, so at most
        // 12:00 with 12:45, or 12:15 with 13:00, can both win.
        let starts: Vec<i64> = (0..5).map(|k| day.at(12, 0) + k * 15 * MIN).collect();
        let tasks: Vec<_> = (0..200)
            .map(|n| {
                let mut client = s.ap();
                let request = authed(s.booking(0, starts[n % starts.len()], &phone(n)), s.agent());
                tokio::spawn(async move { client.create_appointment(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        let won = winners(join_all(tasks).await, &[SLOT_TAKEN, RETRY]);
        assert!(!won.is_empty() && won.len() <= 2, "one or two winners: {won:?}");
        assert_eq!(s.active_appointments().await.len(), won.len());
        s.assert_no_overlaps(server).await.unwrap();
    })
    .await
    .expect("finishes within 120 s");
}

async fn a_hold_is_booked_at_most_once_under_concurrency(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = TwoChairs::open(server, "Salon One Hold").await;
        let day = BookingDay::berlin();
        let mut client = s.av();
        let hold = client
            .hold_slot(authed(s.hold_for(0, day.at(11, 0), "call-1"), s.agent()))
            .await
            .expect("hold")
            .into_inner()
            .hold
            .unwrap();
        let tasks: Vec<_> = (0..50)
            .map(|n| {
                let mut client = s.ap();
                let request = authed(s.booking_from(&hold.id, "call-1", &phone(n)), s.agent());
                tokio::spawn(async move { client.create_appointment(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        // Losers see the hold converted (HOLD_EXPIRED) or, racing the
        // conversion on PostgreSQL, the appointment's claim (SLOT_TAKEN).
        let won = winners(join_all(tasks).await, &[(Code::FailedPrecondition, "HOLD_EXPIRED"), SLOT_TAKEN, RETRY]);
        assert_eq!(won.len(), 1, "a hold becomes one appointment");
        let active = s.active_appointments().await;
        assert_eq!(active.len(), 1);
        let converted = client
            .get_hold(authed(av::GetHoldRequest { id: hold.id.clone() }, s.agent()))
            .await
            .unwrap()
            .into_inner()
            .hold
            .unwrap();
        assert_eq!(converted.state, av::HoldState::Converted as i32);
        assert_eq!(converted.appointment_id, active[0].id);
        s.assert_no_overlaps(server).await.unwrap();
    })
    .await
    .expect("finishes within 120 s");
}

async fn concurrent_retries_of_one_request_create_one_appointment(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = TwoChairs::open(server, "Salon Retry").await;
        let day = BookingDay::berlin();
        let request = s.booking(0, day.at(9, 0), &phone(1));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let mut client = s.ap();
                let request = authed(request.clone(), s.agent());
                tokio::spawn(async move { client.create_appointment(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        let won = winners(join_all(tasks).await, &[RETRY]);
        assert!(!won.is_empty());
        let id = won[0].appointment.as_ref().unwrap().id.clone();
        assert!(
            won.iter().all(|r| r.appointment.as_ref().unwrap().id == id),
            "every retry answers the same appointment"
        );
        let active = s.active_appointments().await;
        assert_eq!(active.len(), 1, "{active:?}");
        assert_eq!(active[0].id, id);
    })
    .await
    .expect("finishes within 120 s");
}

async fn concurrent_reschedules_into_one_slot_have_one_winner(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = TwoChairs::open(server, "Salon Moves").await;
        let day = BookingDay::berlin();
        // 24 appointments, 12 each for Anna and Ben: 08:00, 08:45, ... 16:15.
        let mut ids = Vec::new();
        for k in 0..24 {
            let start = day.at(8, 0) + (k / 2) as i64 * DURATION;
            let mut client = s.ap();
            let created = client
                .create_appointment(authed(s.booking(k % 2, start, &phone(k)), s.agent()))
                .await
                .expect("book")
                .into_inner();
            ids.push(created.appointment.unwrap().id);
        }
        // All move at once to Anna at 18:00, 18:15 or 18:30: pairwise
        // overlapping times, so exactly one move can succeed.
        let targets: Vec<i64> = (0..3).map(|k| day.at(18, 0) + k * 15 * MIN).collect();
        let tasks: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(n, id)| {
                let mut client = s.ap();
                let request = authed(s.move_to(id, 0, targets[n % 3]), s.agent());
                tokio::spawn(async move { client.reschedule_appointment(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        let won = winners(join_all(tasks).await, &[SLOT_TAKEN, RETRY]);
        assert_eq!(won.len(), 1, "one appointment moves to 18:00-18:30");
        let active = s.active_appointments().await;
        assert_eq!(active.len(), 24, "moves never lose an appointment");
        let moved: Vec<_> = active.iter().filter(|a| targets.contains(&secs(&a.start_time))).collect();
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].staff_id, s.staff[0]);
        // One claim per appointment: the winner's old time was given up.
        let mut claims: Vec<_> = s.live_claims(server, 0).await;
        claims.extend(s.live_claims(server, 1).await);
        assert_eq!(claims.len(), 24, "one claim per appointment");
        s.assert_no_overlaps(server).await.unwrap();
    })
    .await
    .expect("finishes within 120 s");
}

/// A booking naming an existing customer and that customer's deletion, run
/// at the same time, never leave a deleted customer with an active
/// appointment: either the booking wins and the deletion is refused, or the
/// deletion wins and the booking finds no customer.
async fn a_booking_and_a_deletion_of_its_customer_never_interleave(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = TwoChairs::open(server, "Salon Loeschen").await;
        let day = BookingDay::berlin();
        for round in 0..16usize {
            let customer = s
                .ap()
                .create_customer(authed(
                    ap::CreateCustomerRequest {
                        request_id: request_id(),
                        customer: Some(ap::Customer { phone_number: phone(9000 + round), ..Default::default() }),
                        region_code: String::new(),
                    },
                    s.agent(),
                ))
                .await
                .expect("customer")
                .into_inner()
                .customer
                .expect("customer");
            let mut booking = s.booking(round % 2, day.at(8 + (round / 2) as i8, 0), "");
            booking.customer = Some(ap::create_appointment_request::Customer::CustomerId(customer.id.clone()));
            let mut ap_client = s.ap();
            let agent = s.agent().to_owned();
            let book = tokio::spawn(async move { ap_client.create_appointment(authed(booking, &agent)).await });
            let mut ap_client = s.ap();
            let admin = s.fx.admin.clone();
            let id = customer.id.clone();
            let delete = tokio::spawn(async move {
                ap_client.delete_customer(authed(ap::DeleteCustomerRequest { id, etag: String::new() }, &admin)).await
            });
            let (booked, deleted) = (book.await.unwrap(), delete.await.unwrap());
            match (&booked, &deleted) {
                (Ok(_), Err(status)) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
                (Err(status), Ok(_)) => assert_eq!(status.code(), Code::NotFound, "{status:?}"),
                _ => panic!("round {round}: exactly one may win: booked {booked:?}, deleted {deleted:?}"),
            }
        }
    })
    .await
    .expect("finishes within 120 s");
}

on_both_databases!(
    double_booking_is_rejected_under_concurrency,
    a_booking_and_a_deletion_of_its_customer_never_interleave,
    concurrent_holds_and_bookings_of_one_slot_have_one_winner,
    concurrent_overlapping_bookings_never_overlap,
    a_hold_is_booked_at_most_once_under_concurrency,
    concurrent_retries_of_one_request_create_one_appointment,
    concurrent_reschedules_into_one_slot_have_one_winner,
);
