//! The tenant configuration cache (branches, services, staff, weekly hours)
//! behind slots and bookings: a change shows at once on the replica that made
//! it, on other replicas within the notification bound, and the database
//! still decides every booking, whatever a replica has cached.

use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use askpro::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use std::io::Write;
use std::time::Instant;
use tonic::transport::Channel;

use super::*;

/// How long another replica may keep showing the old configuration: a
/// PostgreSQL notification crosses in milliseconds; this leaves room for a
/// loaded test machine.
const CROSS_REPLICA_BOUND: Duration = Duration::from_secs(3);

/// A second replica over `first`'s database, once its cache is in use (it
/// listens for other replicas' changes).
async fn second_replica(first: &common::TestServer) -> common::Replica {
    let second = first.second_replica().await;
    let listening = Instant::now();
    while !second.state.store.caches().is_active() {
        assert!(listening.elapsed() < CROSS_REPLICA_BOUND, "the second replica never listened");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    second
}

/// Waits until `server` answers from its caches (on PostgreSQL once its
/// listener runs), unless they are switched off.
async fn caches_in_use(server: &common::TestServer) {
    let caches = server.state.store.caches();
    let waiting = Instant::now();
    while caches.enabled() && !caches.is_active() {
        assert!(waiting.elapsed() < CROSS_REPLICA_BOUND, "the server never used its caches");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The free starts of the salon's staff member on `day`, asked of the server behind `channel`.
async fn free_starts_via(channel: &Channel, s: &Salon, day: &BookingDay) -> Vec<i64> {
    let request = s.slots_request(s.service(), &[s.staff()], day.start(), day.end());
    let response = AvailabilityServiceClient::new(channel.clone())
        .list_available_slots(authed(request, s.agent()))
        .await
        .expect("list slots");
    response.into_inner().slots.iter().map(|slot| secs(&slot.start_time)).collect()
}

/// Hours changed through the API show in the next slot list of the same
/// server, cached or not.
async fn hours_changes_show_in_the_next_slot_list(server: &common::TestServer) {
    caches_in_use(server).await;
    let s = Salon::open(server, "Salon Cached Hours").await;
    let day = BookingDay::berlin();
    let before = s.free_starts(s.staff(), &day).await;
    assert_eq!(before.first(), Some(&day.at(8, 0)), "open from 08:00");
    // Again: now from the cache, the same answer.
    assert_eq!(s.free_starts(s.staff(), &day).await, before);
    s.set_hours(server, s.staff(), 12 * 60, 14 * 60).await;
    let after = s.free_starts(s.staff(), &day).await;
    assert_eq!(after.first(), Some(&day.at(12, 0)), "the new hours at once: {after:?}");
    assert!(after.iter().all(|&start| start + 45 * MIN <= day.at(14, 0)), "{after:?}");
    // A booking outside the new hours is refused: the cache holds the new week.
    let outside = s.explicit(s.service(), s.staff(), day.at(9, 0), "+4915112340009");
    let status = expect_code(s.try_create(outside).await, Code::FailedPrecondition);
    assert_eq!(reason(&status), "FAILED_PRECONDITION");
    s.book(day.at(12, 0), "+4915112340001").await;
}

/// At start a server loads every tenant's configuration: the first booking
/// after a restart finds it warm.
async fn the_cache_is_warmed_for_every_tenant(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Warm").await;
    let other = Salon::open(server, "Salon Warm Too").await;
    let phone = "+4915112340501";
    s.book(BookingDay::berlin().at(9, 0), phone).await;
    let caches = server.state.store.caches();
    caches.invalidate_all();
    askpro::store::caches::warm_up(server.state.store.clone()).await;
    for tenant in [s.fx.tenant_id(), other.fx.tenant_id()] {
        assert!(caches.config.holds(&tenant), "the configuration of both tenants is warm");
    }
    let staff = uuid::Uuid::parse_str(s.staff()).expect("staff id");
    assert!(caches.time_off.holds(&(s.fx.tenant_id(), staff)), "and the staff member's time off");
    assert!(caches.busy.holds(&(s.fx.tenant_id(), staff)), "and busy time");
    let by_phone = (s.fx.tenant_id(), askpro::store::caches::customers::phone_key(phone));
    assert!(caches.phones.holds(&by_phone), "and the customers by phone number");
}

on_both_databases!(hours_changes_show_in_the_next_slot_list, the_cache_is_warmed_for_every_tenant);

/// With `config_cache = false` every call reads the configuration, and
/// everything works as with the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_cache_slots_and_bookings_follow_every_change() {
    for backend in [common::Backend::Sqlite, common::Backend::Postgres] {
        let Some(server) = common::TestServer::start_with(backend, |config| config.caches = false).await else {
            common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the cache-off test on PostgreSQL");
            continue;
        };
        hours_changes_show_in_the_next_slot_list(&server).await;
        server.stop().await;
    }
}

/// PostgreSQL, two replicas: hours changed through one reach the other's
/// slot lists within the bound, and a booking through a replica whose cache
/// still offers a taken slot is answered SLOT_TAKEN, never a double booking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_replica_reaches_the_others_cached_slots() {
    let Some(first) = common::TestServer::start(common::Backend::Postgres).await else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the cross-replica cache test on PostgreSQL");
        return;
    };
    let second = second_replica(&first).await;
    let s = Salon::open(&first, "Salon Two Replicas").await;
    let day = BookingDay::berlin();
    // The second replica caches the configuration (and is listening by now).
    let cached = free_starts_via(&second.channel, &s, &day).await;
    assert_eq!(cached.first(), Some(&day.at(8, 0)));
    let tenant = s.fx.tenant_id();
    assert!(second.state.store.caches().config.holds(&tenant), "the second replica answered from its cache");

    // Hours change through the first replica.
    let changed_at = Instant::now();
    s.set_hours(&first, s.staff(), 12 * 60, 14 * 60).await;
    loop {
        let seen = free_starts_via(&second.channel, &s, &day).await;
        if seen.first() == Some(&day.at(12, 0)) {
            let _ = writeln!(std::io::stderr(), "the second replica saw the change after {:?}", changed_at.elapsed());
            break;
        }
        assert!(changed_at.elapsed() < CROSS_REPLICA_BOUND, "the second replica still shows the old hours: {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Both replicas offer 12:00; the first books it. The second still offers
    // it in its lists until it reads the claims, but its booking is decided
    // by the database.
    s.book(day.at(12, 0), "+4915112340002").await;
    let late = s.explicit(s.service(), s.staff(), day.at(12, 0), "+4915112340003");
    let taken = AppointmentServiceClient::new(second.channel.clone()).create_appointment(authed(late, s.agent())).await;
    let status = expect_code(taken, Code::AlreadyExists);
    assert_eq!(reason(&status), "SLOT_TAKEN");
    let booked = s.list(ap::ListAppointmentsRequest { page_size: 100, ..Default::default() }).await;
    assert_eq!(booked.len(), 1, "one booking of 12:00: {booked:?}");

    second.stop().await;
    first.stop().await;
}

/// The voice agent's "who is calling?", asked of the server behind `channel`:
/// the customer's id and their upcoming appointments' ids, or None.
async fn caller_via(channel: &Channel, s: &Salon, phone: &str) -> Option<(String, Vec<String>)> {
    let request = ap::FindCustomerByPhoneRequest { phone_number: phone.into(), ..Default::default() };
    match AppointmentServiceClient::new(channel.clone()).find_customer_by_phone(authed(request, s.agent())).await {
        Ok(response) => {
            let response = response.into_inner();
            let upcoming = response.upcoming_appointments.iter().map(|a| a.id.clone()).collect();
            Some((response.customer.expect("customer").id, upcoming))
        }
        Err(status) if status.code() == Code::NotFound => None,
        Err(status) => panic!("FindCustomerByPhone failed: {status:?}"),
    }
}

fn absence_request(staff: &str, start: i64, end: i64) -> av::CreateTimeOffRequest {
    av::CreateTimeOffRequest {
        request_id: String::new(),
        time_off: Some(av::TimeOff {
            staff_id: staff.into(),
            kind: Some(av::time_off::Kind::Absence(time_range(start, end).expect("range"))),
            reason: "Dentist".into(),
            ..Default::default()
        }),
    }
}

/// Bookings, cancels, holds and time off show in the very next slot list of
/// the same server, although slot lists are answered from cached busy time
/// and time off.
async fn every_change_of_busy_time_shows_in_the_next_slot_list(server: &common::TestServer) {
    caches_in_use(server).await;
    let s = Salon::open(server, "Salon Cached Busy Time").await;
    let day = BookingDay::berlin();
    let free = s.free_starts(s.staff(), &day).await;
    assert!(free.contains(&day.at(10, 0)) && free.contains(&day.at(12, 0)), "{free:?}");

    let booked = s.book(day.at(10, 0), "+4915112340101").await;
    let after_booking = s.free_starts(s.staff(), &day).await;
    assert!(!after_booking.contains(&day.at(10, 0)), "the booked start is gone at once: {after_booking:?}");
    s.cancel(&booked.id, "changed plans").await.expect("cancel");
    assert!(s.free_starts(s.staff(), &day).await.contains(&day.at(10, 0)), "and back after the cancel");

    let hold = s.hold(s.service(), s.staff(), day.at(11, 0), "call-cache-1").await;
    assert!(!s.free_starts(s.staff(), &day).await.contains(&day.at(11, 0)), "a hold takes the start");
    s.av()
        .release_hold(authed(av::ReleaseHoldRequest { id: hold.id, hold_key: "call-cache-1".into() }, s.agent()))
        .await
        .expect("release");
    assert!(s.free_starts(s.staff(), &day).await.contains(&day.at(11, 0)), "a released hold frees it");

    let created = s
        .av()
        .create_time_off(authed(absence_request(s.staff(), day.at(12, 0), day.at(13, 0)), s.admin()))
        .await
        .expect("absence")
        .into_inner()
        .time_off
        .expect("time off");
    let absent = s.free_starts(s.staff(), &day).await;
    assert!(!absent.contains(&day.at(12, 0)), "an absence removes its time at once: {absent:?}");
    s.av()
        .delete_time_off(authed(av::DeleteTimeOffRequest { id: created.id }, s.admin()))
        .await
        .expect("delete absence");
    assert!(s.free_starts(s.staff(), &day).await.contains(&day.at(12, 0)), "and gives it back when deleted");
}

/// FindCustomerByPhone, answered from the caches, follows a customer's
/// creation, bookings, cancels and change of number at once.
async fn a_caller_lookup_follows_every_change(server: &common::TestServer) {
    caches_in_use(server).await;
    let s = Salon::open(server, "Salon Cached Callers").await;
    let day = BookingDay::berlin();
    let (phone, new_phone) = ("+4915112340201", "+4915112340202");
    assert_eq!(caller_via(&server.channel, &s, phone).await, None, "unknown at first (and remembered as such)");

    let booked = s.book(day.at(9, 0), phone).await;
    let (customer_id, upcoming) = caller_via(&server.channel, &s, phone).await.expect("the booking created the caller");
    assert_eq!((customer_id.as_str(), upcoming), (booked.customer_id.as_str(), vec![booked.id.clone()]));

    // A second booking of the caller (earlier in the day) joins the cached
    // view in order instead of forgetting it: the caller's next call is
    // answered from the cache.
    let earlier = s.book(day.at(8, 0), phone).await;
    let view = (s.fx.tenant_id(), Uuid::parse_str(&customer_id).expect("customer id"));
    if server.state.store.caches().enabled() {
        assert!(server.state.store.caches().customers.holds(&view), "the booking kept the caller's view");
    }
    let (_, upcoming) = caller_via(&server.channel, &s, phone).await.expect("still a customer");
    assert_eq!(upcoming, vec![earlier.id.clone(), booked.id.clone()], "both, by start");
    s.cancel(&earlier.id, "").await.expect("cancel");

    s.cancel(&booked.id, "").await.expect("cancel");
    let (_, upcoming) = caller_via(&server.channel, &s, phone).await.expect("still a customer");
    assert!(upcoming.is_empty(), "a cancelled appointment is not upcoming: {upcoming:?}");

    let update = ap::UpdateCustomerRequest {
        customer: Some(ap::Customer { id: customer_id.clone(), phone_number: new_phone.into(), ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["phone_number".into()] }),
        ..Default::default()
    };
    s.ap().update_customer(authed(update, s.admin())).await.expect("new number");
    assert_eq!(caller_via(&server.channel, &s, phone).await, None, "the old number is free at once");
    let (found, _) = caller_via(&server.channel, &s, new_phone).await.expect("the new number finds the customer");
    assert_eq!(found, customer_id);
}

/// The day's dashboard, asked of the server behind `channel`: (total,
/// cancelled, new customers).
async fn dashboard_via(channel: &Channel, s: &Salon, day: &BookingDay) -> (i32, i32, i32) {
    let date = askpro::proto::r#type::v1::LocalDate {
        year: i32::from(day.date.year()),
        month: i32::from(day.date.month()),
        day: i32::from(day.date.day()),
    };
    let request =
        ap::GetDashboardStatsRequest { date: Some(date), period: ap::StatsPeriod::Day as i32, ..Default::default() };
    let stats = AppointmentServiceClient::new(channel.clone())
        .get_dashboard_stats(authed(request, s.admin()))
        .await
        .expect("dashboard")
        .into_inner();
    let counts = stats.appointment_counts.expect("counts");
    (counts.total, counts.cancelled, stats.new_customers)
}

/// GetDashboardStats, added up from cached days, follows bookings and
/// cancels at once. (New customers count by the day they were created:
/// today, not the booked day.)
async fn the_dashboard_follows_every_booking_and_cancel(server: &common::TestServer) {
    caches_in_use(server).await;
    let s = Salon::open(server, "Salon Cached Dashboard").await;
    let day = BookingDay::berlin();
    assert_eq!(dashboard_via(&server.channel, &s, &day).await, (0, 0, 0), "nothing booked yet (and cached)");
    let utc_day = day.start().div_euclid(86_400);
    let caches = server.state.store.caches();
    assert!(caches.enabled() == caches.appointment_days.holds(&(s.fx.tenant_id(), utc_day)), "the day is cached");
    let booked = s.book(day.at(9, 0), "+4915112340401").await;
    assert_eq!(dashboard_via(&server.channel, &s, &day).await.0, 1, "the booking counts at once");
    s.cancel(&booked.id, "").await.expect("cancel");
    assert_eq!(dashboard_via(&server.channel, &s, &day).await, (1, 1, 0), "and its cancel");
    let today = BookingDay::days_from_today(BERLIN, 0);
    let before = dashboard_via(&server.channel, &s, &today).await.2;
    s.book(day.at(11, 0), "+4915112340402").await;
    assert_eq!(dashboard_via(&server.channel, &s, &today).await.2, before + 1, "a new customer today");
}

/// ListAppointments over a range, answered from cached days, shows every
/// booking and cancel at once and pages across days as the database would.
async fn the_appointment_list_follows_every_change(server: &common::TestServer) {
    caches_in_use(server).await;
    let s = Salon::open(server, "Salon Cached List").await;
    let day = BookingDay::berlin();
    let range = time_range(day.start(), day.next().next().end());
    let page = |token: String| ap::ListAppointmentsRequest {
        time_range: range,
        page_size: 2,
        page_token: token,
        ..Default::default()
    };
    let list_page = |token: String| {
        let request = authed(page(token), s.agent());
        let mut client = s.ap();
        async move { client.list_appointments(request).await.expect("list").into_inner() }
    };
    assert!(list_page(String::new()).await.appointments.is_empty(), "nothing yet (and the days cached)");
    let first = s.book(day.at(9, 0), "+4915112340601").await;
    let second = s.book(day.next().at(9, 0), "+4915112340602").await;
    let third = s.book(day.next().next().at(9, 0), "+4915112340603").await;
    let one = list_page(String::new()).await;
    let ids: Vec<_> = one.appointments.iter().map(|a| a.id.clone()).collect();
    assert_eq!(ids, vec![first.id.clone(), second.id.clone()], "the first page, in time order");
    let two = list_page(one.next_page_token).await;
    assert_eq!(two.appointments.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), vec![third.id.clone()]);
    assert!(two.next_page_token.is_empty());
    s.cancel(&second.id, "").await.expect("cancel");
    let after_cancel = list_page(String::new()).await;
    assert_eq!(
        after_cancel.appointments[1].status,
        ap::AppointmentStatus::Cancelled as i32,
        "the cancel shows at once"
    );
}

