#!/bin/sh
# slurm_train.sh -- data-parallel ltsnn training on a Slurm cluster: an
# example to copy and edit (nodes, cores, data, model).  One rank per node
# using all of the node's cores; --batch is the global batch, split over
# the ranks (docs/scaling.md, README "Training on several processes").
#
#   sbatch bench/slurm_train.sh                  # the defaults below
#   sbatch --nodes=8 bench/slurm_train.sh --epochs 200
#
# Submitting it again continues the run from its last checkpoint, on any
# number of nodes.  ltsnn must have been built with MPI (make prints "MPI
# support on") on a file system every node sees, as must the data cache
# (ltsnn data prepare) and the run directory.
#SBATCH --job-name=ltsnn-train
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=32
#SBATCH --time=24:00:00
#SBATCH --output=ltsnn-%j.out
set -eu
LTSNN=${LTSNN:-./ltsnn}
DATA=${DATA:-cache/c10dvs}     # ltsnn data prepare cifar10-dvs ROOT --out cache/c10dvs -T 10 --size 48x48
OUT=${OUT:-runs/vgg9-slurm}
THREADS=${SLURM_CPUS_PER_TASK:-1}
resume=""
[ -s "$OUT/last.safetensors" ] && resume="--resume $OUT/last.safetensors"
# Open MPI's mpirun reads the allocation from Slurm and starts one rank per
# task; with a Slurm built with PMIx, `srun --mpi=pmix "$LTSNN" train ...`
# does the same.  --bind-to none lets each rank's threads use the node.
exec mpirun --bind-to none -x OMP_NUM_THREADS="$THREADS" "$LTSNN" train --data "$DATA" --model vgg9 --T 10 \
    --batch 64 --sync-bn --threads "$THREADS" --out "$OUT" $resume "$@"
