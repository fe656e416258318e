//! Generated protobuf messages and tonic clients for the contracts in `proto/`.
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
pub mod webhook {
    pub mod v1 {
        tonic::include_proto!("askpro.webhook.v1");
    }
}
