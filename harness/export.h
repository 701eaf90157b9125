/* SPDX-License-Identifier: MIT */
/* Export a stored run as JSON Lines and import a JSON Lines file as a run. */
#ifndef HVT_EXPORT_H
#define HVT_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "store.h"

/*
 * Write run `run_id` to `out` as JSON Lines in the schema of common/schema.h:
 * fingerprint first (with an "origin" object: uuid, label, target, suite,
 * host), then plan, results (one per case per round, in stored order), skips,
 * errors, and an end record when the run finished "ok" or "failed". Values
 * are printed with 17 significant digits, so export -> import gives the same
 * samples. 0, -ENOENT (no such run), -EIO (write failed) or another -errno;
 * all reported.
 */
int hvt_export_run(struct hvt_store *st, int64_t run_id, FILE *out)
    __attribute__((warn_unused_result));

/*
 * Ingest the JSON Lines file `path` ("-" for stdin) as one new run, in one
 * transaction. `label` overrides the label recorded in the file's origin
 * (may be NULL). The run's target is the origin's, else "import"; its
 * status is the end record's, else "partial". On any malformed line the
 * transaction is rolled back, "FILE:LINE: message" is reported and -EINVAL
 * returned: nothing of the file is kept. Other errors: -errno (reported).
 * On success *run_id is the new run's id.
 */
int hvt_import_file(struct hvt_store *st, const char *path, const char *label, int64_t *run_id)
    __attribute__((warn_unused_result));

#endif
