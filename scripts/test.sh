#!/usr/bin/env bash
# The project's test command (README): formatting, go vet, and every test
# with the race detector. CI runs exactly this after installing what the
# tests need (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" $unformatted >&2
  exit 1
fi
go vet ./...
go test -race -count=1 -timeout 45m ./...
