//! Appointment status and source, and the state machine between statuses:
//! PENDING -> CONFIRMED; PENDING or CONFIRMED -> CANCELLED; CONFIRMED ->
//! COMPLETED or NO_SHOW. CANCELLED, COMPLETED and NO_SHOW are terminal.
use std::fmt;
use std::str::FromStr;

/// The longest an appointment may last (a service lasts at most a day; a
/// Cal.com booking longer than that is not mirrored). Range queries rely on
/// it: an appointment overlapping `[from, to)` starts after `from` minus
/// this, so they read a bounded slice of the history, not all of it.
pub const MAX_LENGTH: chrono::Duration = chrono::Duration::days(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Confirmed,
    Cancelled,
    Completed,
    NoShow,
}

/// A status change the state machine does not allow.
#[derive(Debug, PartialEq, Eq)]
pub struct IllegalTransition {
    pub from: Status,
    pub to: Status,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::Pending, Status::Confirmed, Status::Cancelled, Status::Completed, Status::NoShow];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Confirmed => "confirmed",
            Status::Cancelled => "cancelled",
            Status::Completed => "completed",
            Status::NoShow => "no_show",
        }
    }

    /// Whether the appointment occupies its time (and counts as upcoming).
    pub fn is_active(self) -> bool {
        matches!(self, Status::Pending | Status::Confirmed)
    }

    /// Checks `self -> to`. Moving to the status it already has is allowed
    /// (a retried Confirm changes nothing), except for cancelling twice.
    pub fn transition(self, to: Status) -> Result<Status, IllegalTransition> {
        use Status::*;
        let allowed = match (self, to) {
            (from, to) if from == to => to != Cancelled,
            (Pending, Confirmed) | (Pending | Confirmed, Cancelled) | (Confirmed, Completed | NoShow) => true,
            _ => false,
        };
        if allowed { Ok(to) } else { Err(IllegalTransition { from: self, to }) }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| format!("unknown status {s:?}"))
    }
}

/// Where an appointment was booked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    PhoneAgent,
    Frontend,
    PartnerApi,
    Calcom,
}

impl Source {
    pub const ALL: [Source; 4] = [Source::PhoneAgent, Source::Frontend, Source::PartnerApi, Source::Calcom];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::PhoneAgent => "phone_agent",
            Source::Frontend => "frontend",
            Source::PartnerApi => "partner_api",
            Source::Calcom => "calcom",
        }
    }
}

impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Source::ALL.into_iter().find(|src| src.as_str() == s).ok_or_else(|| format!("unknown source {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    #[test]
    fn allowed_transitions_follow_the_state_machine() {
        assert_eq!(Pending.transition(Confirmed), Ok(Confirmed));
        assert_eq!(Pending.transition(Cancelled), Ok(Cancelled));
        assert_eq!(Confirmed.transition(Cancelled), Ok(Cancelled));
        assert_eq!(Confirmed.transition(Completed), Ok(Completed));
        assert_eq!(Confirmed.transition(NoShow), Ok(NoShow));
        assert_eq!(Confirmed.transition(Confirmed), Ok(Confirmed), "a retried confirm changes nothing");
    }

    #[test]
    fn terminal_states_stay_terminal() {
        for from in [Cancelled, Completed, NoShow] {
            for to in Status::ALL {
                if from != to || to == Cancelled {
                    assert!(from.transition(to).is_err(), "{from} -> {to} must be refused");
                }
            }
        }
        assert!(Pending.transition(Completed).is_err());
        assert!(Pending.transition(NoShow).is_err());
    }

    #[test]
    fn names_round_trip() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        for source in Source::ALL {
            assert_eq!(source.as_str().parse::<Source>(), Ok(source));
        }
    }
}
