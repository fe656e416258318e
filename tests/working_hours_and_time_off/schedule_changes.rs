//! Schedule changes do not interleave, report the appointments they strand,
//! and the slot engine reads what was written.

use super::*;

async fn concurrent_schedule_changes_do_not_interleave(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = server.availability();
    let start = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(9.0, 17.0)])])
        .await
        .working_hours
        .expect("hours");
    // Several writers with the same etag: exactly one wins, the others see it stale.
    let sets = (0..4).map(|n| {
        let mut c = c.clone();
        let request = pb::SetWorkingHoursRequest {
            staff_id: t.staff.id.clone(),
            days: vec![day(Tuesday, vec![hours(8.0 + f64::from(n), 18.0)])],
            etag: start.etag.clone(),
        };
        let key = t.admin.clone();
        async move { c.set_working_hours(authed(request, &key)).await }
    });
    let results = futures::future::join_all(sets).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for status in results.into_iter().filter_map(Result::err) {
        assert_eq!(status.code(), Code::Aborted, "{status:?}");
        assert_eq!(reason(&status), "ETAG_MISMATCH");
    }

    // Several overrides of one date at once: exactly one is stored.
    let creates = (0..4).map(|n| {
        let mut c = c.clone();
        let request = pb::CreateTimeOffRequest {
            request_id: format!("override-{n}"),
            time_off: Some(date_override(&t.staff.id, (2030, 12, 24), vec![hours(9.0 + f64::from(n), 14.0)])),
        };
        let key = t.admin.clone();
        async move { c.create_time_off(authed(request, &key)).await }
    });
    let results = futures::future::join_all(creates).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for status in results.into_iter().filter_map(Result::err) {
        assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    }
    assert_eq!(list_all(&mut c, &t.admin, pb::ListTimeOffRequest::default()).await.len(), 1);
}

async fn schedule_changes_report_the_appointments_they_strand(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = server.availability();
    // 2030-06-03 is a Monday; Berlin is UTC+2 then. Appointments at 10:00 and
    // 15:00 local; a cancelled one at 10:00 and a past one are never reported.
    let morning = book(server, &t, "2030-06-03T08:00:00Z", "2030-06-03T08:45:00Z", "confirmed").await;
    let afternoon = book(server, &t, "2030-06-03T13:00:00Z", "2030-06-03T13:45:00Z", "pending").await;
    book(server, &t, "2030-06-03T08:00:00Z", "2030-06-03T08:45:00Z", "cancelled").await;
    book(server, &t, "2020-06-01T03:00:00Z", "2020-06-01T03:45:00Z", "confirmed").await;

    let all_day = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(9.0, 18.0)])]).await;
    assert!(all_day.conflicting_appointment_ids.is_empty());
    let afternoons = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(13.0, 18.0)])]).await;
    assert_eq!(afternoons.conflicting_appointment_ids, vec![morning.clone()]);
    let ends_early = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(9.0, 15.5)])]).await;
    assert_eq!(ends_early.conflicting_appointment_ids, vec![afternoon.clone()]);
    let tuesdays = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Tuesday, vec![hours(9.0, 18.0)])]).await;
    assert_eq!(tuesdays.conflicting_appointment_ids, vec![morning.clone(), afternoon.clone()]);

    // An override of that Monday judges only that date, by its own hours.
    let mornings_only =
        create_time_off(&mut c, &t.admin, "", date_override(&t.staff.id, (2030, 6, 3), vec![hours(9.0, 12.0)])).await;
    assert_eq!(mornings_only.conflicting_appointment_ids, vec![afternoon.clone()]);
    let other_day = create_time_off(&mut c, &t.admin, "", date_override(&t.staff.id, (2030, 6, 4), vec![])).await;
    assert!(other_day.conflicting_appointment_ids.is_empty());

    // An absence conflicts with what it overlaps, even by a minute.
    let overlap =
        create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2030-06-03T08:44:00Z", "2030-06-03T12:00:00Z", ""))
            .await;
    assert_eq!(overlap.conflicting_appointment_ids, vec![morning.clone()]);
    let touching =
        create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2030-06-03T08:45:00Z", "2030-06-03T13:00:00Z", ""))
            .await;
    assert!(touching.conflicting_appointment_ids.is_empty(), "half-open ranges that touch do not overlap");
}

