#!/usr/bin/env python3
"""Writes data/forms/dtm-baseline.xlsx: the demo DTM mobility-tracking baseline
assessment as an XLSForm in Spanish, Portuguese and English.

One record per admin-1 area and round: how many refugees and migrants from Venezuela
the key informants consulted estimate live in the area, in how many households, how
that changed since the previous round and what they need most. The `adm1` choices
are every admin-1 area the demo imports, coded by the p-code the demo stores
(`CO-NSA`, `PE-LIM`, ...: the `iso3166_2_isocodes` property of
data/boundaries/ne_10m_admin1_lac18.geojson, as `read_boundaries` reads it) and
filtered on the country.

    python3 -m venv /tmp/venv-xl && /tmp/venv-xl/bin/pip install openpyxl
    /tmp/venv-xl/bin/python data/forms/make_baseline.py
    cargo run -q -- form check data/forms/dtm-baseline.xlsx
    cargo nextest run -p rumbo-domain demo_dtm
"""

import pathlib

import xlsform_common as common
from xlsform_common import XLSForm, demo_admin1_areas, demo_countries_and_sites

HERE = pathlib.Path(__file__).resolve().parent
OUTPUT = HERE / "dtm-baseline.xlsx"

FORM_ID = "rumbo_baseline"
VERSION = "2026112801"

form = XLSForm()

form.row("today", "today")
form.question("select_one countries", "country", ("País", "País", "Country"))
form.question("select_one adm1", "adm1",
              ("Departamento, estado, provincia o región (nivel 1)", "Estado, departamento ou província (nível 1)",
               "Department, state, province or region (admin level 1)"),
              hint=("Solo se muestran las áreas del país elegido.", "Só aparecem as áreas do país escolhido.",
                    "Only the areas of the chosen country are listed."),
              choice_filter="country=${country}")
form.question("integer", "informants",
              ("Número de informantes clave consultados", "Número de informantes-chave consultados",
               "Number of key informants consulted"),
              hint=("Autoridades locales, organizaciones, líderes comunitarios.",
                    "Autoridades locais, organizações, lideranças comunitárias.",
                    "Local authorities, organisations, community leaders."),
              constraint=". >= 1",
              message=("Al menos 1.", "Pelo menos 1.", "At least 1."))
form.question("integer", "population",
              ("Número estimado de personas refugiadas y migrantes de Venezuela que viven en el área",
               "Número estimado de pessoas refugiadas e migrantes da Venezuela que vivem na área",
               "Estimated number of refugees and migrants from Venezuela living in the area"),
              constraint=". >= 0",
              message=("Escriba 0 o más.", "Escreva 0 ou mais.", "Enter 0 or more."))
form.question("integer", "households",
              ("Número estimado de hogares", "Número estimado de domicílios", "Estimated number of households"),
              constraint=". >= 0 and . <= ${population}",
              message=("Entre 0 y el número de personas.", "Entre 0 e o número de pessoas.",
                       "Between 0 and the number of people."))
form.question("select_one trend", "trend",
              ("Desde la ronda anterior, esa población…", "Desde a rodada anterior, essa população…",
               "Since the previous round, that population has…"))
form.question("select_one need", "main_need",
              ("Necesidad principal de esa población", "Principal necessidade dessa população",
               "Main need of that population"))


def main():
    countries, _sites = demo_countries_and_sites()
    areas = demo_admin1_areas()
    common.countries_fmp(form, countries, list_name="countries")
    form.filtered_list("adm1", [(pcode, country, name, name, name)
                                for country, pcode, name in sorted(areas, key=lambda area: (area[0], area[2]))])
    form.choice_list("trend", [
        ("increase", "Aumentó", "Aumentou", "Increased"),
        ("decrease", "Disminuyó", "Diminuiu", "Decreased"),
        ("stable", "Se mantuvo estable", "Manteve-se estável", "Stayed stable"),
        ("dont_know", "No sabe", "Não sabe", "Does not know")])
    common.need(form)
    form.write(OUTPUT, common.settings("Línea de base de seguimiento de la movilidad (DTM) – Rumbo", FORM_ID, VERSION))
    print(f"wrote {OUTPUT.name}: {form.field_count()} fields, {len(areas)} admin-1 areas, {len(form.choices)} choices")


if __name__ == "__main__":
    main()
