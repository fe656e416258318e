//! Customers and the dashboard keep the promises of the appointment proto:
//! every spelling of a phone number is one customer, creates are idempotent,
//! validation reports every bad field, etags guard updates and deletes, lists
//! page by name, a caller finds only their own tenant's customers, and the
//! dashboard counts by local day, ISO week and month.
mod common;

use askpro::domain::ids::TenantId;
use askpro::proto::appointment::v1 as pb;
use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use askpro::proto::tenant::v1 as tenant_pb;
use askpro::proto::r#type::v1::LocalDate;
use askpro::store::entities::{appointment, time_off};
use askpro::store::working_hours::{self, WeeklyInterval};
use chrono::{DateTime, Duration, Utc};
use common::{TenantFixture, TestServer, authed, expect_code, reason, violated_fields};
use prost_types::FieldMask;
use sea_orm::EntityTrait;
use tonic::Code;
use tonic::transport::Channel;
use uuid::Uuid;

type Client = AppointmentServiceClient<Channel>;

const NUMBER: &str = "+4915123456789";
const SPELLINGS: [&str; 3] = ["0151 23456789", "+49 151 23456789", "0049151 23456789"];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn client(server: &TestServer) -> Client {
    AppointmentServiceClient::new(server.channel.clone())
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

fn customer_input(phone: &str, name: &str) -> pb::Customer {
    pb::Customer { phone_number: phone.into(), display_name: name.into(), ..Default::default() }
}

async fn create_customer(client: &mut Client, key: &str, phone: &str, name: &str) -> pb::Customer {
    client
        .create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(customer_input(phone, name)),
                region_code: String::new(),
            },
            key,
        ))
        .await
        .expect("create customer")
        .into_inner()
        .customer
        .expect("customer")
}

/// The ids ListCustomers returns for `query` (first page of 50).
async fn list_ids(client: &mut Client, key: &str, query: &str) -> Result<Vec<String>, tonic::Status> {
    let request = pb::ListCustomersRequest { query: query.into(), page_size: 0, page_token: String::new() };
    let response = client.list_customers(authed(request, key)).await?.into_inner();
    Ok(response.customers.into_iter().map(|c| c.id).collect())
}

async fn find(
    client: &mut Client,
    key: &str,
    phone: &str,
    branch_id: &str,
) -> Result<pb::FindCustomerByPhoneResponse, tonic::Status> {
    client
        .find_customer_by_phone(authed(
            pb::FindCustomerByPhoneRequest { phone_number: phone.into(), branch_id: branch_id.into() },
            key,
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// The ErrorInfo metadata value of `key`.
fn metadata(status: &tonic::Status, key: &str) -> String {
    use tonic_types::StatusExt;
    status.get_error_details().error_info().and_then(|i| i.metadata.get(key).cloned()).unwrap_or_default()
}

fn tenant_id(fixture: &TenantFixture) -> TenantId {
    TenantId(Uuid::parse_str(&fixture.id).expect("tenant id"))
}

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("uuid")
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("RFC 3339").with_timezone(&Utc)
}

/// Where and for whom a test appointment is.
struct Booking<'a> {
    branch_id: &'a str,
    staff_id: &'a str,
    customer_id: &'a str,
}

/// Writes an appointment row straight into the store: these tests are about
/// reading appointments, not booking them.
async fn insert_appointment(
    server: &TestServer,
    fixture: &TenantFixture,
    booking: &Booking<'_>,
    start: DateTime<Utc>,
    minutes: i64,
    status: &str,
) -> Uuid {
    let now = Utc::now();
    let row = appointment::Model {
        tenant_id: uuid(&fixture.id),
        id: Uuid::now_v7(),
        branch_id: uuid(booking.branch_id),
        service_id: uuid(&fixture.service.id),
        staff_id: uuid(booking.staff_id),
        customer_id: uuid(booking.customer_id),
        start_time: start,
        end_time: start + Duration::minutes(minutes),
        status: status.into(),
        source: "frontend".into(),
        notes: String::new(),
        cancel_reason: String::new(),
        call_id: String::new(),
        external_booking_uid: String::new(),
        revision: 1,
        create_time: now,
        update_time: now,
    };
    let id = row.id;
    let tx = server.state.store.write(tenant_id(fixture)).await.expect("write tx");
    appointment::Entity::insert(askpro::store::all_set::<appointment::ActiveModel, _>(row))
        .exec_without_returning(tx.conn())
        .await
        .expect("insert appointment");
    tx.commit().await.expect("commit");
    id
}

async fn set_working_hours(server: &TestServer, fixture: &TenantFixture, staff_id: &str, week: &[WeeklyInterval]) {
    let tx = server.state.store.write(tenant_id(fixture)).await.expect("write tx");
    working_hours::replace(&tx, uuid(staff_id), week).await.expect("working hours");
    tx.commit().await.expect("commit");
}

/// Writes a time off row straight into the store: an absence `[start, end)`
/// or, with `date`, a date override holding `intervals` (minutes).
async fn insert_time_off(
    server: &TestServer,
    fixture: &TenantFixture,
    absence: Option<(DateTime<Utc>, DateTime<Utc>)>,
    date: Option<&str>,
    intervals: &str,
) {
    let row = time_off::Model {
        tenant_id: uuid(&fixture.id),
        id: Uuid::now_v7(),
        staff_id: uuid(&fixture.staff.id),
        start_time: absence.map(|(start, _)| start),
        end_time: absence.map(|(_, end)| end),
        override_date: date.map(str::to_owned),
        intervals: intervals.into(),
        reason: "test".into(),
        create_time: Utc::now(),
    };
    let tx = server.state.store.write(tenant_id(fixture)).await.expect("write tx");
    time_off::Entity::insert(askpro::store::all_set::<time_off::ActiveModel, _>(row))
        .exec_without_returning(tx.conn())
        .await
        .expect("insert time off");
    tx.commit().await.expect("commit");
}

async fn stats(
    client: &mut Client,
    key: &str,
    date: (i32, i32, i32),
    period: pb::StatsPeriod,
    branch_id: &str,
) -> Result<pb::GetDashboardStatsResponse, tonic::Status> {
    let (year, month, day) = date;
    client
        .get_dashboard_stats(authed(
            pb::GetDashboardStatsRequest {
                date: Some(LocalDate { year, month, day }),
                period: period as i32,
                branch_id: branch_id.into(),
            },
            key,
        ))
        .await
        .map(tonic::Response::into_inner)
}

fn counts(pending: i32, confirmed: i32, cancelled: i32, completed: i32, no_show: i32) -> pb::AppointmentCounts {
    pb::AppointmentCounts {
        pending,
        confirmed,
        cancelled,
        completed,
        no_show,
        total: pending + confirmed + cancelled + completed + no_show,
    }
}

#[track_caller]
fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!((actual - expected).abs() < 1e-9, "{what}: expected {expected}, got {actual}");
}

