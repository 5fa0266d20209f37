//! The indicators in use, compiled against their forms: what the store asks, inside each
//! write transaction, to learn what a submission adds to which cells.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use chrono::{FixedOffset, NaiveDate, TimeZone as _};
use rumbo_store::FieldError;
use rumbo_store::analytics::{CellKey, CellValues, Contributor, CubePlan, Deltas, Dim, Facts};
use rumbo_xlsform::Form;
use rumbo_xlsform::webform::{FieldPaths, field_paths};
use rumbo_xlsform::xpath::{self, Env, Expr, Instance, NodeId};
use serde_json::Value;

use crate::definition::{IndicatorDef, Kind, age_group, parse_expr};

/// A form an indicator can read: its database id and its current version.
#[derive(Clone)]
pub struct FormInfo {
    pub id: i64,
    pub form: Arc<Form>,
}

/// What the aggregates need to know of a site.
#[derive(Debug, Clone, Default)]
pub struct SiteInfo {
    pub country: String,
    pub adm1: String,
}

struct Compiled {
    def: IndicatorDef,
    numerator: Option<Expr>,
    denominator: Option<Expr>,
    value: Option<Expr>,
    filter: Option<Expr>,
    scale: Option<Expr>,
    /// Element names from the root to the repeat whose entries are the units.
    unit: Option<Vec<String>>,
    cells: Vec<(Option<String>, Option<String>, Expr)>,
    dims: Vec<(Dim, Expr)>,
    /// Indicators of a form with the same bindings share this number, and so the
    /// dimension values worked out for a unit.
    dims_group: usize,
    plan: CubePlan,
}

struct FormSet {
    root: String,
    paths: FieldPaths,
    indicators: Vec<Arc<Compiled>>,
    /// The distinct dimension bindings of its indicators.
    groups: Vec<BTreeMap<Dim, String>>,
}

/// The indicators, compiled; the [`Contributor`] the store calls.
#[derive(Default)]
pub struct Registry {
    defs: Vec<IndicatorDef>,
    /// Indicators that cannot be computed any more (their form changed), and why.
    broken: BTreeMap<String, Vec<FieldError>>,
    forms: HashMap<String, FormInfo>,
    by_form: HashMap<i64, FormSet>,
    sites: Arc<HashMap<i64, SiteInfo>>,
}

impl Registry {
    /// Compiles `defs` against the current versions of their forms. An indicator that no
    /// longer fits its form is kept, listed as broken, and computes nothing.
    pub fn build(
        defs: Vec<IndicatorDef>,
        forms: HashMap<String, FormInfo>,
        sites: Arc<HashMap<i64, SiteInfo>>,
    ) -> Registry {
        let by_id: HashMap<&str, &IndicatorDef> = defs.iter().map(|d| (d.id.as_str(), d)).collect();
        let mut broken = BTreeMap::new();
        let mut by_form: HashMap<i64, FormSet> = HashMap::new();
        for def in &defs {
            let Some(info) = forms.get(&def.form) else {
                broken
                    .insert(def.id.clone(), vec![FieldError::new("form", format!("there is no form `{}`", def.form))]);
                continue;
            };
            let target = def.weight_by.as_ref().map(|w| by_id.get(w.as_str()).copied());
            let problems = def.check(&info.form, target);
            if !problems.is_empty() {
                broken.insert(def.id.clone(), problems);
                continue;
            }
            let mut compiled = compile(def, &info.form);
            let set = by_form.entry(info.id).or_insert_with(|| FormSet {
                root: info.form.root.clone(),
                paths: field_paths(&info.form),
                indicators: Vec::new(),
                groups: Vec::new(),
            });
            let bindings = def.bindings(&info.form);
            compiled.dims_group = if let Some(i) = set.groups.iter().position(|g| *g == bindings) {
                i
            } else {
                set.groups.push(bindings);
                set.groups.len() - 1
            };
            set.indicators.push(Arc::new(compiled));
        }
        Registry { defs, broken, forms, by_form, sites }
    }

