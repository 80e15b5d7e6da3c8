"""English for the early-signal pages (web/signals.py, templates/signals.html); merged into `web.i18n.EN`."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "Vroegsignalen": "Early signals",
    "Vroegsignalen (DDAS)": "Early signals (DDAS)",
    "Importeer een DDAS-bestand met vroegsignalen van betalingsachterstanden. Het hele bestand wordt eerst gecontroleerd; bij een fout wordt niets geïmporteerd.":
        "Import a DDAS file of early signals of payment arrears. The whole file is checked first; if anything is wrong, nothing is imported.",
    "Bestand (JSON, DDAS v1.2)": "File (JSON, DDAS v1.2)",
    "Importeren": "Import",
    "DDAS-levering downloaden": "Download the DDAS delivery",
    "Gemeente": "Municipality",
    "Van": "From",
    "Tot en met": "Up to and including",
    "Download": "Download",
    "Resultaat per signaal": "Result per signal",
    "Levering": "Delivery",
    "Signaal-ID": "Signal ID",
    "Resultaat": "Result",
    "Zaak": "Case",
    "Koppeling": "Match",
    "Reden": "Reason",
    "Fouten in het bestand": "Errors in the file",
    "Plaats": "Place",
    "Veld": "Field",
    "Fout": "Error",
    "Geen signalen in dit bestand.": "No signals in this file.",
    "Signaalpartner": "Signal partner",
    "Datum signaal": "Signal date",
    "Status": "Status",
    "crisissignaal": "crisis signal",
    "warme overdracht": "warm transfer",
}
