//! How much a tenant's inbound-call answer tells about a caller known only by
//! caller ID, which can be spoofed: all of it (the default, as before), a
//! first name and the weekday of the next appointment, or nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CallerDisclosure {
    /// Name, customer id and every upcoming appointment with its details.
    #[default]
    Full,
    /// The first name and the weekday of the next appointment, nothing more.
    FirstNameAndDay,
    /// Nothing about the caller.
    Nothing,
}

impl CallerDisclosure {
    pub fn as_str(self) -> &'static str {
        match self {
            CallerDisclosure::Full => "full",
            CallerDisclosure::FirstNameAndDay => "first_name_and_day",
            CallerDisclosure::Nothing => "none",
        }
    }

    /// A stored value; an unknown one discloses nothing (fail closed).
    pub fn from_stored(text: &str) -> Self {
        [CallerDisclosure::Full, CallerDisclosure::FirstNameAndDay]
            .into_iter()
            .find(|d| d.as_str() == text)
            .unwrap_or(CallerDisclosure::Nothing)
    }
}

/// The first word of a name ("Maria" of "Maria Muster").
pub fn first_name(display_name: &str) -> &str {
    display_name.split_whitespace().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_round_trip_and_unknown_ones_disclose_nothing() {
        for d in [CallerDisclosure::Full, CallerDisclosure::FirstNameAndDay, CallerDisclosure::Nothing] {
            assert_eq!(CallerDisclosure::from_stored(d.as_str()), d);
        }
        assert_eq!(CallerDisclosure::from_stored("everything"), CallerDisclosure::Nothing);
        assert_eq!(first_name("  Maria  Muster "), "Maria");
        assert_eq!(first_name(""), "");
    }
}
