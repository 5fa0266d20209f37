#!/usr/bin/env python3
"""Writes data/forms/flow-monitoring.xlsx: the demo DTM Flow Monitoring Survey (FMS)
as an XLSForm in Spanish, Portuguese and English.

The countries and the flow-monitoring points (FMP) are read from the demo seed,
crates/domain/src/demo.rs, so that the `sites` choice list carries exactly the site
codes the demo creates (`COL-FMP-001`, ... numbered per country in the order of
FLOW_MONITORING_POINTS). The helpers and the choice lists other demo forms share
with it (same codes) are in xlsform_common.py.

    python3 -m venv /tmp/venv-xl && /tmp/venv-xl/bin/pip install openpyxl
    /tmp/venv-xl/bin/python data/forms/make_flow_monitoring.py

The workbook is committed; CI does not run this script. After changing the form,
bump VERSION, run the script, then check the result:

    cargo run -q -- form check data/forms/flow-monitoring.xlsx
    cargo nextest run -p rumbo-domain demo_submissions
"""

import pathlib

import xlsform_common as common
from xlsform_common import XLSForm, demo_countries_and_sites

HERE = pathlib.Path(__file__).resolve().parent
OUTPUT = HERE / "flow-monitoring.xlsx"

FORM_ID = "rumbo_fms"
VERSION = "2026112801"

form = XLSForm()
row, question, begin_group, end_group = form.row, form.question, form.begin_group, form.end_group
choice_list = form.choice_list


CONSENTED = "${consent} = 'yes'"

# Metadata filled in by the device.
row("start", "start")
row("end", "end")
row("today", "today")
row("deviceid", "deviceid")

begin_group("intro", ("Punto de monitoreo y consentimiento", "Ponto de monitoramento e consentimento",
                      "Monitoring point and consent"))
question("select_one countries_fmp", "country",
         ("País del punto de monitoreo", "País do ponto de monitoramento", "Country of the monitoring point"))
question("select_one sites", "site",
         ("Punto de monitoreo de flujos (FMP)", "Ponto de monitoramento de fluxos (FMP)",
          "Flow-monitoring point (FMP)"),
         hint=("Solo se muestran los puntos del país elegido.", "Só aparecem os pontos do país escolhido.",
               "Only the points of the chosen country are listed."),
         choice_filter="country = ${country}")
question("select_one direction", "direction",
         ("Sentido del desplazamiento de la persona en este punto", "Sentido do deslocamento da pessoa neste ponto",
          "Direction of the person's movement at this point"))
row("note", "consent_note",
    ("Lea a la persona: «Trabajo con la OIM. Hacemos una encuesta anónima y voluntaria de unos 15 minutos sobre "
     "su viaje y sus necesidades, para mejorar la asistencia. Puede negarse o detenerse cuando quiera; eso no "
     "cambia la ayuda que reciba.»",
     "Leia para a pessoa: «Trabalho com a OIM. Fazemos uma pesquisa anônima e voluntária de uns 15 minutos sobre "
     "a sua viagem e as suas necessidades, para melhorar a assistência. Pode recusar ou parar quando quiser; isso "
     "não muda a ajuda que receber.»",
     "Read to the person: \"I work with IOM. We are conducting an anonymous, voluntary survey of about 15 minutes "
     "on your journey and your needs, to improve assistance. You may refuse or stop at any time; this does not "
     "change any help you receive.\""))
question("select_one yes_no", "consent",
         ("¿Acepta participar en la encuesta?", "Aceita participar da pesquisa?",
          "Do you agree to take part in the survey?"))
row("note", "no_consent_note",
    ("Agradezca a la persona y finalice el formulario.", "Agradeça à pessoa e finalize o formulário.",
     "Thank the person and finalise the form."),
    relevant="${consent} = 'no'")
end_group()

begin_group("respondent", ("Datos de la persona entrevistada", "Dados da pessoa entrevistada",
                           "About the respondent"), relevant=CONSENTED)
question("select_one sex", "sex", ("Sexo", "Sexo", "Sex"))
question("integer", "age", ("Edad (años cumplidos)", "Idade (anos completos)", "Age (completed years)"),
         hint=("Solo se entrevista a personas de 18 años o más.", "Só se entrevistam pessoas de 18 anos ou mais.",
               "Only people aged 18 or over are interviewed."),
         constraint=". >= 18 and . <= 110",
         message=("La edad debe estar entre 18 y 110 años.", "A idade deve estar entre 18 e 110 anos.",
                  "Age must be between 18 and 110."))
