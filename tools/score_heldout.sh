#!/usr/bin/env bash
# Score a gleaner build on the held-out set (tests/heldout, see its README) and on the
# development corpus, with the project's scorer.
#
#   tools/score_heldout.sh                 # uses target/release/gleaner
#   GLEANER=target/fast/release/gleaner tools/score_heldout.sh --details
#   SET=tests/heldout2 tools/score_heldout.sh   # another held-out set (articles/ + gold/)
#
# Extra arguments go to score.py (--details lists every miss and false hit, --json).
# SET (default tests/heldout) is the held-out set: a folder with articles/ and gold/.
# EVAL (default ../shared/eval or /work/shared/eval) and DEV (the dev corpus) can be overridden.
set -euo pipefail
cd "$(dirname "$0")/.."
GLEANER=${GLEANER:-target/release/gleaner}
SET=${SET:-tests/heldout}
SET=${SET%/}
if [ -z "${EVAL:-}" ]; then
  if [ -d ../shared/eval ]; then EVAL=../shared/eval; else EVAL=/work/shared/eval; fi
fi
DEV=${DEV:-$(dirname "$EVAL")/corpus/dev}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$GLEANER" extract "$SET/articles" --out "$OUT/heldout" -q
echo "== held-out ($SET)"
python3 "$EVAL/score.py" --gold "$SET/gold" --text-dir "$SET/articles" --pred "$OUT/heldout" "$@"
if [ -d "$DEV/gold" ]; then
  "$GLEANER" extract "$DEV" --out "$OUT/dev" -q
  echo "== dev ($DEV)"
  python3 "$EVAL/score.py" --gold "$DEV/gold" --pred "$OUT/dev" "$@"
fi
