// `npm run tokens -- list | create --name NAME --role viewer|operator|admin [--user U] [--group G] | revoke ID`
// Reaches the database the server uses: DATABASE_URL, else the running embedded PostgreSQL
// (DATA_DIR/postgres.json), else it starts the embedded one itself.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import type { OwnerScope } from '../domain/owner.js';
import { embeddedInfoFile, openDatabase } from '../lib/db.js';
import { AppError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { createTokenService } from '../features/tokens/tokens.js';

const usage = `usage: npm run tokens -- list
       npm run tokens -- create --name NAME --role viewer|operator|admin [--user USER] [--group GROUP]
         (--user/--group: scope a viewer or operator token to the VMs that owner owns)
       npm run tokens -- revoke ID`;

/** "user=alice group=eng", or "all VMs" for an unscoped token. */
const scopeText = (scope: OwnerScope | null) =>
  scope ? [scope.user !== null ? `user=${scope.user}` : '', scope.group !== null ? `group=${scope.group}` : ''].filter(Boolean).join(' ') : 'all VMs';

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, role: { type: 'string' }, user: { type: 'string' }, group: { type: 'string' } },
  });
  const [command, arg] = positionals;
  if (!command || !['list', 'create', 'revoke'].includes(command)) {
    console.error(usage);
    process.exit(2);
  }
  const config = loadConfig();
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const info = embeddedInfoFile(config.DATA_DIR);
  const running = !config.DATABASE_URL && existsSync(info) ? (JSON.parse(readFileSync(info, 'utf8')) as { url: string }).url : undefined;
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL ?? running, dataDir: config.DATA_DIR, log });
  const tokens = createTokenService({ prisma: db.prisma, log, authEnabled: true });
  try {
    if (command === 'list') {
      for (const t of await tokens.list()) {
        console.log(
          [t.id, t.name, t.role, `${t.prefix}…`, scopeText(t.scope), t.createdAt.toISOString(), t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : 'active'].join('\t'),
        );
      }
    } else if (command === 'create') {
      if (!values.name || !values.role) throw new AppError('BAD_REQUEST', usage);
      const { token, info: t } = await tokens.create(values.name, values.role, { user: values.user, group: values.group });
      console.log(`created token ${t.id} (${t.name}, ${t.role}, scope ${scopeText(t.scope)}); shown only now:\n${token}`);
    } else {
      const t = await tokens.revoke(Number(arg));
      console.log(`revoked token ${t.id} (${t.name})`);
    }
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  console.error(err instanceof AppError ? err.message : err);
  process.exit(1);
});
