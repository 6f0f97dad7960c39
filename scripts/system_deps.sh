#!/usr/bin/env bash
# Install the Debian packages the test suite (and, for make bench, the benchmarks) needs, only when missing and only
# as root; otherwise print the exact command and stop.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# clamd (ClamAV's daemon): the upload tests scan through a real one, started with
# the shipped EICAR-only signatures (scripts/clamd_test_signatures); freshclam is not needed.
{ command -v clamd || ls /usr/sbin/clamd; } >/dev/null 2>&1 || missing+=(clamav-daemon)
# `make bench` (GOVSERVE_SYSTEM_DEPS=bench): wrk drives the journey pages' load.
if [ "${GOVSERVE_SYSTEM_DEPS:-}" = "bench" ]; then
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "govserve setup: the tests need: ${missing[*]}. Run as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "govserve setup: installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
