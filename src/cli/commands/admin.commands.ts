// Commands that need no API: `keys` (straight in Postgres, DATABASE_URL) and `config` (this
// environment's configuration and its encrypted values). The work is in src/composition, loaded
// when one of them runs: Prisma alone would add a second to every other command's start.
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { KeysCliOptions } from '../../composition/keys-cli.js';
import type { SecretsCliOptions } from '../../composition/secrets-cli.js';
import { PLATFORM_ROLES } from '../../domain/identity.js';
import { collect, JSON_OPTION } from '../option-parsers.js';

export function registerAdminCommands(program: Command): void {
  const keys = program
    .command('keys')
    .description('API keys, straight in the Postgres of DATABASE_URL (no API needed): give it the DATABASE_URL of the API');
  const run = (sub: string, id?: string) => async (options: KeysCliOptions) => {
    const { runKeysCommand } = await import('../../composition/keys-cli.js');
    await runKeysCommand(id ? [sub, id] : [sub], options, userInfo().username);
  };
  const secrets = (sub: string) => async (options: SecretsCliOptions) => {
    const { runSecretsCommand } = await import('../../composition/secrets-cli.js');
    await runSecretsCommand([sub], options);
  };
  keys
    .command('create')
    .description('make a key; it is printed once, alone on the last line of stdout')
    .requiredOption('--name <name>', 'who or what it is for')
    .requiredOption(
      '--role <role>',
      `a role, repeatable: ${PLATFORM_ROLES.join(', ')}, or a decision role (tech_lead, engineering_manager, …)`,
      collect,
    )
    .option('--expires <duration>', 'lifetime, e.g. 30d, 12h (default: never)')
    .option('--service', 'a service key (CI, a bot) rather than a person’s')
    .option(...JSON_OPTION)
    .action((options: KeysCliOptions) => run('create')(options));
  keys
    .command('list')
    .description('the active keys (no secrets)')
    .option('--all', 'revoked and expired ones too')
    .option(...JSON_OPTION)
    .action((options: KeysCliOptions) => run('list')(options));
  keys
    .command('revoke')
    .description('revoke a key: refused from the next request on; its open event streams end at the next check (15 s by default)')
    .argument('<id>', 'the key’s id (a UUID, as keys list shows it)')
    .option(...JSON_OPTION)
    .action((id: string, options: KeysCliOptions) => run('revoke', id)(options));
  keys
    .command('rotate')
    .description('a new key for the same identity; the old one keeps working for --overlap')
    .argument('<id>', 'the key’s id (a UUID, as keys list shows it)')
    .option('--overlap <duration>', 'how long the old key still works (default 1h)')
    .option('--expires <duration>', 'the new key’s lifetime')
    .option(...JSON_OPTION)
    .action((id: string, options: KeysCliOptions) => run('rotate', id)(options));

  const config = program.command('config').description('this environment’s configuration (no API needed)');
  config
    .command('print')
    .description('the effective configuration, each value with its source, secrets masked')
    .option(...JSON_OPTION)
    .action(async (options: { json?: boolean }) => {
      const { runConfigPrint } = await import('../../composition/config-cli.js');
      runConfigPrint(options);
    });
  config
    .command('keygen')
    .description('a new master key on stdout (its id on stderr)')
    .action(() => secrets('keygen')({}));
  config
    .command('encrypt')
    .description('encrypt the value read from stdin; prints VAR=enc:v1:…')
    .option('--name <VAR>', 'the variable the value is for')
    .action(secrets('encrypt'));
  config
    .command('rotate')
    .description('re-encrypt an env file’s values under CONFIG_MASTER_KEY')
    .option('--file <path>', 'the env file')
    .action(secrets('rotate'));
  config
    .command('check')
    .description('which values decrypt, under which key (an env file, or what a boot reads)')
    .option('--file <path>', 'the env file (default: the environment over ENV_FILE)')
    .action(secrets('check'));
}
