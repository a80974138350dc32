#!/bin/bash
# GDB 13.1's own DejaGnu testsuite against csgdbserver and GNU gdbserver, side
# by side (board native-gdbserver), then pass/fail per set and the tests whose
# PASS count dropped.  Not part of CI: all sets take over an hour on 2 cores.
#
#   testsuite/gdb-testsuite/run.sh BUILD_DIR        (make gdb-testsuite)
#
# Environment:
#   SETS="gdb.server gdb.base"   sets to run (default: gdb.server gdb.base gdb.btrace
#                                gdb.threads gdb.mi gdb.python gdb.reverse gdb.trace)
#   TESTS="gdb.base/break.exp gdb.server/*.exp"   only these tests (globs ok);
#                                sets default to the directories named here
#   JOBS=2                       make -j for each run
#   CSGDBSERVER=BUILD_DIR/csgdbserver    server under test
#   GNU_GDBSERVER=/usr/bin/gdbserver     reference server
#   GDB=/usr/bin/gdb             client
#   GDB_SRC_CACHE=~/.cache/csgdbserver/gdb-src   source cache (outside the repo)
#   GDB_TESTSUITE_WORK=BUILD_DIR/gdb-testsuite   build/result directories
#   REUSE_BASELINE=1             keep an earlier GNU gdbserver result for the
#                                same set and TESTS instead of running it again
#   SHOW_DROPS=40                how many dropped tests to list per set
#   SIDES="csgdbserver gdbserver"   which servers to run (e.g. SIDES=gdbserver
#                                to prepare a baseline for REUSE_BASELINE)
set -u

die() { echo "gdb-testsuite: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || die "no build directory $1"
CSGDBSERVER=${CSGDBSERVER:-$BUILD_DIR/csgdbserver}
GNU_GDBSERVER=${GNU_GDBSERVER:-/usr/bin/gdbserver}
GDB=${GDB:-/usr/bin/gdb}
CACHE=${GDB_SRC_CACHE:-$HOME/.cache/csgdbserver/gdb-src}
WORK=${GDB_TESTSUITE_WORK:-$BUILD_DIR/gdb-testsuite}
JOBS=${JOBS:-2}
TESTS=${TESTS:-}
SHOW_DROPS=${SHOW_DROPS:-40}
REUSE_BASELINE=${REUSE_BASELINE:-0}
SIDES=${SIDES:-csgdbserver gdbserver}

if [ -z "${SETS:-}" ]; then
	if [ -n "$TESTS" ]; then
		SETS=$(for t in $TESTS; do echo "${t%%/*}"; done | sort -u | tr '\n' ' ')
		SETS=${SETS% }
	else
		SETS="gdb.server gdb.base gdb.btrace gdb.threads gdb.mi gdb.python gdb.reverse gdb.trace"
	fi
fi

needed=$GDB
case " $SIDES " in *" csgdbserver "*) needed="$needed $CSGDBSERVER" ;; esac
case " $SIDES " in *" gdbserver "*) needed="$needed $GNU_GDBSERVER" ;; esac
for s in $needed; do
	[ -x "$s" ] || die "not executable: $s (build it, or set CSGDBSERVER/GNU_GDBSERVER/GDB)"
done
command -v runtest >/dev/null || need_dejagnu=1

