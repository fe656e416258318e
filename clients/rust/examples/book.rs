//! Finds the first free slot of the first service in the first branch, holds
//! it and books it for a new customer.
//!
//! ASKPRO_API_KEY=<agent key> cargo run -p askpro-client --example book
//! (ASKPRO_TARGET defaults to http://127.0.0.1:50051.)
use std::time::{SystemTime, UNIX_EPOCH};

use askpro_client::appointment::v1 as ap;
use askpro_client::availability::v1 as av;
use askpro_client::prost_types::Timestamp;
use askpro_client::tenant::v1 as tn;
use askpro_client::r#type::v1::TimeRange;
use askpro_client::{AskPro, Error};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = std::env::var("ASKPRO_TARGET").unwrap_or_else(|_| "http://127.0.0.1:50051".into());
    let api_key = std::env::var("ASKPRO_API_KEY").map_err(|_| "set ASKPRO_API_KEY to an agent key")?;
    book(target, api_key).await
}

/// The example itself; the crate's tests run it against a test server.
pub async fn book(target: String, api_key: String) -> Result<(), Box<dyn std::error::Error>> {
    let client = AskPro::connect(target, api_key).await?;

    let branch = client.list_branches(tn::ListBranchesRequest::default()).await?.branches.remove(0);
    let service = client.list_services(tn::ListServicesRequest::default()).await?.services.remove(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let slots = client
        .list_available_slots(av::ListAvailableSlotsRequest {
            branch_id: branch.id.clone(),
            service_id: service.id.clone(),
            time_range: Some(TimeRange {
                start_time: Some(Timestamp { seconds: now, nanos: 0 }),
                end_time: Some(Timestamp { seconds: now + 14 * 24 * 3600, nanos: 0 }),
            }),
            ..Default::default()
        })
        .await?
        .slots;
    let slot = slots.first().ok_or("no free slot in the next two weeks")?;
    println!("{} at {} with staff {}", service.display_name, slot.local_start_time, slot.staff_id);

    // The hold keeps the slot while the caller confirms; the key proves it is ours.
    let hold_key = uuid::Uuid::now_v7().to_string();
    let hold = client
        .hold_slot(av::HoldSlotRequest {
            branch_id: branch.id,
            service_id: service.id,
            staff_id: slot.staff_id.clone(),
            start_time: slot.start_time,
            hold_key: hold_key.clone(),
            ..Default::default()
        })
        .await?
        .hold
        .ok_or("no hold in the response")?;

    let booking = client
        .create_appointment(ap::CreateAppointmentRequest {
            slot: Some(ap::create_appointment_request::Slot::FromHold(ap::HoldReference {
                hold_id: hold.id,
                hold_key,
            })),
            customer: Some(ap::create_appointment_request::Customer::NewCustomer(ap::CustomerInput {
                phone_number: "+49 170 1234567".into(),
                display_name: "Example Customer".into(),
                email: String::new(),
            })),
            source: ap::AppointmentSource::PhoneAgent as i32,
            ..Default::default()
        })
        .await;
    match booking {
        Ok(response) => println!("booked appointment {}", response.appointment.map(|a| a.id).unwrap_or_default()),
        Err(Error::SlotTaken { alternatives, .. }) => {
            println!("taken meanwhile; alternatives:");
            for alternative in alternatives {
                println!("  {} with staff {}", alternative.local_start_time, alternative.staff_id);
            }
        }
        Err(error) => return Err(error.into()),
    }
    Ok(())
}
