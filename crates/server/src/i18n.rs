//! The UI in Spanish, Portuguese and English. Every text has its three versions on one
//! line, so a text cannot be missing in one language.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum_extra::extract::CookieJar;

pub const LANG_COOKIE: &str = "rumbo_lang";

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Es,
    Pt,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Es, Lang::Pt, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Pt => "pt",
        }
    }

    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
            Lang::Pt => "Português",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("en") => Some(Lang::En),
            Some("es") => Some(Lang::Es),
            Some("pt") => Some(Lang::Pt),
            _ => None,
        }
    }

    /// The language chosen with the picker (a cookie), else the browser's preference.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let jar = CookieJar::from_headers(headers);
        if let Some(lang) = jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
            return lang;
        }
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut bits = part.split(';');
            let tag = bits.next().unwrap_or_default();
            let q = bits.find_map(|b| b.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    /// The text for `key` in this language (the key itself if unknown, so a gap shows).
    pub fn t(self, key: &str) -> &'static str {
        TABLE.get(key).map_or_else(|| leak_missing(key), |texts| texts[self as usize])
    }
}

fn leak_missing(key: &str) -> &'static str {
    tracing::warn!(key, "missing translation");
    "?"
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

static TABLE: LazyLock<HashMap<&'static str, [&'static str; 3]>> =
    LazyLock::new(|| all_texts().map(|(k, v)| (*k, *v)).collect());

/// Every text: this file's and those kept beside their pages (the 5W pages keep theirs).
fn all_texts() -> impl Iterator<Item = &'static (&'static str, [&'static str; 3])> {
    TEXTS
        .iter()
        .chain(crate::response::TEXTS)
        .chain(crate::response::pages::TEXTS)
        .chain(crate::response::dashboard::TEXTS)
        .chain(crate::response::dashboard::plan_page::TEXTS)
}