async fn repository_reads_serve_the_slot_engine(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let other = server.tenant("Other").await;
    let bert = second_staff(server, &t, "Bert").await;
    let mut c = server.availability();
    set_week(
        &mut c,
        &t.admin,
        &t.staff.id,
        vec![day(Tuesday, vec![hours(13.0, 17.0), hours(9.0, 12.0)]), day(Monday, vec![hours(8.0, 16.0)])],
    )
    .await;
    set_week(&mut c, &t.admin, &bert, vec![day(Sunday, vec![raw((0, 0), (24, 0))])]).await;
    set_week(&mut c, &other.admin, &other.staff.id, vec![day(Monday, vec![hours(9.0, 10.0)])]).await;
    create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2030-06-01T00:00:00Z", "2030-06-05T00:00:00Z", ""))
        .await;
    create_time_off(&mut c, &t.admin, "", absence(&bert, "2030-06-04T12:00:00Z", "2030-06-04T13:00:00Z", "")).await;
    create_time_off(&mut c, &t.admin, "", absence(&bert, "2030-07-01T00:00:00Z", "2030-07-02T00:00:00Z", "")).await;
    create_time_off(
        &mut c,
        &t.admin,
        "",
        date_override(&t.staff.id, (2030, 6, 3), vec![hours(10.0, 11.0), hours(14.0, 15.0)]),
    )
    .await;
    create_time_off(&mut c, &t.admin, "", date_override(&bert, (2030, 6, 9), vec![])).await;
    create_time_off(&mut c, &t.admin, "", date_override(&bert, (2030, 6, 10), vec![])).await;
    create_time_off(&mut c, &other.admin, "", date_override(&other.staff.id, (2030, 6, 3), vec![])).await;

    let anna: Uuid = t.staff.id.parse().expect("uuid");
    let bert: Uuid = bert.parse().expect("uuid");
    let foreign: Uuid = other.staff.id.parse().expect("uuid");
    let staff = [anna, bert, foreign];
    let tx = server.state.store.read(t.tenant_id()).await.expect("read tx");

    let mut weeks = working_hours_store::of_staff_many(&tx, &staff).await.expect("weeks");
    weeks.sort_by_key(|(s, i)| (*s, i.day_of_week, i.start_minute));
    let w = |d, s, e| WeeklyInterval { day_of_week: d, start_minute: s, end_minute: e };
    let mut expected_weeks =
        vec![(anna, w(1, 480, 960)), (anna, w(2, 540, 720)), (anna, w(2, 780, 1020)), (bert, w(7, 0, 1440))];
    expected_weeks.sort_by_key(|(s, i)| (*s, i.day_of_week, i.start_minute));
    assert_eq!(weeks, expected_weeks, "another tenant's staff contributes nothing");
    assert_eq!(working_hours_store::of_staff(&tx, anna).await.expect("week").len(), 3);
    assert!(working_hours_store::of_staff_many(&tx, &[]).await.expect("none").is_empty());

    let mut absences =
        time_off_store::absences(&tx, &staff, instant("2030-06-04T12:30:00Z"), instant("2030-06-30T00:00:00Z"))
            .await
            .expect("absences");
    absences.sort();
    let mut expected_absences = vec![
        (anna, instant("2030-06-01T00:00:00Z"), instant("2030-06-05T00:00:00Z")),
        (bert, instant("2030-06-04T12:00:00Z"), instant("2030-06-04T13:00:00Z")),
    ];
    expected_absences.sort();
    assert_eq!(absences, expected_absences);
    // [from, to) is half-open: an absence ending at `from` or starting at `to` is out.
    let none = time_off_store::absences(&tx, &[bert], instant("2030-06-04T13:00:00Z"), instant("2030-07-01T00:00:00Z"))
        .await
        .expect("absences");
    assert!(none.is_empty(), "{none:?}");

    let date = |y: i16, m: i8, d: i8| jiff::civil::date(y, m, d);
    let mut overrides =
        time_off_store::overrides(&tx, &staff, date(2030, 6, 3), date(2030, 6, 9)).await.expect("overrides");
    overrides.sort();
    let mut expected_overrides =
        vec![(anna, date(2030, 6, 3), vec![(600, 660), (840, 900)]), (bert, date(2030, 6, 9), vec![])];
    expected_overrides.sort();
    assert_eq!(overrides, expected_overrides, "both ends inclusive, other tenants excluded");
    assert!(time_off_store::overrides(&tx, &[], date(2030, 1, 1), date(2031, 1, 1)).await.expect("none").is_empty());
    tx.commit().await.expect("commit");
}

on_both_databases!(
    concurrent_schedule_changes_do_not_interleave,
    schedule_changes_report_the_appointments_they_strand,
    repository_reads_serve_the_slot_engine,
);
