//! The Cal.com integration against a local Cal.com (tests/common/fake_calcom.rs,
//! which speaks the v2 wire format): connecting with a bad key, a booking
//! synced with its cancel and reschedule, Cal.com down during 50 bookings,
//! a server killed mid-sync, two replicas syncing at once, and Cal.com's
//! webhooks about AskPro's own bookings. Every test runs on SQLite and (with
//! ASKPRO_TEST_DATABASE_URL) on PostgreSQL.
#[path = "../common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use askpro::config::Config;
use askpro::proto::integration::v1 as ig;
use askpro::proto::integration::v1::integration_service_client::IntegrationServiceClient;
use common::fake_calcom::{EVENT_TYPE_ID, FakeCalcom, VALID_KEY};
use common::salon::Salon;
use common::time::BookingDay;
use common::{TestServer, authed};
use tonic::Code;
use tonic::transport::Channel;

fn fast_retries(config: &mut Config) {
    config.webhook_allow_http_loopback = true;
    config.calcom_busy_ttl_secs = 1;
    config.calcom_retry_schedule_secs = vec![1; 30];
    config.calcom_breaker_failures = 3;
    config.calcom_breaker_open_secs = 1;
    config.calcom_timeout_ms = 1500;
}

fn integrations(channel: &Channel) -> IntegrationServiceClient<Channel> {
    IntegrationServiceClient::new(channel.clone())
}

fn connect_request(fake: &FakeCalcom, key: &str, staff_id: &str, event_type_id: i64) -> ig::ConnectCalcomRequest {
    ig::ConnectCalcomRequest {
        connection: Some(ig::CalcomConnection {
            base_url: fake.base_url(),
            staff_links: vec![ig::CalcomStaffLink {
                staff_id: staff_id.into(),
                event_type_id,
                calcom_user_id: 42,
                calcom_email: String::new(),
            }],
            ..Default::default()
        }),
        api_key: key.into(),
    }
}

async fn connect(server: &TestServer, salon: &Salon, fake: &FakeCalcom) -> ig::CalcomConnection {
    integrations(&server.channel)
        .connect_calcom(authed(connect_request(fake, VALID_KEY, salon.staff(), EVENT_TYPE_ID), salon.admin()))
        .await
        .expect("connect to Cal.com")
        .into_inner()
        .connection
        .unwrap()
}

async fn connection(server: &TestServer, salon: &Salon) -> ig::CalcomConnection {
    integrations(&server.channel)
        .get_calcom_connection(authed(ig::GetCalcomConnectionRequest {}, salon.admin()))
        .await
        .expect("get the connection")
        .into_inner()
        .connection
        .unwrap()
}

async fn sync_of(server: &TestServer, salon: &Salon, appointment_id: &str) -> ig::CalcomSync {
    integrations(&server.channel)
        .get_calcom_sync(authed(ig::GetCalcomSyncRequest { appointment_id: appointment_id.into() }, salon.admin()))
        .await
        .expect("get the sync")
        .into_inner()
        .sync
        .unwrap()
}

/// Polls `check` every 100 ms until it holds, for at most `limit`.
async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn synced(server: &TestServer, salon: &Salon, id: &str) -> bool {
    sync_of(server, salon, id).await.state == ig::SyncState::Synced as i32
}

fn phone(i: usize) -> String {
    format!("+4915112{i:06}")
}