/// key, [English, Spanish, Portuguese]
const TEXTS: &[(&str, [&str; 3])] = &[
    (
        "app.tagline",
        [
            "Information system for migration and displacement responses",
            "Sistema de información para respuestas a la migración y el desplazamiento",
            "Sistema de informação para respostas à migração e ao deslocamento",
        ],
    ),
    ("nav.home", ["Home", "Inicio", "Início"]),
    ("nav.dashboard", ["Dashboard", "Tablero", "Painel"]),
    ("dash.title", ["Dashboard", "Tablero", "Painel"]),
    ("pub.title", ["Public figures", "Cifras públicas", "Números públicos"]),
    ("pub.open_data", ["Open data", "Datos abiertos", "Dados abertos"]),
    (
        "pub.open_data_lead",
        [
            "Each indicator's public table, by round, country, admin 1, sex and age group, with an HXL hashtag row.",
            "La tabla pública de cada indicador, por ronda, país, admin 1, sexo y grupo de edad, con una fila de etiquetas HXL.",
            "A tabela pública de cada indicador, por rodada, país, admin 1, sexo e faixa etária, com uma linha de etiquetas HXL.",
        ],
    ),
    (
        "pub.link",
        [
            "Public figures: open to everyone, no account needed",
            "Cifras públicas: abiertas a todos, sin cuenta",
            "Números públicos: abertos a todos, sem conta",
        ],
    ),
    (
        "pub.lead",
        [
            "Figures from the displacement tracking of the response, open to everyone.",
            "Cifras del monitoreo de la movilidad de la respuesta, abiertas a todo el público.",
            "Números do monitoramento da mobilidade da resposta, abertos a todos.",
        ],
    ),
    (
        "pub.disclosure",
        [
            "No figure here can identify a person: small numbers are hidden, and so is any number that would let a hidden one be worked out from the others. Sensitive topics are shown by country only.",
            "Ninguna cifra aquí puede identificar a una persona: se ocultan los números pequeños y cualquier número que permitiría deducir uno oculto a partir de los demás. Los temas sensibles se muestran solo por país.",
            "Nenhum número aqui pode identificar uma pessoa: os números pequenos são ocultados, assim como qualquer número que permitiria deduzir um oculto a partir dos outros. Temas sensíveis são mostrados só por país.",
        ],
    ),
    (
        "pub.api",
        [
            "The same figures for other systems (API, CSV with HXL).",
            "Las mismas cifras para otros sistemas (API, CSV con HXL).",
            "Os mesmos números para outros sistemas (API, CSV com HXL).",
        ],
    ),
    ("dash.region", ["Region", "Región", "Região"]),
    ("dash.drill", ["Where you are", "Dónde está", "Onde você está"]),
    ("dash.adm1", ["Admin-1 area", "Área de nivel 1", "Área de nível 1"]),
    ("dash.nationality", ["Nationality", "Nacionalidad", "Nacionalidade"]),
    ("dash.map_by", ["Map of", "Mapa de", "Mapa de"]),
    ("dash.map_default", ["(default)", "(predeterminado)", "(padrão)"]),
    (
        "dash.live",
        [
            "Live: figures update as submissions arrive",
            "En vivo: las cifras se actualizan al llegar envíos",
            "Ao vivo: os números se atualizam com cada envio",
        ],
    ),
    (
        "dash.empty",
        [
            "No indicator has figures for these filters yet.",
            "Ningún indicador tiene cifras para estos filtros todavía.",
            "Nenhum indicador tem números para esses filtros ainda.",
        ],
    ),
    ("dash.headlines", ["Headline figures", "Cifras principales", "Números principais"]),
    ("dash.ci", ["95% CI", "IC 95 %", "IC 95%"]),
    (
        "dash.suppressed",
        [
            "hidden: fewer people than the threshold",
            "oculto: menos personas que el umbral",
            "oculto: menos pessoas que o limite",
        ],
    ),
    ("dash.by_day", ["by day", "por día", "por dia"]),
    ("dash.by_month", ["by month", "por mes", "por mês"]),
    ("dash.by_round", ["by round", "por ronda", "por rodada"]),
    ("dash.pyramid", ["sex and age", "sexo y edad", "sexo e idade"]),
    ("dash.women", ["Women and girls", "Mujeres y niñas", "Mulheres e meninas"]),
    ("dash.men", ["Men and boys", "Hombres y niños", "Homens e meninos"]),
    ("dash.by_nationality", ["by nationality", "por nacionalidad", "por nacionalidade"]),
    ("dash.by_direction", ["by direction", "por dirección", "por direção"]),
    ("dash.by_adm1", ["by admin-1 area", "por área de nivel 1", "por área de nível 1"]),
    (
        "dash.destinations",
        ["Top intended destinations", "Principales destinos previstos", "Principais destinos pretendidos"],
    ),
    (
        "dash.routes",
        [
            "Top routes (origin → intended destination)",
            "Principales rutas (origen → destino previsto)",
            "Principais rotas (origem → destino pretendido)",
        ],
    ),
    (
        "dash.weighted",
        [
            "weighted by the registry (point × sex × age)",
            "ponderado por el registro (punto × sexo × edad)",
            "ponderado pelo registro (ponto × sexo × idade)",
        ],
    ),
    (
        "dash.map_note",
        [
            "click an area or a point to filter",
            "haga clic en un área o un punto para filtrar",
            "clique em uma área ou ponto para filtrar",
        ],
    ),
    ("dash.section.needs", ["Needs", "Necesidades", "Necessidades"]),
    (
        "dash.section.vulnerabilities",
        ["Health and vulnerabilities", "Salud y vulnerabilidades", "Saúde e vulnerabilidades"],
    ),
    ("dash.section.intentions", ["Intentions", "Intenciones", "Intenções"]),
    ("dash.section.return", ["Return intention", "Intención de retorno", "Intenção de retorno"]),
    (
        "dash.section.return_profile",
        [
            "Profile of those intending to return",
            "Perfil de quienes piensan regresar",
            "Perfil de quem pretende voltar",
        ],
    ),
    (
        "dash.section.protection",
        ["Protection incidents on the route", "Incidentes de protección en la ruta", "Incidentes de proteção na rota"],
    ),
    ("dash.section.documentation", ["Documentation and status", "Documentación y estatus", "Documentação e situação"]),
    ("dash.section.profile", ["Profile", "Perfil", "Perfil"]),
    ("dash.section.route", ["Route and transport", "Ruta y transporte", "Rota e transporte"]),
    ("report.nav", ["Reports", "Informes", "Relatórios"]),
    ("report.title", ["Situation reports", "Informes de situación", "Relatórios de situação"]),
    (
        "report.lead",
        [
            "A situation report gathers the public figures of a country (or of the whole region) for one round: key figures, charts, a map, tables, a note on methods and the data sources. It holds only what anyone may read: restricted indicators are left out and small numbers suppressed.",
            "Un informe de situación reúne las cifras públicas de un país (o de toda la región) en una ronda: cifras clave, gráficos, un mapa, tablas, una nota metodológica y las fuentes de datos. Solo contiene lo que cualquiera puede leer: se dejan fuera los indicadores restringidos y se suprimen los números pequeños.",
            "Um relatório de situação reúne os números públicos de um país (ou de toda a região) em uma rodada: números principais, gráficos, um mapa, tabelas, uma nota metodológica e as fontes de dados. Contém apenas o que qualquer pessoa pode ler: indicadores restritos ficam de fora e números pequenos são suprimidos.",
        ],
    ),
    ("report.whole_region", ["The whole region", "Toda la región", "Toda a região"]),
    ("report.language", ["Language of the report", "Idioma del informe", "Idioma do relatório"]),
    ("report.view", ["View", "Ver", "Ver"]),
    ("report.download", ["Download PDF", "Descargar PDF", "Baixar PDF"]),
    ("report.no_rounds", ["There are no rounds yet.", "Todavía no hay rondas.", "Ainda não há rodadas."]),
    ("report.sitrep", ["Situation report", "Informe de situación", "Relatório de situação"]),
    ("report.key_figures", ["Key figures", "Cifras clave", "Números principais"]),
    ("report.map", ["Map", "Mapa", "Mapa"]),
    ("report.methodology", ["Methodology", "Metodología", "Metodologia"]),
    ("report.sources", ["Data sources", "Fuentes de datos", "Fontes de dados"]),
    (
        "report.disclosure",
        ["Statistical disclosure control", "Control de divulgación estadística", "Controle de divulgação estatística"],
    ),
    ("report.generated", ["Generated", "Generado", "Gerado"]),
    ("report.page", ["Page", "Página", "Página"]),
    ("report.total", ["Total", "Total", "Total"]),
    ("report.by_country", ["by country", "por país", "por país"]),
    ("report.suppressed_cells", ["Cells suppressed", "Celdas suprimidas", "Células suprimidas"]),
    (
        "report.suppressed_here",
        ["Figures left out of this report", "Cifras omitidas en este informe", "Números omitidos neste relatório"],
    ),
    ("report.fewer_than", ["fewer than {n}", "menos de {n}", "menos de {n}"]),
    ("report.section.flows", ["Flows", "Flujos", "Fluxos"]),
    ("report.section.baseline", ["Population (baseline)", "Población (línea de base)", "População (linha de base)"]),
    ("report.section.survey", ["Survey", "Encuesta", "Pesquisa"]),
    ("report.empty_heading", ["No figures yet", "Todavía sin cifras", "Ainda sem números"]),
    (
        "report.empty",
        [
            "There are no public figures for this round yet: no submission has been counted, or every figure is too small to publish.",
            "Todavía no hay cifras públicas para esta ronda: no se ha contado ningún envío, o todas las cifras son demasiado pequeñas para publicarse.",
            "Ainda não há números públicos para esta rodada: nenhum envio foi contado, ou todos os números são pequenos demais para publicar.",
        ],
    ),
    (
        "report.method.intro",
        [
            "Figures come from the Displacement Tracking Matrix (DTM) forms of the response, counted as each submission arrives and reviewed by information-management officers; rejected and deleted submissions are not counted.",
            "Las cifras provienen de los formularios de la Matriz de Seguimiento del Desplazamiento (DTM) de la respuesta, contadas a medida que llega cada envío y revisadas por los equipos de gestión de información; los envíos rechazados o eliminados no se cuentan.",
            "Os números vêm dos formulários da Matriz de Monitoramento de Deslocamento (DTM) da resposta, contados à medida que cada envio chega e revisados pelas equipes de gestão da informação; envios rejeitados ou excluídos não são contados.",
        ],
    ),
    (
        "report.method.flows",
        [
            "Flow monitoring: enumerators count the people crossing each flow-monitoring point during the hours they observe, by sex and age group. The estimated flow scales each count to 24 hours (count × 24 ÷ hours observed), assuming the hours not observed look like those observed.",
            "Monitoreo de flujos: el personal de campo cuenta a las personas que cruzan cada punto de monitoreo durante las horas que observa, por sexo y grupo de edad. El flujo estimado lleva cada conteo a 24 horas (conteo × 24 ÷ horas observadas), suponiendo que las horas no observadas se parecen a las observadas.",
            "Monitoramento de fluxos: as equipes de campo contam as pessoas que cruzam cada ponto de monitoramento durante as horas observadas, por sexo e faixa etária. O fluxo estimado leva cada contagem a 24 horas (contagem × 24 ÷ horas observadas), supondo que as horas não observadas se parecem com as observadas.",
        ],
    ),
    (
        "report.method.survey",
        [
            "Survey: the shares come from interviews with people in transit, weighted so that each point × sex × age group counts as many people as the flow registry counted there in the round (post-stratification). Each share carries its 95% confidence interval and the number of interviews (n).",
            "Encuesta: los porcentajes vienen de entrevistas a personas en tránsito, ponderadas para que cada punto × sexo × grupo de edad cuente tantas personas como las que el registro de flujos contó allí en la ronda (posestratificación). Cada porcentaje lleva su intervalo de confianza del 95 % y el número de entrevistas (n).",
            "Pesquisa: as porcentagens vêm de entrevistas com pessoas em trânsito, ponderadas para que cada ponto × sexo × faixa etária conte tantas pessoas quanto o registro de fluxos contou ali na rodada (pós-estratificação). Cada porcentagem traz seu intervalo de confiança de 95% e o número de entrevistas (n).",
        ],
    ),
    (
        "report.method.baseline",
        [
            "Baseline (mobility tracking): key informants estimate the population of interest in each admin-1 area in each round; the map shows these estimates.",
            "Línea de base (seguimiento de la movilidad): informantes clave estiman la población de interés en cada área de nivel 1 en cada ronda; el mapa muestra esas estimaciones.",
            "Linha de base (monitoramento da mobilidade): informantes-chave estimam a população de interesse em cada área de nível 1 em cada rodada; o mapa mostra essas estimativas.",
        ],
    ),
    (
        "report.method.regional",
        [
            "Regional figures: counts add up the countries' figures for the round of the same name; shares and averages are the countries' figures weighted by the population each stands for. Countries whose figure is suppressed are left out of the regional one.",
            "Cifras regionales: los conteos suman las cifras de los países en la ronda del mismo nombre; los porcentajes y promedios son las cifras de los países ponderadas por la población que representa cada una. Los países cuya cifra está suprimida quedan fuera de la regional.",
            "Números regionais: as contagens somam os números dos países na rodada de mesmo nome; porcentagens e médias são os números dos países ponderados pela população que cada um representa. Países cujo número está suprimido ficam fora do regional.",
        ],
    ),
    (
        "report.disclosure_text",
        [
            "Every figure here is public: a figure resting on fewer than {n} people or responses is not published (—), and neither is any figure that would let a hidden one be worked out from the others and the totals. Restricted indicators (health, legal status, protection) are never in public reports, and sensitive topics are given by country only.",
            "Todas las cifras de este informe son públicas: no se publica (—) una cifra basada en menos de {n} personas o respuestas, ni ninguna cifra que permitiría deducir una oculta a partir de las demás y de los totales. Los indicadores restringidos (salud, situación migratoria, protección) nunca están en informes públicos, y los temas sensibles se dan solo por país.",
            "Todos os números deste relatório são públicos: não se publica (—) um número baseado em menos de {n} pessoas ou respostas, nem qualquer número que permitiria deduzir um oculto a partir dos outros e dos totais. Indicadores restritos (saúde, situação migratória, proteção) nunca estão em relatórios públicos, e temas sensíveis são dados só por país.",
        ],
    ),
    ("report.source.forms", ["Forms", "Formularios", "Formulários"]),
    (
        "report.source.submissions",
        ["Records counted in the round", "Registros contados en la ronda", "Registros contados na rodada"],
    ),
    ("report.source.indicators", ["Indicators", "Indicadores", "Indicadores"]),
    (
        "report.source.indicators_note",
        [
            "public indicators; restricted ones are not in public reports",
            "indicadores públicos; los restringidos no figuran en informes públicos",
            "indicadores públicos; os restritos não constam de relatórios públicos",
        ],
    ),
    ("ind.title", ["Indicators", "Indicadores", "Indicadores"]),
    ("ind.new", ["New indicator", "Nuevo indicador", "Novo indicador"]),
    ("ind.edit", ["Edit indicator", "Editar indicador", "Editar indicador"]),
    (
        "ind.lead",
        [
            "Indicators are declared over form fields; their figures update with every submission.",
            "Los indicadores se declaran sobre los campos de los formularios; sus cifras se actualizan con cada envío.",
            "Os indicadores são declarados sobre os campos dos formulários; seus números se atualizam a cada envio.",
        ],
    ),
    (
        "ind.editor_lead",
        [
            "Write one or more indicators (TOML, as in an indicator file). Saving checks every expression against the form and rebuilds the figures.",
            "Escriba uno o más indicadores (TOML, como en un archivo de indicadores). Al guardar se revisa cada expresión contra el formulario y se recalculan las cifras.",
            "Escreva um ou mais indicadores (TOML, como em um arquivo de indicadores). Ao salvar, cada expressão é verificada no formulário e os números são recalculados.",
        ],
    ),
    ("ind.not_saved", ["Nothing was saved:", "No se guardó nada:", "Nada foi salvo:"]),
    ("ind.definition", ["Definition", "Definición", "Definição"]),
    ("ind.id", ["Id", "Id", "Id"]),
    ("ind.form", ["Form", "Formulario", "Formulário"]),
    ("ind.kind", ["Kind", "Tipo", "Tipo"]),
    ("ind.section", ["Section", "Sección", "Seção"]),
    ("ind.breakdowns", ["Breakdowns", "Desagregaciones", "Desagregações"]),
    ("ind.cells", ["Cells", "Celdas", "Células"]),
    ("ind.restricted", ["restricted", "restringido", "restrito"]),
    ("ind.weighted", ["weighted", "ponderado", "ponderado"]),
    (
        "ind.confirm_delete",
        [
            "Delete this indicator and its figures?",
            "¿Eliminar este indicador y sus cifras?",
            "Excluir este indicador e seus números?",
        ],
    ),
    ("nav.countries", ["Countries", "Países", "Países"]),
    ("nav.admin_areas", ["Admin areas", "Áreas administrativas", "Áreas administrativas"]),
    ("nav.sites", ["Sites and points", "Sitios y puntos", "Locais e pontos"]),
    ("nav.rounds", ["Rounds", "Rondas", "Rodadas"]),
    ("nav.map", ["Map", "Mapa", "Mapa"]),
    ("nav.organisations", ["Organisations", "Organizaciones", "Organizações"]),
    ("nav.users", ["Users", "Usuarios", "Usuários"]),
    ("nav.tokens", ["API tokens", "Tokens de API", "Tokens de API"]),
    ("nav.audit", ["Audit log", "Registro de auditoría", "Registro de auditoria"]),
    ("nav.forms", ["Forms", "Formularios", "Formulários"]),
    ("nav.collect", ["Fill in", "Llenar", "Preencher"]),
    ("sub.history", ["Review history", "Historial de revisión", "Histórico de revisão"]),
    ("sub.history_edited", ["edited", "editado", "editado"]),
    ("sub.history_deleted", ["moved to the bin", "movido a la papelera", "movido para a lixeira"]),
    ("sub.history_restored", ["restored", "restaurado", "restaurado"]),
    ("sub.history_other", ["changed", "cambiado", "alterado"]),
    ("nav.data", ["Data", "Datos", "Dados"]),
    ("nav.protection", ["Protection", "Protección", "Proteção"]),
    // ---- protection: alerts, cases, referrals ----
    ("prot.acknowledge", ["Acknowledge", "Acusar recibo", "Confirmar recebimento"]),
    ("prot.address", ["Address", "Dirección", "Endereço"]),
    ("prot.age_group", ["Age group", "Grupo de edad", "Faixa etária"]),
    ("prot.alerts", ["Red-flag alerts", "Alertas de riesgo", "Alertas de risco"]),
    ("prot.alerts_count", ["alerts", "alertas", "alertas"]),
    (
        "prot.alerts_help",
        [
            "Alerts raised by red-flag rules on submissions of your countries. The list updates by itself. Acknowledge an alert when someone is on it, open a case, or dismiss it saying why.",
            "Alertas generadas por las reglas de riesgo en los envíos de sus países. La lista se actualiza sola. Acuse recibo cuando alguien se ocupe, abra un caso o descártela indicando el motivo.",
            "Alertas geradas pelas regras de risco nos envios dos seus países. A lista se atualiza sozinha. Confirme quando alguém estiver cuidando, abra um caso ou descarte informando o motivo.",
        ],
    ),
    ("prot.alert.all", ["All", "Todas", "Todas"]),
    ("prot.alert.open", ["Open", "Abierta", "Aberta"]),
    ("prot.alert.acknowledged", ["Acknowledged", "Recibida", "Recebida"]),
    ("prot.alert.dismissed", ["Dismissed", "Descartada", "Descartada"]),
    ("prot.alert.case_opened", ["Case opened", "Caso abierto", "Caso aberto"]),
    ("prot.case", ["Case", "Caso", "Caso"]),
    ("prot.case.open", ["Open", "Abierto", "Aberto"]),
    ("prot.case.closed", ["Closed", "Cerrado", "Encerrado"]),
    ("prot.case.all", ["All", "Todos", "Todos"]),
    (
        "prot.case_audited",
        [
            "Every opening of this file is recorded in the audit log.",
            "Cada apertura de este expediente queda registrada en la bitácora de auditoría.",
            "Cada abertura deste prontuário fica registrada no log de auditoria.",
        ],
    ),
    ("prot.case_file", ["Case file", "Expediente", "Prontuário"]),
    ("prot.caseloads", ["Caseloads", "Carga de casos", "Carga de casos"]),
    ("prot.cases", ["Cases", "Casos", "Casos"]),
    ("prot.cases_count", ["cases", "casos", "casos"]),
    (
        "prot.cases_help",
        [
            "Your caseload (supervisors see every case of their countries). People are known by their case code; names are sealed and shown only inside the case file.",
            "Su carga de casos (las supervisoras ven todos los casos de sus países). Las personas se conocen por su código de caso; los nombres están cifrados y solo se muestran dentro del expediente.",
            "Sua carga de casos (supervisoras veem todos os casos dos seus países). As pessoas são conhecidas pelo código do caso; os nomes são cifrados e só aparecem dentro do prontuário.",
        ],
    ),
    ("prot.caseworker", ["Caseworker", "Gestora de casos", "Gestora de casos"]),
    ("prot.closure.goals_met", ["Goals met", "Objetivos cumplidos", "Objetivos alcançados"]),
    ("prot.closure.moved_on", ["Moved on", "Siguió su camino", "Seguiu viagem"]),
    (
        "prot.closure.transferred_out",
        [
            "Transferred to another organisation",
            "Transferido a otra organización",
            "Transferido para outra organização",
        ],
    ),
    ("prot.closure.consent_withdrawn", ["Consent withdrawn", "Consentimiento retirado", "Consentimento retirado"]),
    ("prot.closure.lost_contact", ["Lost contact", "Contacto perdido", "Contato perdido"]),
    ("prot.closure.deceased", ["Deceased", "Fallecido", "Falecido"]),
    ("prot.closure.other", ["Other", "Otro", "Outro"]),
    ("prot.closure_reason", ["Reason for closing", "Motivo de cierre", "Motivo do encerramento"]),
    ("prot.code", ["Code", "Código", "Código"]),
    ("prot.consent", ["Informed consent", "Consentimiento informado", "Consentimento informado"]),
    (
        "prot.consent_help",
        [
            "Tick only what the person agreed to, after explaining each use. Without consent to referral nothing is shared with another organisation.",
            "Marque solo lo que la persona aceptó, después de explicar cada uso. Sin consentimiento para remisión no se comparte nada con otra organización.",
            "Marque apenas o que a pessoa aceitou, depois de explicar cada uso. Sem consentimento para encaminhamento nada é compartilhado com outra organização.",
        ],
    ),
    ("prot.consent_history", ["Consent history", "Historial de consentimientos", "Histórico de consentimentos"]),
    ("prot.consent_method", ["How it was given", "Cómo se dio", "Como foi dado"]),
    ("prot.date_of_birth", ["Date of birth", "Fecha de nacimiento", "Data de nascimento"]),
    ("prot.direction", ["Direction", "Sentido", "Sentido"]),
    ("prot.directory", ["Service directory", "Directorio de servicios", "Diretório de serviços"]),
    ("prot.dismiss", ["Dismiss", "Descartar", "Descartar"]),
    ("prot.document", ["Document", "Documento", "Documento"]),
    ("prot.due", ["Due", "Vence", "Prazo"]),
    ("prot.entry.assessment", ["Assessment", "Evaluación", "Avaliação"]),
    ("prot.entry.service_plan", ["Service plan action", "Acción del plan de servicios", "Ação do plano de serviços"]),
    ("prot.entry.follow_up", ["Follow-up", "Seguimiento", "Acompanhamento"]),
    ("prot.entry.note", ["Note", "Nota", "Nota"]),
    ("prot.entry.transfer", ["Transfer", "Traspaso", "Transferência"]),
    ("prot.entry.closure", ["Closure", "Cierre", "Encerramento"]),
    ("prot.entry.reopening", ["Reopening", "Reapertura", "Reabertura"]),
    ("prot.entry_kind", ["Kind of entry", "Tipo de registro", "Tipo de registro"]),
    ("prot.expression", ["Expression", "Expresión", "Expressão"]),
    ("prot.family_name", ["Family name", "Apellidos", "Sobrenome"]),
    ("prot.form", ["Form", "Formulario", "Formulário"]),
    ("prot.from_alert", ["Opened from alert", "Abierto desde la alerta", "Aberto a partir do alerta"]),
    ("prot.given_name", ["Name", "Nombre", "Nome"]),
    ("prot.given_on", ["Given on", "Fecha", "Data"]),
    (
        "prot.hub_help",
        [
            "Red flags, cases and referrals of your countries. Everything here is need-to-know: only the people working on a case can open it.",
            "Alertas, casos y remisiones de sus países. Todo aquí es de acceso restringido: solo quienes trabajan un caso pueden abrirlo.",
            "Alertas, casos e encaminhamentos dos seus países. Tudo aqui é de acesso restrito: só quem trabalha num caso pode abri-lo.",
        ],
    ),
    ("prot.identity", ["Identifying details", "Datos de identificación", "Dados de identificação"]),
    (
        "prot.identity_help",
        [
            "Stored encrypted with a key kept outside the database. Give an alias if the person prefers.",
            "Se guardan cifrados con una clave que no está en la base de datos. Use un alias si la persona lo prefiere.",
            "Guardados cifrados com uma chave que não está no banco de dados. Use um apelido se a pessoa preferir.",
        ],
    ),
    ("prot.live", ["Updates live", "Se actualiza en vivo", "Atualiza ao vivo"]),
    ("prot.mark_done", ["Mark done", "Marcar hecho", "Marcar feito"]),
    ("prot.message", ["Message", "Mensaje", "Mensagem"]),
    ("prot.method.guardian", ["By parent or guardian", "Por madre, padre o tutor", "Pelo responsável"]),
    ("prot.method.verbal", ["Verbal", "Verbal", "Verbal"]),
    ("prot.method.written", ["Written", "Por escrito", "Por escrito"]),
    ("prot.nationality", ["Nationality", "Nacionalidad", "Nacionalidade"]),
    ("prot.new_case", ["New case", "Nuevo caso", "Novo caso"]),
    (
        "prot.new_case_help",
        [
            "Open a case only with the person's informed consent to case management.",
            "Abra un caso solo con el consentimiento informado de la persona para la gestión de casos.",
            "Abra um caso apenas com o consentimento informado da pessoa para a gestão de casos.",
        ],
    ),
    ("prot.new_rule", ["New red-flag rule", "Nueva regla de riesgo", "Nova regra de risco"]),
    ("prot.next_step", ["Next step", "Siguiente paso", "Próximo passo"]),
    ("prot.no_alerts", ["No alerts.", "No hay alertas.", "Não há alertas."]),
    ("prot.no_cases", ["No cases.", "No hay casos.", "Não há casos."]),
    (
        "prot.no_consent",
        [
            "No consent in force: nothing of this case may be shared.",
            "Sin consentimiento vigente: no se puede compartir nada de este caso.",
            "Sem consentimento vigente: nada deste caso pode ser compartilhado.",
        ],
    ),
    ("prot.no_entries", ["The case file is empty.", "El expediente está vacío.", "O prontuário está vazio."]),
    ("prot.no_referrals", ["No referrals.", "No hay remisiones.", "Não há encaminhamentos."]),
    ("prot.no_rules", ["No rules yet.", "Aún no hay reglas.", "Ainda não há regras."]),
    ("prot.note", ["Note", "Nota", "Nota"]),
    ("prot.open_alerts", ["open alerts", "alertas abiertas", "alertas abertos"]),
    ("prot.open_case", ["Open a case", "Abrir un caso", "Abrir um caso"]),
    ("prot.open_cases", ["open cases", "casos abiertos", "casos abertos"]),
    ("prot.opened", ["Opened", "Abierto", "Aberto"]),
    ("prot.overdue", ["overdue", "vencido", "atrasado"]),
    ("prot.phone", ["Phone", "Teléfono", "Telefone"]),
    ("prot.profile", ["Profile", "Perfil", "Perfil"]),
    ("prot.purpose.case_management", ["Case management", "Gestión de casos", "Gestão de casos"]),
    (
        "prot.purpose.referral",
        ["Referral to other organisations", "Remisión a otras organizaciones", "Encaminhamento a outras organizações"],
    ),
    (
        "prot.purpose.share_identity",
        [
            "Share name and document in referrals",
            "Compartir nombre y documento en remisiones",
            "Compartilhar nome e documento em encaminhamentos",
        ],
    ),
    (
        "prot.purpose.share_contact",
        [
            "Share phone and address in referrals",
            "Compartir teléfono y dirección en remisiones",
            "Compartilhar telefone e endereço em encaminhamentos",
        ],
    ),
    (
        "prot.purpose.share_vulnerabilities",
        [
            "Share vulnerabilities in referrals",
            "Compartir vulnerabilidades en remisiones",
            "Compartilhar vulnerabilidades em encaminhamentos",
        ],
    ),
    (
        "prot.purpose.share_assessment",
        [
            "Share the assessment in referrals",
            "Compartir la evaluación en remisiones",
            "Compartilhar a avaliação em encaminhamentos",
        ],
    ),
    ("prot.raised", ["Raised", "Generada", "Gerado"]),
    ("prot.reason", ["Reason", "Motivo", "Motivo"]),
    ("prot.receipt", ["Receipt", "Comprobante", "Comprovante"]),
    ("prot.receipts", ["Hand-offs and receipts", "Entregas y comprobantes", "Etapas e comprovantes"]),
    ("prot.received_from", ["From", "De", "De"]),
    (
        "prot.record_consent",
        ["Record a new consent", "Registrar un nuevo consentimiento", "Registrar novo consentimento"],
    ),
    ("prot.ref.sent", ["Sent", "Enviada", "Enviado"]),
    ("prot.ref.accepted", ["Accepted", "Aceptada", "Aceito"]),
    ("prot.ref.declined", ["Declined", "Rechazada", "Recusado"]),
    ("prot.ref.provided", ["Service provided", "Servicio prestado", "Serviço prestado"]),
    ("prot.ref.closed", ["Closed", "Cerrada", "Encerrado"]),
    ("prot.refer", ["Refer", "Remitir", "Encaminhar"]),
    ("prot.referral", ["Referral", "Remisión", "Encaminhamento"]),
    ("prot.referrals", ["Referrals", "Remisiones", "Encaminhamentos"]),
    (
        "prot.referrals_help",
        [
            "Referrals your organisation received, and those sent from your cases. Answer within the deadline; each hand-off leaves a receipt.",
            "Remisiones que recibió su organización y las enviadas desde sus casos. Responda dentro del plazo; cada entrega deja un comprobante.",
            "Encaminhamentos recebidos pela sua organização e os enviados dos seus casos. Responda dentro do prazo; cada etapa deixa um comprovante.",
        ],
    ),
    ("prot.risk", ["Risk", "Riesgo", "Risco"]),
    ("prot.risk.high", ["High", "Alto", "Alto"]),
    ("prot.risk.low", ["Low", "Bajo", "Baixo"]),
    ("prot.risk.medium", ["Medium", "Medio", "Médio"]),
    ("prot.route", ["Goes to (country)", "Va a (país)", "Vai para (país)"]),
    ("prot.route_default", ["The submission's country", "El país del envío", "O país do envio"]),
    ("prot.rules", ["Red-flag rules", "Reglas de riesgo", "Regras de risco"]),
    (
        "prot.rules_help",
        [
            "A rule is an expression over a form's fields, as in XLSForm (${age} < 18 and ${travelling_alone} = 'yes'). Every new submission for which it is true raises an alert for the protection team of its country.",
            "Una regla es una expresión sobre los campos de un formulario, como en XLSForm (${age} < 18 and ${travelling_alone} = 'yes'). Cada envío nuevo para el que se cumple genera una alerta para el equipo de protección de su país.",
            "Uma regra é uma expressão sobre os campos de um formulário, como no XLSForm (${age} < 18 and ${travelling_alone} = 'yes'). Cada novo envio para o qual ela é verdadeira gera um alerta para a equipe de proteção do seu país.",
        ],
    ),
    ("prot.sent_to", ["To", "A", "Para"]),
    ("prot.service", ["Service", "Servicio", "Serviço"]),
    ("prot.severity", ["Severity", "Gravedad", "Gravidade"]),
    ("prot.severity.low", ["Low", "Baja", "Baixa"]),
    ("prot.severity.medium", ["Medium", "Media", "Média"]),
    ("prot.severity.high", ["High", "Alta", "Alta"]),
    ("prot.severity.critical", ["Critical", "Crítica", "Crítica"]),
    ("prot.sex", ["Sex", "Sexo", "Sexo"]),
    ("prot.sex.female", ["Female", "Mujer", "Mulher"]),
    ("prot.sex.male", ["Male", "Hombre", "Homem"]),
    ("prot.sex.other", ["Other", "Otro", "Outro"]),
    (
        "prot.share",
        [
            "Share with the receiving organisation (as consented)",
            "Compartir con la organización receptora (según el consentimiento)",
            "Compartilhar com a organização receptora (conforme o consentimento)",
        ],
    ),
    ("prot.share.identity", ["Name and document", "Nombre y documento", "Nome e documento"]),
    ("prot.share.contact", ["Phone and address", "Teléfono y dirección", "Telefone e endereço"]),
    ("prot.share.vulnerabilities", ["Vulnerabilities", "Vulnerabilidades", "Vulnerabilidades"]),
    ("prot.share.assessment", ["Latest assessment", "Última evaluación", "Última avaliação"]),
    ("prot.shared", ["Shared", "Compartido", "Compartilhado"]),
    (
        "prot.shared_person",
        [
            "What the person consented to share",
            "Lo que la persona aceptó compartir",
            "O que a pessoa aceitou compartilhar",
        ],
    ),
    ("prot.site", ["Site", "Punto", "Ponto"]),
    ("prot.step.accept", ["Accept", "Aceptar", "Aceitar"]),
    ("prot.step.decline", ["Decline", "Rechazar", "Recusar"]),
    ("prot.step.provide", ["Service provided", "Servicio prestado", "Serviço prestado"]),
    ("prot.step.close", ["Close", "Cerrar", "Encerrar"]),
    ("prot.switch_off", ["Switch off", "Desactivar", "Desativar"]),
    ("prot.switch_on", ["Switch on", "Activar", "Ativar"]),
    ("prot.text", ["Text", "Texto", "Texto"]),
    ("prot.transfer", ["Transfer to another caseworker", "Traspasar a otra gestora", "Transferir para outra gestora"]),
    ("prot.urgency", ["Urgency", "Urgencia", "Urgência"]),
    (
        "prot.urgency.normal",
        ["Normal (72 h to answer)", "Normal (72 h para responder)", "Normal (72 h para responder)"],
    ),
    (
        "prot.urgency.urgent",
        ["Urgent (24 h to answer)", "Urgente (24 h para responder)", "Urgente (24 h para responder)"],
    ),
    ("prot.vulnerabilities", ["Vulnerabilities", "Vulnerabilidades", "Vulnerabilidades"]),
    ("prot.vulnerability", ["Vulnerability", "Vulnerabilidad", "Vulnerabilidade"]),
    (
        "prot.vuln.uasc",
        [
            "Unaccompanied or separated child",
            "Niña, niño o adolescente no acompañado o separado",
            "Criança desacompanhada ou separada",
        ],
    ),
    ("prot.vuln.vot", ["Victim of trafficking", "Víctima de trata", "Vítima de tráfico"]),
    ("prot.vuln.gbv", ["GBV survivor", "Sobreviviente de VBG", "Sobrevivente de VBG"]),
    ("prot.vuln.pregnant_lactating", ["Pregnant or lactating", "Gestante o lactante", "Gestante ou lactante"]),
    ("prot.vuln.disability", ["Disability", "Discapacidad", "Deficiência"]),
    ("prot.vuln.chronic_illness", ["Chronic illness", "Enfermedad crónica", "Doença crônica"]),
    ("prot.vuln.older_person", ["Older person", "Persona mayor", "Pessoa idosa"]),
    (
        "prot.vuln.sogiesc",
        [
            "Risk related to sexual orientation or gender identity",
            "Riesgo por orientación sexual o identidad de género",
            "Risco por orientação sexual ou identidade de gênero",
        ],
    ),
    ("prot.withdraw_consent", ["Withdraw consent", "Retirar el consentimiento", "Retirar o consentimento"]),
    ("prot.withdrawn", ["withdrawn", "retirado", "retirado"]),
    (
        "prot.withheld",
        [
            "The person withdrew consent: nothing more about them is shared.",
            "La persona retiró su consentimiento: no se comparte nada más sobre ella.",
            "A pessoa retirou o consentimento: nada mais sobre ela é compartilhado.",
        ],
    ),
    ("nav.response", ["5W", "5W", "5W"]),
    ("nav.coming", ["coming soon", "próximamente", "em breve"]),
    ("nav.language", ["Language", "Idioma", "Idioma"]),
    ("nav.sign_out", ["Sign out", "Cerrar sesión", "Sair"]),
    ("nav.api", ["API", "API", "API"]),
    ("login.title", ["Sign in", "Iniciar sesión", "Entrar"]),
    ("login.username", ["Username", "Usuario", "Usuário"]),
    ("login.password", ["Password", "Contraseña", "Senha"]),
    ("login.submit", ["Sign in", "Entrar", "Entrar"]),
    (
        "login.failed",
        ["Wrong username or password.", "Usuario o contraseña incorrectos.", "Usuário ou senha incorretos."],
    ),
    (
        "login.expired",
        [
            "Your session has expired. Please sign in again.",
            "Su sesión ha caducado. Inicie sesión de nuevo.",
            "Sua sessão expirou. Entre novamente.",
        ],
    ),
    ("home.title", ["Overview", "Resumen", "Visão geral"]),
    ("collect.title", ["Fill in a form", "Llenar un formulario", "Preencher um formulário"]),
    (
        "collect.intro",
        [
            "Forms open to you. They work offline once opened: answers wait on this device until the network returns.",
            "Formularios abiertos para usted. Funcionan sin conexión una vez abiertos: las respuestas esperan en este dispositivo hasta que vuelva la red.",
            "Formulários abertos para você. Funcionam sem conexão depois de abertos: as respostas esperam neste dispositivo até a rede voltar.",
        ],
    ),
    (
        "collect.none",
        ["No form is open to you.", "No hay formularios abiertos para usted.", "Nenhum formulário aberto para você."],
    ),
    ("collect.loading", ["Loading the form…", "Cargando el formulario…", "Carregando o formulário…"]),
    (
        "collect.odk",
        [
            "On a phone with ODK Collect or KoboCollect, use the server address",
            "En un teléfono con ODK Collect o KoboCollect, use la dirección del servidor",
            "Em um telefone com ODK Collect ou KoboCollect, use o endereço do servidor",
        ],
    ),
    ("portal.send", ["Send", "Enviar", "Enviar"]),
    (
        "portal.thanks",
        [
            "Thank you. Your answers were received.",
            "Gracias. Sus respuestas fueron recibidas.",
            "Obrigado. Suas respostas foram recebidas.",
        ],
    ),
    ("portal.again", ["Answer again", "Responder de nuevo", "Responder novamente"]),
    (
        "portal.fix",
        [
            "Please check the answers marked below and send again.",
            "Revise las respuestas marcadas abajo y envíe de nuevo.",
            "Verifique as respostas marcadas abaixo e envie novamente.",
        ],
    ),
    ("portal.required", ["required", "obligatorio", "obrigatório"]),
    ("home.welcome", ["Welcome", "Bienvenida/o", "Bem-vinda/o"]),
    ("home.scope", ["Your countries", "Sus países", "Seus países"]),
    ("home.all_countries", ["all countries", "todos los países", "todos os países"]),
    ("home.role", ["Role", "Rol", "Papel"]),
    ("common.country", ["Country", "País", "País"]),
    ("common.all", ["All", "Todos", "Todos"]),
    ("common.search", ["Search", "Buscar", "Buscar"]),
    ("common.filter", ["Filter", "Filtrar", "Filtrar"]),
    ("common.clear", ["Clear", "Limpiar", "Limpar"]),
    ("common.new", ["New", "Nuevo", "Novo"]),
    ("common.edit", ["Edit", "Editar", "Editar"]),
    ("common.save", ["Save", "Guardar", "Salvar"]),
    ("common.cancel", ["Cancel", "Cancelar", "Cancelar"]),
    ("common.delete", ["Delete", "Eliminar", "Excluir"]),
    (
        "common.confirm_delete",
        [
            "Delete this record? This cannot be undone.",
            "¿Eliminar este registro? No se puede deshacer.",
            "Excluir este registro? Não é possível desfazer.",
        ],
    ),
    ("common.download_csv", ["Download CSV", "Descargar CSV", "Baixar CSV"]),
    ("common.showing", ["Showing", "Mostrando", "Mostrando"]),
    ("common.of", ["of", "de", "de"]),
    ("common.previous", ["Previous", "Anterior", "Anterior"]),
    ("common.next", ["Next", "Siguiente", "Próxima"]),
    (
        "common.none",
        ["Nothing matches these filters.", "Nada coincide con estos filtros.", "Nada corresponde a estes filtros."],
    ),
    ("common.saved", ["Saved.", "Guardado.", "Salvo."]),
    ("common.deleted", ["Deleted.", "Eliminado.", "Excluído."]),
    ("common.restored", ["Restored.", "Restaurado.", "Restaurado."]),
    ("common.undo", ["Undo", "Deshacer", "Desfazer"]),
    ("common.imported", ["Imported.", "Importado.", "Importado."]),
    (
        "common.fix_errors",
        [
            "Please correct the fields marked below.",
            "Corrija los campos marcados abajo.",
            "Corrija os campos marcados abaixo.",
        ],
    ),
    ("common.yes", ["Yes", "Sí", "Sim"]),
    ("common.no", ["No", "No", "Não"]),
    ("common.name", ["Name", "Nombre", "Nome"]),
    ("common.code", ["Code", "Código", "Código"]),
    ("common.kind", ["Type", "Tipo", "Tipo"]),
    ("common.status", ["Status", "Estado", "Situação"]),
    ("common.active", ["Active", "Activo", "Ativo"]),
    ("common.actions", ["Actions", "Acciones", "Ações"]),
    ("common.error", ["Something went wrong", "Algo salió mal", "Algo deu errado"]),
    ("common.back_home", ["Back to the start page", "Volver al inicio", "Voltar ao início"]),
    ("country.code", ["ISO 3166-1 alpha-3", "ISO 3166-1 alfa-3", "ISO 3166-1 alfa-3"]),
    ("country.iso2", ["ISO 3166-1 alpha-2", "ISO 3166-1 alfa-2", "ISO 3166-1 alfa-2"]),
    ("country.name_en", ["Name (English)", "Nombre (inglés)", "Nome (inglês)"]),
    ("country.name_es", ["Name (Spanish)", "Nombre (español)", "Nome (espanhol)"]),
    ("country.name_pt", ["Name (Portuguese)", "Nombre (portugués)", "Nome (português)"]),
    ("country.areas", ["Admin areas", "Áreas administrativas", "Áreas administrativas"]),
    ("country.sites", ["Sites", "Sitios", "Locais"]),
    ("country.rounds", ["Rounds", "Rondas", "Rodadas"]),
    ("area.pcode", ["P-code", "P-code", "P-code"]),
    ("area.level", ["Admin level", "Nivel administrativo", "Nível administrativo"]),
    ("area.parent", ["Parent p-code", "P-code superior", "P-code superior"]),
    ("area.geometry", ["Boundary", "Límite", "Limite"]),
    (
        "area.geometry_help",
        [
            "Optional: a GeoJSON Polygon or MultiPolygon. Leave empty to keep the stored boundary.",
            "Opcional: un Polygon o MultiPolygon GeoJSON. Déjelo vacío para conservar el límite guardado.",
            "Opcional: um Polygon ou MultiPolygon GeoJSON. Deixe vazio para manter o limite salvo.",
        ],
    ),
    ("area.import", ["Import boundaries", "Importar límites", "Importar limites"]),
    ("area.import_file", ["GeoJSON file", "Archivo GeoJSON", "Arquivo GeoJSON"]),
    (
        "area.import_help",
        [
            "A FeatureCollection of Polygon or MultiPolygon features with a p-code and a name in their properties.",
            "Una FeatureCollection de Polygon o MultiPolygon con p-code y nombre en sus propiedades.",
            "Uma FeatureCollection de Polygon ou MultiPolygon com p-code e nome nas propriedades.",
        ],
    ),
    (
        "area.dissolve",
        [
            "Merge features that share a p-code",
            "Unir elementos con el mismo p-code",
            "Unir elementos com o mesmo p-code",
        ],
    ),
    ("area.replace", ["Update areas that exist already", "Actualizar áreas existentes", "Atualizar áreas existentes"]),
    (
        "area.code_property",
        [
            "Property holding the p-code (optional)",
            "Propiedad con el p-code (opcional)",
            "Propriedade com o p-code (opcional)",
        ],
    ),
    (
        "area.name_property",
        [
            "Property holding the name (optional)",
            "Propiedad con el nombre (opcional)",
            "Propriedade com o nome (opcional)",
        ],
    ),
    ("site.admin_area", ["Admin area (p-code)", "Área administrativa (p-code)", "Área administrativa (p-code)"]),
    (
        "site.admin_area_help",
        [
            "Leave empty to find it from the coordinates.",
            "Déjelo vacío para deducirla de las coordenadas.",
            "Deixe vazio para deduzi-la das coordenadas.",
        ],
    ),
    ("site.latitude", ["Latitude", "Latitud", "Latitude"]),
    ("site.longitude", ["Longitude", "Longitud", "Longitude"]),
    ("site.kind.border_crossing", ["Border crossing", "Paso fronterizo", "Passagem de fronteira"]),
    ("site.kind.bus_terminal", ["Bus terminal", "Terminal de buses", "Terminal rodoviário"]),
    ("site.kind.airport", ["Airport", "Aeropuerto", "Aeroporto"]),
    ("site.kind.shelter", ["Shelter", "Albergue", "Abrigo"]),
    ("site.kind.reception_centre", ["Reception centre", "Centro de recepción", "Centro de recepção"]),
    ("site.kind.support_space", ["Support space", "Espacio de apoyo", "Espaço de apoio"]),
    ("site.kind.community", ["Community", "Comunidad", "Comunidade"]),
    ("round.starts_on", ["Starts on", "Comienza el", "Começa em"]),
    ("round.ends_on", ["Ends on", "Termina el", "Termina em"]),
    ("round.status.planned", ["Planned", "Planificada", "Planejada"]),
    ("round.status.open", ["Open", "Abierta", "Aberta"]),
    ("round.status.closed", ["Closed", "Cerrada", "Fechada"]),
    ("org.acronym", ["Acronym", "Sigla", "Sigla"]),
    ("org.kind.un_agency", ["UN agency", "Agencia de la ONU", "Agência da ONU"]),
    ("org.kind.ingo", ["International NGO", "ONG internacional", "ONG internacional"]),
    ("org.kind.nngo", ["National NGO", "ONG nacional", "ONG nacional"]),
    ("org.kind.government", ["Government", "Gobierno", "Governo"]),
    (
        "org.kind.red_cross",
        ["Red Cross / Red Crescent", "Cruz Roja / Media Luna Roja", "Cruz Vermelha / Crescente Vermelho"],
    ),
    ("org.kind.other", ["Other", "Otra", "Outra"]),
    ("user.username", ["Username", "Usuario", "Usuário"]),
    ("user.display_name", ["Full name", "Nombre completo", "Nome completo"]),
    ("user.role", ["Role", "Rol", "Papel"]),
    ("user.organisation", ["Organisation", "Organización", "Organização"]),
    ("user.all_countries", ["All countries (regional)", "Todos los países (regional)", "Todos os países (regional)"]),
    ("user.countries", ["Countries", "Países", "Países"]),
    ("user.password", ["Password", "Contraseña", "Senha"]),
    (
        "user.password_help",
        [
            "At least 8 characters. On an existing user, leave empty to keep the password.",
            "Al menos 8 caracteres. En un usuario existente, déjelo vacío para conservarla.",
            "Pelo menos 8 caracteres. Num usuário existente, deixe vazio para mantê-la.",
        ],
    ),
    ("role.admin", ["Administrator", "Administrador/a", "Administrador/a"]),
    (
        "role.im_officer",
        ["Information-management officer", "Oficial de manejo de información", "Oficial de gestão de informação"],
    ),
    ("role.enumerator", ["Enumerator", "Encuestador/a", "Recenseador/a"]),
    ("role.caseworker", ["Caseworker", "Gestor/a de casos", "Gestor/a de casos"]),
    ("role.protection_focal_point", ["Protection focal point", "Punto focal de protección", "Ponto focal de proteção"]),
    ("role.partner_reporter", ["Partner reporter", "Reportante de socio", "Relator/a de parceiro"]),
    ("role.viewer", ["Viewer", "Lector/a", "Leitor/a"]),
    ("token.name", ["Token name", "Nombre del token", "Nome do token"]),
    (
        "token.expires_days",
        [
            "Expires after (days, empty for never)",
            "Caduca tras (días, vacío para nunca)",
            "Expira após (dias, vazio para nunca)",
        ],
    ),
    (
        "token.created",
        [
            "Copy this token now; it will not be shown again:",
            "Copie este token ahora; no se volverá a mostrar:",
            "Copie este token agora; ele não será mostrado de novo:",
        ],
    ),
    ("token.created_at", ["Created", "Creado", "Criado"]),
    ("token.expires_at", ["Expires", "Caduca", "Expira"]),
    ("token.last_used", ["Last used", "Último uso", "Último uso"]),
    ("token.revoke", ["Revoke", "Revocar", "Revogar"]),
    ("token.never", ["never", "nunca", "nunca"]),
    ("audit.at", ["When", "Cuándo", "Quando"]),
    ("audit.actor", ["Who", "Quién", "Quem"]),
    ("audit.action", ["Action", "Acción", "Ação"]),
    ("audit.entity", ["Record", "Registro", "Registro"]),
    (
        "audit.chain_ok",
        ["The audit chain is intact", "La cadena de auditoría está intacta", "A cadeia de auditoria está íntegra"],
    ),
    (
        "audit.chain_broken",
        [
            "The audit chain is broken at line",
            "La cadena de auditoría está rota en la línea",
            "A cadeia de auditoria está quebrada na linha",
        ],
    ),
    ("map.title", ["Map", "Mapa", "Mapa"]),
    ("map.legend_areas", ["admin-1 areas", "áreas de nivel 1", "áreas de nível 1"]),
    (
        "map.legend_sites",
        [
            "sites and flow-monitoring points",
            "sitios y puntos de monitoreo de flujo",
            "locais e pontos de monitoramento de fluxo",
        ],
    ),
    (
        "map.no_boundaries",
        [
            "No boundaries are stored for this country yet: import them on the admin areas page.",
            "Aún no hay límites para este país: impórtelos en la página de áreas administrativas.",
            "Ainda não há limites para este país: importe-os na página de áreas administrativas.",
        ],
    ),
    ("form.title", ["Title", "Título", "Título"]),
    ("form.form_id", ["Form id", "Id del formulario", "Id do formulário"]),
    ("form.version", ["Version", "Versión", "Versão"]),
    ("form.countries", ["Countries", "Países", "Países"]),
    ("form.open", ["Open", "Abierto", "Aberto"]),
    ("form.public", ["Public", "Público", "Público"]),
    ("form.submissions", ["Submissions", "Envíos", "Envios"]),
    ("form.updated", ["Last update", "Última actualización", "Última atualização"]),
    (
        "form.none",
        [
            "No forms yet. Upload an XLSForm below to publish one.",
            "Aún no hay formularios. Suba un XLSForm abajo para publicar uno.",
            "Ainda não há formulários. Envie um XLSForm abaixo para publicar um.",
        ],
    ),
    ("form.upload", ["Publish an XLSForm", "Publicar un XLSForm", "Publicar um XLSForm"]),
    ("form.upload_version", ["Publish a new version", "Publicar una nueva versión", "Publicar uma nova versão"]),
    ("form.upload_file", ["XLSForm file", "Archivo XLSForm", "Arquivo XLSForm"]),
    (
        "form.upload_help",
        [
            "An .xlsx, .xls, .csv or .md XLSForm. A new form_id creates a form; a known one publishes a new version (give it a new version in the settings sheet).",
            "Un XLSForm .xlsx, .xls, .csv o .md. Un form_id nuevo crea un formulario; uno conocido publica una nueva versión (con una versión nueva en la hoja settings).",
            "Um XLSForm .xlsx, .xls, .csv ou .md. Um form_id novo cria um formulário; um conhecido publica uma nova versão (com uma versão nova na planilha settings).",
        ],
    ),
    (
        "form.upload_countries",
        ["Countries of a new form", "Países de un formulario nuevo", "Países de um formulário novo"],
    ),
    (
        "form.upload_countries_help",
        [
            "Choose at least one for a new form; a new version keeps the form's countries.",
            "Elija al menos uno para un formulario nuevo; una nueva versión conserva los países del formulario.",
            "Escolha pelo menos um para um formulário novo; uma nova versão mantém os países do formulário.",
        ],
    ),
    ("form.upload_submit", ["Upload and publish", "Subir y publicar", "Enviar e publicar"]),
    (
        "form.problems",
        [
            "The XLSForm was not published. Fix these problems in the file and upload it again",
            "El XLSForm no se publicó. Corrija estos problemas en el archivo y súbalo de nuevo",
            "O XLSForm não foi publicado. Corrija estes problemas no arquivo e envie-o de novo",
        ],
    ),
    ("form.sheet", ["Sheet", "Hoja", "Planilha"]),
    ("form.row", ["Row", "Fila", "Linha"]),
    ("form.column", ["Column", "Columna", "Coluna"]),
    ("form.problem", ["Problem", "Problema", "Problema"]),
    ("form.published", ["Published.", "Publicado.", "Publicado."]),
    ("form.open_webform", ["Open web form", "Abrir formulario web", "Abrir formulário web"]),
    ("form.review", ["Review submissions", "Revisar envíos", "Revisar envios"]),
    ("form.import", ["Import submissions", "Importar envíos", "Importar envios"]),
    ("form.versions", ["Versions", "Versiones", "Versões"]),
    ("form.file", ["Files", "Archivos", "Arquivos"]),
    ("form.published_by", ["Published by", "Publicado por", "Publicado por"]),
    ("form.published_at", ["When", "Cuándo", "Quando"]),
    (
        "form.changes",
        [
            "Changes from the version before",
            "Cambios respecto a la versión anterior",
            "Mudanças em relação à versão anterior",
        ],
    ),
    ("form.current", ["current", "actual", "atual"]),
    ("form.settings", ["Settings", "Configuración", "Configurações"]),
    ("form.is_open", ["Open: accepts submissions", "Abierto: acepta envíos", "Aberto: aceita envios"]),
    (
        "form.is_public",
        [
            "Public (captive portal): anyone may submit without signing in",
            "Público (portal cautivo): cualquiera puede enviar sin iniciar sesión",
            "Público (portal cativo): qualquer pessoa pode enviar sem entrar",
        ],
    ),
    (
        "form.accept_errors",
        [
            "Accept submissions with validation errors (kept and listed for review)",
            "Aceptar envíos con errores de validación (se guardan y se listan para revisión)",
            "Aceitar envios com erros de validação (guardados e listados para revisão)",
        ],
    ),
    ("form.sites", ["Sites", "Sitios", "Locais"]),
    (
        "form.sites_help",
        [
            "Sites of the form's countries where it is used (none: any).",
            "Sitios de los países del formulario donde se usa (ninguno: cualquiera).",
            "Locais dos países do formulário onde é usado (nenhum: qualquer).",
        ],
    ),
    ("form.rounds", ["Rounds", "Rondas", "Rodadas"]),
    (
        "form.rounds_help",
        [
            "Rounds of the form's countries it belongs to (none: any).",
            "Rondas de los países del formulario a las que pertenece (ninguna: cualquiera).",
            "Rodadas dos países do formulário às quais pertence (nenhuma: qualquer).",
        ],
    ),
    ("sub.title", ["Submissions", "Envíos", "Envios"]),
    ("sub.detail", ["Submission", "Envío", "Envio"]),
    ("sub.from", ["Collected from", "Recolectado desde", "Coletado desde"]),
    ("sub.to", ["Collected until", "Recolectado hasta", "Coletado até"]),
    ("sub.site", ["Site", "Sitio", "Local"]),
    ("sub.round", ["Round", "Ronda", "Rodada"]),
    ("sub.submitter", ["Submitted by", "Enviado por", "Enviado por"]),
    ("sub.validation", ["Validation errors", "Errores de validación", "Erros de validação"]),
    ("sub.errors_yes", ["With errors", "Con errores", "Com erros"]),
    ("sub.errors_no", ["Without errors", "Sin errores", "Sem erros"]),
    ("sub.instance", ["Instance id", "Id de instancia", "Id da instância"]),
    ("sub.bin", ["Bin (deleted)", "Papelera (eliminados)", "Lixeira (excluídos)"]),
    ("sub.in_bin", ["In the bin", "En la papelera", "Na lixeira"]),
    ("sub.received", ["Received", "Recibido", "Recebido"]),
    ("sub.collected_on", ["Collected on", "Recolectado el", "Coletado em"]),
    ("sub.updated", ["Last change", "Último cambio", "Última alteração"]),
    ("sub.channel", ["Channel", "Canal", "Canal"]),
    ("sub.errors", ["Errors", "Errores", "Erros"]),
    ("sub.edits", ["Edits", "Ediciones", "Edições"]),
    ("sub.status.received", ["Received", "Recibido", "Recebido"]),
    ("sub.status.approved", ["Approved", "Aprobado", "Aprovado"]),
    ("sub.status.rejected", ["Rejected", "Rechazado", "Rejeitado"]),
    ("sub.status.flagged", ["Flagged", "Marcado", "Sinalizado"]),
    ("sub.deleted_since", ["In the bin since", "En la papelera desde", "Na lixeira desde"]),
    ("sub.review", ["Review", "Revisión", "Revisão"]),
    ("sub.note", ["Note (optional)", "Nota (opcional)", "Nota (opcional)"]),
    ("sub.approve", ["Approve", "Aprobar", "Aprovar"]),
    ("sub.reject", ["Reject", "Rechazar", "Rejeitar"]),
    ("sub.flag", ["Flag", "Marcar", "Sinalizar"]),
    ("sub.edit", ["Edit answers", "Editar respuestas", "Editar respostas"]),
    ("sub.delete", ["Move to the bin", "Mover a la papelera", "Mover para a lixeira"]),
    (
        "sub.confirm_delete",
        [
            "Move this submission to the bin? It can be restored.",
            "¿Mover este envío a la papelera? Se puede restaurar.",
            "Mover este envio para a lixeira? Ele pode ser restaurado.",
        ],
    ),
    ("sub.restore", ["Restore", "Restaurar", "Restaurar"]),
    ("sub.answers", ["Answers", "Respuestas", "Respostas"]),
    ("sub.no_answer", ["(no answer)", "(sin respuesta)", "(sem resposta)"]),
    ("sub.validation_errors", ["Validation errors", "Errores de validación", "Erros de validação"]),
    ("sub.attachments", ["Attachments", "Adjuntos", "Anexos"]),
    ("sub.versions", ["Earlier versions", "Versiones anteriores", "Versões anteriores"]),
    ("sub.replaced_by", ["Replaced by", "Reemplazada por", "Substituída por"]),
    ("sub.replaced_at", ["When", "Cuándo", "Quando"]),
    ("sub.reason", ["Reason for the edit", "Motivo de la edición", "Motivo da edição"]),
    (
        "sub.reason_help",
        [
            "Required. Kept with the earlier version and in the audit log.",
            "Obligatorio. Se guarda con la versión anterior y en el registro de auditoría.",
            "Obrigatório. Guardado com a versão anterior e no registro de auditoria.",
        ],
    ),
    (
        "sub.reason_required",
        ["say why the submission is edited", "indique por qué se edita el envío", "diga por que o envio é editado"],
    ),
    (
        "sub.edit_help",
        [
            "One field per answer. Empty means no answer. The answers are checked against the form again; the earlier version is kept.",
            "Un campo por respuesta. Vacío significa sin respuesta. Las respuestas se verifican de nuevo con el formulario; se conserva la versión anterior.",
            "Um campo por resposta. Vazio significa sem resposta. As respostas são verificadas de novo com o formulário; a versão anterior é mantida.",
        ],
    ),
    (
        "sub.json_help",
        [
            "Repeats, lists and points are edited as JSON.",
            "Las repeticiones, listas y puntos se editan como JSON.",
            "Repetições, listas e pontos são editados como JSON.",
        ],
    ),
    ("sub.xml", ["XML as stored", "XML guardado", "XML armazenado"]),
    ("import.title", ["Import submissions", "Importar envíos", "Importar envios"]),
    (
        "import.intro",
        [
            "Upload a CSV or Excel file with one submission per row (a KoboToolbox or ODK export works as it is). Start with a dry run: it checks every row and writes nothing.",
            "Suba un archivo CSV o Excel con un envío por fila (una exportación de KoboToolbox u ODK sirve tal cual). Empiece con una prueba: revisa cada fila y no guarda nada.",
            "Envie um arquivo CSV ou Excel com um envio por linha (uma exportação do KoboToolbox ou ODK serve como está). Comece com um teste: ele verifica cada linha e não grava nada.",
        ],
    ),
    ("import.file", ["File (CSV, XLSX or XLS)", "Archivo (CSV, XLSX o XLS)", "Arquivo (CSV, XLSX ou XLS)"]),
    (
        "import.file_help",
        [
            "The first row names the columns: question names, group paths (group/question) or labels. At most 100,000 rows and 50 MB.",
            "La primera fila nombra las columnas: nombres de preguntas, rutas de grupo (grupo/pregunta) o etiquetas. Máximo 100.000 filas y 50 MB.",
            "A primeira linha nomeia as colunas: nomes de perguntas, caminhos de grupo (grupo/pergunta) ou rótulos. No máximo 100.000 linhas e 50 MB.",
        ],
    ),
    (
        "import.mapping",
        [
            "Column mapping (optional)",
            "Correspondencia de columnas (opcional)",
            "Correspondência de colunas (opcional)",
        ],
    ),
    (
        "import.mapping_help",
        [
            "One line per column: column=field to choose the question, or column= to leave the column out. Other columns are matched automatically.",
            "Una línea por columna: columna=campo para elegir la pregunta, o columna= para dejar la columna fuera. Las demás columnas se emparejan solas.",
            "Uma linha por coluna: coluna=campo para escolher a pergunta, ou coluna= para deixar a coluna de fora. As demais colunas são associadas automaticamente.",
        ],
    ),
    ("import.mode", ["What to do", "Qué hacer", "O que fazer"]),
    (
        "import.mode_dry_run",
        [
            "Dry run: check every row, write nothing",
            "Prueba: revisar cada fila sin guardar nada",
            "Teste: verificar cada linha sem gravar nada",
        ],
    ),
    ("import.mode_all", ["Import all or nothing", "Importar todo o nada", "Importar tudo ou nada"]),
    (
        "import.mode_valid",
        ["Import only the valid rows", "Importar solo las filas válidas", "Importar apenas as linhas válidas"],
    ),
    ("import.start", ["Start", "Iniciar", "Iniciar"]),
    ("import.phase_checking", ["Checking rows", "Revisando filas", "Verificando linhas"]),
    ("import.phase_storing", ["Storing", "Guardando", "Gravando"]),
    ("import.phase_done", ["Finished", "Terminado", "Concluído"]),
    ("import.phase_failed", ["Failed", "Falló", "Falhou"]),
    ("import.checked", ["checked", "revisadas", "verificadas"]),
    ("import.stored", ["stored", "guardadas", "gravadas"]),
    ("import.rows", ["Rows", "Filas", "Linhas"]),
    ("import.valid", ["Valid", "Válidas", "Válidas"]),
    ("import.invalid", ["Invalid", "Inválidas", "Inválidas"]),
    ("import.created", ["Imported", "Importadas", "Importadas"]),
    ("import.duplicates", ["Imported before", "Importadas antes", "Importadas antes"]),
    ("import.skipped", ["Skipped", "Omitidas", "Ignoradas"]),
    ("import.row", ["Row", "Fila", "Linha"]),
    ("import.column", ["Column", "Columna", "Coluna"]),
    ("import.field", ["Field", "Campo", "Campo"]),
    ("import.message", ["Problem", "Problema", "Problema"]),
    ("import.how", ["Matched by", "Emparejada por", "Associada por"]),
    ("import.mapping_used", ["Columns and fields", "Columnas y campos", "Colunas e campos"]),
    ("import.unmapped", ["Columns not matched to any question", "Columnas sin pregunta", "Colunas sem pergunta"]),
    ("import.missing_fields", ["Questions without a column", "Preguntas sin columna", "Perguntas sem coluna"]),
    (
        "import.not_importable",
        [
            "Columns that cannot be imported from a flat file (repeats)",
            "Columnas que no se pueden importar de un archivo plano (repeticiones)",
            "Colunas que não podem ser importadas de um arquivo plano (repetições)",
        ],
    ),
    ("import.errors", ["Problems by row", "Problemas por fila", "Problemas por linha"]),
    ("import.no_errors", ["No problems found.", "No se encontraron problemas.", "Nenhum problema encontrado."]),
    (
        "import.truncated",
        [
            "Only the first problems are listed.",
            "Solo se listan los primeros problemas.",
            "Apenas os primeiros problemas são listados.",
        ],
    ),
    ("import.run_all", ["Import all or nothing", "Importar todo o nada", "Importar tudo ou nada"]),
    ("import.run_valid", ["Import the valid rows", "Importar las filas válidas", "Importar as linhas válidas"]),
    (
        "import.nothing_written",
        ["Dry run: nothing was written.", "Prueba: no se guardó nada.", "Teste: nada foi gravado."],
    ),
    ("import.refused", ["Refused:", "Rechazada:", "Recusada:"]),
    ("error.forbidden", ["You may not do this", "No tiene permiso para esto", "Você não tem permissão para isto"]),
    ("error.not_found", ["Not found", "No encontrado", "Não encontrado"]),
    (
        "error.csrf",
        [
            "This form has expired or was sent from another site. Reload the page and try again.",
            "Este formulario caducó o se envió desde otro sitio. Recargue la página e inténtelo de nuevo.",
            "Este formulário expirou ou foi enviado de outro site. Recarregue a página e tente novamente.",
        ],
    ),
    ("exports.title", ["Exports", "Exportaciones", "Exportações"]),
    (
        "exports.help",
        [
            "Exports of submissions written in the background, however many there are. Rows come from your countries; answers marked sensitive are in the file only if your role reviews submissions. Start one from a form's submissions; every export and download is in the audit log.",
            "Exportaciones de envíos escritas en segundo plano, sean cuantos sean. Las filas son de sus países; las respuestas marcadas como sensibles van en el archivo solo si su rol revisa envíos. Inicie una desde los envíos de un formulario; cada exportación y descarga queda en el registro de auditoría.",
            "Exportações de envios gravadas em segundo plano, quantos forem. As linhas são dos seus países; as respostas marcadas como sensíveis vão no arquivo só se a sua função revisa envios. Inicie uma a partir dos envios de um formulário; cada exportação e download fica no registro de auditoria.",
        ],
    ),
    (
        "exports.none",
        [
            "No exports yet: start one from a form's submissions.",
            "Aún no hay exportaciones: inicie una desde los envíos de un formulario.",
            "Ainda não há exportações: inicie uma a partir dos envios de um formulário.",
        ],
    ),
    (
        "exports.start",
        ["Export all (background)", "Exportar todo (en segundo plano)", "Exportar tudo (em segundo plano)"],
    ),
    ("exports.list", ["My exports", "Mis exportaciones", "Minhas exportações"]),
    ("exports.form", ["Form", "Formulario", "Formulário"]),
    ("exports.progress", ["Progress (rows)", "Avance (filas)", "Progresso (linhas)"]),
    ("exports.size", ["Size", "Tamaño", "Tamanho"]),
    ("exports.sensitive", ["Sensitive answers", "Respuestas sensibles", "Respostas sensíveis"]),
    ("exports.sensitive_include", ["included", "incluidas", "incluídas"]),
    ("exports.sensitive_drop", ["left out", "excluidas", "excluídas"]),
    ("exports.created", ["Started", "Iniciada", "Iniciada"]),
    ("exports.download", ["Download", "Descargar", "Baixar"]),
    ("exports.cancel", ["Cancel", "Cancelar", "Cancelar"]),
    ("exports.status.queued", ["Queued", "En cola", "Na fila"]),
    ("exports.status.running", ["Running", "En curso", "Em andamento"]),
    ("exports.status.done", ["Done", "Terminada", "Concluída"]),
    ("exports.status.failed", ["Failed", "Falló", "Falhou"]),
    ("exports.status.cancelled", ["Cancelled", "Cancelada", "Cancelada"]),
    // ---- complaints and feedback (cfm./fb.) ----
    ("cfm.nav", ["Feedback", "Quejas y sugerencias", "Reclamações e sugestões"]),
    ("fb.list.title", ["Complaints and feedback", "Quejas y retroalimentación", "Reclamações e feedback"]),
    ("fb.new.title", ["Take in feedback", "Registrar retroalimentación", "Registrar feedback"]),
    ("fb.detail.title", ["Feedback item", "Retroalimentación", "Feedback"]),
    ("fb.trends.title", ["Feedback trends", "Tendencias de la retroalimentación", "Tendências do feedback"]),
    (
        "fb.public.title",
        [
            "Tell us: questions, complaints, suggestions",
            "Cuéntenos: preguntas, quejas, sugerencias",
            "Conte para nós: perguntas, reclamações, sugestões",
        ],
    ),
    (
        "fb.status.title",
        [
            "Check the answer to my message",
            "Consultar la respuesta a mi mensaje",
            "Consultar a resposta à minha mensagem",
        ],
    ),
    ("fb.status.check", ["Check", "Consultar", "Consultar"]),
    (
        "fb.status.not_found",
        [
            "No message has this reference. Check it letter by letter.",
            "Ningún mensaje tiene esta referencia. Revísela letra por letra.",
            "Nenhuma mensagem tem esta referência. Confira letra por letra.",
        ],
    ),
    (
        "fb.public.lead",
        [
            "Anyone can write to the teams of the response, without signing in. You may stay anonymous.",
            "Cualquier persona puede escribir a los equipos de la respuesta, sin registrarse. Puede quedar en el anonimato.",
            "Qualquer pessoa pode escrever às equipes da resposta, sem se registrar. Você pode ficar no anonimato.",
        ],
    ),
    (
        "fb.public.privacy",
        [
            "Your message is stored encrypted and read only by the staff who handle it. A report of sexual exploitation or abuse is read only by the protection focal point.",
            "Su mensaje se guarda cifrado y solo lo lee el personal que lo atiende. Una denuncia de explotación o abuso sexual solo la lee el punto focal de protección.",
            "Sua mensagem é guardada criptografada e só é lida pela equipe que a atende. Uma denúncia de exploração ou abuso sexual só é lida pelo ponto focal de proteção.",
        ],
    ),
    (
        "fb.public.psea_help",
        [
            "If someone working for an organisation asked you for anything in exchange for help, choose “Sexual exploitation or abuse”: only the protection focal point will read it.",
            "Si alguien que trabaja para una organización le pidió algo a cambio de ayuda, elija «Explotación o abuso sexual»: solo lo leerá el punto focal de protección.",
            "Se alguém que trabalha para uma organização pediu algo em troca de ajuda, escolha «Exploração ou abuso sexual»: só o ponto focal de proteção vai ler.",
        ],
    ),
    ("fb.public.send", ["Send", "Enviar", "Enviar"]),
    (
        "fb.public.contact_help",
        [
            "A phone number or an e-mail address, only if you want us to answer you; stored encrypted.",
            "Un teléfono o un correo, solo si quiere que le respondamos; se guarda cifrado.",
            "Um telefone ou um e-mail, só se quiser que respondamos; guardado criptografado.",
        ],
    ),
    (
        "fb.public.thanks",
        [
            "Thank you: your message was received.",
            "Gracias: recibimos su mensaje.",
            "Obrigado: recebemos sua mensagem.",
        ],
    ),
    (
        "fb.public.keep_reference",
        [
            "Keep this reference to read our answer:",
            "Guarde esta referencia para leer nuestra respuesta:",
            "Guarde esta referência para ler nossa resposta:",
        ],
    ),
    ("fb.public.back", ["Public data", "Datos públicos", "Dados públicos"]),
    (
        "fb.public.link",
        [
            "Questions, complaints or suggestions? Write to us",
            "¿Preguntas, quejas o sugerencias? Escríbanos",
            "Perguntas, reclamações ou sugestões? Escreva para nós",
        ],
    ),
    ("fb.field.country_code", ["Country where you are", "País donde está", "País onde você está"]),
    ("fb.field.site_id", ["Place (optional)", "Lugar (opcional)", "Local (opcional)"]),
    ("fb.field.category", ["What is it about?", "¿De qué se trata?", "Do que se trata?"]),
    ("fb.field.sector", ["Which service?", "¿Qué servicio?", "Qual serviço?"]),
    ("fb.field.body", ["Your message", "Su mensaje", "Sua mensagem"]),
    (
        "fb.field.contact",
        [
            "How can we reach you? (optional)",
            "¿Cómo podemos contactarle? (opcional)",
            "Como podemos falar com você? (opcional)",
        ],
    ),
    ("fb.field.channel", ["Channel", "Canal", "Canal"]),
    ("fb.reference", ["Reference", "Referencia", "Referência"]),
    ("fb.received", ["Received", "Recibido", "Recebido"]),
    ("fb.site", ["Site", "Sitio", "Local"]),
    ("fb.channel", ["Channel", "Canal", "Canal"]),
    ("fb.category", ["Category", "Categoría", "Categoria"]),
    ("fb.sector", ["Sector", "Sector", "Setor"]),
    ("fb.status", ["Status", "Estado", "Situação"]),
    ("fb.assigned_to", ["Assigned to", "Asignado a", "Atribuído a"]),
    ("fb.assigned_me", ["Me", "A mí", "A mim"]),
    ("fb.due_on", ["Answer by", "Responder antes del", "Responder até"]),
    ("fb.overdue", ["Overdue", "Vencido", "Atrasado"]),
    ("fb.body", ["Message", "Mensaje", "Mensagem"]),
    ("fb.contact", ["Contact", "Contacto", "Contato"]),
    (
        "fb.contact_help",
        [
            "A phone number or an e-mail address, only if the person wants an answer; stored encrypted.",
            "Un teléfono o un correo, solo si la persona quiere respuesta; se guarda cifrado.",
            "Um telefone ou um e-mail, só se a pessoa quiser resposta; guardado criptografado.",
        ],
    ),
    ("fb.wants_reply", ["I want an answer", "Quiero una respuesta", "Quero uma resposta"]),
    ("fb.response", ["Answer", "Respuesta", "Resposta"]),
    (
        "fb.response_help",
        [
            "The person reads this answer with her reference: write it for her.",
            "La persona lee esta respuesta con su referencia: escríbala para ella.",
            "A pessoa lê esta resposta com sua referência: escreva para ela.",
        ],
    ),
    ("fb.closed_at", ["Closed", "Cerrado", "Encerrado"]),
    ("fb.loop_closed", ["the person was told", "se informó a la persona", "a pessoa foi informada"]),
    (
        "fb.loop_not_closed",
        ["the person could not be reached", "no se pudo contactar a la persona", "não foi possível contatar a pessoa"],
    ),
    (
        "fb.told_person",
        [
            "The person was told the answer",
            "Se comunicó la respuesta a la persona",
            "A resposta foi comunicada à pessoa",
        ],
    ),
    ("fb.satisfaction", ["Satisfaction (1–5)", "Satisfacción (1–5)", "Satisfação (1–5)"]),
    ("fb.from_public", ["public web form", "formulario web público", "formulário web público"]),
    ("fb.history", ["History", "Historial", "Histórico"]),
    (
        "fb.psea_help",
        [
            "An allegation of sexual exploitation or abuse is visible only to the protection focal point of the country.",
            "Una denuncia de explotación o abuso sexual solo la ve el punto focal de protección del país.",
            "Uma denúncia de exploração ou abuso sexual só é vista pelo ponto focal de proteção do país.",
        ],
    ),
    ("fb.action.create", ["Taken in", "Registrado", "Registrado"]),
    ("fb.action.assign", ["Assign", "Asignar", "Atribuir"]),
    ("fb.action.respond", ["Answer", "Responder", "Responder"]),
    ("fb.action.close", ["Close the loop", "Cerrar el ciclo", "Fechar o ciclo"]),
    ("fb.channel.web", ["Web form", "Formulario web", "Formulário web"]),
    ("fb.channel.hotline", ["Hotline", "Línea telefónica", "Linha telefônica"]),
    ("fb.channel.box", ["Feedback box", "Buzón", "Caixa de sugestões"]),
    ("fb.channel.face_to_face", ["Face to face", "En persona", "Pessoalmente"]),
    ("fb.category.information_request", ["Information request", "Solicitud de información", "Pedido de informação"]),
    ("fb.category.complaint", ["Complaint", "Queja", "Reclamação"]),
    ("fb.category.suggestion", ["Suggestion", "Sugerencia", "Sugestão"]),
    ("fb.category.thanks", ["Thanks", "Agradecimiento", "Agradecimento"]),
    ("fb.category.psea", ["Sexual exploitation or abuse", "Explotación o abuso sexual", "Exploração ou abuso sexual"]),
    ("fb.category.fraud", ["Fraud", "Fraude", "Fraude"]),
    ("fb.sector.health", ["Health", "Salud", "Saúde"]),
    (
        "fb.sector.mhpss",
        [
            "Mental health and psychosocial support",
            "Salud mental y apoyo psicosocial",
            "Saúde mental e apoio psicossocial",
        ],
    ),
    ("fb.sector.shelter", ["Shelter", "Alojamiento", "Abrigo"]),
    ("fb.sector.legal", ["Legal aid", "Asistencia legal", "Assistência jurídica"]),
    ("fb.sector.cash", ["Cash assistance", "Transferencias monetarias", "Transferências monetárias"]),
    ("fb.sector.child_protection", ["Child protection", "Protección de la niñez", "Proteção da criança"]),
    ("fb.sector.gbv", ["Gender-based violence", "Violencia basada en género", "Violência baseada em gênero"]),
    ("fb.sector.livelihoods", ["Livelihoods", "Medios de vida", "Meios de vida"]),
    ("fb.sector.education", ["Education", "Educación", "Educação"]),
    ("fb.sector.food", ["Food", "Alimentación", "Alimentação"]),
    ("fb.sector.wash", ["Water and sanitation", "Agua y saneamiento", "Água e saneamento"]),
    ("fb.sector.other", ["Other", "Otro", "Outro"]),
    ("fb.status.new", ["New", "Nuevo", "Novo"]),
    ("fb.status.assigned", ["Assigned", "Asignado", "Atribuído"]),
    ("fb.status.responded", ["Answered", "Respondido", "Respondido"]),
    ("fb.status.closed", ["Closed", "Cerrado", "Encerrado"]),
    (
        "fb.public_status.new",
        ["Received, waiting to be read", "Recibido, en espera de lectura", "Recebido, aguardando leitura"],
    ),
    ("fb.public_status.assigned", ["Being looked into", "En revisión", "Em análise"]),
    ("fb.public_status.responded", ["Answered", "Respondido", "Respondido"]),
    ("fb.public_status.closed", ["Answered and closed", "Respondido y cerrado", "Respondido e encerrado"]),
    (
        "fb.trends.psea_note",
        [
            "Allegations of sexual exploitation or abuse are never counted on this page, whoever reads it: the protection focal point follows them in the list.",
            "Las denuncias de explotación o abuso sexual nunca se cuentan en esta página, la lea quien la lea: el punto focal de protección las sigue en la lista.",
            "As denúncias de exploração ou abuso sexual nunca são contadas nesta página, seja quem for que a leia: o ponto focal de proteção as acompanha na lista.",
        ],
    ),
    ("fb.trends.total", ["Items", "Mensajes", "Mensagens"]),
    ("fb.trends.on_time", ["Answered within the deadline", "Respondidos a tiempo", "Respondidos no prazo"]),
    ("fb.trends.overdue", ["Waiting past the deadline", "Vencidos sin respuesta", "Atrasados sem resposta"]),
    ("fb.trends.satisfaction", ["Average satisfaction (1–5)", "Satisfacción media (1–5)", "Satisfação média (1–5)"]),
    (
        "fb.trends.by_month",
        ["Items per month and category", "Mensajes por mes y categoría", "Mensagens por mês e categoria"],
    ),
    ("fb.trends.by_category", ["By category", "Por categoría", "Por categoria"]),
    ("fb.trends.by_channel", ["By channel", "Por canal", "Por canal"]),
    ("fb.trends.by_sector", ["By sector", "Por sector", "Por setor"]),
    // ---- service directory ----
    ("svc.nav", ["Services", "Servicios", "Serviços"]),
    ("svc.title", ["Service directory", "Directorio de servicios", "Diretório de serviços"]),
    ("svc.new", ["New service", "Nuevo servicio", "Novo serviço"]),
    ("svc.edit", ["Edit service", "Editar servicio", "Editar serviço"]),
    ("svc.sector", ["Sector", "Sector", "Setor"]),
    ("svc.sector.health", ["Health", "Salud", "Saúde"]),
    (
        "svc.sector.mhpss",
        [
            "Mental health and psychosocial support",
            "Salud mental y apoyo psicosocial",
            "Saúde mental e apoio psicossocial",
        ],
    ),
    ("svc.sector.shelter", ["Shelter", "Alojamiento", "Abrigo"]),
    ("svc.sector.legal", ["Legal assistance", "Asistencia legal", "Assistência jurídica"]),
    ("svc.sector.cash", ["Cash assistance", "Transferencias monetarias", "Transferências monetárias"]),
    ("svc.sector.child_protection", ["Child protection", "Protección de la niñez", "Proteção da criança"]),
    ("svc.sector.gbv", ["Gender-based violence", "Violencia basada en género", "Violência baseada em gênero"]),
    ("svc.sector.livelihoods", ["Livelihoods and jobs", "Medios de vida y empleo", "Meios de vida e emprego"]),
    ("svc.organisation", ["Organisation", "Organización", "Organização"]),
    (
        "svc.admin1",
        ["Admin 1 (state, department…)", "Admin 1 (estado, departamento…)", "Admin 1 (estado, departamento…)"],
    ),
    ("svc.site", ["Site", "Sitio", "Local"]),
    ("svc.latitude", ["Latitude", "Latitud", "Latitude"]),
    ("svc.longitude", ["Longitude", "Longitud", "Longitude"]),
    (
        "svc.coordinates_help",
        [
            "Decimal degrees, e.g. 7.8939 and -72.5078; left empty, the site's are used.",
            "Grados decimales, p. ej. 7.8939 y -72.5078; si se dejan vacías, se usan las del sitio.",
            "Graus decimais, p. ex. 7.8939 e -72.5078; se ficarem vazias, usam-se as do local.",
        ],
    ),
    ("svc.address", ["Address", "Dirección", "Endereço"]),
    ("svc.eligibility", ["Who can use it", "Quién puede acudir", "Quem pode usar"]),
    (
        "svc.eligibility_help",
        [
            "Age, sex, status, documents needed; say so when no document is needed.",
            "Edad, sexo, situación, documentos necesarios; dígalo cuando no se pide ningún documento.",
            "Idade, sexo, situação, documentos necessários; diga quando nenhum documento é pedido.",
        ],
    ),
    ("svc.contact", ["Contact", "Contacto", "Contato"]),
    ("svc.hours", ["Opening hours", "Horario", "Horário"]),
    ("svc.languages", ["Languages", "Idiomas", "Idiomas"]),
    ("svc.public", ["Listed on the public page", "Visible en la página pública", "Visível na página pública"]),
    ("svc.public_short", ["Public", "Público", "Público"]),
    ("svc.only_active", ["Open", "Abiertos", "Abertos"]),
    ("svc.only_inactive", ["Deactivated", "Desactivados", "Desativados"]),
    ("svc.deactivate", ["Deactivate", "Desactivar", "Desativar"]),
    ("svc.reactivate", ["Reactivate", "Reactivar", "Reativar"]),
    (
        "svc.confirm_deactivate",
        [
            "Deactivate this service? It stays in the directory, closed, and can be reactivated.",
            "¿Desactivar este servicio? Queda en el directorio, cerrado, y puede reactivarse.",
            "Desativar este serviço? Ele fica no diretório, fechado, e pode ser reativado.",
        ],
    ),
    (
        "svc.confirm_reactivate",
        ["Open this service again?", "¿Abrir de nuevo este servicio?", "Abrir este serviço de novo?"],
    ),
    ("svc.public_title", ["Services near you", "Servicios cerca de usted", "Serviços perto de você"]),
    (
        "svc.public_lead",
        [
            "Services for migrants and refugees: choose your country and what you need; give where you are to see the nearest first.",
            "Servicios para personas migrantes y refugiadas: elija su país y lo que necesita; indique dónde está para ver primero los más cercanos.",
            "Serviços para pessoas migrantes e refugiadas: escolha seu país e o que precisa; indique onde está para ver primeiro os mais próximos.",
        ],
    ),
    ("svc.need", ["What do you need?", "¿Qué necesita?", "Do que você precisa?"]),
    ("svc.any_need", ["Any service", "Cualquier servicio", "Qualquer serviço"]),
    ("svc.use_location", ["Use my location", "Usar mi ubicación", "Usar minha localização"]),
    ("svc.find", ["Find services", "Buscar servicios", "Buscar serviços"]),
    (
        "svc.where_help",
        [
            "Your location is only used for this search; it is not stored.",
            "Su ubicación solo se usa para esta búsqueda; no se guarda.",
            "Sua localização só é usada para esta busca; não é guardada.",
        ],
    ),
    (
        "svc.location_failed",
        [
            "Your location could not be read: type the coordinates or choose an area.",
            "No se pudo leer su ubicación: escriba las coordenadas o elija un área.",
            "Não foi possível ler sua localização: digite as coordenadas ou escolha uma área.",
        ],
    ),
    ("svc.nearest_first", ["nearest first", "los más cercanos primero", "os mais próximos primeiro"]),
    (
        "svc.none_found",
        [
            "No service matches: try another need or another area.",
            "Ningún servicio coincide: pruebe otra necesidad u otra área.",
            "Nenhum serviço corresponde: tente outra necessidade ou outra área.",
        ],
    ),
    (
        "svc.choose",
        [
            "Choose a country, or give your location, to see services.",
            "Elija un país, o indique su ubicación, para ver servicios.",
            "Escolha um país, ou indique sua localização, para ver serviços.",
        ],
    ),
    (
        "svc.public_link",
        [
            "Services near you: health, shelter, legal aid…",
            "Servicios cerca de usted: salud, alojamiento, asistencia legal…",
            "Serviços perto de você: saúde, abrigo, assistência jurídica…",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_translated_and_keys_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (key, texts) in all_texts() {
            assert!(seen.insert(key), "duplicate key {key}");
            assert!(texts.iter().all(|t| !t.trim().is_empty()), "{key} has an empty translation");
        }
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, "fr-FR,pt-BR;q=0.8,es;q=0.9".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::Es);
        h.insert(header::COOKIE, "rumbo_lang=pt".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::Pt);
        assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::En);
    }
}
