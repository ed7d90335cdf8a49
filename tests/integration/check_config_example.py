#!/usr/bin/env python3
"""check_config_example.py: an example INI file against a program's config table.

Used by test_config_examples.sh. The table comes from the program itself
(`--config-keys`: "section.key=default", or "section.key" when required). The
example follows the format its header explains:

    [section]
    ; what the key is for (one line or more)
    ; Default: VALUE          ("(empty)" for "", "(required)" for no default)
    key = value               (set)   or   #key = value   (left at its default)

Checks, each failure printed on its own line naming the file, line and key:
  - every key of the table is in the example, once, in its section;
  - every key of the example is in the table (or listed as pending: a key
    another branch adds; once the table has it, it must leave the list);
  - each key has a comment block with an explanation and a "Default:" line
    equal to the table's default;
  - a key shown commented out ("#key = value") shows the default, and a
    required key is set;
  - no comment after a value (inih would cut the value at " ;").
With --strip-out PATH it also writes the example without the pending keys'
lines, for the program to load (it refuses keys it does not know yet).
Exit 0 when the example passes, 1 otherwise.
"""
import argparse
import re
import sys

SETTING = re.compile(r"^(#?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*?)[ \t]*$")
SECTION = re.compile(r"^\[([^\]]+)\][ \t]*$")
DEFAULT = re.compile(r"^;[ \t]*Default:[ \t]*(.*?)[ \t]*$")


def read_table(path):
    table = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            name, eq, default = line.partition("=")
            table[name] = default if eq else None
    return table


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", required=True, help="the output of the program's --config-keys")
    ap.add_argument("--example", required=True)
    ap.add_argument("--pending", default="", help="section.key ... not yet in this branch's table")
    ap.add_argument("--strip-out", help="write the example without pending keys here")
    a = ap.parse_args()

    table = read_table(a.keys)
    pending = set(a.pending.split())
    errors = []
    seen = {}
    strip_lines = set()
    section = ""
    block = []  # the ';' lines just above
    with open(a.example, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for no, line in enumerate(lines, 1):
        where = "%s:%d" % (a.example, no)
        if not line.strip():
            block = []
            continue
        m = SECTION.match(line)
        if m:
            section = m.group(1)
            block = []
            continue
        if line.startswith(";"):
            block.append(line)
            continue
        m = SETTING.match(line)
        if not m:
            errors.append("%s: not a [section], a '; comment' or a 'key = value' line: %r"
                          % (where, line))
            block = []
            continue
        commented, key, value = m.group(1) == "#", m.group(2), m.group(3)
        name = "%s.%s" % (section, key)
        if name in seen:
            errors.append("%s: %s appears twice (first on line %d)" % (where, name, seen[name]))
        seen[name] = no
        defaults = [DEFAULT.match(c) for c in block]
        defaults = [d.group(1) for d in defaults if d]
        prose = [c for c in block if not DEFAULT.match(c) and c.strip("; \t")]
        if not prose:
            errors.append("%s: %s has no comment saying what it is for" % (where, name))
        if len(defaults) != 1:
            errors.append("%s: %s needs one '; Default: VALUE' line above it, found %d"
                          % (where, name, len(defaults)))
        if " ;" in value or "\t;" in value:
            errors.append("%s: %s: a comment after the value would be cut into it; put it "
                          "on a line of its own" % (where, name))
        if name not in table:
            if name in pending:
                strip_lines.add(no)
            else:
                errors.append("%s: %s is not a key of the program (its --config-keys): "
                              "remove it or add it to the program's table" % (where, name))
            block = []
            continue
        want = table[name]
        if defaults:
            shown = defaults[0]
            got = None if shown == "(required)" else "" if shown == "(empty)" else shown
            if got != want:
                errors.append("%s: %s: the comment says 'Default: %s', the program's default "
                              "is %s" % (where, name, shown,
                                         "(required)" if want is None
                                         else "(empty)" if want == "" else want))
        if commented and want is None:
            errors.append("%s: %s is required: set it (no '#')" % (where, name))
        elif commented and value != want:
            errors.append("%s: %s is shown commented out with %r, which is not its default %r"
                          % (where, name, value, want))
        block = []
    for name in table:
        if name in pending:
            errors.append("%s: %s is listed as pending but the program has it now: remove it "
                          "from the pending list of test_config_examples.sh" % (a.example, name))
        if name not in seen:
            errors.append("%s: the program's key %s (default %s) is not documented in the "
                          "example: add it with a comment and its Default line"
                          % (a.example, name, "(required)" if table[name] is None
                             else table[name] or "(empty)"))
    if a.strip_out:
        with open(a.strip_out, "w", encoding="utf-8") as f:
            f.write("\n".join(l for no, l in enumerate(lines, 1) if no not in strip_lines))
    for e in errors:
        print(e)
    if not errors:
        print("%s: %d keys, every one documented with its default (%d pending)"
              % (a.example, len(table), len(strip_lines)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
