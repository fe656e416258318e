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
    while !second.state.store.config_cache().is_active() {
        assert!(listening.elapsed() < CROSS_REPLICA_BOUND, "the second replica never listened");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    second
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
    let cache = server.state.store.config_cache();
    cache.invalidate_all();
    askpro::store::config_cache::warm_up(server.state.store.clone()).await;
    assert!(cache.holds(s.fx.tenant_id()) && cache.holds(other.fx.tenant_id()), "both tenants warmed");
}

on_both_databases!(hours_changes_show_in_the_next_slot_list, the_cache_is_warmed_for_every_tenant);

/// With `config_cache = false` every call reads the configuration, and
/// everything works as with the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_cache_slots_and_bookings_follow_every_change() {
    for backend in [common::Backend::Sqlite, common::Backend::Postgres] {
        let Some(server) = common::TestServer::start_with(backend, |config| config.config_cache = false).await else {
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
    assert!(second.state.store.config_cache().holds(tenant), "the second replica answered from its cache");

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
