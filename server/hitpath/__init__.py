"""The hit path: from a recipient's request to a decided, stored event.

A hit travels answer -> spool -> drain -> history -> verdicts -> record. Modules only
import downward, in this order (tests/server/test_hitpath_layers.py):

    answer      the pixel (before Flask) and tracked links: answer, spool the hit
    sender      what the sender's clients report (their addresses, "I am viewing it")
    reclassify  ``engage reclassify``: decide stored history again
    spool       append-only files per process; one drainer reads them
    drain       the writer: records -> the rules' facts -> settle each email (lock,
                read its history, decide, write what changed)
    record      write what changed: events, implied opens, thread totals, stream, CRM
                (it reads the values history and verdicts made, so it sits above them)
    history     an email's lock and its whole stored history, as values
    verdicts    pure: one email's hits in time order -> a verdict and reason each
    rules       pure: the data files (address ranges, user-agent markers)
    addresses   pure: the canonical client address

``verdicts``, ``rules`` and ``addresses`` are pure (values in, values out)."""
