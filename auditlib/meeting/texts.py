"""The meeting screen's own words in English and Dutch.

Figures are never formatted here (that is `auditlib.present`); these are labels, buttons and
messages. The report's words (`present.words`) are reused where the screen shows the same thing.
"""

from __future__ import annotations

from auditlib.present import LANGUAGES, words

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Interpretation meeting: {name}",
        "subtitle": "Benchmark year {year}, compared with {group}",
        "language": "Language",
        "peer_group": "Peer group",
        "tab_overview": "Overview",
        "tab_groups": "Peer groups",
        "tab_drill": "Drill-down",
        "tab_whatif": "What-if",
        "tab_notes": "Notes",
        "tab_report": "Report and summary",
        "profile": "Dimension profile against {group}",
        "label_readiness": "Label readiness",
        "top_handles": "Top improvement handles",
        "no_handles": "No improvement handles.",
        "groups_table": "Peer groups in this meeting",
        "custom_group": "Custom group",
        "custom_name": "Name",
        "custom_filter": "Filter",
        "custom_hint": "column:value[|value],... over country, field, label, age_band, eu, founding_year, "
                       "benchmark_year (years as 2000-2010)",
        "custom_check": "Check",
        "custom_add": "Add group",
        "custom_n": "Organisations in this group: {n}",
        "custom_added": "Group '{name}' added ({n} organisations).",
        "refused_floor": "Refused: this group has fewer organisations than the anonymity floor of {floor}, "
                         "so it shows no statistics.",
        "refused_disclosure": "Refused: {reason}",
        "refused_syntax": "Not a group: {reason}",
        "refused_name": "Refused: a group named '{name}' is already used in this meeting.",
        "differs_from": "together with the group '{other}', shown earlier in this meeting, it would "
                        "differ by fewer than {floor} organisations among those answering '{indicator}'; "
                        "comparing the two could reveal single organisations' answers",
        "dimension": "Dimension",
        "indicator": "Indicator",
        "value": "Answer",
        "in_every_group": "Position in every peer group",
        "spread": "Peer spread",
        "target_next": "Target for {label}",
        "feeds": "Label criteria this indicator counts towards",
        "no_criterion": "No label criterion uses this indicator.",
        "notes_here": "Auditor's notes",
        "no_notes": "No notes yet.",
        "indicators_of": "Indicators of {dimension}",
        "whatif_intro": "Change answers to see what would move. A scenario is never mixed with the "
                        "real answers: the report shows the real answers unless a scenario is chosen "
                        "for its appendix.",
        "whatif_answer": "New answer",
        "whatif_apply": "Apply",
        "whatif_reset": "Back to the real answers",
        "whatif_changed": "Changed answers",
        "whatif_none": "No answers changed: the figures are the real ones.",
        "whatif_bad": "{indicator}: {message} (expected {expected})",
        "whatif_real": "real",
        "whatif_scenario": "scenario",
        "whatif_percentiles": "Percentiles (scenario)",
        "whatif_small": "not shown for what-if: group too small",
        "whatif_step": "what-if figures in steps of {step}",
        "whatif_flipped": "Criteria that change",
        "whatif_no_flip": "No criterion changes.",
        "flip_pass": "now met",
        "flip_fail": "no longer met",
        "scenario_name": "Scenario name",
        "scenario_save": "Save scenario",
        "scenario_load": "Load",
        "scenario_saved": "Scenario '{name}' saved to {path}.",
        "scenario_loaded": "Scenario '{name}' loaded.",
        "scenario_bad_name": "A scenario needs a name of 1 to 60 letters, digits, spaces or - _ . ( ) +",
        "scenario_empty": "Change at least one answer before saving a scenario.",
        "scenario_in_report": "Scenarios in the report's appendix",
        "scenarios_none": "No saved scenarios.",
        "anchor": "About",
        "overall": "the overall picture",
        "note_text": "Note",
        "note_new": "New note",
        "note_update": "Update note",
        "note_delete": "Delete note",
        "notes_save": "Save notes",
        "notes_saved": "Notes saved to {path}.",
        "notes_unsaved": "Unsaved changes.",
        "notes_failed": "The notes were not saved ({reason}); the file is unchanged.",
        "notes_empty": "A note needs some text.",
        "areas": "Agreed improvement areas (Silver)",
        "areas_hint": "The {areas_text} (Gold quality indicators) the cluster will improve before the next benchmark.",
        "report_button": "Regenerate report",
        "report_running": "Writing the report... {seconds} s",
        "report_done": "Report written in {seconds} s:",
        "report_failed": "The report failed: {reason}. The earlier report is kept.",
        "summary_button": "Export meeting summary",
        "summary_done": "Meeting summary written:",
        "summary_title": "Meeting summary: {name}",
        "summary_date": "Meeting of {date}",
        "summary_groups": "Peer groups used",
        "summary_scenarios": "Scenarios",
        "summary_areas": "Agreed improvement areas",
        "summary_notes": "Notes",
        "scenario_answers": "Changed answers",
        "from_to": "{before} → {after}",
        "appendix_title": "Appendix: what-if scenarios (not the client's answers)",
        "appendix_intro": "These scenarios were explored in the interpretation meeting. They change "
                          "answers hypothetically; every other figure in this report uses the real "
                          "answers.",
    },
    "nl": {
        "title": "Interpretatiegesprek: {name}",
        "subtitle": "Benchmarkjaar {year}, vergeleken met {group}",
        "language": "Taal",
        "peer_group": "Vergelijkingsgroep",
        "tab_overview": "Overzicht",
        "tab_groups": "Vergelijkingsgroepen",
        "tab_drill": "Inzoomen",
        "tab_whatif": "Wat als",
        "tab_notes": "Notities",
        "tab_report": "Rapport en verslag",
        "profile": "Dimensieprofiel ten opzichte van {group}",
        "label_readiness": "Gereedheid voor de labels",
        "top_handles": "Belangrijkste verbeterpunten",
        "no_handles": "Geen verbeterpunten.",
        "groups_table": "Vergelijkingsgroepen in dit gesprek",
        "custom_group": "Eigen groep",
        "custom_name": "Naam",
        "custom_filter": "Filter",
        "custom_hint": "kolom:waarde[|waarde],... over country, field, label, age_band, eu, founding_year, "
                       "benchmark_year (jaren als 2000-2010)",
        "custom_check": "Controleren",
        "custom_add": "Groep toevoegen",
        "custom_n": "Organisaties in deze groep: {n}",
        "custom_added": "Groep '{name}' toegevoegd ({n} organisaties).",
        "refused_floor": "Geweigerd: deze groep telt minder organisaties dan de anonimiteitsgrens van "
                         "{floor}, dus er worden geen statistieken getoond.",
        "refused_disclosure": "Geweigerd: {reason}",
        "refused_syntax": "Geen groep: {reason}",
        "refused_name": "Geweigerd: een groep met de naam '{name}' is in dit gesprek al gebruikt.",
        "differs_from": "deze groep zou met minder dan {floor} organisaties verschillen van de groep "
                        "'{other}', die eerder in dit gesprek is getoond (gerekend over wie '{indicator}' "
                        "beantwoordde); samen kunnen de twee antwoorden van afzonderlijke organisaties prijsgeven",
        "dimension": "Dimensie",
        "indicator": "Indicator",
        "value": "Antwoord",
        "in_every_group": "Positie in elke vergelijkingsgroep",
        "spread": "Spreiding in de vergelijkingsgroep",
        "target_next": "Doel voor {label}",
        "feeds": "Labelcriteria waaraan deze indicator bijdraagt",
        "no_criterion": "Geen labelcriterium gebruikt deze indicator.",
        "notes_here": "Notities van de auditor",
        "no_notes": "Nog geen notities.",
        "indicators_of": "Indicatoren van {dimension}",
        "whatif_intro": "Verander antwoorden om te zien wat er verschuift. Een scenario wordt nooit met "
                        "de echte antwoorden vermengd: het rapport toont de echte antwoorden, tenzij een "
                        "scenario voor de bijlage is gekozen.",
        "whatif_answer": "Nieuw antwoord",
        "whatif_apply": "Toepassen",
        "whatif_reset": "Terug naar de echte antwoorden",
        "whatif_changed": "Veranderde antwoorden",
        "whatif_none": "Geen antwoorden veranderd: dit zijn de echte cijfers.",
        "whatif_bad": "{indicator}: {message} (verwacht: {expected})",
        "whatif_real": "echt",
        "whatif_scenario": "scenario",
        "whatif_percentiles": "Percentielen (scenario)",
        "whatif_small": "niet getoond in het wat-als-scenario: groep te klein",
        "whatif_step": "wat-als-cijfers in stappen van {step}",
        "whatif_flipped": "Criteria die veranderen",
        "whatif_no_flip": "Geen criterium verandert.",
        "flip_pass": "nu gehaald",
        "flip_fail": "niet meer gehaald",
        "scenario_name": "Naam van het scenario",
        "scenario_save": "Scenario bewaren",
        "scenario_load": "Laden",
        "scenario_saved": "Scenario '{name}' bewaard in {path}.",
        "scenario_loaded": "Scenario '{name}' geladen.",
        "scenario_bad_name": "Een scenario heeft een naam van 1 tot 60 letters, cijfers, spaties of - _ . ( ) +",
        "scenario_empty": "Verander eerst minstens één antwoord.",
        "scenario_in_report": "Scenario's in de bijlage van het rapport",
        "scenarios_none": "Geen bewaarde scenario's.",
        "anchor": "Over",
        "overall": "het totaalbeeld",
        "note_text": "Notitie",
        "note_new": "Nieuwe notitie",
        "note_update": "Notitie bijwerken",
        "note_delete": "Notitie verwijderen",
        "notes_save": "Notities bewaren",
        "notes_saved": "Notities bewaard in {path}.",
        "notes_unsaved": "Niet bewaarde wijzigingen.",
        "notes_failed": "De notities zijn niet bewaard ({reason}); het bestand is ongewijzigd.",
        "notes_empty": "Een notitie heeft tekst nodig.",
        "areas": "Afgesproken verbetergebieden (Zilver)",
        "areas_hint": ("De {areas_text} (kwaliteitsindicatoren van Goud) die het cluster vóór de volgende "
                       "benchmark verbetert."),
        "report_button": "Rapport opnieuw maken",
        "report_running": "Het rapport wordt gemaakt... {seconds} s",
        "report_done": "Rapport gemaakt in {seconds} s:",
        "report_failed": "Het rapport is mislukt: {reason}. Het eerdere rapport blijft bewaard.",
        "summary_button": "Verslag van het gesprek exporteren",
        "summary_done": "Verslag geschreven:",
        "summary_title": "Verslag van het gesprek: {name}",
        "summary_date": "Gesprek van {date}",
        "summary_groups": "Gebruikte vergelijkingsgroepen",
        "summary_scenarios": "Scenario's",
        "summary_areas": "Afgesproken verbetergebieden",
        "summary_notes": "Notities",
        "scenario_answers": "Veranderde antwoorden",
        "from_to": "{before} → {after}",
        "appendix_title": "Bijlage: wat-als-scenario's (niet de antwoorden van de klant)",
        "appendix_intro": "Deze scenario's zijn in het interpretatiegesprek verkend. Ze veranderen "
                          "antwoorden bij wijze van veronderstelling; elk ander cijfer in dit rapport "
                          "gebruikt de echte antwoorden.",
    },
}


def t(lang: str, key: str, **fmt) -> str:
    """One of the screen's texts in `lang`, formatted."""
    words(lang)                       # refuses an unknown language with the report's message
    text = TEXTS[lang][key]
    return text.format(**fmt) if fmt else text


def rw(lang: str, key: str) -> str:
    """One of the report's words (the screen says it the same way)."""
    return words(lang)[key]


assert set(TEXTS) == set(LANGUAGES) and set(TEXTS["en"]) == set(TEXTS["nl"])
