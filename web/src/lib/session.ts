// The API token lives in sessionStorage: kept across reloads of this tab, gone when the session ends.
const KEY = 'vmpulse.token';

export function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}

export interface ServerInfoResult {
  version: string;
  demo: boolean;
  authEnabled: boolean;
}

/** Checks a token with one cheap authenticated query; throws an Error with a message for people. */
export async function verifyToken(token: string): Promise<ServerInfoResult> {
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ serverInfo { version demo authEnabled } }' }),
    });
  } catch {
    throw new Error('The server cannot be reached. Is vmpulse running?');
  }
  const body = (await res.json().catch(() => null)) as { data?: { serverInfo?: ServerInfoResult }; errors?: { message: string }[] } | null;
  if (res.status === 401 || res.status === 403) throw new Error('This token was refused: it is unknown or revoked.');
  if (body?.errors?.length) throw new Error(`The server refused the token: ${body.errors[0]!.message}`);
  if (!res.ok || !body?.data?.serverInfo) throw new Error(`The server answered HTTP ${res.status}.`);
  return body.data.serverInfo;
}