// ---------------------------------------------------------------------------
// Phone numbers and creation
// ---------------------------------------------------------------------------

async fn three_spellings_of_a_number_are_one_customer(server: &TestServer) {
    let t = server.tenant("Spellings").await;
    let mut c = client(server);
    let created = create_customer(&mut c, &t.agent, SPELLINGS[0], "Anna Schmidt").await;
    assert_eq!(created.phone_number, NUMBER, "stored in E.164 using the tenant's region DE");

    for (i, spelling) in SPELLINGS.iter().enumerate() {
        // Every spelling, also with the region named explicitly, is the same number.
        let region = if i == 1 { "de" } else { "" };
        let status = expect_code(
            c.create_customer(authed(
                pb::CreateCustomerRequest {
                    request_id: String::new(),
                    customer: Some(customer_input(spelling, "Someone Else")),
                    region_code: region.into(),
                },
                &t.agent,
            ))
            .await,
            Code::AlreadyExists,
        );
        assert_eq!(reason(&status), "RESOURCE_EXISTS", "{spelling}");
        assert_eq!(metadata(&status, "customer_id"), created.id, "{spelling}");
    }

    for spelling in SPELLINGS {
        for branch in ["", t.branch.id.as_str()] {
            let found = find(&mut c, &t.reader, spelling, branch).await.expect("found");
            assert_eq!(found.customer.expect("customer").id, created.id, "{spelling} via branch {branch:?}");
            assert!(found.upcoming_appointments.is_empty());
        }
    }

    let status =
        expect_code(find(&mut c, &t.reader, "0151 99999999", "").await.map(tonic::Response::new), Code::NotFound);
    assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    let status =
        expect_code(find(&mut c, &t.reader, "not a number", "").await.map(tonic::Response::new), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["phone_number"]);
    let status = expect_code(find(&mut c, &t.reader, "", "").await.map(tonic::Response::new), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["phone_number"]);
    let unknown_branch = Uuid::now_v7().to_string();
    expect_code(find(&mut c, &t.reader, SPELLINGS[0], &unknown_branch).await.map(tonic::Response::new), Code::NotFound);
}

async fn a_foreign_region_reads_national_numbers_in_that_region(server: &TestServer) {
    let t = server.tenant("Regions").await;
    let mut c = client(server);
    let customer = c
        .create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(customer_input("(201) 555-0123", "Sam")),
                region_code: "US".into(),
            },
            &t.agent,
        ))
        .await
        .expect("US number")
        .into_inner()
        .customer
        .expect("customer");
    assert_eq!(customer.phone_number, "+12015550123");
    let found = find(&mut c, &t.reader, "+1 201 555 0123", "").await.expect("found");
    assert_eq!(found.customer.expect("customer").id, customer.id);
}

async fn create_customer_is_idempotent_by_request_id(server: &TestServer) {
    let t = server.tenant("Idempotent").await;
    let mut c = client(server);
    let request = |name: &str| pb::CreateCustomerRequest {
        request_id: "create-anna-1".into(),
        customer: Some(customer_input(SPELLINGS[0], name)),
        region_code: String::new(),
    };
    let first = c.create_customer(authed(request("Anna"), &t.agent)).await.expect("first").into_inner();
    let retry = c.create_customer(authed(request("Anna"), &t.agent)).await.expect("retry").into_inner();
    assert_eq!(first, retry, "a retry returns the first response, not ALREADY_EXISTS");

    let status = expect_code(c.create_customer(authed(request("Bert"), &t.agent)).await, Code::InvalidArgument);
    assert_eq!(reason(&status), "REQUEST_ID_REUSED");

    let listed = c
        .list_customers(authed(pb::ListCustomersRequest::default(), &t.reader))
        .await
        .expect("list")
        .into_inner()
        .customers;
    assert_eq!(listed.len(), 1);
}

