//! Holds cannot be hoarded: a hold key (one call), an API key and a tenant
//! keep at most so many live holds, and a hold lives at most so long however
//! often it is extended. Each refusal is RESOURCE_EXHAUSTED and writes nothing.

use super::*;

fn small_caps(config: &mut askpro::config::Config) {
    config.hold_limit_per_hold_key = 2;
    config.hold_limit_per_api_key = 3;
    config.hold_limit_per_tenant = 4;
    config.hold_max_lifetime_secs = 120;
}

fn expect_cap(result: Result<tonic::Response<av::HoldSlotResponse>, Status>, subject: &str, limit: &str) {
    let status = expect_reason(result, Code::ResourceExhausted, "HOLD_LIMIT_REACHED");
    let metadata = error_metadata(&status);
    assert_eq!(metadata.get("subject").map(String::as_str), Some(subject), "{status:?}");
    assert_eq!(metadata.get("limit").map(String::as_str), Some(limit), "{status:?}");
}

async fn live_holds_are_capped_per_hold_key_api_key_and_tenant(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Hoard").await;
    let day = BookingDay::berlin();
    let at = |hour| day.at(hour, 0);
    let by_admin = |request: av::HoldSlotRequest| {
        let mut client = s.av();
        let key = s.admin().to_owned();
        async move { client.hold_slot(authed(request, &key)).await }
    };

    let first = s.hold(s.service(), s.staff(), at(9), "call-1").await;
    s.hold(s.service(), s.staff(), at(10), "call-1").await;
    expect_cap(s.try_hold(s.hold_request(s.service(), s.staff(), at(11), "call-1")).await, "hold_key", "2");
    assert!(
        starts(&s.day_slots(s.service(), &[s.staff()], &day).await).contains(&at(11)),
        "the refused hold claimed nothing"
    );
    // Releasing one makes room again.
    let release = av::ReleaseHoldRequest { id: first.id.clone(), hold_key: "call-1".into() };
    s.av().release_hold(authed(release, s.agent())).await.expect("release");
    s.hold(s.service(), s.staff(), at(11), "call-1").await;

    // The agent key now has two live holds of call-1; a third call's hold is its last.
    s.hold(s.service(), s.staff(), at(12), "call-2").await;
    expect_cap(s.try_hold(s.hold_request(s.service(), s.staff(), at(13), "call-3")).await, "api_key", "3");

    // Another key of the tenant may hold until the tenant's cap.
    by_admin(s.hold_request(s.service(), s.staff(), at(13), "desk-1")).await.expect("admin hold");
    expect_cap(by_admin(s.hold_request(s.service(), s.staff(), at(14), "desk-2")).await, "tenant", "4");

    // Another tenant is not affected.
    let other = Salon::open(server, "Salon Next Door").await;
    other.hold(other.service(), other.staff(), at(9), "call-1").await;
}

async fn a_hold_lives_at_most_its_lifetime(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Lifetime").await;
    let ten = BookingDay::berlin().at(10, 0);
    let too_long =
        av::HoldSlotRequest { ttl: Some(minutes(3)), ..s.hold_request(s.service(), s.staff(), ten, "call-1") };
    let status = expect_reason(s.try_hold(too_long).await, Code::ResourceExhausted, "HOLD_LIFETIME_EXCEEDED");
    assert_eq!(error_metadata(&status).get("limit").map(String::as_str), Some("120"));

    let request =
        av::HoldSlotRequest { ttl: Some(minutes(1)), ..s.hold_request(s.service(), s.staff(), ten, "call-1") };
    let hold = s.try_hold(request).await.expect("hold for a minute").into_inner().hold.unwrap();
    let extend = |seconds| av::ExtendHoldRequest {
        id: hold.id.clone(),
        hold_key: "call-1".into(),
        ttl: Some(prost_types::Duration { seconds, nanos: 0 }),
    };
    let extended = s.av().extend_hold(authed(extend(100), s.agent())).await.expect("within the lifetime");
    let expiry = extended.into_inner().hold.unwrap().expire_time;
    let status = expect_reason(
        s.av().extend_hold(authed(extend(121), s.agent())).await,
        Code::ResourceExhausted,
        "HOLD_LIFETIME_EXCEEDED",
    );
    assert!(status.message().contains("120 s"), "{}", status.message());
    assert_eq!(s.get_hold(&hold.id).await.expire_time, expiry, "the refused extension changed nothing");
}

on_both_databases_with!(small_caps; live_holds_are_capped_per_hold_key_api_key_and_tenant, a_hold_lives_at_most_its_lifetime);
