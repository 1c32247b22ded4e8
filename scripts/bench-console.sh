#!/usr/bin/env bash
# Benchmarks of the command path: parse + resolve of a typical command, one
# command through a session, a 100,000-line deck through a session in
# process, and a console round trip over the console socket.
# Figures go to docs/performance.md with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./grammar -run '^$' -bench . -benchmem -count 3
go test ./command -run '^$' -bench 'ParseResolve|SessionDo' -benchmem -count 5
go test ./command/ops -run '^$' -bench 'Deck100k' -benchtime 5x -count 3
go test ./command/ops -run '^$' -bench 'ConsoleRoundTrip' -benchtime 20000x -count 3
