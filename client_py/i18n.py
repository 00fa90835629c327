"""The panel's words in the user's language, and dates, times and numbers as that
language writes them: English, German, French and Spanish.

Pure and standard library only (it runs in Pyodide inside the extension and the
add-in).  Why not Babel: it is pure Python and would run in Pyodide, but it ships all
of CLDR (tens of megabytes) to show four languages' day names, month names and two
clock patterns; and why not the page's ``Intl``: the panel is one HTML string built
here for both hosts and on the server's CPython, so the words and the times must
come from the same place.  The patterns below are CLDR's (``dateFormatItem`` MMMEd /
yMMMEd, ``timeFormats`` short, ``dateFormats`` full, abbreviated day and month names,
decimal and group symbols), written out for these four languages; ``strftime`` is not
used because it follows the process locale, which CPython and Pyodide do not share.

* :func:`language` picks one of :data:`LANGUAGES` from a BCP 47 tag (the browser's or
  Office's display language): ``de-AT`` -> ``de``, anything unknown -> ``en``.
* :func:`text` and :func:`plural` look up a message by key, ``str.format`` style.
* :class:`Dates` writes times in a language (the zone is the caller's business).
* :func:`number` writes an integer with the language's grouping.
"""

from __future__ import annotations

from datetime import date, datetime

LANGUAGES = ("en", "de", "fr", "es")
DEFAULT = "en"


def language(tag: object) -> str:
    """One of :data:`LANGUAGES` for a tag like ``de-DE``, ``fr``, ``es_419``; else English."""
    if not isinstance(tag, str):
        return DEFAULT
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else DEFAULT


def _is_one(lang: str, n: int) -> bool:
    # CLDR plural rules: French counts 0 and 1 as "one"; the others only 1.
    return n in (0, 1) if lang == "fr" else n == 1


