//! Property test: random sequences of holds, bookings, cancels and
//! reschedules against a model.

use super::*;

/// Candidate starts: 09:00, 09:30, ... 12:30. With 45-minute appointments
/// neighbours overlap, so conflicts are frequent.
const SLOTS: usize = 8;

const STAFF: usize = 2;

#[derive(Clone, Debug)]
enum Op {
    Hold { staff: usize, slot: usize },
    BookFromHold { hold: usize },
    BookExplicit { staff: usize, slot: usize },
    Cancel { appointment: usize },
    Reschedule { appointment: usize, staff: usize, slot: usize },
    Release { hold: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..STAFF, 0..SLOTS).prop_map(|(staff, slot)| Op::Hold { staff, slot }),
        2 => (0..16usize).prop_map(|hold| Op::BookFromHold { hold }),
        3 => (0..STAFF, 0..SLOTS).prop_map(|(staff, slot)| Op::BookExplicit { staff, slot }),
        1 => (0..16usize).prop_map(|appointment| Op::Cancel { appointment }),
        2 => (0..16usize, 0..STAFF, 0..SLOTS)
            .prop_map(|(appointment, staff, slot)| Op::Reschedule { appointment, staff, slot }),
        1 => (0..16usize).prop_map(|hold| Op::Release { hold }),
    ]
}

#[derive(Debug)]
struct ModelHold {
    id: String,
    key: String,
    staff: usize,
    start: i64,
    live: bool,
}

#[derive(Debug)]
struct ModelAppointment {
    id: String,
    staff: usize,
    start: i64,
    active: bool,
}

#[derive(Debug, Default)]
struct Model {
    holds: Vec<ModelHold>,
    appointments: Vec<ModelAppointment>,
}

impl Model {
    /// Whether `staff` is free for `[start, start + 45 min)`, ignoring the appointment `except`.
    fn free(&self, staff: usize, start: i64, except: Option<&str>) -> bool {
        let clash = |other: i64| (other - start).abs() < DURATION;
        !self.holds.iter().any(|h| h.live && h.staff == staff && clash(h.start))
            && !self
                .appointments
                .iter()
                .any(|a| a.active && a.staff == staff && Some(a.id.as_str()) != except && clash(a.start))
    }
}

/// Checks a call's outcome against the model's prediction.
fn outcome<T>(
    step: usize,
    op: &Op,
    result: Result<T, Status>,
    expect: Result<(), (Code, &str)>,
) -> Result<Option<T>, String> {
    match (result, expect) {
        (Ok(value), Ok(())) => Ok(Some(value)),
        (Err(status), Err((code, why))) if status.code() == code && reason(&status) == why => Ok(None),
        (Ok(_), Err(expected)) => Err(format!("step {step} {op:?}: expected {expected:?}, but it succeeded")),
        (Err(status), expected) => Err(format!("step {step} {op:?}: expected {expected:?}, got {status:?}")),
    }
}

