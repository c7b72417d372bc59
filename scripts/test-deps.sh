#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the npm packages (if missing)
# and the real components tests run against — shellcheck, HAProxy, MariaDB, iproute2 (network
# namespaces), util-linux (unshare, nsenter), openssl, systemd-container (systemd-nspawn boots
# the throwaway nodes of test/nodes) and wine64 (the guard's Windows code paths run under wine:
# about 105 MB download, 700 MB on disk, 90 s to install). Safe to run again: installs only what
# is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v haproxy >/dev/null || need+=(haproxy)
{ command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ]; } || need+=(mariadb-server)
command -v ip >/dev/null || need+=(iproute2)
command -v unshare >/dev/null || need+=(util-linux)
command -v openssl >/dev/null || need+=(openssl) # the database harness makes a private CA per run
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15) # the pre-16 role rules (startPostgres({ version: 15 }))
command -v java >/dev/null || need+=(default-jre-headless) # PaperCut's JDBC URL, checked with the real driver
[ -f /usr/share/java/postgresql.jar ] || need+=(libpostgresql-jdbc-java) # pgjdbc for test/guard/app/papercut-jdbc.test.ts
command -v systemd-nspawn >/dev/null || need+=(systemd-container) # booted-node tests (systemd 252 nodes)
command -v python3 >/dev/null || need+=(python3) # a stand-in systemd notify socket (Node cannot bind unix datagrams)
command -v systemd-notify >/dev/null || need+=(systemd) # the guard's sd_notify goes through systemd-notify
{ command -v wine64 >/dev/null || [ -x /usr/lib/wine/wine64 ]; } || need+=(wine64) # test/guard/platform/windows/windows-wine.test.ts
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-deps: missing ${need[*]}; run as root (or install them) first" >&2
    exit 1
  fi
  echo "test-deps: installing ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# MariaDB's and PostgreSQL's packages may start a system server; tests run their own on free ports.
for unit in mariadb postgresql; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then systemctl stop "$unit" || true; fi
done
[ -d node_modules ] || npm ci
echo "test-deps: ready"
