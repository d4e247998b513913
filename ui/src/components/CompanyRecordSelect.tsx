// A server variable that names a record of the QuickBooks company, chosen by the record's
// name: the company's records are read when the field is shown, the id is what is kept.

import { useEffect, useState } from 'preact/hooks';
import { api, asApiError } from '../api';
import type { CompanyRecord } from '../bindings/CompanyRecord';

export function CompanyRecordSelect({
  instance,
  variable,
  lookup,
  value,
  empty,
  testId,
  label,
  onChoose,
}: {
  instance: string;
  /** A server variable's choice, or (with `lookup`) a lookup row's QuickBooks value. */
  variable?: string;
  lookup?: string;
  value: string;
  /** The words of the empty choice: "Choose…", or what an empty value means. */
  empty: string;
  testId: string;
  /** For a list not inside a <label>. */
  label?: string;
  onChoose: (id: string) => void;
}) {
  const [records, setRecords] = useState<CompanyRecord[] | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    setRecords(null);
    setFailed(null);
    const read = lookup ? api.lookupRecords(instance, lookup) : api.companyRecords(instance, variable ?? '');
    read.then(setRecords, (e) => setFailed(asApiError(e).message));
  }, [instance, variable, lookup]);
  const known = records?.some((r) => r.id === value);
  return (
    <>
      <select data-testid={testId} data-name={variable ?? lookup} aria-label={label} value={value} aria-busy={records === null} onChange={(e) => onChoose((e.target as HTMLSelectElement).value)}>
        <option value="">{records === null && !failed ? 'Reading the company…' : empty}</option>
        {records?.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name}
          </option>
        ))}
        {value && !known && <option value={value}>{records === null ? `id ${value}` : `Not in this company (id ${value})`}</option>}
      </select>
      {failed && <span class="hint bad">Could not read the company’s list: {failed}</span>}
    </>
  );
}