# DTM's age brackets; respondents are adults, the younger ones are there for the
# other forms and dashboards that share the codes.
row("calculate", "age_group",
    calculation="if(${age} < 5, '0-4', if(${age} < 12, '5-11', if(${age} < 18, '12-17', "
                "if(${age} < 60, '18-59', '60+'))))")
question("select_one nationality or_other", "nationality", ("Nacionalidad", "Nacionalidade", "Nationality"))
question("select_multiple document", "documents",
         ("¿Qué documentos de identidad lleva consigo?", "Quais documentos de identidade leva consigo?",
          "Which identity documents do you carry?"),
         hint=("Marque todos los que apliquen.", "Marque todos os que se aplicam.", "Select all that apply."),
         constraint="not(selected(., 'none') and count-selected(.) > 1)",
         message=("«Ninguno» no puede combinarse con otras respuestas.",
                  "«Nenhum» não pode ser combinado com outras respostas.",
                  "\"None\" cannot be combined with other answers."))
question("select_one regular_status", "regular_status",
         ("¿Cuál es su situación migratoria en este país?", "Qual é a sua situação migratória neste país?",
          "What is your migration status in this country?"),
         hint=("Para quien va de paso: su situación al entrar. No pida ver documentos.",
               "Para quem está de passagem: a situação ao entrar. Não peça para ver documentos.",
               "For people passing through: their status on entry. Do not ask to see documents."),
         sensitive=True)
question("select_one education", "education",
         ("Nivel educativo más alto alcanzado", "Nível de escolaridade mais alto concluído",
          "Highest level of education completed"))
question("select_one occupation", "occupation",
         ("Situación laboral antes de salir", "Situação de trabalho antes de sair",
          "Work situation before leaving"))
end_group()

begin_group("travel_group", ("Grupo de viaje", "Grupo de viagem", "Travelling group"), relevant=CONSENTED)
question("integer", "size",
         ("¿Cuántas personas viajan en su grupo, contándose usted?",
          "Quantas pessoas viajam no seu grupo, contando com você?",
          "How many people are travelling in your group, including yourself?"),
         hint=("Escriba 1 si viaja sola o solo.", "Escreva 1 se viaja sozinha ou sozinho.",
               "Enter 1 if travelling alone."),
         constraint=". >= 1 and . <= 30",
         message=("El grupo debe tener entre 1 y 30 personas.", "O grupo deve ter entre 1 e 30 pessoas.",
                  "The group must have between 1 and 30 people."))
question("select_one group_type", "group_type",
         ("¿Con quiénes viaja?", "Com quem viaja?", "Who are you travelling with?"),
         relevant="${size} > 1")
row("begin_repeat", "member",
    ("Otra persona del grupo", "Outra pessoa do grupo", "Another member of the group"),
    repeat_count="${size} - 1")
question("select_one sex", "m_sex", ("Sexo de esta persona", "Sexo desta pessoa", "Sex of this person"))
question("integer", "m_age", ("Edad de esta persona (años)", "Idade desta pessoa (anos)", "Age of this person (years)"),
         hint=("0 para menores de un año.", "0 para menores de um ano.", "0 for babies under one year."),
         constraint=". >= 0 and . <= 110",
         message=("La edad debe estar entre 0 y 110 años.", "A idade deve estar entre 0 e 110 anos.",
                  "Age must be between 0 and 110."))
question("select_one relationship", "m_relationship",
         ("Relación con usted", "Relação com você", "Relationship to you"))
row("calculate", "m_child", calculation="if(${m_age} < 18, 1, 0)")
row("calculate", "m_under5", calculation="if(${m_age} < 5, 1, 0)")
row("calculate", "m_senior", calculation="if(${m_age} >= 60, 1, 0)")
row("end_repeat", "")
row("calculate", "n_children", calculation="sum(${m_child})")
row("calculate", "n_under5", calculation="sum(${m_under5})")
row("calculate", "n_seniors", calculation="sum(${m_senior}) + if(${age} >= 60, 1, 0)")
row("calculate", "n_adults", calculation="${size} - ${n_children}")
row("note", "group_summary",
    ("Grupo de ${size}: ${n_children} menores de 18 años (${n_under5} menores de 5).",
     "Grupo de ${size}: ${n_children} menores de 18 anos (${n_under5} menores de 5).",
     "Group of ${size}: ${n_children} children under 18 (${n_under5} under 5)."),
    relevant="${size} > 1")
