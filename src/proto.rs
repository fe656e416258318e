//! Generated protobuf and tonic code for the contracts in `proto/`.
#![allow(clippy::all, missing_docs)]

pub mod r#type {
    pub mod v1 {
        tonic::include_proto!("askpro.r#type.v1");
    }
}
pub mod tenant {
    pub mod v1 {
        tonic::include_proto!("askpro.tenant.v1");
    }
}
pub mod availability {
    pub mod v1 {
        tonic::include_proto!("askpro.availability.v1");
    }
}
pub mod appointment {
    pub mod v1 {
        tonic::include_proto!("askpro.appointment.v1");
    }
}
pub mod integration {
    pub mod v1 {
        tonic::include_proto!("askpro.integration.v1");
    }
}
pub mod webhook {
    pub mod v1 {
        tonic::include_proto!("askpro.webhook.v1");
    }
}

/// The encoded descriptors of every AskPro proto, served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/askpro_descriptor.bin"));

/// The AskPro gRPC services by full name: what health reports on (besides ""
/// for the whole server). A test in `server` holds them to the generated code.
pub const SERVICE_NAMES: [&str; 5] = [
    "askpro.tenant.v1.TenantService",
    "askpro.availability.v1.AvailabilityService",
    "askpro.appointment.v1.AppointmentService",
    "askpro.webhook.v1.WebhookService",
    "askpro.integration.v1.IntegrationService",
];
