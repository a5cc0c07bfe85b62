// Units of time in ms, and the start of the unit a time falls in (minute, hour, day buckets).
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;
