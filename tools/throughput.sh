#!/usr/bin/env bash
# Throughput and peak memory of a release build on large JSONL dumps.
#
# Builds dumps of the given sizes in megabytes (default: 10 and 300) in $WORK (default
# /tmp/gleaner-throughput) by repeating the articles of examples/ with fresh ids, runs the
# release binary on each with --jobs 1 and --jobs 2, and prints the run time, the time of
# the cross-document incident merge at the end, input MB/s and documents/s without that
# merge, and peak resident memory (from /usr/bin/time). Memory should not grow with the size of
# the dump: a reader thread hands bounded batches to the workers.
#
#     tools/throughput.sh            # 10 MB and 300 MB
#     tools/throughput.sh 50         # one 50 MB dump
#     JOBS="1 2 4" tools/throughput.sh 100
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 300)
jobs_list=${JOBS:-1 2}
work=${WORK:-/tmp/gleaner-throughput}
mkdir -p "$work"

cargo build --release --locked --quiet
bin=target/release/gleaner
if [ ! -x /usr/bin/time ]; then
    echo "tools/throughput.sh: needs /usr/bin/time (GNU time) for peak memory" >&2
    exit 2
fi

make_dump() { # make_dump MB PATH
    python3 - "$1" "$2" <<'PY'
import csv, json, pathlib, sys
mb, path = int(sys.argv[1]), sys.argv[2]
articles = []
for p in sorted(pathlib.Path("examples/articles").glob("*.txt")):
    articles.append({"id": p.stem, "text": p.read_text(encoding="utf-8")})
for p in sorted(pathlib.Path("examples/feeds").glob("*.jsonl")):
    for line in p.read_text(encoding="utf-8").splitlines():
        if line.strip():
            articles.append(json.loads(line))
for p in sorted(pathlib.Path("examples/feeds").glob("*.csv")):
    with p.open(encoding="utf-8", newline="") as f:
        articles.extend(csv.DictReader(f))
target, written, docs, round_ = mb * 1_000_000, 0, 0, 0
with open(path + ".tmp", "w", encoding="utf-8") as out:
    while written < target:
        for a in articles:
            line = json.dumps(dict(a, id=f"{a['id']}-{round_}"), ensure_ascii=False) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            docs += 1
            if written >= target:
                break
        round_ += 1
pathlib.Path(path + ".tmp").rename(path)
print(docs)
PY
}

printf '%-8s %4s %9s %10s %8s %12s %12s\n' dump jobs seconds "merge s" "MB/s" "documents/s" "peak RSS MB"
for mb in "${sizes[@]}"; do
    dump="$work/dump-${mb}mb.jsonl"
    [ -s "$dump" ] || make_dump "$mb" "$dump" > /dev/null
    bytes=$(stat -c %s "$dump")
    docs=$(wc -l < "$dump")
    for jobs in $jobs_list; do
        out="$work/out-${mb}mb-j$jobs"
        status=0
        /usr/bin/time -f '%e %M' -o "$work/time" \
            "$bin" extract "$dump" --out "$out" --jobs "$jobs" 2> "$work/stderr" || status=$?
        if [ "$status" -ne 0 ]; then
            cat "$work/stderr" >&2
            echo "tools/throughput.sh: gleaner exited with status $status on $dump" >&2
            exit 1
        fi
        read -r secs kb < "$work/time"
        # The cross-document incident merge runs once at the end; shown apart, and left
        # out of MB/s and documents/s, which measure reading, the stages and writing.
        merge=$(sed -n 's/.*finishing (incidents) \([0-9.]*\).*/\1/p' "$work/stderr")
        awk -v d="${mb}MB" -v j="$jobs" -v s="$secs" -v m="${merge:-0}" -v b="$bytes" \
            -v n="$docs" -v kb="$kb" 'BEGIN {
                p = s - m; if (p <= 0) p = s
                printf "%-8s %4s %9.2f %10.2f %8.1f %12.0f %12.0f\n", d, j, s, m, b/1e6/p, n/p, kb/1024
            }'
    done
done
