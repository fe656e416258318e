//! Time off: absences and date overrides, idempotency, validation, listing
//! by staff and time range, paging, deletion.

use super::*;

async fn time_off_absences_and_overrides_are_created_and_read_back(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = server.availability();
    let vacation = create_time_off(
        &mut c,
        &t.admin,
        "vacation-1",
        absence(&t.staff.id, "2030-07-01T00:00:00Z", "2030-07-15T00:00:00Z", "  Vacation "),
    )
    .await;
    let vacation = vacation.time_off.expect("time off");
    assert!(Uuid::parse_str(&vacation.id).is_ok());
    assert_eq!(vacation.staff_id, t.staff.id);
    assert_eq!(vacation.reason, "Vacation", "the reason is trimmed");
    assert!(vacation.create_time.is_some());
    assert_eq!(
        vacation.kind,
        Some(Kind::Absence(types::TimeRange {
            start_time: ts("2030-07-01T00:00:00Z"),
            end_time: ts("2030-07-15T00:00:00Z")
        }))
    );

    // Intervals come back sorted and joined; 24:00 is kept as the end.
    let short_day = create_time_off(
        &mut c,
        &t.admin,
        "",
        date_override(&t.staff.id, (2030, 12, 24), vec![raw((20, 0), (24, 0)), hours(10.0, 11.0), hours(9.0, 10.0)]),
    )
    .await
    .time_off
    .expect("time off");
    assert_eq!(
        short_day.kind,
        Some(Kind::DateOverride(pb::DateOverride {
            date: Some(types::LocalDate { year: 2030, month: 12, day: 24 }),
            intervals: vec![hours(9.0, 11.0), raw((20, 0), (24, 0))],
        }))
    );
    // An empty override closes the day.
    let closed = create_time_off(&mut c, &t.admin, "", date_override(&t.staff.id, (2030, 12, 25), vec![]))
        .await
        .time_off
        .expect("time off");

    for entry in [&vacation, &short_day, &closed] {
        let read = c
            .get_time_off(authed(pb::GetTimeOffRequest { id: entry.id.clone() }, &t.reader))
            .await
            .expect("get time off")
            .into_inner()
            .time_off
            .expect("time off");
        assert_eq!(&read, entry);
    }

    // One override per staff member and date.
    let again = pb::CreateTimeOffRequest {
        request_id: String::new(),
        time_off: Some(date_override(&t.staff.id, (2030, 12, 24), vec![hours(9.0, 10.0)])),
    };
    let status = expect_code(c.create_time_off(authed(again, &t.admin)).await, Code::AlreadyExists);
    assert_eq!(reason(&status), "RESOURCE_EXISTS");
    // Absences may overlap each other freely.
    create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2030-07-10T00:00:00Z", "2030-07-20T00:00:00Z", ""))
        .await;
}

