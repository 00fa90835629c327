"""The writer's kept histories (server/hitpath/history.Memory) when a flood holds more
hits than they may: the emails kept stay kept across batches instead of every batch
reading every email's history again, and emails that stop getting hits make room for
new ones. Driven as drain.ingest drives it: ``expect`` the batch's emails, then per
group ``take`` and, after the commit, ``put``."""

from __future__ import annotations

from types import SimpleNamespace

from server.hitpath.history import Kept, Memory


class Writer:
    """Each email's ``history_rev`` and event count as the database would hold them."""

    def __init__(self, memory: Memory):
        self.memory = memory
        self.revs: dict[int, int] = {}
        self.hits: dict[int, int] = {}

    def batch(self, emails: list[int], new_hits: int = 1, group: int = 25) -> int:
        """Store ``new_hits`` on each email; returns how many histories had to be read."""
        self.memory.expect(emails)
        read = 0
        for start in range(0, len(emails), group):
            ids = emails[start:start + group]
            revs = {mid: self.revs.get(mid, 0) + 1 for mid in ids}  # history.lock bumps them
            found = self.memory.take(ids, revs, {mid: self.hits.get(mid, 0) for mid in ids})
            read += sum(mid not in found for mid in ids)
            for mid in ids:
                self.revs[mid] = revs[mid]
                self.hits[mid] = self.hits.get(mid, 0) + new_hits
                history = SimpleNamespace(message_id=mid, hits=[None] * self.hits[mid])
                self.memory.put(Kept(revs[mid], self.hits[mid], history, None, read=mid not in found))
        return read


def test_a_flood_larger_than_the_memory_reads_only_what_does_not_fit():
    # 200 emails of 10 hits each against room for 1,000 hits: half of them fit.
    writer = Writer(Memory(max_hits=1000))
    emails = list(range(1, 201))
    for mid in emails:
        writer.hits[mid] = 9
    assert writer.batch(emails) == 200  # nothing kept yet
    for _ in range(5):
        fit = 1000 // writer.hits[1]  # emails of their size that the memory holds
        # Least recently used would drop each email just before its group takes it:
        # all 200 read again, every batch.
        assert writer.batch(emails) == 200 - fit
        assert writer.memory._hits <= 1000


def test_emails_that_stop_getting_hits_make_room_for_new_ones():
    writer = Writer(Memory(max_hits=1500))
    old, new = list(range(1, 101)), list(range(101, 201))
    writer.batch(old, new_hits=9)
    assert writer.batch(old) == 0  # 100 emails of 10 hits
    assert writer.batch(new, new_hits=9) == 100  # the campaign moved on
    assert writer.batch(new) == 0  # kept in place of the idle ones
    assert len(writer.memory) < 200
    assert writer.batch(old[:10]) == 10  # the longest idle went first
    assert writer.batch(old[-10:]) == 0


def test_the_latest_history_is_kept_even_when_it_alone_is_over_the_cap():
    writer = Writer(Memory(max_hits=100))
    writer.hits[1] = 500
    writer.batch([1])
    assert len(writer.memory) == 1
    assert writer.batch([1]) == 0
