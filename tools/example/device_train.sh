#!/bin/bash
# One GPU run: generate the train split, train float, then QAT W4A4 and W3A3 side by side.
# Usage (on the GPU machine, from the repo root): OUT=/some/dir bash tools/example/device_train.sh
# Budgets in seconds can be overridden: FLOAT_S, QAT_S. Results: $OUT/{float,w4a4,w3a3}.npz + logs.
set -o pipefail
export PYTHONUNBUFFERED=1
D=/tmp/shapes
T0=$(date +%s)
FLOAT_S=${FLOAT_S:-180}
QAT_S=${QAT_S:-220}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>&1 | tee $OUT/log_float.txt
python3 tools/example/make_shapes.py --out $D --split train --count 8000 --workers 16 2>&1 | tee -a $OUT/log_float.txt
python3 tools/example/train.py --mode float --data $D --budget $FLOAT_S --deadline $((T0 + FLOAT_S + 30)) \
  --out $OUT/float.npz 2>&1 | tee -a $OUT/log_float.txt || exit 1
T1=$(date +%s)
for b in 4 3; do
  python3 tools/example/train.py --mode qat --bits $b --init $OUT/float.npz --data $D --budget $QAT_S \
    --deadline $((T1 + QAT_S + 20)) --out $OUT/w${b}a${b}.npz > $OUT/log_w${b}a${b}.txt 2>&1 &
done
wait
tail -n 5 $OUT/log_w4a4.txt $OUT/log_w3a3.txt
echo "total $(( $(date +%s) - T0 )) s"
