//! Users: administrators list, create and edit the accounts within their scope.

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use rumbo_domain::permissions::Permission;
use rumbo_store::model::{Country, ListFilter, Organisation, Role, User, UserInput};
use serde::Deserialize;

use super::{
    Cell, Choice, Chrome, FilterField, FormField, FormPage, ListPage, ListQuery, PageResult, Posted, Row, code_choices,
    country_choices, parse_code, render, save_or_show, yes_no,
};
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::ops;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/new", get(new_form))
        .route("/users/{id}/edit", get(edit_form).post(update))
}

async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> PageResult {
    let page = ops::users(&state.store, &caller, q.filter()).await?;
    let countries = ops::countries(&state.store, &caller).await?;
    let rows = page
        .items
        .iter()
        .map(|u| Row {
            cells: vec![
                Cell::text(&u.username),
                Cell::text(&u.display_name),
                Cell::text(lang.t(&format!("role.{}", u.role))),
                Cell::text(if u.all_countries {
                    lang.t("home.all_countries").to_string()
                } else {
                    u.countries.join(", ")
                }),
                Cell::text(yes_no(lang, u.active)),
            ],
            edit: Some(format!("/users/{}/edit", u.id)),
        })
        .collect();
    let mut page = ListPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.users"),
        "/users",
        vec![
            FilterField::country(lang, &countries, &q),
            FilterField::select(
                "kind",
                lang.t("user.role"),
                code_choices(Role::ALL, lang, "role", q.kind.as_deref().unwrap_or_default(), true),
            ),
            FilterField::text("q", lang.t("common.search"), q.q.as_deref()),
        ],
        vec![
            lang.t("user.username"),
            lang.t("user.display_name"),
            lang.t("user.role"),
            lang.t("user.countries"),
            lang.t("common.active"),
        ],
        rows,
        page.total,
    );
    page.actions = vec![(lang.t("common.new"), "/users/new".to_string())];
    page.respond(&state, &caller, &q, "users").await
}

#[derive(Debug, Default, Deserialize)]
struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organisation_id: String,
    #[serde(default)]
    all_countries: Option<String>,
    #[serde(default)]
    countries: Vec<String>,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    password: String,
}

impl UserForm {
    fn from_user(u: &User) -> Self {
        UserForm {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.to_string(),
            organisation_id: u.organisation_id.map(|o| o.to_string()).unwrap_or_default(),
            all_countries: u.all_countries.then(|| "true".into()),
            countries: u.countries.clone(),
            active: u.active.then(|| "true".into()),
            password: String::new(),
        }
    }

    fn input(&self) -> Result<UserInput, ApiError> {
        let mut errors = Vec::new();
        let role = parse_code(&self.role, "role", &mut errors);
        let organisation_id = match self.organisation_id.trim() {
            "" => None,
            v => super::parse_number(v, "organisation_id", &mut errors),
        };
        match role {
            Some(role) if errors.is_empty() => Ok(UserInput {
                username: self.username.clone(),
                display_name: self.display_name.clone(),
                role,
                organisation_id,
                all_countries: self.all_countries.is_some(),
                countries: self.countries.clone(),
                active: self.active.is_some(),
            }),
            _ => Err(ApiError::Invalid(errors)),
        }
    }

    fn fields(&self, lang: Lang, countries: &[Country], organisations: &[Organisation]) -> Vec<FormField> {
        let mut orgs = vec![Choice::new("", "—", &self.organisation_id)];
        orgs.extend(
            organisations
                .iter()
                .map(|o| Choice::new(o.id.to_string(), format!("{} ({})", o.name, o.acronym), &self.organisation_id)),
        );
        let mut country_options = country_choices(countries, lang, "", false);
        for option in &mut country_options {
            option.selected = self.countries.contains(&option.value);
        }
        vec![
            FormField::input("text", "username", lang.t("user.username"), &self.username).required(),
            FormField::input("text", "display_name", lang.t("user.display_name"), &self.display_name).required(),
            FormField::select("role", lang.t("user.role"), code_choices(Role::ALL, lang, "role", &self.role, false))
                .required(),
            FormField::select("organisation_id", lang.t("user.organisation"), orgs),
            FormField::checkbox("all_countries", lang.t("user.all_countries"), self.all_countries.is_some()),
            FormField::multiselect("countries", lang.t("user.countries"), country_options),
            FormField::checkbox("active", lang.t("common.active"), self.active.is_some()),
            FormField::input("password", "password", lang.t("user.password"), "").help(lang.t("user.password_help")),
        ]
    }
}

async fn choices(state: &AppState, caller: &Caller) -> Result<(Vec<Country>, Vec<Organisation>), ApiError> {
    caller.require(Permission::ManageUsers, None)?;
    let countries = ops::countries(&state.store, caller).await?;
    let organisations =
        state.store.list_organisations(&ListFilter { limit: Some(10_000), ..Default::default() }).await?.items;
    Ok((countries, organisations))
}

async fn new_form(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    let (countries, organisations) = choices(&state, &caller).await?;
    let form = UserForm { role: "viewer".into(), active: Some("true".into()), ..Default::default() };
    Ok(render(&FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.users"),
        "/users",
        form.fields(lang, &countries, &organisations),
        "/users",
    )))
}

async fn save(
    state: &AppState,
    lang: Lang,
    uri: &Uri,
    caller: &Caller,
    id: Option<i64>,
    form: &UserForm,
) -> PageResult {
    let (countries, organisations) = choices(state, caller).await?;
    let action = id.map_or_else(|| "/users".to_string(), |id| format!("/users/{id}/edit"));
    let fields = form.fields(lang, &countries, &organisations);
    let page = FormPage::new(Chrome::new(lang, Some(caller), uri, "nav.users"), action, fields, "/users");
    let save = |input| ops::save_user(&state.store, caller, id, input, Some(&form.password));
    save_or_show(form.input(), save, |_: &User| "/users?notice=saved".into(), page).await
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<UserForm>,
) -> PageResult {
    save(&state, lang, &uri, &caller, None, &form).await
}

async fn edit_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    let (countries, organisations) = choices(&state, &caller).await?;
    let user = ops::user(&state.store, &caller, id).await?;
    let mut page = FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.users"),
        format!("/users/{id}/edit"),
        UserForm::from_user(&user).fields(lang, &countries, &organisations),
        "/users",
    );
    page.c.title = format!("{} — {}", user.display_name, user.username);
    Ok(render(&page))
}

async fn update(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<UserForm>,
) -> PageResult {
    save(&state, lang, &uri, &caller, Some(id), &form).await
}
