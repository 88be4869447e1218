// The `sdlc` command line (bin/sdlc.js, `npm run cli -- …`): a client of the REST API for people
// at a terminal and for scripts, plus `keys` and `config`, which work without an API. The
// commands live in src/cli/; docs/cli.md describes them and their exit codes.
import { runCli } from './cli/program.js';

process.exitCode = await runCli(process.argv.slice(2));