# --- source: Debian's gdb source package, fetched once into $CACHE ---------
fetch_source() {
	SRC=$(ls -d "$CACHE"/gdb-*/gdb/testsuite 2>/dev/null | head -n 1)
	if [ -n "$SRC" ] && [ -x "$SRC/configure" ] && [ -z "${need_dejagnu:-}" ]; then
		return
	fi
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	if ! grep -qs '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources &&
	   ! grep -qs '^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then
		echo "gdb-testsuite: enabling deb-src (/etc/apt/sources.list.d/src.sources)"
		[ -f /etc/apt/sources.list.d/debian.sources ] ||
			die "no /etc/apt/sources.list.d/debian.sources to copy; add a deb-src entry by hand"
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
			$sudo tee /etc/apt/sources.list.d/src.sources >/dev/null || die "cannot write src.sources"
		$sudo apt-get update -q || die "apt-get update failed"
	fi
	if [ -n "${need_dejagnu:-}" ]; then
		$sudo apt-get install -y -q dejagnu || die "cannot install dejagnu"
	fi
	if [ -z "$SRC" ]; then
		mkdir -p "$CACHE" || die "cannot create $CACHE"
		(cd "$CACHE" && apt-get source --download-only gdb) || die "apt-get source gdb failed"
		local orig='' f
		for f in "$CACHE"/gdb_*.orig.tar.*; do
			case $f in *.asc) ;; *) [ -f "$f" ] && orig=$f ;; esac
		done
		[ -n "$orig" ] || die "no gdb_*.orig.tar.* in $CACHE"
		echo "gdb-testsuite: unpacking $orig"
		tar -C "$CACHE" -xf "$orig" || die "cannot unpack $orig"
		SRC=$(ls -d "$CACHE"/gdb-*/gdb/testsuite 2>/dev/null | head -n 1)
	fi
	[ -n "$SRC" ] && [ -x "$SRC/configure" ] || die "no gdb/testsuite/configure under $CACHE"
}

