// The executable schema: whatever the features registered on the builder when they were imported.
import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';

let schema: GraphQLSchema | undefined;
export const buildSchema = (): GraphQLSchema => (schema ??= builder.toSchema({ sortSchema: false }));