end_group()

begin_group("route", ("Ruta", "Rota", "Route"), relevant=CONSENTED)
question("select_one countries", "country_origin",
         ("País de origen", "País de origem", "Country of origin"))
question("text", "country_origin_other",
         ("Especifique el país de origen", "Especifique o país de origem", "Specify the country of origin"),
         relevant="${country_origin} = 'other'")
question("select_one countries", "country_departure",
         ("¿Desde qué país inició este viaje?", "De que país começou esta viagem?",
          "From which country did you start this journey?"),
         hint=("El país donde vivía antes de salir, aunque no sea su país de origen.",
               "O país onde morava antes de sair, mesmo que não seja o seu país de origem.",
               "The country you lived in before leaving, even if it is not your country of origin."))
question("text", "country_departure_other",
         ("Especifique el país de salida", "Especifique o país de saída", "Specify the country of departure"),
         relevant="${country_departure} = 'other'")
question("date", "date_left",
         ("¿En qué fecha salió de ese país?", "Em que data saiu desse país?", "On what date did you leave that country?"),
         constraint=". <= ${today} and . >= date('2015-01-01')",
         message=("La fecha no puede ser futura ni anterior a 2015.", "A data não pode ser futura nem anterior a 2015.",
                  "The date cannot be in the future or before 2015."))
row("calculate", "days_travelling",
    calculation="int(decimal-date-time(${today}) - decimal-date-time(${date_left}))")
question("select_one yes_no", "transited",
         ("¿Pasó por otros países antes de llegar aquí?", "Passou por outros países antes de chegar aqui?",
          "Did you pass through other countries before arriving here?"))
question("select_multiple countries", "countries_transit",
         ("¿Por qué países pasó?", "Por quais países passou?", "Which countries did you pass through?"),
         relevant="${transited} = 'yes'",
         choice_filter="name != ${country} and name != ${country_departure}")
question("select_multiple transport or_other", "transport_modes",
         ("Medios de transporte usados en el viaje", "Meios de transporte usados na viagem",
          "Means of transport used on the journey"),
         hint=("Marque todos los que apliquen.", "Marque todos os que se aplicam.", "Select all that apply."))
question("select_one transport", "transport",
         ("¿Cuál fue el medio de transporte principal en la ruta?", "Qual foi o principal meio de transporte na rota?",
          "What was the main means of transport on the route?"),
         hint=("El que usó durante la mayor parte del camino.", "O que usou durante a maior parte do caminho.",
               "The one used for most of the way."),
         choice_filter="selected(${transport_modes}, name)")
question("select_one yes_no_refuse", "incident",
         ("Durante el viaje, ¿usted o su grupo sufrió algún incidente (robo, violencia, extorsión, engaño)?",
          "Durante a viagem, você ou o seu grupo sofreu algum incidente (roubo, violência, extorsão, golpe)?",
          "During the journey, did you or your group suffer any incident (theft, violence, extortion, fraud)?"),
         sensitive=True)
question("select_multiple incident_type", "incident_type",
         ("¿Qué tipo de incidente?", "Que tipo de incidente?", "What kind of incident?"),
         relevant="${incident} = 'yes'", sensitive=True)
end_group()

begin_group("destination", ("Destino e intenciones", "Destino e intenções", "Destination and intentions"),
            relevant=CONSENTED)
question("select_multiple reason_left or_other", "reason_left",
         ("¿Por qué salió del país donde vivía?", "Por que saiu do país onde morava?",
          "Why did you leave the country you lived in?"),
         hint=("No lea las opciones; marque todas las que mencione.", "Não leia as opções; marque todas as mencionadas.",
               "Do not read the options; select all that are mentioned."))
