//! The 5W pages for reporters and reviewers: report rows (list, entry, edit), the upload
//! with its progress bar, and the review queue.
//!
//! They act through the same functions as the API (`Checker`, `store_rows`,
//! `upload_workbook`, `review_rows`), so a row entered on a page is checked and flagged as
//! one sent as JSON; and, as in the API, the caller's access is checked before her input.

mod entry;
mod list;
pub mod progress;
mod review;
pub mod upload;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{Datelike, Utc};
use rumbo_domain::permissions::Permission;
use rumbo_store::model::Country;
use rumbo_store::response::{ActivityReport, Plan};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::pages::Choice;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/response.js", get(script))
        .merge(list::router())
        .merge(entry::router())
        .merge(upload::router())
        .merge(review::router())
}

/// The upload page's progress bar and the review queue's "select all" (the pages work without them).
async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../assets/response.js"),
    )
}

/// The years with a plan, and the one asked for (default: this year if it has a plan, else
/// the latest). A year that is not a number is a 422.
async fn plan_year(state: &AppState, asked: Option<&str>) -> Result<(Vec<i32>, i32), ApiError> {
    let years = state.store.response_plan_years().await?;
    let year = if let Some(y) = asked.map(str::trim).filter(|y| !y.is_empty()) {
        y.parse::<i32>().map_err(|_| ApiError::invalid("year", format!("`{y}` is not a year")))?
    } else {
        let now = Utc::now().date_naive().year();
        if years.contains(&now) || years.is_empty() { now } else { years[0] }
    };
    Ok((years, year))
}

