import { TestEnvironment } from 'jest-environment-node';
import { collectGarbage } from './leaks';

/**
 * The node environment, collecting the garbage a test file left once jest has dropped its modules (the runtime
 * is torn down before the environment). A jest worker would otherwise carry every file's leftovers to its end,
 * and freeing a heap that size as it exits outlasts the 500 ms jest-worker allows (see collectGarbage).
 */
export default class CollectingEnvironment extends TestEnvironment {
  override async teardown(): Promise<void> {
    await super.teardown();
    collectGarbage();
  }
}