question("select_one yes_no", "pendular",
         ("¿Cruza esta frontera con regularidad y regresa el mismo día o la misma semana?",
          "Atravessa esta fronteira com regularidade e volta no mesmo dia ou na mesma semana?",
          "Do you cross this border regularly and go back the same day or week?"),
         hint=("Por ejemplo, para trabajar, comprar, estudiar o recibir atención médica.",
               "Por exemplo, para trabalhar, fazer compras, estudar ou receber atendimento médico.",
               "For example to work, shop, study or get medical care."))
question("select_one intention", "intention",
         ("¿Qué piensa hacer ahora?", "O que pretende fazer agora?", "What do you intend to do now?"))
# DTM's population groups: someone who crosses back and forth is counted as pendular
# whatever they plan; the others by what they intend.
row("calculate", "population_group",
    calculation="if(${pendular} = 'yes', 'pendular', if(${intention} = 'stay', 'in_destination', "
                "if(${intention} = 'continue', 'in_transit', if(${intention} = 'return', 'returnee', 'undecided'))))")
question("select_one countries", "dest_country",
         ("¿A qué país se dirige?", "Para qual país se dirige?", "Which country are you heading to?"),
         relevant="${intention} = 'continue'", choice_filter="name != ${country}")
question("text", "dest_country_other",
         ("Especifique el país de destino", "Especifique o país de destino", "Specify the destination country"),
         relevant="${dest_country} = 'other'")
row("calculate", "final_destination",
    calculation="if(${intention} = 'stay', ${country}, if(${intention} = 'continue', ${dest_country}, "
                "if(${intention} = 'return', ${country_origin}, '')))")
question("select_one reason_destination or_other", "reason_destination",
         ("¿Por qué eligió ese destino?", "Por que escolheu esse destino?", "Why did you choose that destination?"),
         relevant="${intention} = 'stay' or ${intention} = 'continue'")
question("select_one yes_no_dk", "return_intention",
         ("¿Piensa regresar algún día a su país de origen?", "Pretende voltar algum dia ao seu país de origem?",
          "Do you intend to return to your country of origin one day?"),
         relevant="${country_origin} != ${country}")
end_group()

begin_group("humanitarian_needs", ("Necesidades", "Necessidades", "Needs"), relevant=CONSENTED)
question("select_multiple need or_other", "needs",
         ("¿Qué necesita hoy?", "Do que precisa hoje?", "What do you need today?"),
         hint=("No lea las opciones; marque todas las que mencione.", "Não leia as opções; marque todas as mencionadas.",
               "Do not read the options; select all that are mentioned."),
         constraint="not(selected(., 'none') and count-selected(.) > 1)",
         message=("«Ninguna» no puede combinarse con otras necesidades.",
                  "«Nenhuma» não pode ser combinada com outras necessidades.",
                  "\"None\" cannot be combined with other needs."))
question("select_one need", "main_need",
         ("De esas, ¿cuál es la más urgente?", "Dessas, qual é a mais urgente?", "Of those, which is the most urgent?"),
         hint=("Si mencionó una sola, es esa.", "Se mencionou só uma, é essa.", "If only one was mentioned, that one."),
         choice_filter="selected(${needs}, name)")
question("select_one yes_no", "assistance",
         ("¿Ha recibido asistencia humanitaria durante el viaje?", "Recebeu assistência humanitária durante a viagem?",
          "Have you received humanitarian assistance during the journey?"))
end_group()

begin_group("vulnerabilities", ("Vulnerabilidades y protección", "Vulnerabilidades e proteção",
                                "Vulnerabilities and protection"), relevant=CONSENTED)
row("note", "protection_note",
    ("Pregunte en privado. La persona puede no responder. No insista.",
     "Pergunte em particular. A pessoa pode não responder. Não insista.",
     "Ask in private. The person may decline to answer. Do not insist."))
question("select_one yes_no_refuse", "pregnant_lactating",
         ("¿Está embarazada o en período de lactancia?", "Está grávida ou amamentando?",
          "Are you pregnant or breastfeeding?"),
         relevant="${sex} = 'female' and ${age} <= 55", sensitive=True)
