// Conflicts: a record changed on both sides, both versions side by side (and what they
// last agreed on); the operator picks a side per field and applies.

import { useEffect, useState } from 'preact/hooks';
import { api, asApiError, type InstanceView } from '../api';
import type { ConflictView } from '../bindings/ConflictView';
import type { Side } from '../bindings/Side';
import { Empty, Section, type Notify } from '../components/common';
import { conflictFields } from '../lib/conflicts';
import { formatValue, formatWhen } from '../lib/format';

export function Conflicts({ instance, notify }: { instance: InstanceView; notify: Notify }) {
  const name = instance.name;
  const [conflicts, setConflicts] = useState<ConflictView[]>([]);
  const [open, setOpen] = useState<ConflictView | null>(null);
  const [choices, setChoices] = useState<Record<string, Side>>({});

  const load = () => api.conflicts(name).then(setConflicts, (e) => notify(asApiError(e)));
  useEffect(() => {
    load();
    setOpen(null);
  }, [name]);

  const apply = async () => {
    if (!open) return;
    try {
      await api.resolveConflict(name, open.id, choices);
      notify('Resolved and sent to QuickBooks.');
      setOpen(null);
      load();
    } catch (error) {
      notify(asApiError(error));
    }
  };

  const rows = open ? conflictFields(open) : [];
  return (
    <div class="screen">
      <Section title="Conflicts">
        {conflicts.length === 0 ? (
          <Empty>No conflicts: nothing changed on both sides since the last sync.</Empty>
        ) : (
          <ul class="conflicts">
            {conflicts.map((c) => (
              <li key={c.id}>
                <button
                  type="button"
                  class={`conflict-item ${open?.id === c.id ? 'selected' : ''}`}
                  data-testid="conflict-item"
                  onClick={() => {
                    setOpen(c);
                    setChoices({});
                  }}
                >
                  {c.module} {c.platform_id} ↔ QuickBooks {c.qbo_id} <span class="hint">{formatWhen(c.created_at)}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </Section>
      {open && (
        <Section title={`${open.module} ${open.platform_id}`} actions={<button type="button" class="primary" data-testid="conflict-apply" onClick={apply}>Apply</button>}>
          <p class="hint">Pick the value to keep for each field that differs. Unpicked fields keep the platform's value.</p>
          <table class="table conflict-table">
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Platform</th>
                <th scope="col">QuickBooks (as the platform would store it)</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.field} class={row.differs ? 'differs' : ''}>
                  <th scope="row">
                    {row.field}
                    {row.differs && <span class="badge warn differs-mark">differs</span>}
                  </th>
                  <td>
                    <label class="check">
                      <input
                        type="radio"
                        name={`choice-${row.field}`}
                        data-testid={`choice-${row.field}-platform`}
                        checked={(choices[row.field] ?? 'platform') === 'platform'}
                        onChange={() => setChoices({ ...choices, [row.field]: 'platform' })}
                      />
                      {formatValue(row.platform)}
                    </label>
                  </td>
                  <td>
                    <label class="check">
                      <input
                        type="radio"
                        name={`choice-${row.field}`}
                        data-testid={`choice-${row.field}-quickbooks`}
                        checked={choices[row.field] === 'quickbooks'}
                        onChange={() => setChoices({ ...choices, [row.field]: 'quickbooks' })}
                      />
                      {formatValue(row.quickbooks)}
                    </label>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {open.last_synced && (
            <details>
              <summary>What was last sent to QuickBooks (both sides agreed on it)</summary>
              <pre class="json">{JSON.stringify(open.last_synced, null, 2)}</pre>
            </details>
          )}
          <details>
            <summary>QuickBooks' record as it is now</summary>
            <pre class="json">{JSON.stringify(open.qbo_version, null, 2)}</pre>
          </details>
        </Section>
      )}
    </div>
  );
}
