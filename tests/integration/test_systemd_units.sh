#!/usr/bin/env bash
# The systemd units as `cmake --install` puts them (into a DESTDIR here) pass
# `systemd-analyze verify` without a word, name installed binaries, users that
# cchc.sysusers creates, and the configuration and state paths the examples
# use; and their sandbox rates "OK" in `systemd-analyze security`.
#
# PID 1 here is not systemd: `verify` loads each unit into a manager of its own
# (it needs no running systemd), and checks, among the rest, that ExecStart's
# program exists. The installed units name the final paths (/usr/local/bin/...),
# which exist only under the DESTDIR, so each is verified as a copy whose
# ExecStart points into the DESTDIR; that ExecStart names exactly the file the
# install wrote is checked separately. The check is shown failing first.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || fail "systemd-analyze not found: run deploy/install-deps.sh (package systemd)"

ROOT=$T/root
DESTDIR=$ROOT cmake --install "$CCHC_BIN" >"$T/install.log" 2>&1 || fail "cmake --install failed: $(tail -5 "$T/install.log")"
unit_of() { find "$ROOT" -name "$1" -path '*/systemd/system/*' | head -n 1; }
SYSUSERS=$(find "$ROOT" -path '*/sysusers.d/cchc.conf' | head -n 1)
[ -n "$SYSUSERS" ] || fail "no sysusers.d/cchc.conf installed: $(cat "$T/install.log")"
for f in cchc-server cchc-agent cchc cchc-web; do
  grep -q "Installing: .*/bin/$f\$" "$T/install.log" || fail "$f is not installed: $(cat "$T/install.log")"
done
for f in server.ini agent.ini admin.ini web.ini; do
  grep -q "Installing: .*/doc/cchc/examples/$f\$" "$T/install.log" || fail "example $f is not installed"
done
pass "cmake --install puts the four programs, the three units, sysusers.d/cchc.conf and the examples in place"

# verify_clean UNIT_FILE: systemd-analyze verify, which exits 0 on a warning
# such as an unknown directive: any output at all is a failure.
verify_clean() {
  local out rc
  out=$(systemd-analyze verify "$1" 2>&1); rc=$?
  [ $rc = 0 ] && [ -z "$out" ] && return 0
  echo "rc=$rc: $out"
  return 1
}
# for_verify UNIT OUT: the unit with ExecStart's program under the DESTDIR.
for_verify() {
  sed "s|^ExecStart=\\([^ ]*\\)|ExecStart=$ROOT\\1|" "$1" >"$2"
}

SERVER_UNIT=$(unit_of cchc-server.service)
AGENT_UNIT=$(unit_of cchc-agent.service)
WEB_UNIT=$(unit_of cchc-web.service)
[ -n "$SERVER_UNIT" ] && [ -n "$AGENT_UNIT" ] && [ -n "$WEB_UNIT" ] || fail "units not installed: $(cat "$T/install.log")"

# ---- the check can fail ---------------------------------------------------------
mkdir -p "$T/bad"
for_verify "$SERVER_UNIT" "$T/bad/cchc-server.service"
sed -i 's/^ProtectHome=yes$/ProtectHomes=yes/' "$T/bad/cchc-server.service"
out=$(verify_clean "$T/bad/cchc-server.service") && fail "verify passed a misspelled directive"
echo "$out" | grep -q "Unknown key 'ProtectHomes'" || fail "verify did not name the misspelled directive: $out"
sed "s|^ExecStart=[^ ]*|ExecStart=$ROOT/nowhere/cchc-server|" "$SERVER_UNIT" >"$T/bad/cchc-server.service"
out=$(verify_clean "$T/bad/cchc-server.service") && fail "verify passed an ExecStart that does not exist"
echo "$out" | grep -q 'is not executable' || fail "verify did not name the missing program: $out"
pass "the check fails on a misspelled directive and on a missing program"

