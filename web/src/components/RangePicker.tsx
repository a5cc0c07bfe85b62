import { HISTORY_RANGES, type HistoryRange } from '../lib/history';

export type RangeChoice = 'live' | HistoryRange;

export function RangePicker({ value, onChange }: { value: RangeChoice; onChange: (r: RangeChoice) => void }) {
  const choices: RangeChoice[] = ['live', ...HISTORY_RANGES];
  return (
    <div className="segmented" role="group" aria-label="Time range">
      {choices.map((c) => (
        <button key={c} type="button" aria-pressed={value === c} onClick={() => onChange(c)}>
          {c === 'live' ? 'Live' : c}
        </button>
      ))}
    </div>
  );
}
