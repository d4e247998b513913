// Conflicts: a record changed on both sides, both versions side by side (and what they
// last agreed on); the operator picks a side per field and applies. Or two records here
// that QuickBooks sees as one: link this one instead, rename it, or leave it.

import { useEffect, useState } from 'preact/hooks';
import { api, asApiError, type InstanceView } from '../api';
import type { ConflictView } from '../bindings/ConflictView';
import type { SameEntityChoice } from '../bindings/SameEntityChoice';
import type { Side } from '../bindings/Side';
import { Empty, Section, type Notify } from '../components/common';
import { conflictFields, conflictTitle, inWords, renameChoice, sameEntityOutcomes, sameEntitySentence } from '../lib/conflicts';
import { formatValue, formatWhen } from '../lib/format';

export function Conflicts({ instance, notify }: { instance: InstanceView; notify: Notify }) {
  const name = instance.name;
  const [conflicts, setConflicts] = useState<ConflictView[]>([]);
  const [open, setOpen] = useState<ConflictView | null>(null);
  const [choices, setChoices] = useState<Record<string, Side>>({});
  const [newName, setNewName] = useState('');

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

  const decide = async (conflict: ConflictView, choice: SameEntityChoice, done: string) => {
    try {
      const run = await api.resolveSameEntity(name, conflict.id, choice);
      // Left alone, the record fails as expected; otherwise a failure is news.
      const problems = choice.choice !== 'dismiss' && run.outcome !== 'succeeded';
      notify(problems ? `${done} The sync that followed has records to look at in History.` : done);
      setOpen(null);
      load();
    } catch (error) {
      notify(asApiError(error));
    }
  };

  const rows = open && open.kind === 'changed_on_both_sides' ? conflictFields(open) : [];
  return (
    <div class="screen">
      <Section title="Conflicts">
        {conflicts.length === 0 ? (
          <Empty>No conflicts: nothing changed on both sides since the last sync, and no two records are one in QuickBooks.</Empty>
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
                    setNewName('');
                  }}
                >
                  {conflictTitle(c)} <span class="hint">{formatWhen(c.created_at)}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </Section>
      {open && open.kind === 'same_entity' && (
        <SameEntity conflict={open} newName={newName} setNewName={setNewName} decide={decide} />
      )}
      {open && open.kind === 'changed_on_both_sides' && (
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

function SameEntity({
  conflict,
  newName,
  setNewName,
  decide,
}: {
  conflict: ConflictView;
  newName: string;
  setNewName: (name: string) => void;
  decide: (conflict: ConflictView, choice: SameEntityChoice, done: string) => void;
}) {
  const outcomes = sameEntityOutcomes(conflict);
  const rename = renameChoice(conflict, newName);
  const self = `${conflict.module} ${conflict.platform_id}`;
  return (
    <Section title={`${self}: one record in QuickBooks, two here`}>
      <p data-testid="same-entity-sentence">
        <strong>{sameEntitySentence(conflict)}.</strong>
      </p>
      <div class="decisions">
        <div class="decision">
          <button
            type="button"
            class="primary"
            data-testid="same-entity-link"
            onClick={() => decide(conflict, { choice: 'link_instead' }, `${self} is linked instead and sent to QuickBooks.`)}
          >
            Link this one instead
          </button>
          <p class="hint">{outcomes.link}</p>
        </div>
        <div class="decision">
          <div class="inline">
            <input
              type="text"
              aria-label={`New ${inWords(conflict.rename_field ?? 'name')}`}
              placeholder={conflict.rename_field ? `New ${inWords(conflict.rename_field)}` : 'Not available'}
              data-testid="same-entity-name"
              value={newName}
              disabled={!conflict.rename_field}
              onInput={(e) => setNewName((e.target as HTMLInputElement).value)}
            />
            <button
              type="button"
              data-testid="same-entity-rename"
              disabled={rename.choice === undefined}
              title={rename.problem}
              onClick={() => rename.choice && decide(conflict, rename.choice, `${self} is renamed and sent to QuickBooks as new.`)}
            >
              Rename and send as new
            </button>
          </div>
          <p class="hint">{newName.trim() !== '' && rename.problem ? rename.problem : outcomes.rename}</p>
        </div>
        <div class="decision">
          <button
            type="button"
            data-testid="same-entity-leave"
            onClick={() => decide(conflict, { choice: 'dismiss' }, `${self} is left unlinked.`)}
          >
            Leave it
          </button>
          <p class="hint">{outcomes.leave}</p>
        </div>
      </div>
      <details>
        <summary>This record</summary>
        <pre class="json">{JSON.stringify(conflict.platform_version, null, 2)}</pre>
      </details>
      <details>
        <summary>
          QuickBooks' {conflict.entity} {conflict.qbo_id}
        </summary>
        {conflict.qbo_version === null ? (
          <p class="hint">QuickBooks could not be read when the two met; the next sync reads it again.</p>
        ) : (
          <pre class="json">{JSON.stringify(conflict.qbo_version, null, 2)}</pre>
        )}
      </details>
    </Section>
  );
}
