import { useSyncExternalStore } from 'react';
import { getConnection, subscribeConnection, type ConnectionState } from '../lib/connection-status';

export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(subscribeConnection, getConnection, getConnection);
}
