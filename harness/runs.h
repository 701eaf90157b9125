/* SPDX-License-Identifier: MIT */
/* The store's commands: hvtax runs, show, export, import. */
#ifndef HVT_RUNS_H
#define HVT_RUNS_H

/* Default database path: $HVTAX_DB, else this. */
#define HVT_DEFAULT_DB "results/hvtax.db"
const char *hvt_default_db(void);

/*
 * Each takes the command's own argv (argv[0] is the command name, e.g.
 * "runs") and returns an exit code: 0 ok, 1 failure, 2 usage or bad input.
 * All accept --db FILE and --help.
 *
 *   hvtax runs                         table of stored runs
 *   hvtax show RUN                     one run: info, environment, per case/metric stats
 *   hvtax export RUN [-o FILE]         the run as JSON Lines (stdout by default)
 *   hvtax import FILE [--label L]      a JSON Lines file ("-" = stdin) as a new run
 */
int hvt_cmd_runs(int argc, char **argv);
int hvt_cmd_show(int argc, char **argv);
int hvt_cmd_export(int argc, char **argv);
int hvt_cmd_import(int argc, char **argv);

#endif
