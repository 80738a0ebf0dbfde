#!/bin/sh
# Mutation audit of the write path (issue 9): mutmut mutates the writing package and the
# files package's swap, identity and locks, and runs, for each mutant, the default
# (non-shared) tests that cover the mutated function. The configuration is the
# [tool.mutmut] table of pyproject.toml; tests/system/test_crash_safety.py is left out there
# (it SIGKILLs 200 writes, ~40 s a run, which makes the audit hours long).
#
#   pip install -e '.[test,mutation]'
#   packaging/mutation_audit.sh                 # every mutant (~35 mutants/min on 2 cores)
#   packaging/mutation_audit.sh 'tagger.files.atomic*'   # one module's mutants
#
# Work and results go to mutants/ (ignored by git); delete it for a clean run.
# `mutmut results` lists the survivors, `mutmut show NAME` shows one.
set -eu
cd "$(dirname "$0")/.."
mutmut run --max-children "${MUTMUT_CHILDREN:-$(nproc 2>/dev/null || echo 2)}" "$@"
mutmut results
