#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# coll.allreduce, mpi backend, 4 ranks oversubscribed: float and double, in and out of place, verified, one stream.
export HVT_COLL_NP=4 HVT_COLL_MPIRUN_ARGS="--oversubscribe" HVT_COLL_PARAMS="-p dtype=float,double -p inplace=0,1"
exec bash "$(dirname "$0")/t0600-coll-mpi-np2.sh"
