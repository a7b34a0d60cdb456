#!/usr/bin/env bash
# Fails when a C++ function in src/ is longer than MAX_LINES (default 60), from the line of
# its name to its closing brace, as universal-ctags (Debian package universal-ctags) sees
# it. Lists every such function that is not exempt below, longest first.
#   scripts/check-function-length.sh
set -euo pipefail
cd "$(dirname "$0")/.."
max_lines=${MAX_LINES:-60}

# Exempt: functions whose length is their content, not nested logic. Each entry is the
# name ctags gives (Class::Method for members) and why. Keep the list short.
exempt=(
  # Frozen migrations: a schema step once shipped is never edited again.
  MoveToCampaignIdentity
  # Straight-line renderers: one field after another, in the order shown.
  RenderStatusText
  RenderStatusJson
)

command -v ctags >/dev/null || {
  echo "check-function-length: ctags not found (apt-get install universal-ctags)" >&2
  exit 2
}
ctags --version | grep -q "Universal Ctags" || {
  echo "check-function-length: ctags is not universal-ctags" >&2
  exit 2
}

mapfile -t files < <(find src -name '*.cc' -o -name '*.h' | sort)
# One tag per function definition: its name, file, scope, first line and last line.
long=$(ctags --languages=C++ --language-force=C++ --kinds-C++=f --fields=+neZ --extras=-F \
  -o - "${files[@]}" |
  awk -F'\t' -v max="$max_lines" -v exempt="${exempt[*]}" '
    BEGIN { n = split(exempt, e, " "); for (i = 1; i <= n; i++) skip[e[i]] = 1 }
    {
      first = ""; last = ""; scope = ""
      for (i = 4; i <= NF; i++) {
        if ($i ~ /^line:/) first = substr($i, 6)
        else if ($i ~ /^end:/) last = substr($i, 5)
        else if ($i ~ /^scope:class:/ || $i ~ /^scope:struct:/) {
          scope = $i; sub(/^scope:[a-z]*:/, "", scope); sub(/.*::/, "", scope)
        }
      }
      if (first == "" || last == "") next
      name = (scope == "" ? $1 : scope "::" $1)
      lines = last - first + 1
      if (lines > max && !(name in skip) && !($1 in skip))
        printf "%d %s:%s %s\n", lines, $2, first, name
    }' | sort -rn)

if [ -n "$long" ]; then
  echo "functions over $max_lines lines (split them, or exempt them in $0 with a reason):"
  echo "$long"
  exit 1
fi
echo "function length: no function in src/ over $max_lines lines (${#exempt[@]} exempt)"