async fn run_case(server: &common::TestServer, case: usize, ops: Vec<Op>) -> Result<(), String> {
    let s = TwoChairs::open(server, &format!("Salon Prop {case}")).await;
    let day = BookingDay::berlin();
    let slot = |j: usize| day.at(9, 0) + j as i64 * 30 * MIN;
    let key = s.agent();
    let (mut avc, mut apc) = (s.av(), s.ap());
    let mut model = Model::default();
    for (step, op) in ops.iter().enumerate() {
        // A caller of their own per step: the model is about staff time; one
        // customer's overlapping appointments have tests of their own.
        let phone = phone(step);
        match *op {
            Op::Hold { staff, slot: j } => {
                let hold_key = format!("call-{step}");
                let result = avc.hold_slot(authed(s.hold_for(staff, slot(j), &hold_key), key)).await;
                let expect = if model.free(staff, slot(j), None) { Ok(()) } else { Err(SLOT_TAKEN) };
                if let Some(response) = outcome(step, op, result, expect)? {
                    let hold = response.into_inner().hold.unwrap();
                    model.holds.push(ModelHold { id: hold.id, key: hold_key, staff, start: slot(j), live: true });
                }
            }
            Op::BookFromHold { hold } => {
                let Some(index) = (!model.holds.is_empty()).then(|| hold % model.holds.len()) else { continue };
                let h = &model.holds[index];
                let result = apc.create_appointment(authed(s.booking_from(&h.id, &h.key, &phone), key)).await;
                let expect = if h.live { Ok(()) } else { Err((Code::FailedPrecondition, "HOLD_EXPIRED")) };
                if let Some(response) = outcome(step, op, result, expect)? {
                    let a = response.into_inner().appointment.unwrap();
                    let (staff, start) = (h.staff, h.start);
                    if (secs(&a.start_time), a.staff_id.as_str()) != (start, s.staff[staff].as_str()) {
                        return Err(format!("step {step}: the appointment is not at the held time: {a:?}"));
                    }
                    model.holds[index].live = false;
                    model.appointments.push(ModelAppointment { id: a.id, staff, start, active: true });
                }
            }
            Op::BookExplicit { staff, slot: j } => {
                let result = apc.create_appointment(authed(s.booking(staff, slot(j), &phone), key)).await;
                let expect = if model.free(staff, slot(j), None) { Ok(()) } else { Err(SLOT_TAKEN) };
                if let Some(response) = outcome(step, op, result, expect)? {
                    let a = response.into_inner().appointment.unwrap();
                    model.appointments.push(ModelAppointment { id: a.id, staff, start: slot(j), active: true });
                }
            }
            Op::Cancel { appointment } => {
                let Some(index) = (!model.appointments.is_empty()).then(|| appointment % model.appointments.len())
                else {
                    continue;
                };
                let a = &model.appointments[index];
                let request = ap::CancelAppointmentRequest {
                    id: a.id.clone(),
                    request_id: request_id(),
                    reason: "property test".into(),
                    etag: String::new(),
                };
                let result = apc.cancel_appointment(authed(request, key)).await;
                let expect =
                    if a.active { Ok(()) } else { Err((Code::FailedPrecondition, "ILLEGAL_STATE_TRANSITION")) };
                if outcome(step, op, result, expect)?.is_some() {
                    model.appointments[index].active = false;
                }
            }
            Op::Reschedule { appointment, staff, slot: j } => {
                let Some(index) = (!model.appointments.is_empty()).then(|| appointment % model.appointments.len())
                else {
                    continue;
                };
                let a = &model.appointments[index];
                let result = apc.reschedule_appointment(authed(s.move_to(&a.id, staff, slot(j)), key)).await;
                let expect = if !a.active {
                    Err((Code::FailedPrecondition, "ILLEGAL_STATE_TRANSITION"))
                } else if model.free(staff, slot(j), Some(&a.id)) {
                    Ok(())
                } else {
                    Err(SLOT_TAKEN)
                };
                if outcome(step, op, result, expect)?.is_some() {
                    model.appointments[index].staff = staff;
                    model.appointments[index].start = slot(j);
                }
            }
            Op::Release { hold } => {
                let Some(index) = (!model.holds.is_empty()).then(|| hold % model.holds.len()) else { continue };
                let h = &model.holds[index];
                let request = av::ReleaseHoldRequest { id: h.id.clone(), hold_key: h.key.clone() };
                let result = avc.release_hold(authed(request, key)).await;
                outcome(step, op, result, Ok(()))?;
                model.holds[index].live = false;
            }
        }
    }

    // The invariant: no overlapping active appointments or live claims per staff member.
    s.assert_no_overlaps(server).await?;
    // The server's appointments are the model's.
    let mut listed: Vec<(String, String, i64)> = s
        .active_appointments()
        .await
        .into_iter()
        .map(|a| (a.id.clone(), a.staff_id.clone(), secs(&a.start_time)))
        .collect();
    let mut expected: Vec<(String, String, i64)> = model
        .appointments
        .iter()
        .filter(|a| a.active)
        .map(|a| (a.id.clone(), s.staff[a.staff].clone(), a.start))
        .collect();
    listed.sort();
    expected.sort();
    if listed != expected {
        return Err(format!("active appointments differ from the model:\n server {listed:?}\n model  {expected:?}"));
    }
    // ListAvailableSlots offers a candidate exactly when the model says it is free.
    for staff in 0..STAFF {
        let free = s.free(staff, &day).await;
        for j in 0..SLOTS {
            if free.contains(&slot(j)) != model.free(staff, slot(j), None) {
                return Err(format!(
                    "staff {staff} slot {j}: listed free = {}, model free = {}; model {model:?}",
                    free.contains(&slot(j)),
                    model.free(staff, slot(j), None)
                ));
            }
        }
    }
    Ok(())
}

fn random_sequences_never_double_book(backend: common::Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let Some(server) = runtime.block_on(common::TestServer::start(backend)) else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the property test on PostgreSQL");
        return;
    };
    let config =
        ProptestConfig { cases: 12, max_shrink_iters: 64, failure_persistence: None, ..ProptestConfig::with_cases(12) };
    let mut runner = TestRunner::new(config);
    let cases = AtomicUsize::new(0);
    let result = runner.run(&proptest::collection::vec(op(), 1..=30), |ops| {
        let case = cases.fetch_add(1, Ordering::Relaxed);
        runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(60), run_case(&server, case, ops)).await })
            .map_err(|_| TestCaseError::fail("a case took longer than 60 s"))?
            .map_err(TestCaseError::fail)
    });
    runtime.block_on(server.stop());
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn random_sequences_never_double_book_sqlite() {
    random_sequences_never_double_book(common::Backend::Sqlite);
}

#[test]
fn random_sequences_never_double_book_postgres() {
    random_sequences_never_double_book(common::Backend::Postgres);
}
