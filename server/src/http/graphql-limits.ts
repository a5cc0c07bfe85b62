// Bounds on one GraphQL document, checked from the cheapest up so a hostile one costs little:
// tokens while parsing (graphql-js stops lexing past the limit, long before the recursive parser
// could overflow its stack), then depth, aliases and directives (GraphQL Armor's rules, counted
// through every fragment spread) before the standard validation rules run, then the cost (each
// field's declared complexity, lists multiplying their selection) before execution, with the
// request's variables and the fleet as it is. A refused document is HTTP 400 with the reason.
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { createComplexityRule } from '@pothos/plugin-complexity';
import { GraphQLError, parse, validate, type DocumentNode, type ExecutionArgs, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ClientErrorLog } from '../lib/log-throttle.js';
import type { LimitCounters } from '../lib/limits.js';

export interface DocumentLimits {
  maxTokens: number;
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxCost: number;
}

/** A request refused by a limit: its name (as counted in /api/telemetry/status), the status, the reason. */
export function limitError(limit: string, message: string, status = 400): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'LIMIT_EXCEEDED', limit, http: { status, spec: false } } });
}

/** A client's document error as HTTP 400 whatever the Accept header (yoga answers 200 to application/json). */
export function asBadRequest(err: GraphQLError, code: string): GraphQLError {
  const http = { ...(err.extensions.http as object | undefined), status: 400, spec: false };
  return new GraphQLError(err.message, {
    nodes: err.nodes,
    source: err.source,
    positions: err.positions,
    path: err.path,
    originalError: err.originalError,
    extensions: { ...err.extensions, code: err.extensions.code ?? code, http },
  });
}

const stripPrefix = (m: string) => m.replace(/^Syntax Error: /, '');

export function createDocumentLimits(limits: DocumentLimits, counters: LimitCounters, clientError: ClientErrorLog) {
  /** Parses with the token limit; a document too deep for the parser's stack is refused, not a 500. */
  function parseBounded(source: Parameters<typeof parse>[0], options?: Parameters<typeof parse>[1]): DocumentNode {
    try {
      return parse(source, { ...options, maxTokens: limits.maxTokens });
    } catch (err) {
      if (err instanceof RangeError) {
        counters.hit('graphql.depth');
        throw limitError('graphql.depth', 'the document nests too deeply to parse');
      }
      if (err instanceof GraphQLError && /Document contains more tha[nt] \d+ tokens/.test(err.message)) {
        counters.hit('graphql.tokens');
        throw limitError('graphql.tokens', `the document has more than ${limits.maxTokens} tokens (GRAPHQL_MAX_TOKENS)`);
      }
      throw err;
    }
  }

  /** Depth, aliases, directives: the first one exceeded, or null. Runs before the standard rules. */
  function checkShape(schema: GraphQLSchema, document: DocumentNode): GraphQLError | null {
    let hit = '';
    const onReject = (name: string) => [
      () => {
        hit = name;
      },
    ];
    const rules: ValidationRule[] = [
      maxDepthRule({ n: limits.maxDepth, flattenFragments: true, onReject: onReject('graphql.depth') }),
      maxAliasesRule({ n: limits.maxAliases, onReject: onReject('graphql.aliases') }),
      maxDirectivesRule({ n: limits.maxDirectives, onReject: onReject('graphql.directives') }),
    ];
    try {
      const errors = validate(schema, document, rules, { maxErrors: 1 });
      if (!errors.length) return null;
      if (!hit) return null; // not ours (e.g. an unknown fragment): the standard rules will say it better
      counters.hit(hit);
      return limitError(hit, stripPrefix(errors[0]!.message));
    } catch (err) {
      if (!(err instanceof GraphQLError) || !hit) throw err;
      counters.hit(hit);
      const setting = { 'graphql.depth': 'GRAPHQL_MAX_DEPTH', 'graphql.aliases': 'GRAPHQL_MAX_ALIASES', 'graphql.directives': 'GRAPHQL_MAX_DIRECTIVES' }[hit];
      return limitError(hit, `${stripPrefix(err.message)} (${setting})`);
    }
  }

  /** The operation's cost with its variables and context, against GRAPHQL_MAX_COST; null when within. */
  function checkCost(args: ExecutionArgs): GraphQLError | null {
    let cost = 0;
    const rule = createComplexityRule({
      variableValues: (args.variableValues ?? {}) as Record<string, unknown>,
      operationName: args.operationName ?? undefined,
      context: args.contextValue as object,
      maxComplexity: limits.maxCost,
      onResult: (state) => {
        cost = state.complexity;
      },
    });
    let errors: readonly GraphQLError[];
    try {
      errors = validate(args.schema, args.document, [rule]);
    } catch {
      return null; // arguments the cost could not read: execution reports them with its own message
    }
    if (!errors.some((e) => e.extensions.code === 'QUERY_COMPLEXITY')) return null;
    counters.hit('graphql.cost');
    return limitError(
      'graphql.cost',
      `this operation would cost ${cost} (max ${limits.maxCost}, GRAPHQL_MAX_COST): ask for fewer VMs, fields or history points`,
    );
  }

  /**
   * Documents whose shape passed. yoga's parse cache hands back the same DocumentNode for the same
   * text, so a client repeating an operation (100 dashboards subscribing to one vmMetrics) is
   * checked once, not once per request at ~0.4 ms each; the limits and the schema do not change
   * while the process runs. A refusal is not remembered: each one is counted and logged.
   */
  const shapePassed = new WeakSet<DocumentNode>();

  const refused = (err: GraphQLError) => {
    clientError('graphql.limit', { limit: err.extensions.limit }, err.message);
    return err;
  };

  /** The envelop plugin: yoga's HTTP/SSE requests and the graphql-ws operations go through it alike. */
  const plugin: Plugin = {
    onParse({ setParseFn }) {
      setParseFn(parseBounded);
      return ({ result, replaceParseResult }) => {
        if (!(result instanceof GraphQLError)) return;
        if (result.extensions.code === 'LIMIT_EXCEEDED') replaceParseResult(refused(result));
        else {
          clientError('graphql.parse', {}, result.message);
          replaceParseResult(asBadRequest(result, 'GRAPHQL_PARSE_FAILED'));
        }
      };
    },
    onValidate({ params: { schema, documentAST }, setResult }) {
      const rejected = shapePassed.has(documentAST) ? null : checkShape(schema, documentAST);
      if (rejected) setResult([refused(rejected)]);
      else shapePassed.add(documentAST);
      return ({ valid, result, setResult: replace }) => {
        if (valid || rejected) return;
        clientError('graphql.validation', { errors: result.length }, result.slice(0, 3).map((e) => e.message).join(' | '));
        replace(result.map((e) => asBadRequest(e, 'GRAPHQL_VALIDATION_FAILED')));
      };
    },
    onExecute({ args, setResultAndStopExecution }) {
      const rejected = checkCost(args);
      if (rejected) setResultAndStopExecution({ errors: [refused(rejected)] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const rejected = checkCost(args);
      if (rejected) setResultAndStopExecution({ errors: [refused(rejected)] });
    },
  };
  return { plugin, parseBounded };
}