on_both_databases!(
    the_appointment_list_follows_every_change,
    every_change_of_busy_time_shows_in_the_next_slot_list,
    a_caller_lookup_follows_every_change,
    the_dashboard_follows_every_booking_and_cancel
);

/// With the caches off, slot lists and caller lookups behave the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_caches_busy_time_and_callers_follow_every_change() {
    for backend in [common::Backend::Sqlite, common::Backend::Postgres] {
        let Some(server) = common::TestServer::start_with(backend, |config| config.caches = false).await else {
            common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the cache-off test on PostgreSQL");
            continue;
        };
        every_change_of_busy_time_shows_in_the_next_slot_list(&server).await;
        a_caller_lookup_follows_every_change(&server).await;
        the_dashboard_follows_every_booking_and_cancel(&server).await;
        the_appointment_list_follows_every_change(&server).await;
        server.stop().await;
    }
}

/// Waits until `seen` holds on the second replica; returns how long it took.
async fn until_seen<F: AsyncFn() -> bool>(what: &str, seen: F) -> Duration {
    let changed_at = Instant::now();
    while !seen().await {
        assert!(changed_at.elapsed() < CROSS_REPLICA_BOUND, "the second replica never saw {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = changed_at.elapsed();
    let _ = writeln!(std::io::stderr(), "the second replica saw {what} after {took:?}");
    took
}

/// PostgreSQL, two replicas: a booking and a new caller made through one
/// reach the other's cached slot lists, caller lookups and dashboard within
/// the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_and_callers_reach_the_other_replicas_caches() {
    let Some(first) = common::TestServer::start(common::Backend::Postgres).await else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the cross-replica cache test on PostgreSQL");
        return;
    };
    let second = second_replica(&first).await;
    let s = Salon::open(&first, "Salon Shared Callers").await;
    let day = BookingDay::berlin();
    let phone = "+4915112340301";
    // The second replica caches the free 10:00 and an unknown caller.
    assert!(free_starts_via(&second.channel, &s, &day).await.contains(&day.at(10, 0)));
    assert_eq!(caller_via(&second.channel, &s, phone).await, None);
    let staff = Uuid::parse_str(s.staff()).expect("staff id");
    assert!(second.state.store.caches().busy.holds(&(s.fx.tenant_id(), staff)), "busy time cached");

    let booked = s.book(day.at(10, 0), phone).await;
    until_seen("the booking in its slot list", async || {
        !free_starts_via(&second.channel, &s, &day).await.contains(&day.at(10, 0))
    })
    .await;
    until_seen("the new caller", async || {
        caller_via(&second.channel, &s, phone).await.is_some_and(|(_, upcoming)| upcoming == vec![booked.id.clone()])
    })
    .await;

    // The dashboard's days too: a cancel through the first replica.
    assert_eq!(dashboard_via(&second.channel, &s, &day).await, (1, 0, 0));
    s.cancel(&booked.id, "").await.expect("cancel");
    until_seen("the cancel in its dashboard", async || dashboard_via(&second.channel, &s, &day).await == (1, 1, 0))
        .await;
    // The caller books again through the first replica, which adds the
    // appointment to its own cached view; the second forgets its view.
    until_seen("the cancel in the caller's view", async || {
        caller_via(&second.channel, &s, phone).await.is_some_and(|(_, upcoming)| upcoming.is_empty())
    })
    .await;
    let again = s.book(day.at(11, 0), phone).await;
    until_seen("the caller's second booking", async || {
        caller_via(&second.channel, &s, phone).await.is_some_and(|(_, upcoming)| upcoming == vec![again.id.clone()])
    })
    .await;

    // `askpro warm-caches`: every listening replica warms its caches.
    let tenant = s.fx.tenant_id();
    second.state.store.caches().invalidate_all();
    let listening = askpro::store::caches::request_warm_up(&first.state.store).await.expect("warm request");
    assert!(listening >= 2, "both replicas listen: {listening}");
    until_seen("the warm request", async || second.state.store.caches().config.holds(&tenant)).await;

    second.stop().await;
    first.stop().await;
}