    /// The same registry with only the indicators `ids` computing (for rebuilding them).
    pub fn only(&self, ids: &[String]) -> Registry {
        let by_form = self
            .by_form
            .iter()
            .filter_map(|(form, set)| {
                let indicators: Vec<_> = set.indicators.iter().filter(|c| ids.contains(&c.def.id)).cloned().collect();
                (!indicators.is_empty()).then(|| {
                    (
                        *form,
                        FormSet {
                            root: set.root.clone(),
                            paths: set.paths.clone(),
                            indicators,
                            groups: set.groups.clone(),
                        },
                    )
                })
            })
            .collect();
        Registry {
            defs: self.defs.clone(),
            broken: self.broken.clone(),
            forms: self.forms.clone(),
            by_form,
            sites: self.sites.clone(),
        }
    }

    /// Every indicator, in order (broken ones too).
    pub fn defs(&self) -> &[IndicatorDef] {
        &self.defs
    }

    pub fn get(&self, id: &str) -> Option<&IndicatorDef> {
        self.defs.iter().find(|d| d.id == id)
    }

    /// The cubes an indicator is kept in (`None` for an unknown or broken indicator).
    pub fn plan(&self, id: &str) -> Option<&CubePlan> {
        self.by_form.values().flat_map(|set| set.indicators.iter()).find(|c| c.def.id == id).map(|c| &c.plan)
    }

    /// Why an indicator computes nothing, if it does not.
    pub fn problems(&self, id: &str) -> Option<&[FieldError]> {
        self.broken.get(id).map(Vec::as_slice)
    }

    pub fn forms(&self) -> &HashMap<String, FormInfo> {
        &self.forms
    }

    pub fn sites(&self) -> &Arc<HashMap<i64, SiteInfo>> {
        &self.sites
    }

    /// The label of a dimension value in `lang` (a language code) when the dimension is
    /// bound to a select question of the indicator's form.
    pub fn label(&self, def: &IndicatorDef, dim: Dim, value: &str, lang: &str) -> Option<String> {
        let form = &self.forms.get(&def.form)?.form;
        let bindings = def.bindings(form);
        let field = crate::definition::plain_field(bindings.get(&dim)?)?;
        let list = form.field(field)?.list.as_deref()?;
        let choice = form.choice_list(list)?.choices.iter().find(|c| c.name == value)?;
        let language = form.languages.iter().find(|l| l.ends_with(&format!("({lang})")) || l.as_str() == lang);
        choice.label.get(language.map(String::as_str)).map(str::to_owned)
    }
}

fn compile(def: &IndicatorDef, form: &Form) -> Compiled {
    // `check` passed, so every expression parses; a failure here would only drop it.
    let mut sink = Vec::new();
    let mut expr = |field: &str, text: &Option<String>| {
        text.as_deref().filter(|t| !t.trim().is_empty()).and_then(|t| parse_expr(field, t, form, &mut sink))
    };
    let numerator = expr("numerator", &def.numerator);
    let denominator = expr("denominator", &def.denominator);
    let value = expr("value", &def.value);
    let filter = expr("filter", &def.filter);
    let scale = expr("scale", &def.scale);
    let cells = def
        .cells
        .iter()
        .filter_map(|c| {
            let e = parse_expr("cells", &c.value, form, &mut sink)?;
            Some((c.sex.clone(), c.age_group.clone(), e))
        })
        .collect();
    let dims = def
        .bindings(form)
        .into_iter()
        .filter_map(|(dim, text)| Some((dim, parse_expr("dimensions", &text, form, &mut sink)?)))
        .collect();
    let unit = def.unit.as_ref().and_then(|u| field_paths(form).get(u).cloned());
    let plan = CubePlan::new(&def.kept());
    Compiled { def: def.clone(), numerator, denominator, value, filter, scale, unit, cells, dims, dims_group: 0, plan }
}