async fn create_customer_reports_every_bad_field_at_once(server: &TestServer) {
    let t = server.tenant("Validation").await;
    let mut c = client(server);
    let status = expect_code(
        c.create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(pb::Customer {
                    phone_number: "hello".into(),
                    display_name: "x".repeat(201),
                    email: "not-an-email".into(),
                    notes: "n".repeat(2001),
                    ..Default::default()
                }),
                region_code: String::new(),
            },
            &t.agent,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(reason(&status), "INVALID_ARGUMENT");
    assert_eq!(
        sorted(violated_fields(&status)),
        vec!["customer.display_name", "customer.email", "customer.notes", "customer.phone_number"]
    );

    let status = expect_code(
        c.create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: "bad id with spaces".into(),
                customer: Some(customer_input("", "")),
                region_code: "XX".into(),
            },
            &t.agent,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["request_id"]);

    let status = expect_code(
        c.create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(customer_input("", "")),
                region_code: "XX".into(),
            },
            &t.agent,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(sorted(violated_fields(&status)), vec!["customer.phone_number", "region_code"]);

    // An e-mail over the contract's 254 characters is refused too.
    let long_email = format!("{}@example.com", "a".repeat(250));
    let status = expect_code(
        c.create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(pb::Customer { email: long_email, ..customer_input(SPELLINGS[0], "") }),
                region_code: String::new(),
            },
            &t.agent,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["customer.email"]);

    // Nothing was written; a name is optional.
    let listed = c.list_customers(authed(pb::ListCustomersRequest::default(), &t.reader)).await.expect("list");
    assert!(listed.into_inner().customers.is_empty());
    let nameless = create_customer(&mut c, &t.agent, SPELLINGS[0], "").await;
    assert_eq!(nameless.display_name, "");
}

async fn reader_cannot_create_customers(server: &TestServer) {
    let t = server.tenant("Reader").await;
    let mut c = client(server);
    let status = expect_code(
        c.create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(customer_input(SPELLINGS[0], "Anna")),
                region_code: String::new(),
            },
            &t.reader,
        ))
        .await,
        Code::PermissionDenied,
    );
    assert_eq!(reason(&status), "SCOPE_INSUFFICIENT");
    let created = create_customer(&mut c, &t.agent, SPELLINGS[0], "Anna").await;
    let status = expect_code(
        c.delete_customer(authed(pb::DeleteCustomerRequest { id: created.id.clone(), etag: String::new() }, &t.agent))
            .await,
        Code::PermissionDenied,
    );
    assert_eq!(reason(&status), "SCOPE_INSUFFICIENT", "deleting needs a tenant admin key");
    let got = c.get_customer(authed(pb::GetCustomerRequest { id: created.id.clone() }, &t.reader)).await;
    assert_eq!(got.expect("reader reads").into_inner().customer.expect("customer").id, created.id);
}

// ---------------------------------------------------------------------------
// Update and delete
// ---------------------------------------------------------------------------

