//! Call events from Retell and Standard Webhooks providers: one call per
//! call id whatever the order, holds released when a call ends, the inbound
//! call answered with the caller's name.

use askpro::proto::tenant::v1 as tn;

use super::*;

async fn retell_call_events_in_any_order_make_one_call_and_replays_change_nothing(server: &TestServer) {
    let fx = server.tenant("Salon Calls").await;
    let caller = customer(server, &fx, "0151 12345678", "Maria Muster").await;
    let retell = endpoint(server, &fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    let ended = bytes(&retell_call("call_ended", "call_order"));
    let started = bytes(&retell_call("call_started", "call_order"));

    // call_ended arrives first; call_started later must not move the call back.
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &ended), &ended).await.status, 200);
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &started), &started).await.status, 200);
    // A provider retry (a new signature over the same event) changes nothing.
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &started), &started).await.status, 200);

    let call = call_row(server, &fx, InboundProvider::Retell, "call_order").await.expect("call recorded");
    assert_eq!(call.status, "ended");
    assert_eq!(call.customer_id.map(|id| id.to_string()), Some(caller.id.clone()));
    assert_eq!(call.branch_id.map(|id| id.to_string()), Some(fx.branch.id.clone()));
    assert_eq!(call.from_number, CALLER);
    assert!(call.end_time.is_some());

    let events = inbox(server, &fx).await;
    assert_eq!(events.len(), 2, "the replay was not stored again");
    for event in &events {
        assert_eq!(event.status, wh::InboundEventStatus::Processed as i32);
        assert_eq!(event.call_id, call.id.to_string());
        assert_eq!(event.customer_id, caller.id);
    }
    let keys: Vec<&str> = events.iter().map(|e| e.event_key.as_str()).collect();
    assert!(keys.contains(&"call_started:call_order") && keys.contains(&"call_ended:call_order"), "{keys:?}");
    let types = outbox_types(server, &fx).await;
    assert_eq!(types.iter().filter(|t| t.starts_with("call.")).collect::<Vec<_>>(), ["call.ended", "call.started"]);

    let other = bytes(&json!({"event": "transcript_updated", "call": {"call_id": "call_order"}}));
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &other), &other).await.status, 200);
    let events = inbox(server, &fx).await;
    assert_eq!(events[0].status, wh::InboundEventStatus::Ignored as i32);
}

