"""client_py: Engage's rulebook, shared by the server, the Gmail extension and the
Outlook add-in.

Pure Python, standard library only, no I/O: every function takes values and returns
values, so the same rules run on CPython (the server) and in Pyodide (the extension's
offscreen document and the add-in's pages). Modules:

- ``snippet``: the tracking pixel markup, inserted at the first or last line, found, removed
- ``links``: which links are tracked and rewriting their ``href``
- ``recipients``: parsing addresses; internal / external / blocklisted; auto-insertion
- ``search``: search text, periods, filters
- ``panel``: threads, categories, the unread counter, the display window
- ``present``: times in the user's zone, places, devices, verdict labels
- ``render``: the Engagement panel as escaped HTML
- ``i18n``: the panel's words in English, German, French and Spanish; dates, times and
  numbers as each language writes them
- ``model``: the plain data shapes; ``errors``: the domain errors
- ``calls``: the calls both clients make, JSON in and out, in one envelope
"""

__version__ = "0.1.0"
