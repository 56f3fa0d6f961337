// Appends each jest run's counts to $ORDERFLOW_TEST_TALLY (one JSON line per run),
// so scripts/test.sh can print one total across every workspace and phase.
'use strict';
const { appendFileSync } = require('node:fs');

class TallyReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.ORDERFLOW_TEST_TALLY;
    if (!file) return;
    const line = {
      cwd: process.cwd(),
      // The end-to-end suite runs once per broker: its lines say which.
      ...(process.env.BROKER ? { broker: process.env.BROKER } : {}),
      passed: results.numPassedTests,
      failed: results.numFailedTests,
      skipped: results.numPendingTests + results.numTodoTests,
      suitesFailed: results.numFailedTestSuites + results.numRuntimeErrorTestSuites,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }
}
module.exports = TallyReporter;
