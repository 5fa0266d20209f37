//! The storage conformance suite: every test runs on SQLite and on PostgreSQL.

use chrono::{Duration, NaiveDate, Utc};
use rumbo_store::engine_tests;
use rumbo_store::model::{
    Actor, AdminAreaInput, CountryInput, ListFilter, OrganisationInput, OrganisationKind, Role, RoundInput,
    RoundStatus, SiteInput, SiteKind, UserInput,
};
use rumbo_store::{Store, StoreError};

fn actor() -> Actor {
    Actor::system("test")
}

async fn country(store: &Store, code: &str) {
    store
        .upsert_country(
            &actor(),
            &CountryInput {
                code: code.into(),
                iso2: code[..2].into(),
                name_en: format!("{code} en"),
                name_es: format!("{code} es"),
                name_pt: format!("{code} pt"),
            },
        )
        .await
        .expect("country");
}

fn area(country: &str, pcode: &str, level: i32, parent: Option<&str>) -> AdminAreaInput {
    let mut a = AdminAreaInput {
        country_code: country.into(),
        pcode: pcode.into(),
        level,
        parent_pcode: parent.map(str::to_string),
        name_en: format!("Area {pcode}"),
        geometry: Some(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#.into()),
        ..Default::default()
    };
    a.normalise();
    a
}

fn site(country: &str, code: &str, area: Option<&str>) -> SiteInput {
    SiteInput {
        country_code: country.into(),
        code: code.into(),
        name: format!("Site {code}"),
        kind: SiteKind::BorderCrossing,
        latitude: 7.8,
        longitude: -72.4,
        admin_area_pcode: area.map(str::to_string),
        active: true,
    }
}

async fn area_count(store: &Store) -> i64 {
    store.list_admin_areas(&ListFilter::default()).await.unwrap().total
}

engine_tests! {
    async fn migrations_run_twice(db: TestDb) {
        db.migrate().await.expect("second migration run is a no-op");
        assert!(db.list_countries().await.unwrap().is_empty());
    }

    async fn countries_are_created_and_renamed(db: TestDb) {
        country(&db, "COL").await;
        country(&db, "COL").await;
        let all = db.list_countries().await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].name_es, "COL es");
        let bad = db.upsert_country(&actor(), &CountryInput { code: "co".into(), iso2: "C".into(), name_en: String::new(), name_es: "x".into(), name_pt: "x".into() }).await;
        let Err(StoreError::Invalid(errors)) = bad else { panic!("expected invalid, got {bad:?}") };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["code", "iso2", "name_en"]);
    }

    async fn admin_areas_keep_their_rules(db: TestDb) {
        country(&db, "COL").await;
        country(&db, "PER").await;
        let dept = db.create_admin_area(&actor(), &area("COL", "CO-NSA", 1, None)).await.unwrap();
        assert!(dept.has_geometry);
        let muni = db.create_admin_area(&actor(), &area("COL", "CO54001", 2, Some("CO-NSA"))).await.unwrap();
        assert_eq!(muni.parent_pcode.as_deref(), Some("CO-NSA"));

        let dup = db.create_admin_area(&actor(), &area("COL", "CO-NSA", 1, None)).await;
        assert!(matches!(dup, Err(StoreError::Conflict { ref field, .. }) if field.as_deref() == Some("pcode")), "{dup:?}");
        let orphan = db.create_admin_area(&actor(), &area("COL", "CO99999", 2, Some("CO-XXX"))).await;
        assert!(matches!(&orphan, Err(StoreError::Invalid(e)) if e[0].field == "parent_pcode" && e[0].message.contains("CO-XXX")), "{orphan:?}");
        let foreign = db.create_admin_area(&actor(), &area("PER", "PE99999", 2, Some("CO-NSA"))).await;
        assert!(matches!(&foreign, Err(StoreError::Invalid(e)) if e[0].message.contains("is in COL")), "{foreign:?}");
        let wrong_level = db.create_admin_area(&actor(), &area("COL", "CO54002", 3, Some("CO-NSA"))).await;
        assert!(matches!(&wrong_level, Err(StoreError::Invalid(e)) if e[0].message.contains("level")), "{wrong_level:?}");
        let no_country = db.create_admin_area(&actor(), &area("ECU", "EC-C", 1, None)).await;
        assert!(matches!(&no_country, Err(StoreError::Invalid(e)) if e[0].field == "country_code"), "{no_country:?}");
        assert_eq!(area_count(&db).await, 2, "failed writes left nothing behind");

        let mut renamed = area("COL", "CO-NSA", 1, None);
        renamed.name_es = "Norte de Santander".into();
        renamed.geometry = None;
        let updated = db.update_admin_area(&actor(), dept.id, &renamed).await.unwrap();
        assert_eq!(updated.name_es, "Norte de Santander");
        assert!(updated.has_geometry, "an update without geometry keeps the stored boundary");

        let in_use = db.delete_admin_area(&actor(), dept.id).await;
        assert!(matches!(in_use, Err(StoreError::Conflict { .. })), "{in_use:?}");
        db.delete_admin_area(&actor(), muni.id).await.unwrap();
        db.delete_admin_area(&actor(), dept.id).await.unwrap();
        assert_eq!(area_count(&db).await, 0);
    }

    async fn an_import_is_all_or_nothing(db: TestDb) {
        country(&db, "COL").await;
        db.create_admin_area(&actor(), &area("COL", "CO-ANT", 1, None)).await.unwrap();
        let batch = vec![area("COL", "CO-NSA", 1, None), area("COL", "CO54001", 2, Some("CO-NSA")), area("COL", "CO-ANT", 1, None)];
        let refused = db.import_admin_areas(&actor(), &batch, false).await;
        assert!(matches!(&refused, Err(StoreError::Conflict { message, .. }) if message.contains("CO-ANT")), "{refused:?}");
        assert_eq!(area_count(&db).await, 1, "nothing of the refused batch was kept");
        let summary = db.import_admin_areas(&actor(), &batch, true).await.unwrap();
        assert_eq!((summary.created, summary.updated), (2, 1));
        assert_eq!(area_count(&db).await, 3);
        country(&db, "PER").await;
        db.create_admin_area(&actor(), &area("PER", "PE-LIM", 1, None)).await.unwrap();
        let hijack = db.import_admin_areas(&actor(), &[area("COL", "PE-LIM", 1, None)], true).await;
        assert!(matches!(&hijack, Err(StoreError::Conflict { message, .. }) if message.contains("belongs to PER")), "{hijack:?}");
        let relevel = db.import_admin_areas(&actor(), &[area("COL", "CO-NSA", 2, Some("CO-ANT"))], true).await;
        assert!(matches!(&relevel, Err(StoreError::Conflict { field, .. }) if field.as_deref() == Some("level")), "{relevel:?}");
        assert_eq!(db.admin_area_by_pcode("PE-LIM").await.unwrap().country_code, "PER");
        let level2 = db.list_admin_areas(&ListFilter { level: Some(2), ..Default::default() }).await.unwrap();
        assert_eq!(level2.items[0].parent_pcode.as_deref(), Some("CO-NSA"));
        assert_eq!(db.area_shapes("COL", 1).await.unwrap().len(), 2);
    }

    async fn sites_filter_and_scope(db: TestDb) {
        country(&db, "COL").await;
        country(&db, "PER").await;
        db.create_admin_area(&actor(), &area("COL", "CO-NSA", 1, None)).await.unwrap();
        let s = db.create_site(&actor(), &site("COL", "COL-FMP-001", Some("CO-NSA"))).await.unwrap();
        assert_eq!(s.admin_area_pcode.as_deref(), Some("CO-NSA"));
        let mut bus = site("PER", "PER-FMP-001", None);
        bus.kind = SiteKind::BusTerminal;
        bus.name = "Terminal Plaza Norte".into();
        db.create_site(&actor(), &bus).await.unwrap();

        let dup = db.create_site(&actor(), &site("COL", "COL-FMP-001", None)).await;
        assert!(matches!(dup, Err(StoreError::Conflict { ref field, .. }) if field.as_deref() == Some("code")));
        let wrong_area = db.create_site(&actor(), &site("PER", "PER-FMP-002", Some("CO-NSA"))).await;
        assert!(matches!(&wrong_area, Err(StoreError::Invalid(e)) if e[0].field == "admin_area_pcode"), "{wrong_area:?}");
        let mut far = site("COL", "COL-FMP-009", None);
        far.latitude = 123.0;
        assert!(matches!(db.create_site(&actor(), &far).await, Err(StoreError::Invalid(e)) if e[0].field == "latitude"));

        let all = db.list_sites(&ListFilter::default()).await.unwrap();
        assert_eq!(all.total, 2);
        let counts = db.country_counts().await.unwrap();
        assert_eq!(
            counts.iter().map(|c| (c.code.as_str(), c.admin_areas, c.sites, c.rounds)).collect::<Vec<_>>(),
            [("COL", 1, 1, 0), ("PER", 0, 1, 0)]
        );
        let by_kind = db.list_sites(&ListFilter { kind: Some("bus_terminal".into()), ..Default::default() }).await.unwrap();
        assert_eq!(by_kind.items[0].code, "PER-FMP-001");
        let by_text = db.list_sites(&ListFilter { q: Some("plaza".into()), ..Default::default() }).await.unwrap();
        assert_eq!(by_text.total, 1);
        let mut tachira = site("COL", "COL-FMP-002", None);
        tachira.name = "Frente a San Antonio del TÁCHIRA".into();
        db.create_site(&actor(), &tachira).await.unwrap();
        let q = |q: &str| ListFilter { q: Some(q.into()), ..Default::default() };
        assert_eq!(db.list_sites(&q("tachira")).await.unwrap().total, 1, "accents and case do not matter");
        assert_eq!(db.list_sites(&q("Táchira")).await.unwrap().total, 1);
        assert_eq!(db.list_sites(&q("AREA co-nsa")).await.unwrap().total, 1, "the admin area is searched too");
        assert_eq!(db.list_sites(&q("%")).await.unwrap().total, 0, "a typed % is a character, not a wildcard");
        assert_eq!(db.list_admin_areas(&q("area co-nsa")).await.unwrap().total, 1);
        db.delete_site(&actor(), db.list_sites(&q("tachira")).await.unwrap().items[0].id).await.unwrap();
        let scoped = db.list_sites(&ListFilter { scope: Some(vec!["COL".into()]), ..Default::default() }).await.unwrap();
        assert_eq!(scoped.total, 1);
        assert_eq!(scoped.items[0].country_code, "COL");
        let nothing = db.list_sites(&ListFilter { scope: Some(vec![]), ..Default::default() }).await.unwrap();
        assert_eq!(nothing.total, 0);

        let mut moved = site("COL", "COL-FMP-001", None);
        moved.active = false;
        let updated = db.update_site(&actor(), s.id, &moved).await.unwrap();
        assert!(!updated.active);
        assert!(updated.admin_area_pcode.is_none());
        let cross = db.update_site(&actor(), s.id, &site("PER", "COL-FMP-001", None)).await;
        assert!(matches!(cross, Err(StoreError::Invalid(_))));
        db.delete_site(&actor(), s.id).await.unwrap();
        assert!(matches!(db.site(s.id).await, Err(StoreError::NotFound { .. })));
    }

    async fn rounds_have_dates_in_order_and_unique_names(db: TestDb) {
        country(&db, "ECU").await;
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let input = RoundInput { country_code: "ECU".into(), name: "Ronda 1".into(), starts_on: d(1, 1), ends_on: d(2, 1), status: RoundStatus::Open };
        let r = db.create_round(&actor(), &input).await.unwrap();
        assert_eq!(r.starts_on, d(1, 1));
        assert!(matches!(db.create_round(&actor(), &input).await, Err(StoreError::Conflict { .. })));
        let backwards = RoundInput { name: "Ronda 2".into(), ends_on: d(1, 1), starts_on: d(3, 1), ..input.clone() };
        assert!(matches!(db.create_round(&actor(), &backwards).await, Err(StoreError::Invalid(e)) if e[0].field == "ends_on"));
        let closed = db.update_round(&actor(), r.id, &RoundInput { status: RoundStatus::Closed, ..input }).await.unwrap();
        assert_eq!(closed.status, RoundStatus::Closed);
        let open = db.list_rounds(&ListFilter { kind: Some("open".into()), ..Default::default() }).await.unwrap();
        assert_eq!(open.total, 0);
    }

    async fn users_sessions_and_tokens(db: TestDb) {
        country(&db, "COL").await;
        let org = db.save_organisation(&actor(), None, &OrganisationInput { name: "Norwegian Refugee Council".into(), acronym: "NRC".into(), kind: OrganisationKind::Ingo }).await.unwrap();
        let dup_org = db.save_organisation(&actor(), None, &OrganisationInput { name: "norwegian refugee council".into(), acronym: String::new(), kind: OrganisationKind::Ingo }).await;
        assert!(matches!(dup_org, Err(StoreError::Conflict { .. })));
        let mut input = UserInput {
            username: " Reporter ".into(),
            display_name: "A reporter".into(),
            role: Role::PartnerReporter,
            organisation_id: Some(org.id),
            all_countries: false,
            countries: vec!["col".into()],
            active: true,
        };
        input.normalise();
        let user = db.save_user(&actor(), None, &input, Some("$argon2id$fake")).await.unwrap();
        assert_eq!(user.username, "reporter");
        assert_eq!(user.countries, ["COL"]);
        assert!(matches!(db.save_user(&actor(), None, &input, Some("x")).await, Err(StoreError::Conflict { .. })));
        let unknown = UserInput { username: "other".into(), countries: vec!["ZZZ".into()], ..input.clone() };
        assert!(matches!(db.save_user(&actor(), None, &unknown, Some("x")).await, Err(StoreError::Invalid(e)) if e[0].field == "countries"));
        let found = db.credentials("REPORTER").await.unwrap().unwrap();
        assert_eq!((found.user.id, found.password_hash.as_str()), (user.id, "$argon2id$fake"));
        assert!(db.begin_login_attempt(user.id, 2).await.unwrap());
        assert_eq!(db.login_failed(user.id, 2, Duration::minutes(5)).await.unwrap(), None);
        assert!(db.begin_login_attempt(user.id, 2).await.unwrap());
        assert!(!db.begin_login_attempt(user.id, 2).await.unwrap(), "no third attempt while two are counted");
        let locked = db.login_failed(user.id, 2, Duration::minutes(5)).await.unwrap().expect("locked at the 2nd failure");
        assert!(locked > Utc::now());
        assert!(!db.begin_login_attempt(user.id, 2).await.unwrap(), "a locked account takes no attempt");
        let stored = db.credentials("reporter").await.unwrap().unwrap().locked_until;
        assert_eq!(stored.map(|t| t.timestamp()), Some(locked.timestamp()));
        db.login_succeeded(user.id).await.unwrap();
        assert!(db.credentials("reporter").await.unwrap().unwrap().locked_until.is_none());

        db.create_session(user.id, "live", "csrf1", Utc::now() + Duration::hours(1)).await.unwrap();
        db.create_session(user.id, "old", "csrf2", Utc::now() - Duration::hours(1)).await.unwrap();
        assert_eq!(db.session("live").await.unwrap().unwrap().1, "csrf1");
        assert!(db.session("old").await.unwrap().is_none(), "an expired session is refused");
        db.delete_session("live").await.unwrap();
        assert!(db.session("live").await.unwrap().is_none());

        let token = db.create_api_token(&actor(), user.id, "sync", "hash1", None).await.unwrap();
        db.create_api_token(&actor(), user.id, "old", "hash2", Some(Utc::now() - Duration::days(1))).await.unwrap();
        assert_eq!(db.token_user("hash1").await.unwrap().unwrap().id, user.id);
        assert!(db.token_user("hash2").await.unwrap().is_none(), "an expired token is refused");
        assert!(db.list_api_tokens(user.id).await.unwrap()[0].last_used_at.is_some());
        db.revoke_api_token(&actor(), user.id, token.id).await.unwrap();
        assert!(db.token_user("hash1").await.unwrap().is_none());

        db.create_api_token(&actor(), user.id, "before reset", "hash4", None).await.unwrap();
        db.create_session(user.id, "s2", "c", Utc::now() + Duration::hours(1)).await.unwrap();
        db.set_password(&actor(), user.id, "$argon2id$new").await.unwrap();
        assert!(db.session("s2").await.unwrap().is_none(), "a new password ends the sessions");
        assert!(db.token_user("hash4").await.unwrap().is_none(), "a reset by someone else revokes the tokens");
        let scoped = db.list_users(&ListFilter { scope: Some(vec!["COL".into()]), ..Default::default() }).await.unwrap();
        assert_eq!(scoped.total, 1);
        let inactive = UserInput { active: false, ..input };
        db.save_user(&actor(), Some(user.id), &inactive, None).await.unwrap();
        db.create_api_token(&actor(), user.id, "again", "hash3", None).await.unwrap();
        assert!(db.token_user("hash3").await.unwrap().is_none(), "an inactive user's token is refused");
    }

    async fn the_audit_chain_detects_tampering(db: TestDb) {
        country(&db, "COL").await;
        country(&db, "VEN").await;
        db.create_site(&actor(), &site("COL", "COL-FMP-001", None)).await.unwrap();
        let check = db.verify_audit_chain().await.unwrap();
        assert_eq!(check.lines, 3);
        assert_eq!(check.first_broken, None);
        let lines = db.audit_log(10, Some("site")).await.unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].action, "create");
        assert_eq!(lines[0].entity_id, "COL-FMP-001");
        let victim = db.audit_log(10, Some("country")).await.unwrap().last().unwrap().id;
        match &db.store {
            Store::Sqlite(pool) => { sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE id = $1").bind(victim).execute(pool).await.unwrap(); }
            Store::Postgres(pool) => { sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE id = $1").bind(victim).execute(pool).await.unwrap(); }
        }
        assert_eq!(db.verify_audit_chain().await.unwrap().first_broken, Some(victim));
    }

    async fn concurrent_writers_keep_the_chain_whole(db: TestDb) {
        country(&db, "COL").await;
        let mut tasks = Vec::new();
        for i in 0..24 {
            let store = db.store.clone();
            tasks.push(tokio::spawn(async move { store.create_site(&actor(), &site("COL", &format!("COL-FMP-{i:03}"), None)).await }));
        }
        for t in tasks {
            t.await.unwrap().expect("every concurrent write succeeds");
        }
        assert_eq!(db.list_sites(&ListFilter::default()).await.unwrap().total, 24);
        let check = db.verify_audit_chain().await.unwrap();
        assert_eq!((check.lines, check.first_broken), (25, None));
    }
}
