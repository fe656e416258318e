//! Every string of a request is checked in one place (the server's codec):
//! a NUL or another control character answers INVALID_ARGUMENT naming the
//! field, the same on SQLite (which would store it) and PostgreSQL (which
//! cannot), and nothing is written.

use super::*;

const BAD_TEXTS: [&str; 4] = ["Mü\0ller", "\u{1b}[31mrot", "Glocke\u{7}", "C1\u{85}"];

async fn control_characters_in_any_string_are_refused_and_change_nothing(server: &common::TestServer) {
    let s = Salon::open(server, "Salon Steuerzeichen").await;
    let day = BookingDay::berlin();

    for bad in BAD_TEXTS {
        // A top-level string of a read.
        let status = expect_code(
            s.ap()
                .list_customers(authed(ap::ListCustomersRequest { query: bad.into(), ..Default::default() }, s.agent()))
                .await,
            Code::InvalidArgument,
        );
        assert_eq!(violated_fields(&status), ["query"], "{bad:?}: {status:?}");

        // A booking's call id, and a nested string of the new caller.
        let mut booking = s.explicit(s.service(), s.staff(), day.at(10, 0), "0151 23456789");
        booking.call_id = bad.into();
        let status = expect_code(s.try_create(booking).await, Code::InvalidArgument);
        assert_eq!(violated_fields(&status), ["call_id"], "{bad:?}: {status:?}");

        let mut booking = s.explicit(s.service(), s.staff(), day.at(10, 0), "0151 23456789");
        if let Some(ap::create_appointment_request::Customer::NewCustomer(caller)) = booking.customer.as_mut() {
            caller.display_name = bad.into();
        }
        let status = expect_code(s.try_create(booking).await, Code::InvalidArgument);
        assert_eq!(violated_fields(&status), ["new_customer.display_name"], "{bad:?}: {status:?}");

        // A repeated string.
        let list = ap::ListAppointmentsRequest { staff_ids: vec![s.staff().into(), bad.into()], ..Default::default() };
        let status = expect_code(s.ap().list_appointments(authed(list, s.agent())).await, Code::InvalidArgument);
        assert_eq!(violated_fields(&status), ["staff_ids"], "{bad:?}: {status:?}");
        assert!(status.message().contains("control characters"), "{}", status.message());
    }
    assert!(s.list(ap::ListAppointmentsRequest::default()).await.is_empty(), "nothing was booked");
    let customers = s
        .ap()
        .list_customers(authed(ap::ListCustomersRequest::default(), s.agent()))
        .await
        .expect("list customers")
        .into_inner()
        .customers;
    assert!(customers.is_empty(), "no caller was created: {customers:?}");

    // Line breaks and tabs are text, not control characters: notes keep them.
    let mut booking = s.explicit(s.service(), s.staff(), day.at(10, 0), "0151 23456789");
    booking.notes = "Zeile 1\r\nZeile 2\tEinzug".into();
    booking.call_id = "call-Ümlaut-1".into();
    let made = s.create(booking).await.appointment.expect("the appointment");
    assert_eq!(made.notes, "Zeile 1\r\nZeile 2\tEinzug");
}

on_both_databases!(control_characters_in_any_string_are_refused_and_change_nothing);
