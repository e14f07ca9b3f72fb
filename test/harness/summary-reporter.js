// Prints one plain closing line ("tests: N passed, N failed") that CI systems read without knowing Jest.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    console.log(
      `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`,
    );
  }
}
module.exports = SummaryReporter;