question("select_one yes_no_refuse", "disability",
         ("¿Alguien del grupo (usted incluido) tiene mucha dificultad para ver, oír, caminar, recordar, "
          "cuidarse solo o comunicarse?",
          "Alguém do grupo (incluindo você) tem muita dificuldade para ver, ouvir, andar, lembrar, "
          "cuidar de si ou comunicar-se?",
          "Does anyone in the group (including you) have a lot of difficulty seeing, hearing, walking, "
          "remembering, self-care or communicating?"),
         sensitive=True)
question("select_one yes_no_refuse", "chronic_illness",
         ("¿Alguien del grupo tiene una enfermedad crónica que requiera tratamiento?",
          "Alguém do grupo tem uma doença crônica que exija tratamento?",
          "Does anyone in the group have a chronic illness that needs treatment?"),
         sensitive=True)
question("select_one yes_no_dk", "uasc_seen",
         ("Durante el viaje, ¿vio niñas, niños o adolescentes viajando solos o sin sus padres o cuidadores?",
          "Durante a viagem, viu crianças ou adolescentes viajando sozinhos ou sem os pais ou cuidadores?",
          "During the journey, did you see children travelling alone or without their parents or caregivers?"),
         sensitive=True)
question("integer", "uasc_count",
         ("¿Cuántos, aproximadamente?", "Quantos, aproximadamente?", "About how many?"),
         relevant="${uasc_seen} = 'yes'", constraint=". >= 1 and . <= 500",
         message=("Entre 1 y 500.", "Entre 1 e 500.", "Between 1 and 500."), sensitive=True)
begin_group("trafficking", ("Indicadores de trata y explotación", "Indicadores de tráfico e exploração",
                            "Trafficking and exploitation indicators"))
question("select_one yes_no_refuse", "tr_unpaid_work",
         ("¿Trabajó durante el viaje sin recibir el pago acordado?",
          "Trabalhou durante a viagem sem receber o pagamento combinado?",
          "During the journey, did you work without receiving the agreed payment?"), sensitive=True)
question("select_one yes_no_refuse", "tr_held",
         ("¿Alguien le impidió irse de un lugar cuando quería?", "Alguém impediu você de sair de um lugar quando queria?",
          "Did anyone prevent you from leaving a place when you wanted to?"), sensitive=True)
question("select_one yes_no_refuse", "tr_documents_kept",
         ("¿Alguien le retuvo sus documentos contra su voluntad?", "Alguém reteve os seus documentos contra a sua vontade?",
          "Did anyone keep your documents against your will?"), sensitive=True)
question("select_one yes_no_refuse", "tr_deceived",
         ("¿Le ofrecieron un trabajo o un viaje que resultó ser distinto de lo prometido?",
          "Ofereceram a você um trabalho ou uma viagem diferente do prometido?",
          "Were you offered a job or a trip that turned out different from what was promised?"), sensitive=True)
row("calculate", "trafficking_flag", sensitive=True,
    calculation="if(${tr_unpaid_work} = 'yes' or ${tr_held} = 'yes' or ${tr_documents_kept} = 'yes' "
                "or ${tr_deceived} = 'yes', 1, 0)")
end_group()
question("select_one yes_no", "referral",
         ("Ofrezca una remisión a servicios de protección. ¿La persona la acepta?",
          "Ofereça um encaminhamento para serviços de proteção. A pessoa aceita?",
          "Offer a referral to protection services. Does the person accept it?"),
         relevant="${trafficking_flag} = 1 or ${uasc_seen} = 'yes' or ${incident} = 'yes'", sensitive=True)
end_group()

begin_group("contact", ("Contacto y cierre", "Contato e encerramento", "Contact and closing"), relevant=CONSENTED)
question("select_one yes_no", "recontact",
         ("¿Acepta que la OIM lo contacte de nuevo para un seguimiento?",
          "Aceita que a OIM entre em contato de novo para um acompanhamento?",
          "Do you agree to be contacted again by IOM for a follow-up?"))
row("text", "phone",
    ("Número de teléfono (opcional)", "Número de telefone (opcional)", "Phone number (optional)"),
    hint=("Con código de país, sin espacios: +573001234567", "Com código do país, sem espaços: +5595991234567",
          "With country code, no spaces: +584141234567"),
    relevant="${recontact} = 'yes'", constraint="regex(., '^\\+?[0-9]{7,15}$')",
    message=("Escriba de 7 a 15 dígitos, con «+» opcional al inicio.",
             "Escreva de 7 a 15 dígitos, com «+» opcional no início.",
             "Enter 7 to 15 digits, optionally starting with \"+\"."),
    appearance="numbers", sensitive=True)
