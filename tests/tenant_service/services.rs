//! Services: defaults, timing validation, masked updates, deletion.

use super::*;

async fn create_service_fills_in_defaults(server: &common::TestServer) {
    let a = server.tenant("Salon Standard").await;
    let s = &a.service;
    assert_eq!(s.display_name, "Haircut");
    assert_eq!(s.description, "");
    assert_eq!(s.duration, Some(minutes(45)));
    assert_eq!(s.buffer_before, Some(minutes(0)), "buffer_before defaults to 0");
    assert_eq!(s.buffer_after, Some(minutes(0)), "buffer_after defaults to 0");
    assert_eq!(s.minimum_notice, Some(minutes(0)), "minimum_notice defaults to 0");
    assert_eq!(s.booking_horizon, Some(minutes(60 * DAY)), "booking_horizon defaults to 60 days");
    assert_eq!(s.slot_step, Some(minutes(15)), "slot_step defaults to 15 minutes");
    assert!(!s.etag.is_empty());
    let mut c = server.tenants();
    assert_eq!(get_service(&mut c, &a.reader, &s.id).await.expect("get"), *s);

    // Explicit values, at the edges of their ranges, are kept.
    let input = pb::Service {
        display_name: "Langer Termin".into(),
        description: "Alles".into(),
        duration: Some(minutes(DAY)),
        buffer_before: Some(minutes(4 * HOUR)),
        buffer_after: Some(minutes(0)),
        minimum_notice: Some(minutes(30 * DAY)),
        booking_horizon: Some(minutes(730 * DAY)),
        slot_step: Some(minutes(5)),
        ..Default::default()
    };
    let created = create_service(&mut c, &a.admin, "", input.clone()).await.expect("create at the edges");
    assert_eq!(created.duration, input.duration);
    assert_eq!(created.buffer_before, input.buffer_before);
    assert_eq!(created.buffer_after, input.buffer_after);
    assert_eq!(created.minimum_notice, input.minimum_notice);
    assert_eq!(created.booking_horizon, input.booking_horizon);
    assert_eq!(created.slot_step, input.slot_step);
    assert_eq!(created.description, "Alles");
    let small = create_service(
        &mut c,
        &a.admin,
        "",
        pb::Service {
            booking_horizon: Some(minutes(DAY)),
            slot_step: Some(minutes(4 * HOUR)),
            ..service_input("Kurz", 5)
        },
    )
    .await
    .expect("create at the other edges");
    assert_eq!(small.duration, Some(minutes(5)));
}

async fn create_service_validates_its_timings(server: &common::TestServer) {
    let a = server.tenant("Salon Zeiten").await;
    let mut c = server.tenants();
    let before = services(&mut c, &a.admin).await;

    let status = invalid(
        create_service(&mut c, &a.admin, "", pb::Service { duration: None, ..service_input("Ohne Dauer", 0) }).await,
        &["service.duration"],
    );
    assert_eq!(description_of(&status, "service.duration"), "is required");

    let status = invalid(
        create_service(
            &mut c,
            &a.admin,
            "",
            pb::Service { duration: Some(seconds(30)), ..service_input("Sekunden", 0) },
        )
        .await,
        &["service.duration"],
    );
    assert!(description_of(&status, "service.duration").contains("whole minutes"), "{status:?}");
    let status = invalid(
        create_service(
            &mut c,
            &a.admin,
            "",
            pb::Service { duration: Some(Duration { seconds: 1800, nanos: 5 }), ..service_input("Nanos", 0) },
        )
        .await,
        &["service.duration"],
    );
    assert!(description_of(&status, "service.duration").contains("whole minutes"), "{status:?}");

    invalid(create_service(&mut c, &a.admin, "", service_input("Zwei Tage", 2 * DAY)).await, &["service.duration"]);
    invalid(create_service(&mut c, &a.admin, "", service_input("Vier Minuten", 4)).await, &["service.duration"]);
    invalid(create_service(&mut c, &a.admin, "", service_input("Negativ", -30)).await, &["service.duration"]);
    invalid(
        create_service(&mut c, &a.admin, "", pb::Service { slot_step: Some(minutes(1)), ..service_input("Takt", 30) })
            .await,
        &["service.slot_step"],
    );

    // Every bad field at once.
    let input = pb::Service {
        display_name: String::new(),
        description: "x".repeat(2001),
        duration: Some(minutes(2 * DAY)),
        buffer_before: Some(minutes(4 * HOUR + 1)),
        buffer_after: Some(minutes(-1)),
        minimum_notice: Some(minutes(31 * DAY)),
        booking_horizon: Some(minutes(DAY - 1)),
        slot_step: Some(minutes(1)),
        ..Default::default()
    };
    invalid(
        create_service(&mut c, &a.admin, "", input).await,
        &[
            "service.display_name",
            "service.description",
            "service.duration",
            "service.buffer_before",
            "service.buffer_after",
            "service.minimum_notice",
            "service.booking_horizon",
            "service.slot_step",
        ],
    );
    assert_eq!(services(&mut c, &a.admin).await, before, "a rejected create must not write");
}

