//! Indicators and dashboards: the indicators in use (compiled against their forms), the
//! changes to them, and what readers ask of the aggregates. The writers (submissions,
//! reviews, imports) take [`Analytics::contributor`] so that every committed change to a
//! submission changes the aggregates in the same transaction.

pub mod api;
pub mod dashboard;
pub mod indicators;
pub mod public;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumbo_analytics::{FormInfo, IndicatorDef, IndicatorFile, Live, Registry, SiteInfo};
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::analytics::{Contributor, IndicatorChange};
use rumbo_store::model::Actor;
use tokio::sync::watch;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

/// The indicators in use, and the signal dashboards listen to.
pub struct Analytics {
    /// What every write asks: the indicators (aggregates) and the red-flag rules (alerts).
    live: OnWrite,
    updates: watch::Sender<u64>,
    /// One change to the indicators (or reload) at a time.
    changing: tokio::sync::Mutex<()>,
    /// Names of sites, rounds, areas and countries, read again every [`LABELS_FOR`].
    labels: std::sync::Mutex<Option<(Instant, Arc<api::Labels>)>>,
    /// Drawn maps by countries and language.
    maps: std::sync::Mutex<HashMap<String, (Instant, Arc<rumbo_domain::map::Map>)>>,
    /// The protected tables of public figures.
    pub public: public::Tables,
    /// The public dashboard's pages, rendered.
    pub public_pages: public::Pages,
}

/// What a write asks about a submission: its aggregates and its red flags.
#[derive(Default)]
struct OnWrite {
    indicators: Live,
    flags: crate::protection::flags::Rules,
}

impl Contributor for OnWrite {
    fn reads(&self, form_id: i64) -> bool {
        self.indicators.reads(form_id)
    }

    fn contribute(
        &self,
        facts: &rumbo_store::analytics::Facts<'_>,
        sign: i64,
        out: &mut rumbo_store::analytics::Deltas,
    ) {
        self.indicators.contribute(facts, sign, out);
    }

    fn flags(&self, form_id: i64) -> bool {
        self.flags.reads(form_id)
    }

    fn alerts(&self, facts: &rumbo_store::analytics::Facts<'_>) -> Vec<rumbo_store::protection::RaisedAlert> {
        self.flags.alerts(facts)
    }
}

/// How long a drawn map is used before it is drawn again.
const MAPS_FOR: Duration = Duration::from_mins(1);

/// How long dimension labels are used before they are read again.
const LABELS_FOR: Duration = Duration::from_secs(10);

impl Default for Analytics {
    fn default() -> Self {
        Self::new()
    }
}

impl Analytics {
    pub fn new() -> Self {
        Analytics {
            live: OnWrite::default(),
            updates: watch::channel(0).0,
            changing: tokio::sync::Mutex::new(()),
            labels: std::sync::Mutex::default(),
            maps: std::sync::Mutex::default(),
            public: public::Tables::default(),
            public_pages: public::Pages::default(),
        }
    }

    /// Names for dimension values (cached a few seconds).
    pub async fn labels(&self, state: &AppState) -> ApiResult<Arc<api::Labels>> {
        let cached = self.labels.lock().ok().and_then(|l| l.clone()).filter(|(at, _)| at.elapsed() < LABELS_FOR);
        if let Some((_, labels)) = cached {
            return Ok(labels);
        }
        let labels = api::Labels::load(state).await?;
        if let Ok(mut slot) = self.labels.lock() {
            *slot = Some((Instant::now(), labels.clone()));
        }
        Ok(labels)
    }