end_group()

row("text", "comments",
    ("Comentarios de la persona encuestadora", "Comentários da pessoa entrevistadora", "Enumerator comments"),
    hint=("Opcional. No escriba nombres ni datos que identifiquen a la persona.",
          "Opcional. Não escreva nomes nem dados que identifiquem a pessoa.",
          "Optional. Do not write names or details that identify the person."),
    appearance="multiline")


# --------------------------------------------------------------- choices sheet

def build_choices(countries, sites):
    common.yes_no(form)
    choice_list("yes_no_refuse", [
        ("yes", "Sí", "Sim", "Yes"), ("no", "No", "Não", "No"),
        ("refuse", "Prefiere no responder", "Prefere não responder", "Prefers not to answer")])
    choice_list("yes_no_dk", [
        ("yes", "Sí", "Sim", "Yes"), ("no", "No", "Não", "No"),
        ("dont_know", "No sabe", "Não sabe", "Does not know")])
    common.countries_fmp(form, countries)
    common.sites(form, sites)
    common.direction(form)
    choice_list("sex", [("female", "Mujer", "Mulher", "Female"), ("male", "Hombre", "Homem", "Male")])
    common.nationality(form)
    choice_list("document", [
        ("passport", "Pasaporte vigente", "Passaporte válido", "Valid passport"),
        ("passport_expired", "Pasaporte vencido", "Passaporte vencido", "Expired passport"),
        ("national_id", "Cédula o documento nacional de identidad", "Carteira ou documento nacional de identidade",
         "National identity card"),
        ("birth_certificate", "Partida de nacimiento", "Certidão de nascimento", "Birth certificate"),
        ("permit", "Permiso de permanencia o residencia", "Autorização de residência", "Stay or residence permit"),
        ("asylum", "Documento de solicitante de asilo o refugiado", "Protocolo de refúgio ou documento de refugiado",
         "Asylum-seeker or refugee document"),
        ("none", "Ninguno", "Nenhum", "None")])
    choice_list("regular_status", [
        ("regular", "Regular (visa, permiso o residencia vigente)", "Regular (visto, autorização ou residência válida)",
         "Regular (valid visa, permit or residence)"),
        ("in_process", "En trámite de regularización o de asilo", "Em processo de regularização ou de refúgio",
         "Applying for legal status or asylum"),
        ("irregular", "Irregular", "Irregular", "Irregular"),
        ("refuse", "Prefiere no responder", "Prefere não responder", "Prefers not to answer")])
    choice_list("education", [
        ("none", "Ninguno", "Nenhum", "None"),
        ("primary", "Primaria", "Ensino fundamental", "Primary"),
        ("secondary", "Secundaria / bachillerato", "Ensino médio", "Secondary"),
        ("technical", "Técnico", "Técnico", "Technical / vocational"),
        ("university", "Universitario", "Superior", "University")])
    choice_list("occupation", [
        ("employed", "Empleado/a", "Empregado/a", "Employed"),
        ("self_employed", "Trabajo por cuenta propia", "Trabalho por conta própria", "Self-employed"),
        ("unemployed", "Desempleado/a", "Desempregado/a", "Unemployed"),
        ("student", "Estudiante", "Estudante", "Student"),
        ("home", "Labores del hogar", "Trabalho doméstico não remunerado", "Home duties"),
        ("retired", "Jubilado/a", "Aposentado/a", "Retired")])
    choice_list("group_type", [
        ("family", "Familiares", "Familiares", "Family members"),
        ("non_family", "Personas que no son familiares", "Pessoas que não são familiares", "People who are not family"),
        ("mixed", "Familiares y otras personas", "Familiares e outras pessoas", "Family and others")])
    choice_list("relationship", [
        ("partner", "Pareja / cónyuge", "Companheiro/a / cônjuge", "Partner / spouse"),
        ("child", "Hija / hijo", "Filha / filho", "Daughter / son"),
        ("parent", "Madre / padre", "Mãe / pai", "Mother / father"),
        ("sibling", "Hermana / hermano", "Irmã / irmão", "Sister / brother"),
        ("grandchild", "Nieta / nieto", "Neta / neto", "Grandchild"),
        ("other_relative", "Otro familiar", "Outro familiar", "Other relative"),
        ("non_relative", "No es familiar", "Não é familiar", "Not a relative")])
    extra = [
        ("HTI", "Haití", "Haiti", "Haiti"), ("CUB", "Cuba", "Cuba", "Cuba"),
        ("NIC", "Nicaragua", "Nicarágua", "Nicaragua"), ("HND", "Honduras", "Honduras", "Honduras"),
        ("GTM", "Guatemala", "Guatemala", "Guatemala"), ("USA", "Estados Unidos", "Estados Unidos", "United States"),
        ("CAN", "Canadá", "Canadá", "Canada"), ("ESP", "España", "Espanha", "Spain"),
        ("other", "Otro país", "Outro país", "Another country")]
    choice_list("countries", [(code, es, pt, en) for code, (en, es, pt) in countries.items()] + extra)
    common.transport(form)
    choice_list("incident_type", [
        ("theft", "Robo", "Roubo", "Theft"),
        ("extortion", "Extorsión o cobros ilegales", "Extorsão ou cobranças ilegais", "Extortion or illegal charges"),
        ("fraud", "Estafa o engaño", "Golpe ou fraude", "Fraud or deception"),
        ("physical_violence", "Violencia física", "Violência física", "Physical violence"),
        ("sexual_violence", "Violencia sexual", "Violência sexual", "Sexual violence"),
        ("detention", "Detención", "Detenção", "Detention"),
        ("missing_person", "Desaparición de alguien del grupo", "Desaparecimento de alguém do grupo",
         "Someone in the group went missing")])
    choice_list("reason_left", [
        ("economic", "Falta de trabajo o ingresos", "Falta de trabalho ou renda", "Lack of work or income"),
        ("food", "Falta de alimentos", "Falta de alimentos", "Lack of food"),
        ("services", "Falta de servicios de salud o educación", "Falta de serviços de saúde ou educação",
         "Lack of health or education services"),
        ("violence", "Violencia o inseguridad", "Violência ou insegurança", "Violence or insecurity"),
        ("persecution", "Persecución o amenazas", "Perseguição ou ameaças", "Persecution or threats"),
        ("family", "Reunificación familiar", "Reunificação familiar", "Family reunification"),
        ("discrimination", "Discriminación en el país donde vivía", "Discriminação no país onde morava",
         "Discrimination in the country I lived in"),
        ("other", "Otro motivo", "Outro motivo", "Another reason")])
    choice_list("intention", [
        ("stay", "Quedarse en este país", "Ficar neste país", "Stay in this country"),
        ("continue", "Seguir hacia otro país", "Seguir para outro país", "Continue to another country"),
        ("return", "Regresar a su país de origen", "Voltar ao seu país de origem", "Return to the country of origin"),
        ("undecided", "No lo ha decidido", "Ainda não decidiu", "Undecided")])
    choice_list("reason_destination", [
        ("work", "Oportunidades de trabajo", "Oportunidades de trabalho", "Job opportunities"),
        ("family_friends", "Tiene familia o amigos allí", "Tem família ou amigos lá", "Family or friends there"),
        ("regularisation", "Facilidad para regularizarse", "Facilidade para se regularizar",
         "Easier to obtain legal status"),
        ("services", "Acceso a servicios", "Acesso a serviços", "Access to services"),
        ("safety", "Seguridad", "Segurança", "Safety"),
        ("language", "Idioma o cultura", "Idioma ou cultura", "Language or culture"),
        ("cost", "Costo del viaje", "Custo da viagem", "Cost of the journey"),
        ("other", "Otro motivo", "Outro motivo", "Another reason")])
    common.need(form)

# ------------------------------------------------------------------- writing

def main():
    countries, sites = demo_countries_and_sites()
    build_choices(countries, sites)
    settings = common.settings("Encuesta de Monitoreo de Flujos (DTM) – Rumbo", FORM_ID, VERSION)
    form.write(OUTPUT, settings)
    print(f"wrote {OUTPUT.name}: {form.field_count()} fields, {len(sites)} sites, {len(form.choices)} choices")


if __name__ == "__main__":
    main()
