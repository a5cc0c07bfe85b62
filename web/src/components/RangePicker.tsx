import type { HistoryRange } from '@vmpulse/domain/history';
import { PICKER_RANGES } from '../lib/history';

export type RangeChoice = 'live' | HistoryRange;

export function RangePicker({ value, onChange }: { value: RangeChoice; onChange: (r: RangeChoice) => void }) {
  const choices: RangeChoice[] = ['live', ...PICKER_RANGES];
  return (
    // biome-ignore lint/a11y/useSemanticElements: a segmented control; role=group is the ARIA pattern for a set of toggle buttons, and a <fieldset> would bring a border and a legend it does not want
    <div className="segmented" role="group" aria-label="Time range">
      {choices.map((c) => (
        <button key={c} type="button" aria-pressed={value === c} onClick={() => onChange(c)}>
          {c === 'live' ? 'Live' : c}
        </button>
      ))}
    </div>
  );
}
