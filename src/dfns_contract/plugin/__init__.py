"""The pytest plugin: options, activation, fixtures, marks and skips, the xdist sharing, the output boundary.

* hooks.py: the ``pytest11`` entry point; options.py: every option and ini key;
  internals.py: everything that touches pytest's internals;
* suite.py: ``activate``, called by the suite's conftest, and the suite's hooks;
  safety.py: marks, needs and skips from the catalog; fixtures.py: the fixtures;
* conformance.py, reports.py, restore.py, fuzzing.py: the verdicts, the report
  files, the cleanup summary, the Hypothesis budget and example counts;
* xdist.py: one reference server shared by the workers; output.py: the one
  place that masks what leaves the run; stash.py, process.py: keys and process costs.
"""
