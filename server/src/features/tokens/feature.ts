// API tokens: who may call, with which role.
import type { Feature } from '../../lib/module.js';
import { createTokenService, type TokenService, type TokensTopics } from './tokens.js';
import './graphql/token.js';

declare module '../../lib/module.js' {
  interface Services {
    tokens: TokenService;
  }
}

export const tokens: Feature = {
  name: 'tokens',
  create({ config, db, bus, log }) {
    const tokens = createTokenService({
      prisma: db.prisma,
      log: log.child({ part: 'auth' }),
      authEnabled: config.AUTH === 'on',
      adminToken: config.VMPULSE_ADMIN_TOKEN,
      pubsub: bus.topics<TokensTopics>(),
      recheckMs: config.STREAM_AUTH_RECHECK * 1000,
    });
    return {
      services: { tokens },
      async start() {
        if (config.AUTH === 'off') log.warn('AUTH=off: every request is treated as admin. Do not expose this server.');
        const created = await tokens.ensureAdminToken(config.DATA_DIR);
        if (created) {
          // Printed once, on the first start; kept owner-only in DATA_DIR.
          process.stdout.write(`\n  vmpulse admin token (shown once, also saved to ${created.file}):\n\n    ${created.token}\n\n`);
          log.info({ file: created.file }, 'initial admin token created');
        }
        tokens.startRevocationWatch();
      },
      stop() {
        tokens.stopRevocationWatch();
      },
    };
  },
};
