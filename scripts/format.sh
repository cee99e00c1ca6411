#!/usr/bin/env bash
# Formats every tracked C source and header in place with clang-format and .clang-format.
# `format.sh --check` changes nothing: it lists the files that would change (and how many of
# their lines) and exits 1 when there is any. The style was tuned with clang-format 14, Debian
# 12's (`scripts/deps.sh test` installs it); another version may lay some lines out differently.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: scripts/format.sh [--check]" >&2; exit 2 ;;
esac

cf=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$cf" ]; then
  echo "format.sh: clang-format not found (scripts/deps.sh test installs it)" >&2
  exit 2
fi
"$cf" --version | grep -q ' version 14\.' ||
  echo "format.sh: warning: $("$cf" --version) is not version 14" >&2

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files -- '*.c' '*.h')
else
  mapfile -t files < <(find src tests bench -name '*.[ch]' | sort)
fi

if [ $check = 0 ]; then
  printf '%s\0' "${files[@]}" | xargs -0 -n 20 -P 2 "$cf" -i
  echo "format.sh: ${#files[@]} files formatted"
  exit 0
fi

diffs=$(mktemp)
trap 'rm -f "$diffs"' EXIT
n_files=0 n_lines=0
for f in "${files[@]}"; do
  if ! "$cf" "$f" | diff -- "$f" - >"$diffs"; then
    n=$(grep -c '^<' "$diffs" || true) # lines of the file that would be rewritten or removed
    echo "$f: $n lines would change"
    n_files=$((n_files + 1)) n_lines=$((n_lines + n))
  fi
done
echo "format.sh --check: $n_files of ${#files[@]} files would change ($n_lines lines);" \
  "scripts/format.sh formats them"
[ $n_files = 0 ]