# -- messages ------------------------------------------------------------------------
# key -> {lang: text}; plural messages are (one, other) pairs.
MESSAGES: dict[str, dict[str, str | tuple[str, str]]] = {
    "panel.title": {"en": "Engagement", "de": "Engagement", "fr": "Engagement", "es": "Interacción"},
    "panel.reset_hint": {
        "en": "Ctrl+double-click to reset", "de": "Strg+Doppelklick zum Zurücksetzen",
        "fr": "Ctrl+double-clic pour remettre à zéro", "es": "Ctrl+doble clic para restablecer"},
    "panel.unread": {
        "en": ("{n} unread", "{n} unread"), "de": ("{n} ungelesen", "{n} ungelesen"),
        "fr": ("{n} non lu", "{n} non lus"), "es": ("{n} sin leer", "{n} sin leer")},
    "panel.pinned": {"en": "Pinned", "de": "Angeheftet", "fr": "Épinglés", "es": "Fijados"},
    "panel.other": {
        "en": "Other tracked emails", "de": "Weitere verfolgte E-Mails",
        "fr": "Autres e-mails suivis", "es": "Otros correos con seguimiento"},
    "panel.empty.pinned.filtered": {
        "en": "No pinned emails match your search.",
        "de": "Keine angehefteten E-Mails passen zu Ihrer Suche.",
        "fr": "Aucun e-mail épinglé ne correspond à votre recherche.",
        "es": "Ningún correo fijado coincide con tu búsqueda."},
    "panel.empty.other.filtered": {
        "en": "No other tracked emails match your search.",
        "de": "Keine weiteren verfolgten E-Mails passen zu Ihrer Suche.",
        "fr": "Aucun autre e-mail suivi ne correspond à votre recherche.",
        "es": "Ningún otro correo con seguimiento coincide con tu búsqueda."},
    "panel.empty.pinned": {
        "en": "Nothing pinned. Emails you track by hand appear here; pin any other tracked email to keep it here.",
        "de": "Nichts angeheftet. Von Hand verfolgte E-Mails erscheinen hier; heften Sie jede andere "
              "verfolgte E-Mail an, um sie hier zu behalten.",
        "fr": "Rien d’épinglé. Les e-mails que vous suivez manuellement apparaissent ici ; épinglez "
              "tout autre e-mail suivi pour le garder ici.",
        "es": "Nada fijado. Los correos que sigues a mano aparecen aquí; fija cualquier otro correo "
              "con seguimiento para mantenerlo aquí."},
    "panel.empty.other": {
        "en": ("No other tracked emails in the last day. Emails tracked automatically appear here once they are sent.",
               "No other tracked emails in the last {days} days. Emails tracked automatically appear here "
               "once they are sent."),
        "de": ("Keine weiteren verfolgten E-Mails am letzten Tag. Automatisch verfolgte E-Mails erscheinen "
               "hier, sobald sie gesendet sind.",
               "Keine weiteren verfolgten E-Mails in den letzten {days} Tagen. Automatisch verfolgte E-Mails "
               "erscheinen hier, sobald sie gesendet sind."),
        "fr": ("Aucun autre e-mail suivi depuis un jour. Les e-mails suivis automatiquement apparaissent "
               "ici dès leur envoi.",
               "Aucun autre e-mail suivi ces {days} derniers jours. Les e-mails suivis automatiquement "
               "apparaissent ici dès leur envoi."),
        "es": ("Ningún otro correo con seguimiento en el último día. Los correos con seguimiento automático "
               "aparecen aquí una vez enviados.",
               "Ningún otro correo con seguimiento en los últimos {days} días. Los correos con seguimiento "
               "automático aparecen aquí una vez enviados.")},
    "panel.hidden": {
        "en": ("{n} older email is hidden: no activity for over {days} days.",
               "{n} older emails are hidden: no activity for over {days} days."),
        "de": ("{n} ältere E-Mail ist ausgeblendet: seit über {days} Tagen keine Aktivität.",
               "{n} ältere E-Mails sind ausgeblendet: seit über {days} Tagen keine Aktivität."),
        "fr": ("{n} e-mail plus ancien est masqué : aucune activité depuis plus de {days} jours.",
               "{n} e-mails plus anciens sont masqués : aucune activité depuis plus de {days} jours."),
        "es": ("{n} correo más antiguo está oculto: sin actividad desde hace más de {days} días.",
               "{n} correos más antiguos están ocultos: sin actividad desde hace más de {days} días.")},
    "thread.new": {"en": "New activity", "de": "Neue Aktivität", "fr": "Nouvelle activité",
                   "es": "Actividad nueva"},
    "thread.no_subject": {"en": "(no subject)", "de": "(kein Betreff)", "fr": "(aucun objet)",
                          "es": "(sin asunto)"},
    "thread.to": {"en": "To {people}", "de": "An {people}", "fr": "À {people}", "es": "Para {people}"},
    "thread.to_more": {
        "en": "To {people} and {more} more", "de": "An {people} und {more} weitere",
        "fr": "À {people} et {more} de plus", "es": "Para {people} y {more} más"},
    "thread.pin": {"en": "Pin", "de": "Anheften", "fr": "Épingler", "es": "Fijar"},
    "thread.unpin": {"en": "Unpin", "de": "Loslösen", "fr": "Désépingler", "es": "Dejar de fijar"},
    "thread.open": {"en": "Open email", "de": "E-Mail öffnen", "fr": "Ouvrir l’e-mail", "es": "Abrir correo"},
    "thread.earlier_events": {
        "en": ("{n} earlier event not shown", "{n} earlier events not shown"),
        "de": ("{n} früheres Ereignis nicht angezeigt", "{n} frühere Ereignisse nicht angezeigt"),
        "fr": ("{n} événement antérieur non affiché", "{n} événements antérieurs non affichés"),
        "es": ("{n} evento anterior no mostrado", "{n} eventos anteriores no mostrados")},
    "thread.no_events": {
        "en": "No opens or clicks yet.", "de": "Noch nicht geöffnet oder angeklickt.",
        "fr": "Aucune ouverture ni aucun clic pour l’instant.", "es": "Aún no hay aperturas ni clics."},
    "event.implied": {
        "en": " (inferred from a click)", "de": " (aus einem Klick geschlossen)",
        "fr": " (déduit d’un clic)", "es": " (deducido de un clic)"},
    "event.clicked": {"en": "Clicked", "de": "Geklickt", "fr": "Cliqué", "es": "Clic"},
    "event.click_as": {"en": "Click: {label}", "de": "Klick: {label}", "fr": "Clic : {label}",
                       "es": "Clic: {label}"},
    "verdict.human": {"en": "Opened", "de": "Geöffnet", "fr": "Ouvert", "es": "Abierto"},
    "verdict.gmail": {"en": "Opened (via Gmail)", "de": "Geöffnet (über Gmail)", "fr": "Ouvert (via Gmail)",
                      "es": "Abierto (vía Gmail)"},
    "verdict.outlook": {"en": "Opened (via Outlook.com)", "de": "Geöffnet (über Outlook.com)",
                        "fr": "Ouvert (via Outlook.com)", "es": "Abierto (vía Outlook.com)"},
    "verdict.yahoo": {"en": "Opened (via Yahoo Mail)", "de": "Geöffnet (über Yahoo Mail)",
                      "fr": "Ouvert (via Yahoo Mail)", "es": "Abierto (vía Yahoo Mail)"},
    "verdict.confirmed": {"en": "Opened (confirmed by a click)", "de": "Geöffnet (durch einen Klick bestätigt)",
                          "fr": "Ouvert (confirmé par un clic)", "es": "Abierto (confirmado por un clic)"},
    "verdict.replied": {"en": "Opened (confirmed by a reply)", "de": "Geöffnet (durch eine Antwort bestätigt)",
                        "fr": "Ouvert (confirmé par une réponse)", "es": "Abierto (confirmado por una respuesta)"},
    "verdict.gmail_prefetch": {"en": "Gmail prefetch", "de": "Gmail-Vorabruf", "fr": "Préchargement Gmail",
                               "es": "Precarga de Gmail"},
    "verdict.apple_mpp": {
        "en": "Apple Mail Privacy Protection", "de": "Apple-E-Mail-Datenschutz",
        "fr": "Protection de la confidentialité dans Mail (Apple)", "es": "Protección de privacidad de Mail (Apple)"},
    "verdict.scanner": {"en": "Security scanner", "de": "Sicherheitsscanner", "fr": "Analyseur de sécurité",
                        "es": "Escáner de seguridad"},
    "verdict.self": {"en": "You", "de": "Sie", "fr": "Vous", "es": "Tú"},
    "verdict.duplicate": {"en": "Repeat", "de": "Wiederholung", "fr": "Répétition", "es": "Repetición"},
    "verdict.unknown": {"en": "Unknown", "de": "Unbekannt", "fr": "Inconnu", "es": "Desconocido"},
    "device.desktop": {"en": "Desktop", "de": "Computer", "fr": "Ordinateur", "es": "Ordenador"},
    "device.mobile": {"en": "Mobile", "de": "Mobilgerät", "fr": "Mobile", "es": "Móvil"},
    "device.tablet": {"en": "Tablet", "de": "Tablet", "fr": "Tablette", "es": "Tableta"},
    "device.unknown": {"en": "Unknown device", "de": "Unbekanntes Gerät", "fr": "Appareil inconnu",
                       "es": "Dispositivo desconocido"},
    "place.unknown": {"en": "Unknown", "de": "Unbekannt", "fr": "Inconnu", "es": "Desconocido"},
    "why.gmail_prefetch": {
        "en": "Gmail's prefetcher fetched the image ahead of time, not a person reading it",
        "de": "Gmails Vorabruf hat das Bild vorab geladen, kein Mensch, der die E-Mail liest",
        "fr": "Le préchargement de Gmail a chargé l’image à l’avance, pas une personne qui le lit",
        "es": "La precarga de Gmail cargó la imagen por adelantado, no una persona leyéndolo"},
    "why.apple_mpp": {
        "en": "Apple Mail Privacy Protection loads images for every email, read or not",
        "de": "Apples E-Mail-Datenschutz lädt die Bilder jeder E-Mail, ob gelesen oder nicht",
        "fr": "La protection de la confidentialité d’Apple charge les images de chaque e-mail, lu ou non",
        "es": "La protección de privacidad de Apple carga las imágenes de cada correo, leído o no"},
    "why.scanner": {
        "en": "A security scanner or link checker, not a person",
        "de": "Ein Sicherheitsscanner oder Linkprüfer, kein Mensch",
        "fr": "Un analyseur de sécurité ou un vérificateur de liens, pas une personne",
        "es": "Un escáner de seguridad o un verificador de enlaces, no una persona"},
    "why.self": {
        "en": "You (or someone in your company) opened it",
        "de": "Sie (oder jemand aus Ihrer Firma) haben sie geöffnet",
        "fr": "Vous (ou quelqu’un de votre entreprise) l’avez ouvert",
        "es": "Tú (o alguien de tu empresa) lo abriste"},
    "why.duplicate": {
        "en": "Same address and device again within seconds: a repeat",
        "de": "Dieselbe Adresse und dasselbe Gerät erneut innerhalb von Sekunden: eine Wiederholung",
        "fr": "La même adresse et le même appareil à nouveau en quelques secondes : une répétition",
        "es": "La misma dirección y el mismo dispositivo otra vez en segundos: una repetición"},
    # Marks in Gmail's lists and conversations and Outlook's panes (client_py/marks.py).
    "mark.sent": {"en": "Tracked · not opened yet", "de": "Verfolgt · noch nicht geöffnet",
                  "fr": "Suivi · pas encore ouvert", "es": "Con seguimiento · aún no abierto"},
    "mark.last": {"en": " · last {age}", "de": " · zuletzt {age}", "fr": " · dernière fois {age}",
                  "es": " · la última {age}"},
    "mark.replied": {"en": "Replied {age}", "de": "Geantwortet {age}", "fr": "Réponse reçue {age}",
                     "es": "Respondió {age}"},
    "mark.and_replied": {"en": " · replied {age}", "de": " · geantwortet {age}", "fr": " · réponse reçue {age}",
                         "es": " · respondió {age}"},
    "mark.machine.apple_mpp": {
        "en": "Apple Mail Privacy Protection downloaded the images; not a read",
        "de": "Apples E-Mail-Datenschutz hat die Bilder geladen; nicht gelesen",
        "fr": "La protection de la confidentialité d’Apple Mail a chargé les images ; pas une lecture",
        "es": "La protección de privacidad de Apple Mail descargó las imágenes; no es una lectura"},
    "mark.machine.gmail_prefetch": {
        "en": "Gmail fetched the images ahead of time; not a read",
        "de": "Gmail hat die Bilder vorab geladen; nicht gelesen",
        "fr": "Gmail a chargé les images à l’avance ; pas une lecture",
        "es": "Gmail descargó las imágenes por adelantado; no es una lectura"},
    "mark.machine.scanner": {
        "en": "A security scanner checked the email; not a read",
        "de": "Ein Sicherheitsscanner hat die E-Mail geprüft; nicht gelesen",
        "fr": "Un scanner de sécurité a vérifié l’e-mail ; pas une lecture",
        "es": "Un escáner de seguridad revisó el correo; no es una lectura"},
    "why.unknown": {
        "en": "Not recognised as a person reading the email",
        "de": "Nicht als Mensch erkannt, der die E-Mail liest",
        "fr": "Pas reconnu comme une personne lisant l’e-mail",
        "es": "No se reconoce como una persona leyendo el correo"},
    "summary.not_opened": {"en": "Not opened yet", "de": "Noch nicht geöffnet", "fr": "Pas encore ouvert",
                           "es": "Aún sin abrir"},
    "summary.not_counted": {
        "en": ("{n} event not counted", "{n} events not counted"),
        "de": ("{n} Ereignis nicht gezählt", "{n} Ereignisse nicht gezählt"),
        "fr": ("{n} événement non compté", "{n} événements non comptés"),
        "es": ("{n} evento no contado", "{n} eventos no contados")},
    "summary.opened": {"en": "Opened {times}", "de": "{times} geöffnet", "fr": "Ouvert {times}",
                       "es": "Abierto {times}"},
    "summary.clicked_first": {"en": "Clicked {times}", "de": "{times} geklickt", "fr": "Cliqué {times}",
                              "es": "Clicado {times}"},
    "summary.clicked": {"en": "clicked {times}", "de": "{times} geklickt", "fr": "cliqué {times}",
                        "es": "clicado {times}"},
    "summary.by_one_of": {"en": " by one of {n} recipients", "de": " von einem von {n} Empfängern",
                          "fr": " par l’un des {n} destinataires", "es": " por uno de {n} destinatarios"},
    "summary.by_some_of": {"en": " by one or more of {n} recipients", "de": " von einem oder mehreren von {n} Empfängern",
                           "fr": " par un ou plusieurs des {n} destinataires",
                           "es": " por uno o más de {n} destinatarios"},
    "summary.on": {"en": ", on {devices}", "de": ", auf {devices}", "fr": ", sur {devices}", "es": ", en {devices}"},
    "summary.in": {"en": ", in {place}", "de": ", in {place}", "fr": ", à {place}", "es": ", en {place}"},
    "summary.places": {"en": ", in {n} places", "de": ", an {n} Orten", "fr": ", à {n} endroits",
                       "es": ", en {n} lugares"},
    "summary.and": {"en": " and ", "de": " und ", "fr": " et ", "es": " y "},
    "times.once": {"en": "once", "de": "einmal", "fr": "une fois", "es": "una vez"},
    "times.twice": {"en": "twice", "de": "zweimal", "fr": "deux fois", "es": "dos veces"},
    "times.n": {"en": "{n} times", "de": "{n}-mal", "fr": "{n} fois", "es": "{n} veces"},
    "summary.device.desktop": {"en": "desktop", "de": "Computer", "fr": "ordinateur", "es": "ordenador"},
    "summary.device.mobile": {"en": "mobile", "de": "Mobilgerät", "fr": "mobile", "es": "móvil"},
    "summary.device.tablet": {"en": "tablet", "de": "Tablet", "fr": "tablette", "es": "tableta"},
    "summary.device.unknown": {"en": "unknown device", "de": "unbekanntem Gerät", "fr": "appareil inconnu",
                               "es": "dispositivo desconocido"},
}