    /// Reads the sites again (a new point, or a point moved to another area): submissions
    /// of a site count in its current admin area from now on.
    pub async fn refresh_sites(&self, store: &rumbo_store::Store) -> ApiResult<()> {
        let sites: HashMap<i64, SiteInfo> =
            store.site_areas().await?.into_iter().map(|(id, country, adm1)| (id, SiteInfo { country, adm1 })).collect();
        let _one = self.changing.lock().await;
        let old = self.registry();
        let registry = Arc::new(Registry::build(old.defs().to_vec(), old.forms().clone(), Arc::new(sites)));
        let live = &self.live.indicators;
        store.exclusively(&|| live.set(registry.clone())).await?;
        self.forget_labels();
        Ok(())
    }

    /// The admin-1 areas and sites of `countries`, projected (cached a minute: the shapes
    /// are the heaviest part of a dashboard).
    pub async fn drawn_map(
        &self,
        state: &AppState,
        countries: &[String],
        country: Option<&str>,
        lang: crate::i18n::Lang,
    ) -> ApiResult<Arc<rumbo_domain::map::Map>> {
        let key = format!("{}|{}", countries.join(","), lang.code());
        if let Some((at, map)) = self.maps.lock().ok().and_then(|m| m.get(&key).cloned())
            && at.elapsed() < MAPS_FOR
        {
            return Ok(map);
        }
        let mut shapes = Vec::new();
        for c in countries {
            shapes.extend(state.store.area_shapes(c, 1).await?);
        }
        let filter = rumbo_store::model::ListFilter {
            limit: Some(100_000),
            scope: Some(countries.to_vec()),
            country: country.map(str::to_owned),
            ..Default::default()
        };
        let sites = state.store.list_sites(&filter).await?.items;
        let map = Arc::new(rumbo_domain::map::draw(&shapes, &sites, lang.code(), 900.0));
        if let Ok(mut maps) = self.maps.lock() {
            if maps.len() > 64 {
                maps.clear();
            }
            maps.insert(key, (Instant::now(), map.clone()));
        }
        Ok(map)
    }

    /// Forgets the cached labels (after a site, area or round changed).
    pub fn forget_labels(&self) {
        if let Ok(mut slot) = self.labels.lock() {
            *slot = None;
        }
        if let Ok(mut maps) = self.maps.lock() {
            maps.clear();
        }
    }

    /// What the store asks, inside each write, what a submission counts for (and which red
    /// flags it raises).
    pub fn contributor(&self) -> &dyn Contributor {
        &self.live
    }

    /// The red-flag rules in use.
    pub fn flags(&self) -> &crate::protection::flags::Rules {
        &self.live.flags
    }

    pub fn registry(&self) -> Arc<Registry> {
        self.live.indicators.get()
    }

    /// Tells open dashboards that the aggregates changed.
    pub fn changed(&self) {
        self.updates.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.updates.subscribe()
    }

    /// Compiles the stored indicators against the current form versions and sites. Called
    /// before the server takes requests, and after a form version or a site changes.
    pub async fn reload(&self, state: &AppState) -> ApiResult<()> {
        let _one = self.changing.lock().await;
        let mut defs = Vec::new();
        for stored in state.store.indicators().await? {
            match serde_json::from_str::<IndicatorDef>(&stored.definition) {
                Ok(def) => defs.push(def),
                Err(e) => tracing::error!(indicator = %stored.id, error = %e, "a stored indicator no longer reads"),
            }
        }
        let registry = Arc::new(build(state, defs).await?);
        let live = &self.live.indicators;
        state.store.exclusively(&|| live.set(registry.clone())).await?;
        Ok(())
    }

