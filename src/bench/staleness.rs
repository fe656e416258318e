//! The two-replica variant (`askpro bench --replicas 2`, PostgreSQL): how
//! long a change made through one replica takes to show in the other's
//! cached reads. Each trial reads through the second replica first (so its
//! caches hold the old answer), changes through the first, then asks the
//! second every 0.2 ms until the answer is the new one: a new caller for
//! FindCustomerByPhone, a booked slot gone from ListAvailableSlots.
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;
use tonic::Code;
use tonic::transport::Channel;
use uuid::Uuid;

use super::credentials::Credentials;
use super::layout::BOOKED_SERVICE;
use super::seed::Fixture;
use crate::proto::appointment::v1 as appointment_pb;
use crate::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use crate::proto::availability::v1 as availability_pb;
use crate::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use crate::proto::r#type::v1 as types;

/// A change not seen after this long counts as never seen (and fails the run).
const GIVE_UP: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_micros(200);

/// Milliseconds from the change's answer on the first replica to the first
/// read on the second that shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Staleness {
    pub trials: usize,
    pub new_caller_p50_ms: f64,
    pub new_caller_max_ms: f64,
    pub booked_slot_p50_ms: f64,
    pub booked_slot_max_ms: f64,
}

pub struct Replicas<'a> {
    pub first: Channel,
    pub second: Channel,
    pub credentials: &'a Credentials,
    pub fixture: &'a Fixture,
}

impl Replicas<'_> {
    /// `trials` of each kind; the slots come from the end of the fixture's
    /// free slots (CreateAppointment's measurement takes them from the start).
    pub async fn measure(&self, trials: usize) -> anyhow::Result<Staleness> {
        let mut callers = Vec::with_capacity(trials);
        let mut slots = Vec::with_capacity(trials);
        let free = &self.fixture.free_slots;
        anyhow::ensure!(free.len() >= trials, "too few free slots for {trials} trials");
        for trial in 0..trials {
            callers.push(self.new_caller(trial).await?);
            slots.push(self.booked_slot(free[free.len() - 1 - trial]).await?);
        }
        let (caller_p50, caller_max) = p50_and_max(&mut callers);
        let (slot_p50, slot_max) = p50_and_max(&mut slots);
        Ok(Staleness {
            trials,
            new_caller_p50_ms: caller_p50,
            new_caller_max_ms: caller_max,
            booked_slot_p50_ms: slot_p50,
            booked_slot_max_ms: slot_max,
        })
    }

    async fn new_caller(&self, trial: usize) -> anyhow::Result<Duration> {
        let number = format!("0157 9{:07}", (Uuid::now_v7().as_u128() as usize + trial) % 10_000_000);
        let mut second = AppointmentServiceClient::new(self.second.clone());
        let find =
            || appointment_pb::FindCustomerByPhoneRequest { phone_number: number.clone(), branch_id: String::new() };
        let unknown = second.find_customer_by_phone(self.credentials.request(find())).await;
        anyhow::ensure!(matches!(&unknown, Err(s) if s.code() == Code::NotFound), "the new number is known already");
        let create = appointment_pb::CreateCustomerRequest {
            request_id: Uuid::now_v7().to_string(),
            customer: Some(appointment_pb::Customer {
                phone_number: number.clone(),
                display_name: format!("Staleness {trial}"),
                ..Default::default()
            }),
            region_code: String::new(),
        };
        AppointmentServiceClient::new(self.first.clone()).create_customer(self.credentials.request(create)).await?;
        let changed = Instant::now();
        loop {
            match second.find_customer_by_phone(self.credentials.request(find())).await {
                Ok(_) => return Ok(changed.elapsed()),
                Err(status) if status.code() == Code::NotFound => {}
                Err(status) => return Err(status.into()),
            }
            anyhow::ensure!(changed.elapsed() < GIVE_UP, "the second replica never saw the new caller");
            tokio::time::sleep(POLL).await;
        }
    }

    async fn booked_slot(&self, (staff_id, start): (Uuid, i64)) -> anyhow::Result<Duration> {
        let f = self.fixture;
        let mut second = AvailabilityServiceClient::new(self.second.clone());
        let list = || availability_pb::ListAvailableSlotsRequest {
            branch_id: f.branch_id.to_string(),
            service_id: f.service_ids[BOOKED_SERVICE].to_string(),
            staff_ids: vec![staff_id.to_string()],
            time_range: Some(types::TimeRange {
                start_time: Some(timestamp(start)),
                end_time: Some(timestamp(start + 1)),
            }),
            time_zone: String::new(),
            page_size: 10,
            page_token: String::new(),
        };
        let offered = |slots: &[availability_pb::Slot]| {
            slots.iter().any(|s| s.start_time.as_ref().is_some_and(|t| t.seconds == start))
        };
        let before = second.list_available_slots(self.credentials.request(list())).await?.into_inner();
        anyhow::ensure!(offered(&before.slots), "the free slot is not offered before the booking");
        use appointment_pb::create_appointment_request::{Customer, Slot};
        let book = appointment_pb::CreateAppointmentRequest {
            request_id: Uuid::now_v7().to_string(),
            slot: Some(Slot::ExplicitSlot(appointment_pb::ExplicitSlot {
                service_id: f.service_ids[BOOKED_SERVICE].to_string(),
                staff_id: staff_id.to_string(),
                start_time: Some(timestamp(start)),
                branch_id: f.branch_id.to_string(),
            })),
            customer: Some(Customer::NewCustomer(appointment_pb::CustomerInput {
                phone_number: format!("0157 8{:07}", start % 10_000_000),
                display_name: String::new(),
                email: String::new(),
            })),
            source: appointment_pb::AppointmentSource::PhoneAgent as i32,
            notes: String::new(),
            call_id: String::new(),
            initial_status: appointment_pb::AppointmentStatus::Confirmed as i32,
        };
        AppointmentServiceClient::new(self.first.clone()).create_appointment(self.credentials.request(book)).await?;
        let changed = Instant::now();
        loop {
            let slots = second.list_available_slots(self.credentials.request(list())).await?.into_inner().slots;
            if !offered(&slots) {
                return Ok(changed.elapsed());
            }
            anyhow::ensure!(changed.elapsed() < GIVE_UP, "the second replica kept offering the booked slot");
            tokio::time::sleep(POLL).await;
        }
    }
}

fn timestamp(unix_seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: unix_seconds, nanos: 0 }
}

/// The median (upper) and the maximum, in milliseconds.
fn p50_and_max(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort_unstable();
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    match samples {
        [] => (0.0, 0.0),
        _ => (ms(samples[samples.len() / 2]), ms(samples[samples.len() - 1])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_maximum_in_milliseconds() {
        let mut samples = [3, 1, 2, 10].map(Duration::from_millis);
        assert_eq!(p50_and_max(&mut samples), (3.0, 10.0));
        assert_eq!(p50_and_max(&mut []), (0.0, 0.0));
    }
}
