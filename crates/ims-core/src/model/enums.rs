//! The policy's enumerations, each with its exact words and a validating parser.

use std::str::FromStr;

use crate::error::Error;

/// Declares an enum whose serde names, `Display` and `FromStr` are the policy's words.
macro_rules! policy_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $word)] $variant),+
        }
        impl $name {
            /// Every value, in the policy's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The policy's word for this value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str(self.as_str()) }
        }
        impl ::std::str::FromStr for $name {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> ::std::result::Result<Self, $crate::error::Error> {
                match s {
                    $($word => Ok($name::$variant),)+
                    other => Err($crate::error::Error::invalid(format!(
                        "{}: `{}` is not one of {}", $what, other,
                        [$($word),+].join(", ")
                    ))),
                }
            }
        }
    };
}
pub(crate) use policy_enum;

policy_enum!(
    /// A person's role.
    Role, "role" {
        IncidentManager => "incident_manager",
        ServiceDeskManager => "service_desk_manager",
        ServiceDesk => "service_desk",
        L1 => "L1",
        L2 => "L2",
        L3 => "L3",
        Devops => "devops",
        Facilities => "facilities",
        ChangeMgmt => "change_mgmt",
        EndUser => "end_user",
        Auditor => "auditor",
        Automation => "automation",
    }
);

impl Role {
    /// Staff roles of DESIGN.md's authorization section.
    pub const STAFF: &'static [Role] = &[
        Role::ServiceDesk,
        Role::ServiceDeskManager,
        Role::L1,
        Role::L2,
        Role::L3,
        Role::Devops,
        Role::Facilities,
        Role::ChangeMgmt,
        Role::IncidentManager,
    ];
}

policy_enum!(
    /// A team an incident can be assigned to.
    Team, "team" {
        ServiceDesk => "service_desk",
        L1 => "L1",
        L2 => "L2",
        L3 => "L3",
        Facilities => "facilities",
        ChangeMgmt => "change_mgmt",
        Devops => "devops",
    }
);

policy_enum!(
    /// Where an escalation can go: the teams and the incident manager.
    EscalationTarget, "escalation target" {
        ServiceDesk => "service_desk",
        L1 => "L1",
        L2 => "L2",
        L3 => "L3",
        IncidentManager => "incident_manager",
        ChangeMgmt => "change_mgmt",
        Facilities => "facilities",
        Devops => "devops",
    }
);

policy_enum!(
    /// How an incident was detected.
    Source, "source" {
        UserReport => "user_report",
        MonitoringTool => "monitoring_tool",
        AutomatedAlert => "automated_alert",
    }
);

policy_enum!(
    /// An incident's category.
    Category, "category" {
        Hardware => "hardware",
        Software => "software",
        Security => "security",
        Performance => "performance",
        Other => "other",
    }
);

policy_enum!(
    /// Priority, severity, impact, urgency and risk levels.
    Level, "level" {
        Low => "low",
        Medium => "medium",
        High => "high",
    }
);

policy_enum!(
    /// An incident's status.
    Status, "status" {
        Open => "open",
        InProgress => "in_progress",
        Escalated => "escalated",
        PendingVendor => "pending_vendor",
        Resolved => "resolved",
        Closed => "closed",
    }
);

impl Status {
    /// Resolved or closed: the incident's clocks have stopped and a repeat of its alert
    /// opens a new one.
    pub fn is_done(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed)
    }
}

policy_enum!(
    /// Who a communication is for.
    Recipients, "recipients" {
        EndUsers => "end_users",
        Stakeholders => "stakeholders",
        Executives => "executives",
        ItStaff => "IT_staff",
    }
);

policy_enum!(
    /// The channel a communication went out on (the IMS record is always kept).
    Channel, "channel" {
        Ims => "ims",
        Email => "email",
        Meeting => "meeting",
        StatusPage => "status_page",
    }
);

policy_enum!(
    /// How a vendor was contacted.
    ContactMethod, "contact method" {
        Phone => "phone",
        Email => "email",
        VendorPortal => "vendor_portal",
        Api => "API",
    }
);

policy_enum!(
    /// The policy's audit vocabulary.
    AuditAction, "audit action" {
        Identify => "identify",
        Create => "create",
        Read => "read",
        Update => "update",
        Notify => "notify",
        Escalate => "escalate",
        Resolve => "resolve",
        Close => "close",
        Review => "review",
        KbUpdate => "kb_update",
        VendorEngagement => "vendor_engagement",
        Simulation => "simulation",
        ToolUse => "tool_use",
        Link => "link",
    }
);

/// Parses a comma-separated list of values.
pub fn parse_list<T: FromStr<Err = Error>>(text: &str) -> Result<Vec<T>, Error> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(T::from_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_values_name_the_choices() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        let err = "L4".parse::<Team>().unwrap_err();
        assert!(err.message.contains("team: `L4` is not one of service_desk, L1"), "{}", err.message);
        assert_eq!(serde_json::to_string(&Recipients::ItStaff).unwrap(), "\"IT_staff\"");
    }
}
