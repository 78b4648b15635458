#!/usr/bin/env bash
# The runs behind the shipped de→en models, side by side on one machine: the on-device size and
# the cloud size, each with two source mixes; the mix is chosen on the corpus's dev set
# (compare.py, never the evaluation sets) and the winners are packed for export elsewhere.
#
#   models/translator/train_shipped.sh DATA SPM OUT [MINUTES] [DEVICE]
#
# DATA: the corpus builder's out/ folder; SPM: the SentencePiece model (train.py --vocab-size 12000
# makes it when absent); MINUTES: training time per run (the learning rate decays over it);
# DEVICE: cuda or cpu. RUNS (environment) picks size:mix runs (default all four); the shipped
# on-device model came from RUNS="on_device:natural on_device:signs cloud:signs" (natural won on dev;
# the cloud run diverged at lr 1e-3) and the cloud model from RUNS=cloud:natural LR=6e-4 WARMUP=1500.
# On 2 CPU cores run one at a time (see CARD.md for the figures).
set -euo pipefail
data=$1 spm=$2 out=$3 minutes=${4:-6} device=${5:-cuda}
on_device="--d-model 384 --enc-layers 4 --dec-layers 2 --heads 6 --ffn 1536"
cloud="--d-model 512 --enc-layers 6 --dec-layers 3 --heads 8 --ffn 2048"
declare -A mixes=([natural]="" [signs]="ding=2,games=3,help=2,ui=0.5")
mkdir -p "$out"
for spec in ${RUNS:-on_device:natural on_device:signs cloud:natural cloud:signs}; do
  size=${spec%%:*} mix=${spec#*:} run="$out/${spec/:/-}"
  mkdir -p "$run" && cp "$spm" "$run/spm.model"
  python -m models.translator.train --data "$data" --out "$run" --vocab-size 12000 ${!size} \
    --batch-tokens 24000 --lr "${LR:-1e-3}" --warmup "${WARMUP:-800}" --max-steps 1000000 --max-minutes "$minutes" --time-schedule \
    --eval-every 500 --log-every "${LOG_EVERY:-100}" --mix "${mixes[$mix]}" --device "$device" --threads 3 > "$run/stdout.log" 2>&1 &
done
wait
for size in on_device cloud; do
  runs=("$out/$size"-*/)
  python -m models.translator.compare "${runs[@]%/}" --data "$data" --pick "$out/$size.best" | tee "$out/$size.compare.jsonl"
  python -m models.translator.pack pack "$(cat "$out/$size.best")" "$out/$size.pack"
done
