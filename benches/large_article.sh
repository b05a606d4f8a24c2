#!/usr/bin/env bash
# Does a single huge article take about linear time? Builds one-article text files of the
# given sizes in megabytes (default: 25 50 100) in $WORK (default /tmp/gleaner-large) from
# the example articles laid end to end, runs the release binary on each, prints seconds
# (wall, and work: the stages, writing and finishing, without start-up), MB/s and peak
# memory, and fails if the work per MB grows by more than 30% from one size to the next.
#
#     benches/large_article.sh            # 25, 50 and 100 MB
#     benches/large_article.sh 2 4 8      # quicker
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(25 50 100)
work=${WORK:-/tmp/gleaner-large}
mkdir -p "$work"
cargo build --release --locked --quiet
bin=target/release/gleaner

printf '%8s %10s %10s %8s %12s %s\n' MB seconds "work s" "MB/s" "peak RSS MB" "stage seconds"
prev_mb="" prev_secs=""
for mb in "${sizes[@]}"; do
    article="$work/article-${mb}mb.txt"
    if [ ! -s "$article" ]; then
        python3 - "$mb" "$article" <<'PY'
import pathlib, sys
mb, path = float(sys.argv[1]), sys.argv[2]
parts = [p.read_text(encoding="utf-8") for p in sorted(pathlib.Path("examples/articles").glob("*.txt"))]
target, n = int(mb * 1_000_000), 0
with open(path, "w", encoding="utf-8") as out:
    out.write("One very long article\n\n")
    while n < target:
        for p in parts:
            out.write(p + "\n")
            n += len(p.encode("utf-8")) + 1
PY
    fi
    /usr/bin/time -f '%e %M' -o "$work/time" \
        "$bin" extract "$article" --out "$work/out" --jobs 1 2> "$work/stderr" || {
        cat "$work/stderr" >&2
        exit 1
    }
    read -r secs kb < "$work/time"
    stages=$(grep -o 'seconds per stage.*' "$work/stderr" | sed 's/seconds per stage (summed over threads): //')
    # The work: stages, writing and finishing, without the start-up (gazetteer build).
    work_secs=$(echo "$stages" | grep -oE '[0-9]+\.[0-9]+' | awk '{ t += $1 } END { print t }')
    awk -v m="$mb" -v s="$secs" -v w="$work_secs" -v kb="$kb" -v st="$stages" \
        'BEGIN { printf "%8s %10.2f %10.2f %8.1f %12.0f %s\n", m, s, w, m/w, kb/1024, st }'
    if [ -n "$prev_mb" ]; then
        if ! awk -v a="$prev_mb" -v ta="$prev_secs" -v b="$mb" -v tb="$work_secs" \
            'BEGIN { r = (tb / ta) / (b / a); exit !(ta < 0.5 || r < 1.3) }'; then
            echo "benches/large_article.sh: ${mb} MB took ${work_secs} s of work against ${prev_secs} s for ${prev_mb} MB: worse than linear" >&2
            exit 1
        fi
    fi
    prev_mb=$mb prev_secs=$work_secs
done