# The Insights view's words live in their own module (client_py/insights_words.py).
from client_py.insights_words import MESSAGES as _INSIGHTS_MESSAGES  # noqa: E402

MESSAGES.update(_INSIGHTS_MESSAGES)


# -- follow-up reminders, the activity feed, notifications ---------------------------
MESSAGES.update({
    "age.just_now": {"en": "just now", "de": "gerade eben", "fr": "à l’instant", "es": "ahora mismo"},
    "age.minutes": {"en": ("{n} min ago", "{n} min ago"), "de": ("vor {n} Min.", "vor {n} Min."),
                    "fr": ("il y a {n} min", "il y a {n} min"), "es": ("hace {n} min", "hace {n} min")},
    "age.hours": {"en": ("{n} hour ago", "{n} hours ago"), "de": ("vor {n} Stunde", "vor {n} Stunden"),
                  "fr": ("il y a {n} heure", "il y a {n} heures"), "es": ("hace {n} hora", "hace {n} horas")},
    "age.days": {"en": ("{n} day ago", "{n} days ago"), "de": ("vor {n} Tag", "vor {n} Tagen"),
                 "fr": ("il y a {n} jour", "il y a {n} jours"), "es": ("hace {n} día", "hace {n} días")},
    "age.weeks": {"en": ("{n} week ago", "{n} weeks ago"), "de": ("vor {n} Woche", "vor {n} Wochen"),
                  "fr": ("il y a {n} semaine", "il y a {n} semaines"),
                  "es": ("hace {n} semana", "hace {n} semanas")},
    "age.months": {"en": ("{n} month ago", "{n} months ago"), "de": ("vor {n} Monat", "vor {n} Monaten"),
                   "fr": ("il y a {n} mois", "il y a {n} mois"), "es": ("hace {n} mes", "hace {n} meses")},
    "age.years": {"en": ("{n} year ago", "{n} years ago"), "de": ("vor {n} Jahr", "vor {n} Jahren"),
                  "fr": ("il y a {n} an", "il y a {n} ans"), "es": ("hace {n} año", "hace {n} años")},
    "feed.title": {"en": "Activity", "de": "Aktivität", "fr": "Activité", "es": "Actividad"},
    "feed.empty": {"en": "Nothing yet: opens, clicks and replies on your tracked emails show up here.",
                   "de": "Noch nichts: Öffnungen, Klicks und Antworten auf Ihre verfolgten E-Mails erscheinen hier.",
                   "fr": "Rien pour l’instant : les ouvertures, clics et réponses à vos e-mails suivis "
                         "s’afficheront ici.",
                   "es": "Nada todavía: aquí aparecen las aperturas, los clics y las respuestas a tus correos "
                         "con seguimiento."},
    "feed.someone": {"en": "Someone on “{subject}”", "de": "Jemand auf „{subject}“",
                     "fr": "Quelqu’un sur « {subject} »", "es": "Alguien en «{subject}»"},
    "feed.opened": {"en": "{who} opened “{subject}”", "de": "{who} hat „{subject}“ geöffnet",
                    "fr": "{who} a ouvert « {subject} »", "es": "{who} abrió «{subject}»"},
    "feed.opened_someone": {"en": "{who} opened it", "de": "{who} hat sie geöffnet", "fr": "{who} l’a ouvert",
                            "es": "{who} lo abrió"},
    "feed.clicked": {"en": "{who} clicked {link} in “{subject}”", "de": "{who} hat {link} in „{subject}“ geklickt",
                     "fr": "{who} a cliqué sur {link} dans « {subject} »",
                     "es": "{who} hizo clic en {link} de «{subject}»"},
    "feed.clicked_someone": {"en": "{who} clicked {link}", "de": "{who} hat {link} geklickt",
                             "fr": "{who} a cliqué sur {link}", "es": "{who} hizo clic en {link}"},
    "feed.link": {"en": "the {name} link", "de": "den Link „{name}“", "fr": "le lien « {name} »",
                  "es": "el enlace «{name}»"},
    "feed.a_link": {"en": "a link", "de": "einen Link", "fr": "un lien", "es": "un enlace"},
    "feed.replied": {"en": "{who} replied to “{subject}”", "de": "{who} hat auf „{subject}“ geantwortet",
                     "fr": "{who} a répondu à « {subject} »", "es": "{who} respondió a «{subject}»"},
    "feed.machine": {"en": "{label} loaded “{subject}”: not a read", "de": "{label} hat „{subject}“ geladen: nicht gelesen",
                     "fr": "{label} a chargé « {subject} » : pas une lecture",
                     "es": "{label} cargó «{subject}»: no es una lectura"},
    "feed.kind.open": {"en": "Opened", "de": "Geöffnet", "fr": "Ouvert", "es": "Abierto"},
    "feed.kind.click": {"en": "Clicked", "de": "Geklickt", "fr": "Cliqué", "es": "Clic"},
    "feed.kind.reply": {"en": "Replied", "de": "Geantwortet", "fr": "Répondu", "es": "Respondido"},
    "feed.kind.machine": {"en": "Machine, not a person", "de": "Maschine, kein Mensch", "fr": "Machine, pas une personne",
                          "es": "Máquina, no una persona"},
    "feed.more": {"en": "Show older activity", "de": "Ältere Aktivität anzeigen", "fr": "Afficher l’activité plus ancienne",
                  "es": "Mostrar actividad anterior"},
    "reminders.due": {"en": "Due", "de": "Fällig", "fr": "À relancer", "es": "Pendientes"},
    "reminders.due_open": {"en": "Nobody opened “{subject}” since {since}",
                           "de": "Niemand hat „{subject}“ seit {since} geöffnet",
                           "fr": "Personne n’a ouvert « {subject} » depuis {since}",
                           "es": "Nadie ha abierto «{subject}» desde {since}"},
    "reminders.due_reply": {"en": "Nobody replied to “{subject}” since {since}",
                            "de": "Niemand hat seit {since} auf „{subject}“ geantwortet",
                            "fr": "Personne n’a répondu à « {subject} » depuis {since}",
                            "es": "Nadie ha respondido a «{subject}» desde {since}"},
    "reminders.snooze": {"en": ("Snooze {n} day", "Snooze {n} days"), "de": ("{n} Tag später", "{n} Tage später"),
                         "fr": ("Reporter de {n} jour", "Reporter de {n} jours"),
                         "es": ("Posponer {n} día", "Posponer {n} días")},
    "reminders.done": {"en": "Done", "de": "Erledigt", "fr": "Fait", "es": "Hecho"},
    "reminders.cancel": {"en": "Cancel reminder", "de": "Erinnerung löschen", "fr": "Annuler le rappel",
                         "es": "Cancelar recordatorio"},
    "reminders.menu": {"en": "Remind me", "de": "Erinnern", "fr": "Me rappeler", "es": "Recordarme"},
    "reminders.if_open": {"en": "if nobody opens", "de": "wenn niemand öffnet", "fr": "si personne n’ouvre",
                          "es": "si nadie lo abre"},
    "reminders.if_reply": {"en": "if nobody replies", "de": "wenn niemand antwortet", "fr": "si personne ne répond",
                           "es": "si nadie responde"},
    "reminders.in_days": {"en": ("In {n} day", "In {n} days"), "de": ("In {n} Tag", "In {n} Tagen"),
                          "fr": ("Dans {n} jour", "Dans {n} jours"), "es": ("En {n} día", "En {n} días")},
    "reminders.on_date": {"en": "On a date", "de": "An einem Datum", "fr": "À une date", "es": "En una fecha"},
    "reminders.set": {"en": "Set", "de": "Festlegen", "fr": "Valider", "es": "Fijar"},
    "reminders.pending_open": {"en": "Reminder {when} if nobody opens", "de": "Erinnerung {when}, wenn niemand öffnet",
                               "fr": "Rappel {when} si personne n’ouvre", "es": "Recordatorio {when} si nadie lo abre"},
    "reminders.pending_reply": {"en": "Reminder {when} if nobody replies",
                                "de": "Erinnerung {when}, wenn niemand antwortet",
                                "fr": "Rappel {when} si personne ne répond",
                                "es": "Recordatorio {when} si nadie responde"},
    "notify.opened": {"en": "Opened: {subject}", "de": "Geöffnet: {subject}", "fr": "Ouvert : {subject}",
                      "es": "Abierto: {subject}"},
    "notify.clicked": {"en": "Clicked: {subject}", "de": "Geklickt: {subject}", "fr": "Cliqué : {subject}",
                       "es": "Clic: {subject}"},
    "notify.replied": {"en": "Replied: {subject}", "de": "Beantwortet: {subject}", "fr": "Réponse : {subject}",
                       "es": "Respondido: {subject}"},
    "notify.grouped": {"en": ("{n} opens in the last minute", "{n} opens in the last minute"),
                       "de": ("{n} Öffnung in der letzten Minute", "{n} Öffnungen in der letzten Minute"),
                       "fr": ("{n} ouverture dans la dernière minute", "{n} ouvertures dans la dernière minute"),
                       "es": ("{n} apertura en el último minuto", "{n} aperturas en el último minuto")},
    "notify.grouped_any": {"en": ("{n} new engagement in the last minute", "{n} new engagements in the last minute"),
                           "de": ("{n} neue Interaktion in der letzten Minute",
                                  "{n} neue Interaktionen in der letzten Minute"),
                           "fr": ("{n} nouvelle interaction dans la dernière minute",
                                  "{n} nouvelles interactions dans la dernière minute"),
                           "es": ("{n} nueva interacción en el último minuto",
                                  "{n} nuevas interacciones en el último minuto")},
    "notify.digest_title": {"en": "Your day in Engage", "de": "Ihr Tag in Engage", "fr": "Votre journée dans Engage",
                            "es": "Tu día en Engage"},
    "notify.digest_opens": {"en": ("{n} open", "{n} opens"), "de": ("{n} Öffnung", "{n} Öffnungen"),
                            "fr": ("{n} ouverture", "{n} ouvertures"), "es": ("{n} apertura", "{n} aperturas")},
    "notify.digest_clicks": {"en": ("{n} click", "{n} clicks"), "de": ("{n} Klick", "{n} Klicks"),
                             "fr": ("{n} clic", "{n} clics"), "es": ("{n} clic", "{n} clics")},
    "notify.digest_replies": {"en": ("{n} reply", "{n} replies"), "de": ("{n} Antwort", "{n} Antworten"),
                              "fr": ("{n} réponse", "{n} réponses"), "es": ("{n} respuesta", "{n} respuestas")},
    "notify.digest_emails": {"en": ("on {n} email", "on {n} emails"), "de": ("auf {n} E-Mail", "auf {n} E-Mails"),
                             "fr": ("sur {n} e-mail", "sur {n} e-mails"), "es": ("en {n} correo", "en {n} correos")},
    "notify.digest_none": {"en": "No opens, clicks or replies in the last day.",
                           "de": "Keine Öffnungen, Klicks oder Antworten am letzten Tag.",
                           "fr": "Aucune ouverture, aucun clic ni aucune réponse depuis hier.",
                           "es": "Ninguna apertura, clic ni respuesta en el último día."},
    "notify.reminder": {"en": "Follow up: {subject}", "de": "Nachfassen: {subject}", "fr": "Relancer : {subject}",
                        "es": "Seguimiento: {subject}"},
})


