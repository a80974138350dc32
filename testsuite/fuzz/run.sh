#!/bin/sh
# `make fuzz`: build the libFuzzer harnesses with clang (ASan + UBSan) and
# run each for FUZZ_SECONDS (default 60) from the seed corpus (FUZZ_ONLY=NAME:
# that harness only).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
# fuzz_trace_decode loads the shared snapshots (../shared beside the tree)
export CSG_SHARED="${CSG_SHARED:-$(dirname "$top")/shared}"
secs=${FUZZ_SECONDS:-60}
out=build-fuzz
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -g -O1"
make -s BUILD=$out CC=clang SANFLAGS="$flags" \
	$out/libserver.a $out/libagent.a $out/libcstrace.a $out/libetm.a $out/libarch.a $out/libprotocol.a $out/libcommon.a
libs="$out/libserver.a $out/libagent.a $out/libcstrace.a $out/libetm.a $out/libarch.a $out/libprotocol.a $out/libcommon.a -lopencsd_c_api -lopencsd -lexpat -lelf -lpthread"
status=0
for src in testsuite/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	[ -z "${FUZZ_ONLY:-}" ] || [ "$name" = "$FUZZ_ONLY" ] || continue
	clang -std=c17 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -g -O1 -o "$out/$name" "$src" $libs
	corpus="$out/corpus-$name"
	mkdir -p "$corpus"
	[ ! -d "testsuite/fuzz/seeds/$name" ] || cp -n testsuite/fuzz/seeds/$name/* "$corpus"/ 2>/dev/null || true
	# a harness may ask for longer inputs (its seeds are larger): FUZZ_MAX_LEN=N in its text
	maxlen=$(sed -n 's/.*FUZZ_MAX_LEN=\([0-9]*\).*/\1/p' "$src" | head -1)
	echo "== $name: $secs s"
	# crash/leak inputs go to build-fuzz/, not into the tree
	if "$out/$name" -max_total_time="$secs" -max_len="${maxlen:-4096}" -print_final_stats=1 \
		-artifact_prefix="$out/$name-" "$corpus" \
		>"$out/$name.log" 2>&1; then
		echo "$name: no crash; $(grep -E 'stat::number_of_executed_units' "$out/$name.log" | awk '{print $2}') inputs, corpus $(ls "$corpus" | wc -l) files"
	else
		status=1
		echo "$name: FAILED — see $out/$name.log"
		grep -E 'ERROR|SUMMARY' "$out/$name.log" | head -5
	fi
done
exit $status
