// Shows that live data is paused while the WebSocket reconnects (e.g. the server restarts).
import { useConnectionState } from '../hooks/useConnectionState';

export function ConnectionBanner({ onSignOut }: { onSignOut: () => void }) {
  const state = useConnectionState();
  if (state === 'reconnecting') {
    return (
      <div className="banner banner-warn" role="status" aria-live="polite" data-testid="reconnecting-banner">
        <span className="spinner" aria-hidden="true" /> Connection to the server lost — reconnecting… Live data resumes by itself.
      </div>
    );
  }
  if (state === 'forbidden') {
    return (
      <div className="banner banner-error" role="alert">
        The server no longer accepts this token for live data.{' '}
        <button type="button" onClick={onSignOut}>
          Sign in again
        </button>
      </div>
    );
  }
  return (
    <span className="sr-only" role="status" aria-live="polite">
      {state === 'connected' ? 'Live connection established' : 'Connecting'}
    </span>
  );
}
