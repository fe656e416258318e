//! Working hours: a week is replaced and validated whole, etags guard it,
//! read-only keys cannot change it, and another tenant's ids are NOT_FOUND.

use super::*;

async fn working_hours_round_trip_with_two_intervals_a_day(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = server.availability();
    let get = |c: &mut Client, key: &str| {
        let request = authed(pb::GetWorkingHoursRequest { staff_id: t.staff.id.clone() }, key);
        let mut c = c.clone();
        async move {
            c.get_working_hours(request).await.expect("get working hours").into_inner().working_hours.expect("hours")
        }
    };

    let never_set = get(&mut c, &t.reader).await;
    assert!(never_set.days.is_empty(), "no days if never set");
    assert!(never_set.update_time.is_none());
    assert!(never_set.etag.starts_with('"') && never_set.etag.ends_with('"'), "{}", never_set.etag);

    // Days and intervals in any order on input ...
    let stored = set_week(
        &mut c,
        &t.admin,
        &t.staff.id,
        vec![
            day(Wednesday, vec![hours(15.0, 19.0), hours(10.0, 14.0)]),
            day(Monday, vec![hours(9.0, 12.0), hours(13.0, 17.5)]),
            day(Sunday, vec![]),
        ],
    )
    .await;
    let hours_out = stored.working_hours.expect("working hours");
    // ... come back sorted, Monday first, without the day off.
    assert_eq!(hours_out.staff_id, t.staff.id);
    assert_eq!(
        hours_out.days,
        vec![
            day(Monday, vec![hours(9.0, 12.0), hours(13.0, 17.5)]),
            day(Wednesday, vec![hours(10.0, 14.0), hours(15.0, 19.0)]),
        ]
    );
    assert!(hours_out.update_time.is_some());
    assert_ne!(hours_out.etag, never_set.etag);
    assert!(stored.conflicting_appointment_ids.is_empty());
    assert_eq!(get(&mut c, &t.reader).await, hours_out, "a read-only key reads what was stored");

    // Adjacent intervals act as one; 24:00 ends a day.
    let joined = set_week(
        &mut c,
        &t.admin,
        &t.staff.id,
        vec![day(Tuesday, vec![hours(12.0, 13.0), hours(9.0, 12.0), raw((20, 0), (24, 0))])],
    )
    .await
    .working_hours
    .expect("working hours");
    assert_eq!(joined.days, vec![day(Tuesday, vec![hours(9.0, 13.0), raw((20, 0), (24, 0))])]);

    // An empty week clears the hours.
    let cleared = set_week(&mut c, &t.admin, &t.staff.id, vec![]).await.working_hours.expect("working hours");
    assert!(cleared.days.is_empty());
    assert!(get(&mut c, &t.admin).await.days.is_empty());
}

async fn set_working_hours_reports_every_bad_field_at_once(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = server.availability();
    let eleven: Vec<_> = (0..11).map(|h| hours(f64::from(h), f64::from(h) + 0.5)).collect();
    let request = pb::SetWorkingHoursRequest {
        staff_id: "not-a-uuid".into(),
        days: vec![
            pb::DayHours { day_of_week: 0, intervals: vec![hours(9.0, 10.0)] },
            day(
                Monday,
                vec![
                    raw((10, 0), (9, 0)),
                    raw((24, 0), (24, 0)),
                    raw((8, 0), (8, 60)),
                    raw((-1, 0), (25, 0)),
                    types::LocalTimeInterval { start_time: None, end_time: local_time(12, 0) },
                ],
            ),
            day(Monday, vec![hours(9.0, 10.0)]),
            pb::DayHours { day_of_week: 9, intervals: vec![] },
            day(Tuesday, eleven),
        ],
        etag: String::new(),
    };
    let status = expect_code(c.set_working_hours(authed(request, &t.admin)).await, Code::InvalidArgument);
    assert_eq!(reason(&status), "INVALID_ARGUMENT");
    assert_eq!(
        sorted(violated_fields(&status)),
        sorted(
            [
                "staff_id",
                "days[0].day_of_week",
                "days[1].intervals[0].end_time",
                "days[1].intervals[1].start_time",
                "days[1].intervals[2].end_time",
                "days[1].intervals[3].start_time",
                "days[1].intervals[3].end_time",
                "days[1].intervals[4].start_time",
                "days[2].day_of_week",
                "days[3].day_of_week",
                "days[4].intervals",
            ]
            .map(String::from)
            .to_vec()
        )
    );
}