async fn connecting_with_a_bad_key_is_refused_and_stores_nothing(server: &TestServer) {
    let salon = Salon::open(server, "Salon Connect").await;
    let fake = FakeCalcom::start().await;
    let mut client = integrations(&server.channel);

    // A key Cal.com refuses: INVALID_ARGUMENT on api_key, the key nowhere in the answer.
    let wrong = "cal_live_wrong0000000000000000000000";
    let refused = client
        .connect_calcom(authed(connect_request(&fake, wrong, salon.staff(), EVENT_TYPE_ID), salon.admin()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("api_key"), "{}", refused.message());
    assert!(!format!("{refused:?}").contains(wrong), "the key must not be echoed");
    let details = tonic_types::StatusExt::get_error_details(&refused);
    let field = &details.bad_request().expect("BadRequest").field_violations[0];
    assert_eq!(field.field, "api_key");
    assert!(field.description.contains("Invalid API Key"), "{}", field.description);

    // Not a Cal.com key at all: refused before Cal.com is asked.
    let asked = fake.seen().len();
    let malformed = client
        .connect_calcom(authed(connect_request(&fake, "sk_live_123", salon.staff(), EVENT_TYPE_ID), salon.admin()))
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(fake.seen().len(), asked);

    // An event type Cal.com does not have, and a staff member AskPro does not have.
    let unknown = client
        .connect_calcom(authed(connect_request(&fake, VALID_KEY, salon.staff(), 999), salon.admin()))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(unknown.message().contains("staff_links[0].event_type_id"), "{}", unknown.message());
    let stranger = uuid::Uuid::now_v7().to_string();
    let nobody = client
        .connect_calcom(authed(connect_request(&fake, VALID_KEY, &stranger, EVENT_TYPE_ID), salon.admin()))
        .await
        .unwrap_err();
    assert_eq!(nobody.code(), Code::InvalidArgument);
    assert!(nobody.message().contains("staff_links[0].staff_id"), "{}", nobody.message());

    // Cal.com down: UNAVAILABLE naming Cal.com, with a retry hint.
    fake.down(503);
    let down = client
        .connect_calcom(authed(connect_request(&fake, VALID_KEY, salon.staff(), EVENT_TYPE_ID), salon.admin()))
        .await
        .unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    assert!(down.message().contains("Cal.com"), "{}", down.message());
    fake.up();

    // Nothing was stored by any of them.
    let missing = client.get_calcom_connection(authed(ig::GetCalcomConnectionRequest {}, salon.admin())).await;
    assert_eq!(missing.unwrap_err().code(), Code::NotFound);

    // The right key: stored, shown without the key.
    let saved = connect(server, &salon, &fake).await;
    assert_eq!(saved.api_key_hint, format!("…{}", &VALID_KEY[VALID_KEY.len() - 4..]));
    let account = saved.account.clone().unwrap();
    assert_eq!((account.user_id, account.email.as_str()), (42, "anna@salon.example"));
    assert_eq!(saved.staff_links.len(), 1);
    assert_eq!(saved.breaker_state, ig::BreakerState::Closed as i32);
    let read = connection(server, &salon).await;
    assert!(!format!("{read:?}").contains(VALID_KEY));
    assert_eq!(read.staff_links, saved.staff_links);
    // Saving again without the key keeps it (and changes nothing else).
    let again = client
        .connect_calcom(authed(connect_request(&fake, "", salon.staff(), EVENT_TYPE_ID), salon.admin()))
        .await
        .expect("reconnect with the stored key")
        .into_inner()
        .connection
        .unwrap();
    assert_eq!(again.api_key_hint, saved.api_key_hint);
    // Only an admin may see or change it.
    let agent = client.get_calcom_connection(authed(ig::GetCalcomConnectionRequest {}, salon.agent())).await;
    assert_eq!(agent.unwrap_err().code(), Code::PermissionDenied);
    // The version header of each endpoint, and the correlation id, were sent.
    let seen = fake.seen();
    assert!(seen.iter().any(|s| s.path == "/v2/me" && s.api_version.is_none() && s.request_id.is_some()));
    assert!(
        seen.iter().any(|s| s.path.starts_with("/v2/event-types/") && s.api_version.as_deref() == Some("2024-06-14"))
    );

    client.disconnect_calcom(authed(ig::DisconnectCalcomRequest {}, salon.admin())).await.expect("disconnect");
    let gone = client.get_calcom_connection(authed(ig::GetCalcomConnectionRequest {}, salon.admin())).await;
    assert_eq!(gone.unwrap_err().code(), Code::NotFound);
    fake.stop();
}

async fn a_booking_is_synced_and_its_reschedule_and_cancel_follow(server: &TestServer) {
    let salon = Salon::open(server, "Salon Sync").await;
    let fake = FakeCalcom::start().await;
    connect(server, &salon, &fake).await;
    let day = BookingDay::days_from_today("Europe/Berlin", 2);

    let booked = salon.book(day.at(10, 0), &phone(1)).await;
    eventually(Duration::from_secs(20), "the booking is synced", || synced(server, &salon, &booked.id)).await;
    let sync = sync_of(server, &salon, &booked.id).await;
    let bookings = fake.bookings();
    assert_eq!(bookings.len(), 1);
    let copy = &bookings[0];
    assert_eq!(sync.calcom_booking_uid, copy.uid);
    assert_eq!(copy.askpro_id().as_deref(), Some(booked.id.as_str()));
    assert_eq!(copy.start.timestamp(), day.at(10, 0));
    assert_eq!(copy.end.timestamp(), day.at(10, 45), "the 45-minute service, not the event type's 30");
    assert_eq!(copy.event_type_id, EVENT_TYPE_ID);
    assert_eq!(copy.attendee["phoneNumber"], phone(1));
    assert_eq!(copy.attendee["timeZone"], "Europe/Berlin");
    assert!(fake.seen().iter().any(|s| s.path == "/v2/bookings" && s.api_version.as_deref() == Some("2024-08-13")));

    // Rescheduled in AskPro: Cal.com moves it (a new booking replaces the old).
    let moved =
        salon.reschedule(&booked.id, day.at(12, 0), "").await.expect("reschedule").into_inner().appointment.unwrap();
    eventually(Duration::from_secs(20), "the reschedule is synced", || async {
        let sync = sync_of(server, &salon, &moved.id).await;
        sync.state == ig::SyncState::Synced as i32 && sync.calcom_booking_uid != copy.uid
    })
    .await;
    let sync = sync_of(server, &salon, &moved.id).await;
    let bookings = fake.bookings();
    let old = bookings.iter().find(|b| b.uid == copy.uid).unwrap();
    let new = bookings.iter().find(|b| b.uid == sync.calcom_booking_uid).unwrap();
    assert_eq!(old.status, "cancelled");
    assert_eq!((new.status.as_str(), new.start.timestamp()), ("accepted", day.at(12, 0)));

    // Cancelled in AskPro: cancelled in Cal.com.
    salon.cancel(&booked.id, "customer called").await.expect("cancel");
    eventually(Duration::from_secs(20), "the cancel is synced", || async {
        fake.bookings().iter().any(|b| b.uid == sync.calcom_booking_uid && b.status == "cancelled")
    })
    .await;
    eventually(Duration::from_secs(5), "the copy is synced", || synced(server, &salon, &booked.id)).await;
    assert_eq!(fake.bookings().len(), 2, "one booking and the one its reschedule made; nothing else");
    fake.stop();
}

async fn dropped_connections_500_429_and_401_are_retried_until_calcom_takes_the_booking(server: &TestServer) {
    let salon = Salon::open(server, "Salon Flaky").await;
    let fake = FakeCalcom::start().await;
    connect(server, &salon, &fake).await;
    fake.drop_connections(true);
    let booked = salon.book(BookingDay::days_from_today("Europe/Berlin", 2).at(11, 0), &phone(21)).await;
    eventually(Duration::from_secs(20), "a failed attempt is visible", || async {
        let sync = sync_of(server, &salon, &booked.id).await;
        sync.state == ig::SyncState::Pending as i32 && sync.attempt_count >= 1 && !sync.last_error.is_empty()
    })
    .await;
    let sync = sync_of(server, &salon, &booked.id).await;
    assert!(sync.last_error.contains("unreachable"), "{}", sync.last_error);
    assert!(sync.next_attempt_time.is_some());
    assert!(fake.bookings().is_empty());

    // Back, but still failing a few times: a server error, the rate limit
    // (with Retry-After), a refused key. Each is retried.
    fake.retry_after(Some(1));
    fake.fail_next(&[500, 429, 401]);
    fake.drop_connections(false);
    eventually(Duration::from_secs(40), "the booking is synced", || synced(server, &salon, &booked.id)).await;
    let statuses: BTreeSet<u16> = fake.seen().iter().map(|s| s.status).collect();
    assert!([500, 429, 401].iter().all(|s| statuses.contains(s)), "{statuses:?}");
    assert_eq!(fake.bookings().len(), 1, "booked once");
    let sync = sync_of(server, &salon, &booked.id).await;
    assert_eq!((sync.attempt_count, sync.last_error.as_str()), (0, ""));
    fake.stop();
}

async fn calcom_down_during_50_bookings_then_back(server: &TestServer) {
    let salon = Salon::open(server, "Salon Outage").await;
    let fake = FakeCalcom::start().await;
    connect(server, &salon, &fake).await;
    fake.down(503);

    // The caller never waits for Cal.com: every booking succeeds at once.
    let mut ids = Vec::new();
    for i in 0..50 {
        let day = BookingDay::days_from_today("Europe/Berlin", 2 + (i / 10) as i64);
        let started = Instant::now();
        let booked = salon.book(day.at(8 + (i % 10) as i8, 0), &phone(100 + i)).await;
        assert!(started.elapsed() < Duration::from_secs(1), "booking {i} waited for Cal.com");
        ids.push(booked.id);
    }
    eventually(Duration::from_secs(20), "the breaker opens", || async {
        connection(server, &salon).await.breaker_state == ig::BreakerState::Open as i32
    })
    .await;
    // Degraded, never down: the server keeps serving.
    let health = common::http::http1(
        server.addr,
        &format!("GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.addr),
        b"",
    )
    .await;
    assert_eq!(health.status, 200);
    let report: serde_json::Value = serde_json::from_slice(&health.body).unwrap();
    assert_eq!(report["status"], "degraded", "{report}");
    assert_eq!(report["components"]["calcom"]["status"], "degraded", "{report}");
    assert_eq!(grpc_health(server, "askpro.integration.v1.Calcom").await, 2, "Cal.com's own health is NOT_SERVING");
    assert_eq!(grpc_health(server, "").await, 1, "the server stays SERVING");
    let waiting = connection(server, &salon).await;
    assert_eq!(waiting.pending_syncs, 50);
    let metrics = common::http::http1(
        server.addr,
        &format!("GET /metrics HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.addr),
        b"",
    )
    .await;
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(text.contains("askpro_calcom_breakers{state=\"open\"} 1"), "{text}");

    fake.up();
    eventually(Duration::from_secs(90), "all 50 are synced", || async {
        let list = integrations(&server.channel)
            .list_calcom_syncs(authed(
                ig::ListCalcomSyncsRequest {
                    page_size: 100,
                    state: ig::SyncState::Synced as i32,
                    ..Default::default()
                },
                salon.admin(),
            ))
            .await
            .unwrap()
            .into_inner();
        list.syncs.len() == 50
    })
    .await;
    let bookings = fake.bookings();
    let copied: BTreeSet<String> = bookings.iter().filter_map(|b| b.askpro_id()).collect();
    assert_eq!(bookings.len(), 50, "none duplicated");
    assert_eq!(copied, ids.iter().cloned().collect::<BTreeSet<_>>(), "none lost");
    let after = connection(server, &salon).await;
    assert_eq!((after.breaker_state, after.pending_syncs), (ig::BreakerState::Closed as i32, 0));
    assert_eq!(grpc_health(server, "askpro.integration.v1.Calcom").await, 1);
    fake.stop();
}

async fn import(server: &TestServer, salon: &Salon) -> Vec<ig::ImportChange> {
    integrations(&server.channel)
        .import_from_calcom(authed(ig::ImportFromCalcomRequest {}, salon.admin()))
        .await
        .expect("import from Cal.com")
        .into_inner()
        .changes
}

fn kinds(changes: &[ig::ImportChange]) -> Vec<ig::ImportChangeKind> {
    changes.iter().map(|c| ig::ImportChangeKind::try_from(c.kind).unwrap()).collect()
}

async fn importing_twice_changes_nothing_the_second_time(server: &TestServer) {
    use askpro::proto::availability::v1 as av;
    use askpro::proto::tenant::v1 as tn;
    let salon = Salon::open(server, "Salon Import").await;
    let fake = FakeCalcom::start().await;
    connect(server, &salon, &fake).await;
    fake.change_event_type(
        EVENT_TYPE_ID,
        serde_json::json!({
            "title": "Beard trim", "lengthInMinutes": 30, "beforeEventBuffer": 5, "afterEventBuffer": 10,
            "minimumBookingNotice": 120, "slotInterval": null,
        }),
    );
    let override_day = BookingDay::days_from_today("Europe/Berlin", 3);
    let override_date = override_day.date.to_string();
    fake.set_schedules(vec![serde_json::json!({
        "id": 254, "ownerId": 42, "name": "Working hours", "timeZone": "Europe/Berlin",
        "availability": [
            {"days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], "startTime": "09:00", "endTime": "17:00"},
            {"days": ["Saturday"], "startTime": "10:00", "endTime": "14:00"},
        ],
        "isDefault": true,
        "overrides": [{"date": override_date, "startTime": "10:00", "endTime": "12:00"}],
    })]);

    let first = import(server, &salon).await;
    assert_eq!(
        kinds(&first),
        vec![
            ig::ImportChangeKind::ServiceCreated,
            ig::ImportChangeKind::ServiceOffered,
            ig::ImportChangeKind::WorkingHoursReplaced,
            ig::ImportChangeKind::DateOverrideSet,
        ],
        "{first:?}"
    );
    let service_id = first[0].subject_id.clone();
    let mut tenants = server.tenants();
    let service = tenants
        .get_service(authed(tn::GetServiceRequest { id: service_id.clone() }, salon.admin()))
        .await
        .unwrap()
        .into_inner()
        .service
        .unwrap();
    assert_eq!(service.display_name, "Beard trim");
    let minutes = |d: &Option<prost_types::Duration>| d.as_ref().unwrap().seconds / 60;
    assert_eq!(
        (minutes(&service.duration), minutes(&service.buffer_before), minutes(&service.buffer_after)),
        (30, 5, 10)
    );
    assert_eq!((minutes(&service.minimum_notice), minutes(&service.slot_step)), (120, 30));
    let staff = tenants
        .get_staff(authed(tn::GetStaffRequest { id: salon.staff().into() }, salon.admin()))
        .await
        .unwrap()
        .into_inner()
        .staff
        .unwrap();
    assert!(staff.service_ids.contains(&service_id));
    let hours = salon
        .av()
        .get_working_hours(authed(av::GetWorkingHoursRequest { staff_id: salon.staff().into() }, salon.admin()))
        .await
        .unwrap()
        .into_inner()
        .working_hours
        .unwrap();
    assert_eq!(hours.days.len(), 6, "Monday to Saturday: {hours:?}");
    // The override day offers only times within 10:00-12:00, where the week would offer 09:00-17:00.
    let slots = salon.day_slots(&service_id, &[salon.staff()], &override_day).await;
    let starts: Vec<i64> = slots.iter().map(|s| common::time::secs(&s.start_time)).collect();
    assert!(!starts.is_empty());
    assert!(starts.iter().all(|s| (override_day.at(10, 0)..=override_day.at(11, 30)).contains(s)), "{starts:?}");

    // Nothing changed in Cal.com: nothing changes in AskPro.
    assert_eq!(import(server, &salon).await, vec![]);

    // Cal.com changed the length: the service follows, nothing else.
    fake.change_event_type(EVENT_TYPE_ID, serde_json::json!({"lengthInMinutes": 45}));
    let third = import(server, &salon).await;
    assert_eq!(kinds(&third), vec![ig::ImportChangeKind::ServiceUpdated], "{third:?}");
    assert_eq!(third[0].subject_id, service_id);
    assert!(third[0].description.contains("duration 30 min -> 45 min"), "{}", third[0].description);
    assert!(import(server, &salon).await.is_empty());

    // Cal.com down: UNAVAILABLE, nothing changed.
    fake.down(503);
    let failed = integrations(&server.channel)
        .import_from_calcom(authed(ig::ImportFromCalcomRequest {}, salon.admin()))
        .await
        .unwrap_err();
    assert_eq!(failed.code(), Code::Unavailable);
    fake.stop();
}

async fn slot_list(salon: &Salon, day: &BookingDay) -> (Vec<i64>, i32) {
    let request = salon.slots_request(salon.service(), &[salon.staff()], day.start(), day.end());
    let response =
        salon.av().list_available_slots(authed(request, salon.agent())).await.expect("list slots").into_inner();
    (response.slots.iter().map(|s| common::time::secs(&s.start_time)).collect(), response.external_calendar)
}

async fn calcom_bookings_remove_slots_after_the_time_to_live(server: &TestServer) {
    use askpro::proto::availability::v1::ExternalCalendarState as Freshness;
    let salon = Salon::open(server, "Salon Busy").await;
    let fake = FakeCalcom::start().await;
    let day = BookingDay::days_from_today("Europe/Berlin", 2);
    let (before, state) = slot_list(&salon, &day).await;
    assert!(before.contains(&day.at(10, 0)));
    assert_eq!(state, Freshness::Unspecified as i32, "no Cal.com staff yet");
    connect(server, &salon, &fake).await;
    assert_eq!(slot_list(&salon, &day).await.1, Freshness::Current as i32);

    // Booked in Cal.com itself, no webhook: gone once the busy times expire (1 s here).
    fake.add_booking(chrono::DateTime::from_timestamp(day.at(10, 0), 0).unwrap(), 60);
    eventually(Duration::from_secs(10), "10:00 is no longer offered", || async {
        !slot_list(&salon, &day).await.0.contains(&day.at(10, 0))
    })
    .await;
    let (starts, state) = slot_list(&salon, &day).await;
    assert_eq!(state, Freshness::Current as i32);
    // The 45-minute service cannot start between 09:20 and 11:00 either.
    assert!(!starts.iter().any(|s| (day.at(9, 20)..day.at(11, 0)).contains(s)), "{starts:?}");
    assert!(starts.contains(&day.at(11, 0)));

    // AskPro's own booking in Cal.com is not counted twice: booked and synced, it stays one claim.
    let booked = salon.book(day.at(14, 0), &phone(9)).await;
    eventually(Duration::from_secs(20), "the booking is synced", || synced(server, &salon, &booked.id)).await;
    let (starts, _) = slot_list(&salon, &day).await;
    assert!(starts.contains(&day.at(13, 0)) && starts.contains(&day.at(15, 0)), "{starts:?}");

    // Cal.com down: the last busy times are used, and the answer says so.
    fake.down(503);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (starts, state) = slot_list(&salon, &day).await;
    assert_eq!(state, Freshness::Stale as i32);
    assert!(!starts.contains(&day.at(10, 0)), "the Cal.com booking still blocks");
    fake.up();
    fake.stop();
}

async fn a_starting_replica_warms_calcom_busy_times(server: &TestServer) {
    use askpro::proto::availability::v1::ExternalCalendarState as Freshness;
    let salon = Salon::open(server, "Salon Warm").await;
    let fake = FakeCalcom::start().await;
    connect(server, &salon, &fake).await;
    let reads = || fake.seen().iter().filter(|s| s.path == "/v2/bookings" && s.method == "GET").count();
    let before = reads();
    let replica = server.second_replica_with(long_lived_busy_times).await;
    eventually(Duration::from_secs(10), "the replica read Cal.com's bookings at start", || async { reads() > before })
        .await;
    let warmed = reads();
    // A slot list through the replica is answered from what it warmed.
    let day = BookingDay::days_from_today("Europe/Berlin", 2);
    let request = salon.slots_request(salon.service(), &[salon.staff()], day.start(), day.end());
    let response = askpro::proto::availability::v1::availability_service_client::AvailabilityServiceClient::new(
        replica.channel.clone(),
    )
    .list_available_slots(authed(request, salon.agent()))
    .await
    .expect("list slots on the replica")
    .into_inner();
    assert_eq!(response.external_calendar, Freshness::Current as i32);
    assert_eq!(reads(), warmed, "no read of Cal.com for a warmed tenant");
    replica.stop().await;
    fake.stop();
}

/// Busy times live long here: only a webhook can refresh them in time.
fn long_lived_busy_times(config: &mut Config) {
    fast_retries(config);
    config.calcom_busy_ttl_secs = 3600;
}

const WEBHOOK_SECRET: &str = "calcom-webhook-secret";

/// An inbound endpoint of provider CALCOM for the salon.
async fn calcom_endpoint(server: &TestServer, salon: &Salon) -> askpro::proto::webhook::v1::InboundEndpoint {
    use askpro::proto::webhook::v1 as wh;
    server
        .webhooks()
        .create_inbound_endpoint(authed(
            wh::CreateInboundEndpointRequest {
                request_id: common::request_id(),
                endpoint: Some(wh::InboundEndpoint {
                    provider: wh::InboundProvider::Calcom as i32,
                    display_name: "Cal.com".into(),
                    ..Default::default()
                }),
                secret: WEBHOOK_SECRET.into(),
            },
            salon.admin(),
        ))
        .await
        .expect("inbound endpoint")
        .into_inner()
        .endpoint
        .unwrap()
}

/// POSTs a Cal.com webhook body, signed as Cal.com signs it; the HTTP status.
async fn post_calcom(server: &TestServer, path: &str, body: &serde_json::Value) -> u16 {
    use hmac::Mac;
    let body = serde_json::to_vec(body).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let signature = hex::encode(mac.finalize().into_bytes());
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-Cal-Signature-256: {signature}\r\n\r\n",
        server.addr,
        body.len()
    );
    common::http::http1(server.addr, &head, &body).await.status
}

fn rfc(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn a_calcom_webhook_refreshes_busy_times_at_once(server: &TestServer) {
    let salon = Salon::open(server, "Salon Hook").await;
    let fake = FakeCalcom::start().await;
    connect(server, &salon, &fake).await;
    let endpoint = calcom_endpoint(server, &salon).await;
    let day = BookingDay::days_from_today("Europe/Berlin", 2);
    assert!(slot_list(&salon, &day).await.0.contains(&day.at(16, 0)), "cached now, for an hour");
    let start = chrono::DateTime::from_timestamp(day.at(16, 0), 0).unwrap();
    let uid = fake.add_booking(start, 30);
    assert!(slot_list(&salon, &day).await.0.contains(&day.at(16, 0)), "no webhook yet: the cache answers");

    // Cal.com's webhook (its attendee has no phone number, so AskPro cannot
    // mirror it as an appointment): the busy times are read again anyway.
    let body = serde_json::json!({
        "triggerEvent": "BOOKING_CREATED",
        "createdAt": rfc(chrono::Utc::now()),
        "payload": {
            "title": "Walk-in", "startTime": rfc(start), "endTime": rfc(start + chrono::TimeDelta::minutes(30)),
            "organizer": {"name": "Anna", "email": "anna@salon.example", "timeZone": "Europe/Berlin"},
            "attendees": [{"name": "Walk-in", "email": "walk-in@example.com", "timeZone": "Europe/Berlin"}],
            "uid": uid, "status": "ACCEPTED",
        }
    });
    assert_eq!(post_calcom(server, &endpoint.path, &body).await, 200);
    let (starts, _) = slot_list(&salon, &day).await;
    assert!(!starts.contains(&day.at(16, 0)), "{starts:?}");
    fake.stop();
}

async fn calcoms_webhook_about_askpros_own_booking_changes_nothing(server: &TestServer) {
    use askpro::proto::webhook::v1 as wh;
    let salon = Salon::open(server, "Salon Echo").await;
    salon.give_staff_email("anna@salon.example").await;
    let fake = FakeCalcom::start().await;
    connect(server, &salon, &fake).await;
    let endpoint = calcom_endpoint(server, &salon).await;
    let day = BookingDay::days_from_today("Europe/Berlin", 2);
    let booked = salon.book(day.at(9, 0), &phone(11)).await;
    eventually(Duration::from_secs(20), "the booking is synced", || synced(server, &salon, &booked.id)).await;
    let copy = fake.bookings()[0].clone();

    let post = |trigger: &'static str, with_metadata: bool| {
        let mut payload = serde_json::json!({
            "title": "Haircut", "startTime": rfc(copy.start), "endTime": rfc(copy.end),
            "organizer": {"name": "Anna", "email": "anna@salon.example", "timeZone": "Europe/Berlin"},
            "attendees": [{"name": "Caller", "email": "caller@example.com", "timeZone": "Europe/Berlin", "phoneNumber": phone(11)}],
            "uid": copy.uid, "status": "ACCEPTED",
        });
        if with_metadata {
            payload["metadata"] = serde_json::json!({"askproAppointmentId": booked.id});
        }
        let body =
            serde_json::json!({"triggerEvent": trigger, "createdAt": rfc(chrono::Utc::now()), "payload": payload});
        let path = endpoint.path.clone();
        async move { post_calcom(server, &path, &body).await }
    };
    // The echo of AskPro's own booking, recognised by its metadata and by its uid.
    assert_eq!(post("BOOKING_CREATED", true).await, 200);
    assert_eq!(post("BOOKING_CREATED", false).await, 200);
    let events = server
        .webhooks()
        .list_inbound_events(authed(
            wh::ListInboundEventsRequest { page_size: 50, ..Default::default() },
            salon.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(events.len(), 2);
    for event in &events {
        assert_eq!(event.status, wh::InboundEventStatus::Ignored as i32, "{event:?}");
        assert_eq!(event.appointment_id, booked.id);
    }
    let listed = salon.list(Default::default()).await;
    assert_eq!(listed.len(), 1, "no second appointment");

    // Cancelled in Cal.com: cancelled in AskPro, and nothing is sent back.
    let posts_before = fake.seen().iter().filter(|s| s.method == "POST").count();
    assert_eq!(post("BOOKING_CANCELLED", false).await, 200);
    assert_eq!(salon.get(&booked.id).await.status, askpro::proto::appointment::v1::AppointmentStatus::Cancelled as i32);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.seen().iter().filter(|s| s.method == "POST").count(), posts_before, "no echo back to Cal.com");

    // A booking made in Cal.com whose organizer AskPro knows only by the
    // linked Cal.com user id (42), under another e-mail: mirrored for Anna.
    let start = chrono::DateTime::from_timestamp(day.at(15, 0), 0).unwrap();
    let body = serde_json::json!({
        "triggerEvent": "BOOKING_CREATED", "createdAt": rfc(chrono::Utc::now()),
        "payload": {
            "title": "Haircut", "startTime": rfc(start), "endTime": rfc(start + chrono::TimeDelta::minutes(45)),
            "organizer": {"id": 42, "name": "Anna", "email": "anna.private@cal.example", "timeZone": "Europe/Berlin"},
            "attendees": [{"name": "Berta", "email": "berta@example.com", "timeZone": "Europe/Berlin",
                           "phoneNumber": phone(12)}],
            "uid": "calcom-side-1", "status": "ACCEPTED",
        }
    });
    assert_eq!(post_calcom(server, &endpoint.path, &body).await, 200);
    let mirrored: Vec<_> = salon
        .list(Default::default())
        .await
        .into_iter()
        .filter(|a| a.external_booking_uid == "calcom-side-1")
        .collect();
    assert_eq!(mirrored.len(), 1);
    assert_eq!(mirrored[0].staff_id, salon.staff());
    fake.stop();
}

async fn grpc_health(server: &TestServer, service: &str) -> i32 {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    HealthClient::new(server.channel.clone())
        .check(HealthCheckRequest { service: service.into() })
        .await
        .expect("health check")
        .into_inner()
        .status
}

async fn a_server_killed_mid_sync_resumes_without_a_second_booking(server: &TestServer) {
    let salon = Salon::open(server, "Salon Crash").await;
    let fake = FakeCalcom::start().await;
    connect(server, &salon, &fake).await;
    // Cal.com makes the booking, then takes its time answering; the replica
    // doing the sync is killed while it waits.
    fake.slow(Duration::from_millis(1200));
    let doomed = server
        .second_replica_with(|c| {
            fast_retries(c);
            c.calcom_timeout_ms = 1500;
        })
        .await;
    let booked = salon.book(BookingDay::days_from_today("Europe/Berlin", 3).at(9, 0), &phone(7)).await;
    eventually(Duration::from_secs(10), "Cal.com was asked to book", || async {
        fake.seen().iter().any(|s| s.method == "POST" && s.path == "/v2/bookings")
    })
    .await;
    doomed.stop().await;
    assert_eq!(fake.bookings().len(), 1, "the booking exists in Cal.com");
    assert!(!synced(server, &salon, &booked.id).await, "but AskPro never heard");

    // Another replica takes over once the lease runs out and finds the booking.
    fake.slow(Duration::ZERO);
    let heir = server.second_replica_with(fast_retries).await;
    eventually(Duration::from_secs(30), "the heir syncs it", || synced(server, &salon, &booked.id)).await;
    heir.stop().await;
    let bookings = fake.bookings();
    assert_eq!(bookings.len(), 1, "never booked twice");
    assert_eq!(sync_of(server, &salon, &booked.id).await.calcom_booking_uid, bookings[0].uid);
    fake.stop();
}

async fn two_replicas_never_sync_one_booking_twice(server: &TestServer) {
    let salon = Salon::open(server, "Salon Twins").await;
    let fake = FakeCalcom::start().await;
    connect(server, &salon, &fake).await;
    // Slow answers widen the window in which both replicas look for work.
    fake.slow(Duration::from_millis(100));
    let twin = server.second_replica_with(fast_retries).await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let day = BookingDay::days_from_today("Europe/Berlin", 2 + (i / 10) as i64);
        ids.push(salon.book(day.at(8 + (i % 10) as i8, 0), &phone(300 + i)).await.id);
    }
    eventually(Duration::from_secs(60), "all 30 are synced", || async {
        let mut all = true;
        for id in &ids {
            all &= synced(server, &salon, id).await;
        }
        all
    })
    .await;
    twin.stop().await;
    let posts = fake.seen().iter().filter(|s| s.method == "POST" && s.path == "/v2/bookings").count();
    assert_eq!(posts, 30, "one create per booking");
    assert_eq!(fake.bookings().len(), 30);
    fake.stop();
}

/// The test server only serves: its replicas sync.
fn replicas_sync(config: &mut Config) {
    fast_retries(config);
    config.calcom_sync_enabled = false;
}

on_both_databases_with!(fast_retries;
    connecting_with_a_bad_key_is_refused_and_stores_nothing,
    importing_twice_changes_nothing_the_second_time,
    a_booking_is_synced_and_its_reschedule_and_cancel_follow,
    calcom_down_during_50_bookings_then_back,
    two_replicas_never_sync_one_booking_twice,
    dropped_connections_500_429_and_401_are_retried_until_calcom_takes_the_booking,
    calcom_bookings_remove_slots_after_the_time_to_live,
    calcoms_webhook_about_askpros_own_booking_changes_nothing,
);

on_both_databases_with!(long_lived_busy_times;
    a_calcom_webhook_refreshes_busy_times_at_once,
    a_starting_replica_warms_calcom_busy_times,
);

on_both_databases_with!(replicas_sync;
    a_server_killed_mid_sync_resumes_without_a_second_booking,
);
