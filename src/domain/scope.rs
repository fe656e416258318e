//! API-key scopes and the permissions each grants.
use std::fmt;
use std::str::FromStr;

/// What a key is allowed to do; stored as its snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Operates the platform; belongs to no tenant.
    PlatformAdmin,
    /// Manages one tenant.
    TenantAdmin,
    /// A voice agent: reads, holds and books.
    Agent,
    /// Reads only.
    ReadOnly,
    /// One phone call's credential: only the methods open to calls
    /// (`access::permissions::open_to_calls`), on the caller's own records.
    Call,
}

/// What a method requires. Every RPC names exactly one (see `access::permissions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Create and list tenants: platform admins only.
    Platform,
    /// Change a tenant's configuration (branches, staff, keys, webhooks).
    Administer,
    /// Hold, book, cancel, reschedule, create customers.
    Book,
    /// Read the tenant's data.
    Read,
}

impl Permission {
    /// The least scope that grants it (every scope above grants it too).
    pub fn least_scope(self) -> Scope {
        match self {
            Permission::Platform => Scope::PlatformAdmin,
            Permission::Administer => Scope::TenantAdmin,
            Permission::Book => Scope::Agent,
            Permission::Read => Scope::ReadOnly,
        }
    }
}

impl Scope {
    /// The name of the scope in the contract (`ApiKeyScope`).
    pub fn contract_name(self) -> &'static str {
        match self {
            Scope::PlatformAdmin => "API_KEY_SCOPE_PLATFORM_ADMIN",
            Scope::TenantAdmin => "API_KEY_SCOPE_TENANT_ADMIN",
            Scope::Agent => "API_KEY_SCOPE_AGENT",
            Scope::ReadOnly => "API_KEY_SCOPE_READ_ONLY",
            Scope::Call => "API_KEY_SCOPE_CALL",
        }
    }

    pub fn grants(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Scope::PlatformAdmin => true,
            Scope::TenantAdmin => matches!(permission, Administer | Book | Read),
            Scope::Agent => matches!(permission, Book | Read),
            Scope::ReadOnly => matches!(permission, Read),
            // Not by permission: by the list of methods open to calls.
            Scope::Call => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PlatformAdmin => "platform_admin",
            Scope::TenantAdmin => "tenant_admin",
            Scope::Agent => "agent",
            Scope::ReadOnly => "read_only",
            Scope::Call => "call",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "platform_admin" => Ok(Scope::PlatformAdmin),
            "tenant_admin" => Ok(Scope::TenantAdmin),
            "agent" => Ok(Scope::Agent),
            "read_only" => Ok(Scope::ReadOnly),
            "call" => Ok(Scope::Call),
            other => Err(format!("unknown scope {other:?}")),
        }
    }
}

#[cfg(test)]
mod least_scope_tests {
    use super::*;

    #[test]
    fn the_least_scope_grants_the_permission_and_the_one_below_does_not() {
        let ladder = [Scope::ReadOnly, Scope::Agent, Scope::TenantAdmin, Scope::PlatformAdmin];
        for permission in [Permission::Read, Permission::Book, Permission::Administer, Permission::Platform] {
            let least = permission.least_scope();
            assert!(least.grants(permission), "{permission:?}");
            let rank = ladder.iter().position(|s| *s == least).unwrap();
            assert!(ladder[rank..].iter().all(|s| s.grants(permission)), "{permission:?}");
            assert!(ladder[..rank].iter().all(|s| !s.grants(permission)), "{permission:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_include_the_ones_below_them() {
        assert!(Scope::TenantAdmin.grants(Permission::Book));
        assert!(Scope::Agent.grants(Permission::Read));
        assert!(!Scope::Agent.grants(Permission::Administer));
        assert!(!Scope::ReadOnly.grants(Permission::Book));
        assert!(!Scope::TenantAdmin.grants(Permission::Platform));
        assert!(Scope::PlatformAdmin.grants(Permission::Platform));
    }

    #[test]
    fn scope_names_round_trip() {
        for scope in [Scope::PlatformAdmin, Scope::TenantAdmin, Scope::Agent, Scope::ReadOnly] {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert!("root".parse::<Scope>().is_err());
    }
}