async fn overlapping_intervals_are_refused(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = server.availability();
    set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(9.0, 17.0)])]).await;
    let request = pb::SetWorkingHoursRequest {
        staff_id: t.staff.id.clone(),
        days: vec![
            day(Monday, vec![hours(9.0, 12.0), hours(11.0, 13.0)]),
            // One interval inside a long one, with another between them.
            day(Tuesday, vec![hours(8.0, 18.0), hours(9.0, 10.0), hours(12.0, 13.0)]),
        ],
        etag: String::new(),
    };
    let status = expect_code(c.set_working_hours(authed(request, &t.admin)).await, Code::InvalidArgument);
    assert_eq!(
        sorted(violated_fields(&status)),
        sorted(vec!["days[0].intervals[1]".into(), "days[1].intervals[1]".into(), "days[1].intervals[2]".into()])
    );
    // Nothing was written.
    let kept = c
        .get_working_hours(authed(pb::GetWorkingHoursRequest { staff_id: t.staff.id.clone() }, &t.admin))
        .await
        .expect("get")
        .into_inner()
        .working_hours
        .expect("hours");
    assert_eq!(kept.days, vec![day(Monday, vec![hours(9.0, 17.0)])]);
}

async fn a_stale_etag_is_aborted(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = server.availability();
    let first = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(9.0, 17.0)])])
        .await
        .working_hours
        .expect("hours");
    let with_etag = |etag: &str, days: Vec<pb::DayHours>| pb::SetWorkingHoursRequest {
        staff_id: t.staff.id.clone(),
        days,
        etag: etag.into(),
    };
    // The current etag lets the change through and yields a new one.
    let second = c
        .set_working_hours(authed(with_etag(&first.etag, vec![day(Monday, vec![hours(10.0, 18.0)])]), &t.admin))
        .await
        .expect("set with current etag")
        .into_inner()
        .working_hours
        .expect("hours");
    assert_ne!(second.etag, first.etag);
    // The first etag is stale now.
    let status =
        expect_code(c.set_working_hours(authed(with_etag(&first.etag, vec![]), &t.admin)).await, Code::Aborted);
    assert_eq!(reason(&status), "ETAG_MISMATCH");
    let status =
        expect_code(c.set_working_hours(authed(with_etag("\"bogus\"", vec![]), &t.admin)).await, Code::Aborted);
    assert_eq!(reason(&status), "ETAG_MISMATCH");
    let current = c
        .get_working_hours(authed(pb::GetWorkingHoursRequest { staff_id: t.staff.id.clone() }, &t.admin))
        .await
        .expect("get")
        .into_inner()
        .working_hours
        .expect("hours");
    assert_eq!(current.etag, second.etag, "the refused calls changed nothing");
    assert_eq!(current.days, second.days);
}