/// The plan of a year, if there is one.
async fn plan_if_any(state: &AppState, year: i32) -> Result<Option<Plan>, ApiError> {
    match state.store.response_plan(year).await {
        Ok(p) => Ok(Some(p)),
        Err(rumbo_store::StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn year_choices(years: &[i32], year: i32) -> Vec<Choice> {
    let mut all: Vec<i32> = years.to_vec();
    if !all.contains(&year) {
        all.push(year);
        all.sort_unstable_by(|a, b| b.cmp(a));
    }
    all.iter().map(|y| Choice::new(y.to_string(), y.to_string(), &year.to_string())).collect()
}

/// The caller's countries in which she may do one of `permissions`.
async fn countries_for(
    state: &AppState,
    caller: &Caller,
    permissions: &[Permission],
) -> Result<Vec<Country>, ApiError> {
    let mut countries = crate::ops::countries(&state.store, caller).await?;
    countries.retain(|c| permissions.iter().any(|p| caller.allows(*p, Some(&c.code))));
    Ok(countries)
}

/// The admin-1 p-codes of these countries, sorted.
async fn admin1_of(state: &AppState, countries: &[Country]) -> Result<Vec<(String, String)>, ApiError> {
    let mut admin1: Vec<(String, String)> = state
        .store
        .admin1_countries()
        .await?
        .into_iter()
        .filter(|(_, c)| countries.iter().any(|x| x.code == *c))
        .collect();
    admin1.sort();
    Ok(admin1)
}

/// Organisations as choices (`id`, "Name (ACR)"), with an optional first "all"/"—" choice.
fn organisation_choices(orgs: &[(i64, String, String)], current: &str, first: Option<&str>) -> Vec<Choice> {
    let mut choices = Vec::new();
    if let Some(label) = first {
        choices.push(Choice::new("", label, current));
    }
    for (id, name, acronym) in orgs {
        let label = if acronym.is_empty() { name.clone() } else { format!("{name} ({acronym})") };
        choices.push(Choice::new(id.to_string(), label, current));
    }
    choices
}

/// An indicator's name in the reader's language.
fn indicator_name(plan: Option<&Plan>, lang: Lang, code: &str) -> String {
    plan.and_then(|p| p.indicators.iter().find(|i| i.code == code)).map_or_else(
        || code.to_string(),
        |i| {
            let name = match lang {
                Lang::Es if !i.name_es.is_empty() => &i.name_es,
                Lang::Pt if !i.name_pt.is_empty() => &i.name_pt,
                _ => &i.name_en,
            };
            format!("{code} — {name}")
        },
    )
}

/// A sector's name in the reader's language.
fn sector_name(plan: Option<&Plan>, lang: Lang, code: &str) -> String {
    plan.and_then(|p| p.sectors.iter().find(|s| s.code == code)).map_or_else(
        || code.to_string(),
        |s| {
            let name = match lang {
                Lang::Es if !s.name_es.is_empty() => &s.name_es,
                Lang::Pt if !s.name_pt.is_empty() => &s.name_pt,
                _ => &s.name_en,
            };
            format!("{code} — {name}")
        },
    )
}

/// A flag raised on a row, and what it means.
pub struct Flag {
    pub code: &'static str,
    pub label: &'static str,
    pub meaning: &'static str,
}

fn flag(lang: Lang, code: &'static str) -> Flag {
    Flag {
        code,
        label: lang.t(&format!("resp.rep.flag.{code}")),
        meaning: lang.t(&format!("resp.rep.flag.{code}.help")),
    }
}

/// Every flag, for the legend.
fn all_flags(lang: Lang) -> Vec<Flag> {
    ["late", "duplicate", "outlier"].into_iter().map(|c| flag(lang, c)).collect()
}

fn flags_of(lang: Lang, r: &ActivityReport) -> Vec<Flag> {
    [("late", r.flag_late), ("duplicate", r.flag_duplicate), ("outlier", r.flag_outlier)]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(c, _)| flag(lang, c))
        .collect()
}

/// A row as the tables show it.
pub struct Line {
    pub r: ActivityReport,
    pub indicator: String,
    pub sector: String,
    pub population: &'static str,
    pub recurrence: &'static str,
    pub modality: &'static str,
    pub status: &'static str,
    /// The CSS class of the status.
    pub status_class: &'static str,
    pub flags: Vec<Flag>,
    pub editable: bool,
}

impl Line {
    fn new(lang: Lang, plan: Option<&Plan>, r: ActivityReport, editable: bool) -> Line {
        Line {
            indicator: indicator_name(plan, lang, &r.indicator_code),
            sector: sector_name(plan, lang, &r.sector_code),
            population: lang.t(&format!("resp.rep.pop.{}", r.population_type)),
            recurrence: lang.t(&format!("resp.rep.{}", r.new_or_recurring)),
            modality: r.modality.as_deref().map_or("", |m| lang.t(&format!("resp.rep.mod.{m}"))),
            status: lang.t(&format!("resp.rep.status.{}", r.status)),
            status_class: match r.status.as_str() {
                "approved" => "status-approved",
                "returned" => "status-rejected",
                _ => "status-submitted",
            },
            flags: flags_of(lang, &r),
            editable,
            r,
        }
    }
}

/// May the caller change this row (her countries, her organisation, not approved)?
fn may_change(caller: &Caller, r: &ActivityReport) -> bool {
    r.status != "approved"
        && super::may_report(&caller.user, &r.country_code, r.appealing_org_id, r.implementing_org_id).is_ok()
}

/// The texts of these pages (key, [English, Spanish, Portuguese]).
pub const TEXTS: &[(&str, [&str; 3])] = &[
    // ---- shared by the three pages ----
    ("resp.rep.year", ["Plan year", "Año del plan", "Ano do plano"]),
    (
        "resp.rep.no_plan",
        [
            "There is no response plan for this year yet.",
            "Todavía no hay un plan de respuesta para este año.",
            "Ainda não há um plano de resposta para este ano.",
        ],
    ),
    ("resp.rep.organisation", ["Organisation", "Organización", "Organização"]),
    ("resp.rep.appealing", ["Appealing organisation", "Organización solicitante", "Organização solicitante"]),
    ("resp.rep.implementing", ["Implementing partner", "Socio implementador", "Parceiro implementador"]),
    (
        "resp.rep.same_org",
        ["The appealing organisation itself", "La misma organización solicitante", "A própria organização solicitante"],
    ),
    ("resp.rep.sector", ["Sector", "Sector", "Setor"]),
    ("resp.rep.indicator", ["Indicator", "Indicador", "Indicador"]),
    ("resp.rep.admin1", ["Admin 1", "Admin 1", "Admin 1"]),
    ("resp.rep.month", ["Month", "Mes", "Mês"]),
    ("resp.rep.month_from", ["Month from", "Mes desde", "Mês de"]),
    ("resp.rep.month_to", ["Month to", "Mes hasta", "Mês até"]),
    ("resp.rep.population", ["Population type", "Tipo de población", "Tipo de população"]),
    ("resp.rep.girls", ["Girls", "Niñas", "Meninas"]),
    ("resp.rep.boys", ["Boys", "Niños", "Meninos"]),
    ("resp.rep.women", ["Women", "Mujeres", "Mulheres"]),
    ("resp.rep.men", ["Men", "Hombres", "Homens"]),
    ("resp.rep.other", ["Other", "Otras personas", "Outras pessoas"]),
    ("resp.rep.total", ["Total", "Total", "Total"]),
    ("resp.rep.recurrence", ["New or recurring", "Nueva o recurrente", "Nova ou recorrente"]),
    ("resp.rep.new", ["New", "Nueva", "Nova"]),
    ("resp.rep.recurring", ["Recurring", "Recurrente", "Recorrente"]),
    ("resp.rep.modality", ["Modality", "Modalidad", "Modalidade"]),
    ("resp.rep.mod.in_kind", ["In kind", "En especie", "Em espécie"]),
    ("resp.rep.mod.cash", ["Cash", "Efectivo", "Dinheiro"]),
    ("resp.rep.mod.voucher", ["Voucher", "Cupón", "Vale"]),
    ("resp.rep.mod.service", ["Service", "Servicio", "Serviço"]),
    ("resp.rep.cash_value", ["Cash value (USD)", "Valor en efectivo (USD)", "Valor em dinheiro (USD)"]),
    ("resp.rep.pop.in_destination", ["In destination", "En destino", "No destino"]),
    ("resp.rep.pop.in_transit", ["In transit", "En tránsito", "Em trânsito"]),
    ("resp.rep.pop.host_community", ["Host community", "Comunidad de acogida", "Comunidade de acolhida"]),
    ("resp.rep.pop.pendular", ["Pendular", "Pendular", "Pendular"]),
    ("resp.rep.pop.colombian_returnees", ["Colombian returnees", "Colombianos retornados", "Colombianos retornados"]),
    ("resp.rep.status.draft", ["Draft", "Borrador", "Rascunho"]),
    ("resp.rep.status.submitted", ["Submitted", "Enviado", "Enviado"]),
    ("resp.rep.status.approved", ["Approved", "Aprobado", "Aprovado"]),
    ("resp.rep.status.returned", ["Returned", "Devuelto", "Devolvido"]),
    ("resp.rep.flags", ["Flags", "Alertas", "Alertas"]),
    ("resp.rep.flagged_only", ["Flagged only", "Solo con alertas", "Só com alertas"]),
    ("resp.rep.flag.late", ["Late", "Tardío", "Atrasado"]),
    (
        "resp.rep.flag.late.help",
        [
            "Stored after the reporting deadline of its month (the plan's deadline day of the following month).",
            "Registrado después del plazo de su mes (el día límite del plan del mes siguiente).",
            "Registrado depois do prazo do seu mês (o dia-limite do plano no mês seguinte).",
        ],
    ),
    ("resp.rep.flag.duplicate", ["Duplicate", "Duplicado", "Duplicado"]),
    (
        "resp.rep.flag.duplicate.help",
        [
            "Another row has the same organisations, indicator, place, month, population type and new/recurring.",
            "Otra fila tiene las mismas organizaciones, indicador, lugar, mes, tipo de población y nueva/recurrente.",
            "Outra linha tem as mesmas organizações, indicador, local, mês, tipo de população e nova/recorrente.",
        ],
    ),
    ("resp.rep.flag.outlier", ["Outlier", "Atípico", "Atípico"]),
    (
        "resp.rep.flag.outlier.help",
        [
            "The total is over ten times the organisation's usual (median) figure for this indicator in earlier months.",
            "El total supera diez veces la cifra habitual (mediana) de la organización para este indicador en meses anteriores.",
            "O total é mais de dez vezes o número habitual (mediana) da organização para este indicador em meses anteriores.",
        ],
    ),
    ("resp.rep.note", ["Reviewer's note", "Nota de revisión", "Nota da revisão"]),
    ("resp.rep.id", ["Row", "Fila", "Linha"]),
    // ---- the report rows ----
    ("resp.rep.title", ["Activity reports", "Reportes de actividades", "Relatórios de atividades"]),
    (
        "resp.rep.help",
        [
            "The monthly 5W rows of your countries (a partner sees her organisation's only). Returned rows say what to fix; approved rows can no longer be changed.",
            "Las filas 5W mensuales de sus países (una socia ve solo las de su organización). Las filas devueltas dicen qué corregir; las aprobadas ya no se pueden cambiar.",
            "As linhas 5W mensais dos seus países (uma parceira vê só as da sua organização). As linhas devolvidas dizem o que corrigir; as aprovadas já não podem ser alteradas.",
        ],
    ),
    ("resp.rep.new_row", ["Report a row", "Reportar una fila", "Reportar uma linha"]),
    (
        "resp.rep.download",
        [
            "Download what I see (CSV, with HXL tags)",
            "Descargar lo que veo (CSV, con etiquetas HXL)",
            "Baixar o que vejo (CSV, com etiquetas HXL)",
        ],
    ),
    ("resp.rep.rows", ["rows", "filas", "linhas"]),
    (
        "resp.rep.upload_only",
        [
            "Showing the rows of one upload.",
            "Se muestran las filas de una carga.",
            "Mostrando as linhas de um carregamento.",
        ],
    ),
    ("resp.rep.legend", ["What the flags mean", "Qué significan las alertas", "O que significam os alertas"]),
    (
        "resp.rep.locked",
        [
            "Approved: can no longer be changed",
            "Aprobado: ya no se puede cambiar",
            "Aprovado: já não pode ser alterado",
        ],
    ),
    // ---- entry ----
    ("resp.rep.entry_title", ["Report a row", "Reportar una fila", "Reportar uma linha"]),
    ("resp.rep.edit_title", ["Change a report row", "Cambiar una fila del reporte", "Alterar uma linha do relatório"]),
    (
        "resp.rep.entry_help",
        [
            "One row: what your organisation reached with one indicator, in one place and month. Give girls, boys, women, men and other, or only the total; when both are given they must add up.",
            "Una fila: lo que su organización alcanzó con un indicador, en un lugar y un mes. Indique niñas, niños, mujeres, hombres y otras personas, o solo el total; si indica ambos deben sumar lo mismo.",
            "Uma linha: o que a sua organização alcançou com um indicador, num local e num mês. Indique meninas, meninos, mulheres, homens e outras pessoas, ou só o total; se indicar ambos, devem somar o mesmo.",
        ],
    ),
    ("resp.rep.figures", ["People reached", "Personas alcanzadas", "Pessoas alcançadas"]),
    (
        "resp.rep.edit_note",
        [
            "A changed row is checked again and goes back to the reviewers as submitted.",
            "Una fila cambiada se revisa de nuevo y vuelve a revisión como enviada.",
            "Uma linha alterada é verificada de novo e volta para revisão como enviada.",
        ],
    ),
    (
        "resp.rep.approved_locked",
        [
            "This row was approved: it can no longer be changed or deleted. Ask a reviewer if it is wrong.",
            "Esta fila fue aprobada: ya no se puede cambiar ni eliminar. Pida a quien revisa si está mal.",
            "Esta linha foi aprovada: já não pode ser alterada nem excluída. Peça a quem revisa se estiver errada.",
        ],
    ),
    ("resp.rep.not_number", ["is not a whole number", "no es un número entero", "não é um número inteiro"]),
    ("resp.rep.not_amount", ["is not an amount", "no es un monto", "não é um valor"]),
    ("resp.rep.required", ["is required", "es obligatorio", "é obrigatório"]),
    // ---- upload ----
    ("resp.up.title", ["Upload a monthly report", "Cargar un reporte mensual", "Carregar um relatório mensal"]),
    (
        "resp.up.help",
        [
            "Download your organisation's template for the plan year, fill one row per indicator, place and month, and upload it. Every row is checked; if one is wrong nothing is stored and each problem is named by its cell.",
            "Descargue la plantilla de su organización para el año del plan, llene una fila por indicador, lugar y mes, y cárguela. Se revisa cada fila; si una está mal no se guarda nada y cada problema se indica por su celda.",
            "Baixe o modelo da sua organização para o ano do plano, preencha uma linha por indicador, local e mês e carregue-o. Cada linha é verificada; se uma estiver errada nada é guardado e cada problema é indicado pela sua célula.",
        ],
    ),
    ("resp.up.choose", ["Show", "Mostrar", "Mostrar"]),
    ("resp.up.template", ["Download the template", "Descargar la plantilla", "Baixar o modelo"]),
    ("resp.up.file", ["Filled template (.xlsx)", "Plantilla llena (.xlsx)", "Modelo preenchido (.xlsx)"]),
    ("resp.up.send", ["Upload", "Cargar", "Carregar"]),
    ("resp.up.progress", ["Progress of the upload", "Avance de la carga", "Andamento do carregamento"]),
    ("resp.up.phase.receiving", ["Sending the file…", "Enviando el archivo…", "Enviando o arquivo…"]),
    ("resp.up.phase.reading", ["Reading the workbook…", "Leyendo el libro…", "Lendo a pasta de trabalho…"]),
    ("resp.up.phase.checking", ["Checking rows…", "Revisando filas…", "Verificando linhas…"]),
    ("resp.up.phase.storing", ["Storing the rows…", "Guardando las filas…", "Guardando as linhas…"]),
    ("resp.up.phase.done", ["Done.", "Listo.", "Pronto."]),
    ("resp.up.phase.failed", ["The upload was refused.", "La carga fue rechazada.", "O carregamento foi recusado."]),
    (
        "resp.up.phase.lost",
        [
            "The connection was lost: try again.",
            "Se perdió la conexión: intente de nuevo.",
            "A conexão caiu: tente de novo.",
        ],
    ),
    ("resp.up.stored", ["rows stored", "filas guardadas", "linhas guardadas"]),
    ("resp.up.flags_raised", ["Flags raised", "Alertas levantadas", "Alertas levantados"]),
    (
        "resp.up.see_rows",
        ["See the rows of this upload", "Ver las filas de esta carga", "Ver as linhas deste carregamento"],
    ),
    (
        "resp.up.refused",
        [
            "Nothing was stored: fix these problems in the workbook and upload it again.",
            "No se guardó nada: corrija estos problemas en el libro y cárguelo de nuevo.",
            "Nada foi guardado: corrija estes problemas na pasta de trabalho e carregue-a de novo.",
        ],
    ),
    ("resp.up.problems", ["problems", "problemas", "problemas"]),
    ("resp.up.cell", ["Cell", "Celda", "Célula"]),
    ("resp.up.problem", ["Problem", "Problema", "Problema"]),
    ("resp.up.past", ["Earlier uploads", "Cargas anteriores", "Carregamentos anteriores"]),
    (
        "resp.up.none",
        [
            "No uploads yet for this organisation and year.",
            "Aún no hay cargas para esta organización y año.",
            "Ainda não há carregamentos para esta organização e ano.",
        ],
    ),
    ("resp.up.when", ["When", "Cuándo", "Quando"]),
    ("resp.up.file_name", ["File", "Archivo", "Arquivo"]),
    ("resp.up.outcome", ["Outcome", "Resultado", "Resultado"]),
    ("resp.up.outcome.stored", ["Stored", "Guardada", "Guardado"]),
    ("resp.up.outcome.refused", ["Refused", "Rechazada", "Recusado"]),
    ("resp.up.reasons", ["Why", "Por qué", "Por quê"]),
    (
        "resp.up.no_org",
        [
            "Choose the organisation whose template you are uploading.",
            "Elija la organización de la plantilla que carga.",
            "Escolha a organização do modelo que está carregando.",
        ],
    ),
    // ---- review ----
    ("resp.rev.title", ["Review reports", "Revisar reportes", "Revisar relatórios"]),
    (
        "resp.rev.help",
        [
            "Submitted rows of your countries, flagged rows first. Tick rows and approve them, or return them with a note saying what to fix.",
            "Filas enviadas de sus países, primero las que tienen alertas. Marque filas y apruébelas, o devuélvalas con una nota que diga qué corregir.",
            "Linhas enviadas dos seus países, primeiro as com alertas. Marque linhas e aprove-as, ou devolva-as com uma nota dizendo o que corrigir.",
        ],
    ),
    (
        "resp.rev.empty",
        [
            "Nothing waits for review here.",
            "Aquí no hay nada pendiente de revisión.",
            "Aqui não há nada aguardando revisão.",
        ],
    ),
    ("resp.rev.pick", ["Select", "Seleccionar", "Selecionar"]),
    (
        "resp.rev.pick_all",
        ["Select every row shown", "Seleccionar todas las filas mostradas", "Selecionar todas as linhas mostradas"],
    ),
    (
        "resp.rev.note",
        ["Note (required to return)", "Nota (obligatoria para devolver)", "Nota (obrigatória para devolver)"],
    ),
    ("resp.rev.approve", ["Approve selected", "Aprobar seleccionadas", "Aprovar selecionadas"]),
    ("resp.rev.return", ["Return selected", "Devolver seleccionadas", "Devolver selecionadas"]),
    (
        "resp.rev.need_note",
        [
            "Say what to fix when returning rows.",
            "Indique qué corregir al devolver filas.",
            "Diga o que corrigir ao devolver linhas.",
        ],
    ),
    ("resp.rev.need_rows", ["Tick at least one row.", "Marque al menos una fila.", "Marque pelo menos uma linha."]),
    ("resp.rev.approved", ["Rows approved:", "Filas aprobadas:", "Linhas aprovadas:"]),
    (
        "resp.rev.returned",
        [
            "Rows returned to their organisations:",
            "Filas devueltas a sus organizaciones:",
            "Linhas devolvidas às suas organizações:",
        ],
    ),
];