# ---- the units ----------------------------------------------------------------------
mkdir -p "$T/verify"
for unit in "$SERVER_UNIT" "$AGENT_UNIT" "$WEB_UNIT"; do
  name=$(basename "$unit")
  exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
  case $exe in /*) ;; *) fail "$name: ExecStart is not an absolute path: $exe" ;; esac
  [ -x "$ROOT$exe" ] || fail "$name: ExecStart names $exe, which the install did not write"
  for_verify "$unit" "$T/verify/$name"
  out=$(verify_clean "$T/verify/$name") || fail "systemd-analyze verify $name: $out"
  systemd-analyze security --offline=yes --threshold=20 "$T/verify/$name" >"$T/security-$name.txt" 2>&1 \
    || fail "$name: exposure over 2.0: $(tail -n 1 "$T/security-$name.txt")"
  level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/security-$name.txt")
  user=$(sed -n 's/^User=//p' "$unit")
  grep -Eq "^u[[:space:]]+$user[[:space:]]" "$SYSUSERS" || fail "$name runs as $user, whom cchc.sysusers does not create"
  for want in Type=notify NotifyAccess=main Restart=on-failure RestartPreventExitStatus=2 \
              ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
              CapabilityBoundingSet= WantedBy=multi-user.target; do
    grep -qx "$want" "$unit" || fail "$name lacks $want"
  done
  # Neither program reloads on SIGHUP (its default action ends the process).
  grep -q '^ExecReload=' "$unit" && fail "$name has ExecReload=, but the program has no SIGHUP reload"
  pass "$name: verify says nothing, runs $exe as $user (from sysusers.d), exposure $level (OK)"
done

grep -qx 'LimitNOFILE=65536' "$SERVER_UNIT" || fail "cchc-server.service: LimitNOFILE=65536 expected (10,000 agents)"
grep -q '^ReadWritePaths=\|^StateDirectory=' "$SERVER_UNIT" && fail "the server writes no file: it needs no writable path"
grep -qx 'StateDirectory=cchc-agent' "$AGENT_UNIT" || fail "cchc-agent.service: StateDirectory=cchc-agent expected"
grep -q '^ReadWritePaths=' "$AGENT_UNIT" && fail "the agent's only writable path is its StateDirectory"
grep -q '^ReadWritePaths=\|^StateDirectory=' "$WEB_UNIT" && fail "cchc-web writes no file: it needs no writable path"
pass "server: LimitNOFILE=65536, no writable path; agent: /var/lib/cchc-agent (StateDirectory) only; web: no writable path"

# The paths in the units are those the examples are written for.
conf=$(sed -n 's/^ExecStart=[^ ]* -c \([^ ]*\).*/\1/p' "$SERVER_UNIT")
grep -q "$conf" "$CCHC_SRC/deploy/examples/server.ini" || fail "examples/server.ini never mentions $conf"
conf=$(sed -n 's/^ExecStart=[^ ]* -c \([^ ]*\) run$/\1/p' "$AGENT_UNIT")
[ -n "$conf" ] || fail "cchc-agent.service: ExecStart should be 'cchc-agent -c FILE run'"
grep -q "$conf" "$CCHC_SRC/deploy/examples/agent.ini" || fail "examples/agent.ini never mentions $conf"
grep -qx 'outbox = /var/lib/cchc-agent/outbox.db' "$CCHC_SRC/deploy/examples/agent.ini" \
  || fail "examples/agent.ini must keep the outbox in the agent's StateDirectory"
conf=$(sed -n 's/^ExecStart=[^ ]* -c \([^ ]*\)$/\1/p' "$WEB_UNIT")
[ -n "$conf" ] || fail "cchc-web.service: ExecStart should be 'cchc-web -c FILE'"
grep -q "$conf" "$CCHC_SRC/deploy/examples/web.ini" || fail "examples/web.ini never mentions $conf"
user=$(sed -n 's/^User=//p' "$WEB_UNIT")
grep -q "^conninfo = .*user=$user\( \|\$\)" "$CCHC_SRC/deploy/examples/web.ini" \
  || fail "examples/web.ini's conninfo should log in as $user (peer authentication)"
pass "the units read the files the examples describe; the agent's outbox is in its StateDirectory; cchc-web logs in as its system user"

# sysusers.d: what systemd-sysusers would do on an empty system.
mkdir -p "$T/sysroot/etc"
systemd-sysusers --dry-run --root="$T/sysroot" "$SYSUSERS" >"$T/sysusers.txt" 2>&1 \
  || fail "systemd-sysusers refused cchc.conf: $(cat "$T/sysusers.txt")"
for u in cchc cchc-agent cchc-web; do
  grep -q "Creating user '$u' " "$T/sysusers.txt" || fail "systemd-sysusers would not create $u: $(cat "$T/sysusers.txt")"
done
pass "systemd-sysusers --dry-run creates the users cchc, cchc-agent and cchc-web"
