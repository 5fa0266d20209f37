//! The permission matrix: the one place that decides what a role may do, and where.
#![doc = include_str!("../../../docs/permissions.md")]

use rumbo_store::model::{Role, User};

/// Something a user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ViewReference,
    EditLocations,
    EditRounds,
    ImportBoundaries,
    EditOrganisations,
    EditCountries,
    ManageUsers,
    ViewAudit,
    /// Upload, publish, open and close forms; attach them to countries, sites and rounds.
    ManageForms,
    /// Send submissions (OpenRosa, web forms).
    Submit,
    /// Read submissions (sensitive answers only with [`Permission::ReviewSubmissions`]).
    ViewSubmissions,
    /// Edit, approve, reject, flag, delete and restore submissions; import them in bulk.
    ReviewSubmissions,
    /// See dashboards, maps and aggregates (public indicators, small cells suppressed unless
    /// the reader may also read submissions).
    ViewAnalytics,
    /// Declare, change and delete indicators (on forms of the user's countries).
    ManageIndicators,
    /// Declare, change and switch off red-flag rules (on forms of the user's countries).
    ManageFlagRules,
    /// Receive red-flag alerts of the user's countries: see, acknowledge, dismiss.
    HandleAlerts,
    /// Open cases and work on one's own caseload (and on referrals received by one's
    /// organisation).
    HandleCases,
    /// See every case of the country, assign and transfer caseloads.
    SuperviseCases,
    /// Add and change the services of the directory.
    EditServices,
    /// Read complaints and feedback (not allegations of sexual exploitation or abuse).
    ViewFeedback,
    /// Take in, assign, answer and close complaints and feedback.
    HandleFeedback,
    /// Read and handle allegations of sexual exploitation or abuse (the protection focal point).
    HandlePsea,
    /// Load and change the response plan (sectors, indicators, targets) of a country.
    ManagePlan,
    /// Enter, upload and change monthly activity reports (a partner reporter: her
    /// organisation's only).
    ReportActivities,
    /// Approve activity reports or send them back.
    ReviewActivities,
}

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Permission::ViewReference,
        Permission::EditLocations,
        Permission::EditRounds,
        Permission::ImportBoundaries,
        Permission::EditOrganisations,
        Permission::EditCountries,
        Permission::ManageUsers,
        Permission::ViewAudit,
        Permission::ManageForms,
        Permission::Submit,
        Permission::ViewSubmissions,
        Permission::ReviewSubmissions,
        Permission::ViewAnalytics,
        Permission::ManageIndicators,
        Permission::ManageFlagRules,
        Permission::HandleAlerts,
        Permission::HandleCases,
        Permission::SuperviseCases,
        Permission::EditServices,
        Permission::ViewFeedback,
        Permission::HandleFeedback,
        Permission::HandlePsea,
        Permission::ManagePlan,
        Permission::ReportActivities,
        Permission::ReviewActivities,
    ];

    /// Whether the permission is tied to one country (and so checked against the user's scope).
    pub fn is_country_scoped(self) -> bool {
        matches!(
            self,
            Permission::ViewReference
                | Permission::EditLocations
                | Permission::EditRounds
                | Permission::ImportBoundaries
                | Permission::ManageForms
                | Permission::Submit
                | Permission::ViewSubmissions
                | Permission::ReviewSubmissions
                | Permission::ViewAnalytics
                | Permission::ManageIndicators
                | Permission::ManageFlagRules
                | Permission::HandleAlerts
                | Permission::HandleCases
                | Permission::SuperviseCases
                | Permission::EditServices
                | Permission::ViewFeedback
                | Permission::HandleFeedback
                | Permission::HandlePsea
                | Permission::ManagePlan
                | Permission::ReportActivities
                | Permission::ReviewActivities
        )
    }
}

