// Port 0 in tests binds UDP first and then TCP on the same number, which another socket (often a
// TIME_WAIT left by an earlier TCP exchange) may hold: retry the whole start a few times.
import { startHarness, type Harness, type HarnessInputs } from './harness';

export function isPortClash(err: unknown): boolean {
  return err instanceof Error && /already in use/.test(err.message);
}

export async function withPortRetry<T>(start: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (err) {
      if (!isPortClash(err) || i >= tries) throw err;
    }
  }
}

export function startHarnessRetrying(inputs: HarnessInputs): Promise<Harness> {
  return withPortRetry(() => startHarness(inputs));
}
