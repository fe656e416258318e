//! Generated protobuf messages and tonic clients for the contracts in `proto/`,
//! written to `gen/` by `clients/generate.sh` (the askpro-client-codegen crate).
#![allow(clippy::all, missing_docs)]

pub mod r#type {
    pub mod v1 {
        include!("gen/askpro.r#type.v1.rs");
    }
}
pub mod tenant {
    pub mod v1 {
        include!("gen/askpro.tenant.v1.rs");
    }
}
pub mod availability {
    pub mod v1 {
        include!("gen/askpro.availability.v1.rs");
    }
}
pub mod appointment {
    pub mod v1 {
        include!("gen/askpro.appointment.v1.rs");
    }
}
pub mod integration {
    pub mod v1 {
        include!("gen/askpro.integration.v1.rs");
    }
}
pub mod webhook {
    pub mod v1 {
        include!("gen/askpro.webhook.v1.rs");
    }
}
