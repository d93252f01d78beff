#!/usr/bin/env bash
# Runs the debug build of fastcached under valgrind memcheck; any leak or memory error makes the
# daemon exit 99 instead of 0, which the integration tests (they check the exit status after
# SIGTERM) report as a failure. Used by `make valgrind` as FASTCACHED_BIN.
here=$(cd "$(dirname "$0")/.." && pwd)
exec valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
    --log-file="${TMPDIR:-/tmp}/fastcached-valgrind.%p.log" "$here/build/debug/fastcached" "$@"