async fn retell_call_ended_releases_the_calls_holds(server: &TestServer) {
    let salon = Salon::open(server, "Salon Holds").await;
    salon.give_staff_email("anna@salon.example").await;
    let fx = &salon.fx;
    let retell = endpoint(server, fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    let day = BookingDay::berlin();
    let ten = day.at(10, 0);
    let hold = salon.hold(salon.service(), salon.staff(), ten, "call_hold").await;
    assert!(!salon.free_starts(salon.staff(), &day).await.contains(&ten), "held");
    let minted = ap::CreateCallCredentialRequest {
        phone_number: CALLER.into(),
        branch_id: String::new(),
        call_id: "call_hold".into(),
        ttl: None,
    };
    let credential = server.appointments().create_call_credential(authed(minted, &fx.agent)).await;
    let credential = credential.expect("call credential").into_inner().credential;
    let services = || {
        let request = askpro::proto::tenant::v1::ListServicesRequest::default();
        let mut tenants = server.tenants();
        let credential = credential.clone();
        async move { tenants.list_services(authed(request, &credential)).await }
    };
    services().await.expect("the credential works during the call");

    let ended = bytes(&retell_call("call_ended", "call_hold"));
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &ended), &ended).await.status, 200);

    let hold = salon.get_hold(&hold.id).await;
    assert_eq!(hold.state, av::HoldState::Released as i32);
    assert!(salon.free_starts(salon.staff(), &day).await.contains(&ten), "offered again once the call ended");
    // The call's credential ends with the call (once the key cache lets go of it).
    let deadline = Instant::now() + Duration::from_secs(10);
    while services().await.is_ok() {
        assert!(Instant::now() < deadline, "the call credential still works after the call ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = services().await.expect_err("revoked");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
}

async fn retell_call_inbound_is_answered_fast_with_the_callers_name(server: &TestServer) {
    let salon = Salon::open(server, "Salon Inbound Call").await;
    salon.give_staff_email("anna@salon.example").await;
    let fx = &salon.fx;
    let maria = customer(server, fx, CALLER, "Maria Muster").await;
    let day = BookingDay::berlin();
    salon
        .create(ap::CreateAppointmentRequest {
            customer: Some(ap::create_appointment_request::Customer::CustomerId(maria.id.clone())),
            ..salon.explicit(salon.service(), salon.staff(), day.at(10, 0), "")
        })
        .await;
    let retell = endpoint(server, fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    let body = bytes(&json!({
        "event": "call_inbound",
        "call_inbound": {"agent_id": "agent_1", "from_number": CALLER, "to_number": BRANCH_NUMBER}
    }));
    let started = Instant::now();
    let response = post(server, &retell.path, &retell_headers(RETELL_KEY, &body), &body).await;
    assert!(started.elapsed() < Duration::from_secs(1), "answered within a second: {:?}", started.elapsed());
    assert_eq!(response.status, 200);
    let answer: Value = serde_json::from_slice(&response.body).expect("JSON answer");
    let variables = &answer["call_inbound"]["dynamic_variables"];
    assert_eq!(variables["customer_known"], "true");
    assert_eq!(variables["customer_name"], "Maria Muster");
    assert_eq!(variables["upcoming_appointment_count"], "1");
    let next = format!("{} 10:00 Haircut with Anna", day.date.strftime("%Y-%m-%d"));
    assert_eq!(variables["next_appointment"], next.as_str());
    assert_eq!(variables["upcoming_appointments"], next.as_str());
    assert!(variables.as_object().unwrap().values().all(Value::is_string), "Retell wants string values");

    // Retell retries without a 2xx in time: a retry gets the same answer.
    let again = post(server, &retell.path, &retell_headers(RETELL_KEY, &body), &body).await;
    assert_eq!(serde_json::from_slice::<Value>(&again.body).unwrap(), answer);

    let stranger = bytes(&json!({
        "event": "call_inbound",
        "call_inbound": {"from_number": "+4917099999999", "to_number": BRANCH_NUMBER}
    }));
    let response = post(server, &retell.path, &retell_headers(RETELL_KEY, &stranger), &stranger).await;
    let answer: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(answer["call_inbound"]["dynamic_variables"]["customer_known"], "false");
    assert!(answer["call_inbound"]["dynamic_variables"].get("customer_name").is_none());

    let events = inbox(server, fx).await;
    assert_eq!(events.len(), 2, "one inbox row per distinct call_inbound");
    assert!(events.iter().all(|e| e.status == wh::InboundEventStatus::Processed as i32 && e.call_id.is_empty()));
}

async fn retell_call_inbound_discloses_what_the_tenant_allows(server: &TestServer) {
    let salon = Salon::open(server, "Salon Discreet").await;
    salon.give_staff_email("anna@salon.example").await;
    let fx = &salon.fx;
    let maria = customer(server, fx, CALLER, "Maria Muster").await;
    let day = BookingDay::berlin();
    salon
        .create(ap::CreateAppointmentRequest {
            customer: Some(ap::create_appointment_request::Customer::CustomerId(maria.id.clone())),
            ..salon.explicit(salon.service(), salon.staff(), day.at(10, 0), "")
        })
        .await;
    let retell = endpoint(server, fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    let set = |disclosure: tn::CallerDisclosure| {
        let mut tenants = server.tenants();
        let request = tn::UpdateTenantRequest {
            tenant: Some(tn::Tenant { id: fx.id.clone(), caller_disclosure: disclosure as i32, ..Default::default() }),
            update_mask: common::mask(&["caller_disclosure"]),
        };
        let admin = fx.admin.clone();
        async move { tenants.update_tenant(authed(request, &admin)).await }
    };
    let mut n = 0;
    let mut answer = || {
        n += 1;
        // A distinct body each time: a repeated one would be the same inbox event.
        let body = bytes(&json!({
            "event": "call_inbound",
            "call_inbound": {"agent_id": format!("agent_{n}"), "from_number": CALLER, "to_number": BRANCH_NUMBER}
        }));
        let path = retell.path.clone();
        async move {
            let response = post(server, &path, &retell_headers(RETELL_KEY, &body), &body).await;
            assert_eq!(response.status, 200);
            let answer: Value = serde_json::from_slice(&response.body).expect("JSON answer");
            answer["call_inbound"]["dynamic_variables"].clone()
        }
    };

    let full = answer().await;
    assert_eq!(full["caller_disclosure"], "full");
    assert_eq!(full["customer_name"], "Maria Muster");

    let updated = set(tn::CallerDisclosure::FirstNameAndDay).await.expect("update").into_inner();
    assert_eq!(updated.tenant.unwrap().caller_disclosure, tn::CallerDisclosure::FirstNameAndDay as i32);
    let partial = answer().await;
    assert_eq!(partial["caller_disclosure"], "first_name_and_day");
    assert_eq!(partial["customer_name"], "Maria");
    let weekday = day.date.strftime("%A").to_string();
    assert_eq!(partial["next_appointment_day"], weekday.as_str());
    for hidden in ["customer_id", "next_appointment", "upcoming_appointments", "upcoming_appointment_count"] {
        assert!(partial.get(hidden).is_none(), "{hidden} is not disclosed: {partial}");
    }
    let text = partial.to_string();
    assert!(!text.contains("Muster") && !text.contains("Haircut") && !text.contains("Anna"), "{text}");

    set(tn::CallerDisclosure::None).await.expect("update");
    let nothing = answer().await;
    assert_eq!(nothing["caller_disclosure"], "none");
    assert!(nothing.get("customer_known").is_none() && nothing.get("customer_name").is_none(), "{nothing}");
    assert!(nothing.get("branch_name").is_some());

    expect_code_of(set(tn::CallerDisclosure::Unspecified).await, tonic::Code::InvalidArgument);
}

fn expect_code_of<T: std::fmt::Debug>(result: Result<tonic::Response<T>, tonic::Status>, code: tonic::Code) {
    assert_eq!(result.expect_err("refused").code(), code);
}

async fn standard_webhooks_call_events_are_recorded_and_other_types_ignored(server: &TestServer) {
    let fx = server.tenant("Salon Standard").await;
    let caller = customer(server, &fx, CALLER, "Maria Muster").await;
    let secret = generate_secret();
    let standard = endpoint(server, &fx, wh::InboundProvider::StandardWebhooks, &secret).await;
    let body = bytes(&json!({
        "type": "call.analyzed",
        "timestamp": rfc3339(chrono::Utc::now().timestamp()),
        "data": {"callId": "sw_call_1", "branchId": fx.branch.id, "fromNumber": CALLER,
                 "startTime": rfc3339(1_790_000_000), "endTime": rfc3339(1_790_000_060),
                 "analysis": {"call_successful": true}}
    }));
    assert_eq!(post(server, &standard.path, &standard_headers(&secret, "msg_a", &body), &body).await.status, 200);
    // The same webhook-id again (a retry): nothing more.
    assert_eq!(post(server, &standard.path, &standard_headers(&secret, "msg_a", &body), &body).await.status, 200);
    let call = call_row(server, &fx, InboundProvider::StandardWebhooks, "sw_call_1").await.expect("recorded");
    assert_eq!(call.status, "analyzed");
    assert_eq!(call.customer_id.map(|id| id.to_string()), Some(caller.id));
    assert_eq!(call.branch_id.map(|id| id.to_string()), Some(fx.branch.id.clone()));
    assert!(call.analysis.unwrap().contains("call_successful"));

    let other = bytes(&json!({"type": "appointment.created", "timestamp": rfc3339(0), "data": {}}));
    assert_eq!(post(server, &standard.path, &standard_headers(&secret, "msg_b", &other), &other).await.status, 200);
    let events = inbox(server, &fx).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event_key, "msg_b");
    assert_eq!(events[0].status, wh::InboundEventStatus::Ignored as i32);
    assert_eq!(events[1].event_key, "msg_a");
    assert_eq!(events[1].status, wh::InboundEventStatus::Processed as i32);
}

/// Providers resend on timeouts, so copies arrive together: 50 at once make
/// one call, one inbox record and one outbound event; the copies that lose
/// the inbox race roll back their effect and its events.
async fn fifty_copies_at_once_make_one_call_and_one_outbound_event(server: &TestServer) {
    let fx = server.tenant("Salon Doppelt").await;
    let retell = endpoint(server, &fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    // The race is narrow (a copy must read the call after the winner's
    // commit but the inbox before it): several calls give it room.
    const CALLS: usize = 8;
    for n in 0..CALLS {
        let call_id = format!("call_copies_{n}");
        let started = bytes(&retell_call("call_started", &call_id));
        let headers = retell_headers(RETELL_KEY, &started);
        let answers = futures::future::join_all((0..50).map(|_| post(server, &retell.path, &headers, &started))).await;
        let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        call_row(server, &fx, InboundProvider::Retell, &call_id).await.expect("call recorded");
    }
    assert_eq!(inbox(server, &fx).await.len(), CALLS, "one inbox record per call");
    let types = outbox_types(server, &fx).await;
    assert_eq!(types.iter().filter(|t| t.starts_with("call.")).count(), CALLS, "one call.started per call: {types:?}");
}

on_both_databases!(
    fifty_copies_at_once_make_one_call_and_one_outbound_event,
    retell_call_events_in_any_order_make_one_call_and_replays_change_nothing,
    retell_call_ended_releases_the_calls_holds,
    retell_call_inbound_discloses_what_the_tenant_allows,
    retell_call_inbound_is_answered_fast_with_the_callers_name,
    standard_webhooks_call_events_are_recorded_and_other_types_ignored,
);
