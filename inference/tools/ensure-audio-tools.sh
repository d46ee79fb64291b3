#!/usr/bin/env bash
# Runs before `npm test`: the tests make their audio with Debian's sox (keypad tones, μ-law,
# resampling) and espeak-ng (Arabic speech), and the batch pipeline decodes and probes with ffmpeg. When they are missing, installs them with apt-get where
# that is possible without asking (root, or passwordless sudo); otherwise says what to install and fails.
set -euo pipefail
packages=()
command -v sox >/dev/null 2>&1 || packages+=(sox)
command -v espeak-ng >/dev/null 2>&1 || packages+=(espeak-ng)
{ command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; } || packages+=(ffmpeg)
[ ${#packages[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
fi
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
  echo "npm test: installing ${packages[*]} (Debian packages the tests make and decode audio with)" >&2
  $sudo apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  exit 0
fi
echo "npm test needs ${packages[*]} to make and decode its test audio: install them (Debian/Ubuntu: apt-get install ${packages[*]}; macOS: brew install ${packages[*]})" >&2
exit 1
