import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.js';

// 64-bit counters (cputime in ns, memory in KiB) pass 2^53: sent as decimal strings, exact.
builder.scalarType('BigInt', {
  description: 'A 64-bit integer, sent as a decimal string so it stays exact past 2^53',
  serialize: (v) => v.toString(),
  parseValue: (v) => {
    if ((typeof v === 'string' && /^-?\d+$/.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v))) return BigInt(v);
    throw new GraphQLError('BigInt must be an integer or a decimal string');
  },
  parseLiteral: (ast) => {
    if (ast.kind === Kind.INT || (ast.kind === Kind.STRING && /^-?\d+$/.test(ast.value))) return BigInt(ast.value);
    throw new GraphQLError('BigInt must be an integer or a decimal string');
  },
});

builder.scalarType('DateTime', {
  description: 'An ISO-8601 timestamp (UTC)',
  serialize: (v) => v.toISOString(),
  parseValue: (v) => {
    const d = new Date(String(v));
    if (Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 timestamp');
    return d;
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value',
  serialize: (v) => v,
  parseValue: (v) => v,
});
