//! Typed identifiers. Every id is a UUIDv7 (time-ordered, so keyset paging by
//! id lists oldest first); the types keep a staff id from being passed where a
//! branch id is expected.
use std::fmt;

use uuid::Uuid;

use super::error::{Invalid, Result};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses a request field; a malformed id is INVALID_ARGUMENT on `field`.
            pub fn parse(field: &str, text: &str) -> Result<Self> {
                if text.is_empty() {
                    return Err(Invalid::field(field, "is required"));
                }
                Uuid::try_parse(text)
                    .map(Self)
                    .map_err(|_| Invalid::field(field, "must be a UUID"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

id_type!(
    /// A tenant (company). Every tenant-owned row carries one.
    TenantId
);
id_type!(
    /// A branch of a tenant.
    BranchId
);
id_type!(
    /// A staff member.
    StaffId
);
id_type!(
    /// A bookable service.
    ServiceId
);
id_type!(
    /// An appointment.
    AppointmentId
);
id_type!(
    /// An API key (the public part of the credential).
    ApiKeyId
);
id_type!(
    /// An outbound webhook subscription.
    SubscriptionId
);
id_type!(
    /// An outbound webhook event (the Standard Webhooks webhook-id).
    WebhookEventId
);
id_type!(
    /// An inbound webhook endpoint of a provider.
    InboundEndpointId
);
