#!/usr/bin/env bash
# Print the first Python interpreter that runs, among the versions given in order of preference:
#   scripts/find-python.sh 3.13 3.12 3.11   -> the newest supported one on this machine
# Looks on PATH (python3.X), then in pyenv's versions (whose shims answer "command not found" for a version
# that is installed but not selected), and falls back to python3.
for version in "$@"; do
  if command -v "python$version" >/dev/null 2>&1 && "python$version" -c "" >/dev/null 2>&1; then
    echo "python$version"
    exit 0
  fi
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/"$version"*/bin/"python$version"; do
      if [ -x "$candidate" ] && "$candidate" -c "" >/dev/null 2>&1; then
        echo "$candidate"
        exit 0
      fi
    done
  fi
done
echo python3
