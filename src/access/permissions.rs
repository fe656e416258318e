//! The permission each RPC requires, in one table the auth layer consults.
//! A test checks that every method in the contracts has an entry.
use crate::domain::scope::Permission;

/// The methods a call credential (scope `call`) may call; each of them also
/// checks that what it touches belongs to the call's caller (`api::call_scope`).
pub fn open_to_calls(path: &str) -> bool {
    let Some((service, method)) = path.strip_prefix('/').and_then(|p| p.split_once('/')) else { return false };
    match service {
        "askpro.tenant.v1.TenantService" => matches!(
            method,
            "GetTenant" | "GetBranch" | "ListBranches" | "GetStaff" | "ListStaff" | "GetService" | "ListServices"
        ),
        "askpro.availability.v1.AvailabilityService" => {
            matches!(method, "ListAvailableSlots" | "HoldSlot" | "GetHold" | "ExtendHold" | "ReleaseHold")
        }
        "askpro.appointment.v1.AppointmentService" => matches!(
            method,
            "FindCustomerByPhone"
                | "GetCustomer"
                | "CreateCustomer"
                | "UpdateCustomer"
                | "CreateAppointment"
                | "GetAppointment"
                | "ListAppointments"
                | "CancelAppointment"
                | "RescheduleAppointment"
        ),
        _ => false,
    }
}

/// The permission for a gRPC path (`/package.Service/Method`); `None` for a
/// path that is no AskPro method.
// One nested match per service reads as a table; collapsing it would not.
#[allow(clippy::collapsible_match)]
pub fn required(path: &str) -> Option<Permission> {
    use Permission::*;
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    let permission = match (service, method) {
        ("askpro.tenant.v1.TenantService", method) => match method {
            "CreateTenant" | "ListTenants" | "ListPlatformApiKeys" | "RevokePlatformApiKey" => Platform,
            "GetTenant" | "GetBranch" | "ListBranches" | "GetStaff" | "ListStaff" | "GetService" | "ListServices" => {
                Read
            }
            "UpdateTenant" | "CreateBranch" | "UpdateBranch" | "DeleteBranch" | "CreateStaff" | "UpdateStaff"
            | "DeleteStaff" | "CreateService" | "UpdateService" | "DeleteService" | "CreateApiKey" | "ListApiKeys"
            | "RevokeApiKey" => Administer,
            _ => return None,
        },
        ("askpro.availability.v1.AvailabilityService", method) => match method {
            "GetWorkingHours" | "GetTimeOff" | "ListTimeOff" | "ListAvailableSlots" | "GetHold" => Read,
            "HoldSlot" | "ExtendHold" | "ReleaseHold" => Book,
            "SetWorkingHours" | "CreateTimeOff" | "DeleteTimeOff" => Administer,
            _ => return None,
        },
        ("askpro.appointment.v1.AppointmentService", method) => match method {
            "GetAppointment"
            | "ListAppointments"
            | "WatchAppointments"
            | "GetCustomer"
            | "ListCustomers"
            | "FindCustomerByPhone"
            | "GetDashboardStats" => Read,
            "CreateAppointment"
            | "UpdateAppointment"
            | "CancelAppointment"
            | "RescheduleAppointment"
            | "ConfirmAppointment"
            | "MarkNoShow"
            | "CompleteAppointment"
            | "CreateCustomer"
            | "UpdateCustomer"
            | "CreateCallCredential" => Book,
            "DeleteCustomer" => Administer,
            _ => return None,
        },
        // Subscriptions hold receiver URLs and delivery logs may echo
        // credentials, so even reads need an administrator.
        ("askpro.webhook.v1.WebhookService", method) => match method {
            "CreateSubscription"
            | "GetSubscription"
            | "ListSubscriptions"
            | "UpdateSubscription"
            | "DeleteSubscription"
            | "RotateSubscriptionSecret"
            | "SendTestEvent"
            | "ListDeliveries"
            | "RedeliverEvent"
            | "CreateInboundEndpoint"
            | "GetInboundEndpoint"
            | "ListInboundEndpoints"
            | "UpdateInboundEndpoint"
            | "DeleteInboundEndpoint"
            | "ListInboundEvents" => Administer,
            _ => return None,
        },
        // The connection holds the tenant's Cal.com key and the syncs show
        // its bookings' errors.
        ("askpro.integration.v1.IntegrationService", method) => match method {
            "ConnectCalcom"
            | "GetCalcomConnection"
            | "DisconnectCalcom"
            | "GetCalcomSync"
            | "ListCalcomSyncs"
            | "RetryCalcomSync"
            | "ImportFromCalcom" => Administer,
            _ => return None,
        },
        _ => return None,
    };
    Some(permission)
}

/// Every RPC of every AskPro service in the compiled contracts, as gRPC paths.
pub fn all_methods() -> Vec<String> {
    use prost::Message;
    // The descriptor set is compiled into the binary by build.rs; it decodes.
    let set = prost_types::FileDescriptorSet::decode(crate::proto::FILE_DESCRIPTOR_SET)
        .expect("the compiled descriptor set decodes");
    let mut paths = Vec::new();
    for file in set.file {
        for service in &file.service {
            for method in &service.method {
                paths.push(format!("/{}.{}/{}", file.package(), service.name(), method.name()));
            }
        }
    }
    paths
}

/// The path of an AskPro method as a `'static` string (a metric label), or
/// `None` for a path that names no method.
pub fn known_method(path: &str) -> Option<&'static str> {
    static METHODS: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    let methods = METHODS.get_or_init(|| {
        // Leaked once: about seventy short strings for the process's life.
        all_methods().into_iter().map(|path| &*Box::leak(path.into_boxed_str())).collect()
    });
    methods.get(path).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_has_a_permission() {
        let methods = all_methods();
        assert!(methods.len() > 60, "expected the four services, found {}", methods.len());
        for path in methods {
            assert!(required(&path).is_some(), "{path} has no entry in the permission table");
        }
    }

    #[test]
    fn unknown_paths_have_none() {
        assert_eq!(required("/grpc.health.v1.Health/Check"), None);
        assert_eq!(required("/askpro.tenant.v1.TenantService/DropDatabase"), None);
        assert_eq!(required("garbage"), None);
    }
}
