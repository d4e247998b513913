// Conflicts: a record changed on both sides as the fields that differ, labelled as
// QuickBooks names them, yours beside QuickBooks' (and what they last agreed on); the
// operator keeps a side per field, or one side for all, and resolves. Or two records here
// that QuickBooks sees as one: link this one instead, rename it, or leave it.

import { useEffect, useState } from 'preact/hooks';
import { api, asApiError, type InstanceView } from '../api';
import type { ConflictView } from '../bindings/ConflictView';
import type { SameEntityChoice } from '../bindings/SameEntityChoice';
import type { Side } from '../bindings/Side';
import { Empty, Section, type Notify } from '../components/common';
import {
  choiceSummary,
  conflictTitle,
  inWords,
  keepAll,
  renameChoice,
  resolution,
  sameEntityOutcomes,
  sameEntitySentence,
  sideOf,
  type Choices,
} from '../lib/conflicts';
import { formatWhen } from '../lib/format';

export function Conflicts({ instance, notify }: { instance: InstanceView; notify: Notify }) {
  const name = instance.name;
  const [conflicts, setConflicts] = useState<ConflictView[]>([]);
  const [open, setOpen] = useState<ConflictView | null>(null);
  const [choices, setChoices] = useState<Choices>({});
  const [newName, setNewName] = useState('');

  const load = () => api.conflicts(name).then(setConflicts, (e) => notify(asApiError(e)));
  useEffect(() => {
    load();
    setOpen(null);
  }, [name]);

  const apply = async () => {
    if (!open) return;
    try {
      await api.resolveConflict(name, open.id, resolution(open.rows, choices));
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

  const rows = open && open.kind === 'changed_on_both_sides' ? open.rows : [];
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
        <Section
          title={`${open.module} ${open.platform_id}`}
          actions={
            <>
              <button type="button" data-testid="conflict-keep-mine" onClick={() => setChoices(keepAll(rows, 'platform'))}>
                Keep mine
              </button>
              <button
                type="button"
                data-testid="conflict-keep-quickbooks"
                onClick={() => setChoices(keepAll(rows, 'quickbooks'))}
              >
                Keep QuickBooks'
              </button>
              <button type="button" class="primary" data-testid="conflict-apply" onClick={apply}>
                Resolve
              </button>
            </>
          }
        >
          {rows.length === 0 ? (
            <p class="hint">
              QuickBooks' version cannot be set beside yours field by field (its fields do not map back). Resolve keeps
              yours and sends it.
            </p>
          ) : (
            <>
              <p class="hint" data-testid="conflict-summary">
                Only the fields that differ are shown. {choiceSummary(rows, choices)}
              </p>
              <table class="table conflict-table">
                <thead>
                  <tr>
                    <th scope="col">Field</th>
                    <th scope="col">Yours</th>
                    <th scope="col">QuickBooks'</th>
                    <th scope="col">Keep</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((row) => {
                    const side = sideOf(choices, row.field);
                    const pick = (chosen: Side) => setChoices({ ...choices, [row.field]: chosen });
                    return (
                      <tr key={row.field} data-testid="conflict-row" data-field={row.field} class={`kind-${row.kind}`}>
                        <th scope="row" data-testid="conflict-label" title={row.field}>
                          {row.label}
                        </th>
                        <td class={side === 'platform' ? 'kept' : 'dropped'}>{row.platform}</td>
                        <td class={side === 'quickbooks' ? 'kept' : 'dropped'}>{row.quickbooks}</td>
                        <td>
                          <div class="inline" role="radiogroup" aria-label={`Keep for ${row.label}`}>
                            <label class="check">
                              <input
                                type="radio"
                                name={`choice-${row.field}`}
                                data-testid={`choice-${row.field}-platform`}
                                checked={side === 'platform'}
                                onChange={() => pick('platform')}
                              />
                              mine
                            </label>
                            <label class="check">
                              <input
                                type="radio"
                                name={`choice-${row.field}`}
                                data-testid={`choice-${row.field}-quickbooks`}
                                checked={side === 'quickbooks'}
                                onChange={() => pick('quickbooks')}
                              />
                              QuickBooks'
                            </label>
                          </div>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </>
          )}
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
