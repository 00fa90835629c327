"""``python -m server.granian_run ARGS``: granian's own command line (`engage serve`'s
web processes), with its stop signals made safe to receive twice.

granian's main process handles SIGTERM and SIGINT with a Python handler that calls
``threading.Event.set``. That takes the event's lock; a second signal arriving while the
first handler holds it runs the handler again on the same thread, which then waits for
a lock it holds itself, for ever. A stop often sends two: systemd's default
``KillMode=control-group`` (and a terminal's Ctrl-C, and a test's ``killpg``) signals
every process of the service, and `engage serve` forwards its own SIGTERM to granian as
well. Once a worker's lost signal was fixed (``stop_if_told_while_starting`` below),
this still hung one of five starts and stops of ``engage serve`` in a row until
killed (py-spy: the handler inside ``Event.set``, twice). Here the handler only starts a thread that runs granian's:
that thread waits for the lock like any other, so no signal is lost and none deadlocks.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading


def deferred(handler):
    """``handler`` (a signal handler), run on its own thread; ``told`` says it was
    called, for a forked worker that inherited it (``stop_if_told_while_starting``)."""
    def on_signal(signum, frame):
        on_signal.told = True
        threading.Thread(target=handler, args=(signum, None), name="granian-signal", daemon=True).start()

    on_signal.told = False
    return on_signal


def patch() -> bool:
    """Wrap granian's main-process handlers; False where this granian has no such hook
    (it then runs unchanged)."""
    try:
        from granian.server import common
    except ImportError:
        return False
    original = getattr(common, "set_main_signals", None)
    if original is None or getattr(original, "engage_deferred", False):
        return original is not None

    def set_main_signals(interrupt_handler, reload_handler=None):
        return original(deferred(interrupt_handler), deferred(reload_handler) if reload_handler else None)

    set_main_signals.engage_deferred = True
    common.set_main_signals = set_main_signals
    return True


def stop_if_told_while_starting() -> None:
    """A granian worker forks with its parent's Python signal handlers, which only set a
    flag in the parent's server object: a SIGTERM that reached a worker while it was
    still building the app (seconds) was lost, and the worker then served on until
    killed, holding up every stop of `engage serve` by the kill timeout (a systemd
    stop or a restart right after a start, or 15 s of CI's time a test server). Until
    granian installs its own handlers on the worker's loop, a stop signal ends the
    worker at once: it has served nothing yet. One that came before this point is read
    from what the inherited handler noted (``deferred`` above, or granian's own)."""
    if multiprocessing.current_process().name != "granian-worker":
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        inherited = signal.getsignal(sig)
        if getattr(inherited, "told", False) is True or \
                getattr(getattr(inherited, "__self__", None), "interrupt_signal", False) is True:
            os._exit(0)
        signal.signal(sig, lambda *_: os._exit(0))


def main() -> None:
    patch()
    from granian.cli import entrypoint

    entrypoint()


if __name__ == "__main__":
    main()