/// Whether the role, regardless of countries, grants the permission.
pub fn role_grants(role: Role, permission: Permission) -> bool {
    use Permission as P;
    match permission {
        P::ViewReference | P::ViewAnalytics => true,
        P::EditLocations | P::EditRounds | P::ImportBoundaries | P::EditOrganisations => {
            matches!(role, Role::Admin | Role::ImOfficer)
        }
        P::EditCountries | P::ManageUsers | P::ViewAudit => role == Role::Admin,
        P::ManageForms | P::ReviewSubmissions => matches!(role, Role::Admin | Role::ImOfficer),
        P::Submit => matches!(role, Role::Admin | Role::ImOfficer | Role::Enumerator),
        P::ViewSubmissions => matches!(role, Role::Admin | Role::ImOfficer | Role::Viewer),
        P::ManageIndicators => matches!(role, Role::Admin | Role::ImOfficer),
        // Protection data is need-to-know: neither admins nor IM officers read it.
        P::ManageFlagRules => matches!(role, Role::Admin | Role::ProtectionFocalPoint),
        P::HandleAlerts | P::HandleCases => matches!(role, Role::Caseworker | Role::ProtectionFocalPoint),
        P::SuperviseCases | P::HandlePsea => role == Role::ProtectionFocalPoint,
        P::EditServices => matches!(role, Role::Admin | Role::ImOfficer | Role::ProtectionFocalPoint),
        P::ViewFeedback => {
            matches!(role, Role::ImOfficer | Role::Caseworker | Role::ProtectionFocalPoint | Role::Viewer)
        }
        P::HandleFeedback => matches!(role, Role::ImOfficer | Role::Caseworker | Role::ProtectionFocalPoint),
        P::ManagePlan | P::ReviewActivities => matches!(role, Role::Admin | Role::ImOfficer),
        P::ReportActivities => matches!(role, Role::Admin | Role::ImOfficer | Role::PartnerReporter),
    }
}

/// Whether `user` may do `permission` in `country` (`None`: not tied to a country).
pub fn allows(user: &User, permission: Permission, country: Option<&str>) -> bool {
    if !user.active || !role_grants(user.role, permission) {
        return false;
    }
    match permission {
        Permission::EditCountries | Permission::ViewAudit => user.all_countries,
        _ => match country {
            Some(country) => user.covers(country),
            None => true,
        },
    }
}

/// Whether `admin` may create or change a user with this scope.
pub fn may_manage_user(admin: &User, all_countries: bool, countries: &[String]) -> bool {
    if !allows(admin, Permission::ManageUsers, None) {
        return false;
    }
    if admin.all_countries {
        return true;
    }
    !all_countries && !countries.is_empty() && countries.iter().all(|c| admin.covers(c))
}

