// Turns urql errors into one sentence for people.
import type { CombinedError } from 'urql';

export function describeError(error: CombinedError | Error | null | undefined): string | null {
  if (!error) return null;
  if ('graphQLErrors' in error) {
    const status = (error.response as Response | undefined)?.status;
    if (status === 401) return 'Your token was refused (unknown or revoked). Sign out and sign in again.';
    const first = error.graphQLErrors[0];
    if (first) {
      const code = first.extensions?.code;
      if (code === 'FORBIDDEN') return `Not allowed for your token: ${first.message}.`;
      if (code === 'UNAUTHENTICATED') return `Your token was refused: ${first.message}. Sign out and sign in again.`;
      return first.message;
    }
    if (error.networkError) return `The server cannot be reached (${error.networkError.message}).`;
  }
  return error.message;
}

export function isForbidden(error: CombinedError | null | undefined): boolean {
  return !!error?.graphQLErrors.some((e) => e.extensions?.code === 'FORBIDDEN');
}
