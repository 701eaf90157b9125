/* SPDX-License-Identifier: MIT */
/* The JSON Lines record schema shared by hvtax-bench (writer) and hvtax (reader). */
#ifndef HVT_SCHEMA_H
#define HVT_SCHEMA_H

/*
 * Every line is one JSON object with "type" and "schema". Types:
 *
 *  fingerprint  {"type","schema","tool","version","commit","time","fingerprint":{...}}
 *               first record of a run; "fingerprint" is free-form but stable keys.
 *  plan         {"type","schema","suite","rounds","reps","duration_s","warmup_s",
 *                "seed","cases":[{"bench","case","params"}]}
 *  result       {"type","schema","bench","case","params":{k:v},
 *                "metrics":[{"name","unit","dir":"higher"|"lower"}],
 *                "round":k,"placement":{...},
 *                "samples":[{"rep":i (0-based; warm-up: 0 with warmup true),"warmup":bool,"t_start":wall_s,"dur_s":x,
 *                            "values":{metric:value},"side":{name:value}}],
 *                "extra":{...optional, benchmark-specific}}
 *               one record per case per round, streamed as soon as it is measured.
 *  skip         {"type","schema","bench","case","params","reason"}
 *  error        {"type","schema","bench"?,"case"?,"round"?,"message","errno"?,"extra"?}
 *               "extra": what the benchmark recorded in the failed repetition
 *  end          {"type","schema","status":"ok"|"failed"|"refused","time","wall_s"}
 *
 * "case" is the canonical key: bench name, then '?', then the sorted
 * key=value pairs joined by '&' (e.g. "cpu.int?threads=1"). Values are
 * in base units: seconds, bytes, bytes/s, operations/s.
 */
#define HVT_SCHEMA_VERSION 1

#define HVT_REC_FINGERPRINT "fingerprint"
#define HVT_REC_PLAN "plan"
#define HVT_REC_RESULT "result"
#define HVT_REC_SKIP "skip"
#define HVT_REC_ERROR "error"
#define HVT_REC_END "end"
/* agent mode: {"type":"round","schema","round":k} after round k finished */
#define HVT_REC_ROUND "round"

/* Metric direction: how the tax is computed (DESIGN.md, Analysis). */
#define HVT_DIR_HIGHER "higher"
#define HVT_DIR_LOWER "lower"

#endif
