import globalSetup from '../../test/harness/global-setup';
import globalTeardown from '../../test/harness/global-teardown';
import { type StackOptions, startStack, type TestStack } from '../../test/harness/stack';

/**
 * Runs a benchmark on the test harness's stack (its own dev server, database, worker and API, as the tests
 * run them) and tears it all down after, whatever happens; a failure sets the exit code.
 */
export function benchOnHarness(options: StackOptions, run: (stack: TestStack) => Promise<void>): void {
  const main = async () => {
    await globalSetup();
    const stack = await startStack(options);
    try {
      await run(stack);
    } catch (err) {
      // Shown before the teardown, whose own complaint would otherwise replace it.
      console.error(err);
      process.exitCode = 1;
    } finally {
      await stack.stop();
      await globalTeardown();
    }
  };
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