    /// Compiles the indicators again and rebuilds the aggregates of those on `form` (all of
    /// them when `None`), in one transaction under the write lock: after a form gets a new
    /// version, or a site moves to another area, or a site or round is deleted, no cell
    /// keeps what the old state counted.
    pub async fn rebuild(&self, state: &AppState, form: Option<&str>) -> ApiResult<()> {
        let _one = self.changing.lock().await;
        let old = self.registry();
        let registry = Arc::new(build(state, old.defs().to_vec()).await?);
        let changes: Vec<IndicatorChange> = registry
            .defs()
            .iter()
            .filter(|d| form.is_none_or(|f| d.form == f))
            .map(|d| IndicatorChange::Rebuild { id: d.id.clone(), form: d.form.clone() })
            .collect();
        let ids: Vec<String> = changes
            .iter()
            .filter_map(|c| if let IndicatorChange::Rebuild { id, .. } = c { Some(id.clone()) } else { None })
            .collect();
        let rebuild = registry.only(&ids);
        let live = &self.live.indicators;
        let activate = |ok: bool| live.set(if ok { registry.clone() } else { old.clone() });
        state.store.change_indicators(&Actor::system("analytics"), &changes, &rebuild, &activate).await?;
        self.forget_labels();
        self.changed();
        Ok(())
    }

    /// After sites changed: a new point only needs to be known; a point that moved to
    /// another area (or went) needs the aggregates rebuilt.
    pub async fn sites_changed(&self, state: &AppState) -> ApiResult<()> {
        let now: HashMap<i64, (String, String)> =
            state.store.site_areas().await?.into_iter().map(|(id, country, adm1)| (id, (country, adm1))).collect();
        let known = self.registry().sites().clone();
        let moved = known.iter().any(|(id, s)| now.get(id).is_none_or(|(c, a)| *c != s.country || *a != s.adm1));
        if moved { self.rebuild(state, None).await } else { self.refresh_sites(&state.store).await }
    }
}

/// Compiles `defs` against the current versions of their forms.
async fn build(state: &AppState, defs: Vec<IndicatorDef>) -> ApiResult<Registry> {
    let mut forms = HashMap::new();
    for form in defs.iter().map(|d| d.form.clone()).collect::<std::collections::BTreeSet<_>>() {
        let Ok(entry) = state.collect.entry(&form).await else { continue };
        let Ok(compiled) = state.collect.current(&entry.record).await else { continue };
        forms.insert(form, FormInfo { id: entry.record.id, form: Arc::new(compiled.form.clone()) });
    }
    let sites = state
        .store
        .site_areas()
        .await?
        .into_iter()
        .map(|(id, country, adm1)| (id, SiteInfo { country, adm1 }))
        .collect();
    Ok(Registry::build(defs, forms, Arc::new(sites)))
}

