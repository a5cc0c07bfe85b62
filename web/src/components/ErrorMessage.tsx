import type { CombinedError } from 'urql';
import { describeError } from '../lib/errors';

export function ErrorMessage({ error, context }: { error: CombinedError | Error | null | undefined; context?: string }) {
  const text = describeError(error);
  if (!text) return null;
  return (
    <p className="error" role="alert">
      {context ? <strong>{context}: </strong> : null}
      {text}
    </p>
  );
}
