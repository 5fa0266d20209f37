"""What the scripts writing Rumbo's demo XLSForms share: the languages, a small form
builder (survey rows, choice lists, settings), the choice lists several forms use
with the same codes, what they read from the demo seed (countries, flow-monitoring
points, admin-1 areas) and a writer that gives the same bytes for the same form.

Not run on its own; see make_flow_monitoring.py, make_fmr.py and make_baseline.py.
"""

import datetime
import json
import pathlib
import re
import zipfile

from openpyxl import Workbook
from openpyxl.styles import Font

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEMO_RS = ROOT / "crates" / "domain" / "src" / "demo.rs"
ADMIN1_GEOJSON = ROOT / "data" / "boundaries" / "ne_10m_admin1_lac18.geojson"

ES, PT, EN = "Español (es)", "Português (pt)", "English (en)"
LANGUAGES = (ES, PT, EN)


# ------------------------------------------------------------ the demo seed

def demo_countries_and_sites():
    """COUNTRIES (alpha-3 -> (en, es, pt)) and FMP sites [(code, country, name)] of demo.rs."""
    source = DEMO_RS.read_text(encoding="utf-8")
    countries = {}
    for code, _iso2, en, es, pt in re.findall(
        r'\("([A-Z]{3})", "([A-Z]{2})", "([^"]*)", "([^"]*)", "([^"]*)"\)', source
    ):
        countries[code] = (en, es, pt)
    block = source.split("pub const FLOW_MONITORING_POINTS", 1)[1].split("];", 1)[0]
    sites, counters = [], {}
    for country, name in re.findall(r'\("([A-Z]{3})", "([^"]*)", (?:AIR|BC|BUS|RC|SH|SS),', block):
        counters[country] = counters.get(country, 0) + 1
        sites.append((f"{country}-FMP-{counters[country]:03}", country, name))
    if len(countries) != 18 or len(sites) < 50:
        raise SystemExit(f"demo.rs not read as expected: {len(countries)} countries, {len(sites)} sites")
    return countries, sites


def demo_admin1_areas():
    """The admin-1 areas the demo imports, [(country, pcode, name)] in file order.

    The demo reads the boundaries with `read_boundaries` (crates/domain/src/boundaries.rs):
    the p-code is the `iso3166_2_isocodes` property, the country `adm0_a3`, the name
    `name`; features sharing a p-code are merged and the one with most vertices names the
    area. Where Natural Earth has no name, or the same name for two areas of a country
    (Peru's `Callao` for Puno), the ISO 3166-2 name is used instead.
    """
    features = json.loads(ADMIN1_GEOJSON.read_text(encoding="utf-8"))["features"]
    areas = {}
    for feature in features:
        props = feature["properties"]
        pcode = (props.get("iso3166_2_isocodes") or "").strip()
        if not pcode:
            raise SystemExit(f"an admin-1 feature has no p-code: {props.get('name')}")
        vertices = sum(len(ring) for polygon in _polygons(feature["geometry"]) for ring in polygon)
        kept = areas.get(pcode)
        if kept is None or vertices > kept["vertices"]:
            areas[pcode] = {
                "country": props["adm0_a3"].upper(),
                "order": kept["order"] if kept else len(areas),
                "vertices": vertices,
                "name": (props.get("name") or "").strip(),
                "iso_name": (props.get("iso3166_2_name_isocodes") or "").strip(),
            }
    by_country_name = {}
    for area in areas.values():
        by_country_name.setdefault((area["country"], area["name"]), []).append(area)
    result = []
    for pcode, area in sorted(areas.items(), key=lambda item: item[1]["order"]):
        name = area["name"]
        if not name or len(by_country_name[(area["country"], name)]) > 1:
            name = area["iso_name"] or name or pcode
        result.append((area["country"], pcode, name))
    return result


def _polygons(geometry):
    if not geometry:
        return []
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return geometry["coordinates"]


# ------------------------------------------------------------ a form builder

SURVEY_COLUMNS = (
    ["type", "name"]
    + [f"label::{lang}" for lang in LANGUAGES]
    + [f"hint::{lang}" for lang in LANGUAGES]
    + ["required", "relevant", "constraint"]
    + [f"constraint_message::{lang}" for lang in LANGUAGES]
    + ["calculation", "choice_filter", "repeat_count", "appearance", "sensitive"]
)
CHOICE_COLUMNS = ["list_name", "name"] + [f"label::{lang}" for lang in LANGUAGES] + ["country"]


