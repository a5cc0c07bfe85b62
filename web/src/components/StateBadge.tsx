export function StateBadge({ state }: { state: string }) {
  return <span className={`state state-${state.replace(/[^a-z]/gi, '')}`}>{state}</span>;
}

export function StaleMarker({ stale, title }: { stale: boolean; title?: string }) {
  if (!stale) return null;
  return (
    <span className="stale" title={title ?? 'This VM could not be sampled on the last tick; values are from an earlier one'}>
      stale
    </span>
  );
}
