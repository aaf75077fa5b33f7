"""Build calibration/data/targets.csv from the documented figures.

Run once by a maintainer, with the shared data folder (not shipped with the project):

    python -m migflow.calibration.build_targets ../shared/data

The figures are copied with their source; nothing is estimated here. Group weights say how
much each kind of evidence counts in the fit; within a group the weight is shared equally by
its rows. Stocks count eight times as much as a Darién or US series: they are the quantities
policy staff ask about most, the accuracy targets (ARD, every stock within 15%) are set on
them, and with a weight of 2 the fit was dominated by the log errors of Darién counts of a few
hundred people (measured: ARD 0.139 with weight 2, 0.122 with weight 8, after the same 500
further evaluations from the same start; docs/calibration.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from migflow.model.geography import DARIEN_NATIONALITIES

from .paths import DEFAULT_TARGETS
from .targets import COLUMNS

# The natural experiments of 2022-2023 (issue 15): the months around the US expulsions of
# Venezuelans to Mexico from 2022-10-12, and around the parole-plus-expulsion package for
# Cubans, Haitians and Nicaraguans of 2023-01. They are what identifies the deterrent of an
# expulsion and travellers' reaction to news, so they get a group (and a weight) of their
# own rather than 1/258th of the monthly series each. Each is fitted as its change from the
# month before (error = change): the episodes' measure is the fall, and fitted as levels the
# floor months (668 Venezuelans in 2022-11) outweighed a whole year of the wave in the loss
# (docs/calibration.md, Known limits).
EPISODES = (("VEN", "2022-08", "2023-01"), ("CUB", "2022-10", "2023-03"),
            ("HTI", "2022-10", "2023-03"))  # fmt: skip
# The northward wave: the Darién crossings of 2022 and 2023 by nationality. They are the
# figures policy staff check the model against first, and the goals (totals and
# Venezuelans within 25%); as 12 of the 84 annual rows they had 1/7 of that group's weight.
WAVE_YEARS = (2022, 2023)
GROUP_WEIGHTS = {
    "darien_annual": 1.0,
    "northward_wave": 2.0,
    "darien_monthly": 1.0,
    "episodes": 2.0,
    "stocks": 8.0,
    "us_encounters": 1.0,
    "darien_deaths": 0.25,
    "deaths": 0.25,
    "seeds": 1.0,
    "bounds": 1.0,
    "programmes": 1.0,
    "surveys": 1.0,
    "papers": 1.0,
}
US_NATIONALITIES = ("VEN", "HTI", "CUB", "ECU", "COL", "NIC", "GTM", "HND", "SLV")
# Every host country the model has and the documented figures cover, the smaller ones too:
# a host without a target is where a fit can park the migrants it does not need (a fit
# without Argentina's target put 1.4 M Venezuelans there, against 173,200 documented by R4V
# for 2021-11).
STOCK_HOSTS = ("COL", "PER", "ECU", "CHL", "BRA", "ARG", "PAN", "CRI", "MEX", "USA")
# Venezuelans in Colombia with regular status, of all counted (Migración Colombia's
# figures as the press carried them), for the split the PEP rounds and the ETPV make
REGULAR_COLOMBIA = (
    ("2019-06", 732_390, 1_408_055, "Migración Colombia via EFE/Panamericana, 2019-06-30: "
     "https://lsw1.panamericana.pe/24horas/internacionales/271404-millon-venezolanos-viviendo-colombia"),
    ("2019-10", 719_189, 1_630_903, "Migración Colombia via EFE/El Sumario, 2019-10-31: "
     "https://elsumario.com/mas-de-16-millones-de-venezolanos-viven-en-colombia/"),
    ("2020-12", 762_823, 1_729_537, "Migración Colombia's director, 2020-12-31: "
     "https://santamartaaldia.co/segun-migracion-hay-cerca-de-dos-millones-de-venezolanos-en-colombia"),
)  # fmt: skip
SEED_000 = (
    "news report of US Secretary of State Blinken's announcement in Lima, 2022-10-06: "
    "Colombia and Peru 'received 2.4 million and 1.3 million Venezuelan refugees'"
)
SEED_001 = (
    "Voz de la Diáspora report of Blinken's visit to Panama, 2022: 'from 2009 about 265 "
    "thousand migrants crossed' the Darién"
)
SEED_004 = (
    "US State Department transcript of the Lima ministerial on the Los Angeles Declaration, "
    "2022-10-06: 'More than 1.4 million Venezuelans have received already TPS cards'; "
    "Ecuador: 'In the first month alone, more than 100,000 registered'"
)
OTHER_NOTE = "; OTHER = every nationality but " + ", ".join(DARIEN_NATIONALITIES)
# Haitians in Chile: the pool the 2021 Darién surge came from. Not in the shared data folder;
# the official estimate (INE and Departamento de Extranjería y Migración, foreign residents at
# 31 December), as reported at its release. The same releases give the Venezuelan figures
# that UNHCR repeats for Chile (288,233 in 2018, 455,494 in 2019).
INE_DEM = (
    "INE-DEM, Estimación de personas extranjeras residentes habituales en Chile al 31 de "
    "diciembre de {year}, as reported by {outlet}"
)
HAITIANS_IN_CHILE = (
    (2018, 179_338.0, INE_DEM.format(year=2018, outlet=(
        "Cooperativa.cl 2019-02-14, https://www.cooperativa.cl/noticias/pais/poblacion/"
        "inmigrantes/venezolanos-desbancaron-a-los-peruanos-como-la-mayor-comunidad/"
        "2019-02-14/112130.html"))),
    (2019, 185_865.0, INE_DEM.format(year=2019, outlet=(
        "EFE via La Patilla 2020-03-12, https://lapatilla.com/2020/03/12/comunidad-venezolana-"
        "en-chile-experimento-gran-repunte-y-crecio-un-58-en-2019"))),
)  # fmt: skip
# Venezuelans in Chile after 2021: UNHCR repeats 444,423 for 2022 and 2023, which is 30% of
# INE's 1,482,390 foreign residents at the end of 2021 (La Tercera, 2022-10,
# https://www.latercera.com/earlyaccess/noticia/inmigrantes-en-chile-suben-levemente-en-2021-
# y-venezolanos-se-consolidan-como-la-poblacion-mayoritaria-en-el-pais/ABCFHJWX4NFSVBINNE3JZD6CSI/),
# carried forward. 2022 is INE and Sermig's own estimate; 2023 is left out, since INE's
# estimate for it (728,586) added new sources (school enrolment, the biometric registration)
# and is not comparable with the years before (ReporteDiario 2024-12-30,
# https://reportediario.cl/2024/12/30/radiografia-de-la-diversidad-1-918-583-extranjeros-
# enriquecen-el-mosaico-chileno-en-2023).
# Keyed by (host, year): the value and source that replace UNHCR's, or None to leave the
# year out.
UNHCR_REPLACED = {
    ("CHL", 2022): (532_715.0, (
        "INE-Sermig, Estimación de personas extranjeras residentes habituales en Chile al 31 "
        "de diciembre de 2022: 532,715 Venezuelans, 32.8% of 1,625,074, as reported by La "
        "Tercera 2024-07, https://latercera.com/nacional/noticia/ante-posible-ola-migratoria-"
        "cuantos-venezolanos-viven-en-chile/KQ52UFHZZZGIHLSOFPHEAXPGZI/ (UNHCR repeats the "
        "end-2021 estimate, 444,423)"
    )),
    ("CHL", 2023): None,
}  # fmt: skip
# Upper bounds on stocks where no year-end count exists but the fit had put far too many
# people: 2.3 M Venezuelans in the United States by 2023-12 (the shipped fit of 2026-11-29),
# 1.8 M Guatemalans, 1.5 M Hondurans and 0.7 M Salvadorans settled in Mexico by
# 2020-03, and 1.2 M Haitians in Brazil by 2021-12 (the shipped fit of 2026-11-23). The
# figures count people who arrived before the model's window (2015-01) too, so they bound
# what the model may have from above ("maximum") rather than give a value to hit.
MEXICO_CENSUS = (
    "INEGI, Censo de Poblacion y Vivienda 2020 (taken 2-27 March 2020): {what}, as reported "
    "by LeMexico 2021-01-26, https://lemexico.mx/2021/01/26/mx/inegi-revela-datos-censo-"
    "poblacion-vivienda-2020/ and El Colef, https://www.colef.mx/opinion/86737/"
)
# Who crossed the Darién from a third country rather than from home: the only 2022-2023
# figure found (issue 15 item 4; docs/evidence_2022_2023.md section 2). It covers every
# nationality (60% of respondents were Venezuelan) and counts residence of six months or more;
# the model counts every crosser whose journey began in a host. No survey of 2022 or of
# Venezuelans alone was found.
THIRD_COUNTRY_SURVEY = (
    "R4V (Inter-Agency Coordination Platform for Refugees and Migrants from Venezuela), "
    "Situation Report Central America & Mexico, October-December 2023, protection monitoring "
    "by R4V partners in Panama's Darién, as republished at https://theamericannews.net/"
    "america/mexico/r4v-situation-report-central-america-mexico-october-december-2023-costa-"
    "rica: 'Nearly two-fifths of those interviewed (39%) had resided in another country for at "
    "least six months. The main countries of residence were Colombia (12%), Peru (8%), Ecuador "
    "(5%), and Chile (4%).' (respondents 60% Venezuelan, 12% Colombian, 8% Ecuadorian, 5% "
    "Haitian)"
)
UPPER_BOUNDS = (
    ("bound_ALL_MEX_2020", "2020-03", "MEX", "ALL", 1_212_252.0 - 797_266.0, MEXICO_CENSUS.format(
        what="1,212,252 residents born abroad, of whom 797,266 born in the United States; "
        "the bound is the 414,986 born elsewhere (every origin the model has)")),
    ("bound_GTM_MEX_2020", "2020-03", "MEX", "GTM", 56_810.0, MEXICO_CENSUS.format(
        what="56,810 residents born in Guatemala")),
    ("bound_HTI_BRA_2021", "2021-12", "BRA", "HTI", 200_000.0, (
        "IOM research reported by Valor Economico (Assis Moreira, 2023-03), https://valor.globo"
        ".com/opiniao/assis-moreira/coluna/uma-pesquisa-sobre-integracao-de-venezuelanos-e-"
        "haitianos-no-brasil.ghtml: 'Ate dezembro de 2021, o pais recebeu ... entre 150 mil e "
        "200 mil haitianos' (arrivals since 2010; the upper end is the bound)")),
    # every Venezuelan living in the United States, however they came (most by air, with a
    # visa, many before 2015): the UNHCR rows count only refugees and asylum-seekers
    # (minimums), and without this bound the fit put 2.3 M there by 2023
    ("bound_VEN_USA_2021", "2021-12", "USA", "VEN", 545_200.0, (
        "R4V platform, as reported by Maduradas 2023-05, https://bc.marfeel.com/maduradas.com/"
        "plataforma-la-onu-reporta-7-320-225-venezolanos-salieron-del-pais-los-ultimos-5-"
        "anos-colombia-peru-los-principales-paises-acogida/?marfeeltn=amp: 'Hasta 2021, "
        "Estados Unidos registraba 545.200 venezolanos' (a national figure as of 2021)")),
)  # fmt: skip

# Venezuelans landing in Mexico in 2021, before Mexico's visa of 2022-01: every Venezuelan who
# entered by air, tourists and business travellers too, so an upper bound on the migrants the
# model flies there. The fits fly Venezuelans to Mexico and on to the US border a year early
# (docs/calibration.md, Known limits); this says how many at most can have flown.
AIR_ARRIVAL_BOUNDS = (
    ("bound_VEN_MEX_air_2021", "2021-01", "2021-11", "MEX", "VEN", 160_379.0, (
        "Mexico's Unidad de Politica Migratoria, as reported by AP (2022-01-06): 160,379 "
        "Venezuelans entered Mexico by air in January-November 2021, for every purpose of "
        "travel, https://sinembargo.mx/4098323/mexico-exigira-visa-a-venezolanos-como-medida-"
        "cautelar-para-frenar-migracion-a-eu")),
)  # fmt: skip

# Dead and missing on the segments after the Darién, IOM Missing Migrants Project (minimum
# counts; the releases are in docs/evidence_2022_2023.md, section 1): the US-Mexico border
# crossing (recorded in the model where the crossing ends, the United States) and IOM's
# "Central America" region, the isthmus and most of Mexico (recorded in Mexico).
_IOM_US = "IOM Missing Migrants Project, US-Mexico border crossing, {release}"
_IOM_CA = "IOM Missing Migrants Project, region Central America, {release}"
SEGMENT_DEATHS = (
    ("us_border", "USA", (
        (2018, 442.0, _IOM_US.format(release="reported by El Universal, 2020-02, https://elsolnewsmedia.com/frontera-mexico-estados-unidos/")),
        (2019, 524.0, _IOM_US.format(release="Americas 2021 report, 2022-07, https://www.heartsonvenezuela.com/iom-venezuelans-the-third-national-group-with-the-highest-number-of-migrant-deaths-during-transit-in-the-americas/")),
        (2020, 476.0, _IOM_US.format(release="Americas 2021 report, 2022-07 (as above)")),
        (2021, 729.0, _IOM_US.format(release="release of 2023-09, https://progresohispanonews.com/migracion/ruta-terrestre-mas-mortal-para-inmigrantes-segun-la-oim/")),
        (2022, 686.0, _IOM_US.format(release="release of 2023-09-12, https://zawya.com/en/world/americas/us-mexico-border-worlds-deadliest-land-route-for-migrants-iom-vca8214f")),
        (2023, 636.0, _IOM_US.format(release="ten-year report (2024), https://pledgetimes.com/record-deaths-on-migratory-routes-8565-people-lost-their-lives-in-2023/")),
    )),
    ("central_america_mexico", "MEX", (
        (2020, 165.0, _IOM_CA.format(release="Americas 2021 report, 2022-07 (as above)")),
        (2021, 324.0, _IOM_CA.format(release="Americas 2021 report, 2022-07 (as above)")),
        (2023, 591.0, _IOM_CA.format(release="Americas 2023 report (2024), https://www.latintimes.com/over-1000-migrant-deaths-americas-un-report-details-deadly-routes-causes-551918")),
    )),
)  # fmt: skip

# Programme figures the model has the quantity for (people regularised by a programme of the
# baseline, from its start to the date of the figure): Colombia's protection permits
# (PPT) delivered by 2023-12-18, Migración Colombia as reported by EFE.
PROGRAMME_FIGURES = {
    ("Colombia ETPV/PPT", "PPT delivered"): ("2021-05", "2023-12", "COL", "programme_COL_ppt_2023"),
}


def _row(**kw) -> dict:
    return {"country": "", "error": "relative", "weight": 1.0, **kw}


def _partial_count(r: pd.Series) -> str:
    """A note if a UNHCR stock counts only refugees and asylum-seekers ("" otherwise).

    With no "other people in need of international protection" counted (``oip`` = 0), the
    figure leaves out most Venezuelans living there, so it is a minimum (``error =
    minimum``): the United States every year (the shared data's README: "for the USA only
    refugees and asylum-seekers") and Costa Rica in 2018 (20,828 such people in 2019)."""
    if r["oip"] == 0:
        return (
            " (refugees and asylum-seekers only, no other people in need of protection"
            " counted: a minimum)"
        )
    return ""


def build(data: Path) -> pd.DataFrame:
    rows: list[dict] = []
    annual = pd.read_csv(data / "darien_crossings_annual_by_nationality.csv")
    for _, r in annual.iterrows():
        y = int(r["year"])
        other = r["TOTAL"] - sum(r[n] for n in DARIEN_NATIONALITIES)
        for nat, value in [*((n, r[n]) for n in DARIEN_NATIONALITIES), ("OTHER", other)]:
            rows.append(_row(
                id=f"darien_{y}_{nat}",
                group="northward_wave" if y in WAVE_YEARS else "darien_annual",
                quantity="darien_crossings",
                start=f"{y}-01", end=f"{y}-12", nationality=nat, value=float(value),
                source=r["source"] + (OTHER_NOTE if nat == "OTHER" else ""),
            ))  # fmt: skip
    monthly = pd.read_csv(data / "darien_crossings_monthly_by_nationality.csv")
    grouped = monthly["nationality_iso3"].where(
        monthly["nationality_iso3"].isin(DARIEN_NATIONALITIES), "OTHER"
    )
    by_group = monthly.groupby(["month", grouped])["crossings"].sum()
    source = monthly["source"].iloc[0]
    for (month, nat), value in by_group.items():
        episode = any(nat == n and first <= month <= last for n, first, last in EPISODES)
        rows.append(_row(
            id=f"darien_month_{month}_{nat}", group="episodes" if episode else "darien_monthly",
            quantity="darien_crossings", start=month, end=month, nationality=nat,
            value=float(value), source=source + (OTHER_NOTE if nat == "OTHER" else ""),
            error="change" if episode else "relative",
        ))  # fmt: skip
    unhcr = pd.read_csv(data / "venezuelans_abroad_by_host_unhcr.csv")
    for _, r in unhcr[unhcr["coa_iso"].isin(STOCK_HOSTS)].iterrows():
        y, host = int(r["year"]), r["coa_iso"]
        partial = _partial_count(r)
        value, source = float(r["total"]), r["source"] + partial
        if (host, y) in UNHCR_REPLACED:
            if UNHCR_REPLACED[host, y] is None:
                continue
            value, source = UNHCR_REPLACED[host, y]
        rows.append(_row(
            id=f"stock_VEN_{host}_{y}", group="stocks", quantity="stock", start=f"{y}-12",
            end=f"{y}-12", country=host, nationality="VEN", value=value,
            error="minimum" if partial else "relative", source=source,
        ))  # fmt: skip
    for y, value, source in HAITIANS_IN_CHILE:
        rows.append(_row(
            id=f"stock_HTI_CHL_{y}", group="stocks", quantity="stock", start=f"{y}-12",
            end=f"{y}-12", country="CHL", nationality="HTI", value=value, source=source,
        ))  # fmt: skip
    cbp = pd.read_csv(data / "us_southwest_border_encounters_by_nationality_fy.csv")
    for _, r in cbp[cbp["nationality_iso3"].isin(US_NATIONALITIES)].iterrows():
        for fy in (2020, 2021, 2022, 2023):
            rows.append(_row(
                id=f"us_{r['nationality_iso3']}_FY{fy}", group="us_encounters",
                quantity="us_border_arrivals", start=f"{fy - 1}-10", end=f"{fy}-09",
                nationality=r["nationality_iso3"], value=float(r[f"FY{fy}"]),
                source=r["source"] + " (southwest border encounters; include repeat crossings)",
            ))  # fmt: skip
    for id_, month, host, nat, value, source in UPPER_BOUNDS:
        rows.append(_row(
            id=id_, group="bounds", quantity="stock", start=month, end=month, country=host,
            nationality=nat, value=value, error="maximum", source=source,
        ))  # fmt: skip
    for id_, start, end, country, nat, value, source in AIR_ARRIVAL_BOUNDS:
        rows.append(_row(
            id=id_, group="bounds", quantity="air_arrivals", start=start, end=end,
            country=country, nationality=nat, value=value, error="maximum", source=source,
        ))  # fmt: skip
    deaths = pd.read_csv(data / "darien_dead_or_missing_annual.csv")
    for _, r in deaths.iterrows():
        y = int(r["year"])
        rows.append(_row(
            id=f"darien_deaths_{y}", group="darien_deaths", quantity="darien_deaths",
            start=f"{y}-01", end=f"{y}-12", nationality="ALL",
            value=float(r["dead_missing_darien"]), error="minimum", source=r["source"],
        ))  # fmt: skip
    for segment, country, figures in SEGMENT_DEATHS:
        for year, value, source in figures:
            rows.append(_row(
                id=f"deaths_{segment}_{year}", group="deaths", quantity="deaths",
                start=f"{year}-01", end=f"{year}-12", country=country, nationality="ALL",
                value=value, error="minimum", source=source,
            ))  # fmt: skip
    programmes = pd.read_csv(data / "regularisation_and_pathways.csv")
    for key, (start, end, host, row_id) in PROGRAMME_FIGURES.items():
        r = programmes[(programmes["programme"] == key[0]) & (programmes["metric"] == key[1])]
        r = r.iloc[0]
        rows.append(_row(
            id=row_id, group="programmes", quantity="regularised_by_programme", start=start,
            end=end, country=host, nationality="VEN", value=float(r["value"]),
            source=f"{r['source']}: '{r['quote']}' (as of {r['as_of']})",
        ))  # fmt: skip
    rows += [
        _row(id="seed_COL_stock_2022", group="seeds", quantity="stock", start="2022-09",
             end="2022-09", country="COL", nationality="VEN", value=2_400_000.0, source=SEED_000),
        _row(id="seed_PER_stock_2022", group="seeds", quantity="stock", start="2022-09",
             end="2022-09", country="PER", nationality="VEN", value=1_300_000.0, source=SEED_000),
        _row(id="seed_COL_tps_cards", group="seeds", quantity="regularised_by_programme",
             start="2021-01", end="2022-09", country="COL", nationality="VEN",
             value=1_400_000.0, source=SEED_004),
        _row(id="seed_ECU_registration", group="seeds", quantity="regularised_by_programme",
             start="2022-09", end="2022-09", country="ECU", nationality="VEN",
             value=100_000.0, source=SEED_004),
        _row(id="seed_darien_since_2009", group="seeds", quantity="darien_crossings",
             start="2010-01", end="2022-03", nationality="ALL", value=265_000.0, source=SEED_001),
    ]  # fmt: skip
    rows.append(_row(
        id="survey_darien_third_country_2023Q4", group="surveys",
        quantity="darien_third_country_share", start="2023-10", end="2023-12",
        nationality="ALL", value=0.39, source=THIRD_COUNTRY_SURVEY,
    ))  # fmt: skip
    for end, regular, total, source in REGULAR_COLOMBIA:
        rows.append(_row(
            id=f"papers_VEN_COL_{end}", group="papers", quantity="regular_share",
            start=end, end=end, country="COL", nationality="VEN",
            value=round(regular / total, 4), source=source,
        ))  # fmt: skip
    table = pd.DataFrame(rows)
    sizes = table["group"].map(table["group"].value_counts())
    table["weight"] = table["group"].map(GROUP_WEIGHTS) / sizes
    return table[list(COLUMNS)]


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
    table = build(folder)
    table.to_csv(DEFAULT_TARGETS, index=False)
    print(f"wrote {len(table)} targets to {DEFAULT_TARGETS}")
