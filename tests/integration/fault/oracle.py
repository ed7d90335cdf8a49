#!/usr/bin/env python3
"""oracle.py: the fault tests' view of the outboxes and of PostgreSQL.

    oracle.py counts [-v] OUTBOX...
        One line: "queued=Q delivered=D refused=R total=T" summed over the
        outboxes (read-only; a missing or busy file counts as unknown: exit 3);
        with -v, then one "PATH queued=.. delivered=.. refused=.. total=.." line each.

    oracle.py check --db ROWS_FILE NAME=OUTBOX...
        ROWS_FILE: psql -A -t -F'|' output of
            select unit_code, agent_epoch, msg_id, revision, status from reports
        Compares the set of (unit, epoch, msg_id) stored with the set queued
        in the outboxes (epoch: meta.epoch, 16 hex digits, taken as the
        uint64 the agent sends and stored by the server as a signed bigint).
        Prints one line of key=value and, on a difference, the first few
        differing keys; exit 0 when stored == queued exactly, nothing stored
        twice, and no outbox row is still queued; else 1.

Standard library only.
"""
import sqlite3
import sys
from collections import Counter


def signed64(u):
    return u - (1 << 64) if u >= (1 << 63) else u


def read_outbox(path):
    """-> (epoch_signed, epoch_hex, unit-per-row list of (id, state, revision, unit))."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
        if not row or len(row[0]) != 16:
            raise ValueError("%s: no valid meta.epoch: %r" % (path, row))
        ehex = row[0].lower()
        rows = con.execute("SELECT id, state, revision, unit FROM outbox ORDER BY id").fetchall()
    finally:
        con.close()
    return signed64(int(ehex, 16)), ehex, rows


def cmd_counts(paths):
    verbose = bool(paths) and paths[0] == "-v"
    if verbose:
        paths = paths[1:]
    tot = Counter()
    lines = []
    for p in paths:
        try:
            con = sqlite3.connect("file:%s?mode=ro" % p, uri=True, timeout=2)
            c = Counter(dict(con.execute("SELECT state, count(*) FROM outbox GROUP BY state")))
            con.close()
        except sqlite3.Error as e:
            print("unknown err=%r" % str(e))
            return 3
        n = sum(c.values())
        tot.update(c)
        tot["total"] += n
        lines.append("%s queued=%d delivered=%d refused=%d total=%d"
                     % (p, c["queued"], c["delivered"], c["refused"], n))
    print("queued=%d delivered=%d refused=%d total=%d"
          % (tot["queued"], tot["delivered"], tot["refused"], tot["total"]))
    if verbose:
        for line in lines:
            print(line)
    return 0


def cmd_check(argv):
    db_file = None
    outboxes = []
    i = 0
    while i < len(argv):
        if argv[i] == "--db":
            db_file = argv[i + 1]
            i += 2
            continue
        name, _, path = argv[i].partition("=")
        outboxes.append((name, path))
        i += 1
    if not db_file or not outboxes:
        print("usage: oracle.py check --db ROWS NAME=OUTBOX...", file=sys.stderr)
        return 2

    expected = {}  # key -> (state, revision, name)
    states = Counter()
    for name, path in outboxes:
        epoch, ehex, rows = read_outbox(path)
        for rid, state, revision, unit in rows:
            expected[(unit, epoch, rid)] = (state, revision, name)
            states[state] += 1

    stored = []
    with open(db_file) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            unit, epoch, msg_id, revision, status = line.split("|")
            stored.append(((unit, int(epoch), int(msg_id)),
                           int(revision) if revision else None, status))

    keys = Counter(k for k, _, _ in stored)
    dup_keys = sum(n - 1 for n in keys.values() if n > 1)
    # A report stored twice under two ids (re-queued) shows as one unit's
    # revision stored twice: each report i of an agent carries revision i.
    # (Counted over distinct keys, so that one row stored twice counts once.)
    first = {}
    for k, rev, _ in stored:
        first.setdefault(k, rev)
    revs = Counter((k[0], rev) for k, rev in first.items())
    dup_revs = sum(n - 1 for n in revs.values() if n > 1)
    s = set(keys)
    e = set(expected)
    missing = sorted(e - s)
    extra = sorted(s - e)
    # The outbox's final state agrees with what the server stored: delivered
    # = accepted (maybe superseded since), refused or superseded (refused by
    # E007 alone under a newer revision) = rejected.
    mismatch = []
    wrong_rev = []
    for k, rev, status in stored:
        if k not in expected:
            continue
        state, erev, _ = expected[k]
        if erev is not None and rev is not None and erev != rev:
            wrong_rev.append(k)
        ok = (state == "delivered" and status in ("accepted", "superseded")) or \
             (state in ("refused", "superseded") and status == "rejected")
        if not ok and state != "queued":
            mismatch.append((k, state, status))
    status_counts = Counter(st for _, _, st in stored)

    duplicates = dup_keys + dup_revs
    fail = bool(missing or extra or duplicates or wrong_rev or states["queued"])
    print("submitted=%d stored=%d duplicates=%d missing=%d extra=%d wrong_revision=%d "
          "queued_left=%d outbox_delivered=%d outbox_refused=%d state_mismatch=%d db_status=%s"
          % (len(e), len(stored), duplicates, len(missing), len(extra), len(wrong_rev),
             states["queued"], states["delivered"], states["refused"], len(mismatch),
             ",".join("%s:%d" % kv for kv in sorted(status_counts.items())) or "-"))
    for label, items in (("missing", missing), ("extra", extra), ("wrong_revision", wrong_rev),
                         ("state_mismatch", mismatch)):
        for item in items[:10]:
            print("  %s %r" % (label, item))
        if len(items) > 10:
            print("  %s ... %d more" % (label, len(items) - 10))
    for label, counter in (("duplicate_key", keys), ("duplicate_revision", revs)):
        twice = [(k, n) for k, n in counter.items() if n > 1]
        for k, n in twice[:10]:
            print("  %s %r x%d" % (label, k, n))
        if len(twice) > 10:
            print("  %s ... %d more" % (label, len(twice) - 10))
    return 1 if fail else 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "counts":
        return cmd_counts(sys.argv[2:])
    if len(sys.argv) >= 2 and sys.argv[1] == "check":
        return cmd_check(sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
