//! One customer's appointments at the same time with different staff
//! members: refused by default (CUSTOMER_DOUBLE_BOOKED, naming the other
//! appointment), decided in the booking's transaction under the customer's
//! row lock, and allowed when the tenant says so.

use super::*;

const CALLER: &str = "0151 24681357";

fn double_booked_pointer(status: &Status) -> String {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(reason(status), "CUSTOMER_DOUBLE_BOOKED", "{status:?}");
    error_metadata(status).get("appointment_id").cloned().expect("the other appointment is named")
}

async fn one_customer_cannot_be_in_two_places_at_once(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Zwei Stühle").await;
    let ben = s.staff_with_hours(server, "Ben", OPEN_HOURS).await;
    let day = BookingDay::berlin();
    let first = s.book(day.at(10, 0), CALLER).await;

    // Ben at the same time, and at 10:30 (overlapping the 45 minutes): refused.
    for start in [day.at(10, 0), day.at(10, 30)] {
        let status = s.try_create(s.explicit(s.service(), &ben.id, start, CALLER)).await.expect_err("overlaps");
        assert_eq!(double_booked_pointer(&status), first.id);
    }
    // Right after the first appointment: fine.
    let second = s.create(s.explicit(s.service(), &ben.id, day.at(10, 45), CALLER)).await.appointment.unwrap();
    // Moving it onto the first is refused too; moving it elsewhere is fine.
    let status = s.reschedule(&second.id, day.at(10, 15), "").await.expect_err("overlaps");
    assert_eq!(double_booked_pointer(&status), first.id);
    s.reschedule(&second.id, day.at(12, 0), "").await.expect("no overlap");
    // Another caller is not affected, and a cancelled appointment blocks nothing.
    s.create(s.explicit(s.service(), &ben.id, day.at(10, 0), "0151 99999999")).await;
    s.cancel(&first.id, "changed plans").await.expect("cancel");
    let status = s.try_create(s.explicit(s.service(), &ben.id, day.at(10, 0), CALLER)).await.expect_err("Ben is taken");
    assert_eq!(reason(&status), "SLOT_TAKEN", "only the staff member's time is in the way now");
    s.create(s.explicit(s.service(), s.staff(), day.at(10, 0), CALLER)).await;
    assert_eq!(s.list(ap::ListAppointmentsRequest::default()).await.len(), 4);
}

/// Both bookings of one pair race (Anna and Ben, one caller, the same time):
/// exactly one wins each time, on PostgreSQL too.
async fn racing_bookings_of_one_customer_book_one(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Gleichzeitig").await;
    let ben = s.staff_with_hours(server, "Ben", OPEN_HOURS).await;
    let day = BookingDay::berlin();
    for hour in 9..15 {
        let start = day.at(hour, 0);
        let (a, b) = tokio::join!(
            s.try_create(s.explicit(s.service(), s.staff(), start, CALLER)),
            s.try_create(s.explicit(s.service(), &ben.id, start, CALLER)),
        );
        let won = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "{hour}:00: {a:?} / {b:?}");
        let lost = match (a, b) {
            (Err(status), _) | (_, Err(status)) => status,
            _ => unreachable!("one lost"),
        };
        double_booked_pointer(&lost);
    }
    assert_eq!(s.list(ap::ListAppointmentsRequest::default()).await.len(), 6);
}

async fn a_tenant_may_allow_overlapping_appointments(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Erlaubt").await;
    let ben = s.staff_with_hours(server, "Ben", OPEN_HOURS).await;
    let day = BookingDay::berlin();
    let allow = tn::UpdateTenantRequest {
        tenant: Some(tn::Tenant {
            id: s.fx.id.clone(),
            allow_overlapping_customer_appointments: true,
            ..Default::default()
        }),
        update_mask: common::mask(&["allow_overlapping_customer_appointments"]),
    };
    let updated = server.tenants().update_tenant(authed(allow, s.admin())).await.expect("update").into_inner();
    assert!(updated.tenant.expect("tenant").allow_overlapping_customer_appointments);
    s.book(day.at(10, 0), CALLER).await;
    s.create(s.explicit(s.service(), &ben.id, day.at(10, 0), CALLER)).await;
    assert_eq!(s.list(ap::ListAppointmentsRequest::default()).await.len(), 2);
}

on_both_databases!(
    one_customer_cannot_be_in_two_places_at_once,
    racing_bookings_of_one_customer_book_one,
    a_tenant_may_allow_overlapping_appointments,
);