/// Saves indicators (new or changed) and rebuilds their aggregates; all or nothing.
pub async fn save(state: &AppState, caller: &Caller, defs: Vec<IndicatorDef>) -> ApiResult<usize> {
    if defs.is_empty() {
        return Err(ApiError::invalid("indicator", "no indicator was given"));
    }
    let analytics = &state.analytics;
    let _one = analytics.changing.lock().await;
    let old = analytics.registry();
    let mut ids = Vec::new();
    let mut problems = Vec::new();
    for def in &defs {
        if ids.contains(&def.id) {
            problems.push(FieldError::new("id", format!("`{}` is given twice", def.id)));
        }
        ids.push(def.id.clone());
        may_manage(state, caller, &def.form).await?;
        // Replacing an indicator needs the right over the form it was on, too.
        if let Some(before) = old.get(&def.id) {
            may_manage(state, caller, &before.form).await?;
        }
    }
    if old.defs().len() + defs.iter().filter(|d| old.get(&d.id).is_none()).count() > MAX_INDICATORS {
        return Err(ApiError::invalid("indicator", format!("at most {MAX_INDICATORS} indicators can be kept")));
    }
    // The new set: the old one with these replaced or added, in their place.
    let mut all: Vec<IndicatorDef> = old.defs().iter().filter(|d| !ids.contains(&d.id)).cloned().collect();
    all.extend(defs.iter().cloned());
    let registry = build(state, all).await?;
    let several = defs.len() > 1;
    for def in &defs {
        if let Some(found) = registry.problems(&def.id) {
            problems.extend(found.iter().map(|p| {
                let field = if several { format!("{}.{}", def.id, p.field) } else { p.field.clone() };
                FieldError::new(field, p.message.clone())
            }));
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let changes: Vec<IndicatorChange> = defs
        .iter()
        .map(|d| IndicatorChange::Save {
            id: d.id.clone(),
            form: d.form.clone(),
            definition: serde_json::to_string(d).unwrap_or_default(),
        })
        .collect();
    let registry = Arc::new(registry);
    let rebuild = registry.only(&ids);
    let live = &analytics.live.indicators;
    let activate = |ok: bool| live.set(if ok { registry.clone() } else { old.clone() });
    let read = state.store.change_indicators(&caller.actor(), &changes, &rebuild, &activate).await?;
    tracing::info!(indicators = ids.len(), submissions = read, "indicators saved and rebuilt");
    analytics.changed();
    Ok(read)
}

/// Deletes an indicator and its aggregates.
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> ApiResult<()> {
    let analytics = &state.analytics;
    let _one = analytics.changing.lock().await;
    let old = analytics.registry();
    let def = old.get(id).ok_or_else(|| ApiError::NotFound(format!("indicator {id}")))?.clone();
    may_manage(state, caller, &def.form).await?;
    if let Some(user) = old.defs().iter().find(|d| d.weight_by.as_deref() == Some(id)) {
        return Err(ApiError::Conflict {
            field: Some("id".into()),
            message: format!("indicator `{}` is weighted by `{id}`: change or delete it first", user.id),
        });
    }
    let all: Vec<IndicatorDef> = old.defs().iter().filter(|d| d.id != id).cloned().collect();
    let registry = Arc::new(build(state, all).await?);
    let live = &analytics.live.indicators;
    let activate = |ok: bool| live.set(if ok { registry.clone() } else { old.clone() });
    let change = [IndicatorChange::Delete { id: id.to_owned() }];
    state.store.change_indicators(&caller.actor(), &change, &Registry::default(), &activate).await?;
    analytics.changed();
    Ok(())
}

/// Reads an indicator file (TOML) and saves what it declares.
pub async fn load_file(state: &AppState, caller: &Caller, text: &str) -> ApiResult<usize> {
    let defs = IndicatorFile::parse(text).map_err(|e| ApiError::Invalid(vec![e]))?;
    let count = defs.len();
    save(state, caller, defs).await?;
    Ok(count)
}

/// Declaring an indicator on a form needs the right to declare indicators in every
/// country the form is collected in.
async fn may_manage(state: &AppState, caller: &Caller, form: &str) -> ApiResult<()> {
    caller.require(Permission::ManageIndicators, None)?;
    match state.collect.entry(form).await {
        Ok(entry) => {
            for country in &entry.record.countries {
                caller.require(Permission::ManageIndicators, Some(country))?;
            }
            Ok(())
        }
        // An unknown form is reported with the indicator's other problems.
        Err(ApiError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The most indicators kept (each is computed for every submission of its form).
pub const MAX_INDICATORS: usize = 500;

/// The indicators a caller may see: restricted ones only with the right to read
/// submissions somewhere.
pub fn visible(registry: &Registry, caller: &Caller) -> Vec<IndicatorDef> {
    let privileged = privileged(caller, None);
    registry
        .defs()
        .iter()
        .filter(|d| privileged || d.sensitivity == rumbo_analytics::Sensitivity::Public)
        .cloned()
        .collect()
}

/// Whether the caller may see small cells and restricted indicators: the right to read
/// the submissions of every country asked about (or of every country of theirs).
pub fn privileged(caller: &Caller, countries: Option<&[String]>) -> bool {
    match countries {
        Some(list) if !list.is_empty() => list.iter().all(|c| caller.allows(Permission::ViewSubmissions, Some(c))),
        _ => caller.allows(Permission::ViewSubmissions, None),
    }
}

/// The names of an indicator by language, for lists.
pub fn names(def: &IndicatorDef) -> BTreeMap<String, String> {
    def.name.clone()
}