async fn create_time_off_is_idempotent_by_request_id(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = server.availability();
    let entry = absence(&t.staff.id, "2030-07-01T00:00:00Z", "2030-07-02T00:00:00Z", "Training");
    let first = create_time_off(&mut c, &t.admin, "req-1", entry.clone()).await;
    let retry = create_time_off(&mut c, &t.admin, "req-1", entry.clone()).await;
    assert_eq!(retry, first, "a retry returns the first call's result");

    let changed = pb::TimeOff { reason: "Something else".into(), ..entry.clone() };
    let status = expect_code(
        c.create_time_off(authed(
            pb::CreateTimeOffRequest { request_id: "req-1".into(), time_off: Some(changed) },
            &t.admin,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(reason(&status), "REQUEST_ID_REUSED");

    // An override retried after success is not "already exists".
    let holiday = date_override(&t.staff.id, (2030, 12, 24), vec![]);
    let first_override = create_time_off(&mut c, &t.admin, "req-2", holiday.clone()).await;
    assert_eq!(create_time_off(&mut c, &t.admin, "req-2", holiday).await, first_override);

    assert_eq!(list_all(&mut c, &t.admin, pb::ListTimeOffRequest::default()).await.len(), 2);
}

async fn create_time_off_reports_every_bad_field_at_once(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = server.availability();
    let fields_of = |time_off: pb::TimeOff| {
        let mut c = c.clone();
        let key = t.admin.clone();
        async move {
            let request = pb::CreateTimeOffRequest { request_id: String::new(), time_off: Some(time_off) };
            let status = expect_code(c.create_time_off(authed(request, &key)).await, Code::InvalidArgument);
            assert_eq!(reason(&status), "INVALID_ARGUMENT");
            sorted(violated_fields(&status))
        }
    };
    let strings = |names: &[&str]| sorted(names.iter().map(|n| n.to_string()).collect());

    let no_kind = pb::TimeOff { staff_id: "nope".into(), reason: "x".repeat(501), ..Default::default() };
    assert_eq!(fields_of(no_kind).await, strings(&["time_off.staff_id", "time_off.kind", "time_off.reason"]));

    let reversed = absence(&t.staff.id, "2030-07-02T00:00:00Z", "2030-07-01T00:00:00Z", "");
    assert_eq!(fields_of(reversed).await, strings(&["time_off.absence.end_time"]));
    let empty = absence(&t.staff.id, "2030-07-01T00:00:00Z", "2030-07-01T00:00:00Z", "");
    assert_eq!(fields_of(empty).await, strings(&["time_off.absence.end_time"]));
    let too_long = absence(&t.staff.id, "2030-01-01T00:00:00Z", "2031-01-02T00:00:01Z", "");
    assert_eq!(fields_of(too_long).await, strings(&["time_off.absence.end_time"]));
    let open_ended = pb::TimeOff {
        staff_id: t.staff.id.clone(),
        kind: Some(Kind::Absence(types::TimeRange { start_time: None, end_time: None })),
        ..Default::default()
    };
    assert_eq!(fields_of(open_ended).await, strings(&["time_off.absence.start_time", "time_off.absence.end_time"]));

    let bad_override =
        date_override(&t.staff.id, (2030, 2, 30), vec![hours(9.0, 12.0), hours(11.0, 13.0), raw((14, 0), (13, 0))]);
    assert_eq!(
        fields_of(bad_override).await,
        strings(&[
            "time_off.date_override.date",
            "time_off.date_override.intervals[1]",
            "time_off.date_override.intervals[2].end_time"
        ])
    );
    let no_date = pb::TimeOff {
        staff_id: t.staff.id.clone(),
        kind: Some(Kind::DateOverride(pb::DateOverride { date: None, intervals: vec![] })),
        ..Default::default()
    };
    assert_eq!(fields_of(no_date).await, strings(&["time_off.date_override.date"]));

    // A year of 366 days exactly is allowed (a leap year's absence).
    create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2032-01-01T00:00:00Z", "2033-01-01T00:00:00Z", ""))
        .await;
    assert_eq!(list_all(&mut c, &t.admin, pb::ListTimeOffRequest::default()).await.len(), 1, "only the valid one");
}

async fn list_time_off_filters_by_staff_and_time_range(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let bert = second_staff(server, &t, "Bert").await;
    let mut c = server.availability();
    let create = |time_off: pb::TimeOff| {
        let mut c = c.clone();
        let key = t.admin.clone();
        async move { create_time_off(&mut c, &key, "", time_off).await.time_off.expect("time off").id }
    };
    // Berlin is UTC+2 in June: the local day 2030-06-10 is [06-09T22:00Z, 06-10T22:00Z).
    let anna_override_9th = create(date_override(&t.staff.id, (2030, 6, 9), vec![])).await;
    let anna_absence = create(absence(&t.staff.id, "2030-06-10T08:00:00Z", "2030-06-10T10:00:00Z", "")).await;
    let bert_override_10th = create(date_override(&bert, (2030, 6, 10), vec![hours(9.0, 12.0)])).await;
    let bert_absence = create(absence(&bert, "2030-06-01T00:00:00Z", "2030-06-20T00:00:00Z", "")).await;
    let anna_later = create(absence(&t.staff.id, "2030-08-01T00:00:00Z", "2030-08-02T00:00:00Z", "")).await;

    // Everything, ordered by start (an override starts at its local midnight).
    let all = list_all(&mut c, &t.reader, pb::ListTimeOffRequest::default()).await;
    assert_eq!(
        ids(&all),
        vec![
            bert_absence.clone(),
            anna_override_9th.clone(),
            bert_override_10th.clone(),
            anna_absence.clone(),
            anna_later.clone()
        ]
    );

    // One staff member.
    let anna =
        list_all(&mut c, &t.reader, pb::ListTimeOffRequest { staff_id: t.staff.id.clone(), ..Default::default() })
            .await;
    assert_eq!(ids(&anna), vec![anna_override_9th.clone(), anna_absence.clone(), anna_later.clone()]);

    // A range just after local midnight of the 10th: the 10th's override covers
    // it, the 9th's ended at midnight; the long absence overlaps, the short one not.
    let range = |from: &str, to: &str| Some(types::TimeRange { start_time: ts(from), end_time: ts(to) });
    let night = list_all(
        &mut c,
        &t.reader,
        pb::ListTimeOffRequest {
            time_range: range("2030-06-09T22:00:00Z", "2030-06-09T23:00:00Z"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ids(&night), vec![bert_absence.clone(), bert_override_10th.clone()]);
    // A range ending exactly at local midnight of the 10th excludes its override.
    let evening = list_all(
        &mut c,
        &t.reader,
        pb::ListTimeOffRequest {
            time_range: range("2030-06-09T21:00:00Z", "2030-06-09T22:00:00Z"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ids(&evening), vec![bert_absence.clone(), anna_override_9th.clone()]);
    // Staff and range together.
    let anna_morning = list_all(
        &mut c,
        &t.reader,
        pb::ListTimeOffRequest {
            staff_id: t.staff.id.clone(),
            time_range: range("2030-06-10T09:59:59Z", "2030-06-10T12:00:00Z"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ids(&anna_morning), vec![anna_absence.clone()]);

    // Bad ranges are INVALID_ARGUMENT.
    let reversed = pb::ListTimeOffRequest {
        time_range: range("2030-06-10T12:00:00Z", "2030-06-10T09:00:00Z"),
        ..Default::default()
    };
    let status = expect_code(c.list_time_off(authed(reversed, &t.reader)).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["time_range.end_time".to_string()]);
    let half = pb::ListTimeOffRequest {
        time_range: Some(types::TimeRange { start_time: ts("2030-06-10T12:00:00Z"), end_time: None }),
        ..Default::default()
    };
    let status = expect_code(c.list_time_off(authed(half, &t.reader)).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["time_range.end_time".to_string()]);
    let bad_staff = pb::ListTimeOffRequest { staff_id: "nope".into(), ..Default::default() };
    let status = expect_code(c.list_time_off(authed(bad_staff, &t.reader)).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["staff_id".to_string()]);
}

async fn list_time_off_pages_through_every_entry_once(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let bert = second_staff(server, &t, "Bert").await;
    let mut c = server.availability();
    // Overrides and absences interleaved, some starting at the same instant
    // (local midnight), so the id must break ties across kinds and staff.
    let mut expected = Vec::new();
    for d in 1..=6 {
        for staff in [&t.staff.id, &bert] {
            let o = create_time_off(&mut c, &t.admin, "", date_override(staff, (2030, 6, d), vec![])).await;
            expected.push(o.time_off.expect("time off").id);
            // Local midnight of 2030-06-d in Berlin (UTC+2).
            let midnight = instant("2030-05-31T22:00:00Z") + chrono::Duration::days(i64::from(d) - 1);
            let end = midnight + chrono::Duration::hours(1);
            let a =
                create_time_off(&mut c, &t.admin, "", absence(staff, &midnight.to_rfc3339(), &end.to_rfc3339(), ""))
                    .await;
            expected.push(a.time_off.expect("time off").id);
        }
    }
    let all = list_all(&mut c, &t.reader, pb::ListTimeOffRequest::default()).await;
    assert_eq!(all.len(), 24);
    // Ties (same start) are ordered by id, i.e. creation order here.
    assert_eq!(ids(&all), expected);

    for size in [1, 2, 5, 7] {
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let page = c
                .list_time_off(authed(
                    pb::ListTimeOffRequest { page_size: size, page_token: token.clone(), ..Default::default() },
                    &t.reader,
                ))
                .await
                .expect("page")
                .into_inner();
            assert!(page.time_off.len() <= size as usize);
            seen.extend(ids(&page.time_off));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(seen, expected, "page size {size}");
    }

    // A token is bound to its filter.
    let first = c
        .list_time_off(authed(pb::ListTimeOffRequest { page_size: 2, ..Default::default() }, &t.reader))
        .await
        .expect("page")
        .into_inner();
    let other_filter = pb::ListTimeOffRequest {
        staff_id: bert.clone(),
        page_size: 2,
        page_token: first.next_page_token,
        ..Default::default()
    };
    let status = expect_code(c.list_time_off(authed(other_filter, &t.reader)).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["page_token".to_string()]);
    let negative = pb::ListTimeOffRequest { page_size: -1, ..Default::default() };
    expect_code(c.list_time_off(authed(negative, &t.reader)).await, Code::InvalidArgument);
}

async fn deleted_time_off_is_gone(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = server.availability();
    let entry = create_time_off(&mut c, &t.admin, "", date_override(&t.staff.id, (2030, 12, 24), vec![]))
        .await
        .time_off
        .expect("time off");
    c.delete_time_off(authed(pb::DeleteTimeOffRequest { id: entry.id.clone() }, &t.admin)).await.expect("delete");
    let status = expect_code(
        c.get_time_off(authed(pb::GetTimeOffRequest { id: entry.id.clone() }, &t.admin)).await,
        Code::NotFound,
    );
    assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    expect_code(
        c.delete_time_off(authed(pb::DeleteTimeOffRequest { id: entry.id.clone() }, &t.admin)).await,
        Code::NotFound,
    );
    assert!(list_all(&mut c, &t.admin, pb::ListTimeOffRequest::default()).await.is_empty());
    // The date is free for a new override.
    create_time_off(&mut c, &t.admin, "", date_override(&t.staff.id, (2030, 12, 24), vec![hours(9.0, 12.0)])).await;
    let status = expect_code(
        c.get_time_off(authed(pb::GetTimeOffRequest { id: "nope".into() }, &t.admin)).await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["id".to_string()]);
}

on_both_databases!(
    time_off_absences_and_overrides_are_created_and_read_back,
    create_time_off_is_idempotent_by_request_id,
    create_time_off_reports_every_bad_field_at_once,
    list_time_off_filters_by_staff_and_time_range,
    list_time_off_pages_through_every_entry_once,
    deleted_time_off_is_gone,
);
