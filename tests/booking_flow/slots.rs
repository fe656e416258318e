//! ListAvailableSlots: local times in the branch's or a requested zone, the
//! search window, paging, refusals, and daylight-saving changes.

use super::*;

/// A 45-minute service bookable two years ahead, for dates months away.
async fn long_horizon_service(s: &Salon) -> tn::Service {
    s.add_service(tn::Service {
        display_name: "Long horizon".into(),
        duration: Some(minutes(45)),
        booking_horizon: Some(minutes(730 * 24 * 60)),
        ..Default::default()
    })
    .await
}

async fn slot_local_times_carry_the_branch_offset_and_the_requested_zone(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Zones").await;
    // Winter and summer dates are months away: a service with a long horizon.
    let long = long_horizon_service(&s).await;
    let new_york = "America/New_York";
    for (date, berlin_offset, utc_hour, new_york_offset) in [
        (BookingDay::next_date(BERLIN, 1, 11), "+01:00", 9, "-05:00"),
        (BookingDay::next_date(BERLIN, 7, 13), "+02:00", 8, "-04:00"),
    ] {
        let request = s.slots_request(&long.id, &[s.staff()], date.start(), date.end());
        let response = s.av().list_available_slots(authed(request.clone(), s.agent())).await.unwrap().into_inner();
        assert_eq!(response.time_zone, "Europe/Berlin", "empty time_zone means the branch's");
        let slot = response.slots.iter().find(|x| secs(&x.start_time) == date.at(10, 0)).expect("10:00");
        assert_eq!(secs(&slot.start_time), BookingDay::on("UTC", date.date).at(utc_hour, 0), "{date}: 10:00 in Berlin");
        assert_eq!(slot.local_start_time, format!("{date}T10:00:00{berlin_offset}"));
        assert_eq!(slot.local_end_time, format!("{date}T10:45:00{berlin_offset}"));

        let request = av::ListAvailableSlotsRequest { time_zone: new_york.into(), ..request };
        let response = s.av().list_available_slots(authed(request, s.agent())).await.unwrap().into_inner();
        assert_eq!(response.time_zone, new_york);
        let slot = response.slots.iter().find(|x| secs(&x.start_time) == date.at(10, 0)).expect("10:00");
        assert_eq!(slot.local_start_time, format!("{date}T04:00:00{new_york_offset}"));
        assert_eq!(slot.local_end_time, format!("{date}T04:45:00{new_york_offset}"));
        let zone = TimeZone::get(new_york).unwrap();
        for slot in &response.slots {
            assert_eq!(slot.local_start_time, wall(&zone, secs(&slot.start_time)));
        }
    }
    // An unknown zone is refused.
    let day = BookingDay::berlin();
    let request = av::ListAvailableSlotsRequest {
        time_zone: "Mars/Olympus_Mons".into(),
        ..s.slots_request(s.service(), &[], day.start(), day.start() + 24 * HOUR)
    };
    let status = expect_code(s.av().list_available_slots(authed(request, s.agent())).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["time_zone"]);
}

async fn slot_search_window_is_required_and_at_most_62_days(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Window").await;
    let from = BookingDay::berlin().start();
    let list = |from: i64, to: i64| {
        let request = s.slots_request(s.service(), &[], from, to);
        let mut client = s.av();
        let key = s.agent().to_owned();
        async move { client.list_available_slots(authed(request, &key)).await }
    };
    list(from, from + 62 * 24 * HOUR).await.expect("62 days are allowed");
    let status = expect_code(list(from, from + 62 * 24 * HOUR + 1).await, Code::InvalidArgument);
    assert_eq!(reason(&status), "INVALID_ARGUMENT");
    assert_eq!(violated_fields(&status), vec!["time_range"]);
    let status = expect_code(list(from, from + 63 * 24 * HOUR).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["time_range"]);
    let status = expect_code(list(from, from - HOUR).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["time_range.end_time"]);
    let missing = av::ListAvailableSlotsRequest { time_range: None, ..s.slots_request(s.service(), &[], 0, 1) };
    expect_code(s.av().list_available_slots(authed(missing, s.agent())).await, Code::InvalidArgument);
}