# --- one run: SERVER_NAME SERVER_PATH SET ----------------------------------
tests_of_set() {   # the TESTS argument for one set
	local set=$1 t out=
	if [ -z "$TESTS" ]; then echo "$set/*.exp"; return; fi
	for t in $TESTS; do
		case $t in "$set"/*) out="$out $t" ;; esac
	done
	echo "${out# }"
}

run_set() {
	local name=$1 server=$2 set=$3 dir=$WORK/$1/$3 tests
	tests=$(tests_of_set "$set")
	[ -n "$tests" ] || die "TESTS names nothing in $set"
	mkdir -p "$dir" || die "cannot create $dir"
	if [ "$name" = gdbserver ] && [ "$REUSE_BASELINE" = 1 ] && [ -s "$dir/gdb.sum" ] &&
	   [ "$(cat "$dir/run.tests" 2>/dev/null)" = "$tests $server" ]; then
		echo "  $name $set: reusing $dir/gdb.sum"
		return
	fi
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$SRC/configure" >configure.log 2>&1 9>&-) ||
			die "configure failed, see $dir/configure.log"
	fi
	rm -rf "$dir/outputs" "$dir/gdb.sum" "$dir/gdb.log" "$dir/run.tests"
	local t0=$SECONDS
	echo "  $name $set: running ($tests) in $dir ..."
	# make check exits non-zero whenever a test fails: results are in gdb.sum.
	# FORCE_PARALLEL: with RUNTESTFLAGS set, -j alone would run serially.
	local par=
	[ "$JOBS" -gt 1 ] && par=FORCE_PARALLEL=1
	(cd "$dir" && make -j"$JOBS" check $par TESTS="$tests" \
		RUNTESTFLAGS="--target_board=native-gdbserver GDB=$GDB GDBSERVER=$server" \
		>make.log 2>&1 9>&-)   # stray servers must not keep the lock
	echo "$((SECONDS - t0))" >"$dir/run.seconds"
	echo "$tests $server" >"$dir/run.tests"
	[ -s "$dir/gdb.sum" ] || die "no gdb.sum in $dir, see $dir/make.log"
	echo "  $name $set: done in $((SECONDS - t0)) s"
}

# --- report ------------------------------------------------------------------
count() { grep -c "^$2: " "$1" 2>/dev/null; }   # FILE RESULT

report_set() {
	local set=$1 cs=$WORK/csgdbserver/$1/gdb.sum gnu=$WORK/gdbserver/$1/gdb.sum
	echo
	echo "== $set =="
	printf '%-12s %8s %6s %6s %6s %6s %6s %6s %8s  %s\n' server PASS FAIL XFAIL KFAIL UNSUP UNRES other seconds finished
	local name f p fl xf kf un ur tot other sec
	for name in csgdbserver gdbserver; do
		f=$WORK/$name/$set/gdb.sum
		if [ ! -s "$f" ]; then printf '%-12s %8s\n' "$name" "not run"; continue; fi
		p=$(count "$f" PASS); fl=$(count "$f" FAIL); xf=$(count "$f" XFAIL)
		kf=$(count "$f" KFAIL); un=$(count "$f" UNSUPPORTED); ur=$(count "$f" UNRESOLVED)
		tot=$(grep -cE '^[A-Z]+: ' "$f")
		other=$((tot - p - fl - xf - kf - un - ur))
		sec=$(cat "$WORK/$name/$set/run.seconds" 2>/dev/null || echo '?')
		printf '%-12s %8d %6d %6d %6d %6d %6d %6d %8s  %s\n' "$name" "$p" "$fl" "$xf" "$kf" "$un" "$ur" "$other" "$sec" "$(date -r "$f" '+%F %H:%M')"
	done
	local pcs pgnu
	[ -s "$cs" ] && [ -s "$gnu" ] || return 0
	pcs=$(count "$cs" PASS); pgnu=$(count "$gnu" PASS)
	if [ "$pgnu" -gt 0 ]; then
		awk -v a="$pcs" -v b="$pgnu" 'BEGIN { printf "csgdbserver passes: %d of %d = %.2f %% of gdbserver'"'"'s\n", a, b, 100 * a / b }'
	fi
	# Per .exp file: PASS count on each side, listed where csgdbserver has fewer.
	local drops=$WORK/drops-$set.txt
	awk '
		FNR == 1 { side++ }
		/^[A-Z]+: / {
			res = $1; sub(/:$/, "", res)
			t = $2; sub(/:$/, "", t)
			seen[t] = 1
			if (res == "PASS") pass[side, t]++
			if (res == "FAIL" || res == "UNRESOLVED" || res == "ERROR") bad[side, t]++
		}
		END {
			for (t in seen) {
				d = pass[2, t] - pass[1, t]
				if (d > 0)
					printf "%6d %6d %6d %6d  %s\n", d, pass[1, t], pass[2, t], bad[1, t], t
			}
		}' "$cs" "$gnu" | sort -k1,1nr -k5 >"$drops"
	local n
	n=$(wc -l <"$drops")
	if [ "$n" -eq 0 ]; then
		echo "no test file has fewer passes with csgdbserver"
	else
		echo "$n test files with fewer passes with csgdbserver (full list: $drops):"
		printf '%6s %6s %6s %6s  %s\n' drop cs gnu cs-bad test
		head -n "$SHOW_DROPS" "$drops"
		[ "$n" -le "$SHOW_DROPS" ] || echo "  ... $((n - SHOW_DROPS)) more"
	fi
	echo "logs: $WORK/csgdbserver/$set/gdb.{sum,log}  $WORK/gdbserver/$set/gdb.{sum,log}"
}

mkdir -p "$WORK" || die "cannot create $WORK"
# Two runs in one work directory would overwrite each other's results.
exec 9>"$WORK/.lock"
flock -n 9 || die "another run is using $WORK (set GDB_TESTSUITE_WORK for a separate one)"
fetch_source
echo "gdb-testsuite: source $SRC"
echo "gdb-testsuite: sets: $SETS${TESTS:+ (TESTS=$TESTS)}, make -j$JOBS"
for side in $SIDES; do
	case $side in
	csgdbserver) echo "  csgdbserver = $CSGDBSERVER ($("$CSGDBSERVER" --version 2>&1 | head -n 1))" ;;
	gdbserver) echo "  gdbserver   = $GNU_GDBSERVER ($("$GNU_GDBSERVER" --version 2>&1 | head -n 1))" ;;
	*) die "SIDES: unknown server $side (csgdbserver or gdbserver)" ;;
	esac
done
echo "  gdb         = $GDB"
for set in $SETS; do
	[ -d "$SRC/$set" ] || die "no test set $set in $SRC"
	case " $SIDES " in *" csgdbserver "*) run_set csgdbserver "$CSGDBSERVER" "$set" ;; esac
	case " $SIDES " in *" gdbserver "*) run_set gdbserver "$GNU_GDBSERVER" "$set" ;; esac
done
for set in $SETS; do
	report_set "$set"
done