async fn a_read_only_key_cannot_change_schedules(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = server.availability();
    for key in [&t.reader, &t.agent] {
        let set = pb::SetWorkingHoursRequest { staff_id: t.staff.id.clone(), days: vec![], etag: String::new() };
        let status = expect_code(c.set_working_hours(authed(set, key)).await, Code::PermissionDenied);
        assert_eq!(reason(&status), "SCOPE_INSUFFICIENT");
        let create = pb::CreateTimeOffRequest {
            request_id: String::new(),
            time_off: Some(absence(&t.staff.id, "2030-06-03T08:00:00Z", "2030-06-03T09:00:00Z", "")),
        };
        expect_code(c.create_time_off(authed(create, key)).await, Code::PermissionDenied);
    }
    let entry =
        create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2030-06-03T08:00:00Z", "2030-06-03T09:00:00Z", ""))
            .await
            .time_off
            .expect("time off");
    expect_code(
        c.delete_time_off(authed(pb::DeleteTimeOffRequest { id: entry.id.clone() }, &t.reader)).await,
        Code::PermissionDenied,
    );
    // Reads are allowed.
    c.get_time_off(authed(pb::GetTimeOffRequest { id: entry.id.clone() }, &t.reader)).await.expect("reader gets");
    assert_eq!(list_all(&mut c, &t.reader, pb::ListTimeOffRequest::default()).await.len(), 1);
}

async fn another_tenants_ids_are_not_found(server: &TestServer) {
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let mut c = server.availability();
    set_week(&mut c, &a.admin, &a.staff.id, vec![day(Monday, vec![hours(9.0, 17.0)])]).await;
    let entry =
        create_time_off(&mut c, &a.admin, "", absence(&a.staff.id, "2030-06-03T08:00:00Z", "2030-06-03T09:00:00Z", ""))
            .await
            .time_off
            .expect("time off");
    let not_found = |status: tonic::Status| {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    };
    let unknown = Uuid::now_v7().to_string();
    for staff_id in [&a.staff.id, &unknown] {
        not_found(
            c.get_working_hours(authed(pb::GetWorkingHoursRequest { staff_id: staff_id.clone() }, &b.admin))
                .await
                .unwrap_err(),
        );
        not_found(
            c.set_working_hours(authed(
                pb::SetWorkingHoursRequest { staff_id: staff_id.clone(), days: vec![], etag: String::new() },
                &b.admin,
            ))
            .await
            .unwrap_err(),
        );
        let create = pb::CreateTimeOffRequest {
            request_id: String::new(),
            time_off: Some(absence(staff_id, "2030-06-04T08:00:00Z", "2030-06-04T09:00:00Z", "")),
        };
        not_found(c.create_time_off(authed(create, &b.admin)).await.unwrap_err());
        let list = pb::ListTimeOffRequest { staff_id: staff_id.clone(), ..Default::default() };
        not_found(c.list_time_off(authed(list, &b.admin)).await.unwrap_err());
    }
    for id in [&entry.id, &unknown] {
        not_found(c.get_time_off(authed(pb::GetTimeOffRequest { id: id.clone() }, &b.admin)).await.unwrap_err());
        not_found(c.delete_time_off(authed(pb::DeleteTimeOffRequest { id: id.clone() }, &b.admin)).await.unwrap_err());
    }
    assert!(list_all(&mut c, &b.admin, pb::ListTimeOffRequest::default()).await.is_empty());

    // A's data is untouched.
    let still = c
        .get_time_off(authed(pb::GetTimeOffRequest { id: entry.id.clone() }, &a.admin))
        .await
        .expect("a still has its time off")
        .into_inner()
        .time_off
        .expect("time off");
    assert_eq!(still, entry);
    let week = c
        .get_working_hours(authed(pb::GetWorkingHoursRequest { staff_id: a.staff.id.clone() }, &a.admin))
        .await
        .expect("get")
        .into_inner()
        .working_hours
        .expect("hours");
    assert_eq!(week.days, vec![day(Monday, vec![hours(9.0, 17.0)])]);
}

on_both_databases!(
    working_hours_round_trip_with_two_intervals_a_day,
    set_working_hours_reports_every_bad_field_at_once,
    overlapping_intervals_are_refused,
    a_stale_etag_is_aborted,
    a_read_only_key_cannot_change_schedules,
    another_tenants_ids_are_not_found,
);
