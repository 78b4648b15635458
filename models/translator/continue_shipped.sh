#!/usr/bin/env bash
# Train the shipped translators further from their own weights, all at once: the run behind the models
# shipped on 2026-12-04 (6.5 minutes each on one lent H200, four runs sharing it; see each CARD.md).
#
#   models/translator/continue_shipped.sh CORPUS OUT [MINUTES] [DEVICE]
#
# CORPUS: the corpus builder's folder (work/corpus: out/ for German, out-LANG-bt/ for the others, made by
# python -m models.translator.backtranslate --lang LANG); OUT: runs and packs go here. Each shipped model is
# recovered into a checkpoint (recover.py: the same weights), trained on with a fresh optimiser and a time
# schedule (peak LR 5e-4 after 300 steps, cosine to 5 %), and packed (pack.py) for the trip back; on the
# machine that exports: pack.py unpack, export.py into a copy of the shipped folder, gate.py, evaluate.py on
# the dev sets. LANGS (environment) picks the pairs (default all four). On 2 CPU cores run one at a time
# with DEVICE=cpu and THREADS=2: about 1,700 target tokens a second against 145,000 on the GPU.
set -euo pipefail
corpus=$1 out=$2 minutes=${3:-6.5} device=${4:-cuda}
small="--d-model 256 --enc-layers 4 --dec-layers 2 --heads 4 --ffn 1024 --batch-tokens 16000"
large="--d-model 384 --enc-layers 4 --dec-layers 2 --heads 6 --ffn 1536 --batch-tokens 24000"
mkdir -p "$out"
for lang in ${LANGS:-de fr es it}; do
  if [ "$lang" = de ]; then data=$corpus/out arch=$large; else data=$corpus/out-$lang-bt arch=$small; fi
  [ -f "$data/train.src" ] || { echo "error: no corpus in $data" >&2; exit 2; }
  (
    python -m models.translator.recover "models/$lang-en" "$out/$lang-shipped"
    python -m models.translator.train --src-lang "$lang" --data "$data" --out "$out/$lang" --init "$out/$lang-shipped" \
      $arch --lr 5e-4 --warmup 300 --max-steps 1000000 --max-minutes "$minutes" --time-schedule \
      --eval-every 1000 --log-every 200 --device "$device" --threads "${THREADS:-3}" > "$out/$lang.log" 2>&1
    python -m models.translator.pack pack "$out/$lang" "$out/$lang.pack"
  ) &
  [ "$device" = cpu ] && wait
done
wait