async fn update_service_with_duration_mask_changes_only_duration(server: &common::TestServer) {
    let a = server.tenant("Salon Dauer").await;
    let mut c = server.tenants();
    let input = pb::Service {
        id: a.service.id.clone(),
        display_name: "Ignored".into(),
        duration: Some(minutes(60)),
        slot_step: Some(minutes(30)),
        buffer_before: Some(minutes(10)),
        ..Default::default()
    };
    let updated = update_service(&mut c, &a.admin, input, &["duration"]).await.expect("update");
    assert_eq!(updated.duration, Some(minutes(60)));
    let expected = pb::Service {
        duration: Some(minutes(60)),
        etag: updated.etag.clone(),
        update_time: updated.update_time,
        ..a.service.clone()
    };
    assert_eq!(updated, expected, "only duration (and etag, update_time) changed");
    assert_ne!(updated.etag, a.service.etag);
    assert_eq!(get_service(&mut c, &a.reader, &a.service.id).await.expect("get"), updated);

    // A masked duration must be valid and present.
    let input = pb::Service { id: a.service.id.clone(), ..Default::default() };
    let status = invalid(update_service(&mut c, &a.admin, input, &["duration"]).await, &["service.duration"]);
    assert_eq!(description_of(&status, "service.duration"), "is required");
    let input = pb::Service { id: a.service.id.clone(), duration: Some(seconds(90)), ..Default::default() };
    invalid(update_service(&mut c, &a.admin, input, &["duration"]).await, &["service.duration"]);
    let input = pb::Service { id: a.service.id.clone(), ..Default::default() };
    invalid(update_service(&mut c, &a.admin, input.clone(), &[]).await, &["update_mask"]);
    invalid(update_service(&mut c, &a.admin, input, &["duration_minutes"]).await, &["update_mask"]);
    assert_eq!(get_service(&mut c, &a.reader, &a.service.id).await.expect("get"), updated, "nothing changed");
}

async fn delete_service_removes_it_from_staff(server: &common::TestServer) {
    let a = server.tenant("Salon Streichung").await;
    let mut c = server.tenants();
    let s2 = create_service(&mut c, &a.admin, "", service_input("Bart", 20)).await.expect("service");
    let input =
        pb::Staff { id: a.staff.id.clone(), service_ids: strings(&[&a.service.id, &s2.id]), ..Default::default() };
    update_staff(&mut c, &a.admin, input, &["service_ids"]).await.expect("offer both");

    delete_service(&mut c, &a.admin, &a.service.id, &a.service.etag).await.expect("delete");
    let staff = get_staff(&mut c, &a.reader, &a.staff.id).await.expect("staff");
    assert_eq!(staff.service_ids, vec![s2.id.clone()], "the deleted service left every staff member's offer");
    assert_eq!(staff_of(&mut c, &a.reader, "").await[0].service_ids, vec![s2.id.clone()]);
    not_found(get_service(&mut c, &a.reader, &a.service.id).await);
    assert_eq!(ids(&services(&mut c, &a.reader).await, |s| &s.id), vec![s2.id.clone()]);
    not_found(delete_service(&mut c, &a.admin, &a.service.id, "").await);
    // The deleted service can no longer be offered.
    invalid(
        create_staff(&mut c, &a.admin, "", staff_input(&a.branch.id, "Dora", &[&a.service.id])).await,
        &["staff.service_ids[0]"],
    );
}

on_both_databases!(
    create_service_fills_in_defaults,
    create_service_validates_its_timings,
    update_service_with_duration_mask_changes_only_duration,
    delete_service_removes_it_from_staff,
);
