// Entry point for running meshdns as a child process from tests, from source (tsx) or from dist/.
import { main } from '../../src/cli';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`meshdns: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
