// `npm run flags -- <command>`: reads and flips feature flags in Postgres and tells every running
// process to reload them (Redis pub/sub), e.g.
//   npm run flags -- list
//   npm run flags -- enable ai_global_switch
//   npm run flags -- disable summarize_comments
//   npm run flags -- enable summarize_comments --group gid://gitlab/Group/1
//   npm run flags -- disable summarize_comments --user gid://gitlab/User/3      (removes that actor gate)
//   npm run flags -- percentage-of-actors summarize_comments 25
//   npm run flags -- percentage-of-time summarize_comments 10
//   npm run flags -- remove summarize_comments                                 (back to its default)
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { createDatabase } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { featureFlagGates, featureFlags } from '../src/db/schema/feature-flags.ts';
import { changeFeatureFlag, type FlagChange } from '../src/feature-flags/flag-admin.ts';
import { parseGlobalIdOf } from '../src/gid.ts';
import { createRedis } from '../src/redis.ts';

const usage =
  'usage: npm run flags -- list | enable|disable <name> [--user|--group|--project <gid>] | percentage-of-actors|percentage-of-time <name> <0..100> | remove <name>';

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { user: { type: 'string' }, group: { type: 'string' }, project: { type: 'string' } },
});
const [command, name, amount] = positionals;
if (!command) fail('no command given');

function changeFromArguments(): FlagChange {
  const actorOption = values.user ?? values.group ?? values.project;
  const actor = actorOption
    ? parseGlobalIdOf(actorOption, values.user ? ['User'] : values.group ? ['Group'] : ['Project'])
    : undefined;
  switch (command) {
    case 'enable':
      return actor ? { kind: 'enable-actor', actorType: actor.type as 'User', actorId: actor.id } : { kind: 'enable' };
    case 'disable':
      return actor
        ? { kind: 'disable-actor', actorType: actor.type as 'User', actorId: actor.id }
        : { kind: 'disable' };
    case 'percentage-of-actors':
    case 'percentage-of-time':
      if (amount === undefined || !/^\d+$/.test(amount)) fail(`${command} needs a percentage from 0 to 100`);
      return { kind: command, percentage: Number(amount) };
    case 'remove':
      return { kind: 'remove' };
    default:
      fail(`unknown command ${command}`);
  }
}

const config = loadConfig();
const database = await createDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
try {
  await runMigrations(database);
  if (command === 'list') {
    const [flags, gates] = await Promise.all([
      database.db.select().from(featureFlags),
      database.db.select().from(featureFlagGates),
    ]);
    for (const flag of flags) {
      const flagGates = gates
        .filter((gate) => gate.flagName === flag.name)
        .map((gate) =>
          gate.gate === 'actor' ? `${gate.actorType}:${gate.actorId}` : `${gate.gate}=${gate.percentage}%`,
        );
      process.stdout.write(
        `${flag.name.padEnd(32)} ${flag.type.padEnd(12)} ${flag.enabled ? 'on ' : 'off'} ${flagGates.join(', ')}\n`,
      );
    }
  } else {
    if (!name) fail(`${command} needs a flag name`);
    const change = changeFromArguments();
    const redis = createRedis(config.redisUrl, 'blocking', 'flags-cli');
    try {
      await changeFeatureFlag(database.db, redis, config.REDIS_KEY_PREFIX, name, change);
    } finally {
      redis.disconnect();
    }
    process.stdout.write(
      `${name}: ${command}${(values.user ?? values.group ?? values.project) ? ` for ${values.user ?? values.group ?? values.project}` : ''}${amount ? ` ${amount}%` : ''}\n`,
    );
  }
} finally {
  await database.close();
}
