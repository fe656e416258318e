//! Arbitrary bodies into the three payload parsers and the event-key
//! derivation: no panic, and keys stay short enough for the inbox.
#![no_main]

use askpro_fuzz::payload::{identify, parse_calcom, parse_retell, parse_standard};
use askpro_fuzz::verify::Verified;
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = parse_calcom(body);
    let _ = parse_retell(body);
    let _ = parse_standard(body);

    let timestamp = DateTime::UNIX_EPOCH;
    for verified in [
        Verified::CalCom,
        Verified::Retell { timestamp },
        Verified::StandardWebhooks { id: "msg_fuzz".to_owned(), timestamp },
    ] {
        let identity = identify(&verified, body);
        assert!(!identity.key.is_empty());
        // Two key parts of at most 128 bytes, separators and a 64-digit hash.
        assert!(identity.key.len() <= 128 * 2 + 64 + 16, "{}", identity.key.len());
        assert!(identity.event_type.len() <= 128);
    }
});
