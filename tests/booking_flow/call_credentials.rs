//! Call credentials: a key bound to one call and its caller's number. With
//! it the voice agent reads, books, reschedules and cancels for that caller
//! only; another caller's records are NOT_FOUND, methods beyond the call are
//! PERMISSION_DENIED (CALL_SCOPE), holds go under the call's id only, and the
//! credential expires.

use askpro::proto::tenant::v1::tenant_service_client::TenantServiceClient;

use super::*;

const CALLER: &str = "0151 23456789";
const CALLER_E164: &str = "+4915123456789";
const OTHER: &str = "0160 98765432";

async fn credential(s: &Salon, phone: &str, call_id: &str, ttl: Option<prost_types::Duration>) -> String {
    let request = ap::CreateCallCredentialRequest {
        phone_number: phone.into(),
        branch_id: s.branch().into(),
        call_id: call_id.into(),
        ttl,
    };
    let created = s.ap().create_call_credential(authed(request, s.agent())).await.expect("call credential");
    let created = created.into_inner();
    assert_eq!(created.phone_number, CALLER_E164);
    assert!(created.expire_time.is_some());
    created.credential
}

async fn a_call_credential_reaches_only_its_callers_records(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Call Scope").await;
    let day = BookingDay::berlin();
    // Another caller's appointment, booked with the agent's own key.
    let theirs = s.book(day.at(9, 0), OTHER).await;
    let other_customer = theirs.customer_id.clone();
    let call = credential(&s, CALLER, "call-7", None).await;
    let mut ap_client = s.ap();
    let mut av_client = s.av();

    // The caller: slots, a hold under the call's id, a booking for themself.
    let slots = s.slots_request(s.service(), &[s.staff()], day.start(), day.end());
    let slots = av_client.list_available_slots(authed(slots, &call)).await.expect("slots").into_inner().slots;
    assert!(!slots.is_empty());
    let hold =
        av_client.hold_slot(authed(s.hold_request(s.service(), s.staff(), day.at(10, 0), "call-7"), &call)).await;
    let hold = hold.expect("hold under the call id").into_inner().hold.unwrap();
    let other_key = s.hold_request(s.service(), s.staff(), day.at(11, 0), "call-8");
    expect_reason(av_client.hold_slot(authed(other_key, &call)).await, Code::PermissionDenied, "CALL_SCOPE");
    let booked = ap_client
        .create_appointment(authed(s.booking_from_hold(&hold.id, "call-7", CALLER), &call))
        .await
        .expect("book for the caller")
        .into_inner()
        .appointment
        .unwrap();
    let for_other = s.explicit(s.service(), s.staff(), day.at(12, 0), OTHER);
    expect_reason(ap_client.create_appointment(authed(for_other, &call)).await, Code::PermissionDenied, "CALL_SCOPE");
    let by_other_id = ap::CreateAppointmentRequest {
        customer: Some(ap::create_appointment_request::Customer::CustomerId(other_customer.clone())),
        ..s.explicit(s.service(), s.staff(), day.at(12, 0), OTHER)
    };
    expect_code(ap_client.create_appointment(authed(by_other_id, &call)).await, Code::NotFound);

    // Reads: the caller's own only.
    let find = |phone: &str| ap::FindCustomerByPhoneRequest { phone_number: phone.into(), branch_id: String::new() };
    let me = ap_client.find_customer_by_phone(authed(find(CALLER), &call)).await.expect("find self").into_inner();
    assert_eq!(me.upcoming_appointments.len(), 1);
    expect_code(ap_client.find_customer_by_phone(authed(find(OTHER), &call)).await, Code::NotFound);
    let get_other = ap::GetCustomerRequest { id: other_customer.clone() };
    expect_code(ap_client.get_customer(authed(get_other, &call)).await, Code::NotFound);
    let listed = ap_client.list_appointments(authed(ap::ListAppointmentsRequest::default(), &call)).await;
    let listed = listed.expect("list").into_inner().appointments;
    assert_eq!(listed.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), vec![booked.id.clone()], "only the caller's");
    let get = ap::GetAppointmentRequest { id: theirs.id.clone() };
    expect_code(ap_client.get_appointment(authed(get, &call)).await, Code::NotFound);

    // Changes: the caller's own only; never another's, never a phone number.
    let cancel = |id: &str| ap::CancelAppointmentRequest {
        id: id.into(),
        request_id: request_id(),
        reason: "caller asked".into(),
        etag: String::new(),
    };
    expect_code(ap_client.cancel_appointment(authed(cancel(&theirs.id), &call)).await, Code::NotFound);
    assert_eq!(s.get(&theirs.id).await.status, ap::AppointmentStatus::Confirmed as i32, "untouched");
    let moved = common::booking::reschedule_request(&theirs.id, "", day.at(15, 0), "");
    expect_code(ap_client.reschedule_appointment(authed(moved, &call)).await, Code::NotFound);
    let renumber = ap::UpdateCustomerRequest {
        customer: Some(ap::Customer {
            id: booked.customer_id.clone(),
            phone_number: OTHER.into(),
            ..Default::default()
        }),
        update_mask: common::mask(&["phone_number"]),
        region_code: String::new(),
    };
    expect_reason(ap_client.update_customer(authed(renumber, &call)).await, Code::PermissionDenied, "CALL_SCOPE");
    ap_client.cancel_appointment(authed(cancel(&booked.id), &call)).await.expect("cancel own");

    // Methods beyond the call.
    let all = ap::ListCustomersRequest::default();
    expect_reason(ap_client.list_customers(authed(all, &call)).await, Code::PermissionDenied, "CALL_SCOPE");
    let keys = TenantServiceClient::new(server.channel.clone())
        .list_api_keys(authed(askpro::proto::tenant::v1::ListApiKeysRequest::default(), &call))
        .await;
    expect_reason(keys, Code::PermissionDenied, "CALL_SCOPE");
    let again = ap::CreateCallCredentialRequest {
        phone_number: OTHER.into(),
        branch_id: String::new(),
        call_id: "call-9".into(),
        ttl: None,
    };
    expect_reason(ap_client.create_call_credential(authed(again, &call)).await, Code::PermissionDenied, "CALL_SCOPE");
    // The tenant's catalogue is open to the call.
    TenantServiceClient::new(server.channel.clone())
        .list_services(authed(askpro::proto::tenant::v1::ListServicesRequest::default(), &call))
        .await
        .expect("services");
}

async fn a_call_credential_expires(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Call Expiry").await;
    let call = credential(&s, CALLER, "call-short", Some(prost_types::Duration { seconds: 1, nanos: 0 })).await;
    let find = ap::FindCustomerByPhoneRequest { phone_number: CALLER.into(), branch_id: String::new() };
    expect_code(s.ap().find_customer_by_phone(authed(find.clone(), &call)).await, Code::NotFound);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = expect_code(s.ap().find_customer_by_phone(authed(find, &call)).await, Code::Unauthenticated);
    assert_eq!(reason(&status), "API_KEY_INVALID");
    let bad = ap::CreateCallCredentialRequest {
        phone_number: "not a number".into(),
        branch_id: String::new(),
        call_id: String::new(),
        ttl: Some(minutes(300)),
    };
    let status = expect_code(s.ap().create_call_credential(authed(bad, s.agent())).await, Code::InvalidArgument);
    let fields = violated_fields(&status);
    assert!(fields.contains(&"call_id".to_owned()) && fields.contains(&"ttl".to_owned()), "{fields:?}");
}

on_both_databases!(a_call_credential_reaches_only_its_callers_records, a_call_credential_expires);