/// The countries a user may see in lists: `None` for every country.
pub fn scope(user: &User) -> Option<Vec<String>> {
    if user.all_countries { None } else { Some(user.countries.clone()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, countries: &[&str]) -> User {
        User {
            id: 1,
            username: role.as_str().into(),
            display_name: String::new(),
            role,
            organisation_id: None,
            all_countries: countries.is_empty(),
            active: true,
            countries: countries.iter().map(|c| (*c).to_string()).collect(),
        }
    }

    #[test]
    fn only_admins_and_im_officers_edit_locations_in_their_countries() {
        for role in Role::ALL {
            let u = user(*role, &["COL"]);
            let expected = matches!(role, Role::Admin | Role::ImOfficer);
            assert_eq!(allows(&u, Permission::EditLocations, Some("COL")), expected, "{role}");
            assert!(!allows(&u, Permission::EditLocations, Some("PER")), "{role} must not edit PER");
            assert!(allows(&u, Permission::ViewReference, Some("COL")));
            assert!(!allows(&u, Permission::ViewReference, Some("PER")));
        }
    }

    #[test]
    fn countries_and_audit_need_a_regional_admin() {
        assert!(allows(&user(Role::Admin, &[]), Permission::EditCountries, None));
        assert!(!allows(&user(Role::Admin, &["COL"]), Permission::EditCountries, None));
        assert!(!allows(&user(Role::ImOfficer, &[]), Permission::EditCountries, None));
        assert!(allows(&user(Role::Admin, &[]), Permission::ViewAudit, None));
        assert!(!allows(&user(Role::Admin, &["COL"]), Permission::ViewAudit, None));
    }

    #[test]
    fn a_country_admin_manages_only_users_of_their_countries() {
        let admin = user(Role::Admin, &["COL", "ECU"]);
        assert!(may_manage_user(&admin, false, &["COL".into()]));
        assert!(!may_manage_user(&admin, false, &["COL".into(), "PER".into()]));
        assert!(!may_manage_user(&admin, true, &[]));
        assert!(may_manage_user(&user(Role::Admin, &[]), true, &[]));
        assert!(!may_manage_user(&user(Role::ImOfficer, &[]), false, &["COL".into()]));
    }

    #[test]
    fn enumerators_submit_and_only_im_officers_review() {
        for role in Role::ALL {
            let u = user(*role, &["COL"]);
            let submits = matches!(role, Role::Admin | Role::ImOfficer | Role::Enumerator);
            assert_eq!(allows(&u, Permission::Submit, Some("COL")), submits, "{role}");
            assert!(!allows(&u, Permission::Submit, Some("PER")), "{role} must not submit in PER");
            let reviews = matches!(role, Role::Admin | Role::ImOfficer);
            assert_eq!(allows(&u, Permission::ReviewSubmissions, Some("COL")), reviews, "{role}");
            assert_eq!(allows(&u, Permission::ManageForms, Some("COL")), reviews, "{role}");
            // Protection staff and partners do not read collection data through this door.
            let views = matches!(role, Role::Admin | Role::ImOfficer | Role::Viewer);
            assert_eq!(allows(&u, Permission::ViewSubmissions, Some("COL")), views, "{role}");
        }
    }

    #[test]
    fn everyone_sees_the_dashboards_of_their_countries_and_im_officers_declare_indicators() {
        for role in Role::ALL {
            let u = user(*role, &["COL"]);
            assert!(allows(&u, Permission::ViewAnalytics, Some("COL")), "{role}");
            assert!(!allows(&u, Permission::ViewAnalytics, Some("PER")), "{role}");
            let manages = matches!(role, Role::Admin | Role::ImOfficer);
            assert_eq!(allows(&u, Permission::ManageIndicators, Some("COL")), manages, "{role}");
        }
    }

    #[test]
    fn protection_data_is_for_protection_staff_only() {
        for role in Role::ALL {
            let u = user(*role, &["COL"]);
            let staff = matches!(role, Role::Caseworker | Role::ProtectionFocalPoint);
            assert_eq!(allows(&u, Permission::HandleCases, Some("COL")), staff, "{role}");
            assert_eq!(allows(&u, Permission::HandleAlerts, Some("COL")), staff, "{role}");
            assert!(!allows(&u, Permission::HandleCases, Some("PER")), "{role} in PER");
            let focal = *role == Role::ProtectionFocalPoint;
            assert_eq!(allows(&u, Permission::SuperviseCases, Some("COL")), focal, "{role}");
            assert_eq!(allows(&u, Permission::HandlePsea, Some("COL")), focal, "{role}");
        }
        // Not even a regional admin reads a case or an allegation.
        let admin = user(Role::Admin, &[]);
        assert!(!allows(&admin, Permission::HandleCases, Some("COL")));
        assert!(!allows(&admin, Permission::HandlePsea, Some("COL")));
        assert!(allows(&admin, Permission::ManageFlagRules, Some("COL")));
    }

    #[test]
    fn an_inactive_user_may_do_nothing() {
        let mut u = user(Role::Admin, &[]);
        u.active = false;
        for p in Permission::ALL {
            assert!(!allows(&u, *p, Some("COL")));
        }
    }
}
