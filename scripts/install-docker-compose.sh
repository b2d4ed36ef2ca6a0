#!/usr/bin/env bash
# docker-compose from Debian's packages, for tests/deploy/compose.test.ts (`docker-compose config`
# validates the compose file; no Docker engine is needed). A no-op when it is already there.
set -euo pipefail
if command -v docker-compose >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-docker-compose: docker-compose is missing and this user cannot run apt-get; install it with: apt-get install -y docker-compose" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends docker-compose
docker-compose version >/dev/null
