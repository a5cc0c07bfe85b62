// Inline icons: no icon font to load, and they follow currentColor.
const common = { width: 18, height: 18, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', strokeWidth: 2, strokeLinecap: 'round', strokeLinejoin: 'round' } as const;
// Each icon is decorative (its button or link carries the name), so each is aria-hidden.

export function PulseIcon() {
  return (
    <svg {...common} aria-hidden="true" style={{ color: 'var(--accent)' }}>
      <path d="M2 13h4l3-8 4 14 3-6h6" />
    </svg>
  );
}

export function SunIcon() {
  return (
    <svg {...common} aria-hidden="true">
      <circle cx="12" cy="12" r="4" />
      <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
    </svg>
  );
}

export function MoonIcon() {
  return (
    <svg {...common} aria-hidden="true">
      <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />
    </svg>
  );
}
