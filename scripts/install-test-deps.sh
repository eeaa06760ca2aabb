#!/usr/bin/env bash
# Debian packages the tests need: torch for the trainer, Chromium for the end-to-end tests.
# Idempotent and quick when everything is present.
set -euo pipefail
packages=(python3-torch python3-pytest python3-numpy libopenblas0-pthread chromium libkrb5-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
