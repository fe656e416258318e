//! The client against the real server: the whole booking flow, the key on
//! every call, and rich error details decoded into `Error`.
/// The README's example, compiled into this test so it runs as written.
#[path = "../examples/book.rs"]
#[allow(dead_code)]
mod book_example;
mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use askpro_client::appointment::v1 as ap;
use askpro_client::availability::v1 as av;
use askpro_client::prost_types::Timestamp;
use askpro_client::tenant::v1 as tn;
use askpro_client::r#type::v1::{DayOfWeek, LocalTime, LocalTimeInterval, TimeRange};
use askpro_client::{AskPro, Error};
use common::TestServer;

/// A tenant made through the client with the platform key, open every day
/// around the clock, with one branch, service (45 min) and staff member.
struct Shop {
    admin: AskPro,
    agent: AskPro,
    branch: tn::Branch,
    service: tn::Service,
    staff: tn::Staff,
}

async fn shop(server: &TestServer) -> Shop {
    let platform = AskPro::connect(server.target(), &server.platform_key).await.expect("connect");
    let tenant = platform
        .create_tenant(tn::CreateTenantRequest {
            request_id: String::new(),
            tenant: Some(tn::Tenant {
                display_name: "Salon Kamm".into(),
                time_zone: "Europe/Berlin".into(),
                region_code: "DE".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("create tenant")
        .tenant
        .expect("tenant");
    let as_tenant = platform.for_tenant(&tenant.id).expect("tenant id");
    let admin_key = create_key(&as_tenant, tn::ApiKeyScope::TenantAdmin).await;
    let admin = platform.with_api_key(&admin_key).expect("key");
    let agent = admin.with_api_key(&create_key(&admin, tn::ApiKeyScope::Agent).await).expect("key");

    let branch = admin
        .create_branch(tn::CreateBranchRequest {
            request_id: String::new(),
            branch: Some(tn::Branch {
                display_name: "Mitte".into(),
                time_zone: "Europe/Berlin".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("create branch")
        .branch
        .expect("branch");
    let service = admin
        .create_service(tn::CreateServiceRequest {
            request_id: String::new(),
            service: Some(tn::Service {
                display_name: "Haircut".into(),
                duration: Some(askpro_client::prost_types::Duration { seconds: 45 * 60, nanos: 0 }),
                ..Default::default()
            }),
        })
        .await
        .expect("create service")
        .service
        .expect("service");
    let staff = admin
        .create_staff(tn::CreateStaffRequest {
            request_id: String::new(),
            staff: Some(tn::Staff {
                branch_id: branch.id.clone(),
                display_name: "Anna".into(),
                service_ids: vec![service.id.clone()],
                ..Default::default()
            }),
        })
        .await
        .expect("create staff")
        .staff
        .expect("staff");
    let all_day = LocalTimeInterval {
        start_time: Some(LocalTime { hours: 0, minutes: 0 }),
        end_time: Some(LocalTime { hours: 24, minutes: 0 }),
    };
    let days = (DayOfWeek::Monday as i32..=DayOfWeek::Sunday as i32)
        .map(|day| av::DayHours { day_of_week: day, intervals: vec![all_day] })
        .collect();
    admin
        .set_working_hours(av::SetWorkingHoursRequest { staff_id: staff.id.clone(), days, etag: String::new() })
        .await
        .expect("working hours");
    Shop { admin, agent, branch, service, staff }
}

async fn create_key(client: &AskPro, scope: tn::ApiKeyScope) -> String {
    client
        .create_api_key(tn::CreateApiKeyRequest {
            api_key: Some(tn::ApiKey {
                display_name: format!("{scope:?} key"),
                scope: scope as i32,
                ..Default::default()
            }),
        })
        .await
        .expect("create key")
        .secret
}

fn seconds_from_now(seconds: i64) -> Timestamp {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs() as i64;
    Timestamp { seconds: now + seconds, nanos: 0 }
}

/// Free slots from two to nine days ahead: past any notice, inside the horizon.
async fn slots(shop: &Shop) -> Vec<av::Slot> {
    let day = 24 * 3600;
    shop.agent
        .list_available_slots(av::ListAvailableSlotsRequest {
            branch_id: shop.branch.id.clone(),
            service_id: shop.service.id.clone(),
            time_range: Some(TimeRange {
                start_time: Some(seconds_from_now(2 * day)),
                end_time: Some(seconds_from_now(9 * day)),
            }),
            ..Default::default()
        })
        .await
        .expect("slots")
        .slots
}

async fn customer(shop: &Shop) -> ap::Customer {
    shop.agent
        .create_customer(ap::CreateCustomerRequest {
            request_id: String::new(),
            customer: Some(ap::Customer {
                phone_number: "0170 1234567".into(),
                display_name: "Jonas".into(),
                ..Default::default()
            }),
            region_code: String::new(),
        })
        .await
        .expect("create customer")
        .customer
        .expect("customer")
}

fn explicit(shop: &Shop, slot: &av::Slot, customer: &ap::Customer) -> ap::CreateAppointmentRequest {
    ap::CreateAppointmentRequest {
        slot: Some(ap::create_appointment_request::Slot::ExplicitSlot(ap::ExplicitSlot {
            service_id: shop.service.id.clone(),
            staff_id: slot.staff_id.clone(),
            start_time: slot.start_time,
            branch_id: shop.branch.id.clone(),
        })),
        customer: Some(ap::create_appointment_request::Customer::CustomerId(customer.id.clone())),
        source: ap::AppointmentSource::PhoneAgent as i32,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_books_reschedules_and_cancels_through_the_client() {
    let server = TestServer::start().await;
    let shop = shop(&server).await;
    let customer = customer(&shop).await;

    let slots = slots(&shop).await;
    assert!(slots.len() > 4, "a week of open hours has slots: {slots:?}");
    let first = &slots[0];
    assert_eq!(first.staff_id, shop.staff.id);

    let hold = shop
        .agent
        .hold_slot(av::HoldSlotRequest {
            branch_id: shop.branch.id.clone(),
            service_id: shop.service.id.clone(),
            staff_id: first.staff_id.clone(),
            start_time: first.start_time,
            hold_key: "call-1".into(),
            ..Default::default()
        })
        .await
        .expect("hold")
        .hold
        .expect("hold");

    let booked = shop
        .agent
        .create_appointment(ap::CreateAppointmentRequest {
            slot: Some(ap::create_appointment_request::Slot::FromHold(ap::HoldReference {
                hold_id: hold.id.clone(),
                hold_key: "call-1".into(),
            })),
            customer: Some(ap::create_appointment_request::Customer::CustomerId(customer.id.clone())),
            source: ap::AppointmentSource::PhoneAgent as i32,
            ..Default::default()
        })
        .await
        .expect("book")
        .appointment
        .expect("appointment");
    assert_eq!(booked.start_time, first.start_time);
    assert_eq!(booked.customer_id, customer.id);

    let later = &slots[4];
    let moved = shop
        .agent
        .reschedule_appointment(ap::RescheduleAppointmentRequest {
            id: booked.id.clone(),
            start_time: later.start_time,
            staff_id: later.staff_id.clone(),
            ..Default::default()
        })
        .await
        .expect("reschedule")
        .appointment
        .expect("appointment");
    assert_eq!(moved.start_time, later.start_time);

    let cancelled = shop
        .agent
        .cancel_appointment(ap::CancelAppointmentRequest {
            id: booked.id.clone(),
            reason: "customer called back".into(),
            ..Default::default()
        })
        .await
        .expect("cancel")
        .appointment
        .expect("appointment");
    assert_eq!(cancelled.status, ap::AppointmentStatus::Cancelled as i32);

    let fetched = shop.admin.get_appointment(ap::GetAppointmentRequest { id: booked.id }).await.expect("get");
    assert_eq!(fetched.appointment.expect("appointment").status, ap::AppointmentStatus::Cancelled as i32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_is_sent_on_every_call() {
    let server = TestServer::start().await;
    let shop = shop(&server).await;
    let branches = shop.agent.list_branches(tn::ListBranchesRequest::default()).await.expect("list with key");
    assert_eq!(branches.branches.len(), 1);

    // The same server without the interceptor: no key, no answer.
    let channel = askpro_client::tonic::transport::Endpoint::from_shared(server.target())
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut bare = tn::tenant_service_client::TenantServiceClient::new(channel);
    let status = bare.list_branches(tn::ListBranchesRequest::default()).await.expect_err("no key");
    assert_eq!(status.code(), askpro_client::tonic::Code::Unauthenticated);

    let wrong = AskPro::connect(server.target(), "not-a-key").await.expect("connect");
    let error = wrong.list_branches(tn::ListBranchesRequest::default()).await.expect_err("wrong key");
    assert!(matches!(error, Error::Unauthenticated(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_slot_comes_back_with_alternatives() {
    let server = TestServer::start().await;
    let shop = shop(&server).await;
    let customer = customer(&shop).await;
    let slot = slots(&shop).await.remove(0);

    shop.agent.create_appointment(explicit(&shop, &slot, &customer)).await.expect("first booking");
    let error = shop.agent.create_appointment(explicit(&shop, &slot, &customer)).await.expect_err("taken");
    let Error::SlotTaken { alternatives, details } = &error else { panic!("expected SlotTaken, got {error:?}") };
    assert_eq!(details.reason.as_deref(), Some("SLOT_TAKEN"));
    assert_eq!(error.code(), Some(askpro_client::tonic::Code::AlreadyExists));
    assert!(!alternatives.is_empty(), "alternatives offered: {details:?}");
    for alternative in alternatives {
        assert_eq!(alternative.staff_id, shop.staff.id);
        assert!(!alternative.start_time.is_empty() && !alternative.local_start_time.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_request_field_violations_are_decoded() {
    let server = TestServer::start().await;
    let shop = shop(&server).await;
    let error = shop
        .admin
        .create_branch(tn::CreateBranchRequest {
            request_id: String::new(),
            branch: Some(tn::Branch { time_zone: "Mars/Olympus".into(), ..Default::default() }),
        })
        .await
        .expect_err("invalid branch");
    let Error::InvalidArgument(details) = &error else { panic!("expected InvalidArgument, got {error:?}") };
    assert!(!details.violations.is_empty(), "violations: {details:?}");
    assert!(
        details.violations.iter().any(|v| v.field.contains("display_name") || v.field.contains("time_zone")),
        "violations name the fields: {:?}",
        details.violations
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_deadline_applies() {
    let server = TestServer::start().await;
    let client = AskPro::builder(server.target(), &server.platform_key)
        .deadline(Duration::from_nanos(1))
        .connect()
        .await
        .expect("connect");
    let error = client.list_branches(tn::ListBranchesRequest::default()).await.expect_err("no time at all");
    assert!(
        matches!(
            error.code(),
            Some(askpro_client::tonic::Code::DeadlineExceeded | askpro_client::tonic::Code::Cancelled)
        ),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_example_books_a_slot() {
    let server = TestServer::start().await;
    let shop = shop(&server).await;
    let key = create_key(&shop.admin, tn::ApiKeyScope::Agent).await;
    book_example::book(server.target(), key).await.expect("the example books");

    let booked = shop.agent.list_appointments(ap::ListAppointmentsRequest::default()).await.expect("list").appointments;
    assert_eq!(booked.len(), 1, "{booked:?}");
    assert_eq!(booked[0].staff_id, shop.staff.id);
    assert_eq!(booked[0].source, ap::AppointmentSource::PhoneAgent as i32);
}
