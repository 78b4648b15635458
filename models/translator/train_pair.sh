#!/usr/bin/env bash
# One French, Spanish or Italian → English pair from the corpus to the shipped folder, on CPU cores:
# the recipe behind models/fr-en (2026-12-02: 80 minutes on 2 cores, see its CARD.md).
#
#   models/translator/train_pair.sh LANG [MINUTES] [DEVICE]
#
# Needs the corpus (python -m models.translator.corpus --lang de,fr,es,it → work/corpus). Resumable:
# a stopped run continues from its last checkpoint (every 500 steps) when started again.
# BT=1 adds Ding's English put into LANG by Apertium (python -m models.translator.backtranslate: about
# 15 minutes) to the training data, as kind "bt"; the dev split, gate and word list stay the corpus's own.
# RUN and OUT (environment) put the run and the exported pair elsewhere (default work/runs/LANG and the
# shipped models/LANG-en): to compare a new run with the shipped pair before replacing it, OUT=/tmp/LANG-new
# starts from a copy of the shipped folder (its glossary) and is evaluated there; the catalog is left alone.
set -euo pipefail
lang=$1 minutes=${2:-80} device=${3:-cpu}
data=work/corpus/out-$lang run=${RUN:-work/runs/$lang} shipped=models/$lang-en
out=${OUT:-$shipped}
[ "$out" = "$shipped" ] || [ -d "$out" ] || cp -r "$shipped" "$out"
[ -f "$data/train.$lang" ] || { echo "error: no corpus in $data (python -m models.translator.corpus --lang $lang)" >&2; exit 2; }
train_data=$data
if [ "${BT:-0}" = 1 ]; then
  python -m models.translator.backtranslate --lang "$lang"
  train_data=$data-bt
fi
mkdir -p "$run"
resume=$([ -f "$run/checkpoint.pt" ] && echo --resume || true)
if [ ! -f "$run/done.json" ]; then
  python -m models.translator.train --src-lang "$lang" --data "$train_data" --out "$run" --vocab-size 8000 \
    --d-model 256 --enc-layers 4 --dec-layers 2 --heads 4 --ffn 1024 --batch-tokens 6000 --lr 1e-3 --warmup 400 \
    --max-steps 1000000 --max-minutes "$minutes" --time-schedule --eval-every 500 --log-every 50 \
    --device "$device" --threads "${THREADS:-2}" $resume
fi
python -m models.translator.phrases --lang "$lang" --out "work/translator/phrases-$lang.sqlite"
python -m models.translator.export --run "$run" --out "$out" --phrases "work/translator/phrases-$lang.sqlite"
python -m models.translator.words --corpus "$data" --source "$lang" --out "$out/words.txt.gz"
python -m models.translator.gate --model "$out" --data "$data" --lang "$lang"
python -c "import json, sys; from pathlib import Path; from models.translator.corpus import write_sources; \
write_sources(json.loads(Path('$data/manifest.json').read_text()), Path('$out/SOURCES.tsv'))"
[ "$out" != "$shipped" ] || python -m models.catalog --refresh
python -m models.translator.evaluate --lang "$lang" --model "$out"