/// A submission's answers as the tree expressions are evaluated against.
pub fn instance_from_json(root: &str, data: &Value) -> Instance {
    fn fill(instance: &mut Instance, node: NodeId, value: &Value) {
        match value {
            Value::Object(map) if map.contains_key("latitude") => instance.set_value(node, scalar(value)),
            Value::Object(map) => {
                for (key, child) in map {
                    if let Value::Array(items) = child
                        && items.iter().any(Value::is_object)
                    {
                        for item in items {
                            let entry = instance.add_child(node, key);
                            fill(instance, entry, item);
                        }
                    } else {
                        let element = instance.add_child(node, key);
                        fill(instance, element, child);
                    }
                }
            }
            other => instance.set_value(node, scalar(other)),
        }
    }
    fn scalar(value: &Value) -> String {
        match value {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(" "),
            Value::Object(point) => ["latitude", "longitude", "altitude", "accuracy"]
                .iter()
                .map_while(|k| point.get(*k).filter(|v| !v.is_null()).map(scalar))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
    let mut instance = Instance::new(root);
    let top = instance.root();
    let data = data.get("data").filter(|d| d.is_object()).unwrap_or(data);
    fill(&mut instance, top, data);
    instance
}

fn text(value: &xpath::Value, instance: &Instance) -> String {
    let mut s = value.to_string(instance);
    if s.len() > 64 {
        let mut end = 64;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

impl Registry {
    fn unit_key(&self, c: &Compiled, env: &Env, unit: NodeId, facts: &Facts<'_>, instance: &Instance) -> CellKey {
        let site = facts.site_id.and_then(|id| self.sites.get(&id));
        let mut key = CellKey {
            round_id: facts.round_id.unwrap_or(0),
            site_id: facts.site_id.unwrap_or(0),
            country: facts.country.map(str::to_owned).or_else(|| site.map(|s| s.country.clone())).unwrap_or_default(),
            adm1: site.map(|s| s.adm1.clone()).unwrap_or_default(),
            ..CellKey::default()
        };
        if let Some(day) = facts.collected_on {
            key.set_date(day);
        }
        for (dim, expr) in &c.dims {
            let Ok(value) = xpath::evaluate(expr, env, unit) else { continue };
            let value = text(&value, instance);
            match dim {
                Dim::Day => {
                    if let Some(day) = value.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
                        key.set_date(day);
                    }
                }
                Dim::Adm1 => key.adm1 = value,
                Dim::Sex => key.sex = value,
                Dim::AgeGroup => {
                    key.age_group = match value.trim().parse::<f64>() {
                        Ok(age) => age_group(age).unwrap_or_default().to_owned(),
                        Err(_) => value,
                    };
                }
                Dim::Nationality => key.nationality = value,
                Dim::PopulationGroup => key.population_group = value,
                Dim::Direction => key.direction = value,
                Dim::Origin => key.origin = value,
                Dim::Destination => key.destination = value,
                Dim::Round | Dim::Month | Dim::Site | Dim::Country => {}
            }
        }
        key
    }

    #[allow(clippy::too_many_arguments)]
    fn contribute_unit(
        &self,
        c: &Compiled,
        env: &Env,
        unit: NodeId,
        facts: &Facts<'_>,
        sign: i64,
        out: &mut Deltas,
        keys: &mut HashMap<(usize, NodeId), CellKey>,
    ) {
        let instance = env.instance;
        let holds = |e: &Option<Expr>, default: bool| {
            e.as_ref().map_or(default, |e| xpath::evaluate(e, env, unit).is_ok_and(|v| v.to_bool(instance)))
        };
        let number = |e: &Expr| xpath::evaluate(e, env, unit).map_or(f64::NAN, |v| v.to_number(instance));
        if !holds(&c.filter, true) {
            return;
        }
        let key =
            keys.entry((c.dims_group, unit)).or_insert_with(|| self.unit_key(c, env, unit, facts, instance)).clone();
        let id = c.def.id.as_str();
        match c.def.kind {
            Kind::Count => out.add(id, &c.plan, &key, &CellValues { n: 1, num: 1.0, num2: 1.0, den: 1.0 }, sign),
            Kind::Proportion => {
                let d = holds(&c.denominator, true);
                let y = d && holds(&c.numerator, false);
                let y = f64::from(u8::from(y));
                out.add(id, &c.plan, &key, &CellValues { n: 1, num: y, num2: y, den: f64::from(u8::from(d)) }, sign);
            }
            Kind::Mean => {
                let v = c.value.as_ref().map_or(f64::NAN, number);
                let values = if v.is_finite() {
                    CellValues { n: 1, num: v, num2: v * v, den: 1.0 }
                } else {
                    CellValues { n: 1, ..CellValues::default() }
                };
                out.add(id, &c.plan, &key, &values, sign);
            }
            Kind::Sum => {
                let scale = c.scale.as_ref().map_or(1.0, number);
                let scale = if scale.is_finite() { scale } else { 0.0 };
                let value_of = |v: f64| {
                    if v.is_finite() {
                        let v = v * scale;
                        CellValues { n: 1, num: v, num2: v * v, den: 1.0 }
                    } else {
                        CellValues { n: 1, ..CellValues::default() }
                    }
                };
                if c.cells.is_empty() {
                    let v = c.value.as_ref().map_or(f64::NAN, number);
                    out.add(id, &c.plan, &key, &value_of(v), sign);
                } else {
                    for (sex, age, expr) in &c.cells {
                        let mut cell = key.clone();
                        if let Some(sex) = sex {
                            cell.sex.clone_from(sex);
                        }
                        if let Some(age) = age {
                            cell.age_group.clone_from(age);
                        }
                        out.add(id, &c.plan, &cell, &value_of(number(expr)), sign);
                    }
                }
            }
        }
    }
}

impl Contributor for Registry {
    fn reads(&self, form_id: i64) -> bool {
        self.by_form.contains_key(&form_id)
    }

    fn contribute(&self, facts: &Facts<'_>, sign: i64, out: &mut Deltas) {
        let Some(set) = self.by_form.get(&facts.form_id) else { return };
        let instance = instance_from_json(&set.root, facts.data);
        // `today()` is the day the data was collected, so that a submission always
        // contributes the same, whenever it is counted or taken back.
        let day = facts.collected_on.unwrap_or_default();
        let now = FixedOffset::east_opt(0)
            .and_then(|utc| utc.from_local_datetime(&day.and_hms_opt(12, 0, 0).unwrap_or_default()).single())
            .unwrap_or_default();
        let env = Env::new(&instance, &set.paths, now);
        let top = instance.root();
        let mut keys = HashMap::new();
        for c in &set.indicators {
            let units = match &c.unit {
                Some(path) => {
                    let steps: Vec<&str> = path.iter().skip(1).map(String::as_str).collect();
                    instance.find(top, &steps)
                }
                None => vec![top],
            };
            for unit in units {
                self.contribute_unit(c, &env, unit, facts, sign, out, &mut keys);
            }
        }
    }
}

/// The registry writers use now; replaced whole when indicators, forms or sites change.
#[derive(Default)]
pub struct Live {
    current: RwLock<Arc<Registry>>,
}

impl Live {
    pub fn new(registry: Registry) -> Self {
        Live { current: RwLock::new(Arc::new(registry)) }
    }

    pub fn get(&self) -> Arc<Registry> {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub fn set(&self, registry: Arc<Registry>) {
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = registry;
    }
}

impl Contributor for Live {
    fn reads(&self, form_id: i64) -> bool {
        self.get().reads(form_id)
    }

    fn contribute(&self, facts: &Facts<'_>, sign: i64, out: &mut Deltas) {
        self.get().contribute(facts, sign, out);
    }
}