class XLSForm:
    """The rows of one XLSForm's survey and choices sheets."""

    def __init__(self):
        self.survey = []
        self.choices = []

    def row(self, type_, name, label=None, hint=None, required=None, relevant=None, constraint=None,
            message=None, calculation=None, choice_filter=None, repeat_count=None,
            appearance=None, sensitive=False):
        """One survey row; label, hint and message are (es, pt, en) triples."""
        cells = {"type": type_, "name": name}
        for column, texts in (("label", label), ("hint", hint), ("constraint_message", message)):
            if texts:
                for lang, text in zip(LANGUAGES, texts):
                    cells[f"{column}::{lang}"] = text
        cells.update(required=required, relevant=relevant, constraint=constraint,
                     calculation=calculation, choice_filter=choice_filter,
                     repeat_count=repeat_count, appearance=appearance,
                     sensitive="yes" if sensitive else None)
        self.survey.append(cells)

    def question(self, type_, name, label, **kwargs):
        """A required question unless told otherwise."""
        kwargs.setdefault("required", "yes")
        self.row(type_, name, label, **kwargs)

    def calculate(self, name, calculation, **kwargs):
        self.row("calculate", name, calculation=calculation, **kwargs)

    def begin_group(self, name, label, relevant=None, appearance=None):
        self.row("begin_group", name, label, relevant=relevant, appearance=appearance)

    def end_group(self):
        self.row("end_group", "")

    def begin_repeat(self, name, label, repeat_count=None):
        self.row("begin_repeat", name, label, repeat_count=repeat_count)

    def end_repeat(self):
        self.row("end_repeat", "")

    def choice_list(self, list_name, items):
        """items: (name, es, pt, en)."""
        for name, es, pt, en in items:
            self.choices.append({"list_name": list_name, "name": name,
                                 f"label::{ES}": es, f"label::{PT}": pt, f"label::{EN}": en})

    def filtered_list(self, list_name, items):
        """items: (name, country, es, pt, en): a list filtered on its `country` column."""
        for name, country, es, pt, en in items:
            self.choices.append({"list_name": list_name, "name": name, f"label::{ES}": es,
                                 f"label::{PT}": pt, f"label::{EN}": en, "country": country})

    def field_count(self):
        return sum(1 for cells in self.survey
                   if not cells["type"].startswith(("begin_", "end_")) and cells["name"])

    def write(self, output, settings, created=datetime.datetime(2026, 11, 28)):
        """Writes the workbook; the same form always gives the same bytes."""
        workbook = Workbook()
        workbook.remove(workbook.active)
        _write_sheet(workbook, "survey", SURVEY_COLUMNS, self.survey)
        _write_sheet(workbook, "choices", CHOICE_COLUMNS, self.choices)
        _write_sheet(workbook, "settings", list(settings), [settings])
        workbook.properties.created = created
        workbook.properties.creator = "Rumbo"
        workbook.save(output)
        _normalise_zip(output, (created.year, created.month, created.day, 0, 0, 0))


def _write_sheet(workbook, title, columns, rows):
    sheet = workbook.create_sheet(title)
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cells in rows:
        sheet.append([cells.get(column) for column in columns])
    sheet.freeze_panes = "A2"
    return sheet


def _normalise_zip(path, date_time):
    """Rewrites the workbook's zip entries with a fixed time, so that the bytes only
    change when the form does."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for name, data in entries:
            if name == "docProps/core.xml":
                # openpyxl stamps the time of saving; keep the creation date instead.
                stamp = "%04d-%02d-%02dT00:00:00Z" % date_time[:3]
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", lambda m: m.group(1) + stamp.encode(), data)
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)


# ------------------------------------------------ choice lists shared by forms
# The same codes in every form, so that the answers of one can be read with another's.

def countries_fmp(form, countries, list_name="countries_fmp"):
    """The 18 countries of the demo."""
    form.choice_list(list_name, [(code, es, pt, en) for code, (en, es, pt) in countries.items()])


def sites(form, sites_):
    """The demo's flow-monitoring points by code, filtered on `country`."""
    form.filtered_list("sites", [(code, country, name, name, name) for code, country, name in sites_])


def direction(form):
    form.choice_list("direction", [
        ("entry", "Entrando al país", "Entrando no país", "Entering the country"),
        ("exit", "Saliendo del país", "Saindo do país", "Leaving the country"),
        ("transit", "En tránsito dentro del país", "Em trânsito dentro do país", "In transit within the country")])


def nationality(form):
    form.choice_list("nationality", [
        ("VEN", "Venezolana", "Venezuelana", "Venezuelan"),
        ("COL", "Colombiana", "Colombiana", "Colombian"),
        ("HTI", "Haitiana", "Haitiana", "Haitian"),
        ("ECU", "Ecuatoriana", "Equatoriana", "Ecuadorian"),
        ("CUB", "Cubana", "Cubana", "Cuban"),
        ("PER", "Peruana", "Peruana", "Peruvian"),
        ("other", "Otra", "Outra", "Other")])


def transport(form):
    form.choice_list("transport", [
        ("bus", "Bus o buseta", "Ônibus", "Bus"),
        ("car", "Carro particular o taxi", "Carro particular ou táxi", "Private car or taxi"),
        ("hitchhiking", "Aventón / camión", "Carona / caminhão", "Hitch-hiking / truck"),
        ("motorcycle", "Moto", "Moto", "Motorcycle"),
        ("walking", "A pie (caminante)", "A pé", "On foot"),
        ("boat", "Lancha o barco", "Lancha ou barco", "Boat"),
        ("plane", "Avión", "Avião", "Plane"),
        ("train", "Tren", "Trem", "Train"),
        ("other", "Otro", "Outro", "Other")])


def need(form):
    form.choice_list("need", [
        ("food", "Alimentos", "Alimentos", "Food"),
        ("water", "Agua potable", "Água potável", "Drinking water"),
        ("shelter", "Alojamiento", "Abrigo", "Shelter"),
        ("health", "Atención en salud", "Atendimento de saúde", "Health care"),
        ("information", "Información", "Informação", "Information"),
        ("documentation", "Documentación o regularización", "Documentação ou regularização",
         "Documents or legal status"),
        ("cash", "Dinero en efectivo", "Dinheiro em espécie", "Cash"),
        ("transport", "Transporte", "Transporte", "Transport"),
        ("hygiene", "Artículos de higiene", "Itens de higiene", "Hygiene items"),
        ("employment", "Empleo", "Emprego", "Employment"),
        ("legal", "Asesoría legal", "Assessoria jurídica", "Legal advice"),
        ("other", "Otra", "Outra", "Other"),
        ("none", "Ninguna", "Nenhuma", "None")])


def yes_no(form):
    form.choice_list("yes_no", [("yes", "Sí", "Sim", "Yes"), ("no", "No", "Não", "No")])


def settings(title, form_id, version):
    return {"form_title": title, "form_id": form_id, "version": version, "default_language": ES}
