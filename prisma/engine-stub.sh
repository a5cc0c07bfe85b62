#!/bin/sh
# Stub for Prisma schema engine: `prisma generate` does not need it, and the real one cannot be downloaded here.
echo "schema engine not available: migrations are applied by prisma/migrate.mjs" >&2
exit 1
