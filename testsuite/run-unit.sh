#!/bin/sh
# Run unit test binaries; each prints "NAME: N passed, N failed".
# UNIT_RUNNER (e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu") runs cross builds.
pass=0 fail=0 bad=0
for t in "$@"; do
	out=$(${UNIT_RUNNER:-} "$t" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -v '^$' | sed 's/^/  /'
	line=$(printf '%s\n' "$out" | grep -E ': [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		echo "  $t: crashed or printed no summary (exit $rc)"; bad=$((bad + 1)); continue
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
	pass=$((pass + p)); fail=$((fail + f))
	[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || bad=$((bad + 1))
done
fail=$((fail + bad))
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
