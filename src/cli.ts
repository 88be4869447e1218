// The `sdlc` command line (bin/sdlc.js, `npm run cli -- …`): a client of the REST API for people
// at a terminal and for scripts, plus `keys` and `config`, which work without an API. The
// commands live in src/cli/; docs/cli.md describes them and their exit codes.
import { runCli } from './cli/program.js';

// A reader that stops early (`sdlc list | head -1`, `sdlc --help | less` quit at once) closes the
// pipe: the next write fails with EPIPE, which Node raised as an unhandled 'error' event, a stack
// trace on stderr. Nobody reads the output any more, so the CLI stops quietly (exit 0), as a `watch`
// into `head` must stop too rather than follow its pipeline to the end for no reader.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2));