def _entry(key: str, lang: str) -> str | tuple[str, str]:
    entry = MESSAGES[key]
    return entry.get(lang) or entry[DEFAULT]


def text(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang`` (English when the language lacks it)."""
    found = _entry(key, lang)
    template = found[1] if isinstance(found, tuple) else found
    return template.format(**values) if values else template


def plural(lang: str, key: str, n: int, **values: object) -> str:
    """The plural message ``key`` for ``n`` (``{n}`` in it is written by :func:`number`)."""
    found = _entry(key, lang)
    one, other = found if isinstance(found, tuple) else (found, found)
    return (one if _is_one(lang, n) else other).format(n=number(n, lang), **values)


def join_and(lang: str, words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c`` in ``lang``."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + text(lang, "summary.and") + words[-1]


# -- numbers -------------------------------------------------------------------------
# (group separator, minimum digits before grouping applies): CLDR's symbols and
# minimumGroupingDigits (Spanish writes 1234 but 12.345; French groups with U+202F).
_GROUPING = {"en": (",", 4), "de": (".", 4), "fr": ("\u202f", 4), "es": (".", 5)}


def number(n: int, lang: str = DEFAULT) -> str:
    """An integer as ``lang`` writes it: ``12,345`` / ``12.345`` / ``12 345`` / ``12.345``."""
    separator, minimum = _GROUPING.get(lang, _GROUPING[DEFAULT])
    digits = str(abs(int(n)))
    if len(digits) >= minimum:
        groups = []
        while digits:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        digits = separator.join(groups)
    return f"-{digits}" if n < 0 else digits


# -- dates and times -----------------------------------------------------------------
_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_DAYS_SHORT = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "de": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
           "octubre", "noviembre", "diciembre"),
}
_MONTHS_SHORT = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "de": ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."),
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"),
}
_TODAY = {"en": "Today", "de": "Heute", "fr": "Aujourd’hui", "es": "Hoy"}
_YESTERDAY = {"en": "Yesterday", "de": "Gestern", "fr": "Hier", "es": "Ayer"}


class Dates:
    """Times written in one language; the caller gives local (zoned) datetimes."""

    def __init__(self, lang: str = DEFAULT) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT

    def clock(self, local: datetime) -> str:
        """``9:05 AM`` (en), ``09:05`` (de, fr), ``9:05`` (es)."""
        if self.lang == "en":
            return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
        hour = f"{local.hour:02d}" if self.lang in ("de", "fr") else str(local.hour)
        return f"{hour}:{local.minute:02d}"

    def day(self, day: date, with_year: bool) -> str:
        """``Mon 24 Nov`` / ``Mo., 24. Nov.`` / ``lun. 24 nov.`` / ``lun, 24 nov`` (+ the year)."""
        lang, weekday, month = self.lang, day.weekday(), day.month - 1
        year = f" {day.year}" if with_year else ""
        if lang == "de":
            return f"{_DAYS_SHORT[lang][weekday]}, {day.day}. {_MONTHS_SHORT[lang][month]}{year}"
        if lang == "es":
            return f"{_DAYS_SHORT[lang][weekday]}, {day.day} {_MONTHS_SHORT[lang][month]}{year}"
        return f"{_DAYS_SHORT[lang][weekday]} {day.day} {_MONTHS_SHORT[lang][month]}{year}"

    def short(self, local: datetime, today: date) -> str:
        """``Today, 9:05 AM`` / ``Heute, 09:05`` / ``Mo., 24. Nov., 15:10``: for the panel's lines."""
        clock = self.clock(local)
        day = local.date()
        if day == today:
            return f"{_TODAY[self.lang]}, {clock}"
        if (today - day).days == 1:
            return f"{_YESTERDAY[self.lang]}, {clock}"
        return f"{self.day(day, day.year != today.year)}, {clock}"

    def full(self, local: datetime) -> str:
        """``Thursday 27 November 2026, 05:44 CET`` and its equivalents: for tooltips."""
        lang, day = self.lang, local.date()
        weekday, month = _DAYS[lang][day.weekday()], _MONTHS[lang][day.month - 1]
        zone_name = local.tzname() or "UTC"
        if lang == "de":
            written = f"{weekday}, {day.day}. {month} {day.year}"
        elif lang == "es":
            written = f"{weekday}, {day.day} de {month} de {day.year}"
        else:
            written = f"{weekday} {day.day} {month} {day.year}"
        return f"{written}, {local.hour:02d}:{local.minute:02d} {zone_name}"
