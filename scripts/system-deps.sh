#!/usr/bin/env bash
# Installs the system packages the integration tests drive (Debian's prometheus, chromium and redis-server), when missing and
# when this user can: root with apt-get. Otherwise those tests are skipped, and say so.
set -u
missing=()
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages for integration tests: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || echo "warning: could not install ${missing[*]}; their tests will be skipped"
else
  echo "note: ${missing[*]} not installed and not root: their integration tests will be skipped"
fi
exit 0
