import type { ReactNode } from 'react';

/** A column that holds numbers: right-aligned (class `num`). */
export interface NumColumn {
  num: ReactNode;
}

/** A column: its label (text, or a node such as an sr-only span), a number column, or nothing (a column not shown). */
export type Column = ReactNode | NumColumn;

const isNum = (c: Column): c is NumColumn => typeof c === 'object' && c !== null && 'num' in c;

/** A table's header row: every column a `<th scope="col">`, number columns with class `num`; null/false columns are left out. */
export function TableHead({ columns }: { columns: readonly Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c, i) =>
          c === null || c === false ? null : isNum(c) ? (
            // biome-ignore lint/suspicious/noArrayIndexKey: a header's columns are fixed in order
            <th key={i} scope="col" className="num">
              {c.num}
            </th>
          ) : (
            // biome-ignore lint/suspicious/noArrayIndexKey: a header's columns are fixed in order
            <th key={i} scope="col">
              {c}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}
