// A private PostgreSQL cluster for chaos tests: initdb in a temporary directory, a free port,
// trust auth, started and stopped with pg_ctl. The machine's shared Postgres (5432) is never
// touched. initdb refuses to run as root, so as root the commands run as `postgres`.
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, pollUntil } from './free-port.js';
import { onProcessExit } from './exit-cleanup.js';

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';

export interface PrivatePostgres {
  port: number;
  /** A DATABASE_URL for `database` on this cluster (user postgres, no password). */
  url(database: string): string;
  /** `pg_ctl stop -m <mode>` (default fast: open sessions are terminated). */
  stop(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  /** `pg_ctl start`, waiting until it accepts connections. */
  start(): Promise<void>;
  running(): boolean;
  /** The tail of the server log (for failure messages). */
  log(): string;
  /** Stops the cluster and removes its directory. Idempotent. */
  close(): Promise<void>;
}

/** The newest installed server's bin directory (CHAOS_PG_BIN overrides). */
export function postgresBinDir(): string {
  if (process.env.CHAOS_PG_BIN) return process.env.CHAOS_PG_BIN;
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${PG_ROOT}; install postgresql or set CHAOS_PG_BIN`);
  return join(PG_ROOT, versions[0], 'bin');
}

const asRoot = process.getuid?.() === 0;

/** The command line, run as `postgres` when we are root. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function postgresUid(): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('running as root but there is no postgres user');
  return { uid, gid };
}

/** initdb + start on a free port; call close() when done. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chaos-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (asRoot) {
    const { uid, gid } = postgresUid();
    chownSync(dir, uid, gid);
  }
  const pgCtl = (args: string[]) => {
    const [cmd, argv] = asPostgres(join(bin, 'pg_ctl'), ['-D', data, ...args]);
    return run(cmd, argv);
  };
  let up = false;
  const removeExitHook = onProcessExit(() => {
    if (up) spawnSync(...asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']));
    rmSync(dir, { recursive: true, force: true });
  });

  const [initCmd, initArgs] = asPostgres(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  await run(initCmd, initArgs);
  // A throwaway cluster: no fsync; enough connections for an API, several workers and the test.
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=300',
  ].join(' ');

  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };

  const handle: PrivatePostgres = {
    port,
    url: (database) => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      await pgCtl(['-o', options, '-l', logFile, '-w', '-t', '30', 'start']);
      up = true;
      await pollUntil(
        `postgres on port ${port}`,
        async () => {
          const client = new pg.Client({ connectionString: handle.url('postgres'), connectionTimeoutMillis: 1000 });
          client.on('error', () => undefined);
          try {
            await client.connect();
            await client.query('SELECT 1');
            return true;
          } finally {
            await client.end().catch(() => undefined);
          }
        },
        20_000,
        100,
      );
    },
    async stop(mode = 'fast') {
      if (!up) return;
      await pgCtl(['-m', mode, '-w', '-t', '30', 'stop']);
      up = false;
    },
    running: () => up,
    log: readLog,
    async close() {
      if (up) await handle.stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      removeExitHook();
    },
  };
  try {
    await handle.start();
  } catch (error) {
    await handle.close();
    throw new Error(`private postgres did not start: ${(error as Error).message}\n${readLog()}`, { cause: error });
  }
  return handle;
}
