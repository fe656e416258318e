//! The dashboard counts by local day, ISO week and month, and utilization.

use super::*;

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
    let tx = server.state.store.write(fixture.tenant_id()).await.expect("write tx");
    // Written past the repository: the caches must hear of it all the same.
    let staff_id = row.staff_id;
    tx.changed(|c| c.time_off.insert(staff_id));
    time_off::Entity::insert(askpro::store::all_set::<time_off::ActiveModel, _>(row))
        .exec_without_returning(tx.conn())
        .await
        .expect("insert time off");
    tx.commit().await.expect("commit");
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

async fn dashboard_counts_by_local_day_week_and_month(server: &TestServer) {
    let t = server.tenant("Dashboard").await;
    let mut c = server.appointments();
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
    server.set_weekly_hours(&t, &t.staff.id, &[monday]).await;

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
    let mut c = server.appointments();
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
    let mut c = server.appointments();
    let monday = WeeklyInterval { day_of_week: 1, start_minute: 9 * 60, end_minute: 17 * 60 };
    server.set_weekly_hours(&t, &t.staff.id, &[monday]).await;
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

on_both_databases!(
    dashboard_counts_by_local_day_week_and_month,
    dashboard_validates_date_period_and_branch,
    utilization_counts_working_hours_minus_time_off,
);
