#!/usr/bin/env bash
# End-to-end throughput, scaling and memory of `gleaner extract` on synthetic dumps.
#
# Usage: benches/throughput.sh [SIZE...]        (default: 100MB 1GB)
#   BENCH_DIR   where dumps and outputs go (default /tmp/gleaner-bench; dumps are reused)
#   BENCH_JOBS  the --jobs values to try (default "1 2")
#   BENCH_SEED  generator seed (default 42)
#   BENCH_GZIP  1 to benchmark gzipped dumps (default 0)
#
# Builds in release mode, generates each dump once with `gleaner generate` (deterministic
# from the seed), then runs `gleaner extract --timings` under /usr/bin/time -v for each
# size and job count. Prints one Markdown table of the runs and one of where the time went
# (stage times and "encoding", the rows formatted beside the stages, are summed over the
# worker threads; "writing" is copying the rows out, on the driver thread beside the
# workers; "finishing" the incident merge and closing the tables), and the scaling from the
# first to each further --jobs value. On a shared machine wall times depend on the load; CPU seconds (user + system,
# from GNU time) and MB per CPU-second depend much less on it. Also measures start-up:
# loading and compiling the gazetteers and rules on an input of one article. Figures and
# their reading: docs/performance.md.
set -euo pipefail

cd "$(dirname "$0")/.."
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(100MB 1GB)
DIR=${BENCH_DIR:-/tmp/gleaner-bench}
JOBS=${BENCH_JOBS:-"1 2"}
SEED=${BENCH_SEED:-42}
GZIP=${BENCH_GZIP:-0}
mkdir -p "$DIR"

[ -x /usr/bin/time ] || { echo "throughput.sh: needs GNU time (/usr/bin/time, package 'time')" >&2; exit 2; }

cargo build --release --quiet
BIN=target/release/gleaner

echo "# machine"
echo
echo "- cores: $(nproc); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "- memory: $(awk '/MemTotal/ {printf "%.1f GB", $2/1e6}' /proc/meminfo); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- gleaner $(git describe --always --dirty 2>/dev/null || echo '?'), $(rustc --version)"
echo

# Runs the binary under GNU time; leaves its stderr (timings, summary) and time's report in $1.
measure() {
    local log=$1
    shift
    /usr/bin/time -v -o "$log.time" "$BIN" "$@" 2>"$log" || {
        echo "throughput.sh: '$BIN $*' failed, see $log" >&2
        exit 2
    }
}

field() { # field LOG NAME -> the figure after "timings: NAME"
    awk -v n="$2" '$1 == "timings:" && $2 == n {print $3}' "$1"
}
rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$1.time"; }
cpu_s() { awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.2f", s}' "$1.time"; }
wall_s() { # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:12.34"
    awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$1.time"
}

# Start-up: one short article, one job.
one="$DIR/one.jsonl"
printf '%s\n' '{"id": "one", "text": "Two people were killed in Kabul on Monday, police said."}' >"$one"
measure "$DIR/startup.log" extract "$one" --out "$DIR/out-startup" --jobs 1 --quiet --timings
echo "# start-up"
echo
echo "loading and compiling gazetteers and rules: $(field "$DIR/startup.log" startup) s;" \
    "whole run on one article: $(wall_s "$DIR/startup.log") s wall, $(rss_mb "$DIR/startup.log") MB peak RSS"
echo

runs=()
for size in "${SIZES[@]}"; do
    dump="$DIR/dump-$size-s$SEED.jsonl"
    gen_args=()
    if [ "$GZIP" = 1 ]; then
        dump="$dump.gz"
        gen_args=(--gzip)
    fi
    if [ ! -s "$dump" ]; then
        "$BIN" generate --size "$size" --seed "$SEED" "${gen_args[@]}" --out "$dump.part" 2>"$DIR/generate-$size.log"
        mv "$dump.part" "$dump"
    fi
    for j in $JOBS; do
        log="$DIR/run-$size-j$j.log"
        rm -rf "$DIR/out-$size-j$j"
        measure "$log" extract "$dump" --out "$DIR/out-$size-j$j" --jobs "$j" --timings
        runs+=("$size $j $log $dump")
    done
done

echo "# runs"
echo
echo "| dump | jobs | input MB | documents | wall s | input MB/s | documents/s | CPU s | MB per CPU-s | rows written | peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in "${runs[@]}"; do
    read -r size j log dump <<<"$r"
    mb=$(awk -v b="$(stat -c %s "$dump")" 'BEGIN {printf "%.1f", b/1e6}')
    docs=$(sed -n 's/^gleaner: \([0-9]*\) documents.*/\1/p' "$log")
    rows=$(sed -n 's/^  rows: //p' "$log" | tr ',' '\n' | awk '{s+=$2} END {print s}')
    wall=$(wall_s "$log")
    cpu=$(cpu_s "$log")
    awk -v s="$size" -v j="$j" -v mb="$mb" -v d="$docs" -v w="$wall" -v c="$cpu" -v r="$rows" -v m="$(rss_mb "$log")" \
        'BEGIN {printf "| %s | %d | %s | %d | %.2f | %.1f | %.0f | %.2f | %.1f | %d | %s |\n", s, j, mb, d, w, mb/w, d/w, c, mb/c, r, m}'
done
echo
for size in "${SIZES[@]}"; do
    one_wall=""
    for r in "${runs[@]}"; do
        read -r s j log _ <<<"$r"
        [ "$s" = "$size" ] || continue
        if [ -z "$one_wall" ]; then
            one_wall=$(wall_s "$log")
            one_jobs=$j
        else
            awk -v s="$size" -v a="$one_wall" -v b="$(wall_s "$log")" -v i="$one_jobs" -v j="$j" \
                'BEGIN {printf "scaling %s: --jobs %d is %.2fx as fast as --jobs %d (wall)\n", s, j, a/b, i}'
        fi
    done
done
echo

echo "# where the time went (seconds; stages summed over worker threads)"
echo
stages=$(awk '$1 == "timings:" && $2 ~ /^stage:/ {sub("stage:", "", $2); print $2}' "$(echo "${runs[0]}" | cut -d' ' -f3)")
header="| dump | jobs | startup | reading"
for s in $stages; do header="$header | $s"; done
echo "$header | encoding | processing (wall) | writing | finishing | total |"
echo "|---|---:|---:|---:$(for _ in $stages; do printf '|---:'; done)|---:|---:|---:|---:|---:|"
for r in "${runs[@]}"; do
    read -r size j log _ <<<"$r"
    line="| $size | $j | $(field "$log" startup) | $(field "$log" reading)"
    for s in $stages; do line="$line | $(field "$log" "stage:$s")"; done
    echo "$line | $(field "$log" encoding) | $(field "$log" processing) | $(field "$log" writing) | $(field "$log" finishing) | $(field "$log" total) |"
done
echo
echo "rows per table ($(echo "${runs[0]}" | cut -d' ' -f1), jobs $(echo "${runs[0]}" | cut -d' ' -f2)): $(sed -n 's/^  rows: //p' "$(echo "${runs[0]}" | cut -d' ' -f3)")"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