async fn slot_pages_return_every_slot_once_in_start_then_staff_order(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Pages").await;
    let second = s.staff_with_hours(server, "Ben", OPEN_HOURS).await;
    let day = BookingDay::berlin();
    let from = day.start();
    let to = day.end();
    let all = s.day_slots(s.service(), &[], &day).await;
    assert_eq!(all.len(), 2 * 46, "two staff members, 46 starts each (08:00-19:15)");
    let keys: Vec<(i64, String)> = all.iter().map(|x| (secs(&x.start_time), x.staff_id.clone())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "ordered by start, then staff id, without duplicates");
    assert!(keys.iter().any(|k| k.1 == second.id));

    let mut paged = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let request = av::ListAvailableSlotsRequest {
            page_size: 5,
            page_token: token.clone(),
            ..s.slots_request(s.service(), &[], from, to)
        };
        let page = s.av().list_available_slots(authed(request, s.agent())).await.expect("page").into_inner();
        pages += 1;
        assert!(page.slots.len() <= 5);
        paged.extend(page.slots.iter().map(|x| (secs(&x.start_time), x.staff_id.clone())));
        if page.next_page_token.is_empty() {
            break;
        }
        assert_eq!(page.slots.len(), 5, "only the last page is short");
        token = page.next_page_token;
        assert!(pages < 100, "paging terminates");
    }
    assert_eq!(paged, keys, "pages of 5 give every slot exactly once, in order");
    assert_eq!(pages, (2 * 46usize).div_ceil(5));

    // A token is bound to its filter.
    let first = av::ListAvailableSlotsRequest { page_size: 5, ..s.slots_request(s.service(), &[], from, to) };
    let token = s.av().list_available_slots(authed(first, s.agent())).await.unwrap().into_inner().next_page_token;
    let other = av::ListAvailableSlotsRequest {
        page_size: 5,
        page_token: token,
        ..s.slots_request(s.service(), &[s.staff()], from, to)
    };
    let status = expect_code(s.av().list_available_slots(authed(other, s.agent())).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["page_token"]);
}

async fn listing_slots_for_staff_not_offering_the_service_is_refused(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Offer").await;
    let beard = s.unoffered_service().await;
    let day = BookingDay::berlin();
    let request = s.slots_request(&beard.id, &[s.staff()], day.start(), day.start() + 24 * HOUR);
    let result = s.av().list_available_slots(authed(request, s.agent())).await;
    // The contract: "FAILED_PRECONDITION (FAILED_PRECONDITION) if a listed
    // staff member does not offer the service in the branch".
    assert_eq!(
        result.as_ref().err().map(|e| (e.code(), reason(e))),
        Some((Code::FailedPrecondition, "FAILED_PRECONDITION".to_owned())),
        "ListAvailableSlots with a staff member who does not offer the service is FAILED_PRECONDITION \
         (availability_service.proto), got {result:?}"
    );
}

async fn listing_slots_for_an_unknown_staff_member_is_not_found(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Unknown").await;
    let day = BookingDay::berlin();
    let unknown = Uuid::now_v7().to_string();
    let request = s.slots_request(s.service(), &[&unknown], day.start(), day.start() + 24 * HOUR);
    let result = s.av().list_available_slots(authed(request, s.agent())).await;
    // The contract: "NOT_FOUND (RESOURCE_NOT_FOUND) for an unknown branch, service or staff member".
    assert_eq!(
        result.as_ref().err().map(|e| (e.code(), reason(e))),
        Some((Code::NotFound, "RESOURCE_NOT_FOUND".to_owned())),
        "ListAvailableSlots with an unknown staff id is NOT_FOUND (availability_service.proto), got {result:?}"
    );
}

