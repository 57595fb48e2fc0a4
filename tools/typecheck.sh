#!/usr/bin/env bash
# mypy --strict over src/. setuptools installs src/adapters as sansio_chat.adapters, a
# mapping mypy cannot follow, so check a linked tree with the installed layout and report
# paths as they are in the checkout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/sansio_chat"
cp -rs "$root/src/sansio_chat/." "$tree/sansio_chat/"
rm -rf "$tree/sansio_chat/adapters"
cp -rs "$root/src/adapters" "$tree/sansio_chat/adapters"
find "$tree" -name __pycache__ -prune -exec rm -rf {} +
cd "$tree"
status=0
python -m mypy --config-file "$root/pyproject.toml" --no-incremental -p sansio_chat "$@" > "$tree/out" 2>&1 || status=$?
sed -e 's#^sansio_chat/adapters/#src/adapters/#' -e 's#^sansio_chat/#src/sansio_chat/#' "$tree/out"
exit "$status"
