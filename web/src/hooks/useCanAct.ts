// Whether the signed-in token may act (operator or admin) rather than only see (viewer).
// Reads the ServerInfo answer the app shell already fetched (cache-first: no extra request).
import { useQuery } from 'urql';
import { ServerInfoQuery } from '../operations/server';

export function useCanAct(): { canAct: boolean; known: boolean } {
  const [{ data }] = useQuery({ query: ServerInfoQuery, requestPolicy: 'cache-first' });
  return { canAct: data !== undefined && data.me.role !== 'viewer', known: data !== undefined };
}