async fn slots_follow_berlin_daylight_saving_changes(server: &common::TestServer) {
    let s = Salon::open(server, "Salon DST").await;
    s.set_hours(server, &s.fx.staff.id, 0, 24 * 60).await;
    let long = long_horizon_service(&s).await;
    let zone = zone(BERLIN);

    // Spring forward (2027-03-28 seen from late 2026): 02:00-02:59 does not exist.
    let spring = BookingDay::next_lasting(BERLIN, 23 * HOUR);
    let slots = s.day_slots(&long.id, &[s.staff()], &spring).await;
    let locals: Vec<&str> = slots.iter().map(|x| x.local_start_time.as_str()).collect();
    assert!(
        !locals.iter().any(|l| l.starts_with(&format!("{spring}T02:"))),
        "no slot starts in the skipped hour: {locals:?}"
    );
    assert!(locals.contains(&format!("{spring}T01:45:00+01:00").as_str()));
    assert!(locals.contains(&format!("{spring}T03:00:00+02:00").as_str()));
    let index = locals.iter().position(|l| l.ends_with("T01:45:00+01:00")).unwrap();
    assert_eq!(
        secs(&slots[index + 1].start_time) - secs(&slots[index].start_time),
        15 * MIN,
        "01:45 CET then 03:00 CEST"
    );
    // 94 wall-clock starts 00:00-23:15, minus the four in the gap.
    assert_eq!(slots.len(), 90, "{locals:?}");
    for slot in &slots {
        assert_eq!(slot.local_start_time, wall(&zone, secs(&slot.start_time)));
        assert_eq!(secs(&slot.end_time) - secs(&slot.start_time), 45 * MIN, "durations are real time");
    }

    // Fall back (2027-10-31): 02:00-02:59 happens twice, each real instant offered once.
    let autumn = BookingDay::next_lasting(BERLIN, 25 * HOUR);
    let slots = s.day_slots(&long.id, &[s.staff()], &autumn).await;
    let locals: Vec<&str> = slots.iter().map(|x| x.local_start_time.as_str()).collect();
    for minute in ["00", "15", "30", "45"] {
        let summer = format!("{autumn}T02:{minute}:00+02:00");
        let winter = format!("{autumn}T02:{minute}:00+01:00");
        let (a, b) = (locals.iter().position(|l| *l == summer), locals.iter().position(|l| *l == winter));
        assert!(a.is_some() && b.is_some(), "02:{minute} is offered twice: {locals:?}");
        assert_eq!(secs(&slots[b.unwrap()].start_time) - secs(&slots[a.unwrap()].start_time), HOUR);
    }
    assert_eq!(locals.iter().filter(|l| l.contains("T02:")).count(), 8);
    assert_eq!(slots.len(), 98, "94 wall-clock starts plus the four repeated ones");
    let mut instants = starts(&slots);
    instants.dedup();
    assert_eq!(instants.len(), slots.len(), "every instant once");

    // The repeated wall time can be held and booked at both instants.
    let first = slots.iter().find(|x| x.local_start_time == format!("{autumn}T02:00:00+02:00")).unwrap();
    let second = slots.iter().find(|x| x.local_start_time == format!("{autumn}T02:00:00+01:00")).unwrap();
    s.hold(&long.id, s.staff(), secs(&first.start_time), "call-dst-1").await;
    s.create(s.explicit(&long.id, s.staff(), secs(&second.start_time), "0151 11111111")).await;
}

on_both_databases!(
    slot_local_times_carry_the_branch_offset_and_the_requested_zone,
    slot_search_window_is_required_and_at_most_62_days,
    slot_pages_return_every_slot_once_in_start_then_staff_order,
    listing_slots_for_staff_not_offering_the_service_is_refused,
    listing_slots_for_an_unknown_staff_member_is_not_found,
    slots_follow_berlin_daylight_saving_changes,
);
