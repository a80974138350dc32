#!/bin/sh
# Integration tests: the real gdb against $SERVER (default BUILD/csgdbserver).
#   testsuite/run-integration.sh BUILD_DIR [TEST_NAME_SUBSTRING...]
#   SERVER=/usr/bin/gdbserver testsuite/run-integration.sh build   # reference
# Ends with "integration: N passed, N failed[, N skipped]"; exit 1 on failure.
if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [TEST_NAME_SUBSTRING...]" >&2
	exit 2
fi
exec python3 "$(dirname "$0")/integration/runner.py" "$@"
