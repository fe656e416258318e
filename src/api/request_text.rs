//! The one check of every string in a request: valid UTF-8 without control
//! characters.
//!
//! It runs on the encoded message, before prost decodes it, guided by the
//! contracts' descriptors (prost-reflect): every field of type `string`, at
//! any depth, in repeated fields and map entries too. PostgreSQL refuses a NUL
//! in text and SQLite stores it; refusing control characters here makes both
//! databases (and every way in that decodes through `api::codec`) answer the
//! same INVALID_ARGUMENT with the field's path.
//!
//! Hand-written because no crate walks the protobuf wire format with a
//! descriptor without decoding into a dynamic message first; walking the
//! bytes allocates nothing on the hot path.
use std::collections::HashMap;
use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, Kind, MessageDescriptor};

/// The contracts' descriptors, decoded once.
static POOL: LazyLock<Option<DescriptorPool>> =
    LazyLock::new(|| DescriptorPool::decode(crate::proto::FILE_DESCRIPTOR_SET).ok());

/// Nesting deeper than this is left to prost, whose own recursion limit (100)
/// answers it.
const MAX_DEPTH: u32 = 32;

pub const CONTROL_CHARACTERS: &str =
    "must not contain control characters (U+0000-U+001F other than tab, line feed and carriage return; U+007F-U+009F)";
pub const NOT_UTF8: &str = "must be valid UTF-8";

/// A string field that failed the check: its path (`customer.display_name`)
/// and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadText {
    pub field: String,
    pub description: &'static str,
}

/// The descriptors of the messages a method of the contracts takes, by full
/// name. The generated clients decode through the same codec; answers are
/// not requests and are not checked (a list of slots would be walked again
/// by the client for nothing).
static REQUESTS: LazyLock<HashMap<String, MessageDescriptor>> = LazyLock::new(|| {
    let Some(pool) = POOL.as_ref() else { return HashMap::new() };
    pool.services()
        .flat_map(|service| service.methods().map(|method| method.input()).collect::<Vec<_>>())
        .map(|input| (input.full_name().to_owned(), input))
        .collect()
});

/// The descriptor of a message type a method takes, if it is one.
pub fn descriptor(full_name: &str) -> Option<MessageDescriptor> {
    REQUESTS.get(full_name).cloned()
}

/// Checks every string field of the encoded `message`. Bytes that are not a
/// well-formed message are not judged here: prost's decoding reports them.
pub fn check(descriptor: &MessageDescriptor, message: &[u8]) -> Result<(), BadText> {
    check_message(descriptor, message, 0)
}

fn check_text(bytes: &[u8]) -> Result<(), &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| NOT_UTF8)?;
    if crate::domain::validate::has_control_character(text) {
        return Err(CONTROL_CHARACTERS);
    }
    Ok(())
}

fn check_message(descriptor: &MessageDescriptor, mut bytes: &[u8], depth: u32) -> Result<(), BadText> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    while !bytes.is_empty() {
        let Some(tag) = read_varint(&mut bytes) else { return Ok(()) };
        let number = (tag >> 3) as u32;
        let value = match tag & 7 {
            0 => {
                if read_varint(&mut bytes).is_none() {
                    return Ok(());
                }
                continue;
            }
            1 => skip(&mut bytes, 8),
            5 => skip(&mut bytes, 4),
            2 => read_varint(&mut bytes).and_then(|len| usize::try_from(len).ok()).and_then(|len| {
                let (value, rest) = (bytes.get(..len)?, bytes.get(len..)?);
                bytes = rest;
                Some(value)
            }),
            // Groups are not used by the contracts; prost judges them.
            _ => return Ok(()),
        };
        let Some(value) = value else { return Ok(()) };
        if tag & 7 != 2 {
            continue;
        }
        let Some(field) = descriptor.get_field(number) else { continue };
        let outcome = match field.kind() {
            Kind::String => check_text(value).map_err(|description| BadText { field: String::new(), description }),
            Kind::Message(inner) => check_message(&inner, value, depth + 1),
            _ => Ok(()),
        };
        if let Err(mut bad) = outcome {
            // A map entry's own fields ("key", "value") name the map's field.
            let name = if descriptor.is_map_entry() { "" } else { field.name() };
            bad.field = match (name.is_empty(), bad.field.is_empty()) {
                (true, _) => bad.field,
                (false, true) => name.to_owned(),
                (false, false) if bad.field.starts_with('[') => format!("{name}{}", bad.field),
                (false, false) => format!("{name}.{}", bad.field),
            };
            return Err(bad);
        }
    }
    Ok(())
}

fn skip<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let value = bytes.get(..n)?;
    *bytes = &bytes[n..];
    Some(value)
}

fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *bytes = &bytes[i + 1..];
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::proto::appointment::v1 as pb;

    fn check_of<M: Message + prost::Name>(message: &M) -> Result<(), BadText> {
        let descriptor = descriptor(&M::full_name()).expect("the contracts describe the message");
        check(&descriptor, &message.encode_to_vec())
    }

    #[test]
    fn control_characters_are_found_where_they_are() {
        use crate::domain::validate::has_control_character;
        assert!(has_control_character("a\0b"));
        assert!(has_control_character("\u{1b}[31m"));
        assert!(has_control_character("del\u{7f}"));
        assert!(has_control_character("c1\u{85}"));
        assert!(!has_control_character("Zeile 1\nZeile 2\r\n\tEinzug"));
        assert!(!has_control_character("Müller – ½ ¢ ÿ"));
        assert!(!has_control_character(""));
    }

    #[test]
    fn a_nul_in_a_top_level_string_names_the_field() {
        let request = pb::ListCustomersRequest { query: "Mü\0ller".into(), ..Default::default() };
        assert_eq!(check_of(&request), Err(BadText { field: "query".into(), description: CONTROL_CHARACTERS }));
        let fine = pb::ListCustomersRequest { query: "Müller\tGmbH".into(), ..Default::default() };
        assert_eq!(check_of(&fine), Ok(()));
    }

    #[test]
    fn nested_and_repeated_strings_are_checked() {
        let request = pb::CreateCustomerRequest {
            customer: Some(pb::Customer { display_name: "Eve\u{7}".into(), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(check_of(&request).unwrap_err().field, "customer.display_name");

        let request =
            pb::ListAppointmentsRequest { staff_ids: vec!["ok".into(), "b\u{1}".into()], ..Default::default() };
        assert_eq!(check_of(&request).unwrap_err().field, "staff_ids");
    }

    #[test]
    fn invalid_utf8_is_named_and_malformed_bytes_are_left_to_prost() {
        let descriptor = descriptor("askpro.appointment.v1.ListCustomersRequest").unwrap();
        let query = descriptor.get_field_by_name("query").unwrap().number() as u8;
        let invalid = [query << 3 | 2, 2, 0xff, 0xfe];
        assert_eq!(check(&descriptor, &invalid), Err(BadText { field: "query".into(), description: NOT_UTF8 }));
        let truncated = [query << 3 | 2, 10, b'a'];
        assert_eq!(check(&descriptor, &truncated), Ok(()));
        assert!(pb::ListCustomersRequest::decode(&truncated[..]).is_err());
    }
}
