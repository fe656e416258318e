//! Pure domain logic: identifiers, validated value types, scopes, API-key
//! format and paging. No I/O here; neither tonic nor sea-orm is known.
pub mod api_key;
pub mod appointment;
pub mod disclosure;
pub mod error;
pub mod ids;
pub mod local_time;
pub mod page;
pub mod phone;
pub mod scope;
pub mod slots;
pub mod validate;
pub mod webhook;