async fn update_customer_changes_masked_fields_and_checks_the_etag(server: &TestServer) {
    let t = server.tenant("Update").await;
    let mut c = client(server);
    let anna = create_customer(&mut c, &t.agent, SPELLINGS[0], "Anna").await;
    let bert = create_customer(&mut c, &t.agent, "0170 1234567", "Bert").await;

    let update = |customer: pb::Customer, paths: &[&str], region: &str| pb::UpdateCustomerRequest {
        customer: Some(customer),
        update_mask: mask(paths),
        region_code: region.into(),
    };
    // Only the masked field changes, although email is sent too.
    let renamed = c
        .update_customer(authed(
            update(
                pb::Customer {
                    display_name: "Anna Schmidt".into(),
                    email: "ignored@example.com".into(),
                    ..anna.clone()
                },
                &["display_name"],
                "",
            ),
            &t.agent,
        ))
        .await
        .expect("rename")
        .into_inner()
        .customer
        .expect("customer");
    assert_eq!(renamed.display_name, "Anna Schmidt");
    assert_eq!(renamed.email, "");
    assert_ne!(renamed.etag, anna.etag);

    // The old etag is stale now.
    let status = expect_code(
        c.update_customer(authed(
            update(pb::Customer { notes: "VIP".into(), ..anna.clone() }, &["notes"], ""),
            &t.agent,
        ))
        .await,
        Code::Aborted,
    );
    assert_eq!(reason(&status), "ETAG_MISMATCH");

    // A new number in national notation of a named region; email and notes together.
    let changed = c
        .update_customer(authed(
            update(
                pb::Customer {
                    phone_number: "0152 76543210".into(),
                    email: "anna@example.com".into(),
                    notes: "prefers mornings".into(),
                    ..renamed.clone()
                },
                &["phone_number", "email", "notes"],
                "DE",
            ),
            &t.agent,
        ))
        .await
        .expect("change number")
        .into_inner()
        .customer
        .expect("customer");
    assert_eq!(changed.phone_number, "+4915276543210");
    assert_eq!(changed.email, "anna@example.com");
    assert_eq!(changed.notes, "prefers mornings");
    assert_eq!(changed.display_name, "Anna Schmidt");
    let got = c.get_customer(authed(pb::GetCustomerRequest { id: anna.id.clone() }, &t.reader)).await.expect("get");
    assert_eq!(got.into_inner().customer.expect("customer"), changed);

    // Bert's number is taken; the error names Bert.
    let status = expect_code(
        c.update_customer(authed(
            update(
                pb::Customer { phone_number: "+49 170 1234567".into(), etag: String::new(), ..changed.clone() },
                &["phone_number"],
                "",
            ),
            &t.agent,
        ))
        .await,
        Code::AlreadyExists,
    );
    assert_eq!(reason(&status), "RESOURCE_EXISTS");
    assert_eq!(metadata(&status, "customer_id"), bert.id);

    // Keeping one's own number (in another spelling) is no conflict.
    c.update_customer(authed(
        update(
            pb::Customer { phone_number: "+49 152 76543210".into(), etag: String::new(), ..changed.clone() },
            &["phone_number"],
            "",
        ),
        &t.agent,
    ))
    .await
    .expect("same number");

    // Masks: required, and only the four fields.
    let status =
        expect_code(c.update_customer(authed(update(changed.clone(), &[], ""), &t.agent)).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["update_mask"]);
    let status = expect_code(
        c.update_customer(authed(update(changed.clone(), &["id"], ""), &t.agent)).await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["update_mask"]);
    // Bad values are reported together.
    let status = expect_code(
        c.update_customer(authed(
            update(
                pb::Customer {
                    phone_number: "12".into(),
                    email: "nope".into(),
                    etag: String::new(),
                    ..changed.clone()
                },
                &["phone_number", "email"],
                "",
            ),
            &t.agent,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(sorted(violated_fields(&status)), vec!["customer.email", "customer.phone_number"]);
    let unknown = pb::Customer { id: Uuid::now_v7().to_string(), etag: String::new(), ..changed.clone() };
    expect_code(c.update_customer(authed(update(unknown, &["notes"], ""), &t.agent)).await, Code::NotFound);
}

async fn deleted_customer_is_gone_and_its_number_can_be_reused(server: &TestServer) {
    let t = server.tenant("Delete").await;
    let mut c = client(server);
    let anna = create_customer(&mut c, &t.agent, SPELLINGS[0], "Anna").await;

    let stale = expect_code(
        c.delete_customer(authed(pb::DeleteCustomerRequest { id: anna.id.clone(), etag: "\"99\"".into() }, &t.admin))
            .await,
        Code::Aborted,
    );
    assert_eq!(reason(&stale), "ETAG_MISMATCH");
    c.delete_customer(authed(pb::DeleteCustomerRequest { id: anna.id.clone(), etag: anna.etag.clone() }, &t.admin))
        .await
        .expect("delete");

    let status = expect_code(
        c.get_customer(authed(pb::GetCustomerRequest { id: anna.id.clone() }, &t.reader)).await,
        Code::NotFound,
    );
    assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    expect_code(
        c.delete_customer(authed(pb::DeleteCustomerRequest { id: anna.id.clone(), etag: String::new() }, &t.admin))
            .await,
        Code::NotFound,
    );
    expect_code(find(&mut c, &t.reader, SPELLINGS[1], "").await.map(tonic::Response::new), Code::NotFound);
    let listed = c.list_customers(authed(pb::ListCustomersRequest::default(), &t.reader)).await.expect("list");
    assert!(listed.into_inner().customers.is_empty());

    let again = create_customer(&mut c, &t.agent, SPELLINGS[2], "Anna again").await;
    assert_ne!(again.id, anna.id);
    assert_eq!(again.phone_number, NUMBER);
}

async fn customers_with_open_appointments_cannot_be_deleted(server: &TestServer) {
    let t = server.tenant("Open appointments").await;
    let mut c = client(server);
    let busy = create_customer(&mut c, &t.agent, SPELLINGS[0], "Busy").await;
    let done = create_customer(&mut c, &t.agent, "0170 1234567", "Done").await;
    let now = Utc::now();
    let busy_booking = Booking { branch_id: &t.branch.id, staff_id: &t.staff.id, customer_id: &busy.id };
    insert_appointment(server, &t, &busy_booking, now + Duration::days(2), 45, "confirmed").await;
    let done_booking = Booking { branch_id: &t.branch.id, staff_id: &t.staff.id, customer_id: &done.id };
    insert_appointment(server, &t, &done_booking, now - Duration::days(2), 45, "confirmed").await;
    insert_appointment(server, &t, &done_booking, now + Duration::days(2), 45, "cancelled").await;

    let status = expect_code(
        c.delete_customer(authed(pb::DeleteCustomerRequest { id: busy.id.clone(), etag: String::new() }, &t.admin))
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&status), "FAILED_PRECONDITION");
    c.get_customer(authed(pb::GetCustomerRequest { id: busy.id.clone() }, &t.reader)).await.expect("still there");

    // Ended and cancelled appointments do not hold a customer back.
    c.delete_customer(authed(pb::DeleteCustomerRequest { id: done.id.clone(), etag: String::new() }, &t.admin))
        .await
        .expect("delete");
}

// ---------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------

async fn list_customers_pages_by_name_and_filters_by_query(server: &TestServer) {
    let t = server.tenant("Listing").await;
    let mut c = client(server);
    // Created out of name order; names differ in case.
    let dora = create_customer(&mut c, &t.agent, "0151 11100004", "Dora").await;
    let bert = create_customer(&mut c, &t.agent, "0151 11100002", "bert Braun").await;
    let anna = create_customer(&mut c, &t.agent, "0151 11100001", "Anna Schmidt").await;
    let carla = create_customer(&mut c, &t.agent, "0170 2220003", "carla Abel-Zorn").await;

    let mut ids = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = c
            .list_customers(authed(
                pb::ListCustomersRequest { query: String::new(), page_size: 3, page_token: token.clone() },
                &t.reader,
            ))
            .await
            .expect("page")
            .into_inner();
        pages += 1;
        ids.extend(page.customers.into_iter().map(|c| c.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(pages, 2);
    assert_eq!(
        ids,
        vec![anna.id.clone(), bert.id.clone(), carla.id.clone(), dora.id.clone()],
        "case-insensitive name order"
    );

    assert_eq!(list_ids(&mut c, &t.reader, "AN").await.expect("name"), vec![anna.id.clone()]);
    assert_eq!(list_ids(&mut c, &t.reader, "braun").await.expect("second word"), vec![bert.id.clone()]);
    assert_eq!(list_ids(&mut c, &t.reader, "zorn").await.expect("after a hyphen"), vec![carla.id.clone()]);
    assert_eq!(list_ids(&mut c, &t.reader, "chmidt").await.expect("not a prefix"), Vec::<String>::new());
    assert_eq!(list_ids(&mut c, &t.reader, "%").await.expect("wildcards are literal"), Vec::<String>::new());
    let by_number = vec![anna.id.clone(), bert.id.clone(), dora.id.clone()];
    assert_eq!(list_ids(&mut c, &t.reader, "0151 111").await.expect("national"), by_number);
    assert_eq!(list_ids(&mut c, &t.reader, "+49 (151) 111").await.expect("international"), by_number);
    assert_eq!(list_ids(&mut c, &t.reader, "0049151-111").await.expect("international prefix"), by_number);
    assert_eq!(list_ids(&mut c, &t.reader, "0151 11100002").await.expect("whole number"), vec![bert.id.clone()]);
    assert_eq!(list_ids(&mut c, &t.reader, "0170").await.expect("other prefix"), vec![carla.id.clone()]);

    // A filtered listing pages too, and its token is bound to its query.
    let first = c
        .list_customers(authed(
            pb::ListCustomersRequest { query: "0151".into(), page_size: 2, page_token: String::new() },
            &t.reader,
        ))
        .await
        .expect("filtered page")
        .into_inner();
    assert_eq!(first.customers.len(), 2);
    let rest = c
        .list_customers(authed(
            pb::ListCustomersRequest { query: "0151".into(), page_size: 2, page_token: first.next_page_token.clone() },
            &t.reader,
        ))
        .await
        .expect("next filtered page")
        .into_inner();
    assert_eq!(rest.customers.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), vec![dora.id.clone()]);
    assert!(rest.next_page_token.is_empty());
    let status = expect_code(
        c.list_customers(authed(
            pb::ListCustomersRequest { query: "0170".into(), page_size: 2, page_token: first.next_page_token.clone() },
            &t.reader,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["page_token"]);
    let status = expect_code(
        list_ids(&mut c, &t.reader, &"a".repeat(101)).await.map(tonic::Response::new),
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["query"]);
    let status = expect_code(
        c.list_customers(authed(pb::ListCustomersRequest { page_size: -1, ..Default::default() }, &t.reader)).await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["page_size"]);
}

// ---------------------------------------------------------------------------
// Tenancy
// ---------------------------------------------------------------------------

async fn another_tenants_customers_are_not_found(server: &TestServer) {
    let mine = server.tenant("Mine").await;
    let theirs = server.tenant("Theirs").await;
    let mut c = client(server);
    let foreign = create_customer(&mut c, &theirs.agent, SPELLINGS[0], "Foreign").await;

    let get = expect_code(
        c.get_customer(authed(pb::GetCustomerRequest { id: foreign.id.clone() }, &mine.admin)).await,
        Code::NotFound,
    );
    assert_eq!(reason(&get), "RESOURCE_NOT_FOUND");
    expect_code(
        c.update_customer(authed(
            pb::UpdateCustomerRequest {
                customer: Some(pb::Customer { notes: "mine now".into(), ..foreign.clone() }),
                update_mask: mask(&["notes"]),
                region_code: String::new(),
            },
            &mine.admin,
        ))
        .await,
        Code::NotFound,
    );
    expect_code(
        c.delete_customer(authed(
            pb::DeleteCustomerRequest { id: foreign.id.clone(), etag: String::new() },
            &mine.admin,
        ))
        .await,
        Code::NotFound,
    );
    for spelling in SPELLINGS {
        expect_code(find(&mut c, &mine.reader, spelling, "").await.map(tonic::Response::new), Code::NotFound);
    }
    // Their branch is unknown here, even with a number only they have.
    expect_code(
        find(&mut c, &mine.reader, SPELLINGS[0], &theirs.branch.id).await.map(tonic::Response::new),
        Code::NotFound,
    );
    let listed = c.list_customers(authed(pb::ListCustomersRequest::default(), &mine.reader)).await.expect("list");
    assert!(listed.into_inner().customers.is_empty());

    // The same number is free in my tenant, and theirs is untouched.
    let own = create_customer(&mut c, &mine.agent, SPELLINGS[1], "Own").await;
    assert_ne!(own.id, foreign.id);
    let still = c
        .get_customer(authed(pb::GetCustomerRequest { id: foreign.id.clone() }, &theirs.reader))
        .await
        .expect("theirs");
    assert_eq!(still.into_inner().customer.expect("customer"), foreign);
    let found = find(&mut c, &mine.reader, SPELLINGS[2], "").await.expect("own");
    assert_eq!(found.customer.expect("customer").id, own.id);
    expect_code(
        stats(&mut c, &mine.reader, (2026, 6, 1), pb::StatsPeriod::Day, &theirs.branch.id)
            .await
            .map(tonic::Response::new),
        Code::NotFound,
    );
}

// ---------------------------------------------------------------------------
// Upcoming appointments
// ---------------------------------------------------------------------------

async fn find_by_phone_lists_at_most_ten_upcoming_open_appointments(server: &TestServer) {
    let t = server.tenant("Upcoming").await;
    let mut c = client(server);
    let anna = create_customer(&mut c, &t.agent, SPELLINGS[0], "Anna").await;
    let bert = create_customer(&mut c, &t.agent, "0170 1234567", "Bert").await;
    let for_anna = Booking { branch_id: &t.branch.id, staff_id: &t.staff.id, customer_id: &anna.id };
    let for_bert = Booking { branch_id: &t.branch.id, staff_id: &t.staff.id, customer_id: &bert.id };
    let now = Utc::now();

    // Not upcoming: ended, cancelled, completed, or somebody else's.
    insert_appointment(server, &t, &for_anna, now - Duration::hours(3), 60, "confirmed").await;
    insert_appointment(server, &t, &for_anna, now + Duration::hours(1), 60, "cancelled").await;
    insert_appointment(server, &t, &for_anna, now - Duration::hours(2), 30, "completed").await;
    insert_appointment(server, &t, &for_bert, now + Duration::hours(1), 60, "confirmed").await;
    // Upcoming: one under way, then eleven ahead, inserted latest first.
    let running = insert_appointment(server, &t, &for_anna, now - Duration::minutes(30), 60, "confirmed").await;
    let mut ahead = Vec::new();
    for day in (1..=11).rev() {
        let status = if day % 2 == 0 { "pending" } else { "confirmed" };
        ahead.push((day, insert_appointment(server, &t, &for_anna, now + Duration::days(day), 45, status).await));
    }
    ahead.sort();

    let found = find(&mut c, &t.reader, SPELLINGS[1], &t.branch.id).await.expect("found");
    assert_eq!(found.customer.expect("customer").id, anna.id);
    let ids: Vec<String> = found.upcoming_appointments.iter().map(|a| a.id.clone()).collect();
    let mut expected = vec![running.to_string()];
    expected.extend(ahead.iter().take(9).map(|(_, id)| id.to_string()));
    assert_eq!(ids, expected, "the one under way, then by start time, at most ten");
    assert!(found.upcoming_appointments.iter().all(|a| a.customer_id == anna.id));
    assert_eq!(found.upcoming_appointments[2].status, pb::AppointmentStatus::Pending as i32);
}

// ---------------------------------------------------------------------------
// Dashboard
// ---------------------------------------------------------------------------

async fn dashboard_counts_by_local_day_week_and_month(server: &TestServer) {
    let t = server.tenant("Dashboard").await;
    let mut c = client(server);
    let mut tenants = server.tenants();
    // A second branch with a staff member who has no working hours.
    let north = tenants
        .create_branch(authed(
            tenant_pb::CreateBranchRequest {
                request_id: String::new(),
                branch: Some(tenant_pb::Branch {
                    display_name: "Dashboard Nord".into(),
                    time_zone: "Europe/Berlin".into(),
                    ..Default::default()
                }),
            },
            &t.admin,
        ))
        .await
        .expect("branch")
        .into_inner()
        .branch
        .expect("branch");
    let north_staff = tenants
        .create_staff(authed(
            tenant_pb::CreateStaffRequest {
                request_id: String::new(),
                staff: Some(tenant_pb::Staff {
                    branch_id: north.id.clone(),
                    display_name: "Nils".into(),
                    service_ids: vec![t.service.id.clone()],
                    ..Default::default()
                }),
            },
            &t.admin,
        ))
        .await
        .expect("staff")
        .into_inner()
        .staff
        .expect("staff");
    // Mondays 09:00-17:00 in Berlin: 8 working hours per Monday.
    let monday = WeeklyInterval { day_of_week: 1, start_minute: 9 * 60, end_minute: 17 * 60 };
    set_working_hours(server, &t, &t.staff.id, &[monday]).await;

    let main_customer = create_customer(&mut c, &t.agent, SPELLINGS[0], "Main").await;
    let north_customer = create_customer(&mut c, &t.agent, "0170 1234567", "North").await;
    let idle_customer = create_customer(&mut c, &t.agent, "0170 7654321", "Idle").await;
    let main = Booking { branch_id: &t.branch.id, staff_id: &t.staff.id, customer_id: &main_customer.id };
    let nord = Booking { branch_id: &north.id, staff_id: &north_staff.id, customer_id: &north_customer.id };

    // Berlin is UTC+2 in June. Monday 2026-06-01:
    insert_appointment(server, &t, &main, at("2026-06-01T07:00:00Z"), 60, "completed").await; // 09:00
    insert_appointment(server, &t, &main, at("2026-06-01T08:00:00Z"), 60, "no_show").await; // 10:00
    insert_appointment(server, &t, &main, at("2026-06-01T09:00:00Z"), 60, "cancelled").await; // 11:00
    // 00:30 local is still Sunday in UTC, but Monday here.
    insert_appointment(server, &t, &main, at("2026-05-31T22:30:00Z"), 15, "cancelled").await;
    // 23:30 local on Sunday: the week and month before.
    insert_appointment(server, &t, &main, at("2026-05-31T21:30:00Z"), 15, "confirmed").await;
    // Wednesday 10:00 and Saturday 20 June 12:00.
    insert_appointment(server, &t, &main, at("2026-06-03T08:00:00Z"), 30, "pending").await;
    insert_appointment(server, &t, &main, at("2026-06-20T10:00:00Z"), 60, "confirmed").await;
    // The other branch, Monday 14:00.
    insert_appointment(server, &t, &nord, at("2026-06-01T12:00:00Z"), 60, "confirmed").await;

    let day = stats(&mut c, &t.reader, (2026, 6, 1), pb::StatsPeriod::Day, &t.branch.id).await.expect("day");
    let range = day.range.expect("range");
    assert_eq!(range.start_time.expect("start").seconds, at("2026-05-31T22:00:00Z").timestamp());
    assert_eq!(range.end_time.expect("end").seconds, at("2026-06-01T22:00:00Z").timestamp());
    assert_eq!(day.time_zone, "Europe/Berlin");
    assert_eq!(day.appointment_counts, Some(counts(0, 0, 2, 1, 1)));
    assert_close(day.no_show_rate, 0.5, "no-show rate");
    assert_close(day.utilization, 0.25, "2 of 8 hours booked");
    assert_eq!(day.new_customers, 0, "nobody was created in June 2026");

    // An unset period is a day.
    let unset =
        stats(&mut c, &t.reader, (2026, 6, 1), pb::StatsPeriod::Unspecified, &t.branch.id).await.expect("unset");
    assert_eq!(unset, day);

    let whole = stats(&mut c, &t.reader, (2026, 6, 1), pb::StatsPeriod::Day, "").await.expect("tenant day");
    assert_eq!(whole.appointment_counts, Some(counts(0, 1, 2, 1, 1)));
    assert_close(whole.utilization, 3.0 / 8.0, "3 hours over Anna's 8 (Nils has none)");
    assert_eq!(whole.time_zone, "Europe/Berlin");

    let nord_day = stats(&mut c, &t.reader, (2026, 6, 1), pb::StatsPeriod::Day, &north.id).await.expect("north day");
    assert_eq!(nord_day.appointment_counts, Some(counts(0, 1, 0, 0, 0)));
    assert_close(nord_day.no_show_rate, 0.0, "no completed or no-show");
    assert_close(nord_day.utilization, 0.0, "no working hours");

    let week = stats(&mut c, &t.reader, (2026, 6, 3), pb::StatsPeriod::Week, &t.branch.id).await.expect("week");
    let range = week.range.expect("range");
    assert_eq!(range.start_time.expect("start").seconds, at("2026-05-31T22:00:00Z").timestamp());
    assert_eq!(range.end_time.expect("end").seconds, at("2026-06-07T22:00:00Z").timestamp());
    assert_eq!(week.appointment_counts, Some(counts(1, 0, 2, 1, 1)));
    assert_close(week.utilization, 2.5 / 8.0, "2.5 hours over one Monday");
    // Sunday belongs to the week that started on Monday.
    let sunday = stats(&mut c, &t.reader, (2026, 6, 7), pb::StatsPeriod::Week, &t.branch.id).await.expect("sunday");
    assert_eq!(sunday.range, week.range);

    let month = stats(&mut c, &t.reader, (2026, 6, 15), pb::StatsPeriod::Month, &t.branch.id).await.expect("month");
    let range = month.range.expect("range");
    assert_eq!(range.start_time.expect("start").seconds, at("2026-05-31T22:00:00Z").timestamp());
    assert_eq!(range.end_time.expect("end").seconds, at("2026-06-30T22:00:00Z").timestamp());
    assert_eq!(month.appointment_counts, Some(counts(1, 1, 2, 1, 1)));
    assert_close(month.utilization, 3.5 / 40.0, "3.5 hours over five Mondays");
    let may = stats(&mut c, &t.reader, (2026, 5, 31), pb::StatsPeriod::Month, &t.branch.id).await.expect("may");
    assert_eq!(may.appointment_counts, Some(counts(0, 1, 0, 0, 0)));

    // New customers: the three above were created today (Berlin); with a
    // branch, only those with an appointment there count.
    let created = main_customer.create_time.expect("create time").seconds;
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").expect("zone");
    let berlin_today = berlin.to_datetime(jiff::Timestamp::from_second(created).expect("timestamp")).date();
    let date = (i32::from(berlin_today.year()), i32::from(berlin_today.month()), i32::from(berlin_today.day()));
    let today_all = stats(&mut c, &t.reader, date, pb::StatsPeriod::Day, "").await.expect("today");
    assert_eq!(today_all.new_customers, 3, "{idle_customer:?} counts tenant-wide");
    let today_main = stats(&mut c, &t.reader, date, pb::StatsPeriod::Day, &t.branch.id).await.expect("today main");
    assert_eq!(today_main.new_customers, 1);
    let today_north = stats(&mut c, &t.reader, date, pb::StatsPeriod::Month, &north.id).await.expect("today north");
    assert_eq!(today_north.new_customers, 1);
}

async fn dashboard_validates_date_period_and_branch(server: &TestServer) {
    let t = server.tenant("Dashboard checks").await;
    let mut c = client(server);
    let missing = expect_code(
        c.get_dashboard_stats(authed(
            pb::GetDashboardStatsRequest { date: None, period: 1, branch_id: String::new() },
            &t.reader,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&missing), vec!["date"]);
    let status = expect_code(
        c.get_dashboard_stats(authed(
            pb::GetDashboardStatsRequest {
                date: Some(LocalDate { year: 2026, month: 2, day: 30 }),
                period: 42,
                branch_id: "not-a-uuid".into(),
            },
            &t.reader,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(sorted(violated_fields(&status)), vec!["branch_id", "date", "period"]);
    let unknown = Uuid::now_v7().to_string();
    let status = expect_code(
        stats(&mut c, &t.reader, (2026, 6, 1), pb::StatsPeriod::Week, &unknown).await.map(tonic::Response::new),
        Code::NotFound,
    );
    assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    // An empty tenant: all zero, no division by zero.
    let empty = stats(&mut c, &t.reader, (2028, 2, 29), pb::StatsPeriod::Month, "").await.expect("empty");
    assert_eq!(empty.appointment_counts, Some(counts(0, 0, 0, 0, 0)));
    assert_close(empty.no_show_rate, 0.0, "no-show rate");
    assert_close(empty.utilization, 0.0, "utilization");
}

async fn utilization_counts_working_hours_minus_time_off(server: &TestServer) {
    let t = server.tenant("Time off").await;
    let mut c = client(server);
    let monday = WeeklyInterval { day_of_week: 1, start_minute: 9 * 60, end_minute: 17 * 60 };
    set_working_hours(server, &t, &t.staff.id, &[monday]).await;
    let customer = create_customer(&mut c, &t.agent, SPELLINGS[0], "Anna").await;
    let main = Booking { branch_id: &t.branch.id, staff_id: &t.staff.id, customer_id: &customer.id };
    insert_appointment(server, &t, &main, at("2026-06-01T07:00:00Z"), 120, "completed").await;
    // Monday 8 June away 10:00-12:00; Monday 15 June closed; Tuesday 16 June open 09:00-10:00.
    insert_time_off(server, &t, Some((at("2026-06-08T08:00:00Z"), at("2026-06-08T10:00:00Z"))), None, "").await;
    insert_time_off(server, &t, None, Some("2026-06-15"), "[]").await;
    insert_time_off(server, &t, None, Some("2026-06-16"), "[[540,600]]").await;

    let month = stats(&mut c, &t.reader, (2026, 6, 1), pb::StatsPeriod::Month, "").await.expect("month");
    assert_close(
        month.utilization,
        2.0 / 31.0,
        "five Mondays of 8 hours, minus 2 away and 8 closed, plus 1 on Tuesday",
    );
    let away = stats(&mut c, &t.reader, (2026, 6, 8), pb::StatsPeriod::Day, &t.branch.id).await.expect("away");
    assert_close(away.utilization, 0.0, "nothing booked");
    let closed = stats(&mut c, &t.reader, (2026, 6, 15), pb::StatsPeriod::Day, &t.branch.id).await.expect("closed");
    assert_close(closed.utilization, 0.0, "closed: no working hours");
    // Booked outside working hours: more than fully used, not capped.
    insert_appointment(server, &t, &main, at("2026-06-16T07:00:00Z"), 90, "confirmed").await;
    let tuesday = stats(&mut c, &t.reader, (2026, 6, 16), pb::StatsPeriod::Day, &t.branch.id).await.expect("tuesday");
    assert_close(tuesday.utilization, 1.5, "90 minutes booked in one working hour");
}

/// Renaming the last customer of a page before the next page is read moves
/// neither the listing's position nor makes it skip anyone: the token keeps
/// the name it was issued at.
async fn list_customers_paging_survives_a_rename_between_pages(server: &TestServer) {
    let t = server.tenant("Umbenannt").await;
    let mut c = client(server);
    let anna = create_customer(&mut c, &t.agent, "0151 11100011", "Anna").await;
    let berta = create_customer(&mut c, &t.agent, "0151 11100012", "Berta").await;
    let carla = create_customer(&mut c, &t.agent, "0151 11100013", "Carla").await;
    let page = |token: String| pb::ListCustomersRequest { query: String::new(), page_size: 1, page_token: token };

    let first = c.list_customers(authed(page(String::new()), &t.reader)).await.expect("page 1").into_inner();
    assert_eq!(first.customers.iter().map(|c| &c.id).collect::<Vec<_>>(), [&anna.id]);
    // Anna becomes Zora: by her new name she sorts after everyone.
    c.update_customer(authed(
        pb::UpdateCustomerRequest {
            customer: Some(pb::Customer { display_name: "Zora".into(), ..anna.clone() }),
            update_mask: mask(&["display_name"]),
            region_code: String::new(),
        },
        &t.agent,
    ))
    .await
    .expect("rename");

    let mut seen = Vec::new();
    let mut token = first.next_page_token;
    while !token.is_empty() {
        let next = c.list_customers(authed(page(token), &t.reader)).await.expect("next page").into_inner();
        seen.extend(next.customers.into_iter().map(|c| c.id));
        token = next.next_page_token;
        assert!(seen.len() <= 3, "the listing ends: {seen:?}");
    }
    // The rest of the listing, from where page 1 left off ("anna"): the
    // others in name order, then Anna under her new name, none skipped.
    assert_eq!(seen, [berta.id.clone(), carla.id.clone(), anna.id.clone()]);
}

on_both_databases!(
    three_spellings_of_a_number_are_one_customer,
    a_foreign_region_reads_national_numbers_in_that_region,
    create_customer_is_idempotent_by_request_id,
    create_customer_reports_every_bad_field_at_once,
    reader_cannot_create_customers,
    update_customer_changes_masked_fields_and_checks_the_etag,
    deleted_customer_is_gone_and_its_number_can_be_reused,
    customers_with_open_appointments_cannot_be_deleted,
    list_customers_pages_by_name_and_filters_by_query,
    list_customers_paging_survives_a_rename_between_pages,
    another_tenants_customers_are_not_found,
    find_by_phone_lists_at_most_ten_upcoming_open_appointments,
    dashboard_counts_by_local_day_week_and_month,
    dashboard_validates_date_period_and_branch,
    utilization_counts_working_hours_minus_time_off,
);
