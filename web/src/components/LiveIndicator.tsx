import { useConnectionState } from '../hooks/useConnectionState';

export function LiveIndicator() {
  const state = useConnectionState();
  const label = state === 'connected' ? 'Live' : state === 'forbidden' ? 'Refused' : state === 'reconnecting' ? 'Reconnecting' : 'Connecting';
  return (
    <span className={`live live-${state}`} data-testid="live-indicator" title={`WebSocket: ${state}`}>
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}
