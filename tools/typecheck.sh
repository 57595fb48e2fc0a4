#!/usr/bin/env bash
# mypy --strict over src/, then mypy over tests/ (strict, less two checks, see below).
#
# Why a script: setuptools installs src/adapters as sansio_chat.adapters (package-dir in
# pyproject.toml). mypy finds modules by directory only (mypy_path and
# explicit_package_bases cannot map one folder to another package name), and the editable
# install reaches the mapping through an import hook mypy does not run. So this checks a
# linked tree with the installed layout and reports paths as they are in the checkout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/sansio_chat"
cp -rs "$root/src/sansio_chat/." "$tree/sansio_chat/"
rm -rf "$tree/sansio_chat/adapters"
cp -rs "$root/src/adapters" "$tree/sansio_chat/adapters"
cp -rs "$root/tests" "$tree/tests"
find "$tree" -name __pycache__ -prune -exec rm -rf {} +
cd "$tree"
status=0
python -m mypy --config-file "$root/pyproject.toml" --no-incremental -p sansio_chat "$@" \
  > "$tree/out" 2>&1 || status=$?
# Tests: a state read after a call that changes it looks unreachable to mypy's narrowing
# (comparison-overlap), and some ignores are needed only on some Python versions.
python -m mypy --config-file "$root/pyproject.toml" --no-incremental \
  --disable-error-code comparison-overlap --no-warn-unused-ignores tests "$@" \
  >> "$tree/out" 2>&1 || status=$?
sed -e 's#^sansio_chat/adapters/#src/adapters/#' -e 's#^sansio_chat/#src/sansio_chat/#' "$tree/out"
exit "$status"
