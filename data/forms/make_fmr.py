#!/usr/bin/env python3
"""Writes data/forms/dtm-fmr.xlsx: the demo DTM Flow Monitoring Registry (FMR) as an
XLSForm in Spanish, Portuguese and English.

Where the survey (flow-monitoring.xlsx) interviews one person, the registry counts
everyone an enumerator sees cross during one observation shift at one
flow-monitoring point in one direction: one record per shift, with one entry per
nationality observed giving the people by sex and DTM's age brackets. The site,
direction, transport and nationality codes are the survey's (xlsform_common.py), so
that both forms can be read together.

    python3 -m venv /tmp/venv-xl && /tmp/venv-xl/bin/pip install openpyxl
    /tmp/venv-xl/bin/python data/forms/make_fmr.py
    cargo run -q -- form check data/forms/dtm-fmr.xlsx
    cargo nextest run -p rumbo-domain demo_dtm
"""

import pathlib

import xlsform_common as common
from xlsform_common import XLSForm, demo_countries_and_sites

HERE = pathlib.Path(__file__).resolve().parent
OUTPUT = HERE / "dtm-fmr.xlsx"

FORM_ID = "rumbo_fmr"
VERSION = "2026112801"

# (code, es, pt, en) of DTM's sex-and-age brackets, in the order they are counted.
BRACKETS = [
    ("f_0_4", "Mujeres 0–4 años", "Mulheres 0–4 anos", "Women and girls 0–4 years"),
    ("f_5_11", "Mujeres 5–11 años", "Mulheres 5–11 anos", "Women and girls 5–11 years"),
    ("f_12_17", "Mujeres 12–17 años", "Mulheres 12–17 anos", "Women and girls 12–17 years"),
    ("f_18_59", "Mujeres 18–59 años", "Mulheres 18–59 anos", "Women 18–59 years"),
    ("f_60", "Mujeres 60 años o más", "Mulheres 60 anos ou mais", "Women 60 years and over"),
    ("m_0_4", "Hombres 0–4 años", "Homens 0–4 anos", "Men and boys 0–4 years"),
    ("m_5_11", "Hombres 5–11 años", "Homens 5–11 anos", "Men and boys 5–11 years"),
    ("m_12_17", "Hombres 12–17 años", "Homens 12–17 anos", "Men and boys 12–17 years"),
    ("m_18_59", "Hombres 18–59 años", "Homens 18–59 anos", "Men 18–59 years"),
    ("m_60", "Hombres 60 años o más", "Homens 60 anos ou mais", "Men 60 years and over"),
]

form = XLSForm()

form.row("today", "today")
form.question("select_one countries_fmp", "country",
              ("País del punto de monitoreo", "País do ponto de monitoramento", "Country of the monitoring point"))
form.question("select_one sites", "site",
              ("Punto de monitoreo de flujos (FMP)", "Ponto de monitoramento de fluxos (FMP)",
               "Flow-monitoring point (FMP)"),
              hint=("Solo se muestran los puntos del país elegido.", "Só aparecem os pontos do país escolhido.",
                    "Only the points of the chosen country are listed."),
              choice_filter="country = ${country}")
form.question("date", "date",
              ("Día observado", "Dia observado", "Day observed"),
              constraint=". <= ${today} and . >= date('2015-01-01')",
              message=("La fecha no puede ser futura ni anterior a 2015.",
                       "A data não pode ser futura nem anterior a 2015.",
                       "The date cannot be in the future or before 2015."))
form.question("decimal", "observed_hours",
              ("Horas de observación en el turno", "Horas de observação no turno", "Hours observed in the shift"),
              hint=("Por ejemplo 6 o 7.5.", "Por exemplo 6 ou 7,5.", "For example 6 or 7.5."),
              constraint=". > 0 and . <= 24",
              message=("Más de 0 y hasta 24 horas.", "Mais de 0 e até 24 horas.", "More than 0 and up to 24 hours."))
form.question("select_one direction", "direction",
              ("Sentido de los flujos contados", "Sentido dos fluxos contados", "Direction of the flows counted"),
              hint=("Un registro por turno y por sentido.", "Um registro por turno e por sentido.",
                    "One record per shift and direction."))
form.question("select_one transport", "transport",
              ("Medio de transporte principal observado", "Principal meio de transporte observado",
               "Main means of transport observed"))
form.begin_repeat("nationality_group",
                  ("Personas de una nacionalidad", "Pessoas de uma nacionalidade", "People of one nationality"))
form.question("select_one nationality", "nationality", ("Nacionalidad", "Nacionalidade", "Nationality"))
for name, es, pt, en in BRACKETS:
    form.question("integer", name, (es, pt, en), constraint=". >= 0",
                  message=("Escriba 0 o más.", "Escreva 0 ou mais.", "Enter 0 or more."))
form.calculate("group_total", " + ".join(f"${{{name}}}" for name, *_ in BRACKETS))
form.end_repeat()
form.calculate("total", "sum(${group_total})")


def main():
    countries, sites = demo_countries_and_sites()
    common.countries_fmp(form, countries)
    common.sites(form, sites)
    common.direction(form)
    common.transport(form)
    common.nationality(form)
    form.write(OUTPUT, common.settings("Registro de Monitoreo de Flujos (DTM) – Rumbo", FORM_ID, VERSION))
    print(f"wrote {OUTPUT.name}: {form.field_count()} fields, {len(sites)} sites, {len(form.choices)} choices")


if __name__ == "__main__":
    main()
