//! The voice-agent flow against a real `askpro serve` with trace logging.

use super::*;

/// The voice-agent flow against a real `askpro serve` with trace logging:
/// every call is logged once with its fields, the handler's own lines carry
/// the call's correlation id, and no secret the test used is in the output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_flow_logs_every_call_and_no_secret() {
    let workdir = Workdir::new();
    let created = workdir.run(&["platform-key", "create", "--name", "logs"], "platform-key").await;
    assert!(created.status.success(), "platform-key create: {}\n{}", created.status, created.stderr);
    let platform = created.stdout.trim().to_owned();
    assert!(platform.starts_with("ak_") && secret_part(&platform).len() == 48, "{platform:?}");

    let mut server = workdir.serve(&[], "serve").await;
    let channel = server.channel().await;
    let mut tenants = TenantServiceClient::new(channel.clone());
    let mut availability = AvailabilityServiceClient::new(channel.clone());
    let mut appointments = AppointmentServiceClient::new(channel.clone());
    let mut calls = Calls::default();

    // The platform admin sets up a salon: tenant, keys, branch, service, staff, hours.
    let id = calls.next_id();
    let message = tn::CreateTenantRequest {
        request_id: Uuid::now_v7().to_string(),
        tenant: Some(tn::Tenant {
            display_name: "Logs Salon".into(),
            time_zone: "Europe/Berlin".into(),
            region_code: "DE".into(),
            ..Default::default()
        }),
    };
    let result = within(tenants.create_tenant(request(message, Auth::Bearer(&platform), SentId::Valid(&id)))).await;
    let tenant = calls.ok(CREATE_TENANT, "-", SentId::Valid(&id), result).tenant.expect("tenant").id;

    let new_key = |scope: tn::ApiKeyScope| tn::CreateApiKeyRequest {
        api_key: Some(tn::ApiKey { display_name: format!("{scope:?} key"), scope: scope as i32, ..Default::default() }),
    };
    let id = calls.next_id();
    let as_tenant = Auth::PlatformIn { key: &platform, tenant: &tenant };
    let result =
        within(tenants.create_api_key(request(new_key(tn::ApiKeyScope::TenantAdmin), as_tenant, SentId::Valid(&id))))
            .await;
    let admin = calls.ok(CREATE_API_KEY, &tenant, SentId::Valid(&id), result).secret;

    let id = calls.next_id();
    let result = within(tenants.create_api_key(request(
        new_key(tn::ApiKeyScope::Agent),
        Auth::Bearer(&admin),
        SentId::Valid(&id),
    )))
    .await;
    let agent = calls.ok(CREATE_API_KEY, &tenant, SentId::Valid(&id), result).secret;

    let id = calls.next_id();
    let message = tn::CreateBranchRequest {
        request_id: Uuid::now_v7().to_string(),
        branch: Some(tn::Branch {
            display_name: "Logs Salon Mitte".into(),
            time_zone: "Europe/Berlin".into(),
            phone_numbers: vec![BRANCH_PHONE_NATIONAL.into()],
            ..Default::default()
        }),
    };
    let result = within(tenants.create_branch(request(message, Auth::Bearer(&admin), SentId::Valid(&id)))).await;
    let branch = calls.ok(CREATE_BRANCH, &tenant, SentId::Valid(&id), result).branch.expect("branch");
    assert_eq!(branch.phone_numbers, vec![BRANCH_PHONE_E164.to_owned()]);

    let id = calls.next_id();
    let message = tn::CreateServiceRequest {
        request_id: Uuid::now_v7().to_string(),
        service: Some(tn::Service {
            display_name: "Haircut".into(),
            duration: Some(prost_types::Duration { seconds: 45 * 60, nanos: 0 }),
            ..Default::default()
        }),
    };
    let result = within(tenants.create_service(request(message, Auth::Bearer(&admin), SentId::Valid(&id)))).await;
    let service = calls.ok(CREATE_SERVICE, &tenant, SentId::Valid(&id), result).service.expect("service").id;

    let id = calls.next_id();
    let message = tn::CreateStaffRequest {
        request_id: Uuid::now_v7().to_string(),
        staff: Some(tn::Staff {
            branch_id: branch.id.clone(),
            display_name: "Anna".into(),
            service_ids: vec![service.clone()],
            ..Default::default()
        }),
    };
    let result = within(tenants.create_staff(request(message, Auth::Bearer(&admin), SentId::Valid(&id)))).await;
    let staff = calls.ok(CREATE_STAFF, &tenant, SentId::Valid(&id), result).staff.expect("staff").id;

    let id = calls.next_id();
    let every_day = (1..=7)
        .map(|day| av::DayHours {
            day_of_week: day,
            intervals: vec![types::LocalTimeInterval { start_time: local_time(8, 0), end_time: local_time(20, 0) }],
        })
        .collect();
    let message = av::SetWorkingHoursRequest { staff_id: staff.clone(), days: every_day, etag: String::new() };
    let result =
        within(availability.set_working_hours(request(message, Auth::Bearer(&admin), SentId::Valid(&id)))).await;
    calls.ok(SET_WORKING_HOURS, &tenant, SentId::Valid(&id), result);

    // The agent: an unknown caller, then the same caller as a new customer.
    let find =
        |phone: &str| ap::FindCustomerByPhoneRequest { phone_number: phone.into(), branch_id: branch.id.clone() };
    let unknown_id = calls.next_id();
    let result = within(appointments.find_customer_by_phone(request(
        find(PHONE_E164),
        Auth::Bearer(&agent),
        SentId::Valid(&unknown_id),
    )))
    .await;
    calls.record(FIND_CUSTOMER, &tenant, SentId::Valid(&unknown_id), Code::NotFound, result).expect_err("unknown");

    let id = calls.next_id();
    let message = ap::CreateCustomerRequest {
        request_id: Uuid::now_v7().to_string(),
        customer: Some(ap::Customer {
            phone_number: PHONE_NATIONAL.into(),
            display_name: "Erika".into(),
            email: CUSTOMER_EMAIL.into(),
            ..Default::default()
        }),
        region_code: String::new(),
    };
    let result = within(appointments.create_customer(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    let customer = calls.ok(CREATE_CUSTOMER, &tenant, SentId::Valid(&id), result).customer.expect("customer");
    assert_eq!(customer.phone_number, PHONE_E164, "stored in E.164");

    let found_id = calls.next_id();
    let result = within(appointments.find_customer_by_phone(request(
        find(PHONE_E164),
        Auth::Bearer(&agent),
        SentId::Valid(&found_id),
    )))
    .await;
    let found = calls.ok(FIND_CUSTOMER, &tenant, SentId::Valid(&found_id), result).customer.expect("customer");
    assert_eq!(found.id, customer.id);

    // Slots, a hold, the booking from it, a reschedule and a cancellation.
    let day = BookingDay::berlin();
    let id = calls.next_id();
    let message = av::ListAvailableSlotsRequest {
        branch_id: branch.id.clone(),
        service_id: service.clone(),
        staff_ids: vec![staff.clone()],
        time_range: Some(types::TimeRange {
            start_time: Some(day.timestamp(0, 0)),
            end_time: Some(day.next().timestamp(0, 0)),
        }),
        time_zone: String::new(),
        page_size: 100,
        page_token: String::new(),
    };
    let result =
        within(availability.list_available_slots(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    let slots = calls.ok(LIST_SLOTS, &tenant, SentId::Valid(&id), result).slots;
    let ten = day.timestamp(10, 0);
    assert!(slots.iter().any(|s| s.start_time == Some(ten)), "10:00 is offered: {slots:?}");

    let id = calls.next_id();
    let message = av::HoldSlotRequest {
        request_id: Uuid::now_v7().to_string(),
        branch_id: branch.id.clone(),
        service_id: service.clone(),
        staff_id: staff.clone(),
        start_time: Some(ten),
        hold_key: "call-logs-1".into(),
        ttl: None,
    };
    let result = within(availability.hold_slot(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    let hold = calls.ok(HOLD_SLOT, &tenant, SentId::Valid(&id), result).hold.expect("hold");

    let id = calls.next_id();
    let message = ap::CreateAppointmentRequest {
        request_id: Uuid::now_v7().to_string(),
        slot: Some(ap::create_appointment_request::Slot::FromHold(ap::HoldReference {
            hold_id: hold.id.clone(),
            hold_key: "call-logs-1".into(),
        })),
        customer: Some(ap::create_appointment_request::Customer::CustomerId(customer.id.clone())),
        source: ap::AppointmentSource::PhoneAgent as i32,
        notes: "first visit".into(),
        call_id: "call-logs-1".into(),
        initial_status: 0,
    };
    let result =
        within(appointments.create_appointment(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    let booked = calls.ok(CREATE_APPOINTMENT, &tenant, SentId::Valid(&id), result).appointment.expect("appointment");
    assert_eq!(booked.customer_id, customer.id);

    let id = calls.next_id();
    let message = ap::RescheduleAppointmentRequest {
        id: booked.id.clone(),
        request_id: Uuid::now_v7().to_string(),
        start_time: Some(day.timestamp(14, 0)),
        staff_id: String::new(),
        hold: None,
        etag: String::new(),
    };
    let result =
        within(appointments.reschedule_appointment(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    calls.ok(RESCHEDULE, &tenant, SentId::Valid(&id), result);

    let id = calls.next_id();
    let message = ap::CancelAppointmentRequest {
        id: booked.id.clone(),
        request_id: Uuid::now_v7().to_string(),
        reason: "caller cancelled".into(),
        etag: String::new(),
    };
    let result =
        within(appointments.cancel_appointment(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    calls.ok(CANCEL, &tenant, SentId::Valid(&id), result);

    // The tenant's Retell API key, given as an inbound endpoint's secret.
    let id = calls.next_id();
    let message = wh::CreateInboundEndpointRequest {
        request_id: Uuid::now_v7().to_string(),
        endpoint: Some(wh::InboundEndpoint {
            provider: wh::InboundProvider::Retell as i32,
            display_name: "Retell".into(),
            ..Default::default()
        }),
        secret: RETELL_KEY.into(),
    };
    let mut webhooks = WebhookServiceClient::new(channel.clone());
    let result =
        within(webhooks.create_inbound_endpoint(request(message, Auth::Bearer(&admin), SentId::Valid(&id)))).await;
    calls.ok(CREATE_INBOUND_ENDPOINT, &tenant, SentId::Valid(&id), result);
    drop(webhooks);

    // A made-up key, the agent key in x-api-key, a refused and a missing correlation id.
    let wrong = format!("ak_{}_{}", "0123456789abcdef".repeat(2), "5eed5eed5eed".repeat(4));
    let id = calls.next_id();
    let message = tn::ListBranchesRequest::default();
    let result = within(tenants.list_branches(request(message, Auth::Bearer(&wrong), SentId::Valid(&id)))).await;
    calls.record(LIST_BRANCHES, "-", SentId::Valid(&id), Code::Unauthenticated, result).expect_err("wrong key");

    let id = calls.next_id();
    let message = tn::ListServicesRequest::default();
    let result = within(tenants.list_services(request(message, Auth::XApiKey(&agent), SentId::Valid(&id)))).await;
    assert_eq!(calls.ok(LIST_SERVICES, &tenant, SentId::Valid(&id), result).services.len(), 1);

    let message = ap::GetAppointmentRequest { id: booked.id.clone() };
    let sent = SentId::Invalid(INVALID_REQUEST_ID);
    let result = within(appointments.get_appointment(request(message, Auth::Bearer(&agent), sent))).await;
    calls.ok(GET_APPOINTMENT, &tenant, sent, result);

    let message = ap::ListAppointmentsRequest::default();
    let result = within(appointments.list_appointments(request(message, Auth::Bearer(&agent), SentId::None))).await;
    calls.ok(LIST_APPOINTMENTS, &tenant, SentId::None, result);

    drop((tenants, availability, appointments, channel));
    let status = server.terminate().await;
    assert!(status.success(), "serve exited with {status} after SIGTERM");

    let log = server.stderr();
    let lines = json_lines(&log);

    // No secret, in any line, from any target.
    let national_digits = PHONE_NATIONAL.replace(' ', "");
    let mut forbidden: Vec<(&str, &str)> = Vec::new();
    for (name, key) in
        [("platform key", &platform), ("admin key", &admin), ("agent key", &agent), ("wrong key", &wrong)]
    {
        forbidden.push((name, key));
        forbidden.push((name, secret_part(key)));
    }
    forbidden.extend([
        ("a bearer token", "Bearer ak_"),
        ("the caller's number in E.164", PHONE_E164),
        ("the caller's number as typed", PHONE_NATIONAL),
        ("the caller's number without blanks", &national_digits),
        ("the caller's number without the plus", &PHONE_E164[1..]),
        ("the branch's number in E.164", BRANCH_PHONE_E164),
        ("the branch's number as typed", BRANCH_PHONE_NATIONAL),
        ("the branch's number without the plus", &BRANCH_PHONE_E164[1..]),
        ("the refused correlation id", INVALID_REQUEST_ID),
        ("the customer's e-mail address", CUSTOMER_EMAIL),
        ("the Retell API key", RETELL_KEY),
    ]);
    assert_absent(&log, &forbidden);
    assert_absent(&created.stderr, &[("platform key", &platform), ("platform key secret", secret_part(&platform))]);

    // The lookups logged the number masked, inside their calls' spans.
    assert!(log.contains(PHONE_MASKED), "the masked number {PHONE_MASKED} is logged");
    let lookups: Vec<&Value> =
        lines.iter().filter(|l| text(l, "message") == Some("customer lookup by phone")).collect();
    assert_eq!(lookups.len(), 2, "one lookup line per FindCustomerByPhone: {lookups:#?}");
    for (line, id, found) in [(lookups[0], &unknown_id, false), (lookups[1], &found_id, true)] {
        assert_eq!(text(line, "phone"), Some(PHONE_MASKED), "{line}");
        assert_eq!(line.get("found").and_then(Value::as_bool), Some(found), "{line}");
        let span = line.get("span").unwrap_or_else(|| panic!("the lookup line names its call span: {line}"));
        assert_eq!(text(span, "request_id"), Some(id.as_str()), "{line}");
        assert_eq!(text(span, "method"), Some(FIND_CUSTOMER), "{line}");
    }

    // Every line inside a call span names one of the calls made.
    for line in &lines {
        if let Some(span) = line.get("span").filter(|s| text(s, "name") == Some("call")) {
            let id = text(span, "request_id").unwrap_or_else(|| panic!("a call span without request_id: {line}"));
            assert!(calls.made.iter().any(|c| c.request_id == id), "a line of an unknown call: {line}");
        }
    }

    assert_call_lines(&lines, &calls.made);
}
